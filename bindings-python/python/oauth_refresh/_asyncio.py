"""The asyncio side of ``refresh_async``: the native job runs on an executor thread (it
releases the GIL for the exchange), so the event loop never blocks."""

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Optional

# Refreshes mostly wait on the network: many may run at once. The threads start lazily and
# are joined when the interpreter exits.
MAX_WORKERS = 64
_executor: Optional[ThreadPoolExecutor] = None


def _get_executor() -> ThreadPoolExecutor:
    global _executor
    if _executor is None:
        _executor = ThreadPoolExecutor(max_workers=MAX_WORKERS, thread_name_prefix="oauth-refresh")
    return _executor


async def run(job: Callable[[], Any]) -> Any:
    return await asyncio.get_running_loop().run_in_executor(_get_executor(), job)

"""The asyncio side of ``refresh_async``: the native job runs on an executor thread (it
releases the GIL for the exchange), so the event loop never blocks.

Cancellation never loses a token. If the awaiting task is cancelled before the job started
on its thread, the job is dropped (nothing is sent) and ``CancelledError`` propagates. If it
had started, the request may be on the wire and the server may already have rotated the
refresh token: the coroutine keeps awaiting the exchange and returns its token (or raises
its ``OAuthRefreshError``) as if it had not been cancelled. ``Job.cancel()`` decides
"started or not" atomically, under the job's lock."""

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Optional, Protocol


class Job(Protocol):
    def __call__(self) -> Any: ...  # None only once cancel() returned True

    def cancel(self) -> bool: ...  # True: had not started, never will


# Refreshes mostly wait on the network: many may run at once. The threads start lazily and
# are joined when the interpreter exits.
MAX_WORKERS = 64
_executor: Optional[ThreadPoolExecutor] = None


def _get_executor() -> ThreadPoolExecutor:
    global _executor
    if _executor is None:
        _executor = ThreadPoolExecutor(max_workers=MAX_WORKERS, thread_name_prefix="oauth-refresh")
    return _executor


async def run(job: Job) -> Any:
    exchange = asyncio.get_running_loop().run_in_executor(_get_executor(), job)
    while True:
        try:
            # Shielded: cancelling this task does not cancel the exchange; we decide below.
            return await asyncio.shield(exchange)
        except asyncio.CancelledError:
            if exchange.cancelled():
                raise  # the executor dropped it (interpreter shutdown): it never ran
            if exchange.done():
                continue  # finished as the cancel arrived: return its outcome
            if job.cancel():
                exchange.cancel()  # not started: it never will; free its executor slot
                raise
            # Started: the request may be on the wire. Await its outcome, whatever the
            # number of further cancels, so that a rotated refresh token is never dropped.

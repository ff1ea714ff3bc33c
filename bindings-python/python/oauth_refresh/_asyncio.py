"""The asyncio side of ``refresh_async``: a coroutine that starts the native job on a
worker thread and waits for it, and the callback that completes the future on the loop."""

import asyncio
from typing import Any, Callable


async def run(start: Callable[[asyncio.AbstractEventLoop, "asyncio.Future[Any]"], None]) -> Any:
    loop = asyncio.get_running_loop()
    future = loop.create_future()
    start(loop, future)
    return await future


def resolve(future: "asyncio.Future[Any]", ok: bool, value: Any) -> None:
    # The caller may have cancelled (timeout, task cancellation) while the refresh ran.
    if future.cancelled():
        return
    if ok:
        future.set_result(value)
    else:
        future.set_exception(value)

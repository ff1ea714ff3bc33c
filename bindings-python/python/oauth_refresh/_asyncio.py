"""The asyncio side of ``refresh_async``: the native job runs on a worker thread (it releases
the GIL for the exchange), so the event loop never blocks.

Cancellation never loses a token. If the awaiting task is cancelled before the job started
on its thread, the job is dropped (nothing is sent) and ``CancelledError`` propagates. If it
had started, the request may be on the wire and the server may already have rotated the
refresh token: the coroutine keeps awaiting the exchange and returns its token (or raises
its ``OAuthRefreshError``) as if it had not been cancelled. ``Job.cancel()`` decides
"started or not" atomically, under the job's lock.

The workers are plain threads fed by one queue, not a ``ThreadPoolExecutor``: a refresh
then costs one hand-over each way and no executor future, about half the thread-hop cost.
Like the executor's, they are joined at interpreter exit after their current job, so an
exchange in flight still completes."""

import asyncio
import queue
import threading
from typing import Any, List, Optional, Protocol, Tuple


class Job(Protocol):
    def __call__(self) -> Any: ...  # None only once cancel() returned True

    def cancel(self) -> bool: ...  # True: had not started, never will


# Refreshes mostly wait on the network: many may run at once. Threads start when no worker
# is free, up to this many; an idle one waits for the next job.
MAX_WORKERS = 64



class Outcome:
    """Where a job's outcome goes: kept here on the loop's thread, then handed to the future
    awaiting it (replaced when a cancelled task keeps waiting for an exchange that had
    started), so that an outcome arriving just as a cancel does is never dropped."""

    __slots__ = ("loop", "future", "result")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.future: "asyncio.Future[Any]" = loop.create_future()
        self.result: Optional[Tuple[bool, Any]] = None

    def settle(self) -> None:
        if self.result is None or self.future.done():
            return
        ok, value = self.result
        if ok:
            self.future.set_result(value)
        else:
            self.future.set_exception(value)


_jobs: "queue.SimpleQueue[Optional[Tuple[Job, Outcome]]]" = queue.SimpleQueue()
_lock = threading.Lock()
_threads: List[threading.Thread] = []
_idle = 0  # workers waiting on the queue that no job has been promised to
_stopping = False


def _deliver(outcome: Outcome, ok: bool, value: Any) -> None:
    outcome.result = (ok, value)
    outcome.settle()


def _work() -> None:
    global _idle
    while True:
        item = _jobs.get()
        if item is None:
            return
        job, outcome = item
        try:
            result: Tuple[bool, Any] = (True, job())
        except BaseException as e:  # noqa: BLE001 - handed to the awaiting task
            result = (False, e)
        # Free before delivering: the loop's thread, woken by the delivery, then finds the
        # GIL released by this worker waiting on the queue rather than waits for it.
        with _lock:
            _idle += 1
        try:
            outcome.loop.call_soon_threadsafe(_deliver, outcome, *result)
        except RuntimeError:
            pass  # the loop was closed: no one awaits this outcome any more
        del job, outcome, result


def _submit(job: Job, outcome: Outcome) -> None:
    global _idle
    with _lock:
        if _stopping:
            raise RuntimeError("cannot schedule a refresh after interpreter shutdown")
        if _idle > 0:
            _idle -= 1  # this job is that worker's
        elif len(_threads) < MAX_WORKERS:
            thread = threading.Thread(target=_work, name=f"oauth-refresh-{len(_threads)}")
            _threads.append(thread)
            thread.start()
    _jobs.put((job, outcome))


def _stop() -> None:
    """At exit: every worker finishes its current job, then ends."""
    global _stopping
    with _lock:
        _stopping = True
        count = len(_threads)
    for _ in range(count):
        _jobs.put(None)


# Runs before the interpreter joins its threads, as concurrent.futures' does.
if hasattr(threading, "_register_atexit"):
    threading._register_atexit(_stop)  # type: ignore[attr-defined]
else:  # pragma: no cover - every CPython we support has it
    import atexit

    atexit.register(_stop)


async def run(job: Job) -> Any:
    loop = asyncio.get_running_loop()
    outcome = Outcome(loop)
    _submit(job, outcome)
    while True:
        try:
            return await outcome.future
        except asyncio.CancelledError:
            if outcome.result is None and job.cancel():
                raise  # not started: it never will, and nothing was sent
            # Started, or finished as the cancel arrived: the request may be on the wire.
            # Await its outcome, whatever the number of further cancels, so that a rotated
            # refresh token is never dropped.
            outcome.future = loop.create_future()
            outcome.settle()

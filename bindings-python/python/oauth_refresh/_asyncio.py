"""The asyncio side of ``refresh_async`` and the other coroutines: the native job runs on a
worker thread of the extension (without the GIL), so the event loop never blocks. Its outcome
comes back through the loop's mailbox, whose pipe the loop watches (``add_reader``); a loop
that cannot watch one gets it through ``call_soon_threadsafe``.

Cancellation never loses a token. If the awaiting task is cancelled before the job started
on its thread, the job is dropped (nothing is sent) and ``CancelledError`` propagates. If it
had started, the request may be on the wire and the server may already have rotated the
refresh token: the coroutine keeps awaiting the exchange and returns its token (or raises
its ``OAuthRefreshError``) as if it had not been cancelled. ``Job.cancel()`` decides
"started or not" atomically, under the job's lock.

At interpreter exit every job queued or running completes first, as an executor's would."""

import asyncio
import weakref
from typing import Any, Optional, Protocol, Tuple

from ._native import _Mailbox


class Job(Protocol):
    def submit(self, outcome: "Outcome", mailbox: Optional[_Mailbox]) -> None: ...  # RuntimeError after interpreter shutdown

    def cancel(self) -> bool: ...  # True: had not started, never will


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


def _deliver(outcome: Outcome, ok: bool, value: Any) -> None:
    outcome.result = (ok, value)
    outcome.settle()


# One mailbox per loop, watched while the loop lives (None: the loop cannot watch a pipe).
_mailboxes: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Optional[_Mailbox]]" = (
    weakref.WeakKeyDictionary()
)


def _mailbox(loop: asyncio.AbstractEventLoop) -> Optional[_Mailbox]:
    try:
        return _mailboxes[loop]
    except KeyError:
        pass
    mailbox: Optional[_Mailbox]
    try:
        mailbox = _Mailbox()
        loop.add_reader(mailbox.fileno(), mailbox.deliver, _deliver)
    except (NotImplementedError, OSError):  # a proactor loop; no pipe on this platform
        mailbox = None
    _mailboxes[loop] = mailbox
    return mailbox


def _submit(job: Job, outcome: Outcome) -> None:
    job.submit(outcome, _mailbox(outcome.loop))


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

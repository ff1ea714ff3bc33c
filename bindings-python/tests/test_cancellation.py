"""Cancelling refresh_async never loses a token: cancelled before the exchange started,
nothing is sent; cancelled after, the exchange is awaited and its token returned."""

import asyncio
import sys

import pytest

import oauth_refresh as oar
from oauth_refresh import _asyncio


def test_cancelled_after_the_exchange_started_returns_its_token(server):
    scope = "py-cancel-started"
    client = oar.Client(f"{server.url}/{scope}/delay=1500/token")

    async def main():
        task = asyncio.create_task(client.refresh_async("app", "secret-app", f"seed-{scope}"))
        await asyncio.sleep(0.3)  # the request is at the server, waiting for its answer
        task.cancel()
        await asyncio.sleep(0.1)
        task.cancel()  # a second cancel changes nothing either
        return await task

    token = asyncio.run(main())
    assert token.refresh_token_rotated
    assert token.refresh_token == server.current_refresh_token(f"seed-{scope}")
    assert server.token_requests(scope) == 1


def test_manager_async_cancelled_after_start_keeps_the_token(server):
    scope = "py-cancel-manager"
    client = oar.Client(f"{server.url}/{scope}/delay=1000/token")
    manager = oar.TokenManager(client, "app", "secret-app", f"seed-{scope}")

    async def main():
        task = asyncio.create_task(manager.token_async())
        await asyncio.sleep(0.3)
        task.cancel()
        return await task

    token = asyncio.run(main())
    assert token.refresh_token == server.current_refresh_token(f"seed-{scope}")
    assert manager.token().access_token == token.access_token
    assert server.token_requests(scope) == 1


@pytest.mark.skipif(sys.version_info < (3, 11), reason="older asyncio.wait_for may drop a late result")
def test_wait_for_timeout_after_start_returns_the_token(server):
    scope = "py-cancel-wait-for"
    client = oar.Client(f"{server.url}/{scope}/delay=800/token")

    async def main():
        return await asyncio.wait_for(client.refresh_async("app", "secret-app", f"seed-{scope}"), 0.2)

    token = asyncio.run(main())
    assert token.refresh_token == server.current_refresh_token(f"seed-{scope}")


def test_cancelled_before_the_first_await_sends_nothing(server):
    scope = "py-cancel-early"
    client = oar.Client(f"{server.url}/{scope}/ok/token")

    async def main():
        task = asyncio.create_task(client.refresh_async("app", "secret-app", f"seed-{scope}"))
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(client.refresh_async("app", "secret-app", f"seed-{scope}"), 0)
        await asyncio.sleep(0.3)

    asyncio.run(main())
    assert server.token_requests(scope) == 0


def test_cancelled_while_queued_for_a_thread_sends_nothing(server, monkeypatch):
    scope = "py-cancel-queued"
    client = oar.Client(f"{server.url}/{scope}/ok/token")
    queued = []  # every worker busy: the job waits in the queue
    monkeypatch.setattr(_asyncio, "_submit", lambda job, outcome: queued.append(job))

    async def main():
        task = asyncio.create_task(client.refresh_async("app", "secret-app", f"seed-{scope}"))
        await asyncio.sleep(0.1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    [job] = queued
    assert run_job(job) is None  # a worker freed later finds it cancelled: it never runs
    assert server.token_requests(scope) == 0


def test_job_decides_started_or_not_atomically(server):
    scope = "py-cancel-job"
    client = oar.Client(f"{server.url}/{scope}/ok/token")
    # The native job behind the coroutine, before anything awaited it.
    waiting = client.refresh_async("app", "secret-app", f"seed-{scope}-a")
    job = waiting.cr_frame.f_locals["job"]
    assert job.cancel() is True  # had not started
    assert run_job(job) is None  # and never will: nothing sent
    assert job.cancel() is True
    waiting.close()
    assert server.token_requests(scope) == 0

    running = client.refresh_async("app", "secret-app", f"seed-{scope}-b")
    job = running.cr_frame.f_locals["job"]
    token = run_job(job)
    assert job.cancel() is False  # it ran: its outcome is what counts
    assert token.refresh_token == server.current_refresh_token(f"seed-{scope}-b")
    with pytest.raises(RuntimeError, match="already ran"):
        run_job(job)
    running.close()
    assert server.token_requests(scope) == 1


def run_job(job, wait=1.0):
    """Submits a native job as `_asyncio.run` does and returns what it delivers: its answer,
    or None when nothing came within `wait` seconds (a cancelled job delivers nothing)."""

    async def main():
        loop = asyncio.get_running_loop()
        outcome = _asyncio.Outcome(loop)
        _asyncio._submit(job, outcome)
        try:
            return await asyncio.wait_for(asyncio.shield(outcome.future), wait)
        except asyncio.TimeoutError:
            assert outcome.result is None
            return None

    return asyncio.run(main())


class StartedJob:
    """A job that has started: its outcome must be awaited whatever the cancels."""

    def submit(self, outcome, mailbox):
        pass  # the test delivers its outcome

    def cancel(self):
        return False


@pytest.mark.parametrize("cancel_first", [True, False])
def test_an_outcome_arriving_with_a_cancel_is_returned(monkeypatch, cancel_first):
    submitted = []
    monkeypatch.setattr(_asyncio, "_submit", lambda job, outcome: submitted.append(outcome))

    async def main():
        task = asyncio.create_task(_asyncio.run(StartedJob()))
        await asyncio.sleep(0)  # the task runs up to its await
        [outcome] = submitted
        if cancel_first:
            task.cancel()  # cancels the awaited future...
            _asyncio._deliver(outcome, True, "token")  # ...then the outcome arrives
        else:
            _asyncio._deliver(outcome, True, "token")
            task.cancel()
        return await task

    assert asyncio.run(main()) == "token"


EXIT_WITH_AN_EXCHANGE_IN_FLIGHT = """
import asyncio, sys
import oauth_refresh as oar

url, seed = sys.argv[1], sys.argv[2]
client = oar.Client(url)
loop = asyncio.new_event_loop()
outcome = []
task = loop.create_task(client.refresh_async("app", "secret-app", seed))
task.add_done_callback(lambda t: outcome.append(t))
loop.run_until_complete(asyncio.sleep(0.2))  # the request is at the server
print("exiting", flush=True)
# The interpreter exits with the exchange in flight and the loop never run again.
"""


def test_interpreter_exit_waits_for_an_exchange_in_flight(server):
    import subprocess

    scope = "py-exit-in-flight"
    seed = f"seed-{scope}"
    run = subprocess.run(
        [sys.executable, "-c", EXIT_WITH_AN_EXCHANGE_IN_FLIGHT, f"{server.url}/{scope}/delay=800/token", seed],
        capture_output=True, text=True, timeout=30,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout == "exiting\n" and "Traceback" not in run.stderr, run.stderr
    # The exchange completed (exit waited for it): the server rotated the token once.
    assert server.token_requests(scope) == 1
    assert server.current_refresh_token(seed) not in (None, seed)


FORK_WITH_AN_EXCHANGE_IN_FLIGHT = """
import asyncio, os, sys
import oauth_refresh as oar

url, seed = sys.argv[1], sys.argv[2]
client = oar.Client(url + "/delay=800/token")
loop = asyncio.new_event_loop()
task = loop.create_task(client.refresh_async("app", "secret-app", seed))
loop.run_until_complete(asyncio.sleep(0.2))  # the parent's request is at the server
children = []
for refreshes in (False, True):
    pid = os.fork()
    if pid == 0:
        # The child has none of the parent's workers: its exit does not wait for the
        # parent's exchange, and its own refresh works.
        if refreshes:
            client = oar.Client(url + "/ok/token")
            token = asyncio.run(client.refresh_async("app", "secret-app", seed + "-child"))
            print("child", token.refresh_token_rotated, flush=True)
        sys.exit(0)
    _, status = os.waitpid(pid, 0)
    children.append(os.waitstatus_to_exitcode(status))
print("parent", children, loop.run_until_complete(task).refresh_token_rotated, flush=True)
"""


def test_a_forked_child_neither_inherits_nor_waits_for_the_parents_exchanges(server):
    import subprocess

    scope = "py-fork"
    run = subprocess.run(
        [sys.executable, "-c", FORK_WITH_AN_EXCHANGE_IN_FLIGHT, f"{server.url}/{scope}", f"seed-{scope}"],
        capture_output=True, text=True, timeout=30,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines() == ["child True", "parent [0, 0] True"], run.stdout + run.stderr
    assert server.token_requests(scope) == 2

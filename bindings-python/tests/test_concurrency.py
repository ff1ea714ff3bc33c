"""The GIL is released during I/O, asyncio is never blocked, and threads share a client."""

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

import oauth_refresh as oar


def test_other_threads_run_during_a_slow_refresh(server):
    client = oar.Client(f"{server.url}/py-gil/delay=1000/token")
    events = []

    def busy():
        # Pure-Python work that needs the GIL the whole time.
        total = sum(i * i for i in range(200_000))
        events.append(("busy done", total))

    helper = threading.Thread(target=busy)
    started = threading.Event()

    def refresh():
        started.set()
        client.refresh("app", "secret-app", "seed-py-gil")
        events.append(("refresh done", None))

    worker = threading.Thread(target=refresh)
    worker.start()
    started.wait()
    helper.start()
    helper.join()
    worker.join()
    assert [e[0] for e in events] == ["busy done", "refresh done"]


def test_gather_of_50_async_refreshes_overlaps(server):
    client = oar.Client(f"{server.url}/py-gather/delay=500/token")
    ticks = 0

    async def ticker(stop):
        nonlocal ticks
        while not stop.is_set():
            ticks += 1
            await asyncio.sleep(0.01)

    async def main():
        stop = asyncio.Event()
        tick_task = asyncio.create_task(ticker(stop))
        tokens = await asyncio.gather(
            *(client.refresh_async("app", "secret-app", f"seed-py-gather-{i}") for i in range(50))
        )
        stop.set()
        await tick_task
        return tokens

    tokens = asyncio.run(main())
    assert len({t.refresh_token for t in tokens}) == 50
    stats = server.stats("py-gather")
    assert stats["token_requests"] == 50
    # All 50 were at the server at once: one server delay, not fifty.
    assert stats["max_in_flight"] >= 45
    # The event loop kept running while the refreshes were in flight.
    assert ticks >= 10


def test_async_errors_raise_the_same_classes(server):
    client = oar.Client(f"{server.url}/py-async-err/ok/token")

    async def main():
        try:
            await client.refresh_async(oar.RefreshTokenRequest("app", "secret-app", "never-issued"))
        except oar.InvalidGrantError as err:
            return err
        return None

    err = asyncio.run(main())
    assert err is not None and err.refresh_token_state == "rejected"


def test_system_access_async(server):
    client = oar.Client.gusto(f"{server.url}/py-sys-async/ok")
    # A coroutine like any async def: asyncio.run takes it directly.
    token = asyncio.run(client.system_access_async("app", "secret-app"))
    assert token.access_token and token.refresh_token is None


def test_a_cancelled_refresh_does_not_break_the_loop(server):
    client = oar.Client(f"{server.url}/py-cancel/delay=300/token")

    async def main():
        task = asyncio.create_task(client.refresh_async("app", "secret-app", "seed-py-cancel"))
        await asyncio.sleep(0.05)
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass
        # The worker finishes later and must find the future cancelled, not crash the loop.
        await asyncio.sleep(0.5)
        return await client.refresh_async("app", "secret-app", "seed-py-cancel-2")

    assert asyncio.run(main()).refresh_token_rotated


def test_16_threads_share_one_client_over_200_chains(server):
    client = oar.Client(f"{server.url}/py-threads/ok/token")

    def chain(i):
        seed = f"seed-py-chain-{i}"
        current = seed
        for _ in range(3):
            current = client.refresh("app", "secret-app", current).refresh_token
        return seed, current

    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(chain, range(200)))
    for seed, last in results:
        assert server.current_refresh_token(seed) == last
    assert server.token_requests("py-threads") == 600


def test_outcomes_reach_each_loop_whether_or_not_it_can_watch_a_pipe(server):
    """Outcomes come back through the loop's mailbox pipe, or, for a loop without
    add_reader (Windows' proactor), through call_soon_threadsafe: tokens and errors alike,
    with loops in several threads at once."""
    from oauth_refresh import _asyncio

    class NoReaders(asyncio.SelectorEventLoop):
        def add_reader(self, *args):
            raise NotImplementedError

    client = oar.Client(f"{server.url}/py-mailbox/ok/token")

    async def both(name):
        token = await client.refresh_async("app", "secret-app", f"seed-py-mailbox-{name}")
        try:
            await client.refresh_async("app", "secret-app", "never-issued")
        except oar.InvalidGrantError as err:
            return token, err
        return token, None

    def run_on(make_loop, name):
        loop = make_loop()
        try:
            token, err = loop.run_until_complete(both(name))
            return token, err, _asyncio._mailboxes.get(loop)
        finally:
            loop.close()

    makers = [asyncio.SelectorEventLoop, NoReaders] * 3
    with ThreadPoolExecutor(len(makers)) as pool:
        results = list(pool.map(run_on, makers, [f"{i}" for i in range(len(makers))]))
    for (token, err, mailbox), make_loop in zip(results, makers):
        assert token.refresh_token_rotated and isinstance(err, oar.InvalidGrantError)
        assert (mailbox is None) == (make_loop is NoReaders)
    assert server.token_requests("py-mailbox") == 2 * len(makers)


def test_a_loop_closed_with_an_exchange_in_flight_breaks_nothing(server):
    client = oar.Client(f"{server.url}/py-closed-loop/delay=300/token")
    loop = asyncio.new_event_loop()
    task = loop.create_task(client.refresh_async("app", "secret-app", "seed-py-closed-loop"))
    loop.run_until_complete(asyncio.sleep(0.05))  # the request is at the server
    loop.close()  # the exchange finishes with no loop to hand its outcome to
    del task, loop
    threading.Event().wait(0.5)
    # Refreshes on other loops go on working.
    token = asyncio.run(client.refresh_async("app", "secret-app", "seed-py-closed-loop-2"))
    assert token.refresh_token_rotated
    assert server.token_requests("py-closed-loop") == 2

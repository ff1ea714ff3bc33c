"""AccountTokens from Python: many accounts in one process, processes sharing a FileStore
directory or one RedisStore, events and health (a revoked grant reported once and never
retried, a re-added grant recovering), refresh-ahead (no caller waits, the cap holds at the
server), asyncio, close(), option and account-id errors, and no secret anywhere."""

import asyncio
import gc
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

import pytest

import oauth_refresh as oar
from conftest import redis_cli

CLIENT_ID = "py-acc-7c1f"
SECRET = f"secret-{CLIENT_ID}"


def accounts_for(server, scope, **options):
    events = options.pop("events", None)
    client = oar.Client(f"{server.url}/{scope}/token", **options.pop("client", {}))
    hook = events.append if events is not None else None
    return oar.AccountTokens(client, CLIENT_ID, SECRET, on_event=hook, **options)


def ahead_threads():
    """Names of this process's refresh-ahead threads (native: only /proc sees them)."""
    names = []
    for tid in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{tid}/comm") as f:
                names.append(f.read().strip())
        except FileNotFoundError:
            pass  # the thread ended meanwhile
    return [n for n in names if n.startswith("oauth-refresh-a")]


def wait_until(predicate, seconds=5.0):
    until = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > until:
            return False
        time.sleep(0.02)
    return True


@pytest.fixture(autouse=True)
def no_refresh_ahead_left():
    """Each test starts without another test's refresh-ahead threads (a failed test's
    AccountTokens stops when collected)."""
    gc.collect()
    assert wait_until(lambda: ahead_threads() == [])


@pytest.fixture
def tmp():
    path = tempfile.mkdtemp(prefix="oauth-refresh-py-acc-")
    yield path
    shutil.rmtree(path)


def test_two_hundred_accounts_in_one_process(server):
    scope = "py-acc-many"
    with accounts_for(server, f"{scope}/ok") as accounts:
        names = [f"company-{i:03}" for i in range(200)]
        for name in names:
            accounts.add(name, f"seed-{scope}-{name}")
        assert accounts.accounts() == names

        # Eight threads ask for every account: one refresh each, whoever asks first.
        barrier = threading.Barrier(8)
        seen = [dict() for _ in range(8)]

        def ask(mine):
            barrier.wait()
            for name in names:
                mine[name] = accounts.access_token(name)

        threads = [threading.Thread(target=ask, args=(s,)) for s in seen]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert all(s == seen[0] for s in seen), "every thread got the same token per account"
        assert len(set(seen[0].values())) == 200, "each account has its own token"
        assert server.token_requests(scope) == 200
        stats = accounts.stats
        assert stats["refreshes"] == 200 and stats["cached"] == 200 and stats["failures"] == 0

        # Cached now: no request, the same tokens, and token() agrees.
        assert {n: accounts.access_token(n) for n in names} == seen[0]
        assert accounts.token(names[7]).access_token == seen[0][names[7]]
        assert server.token_requests(scope) == 200

        assert accounts.remove(names[0]) is True
        assert accounts.remove(names[0]) is False
        assert accounts.accounts() == names[1:]
        with pytest.raises(oar.InvalidInputError, match="add it first"):
            accounts.access_token(names[0])  # no grant any more
        assert server.token_requests(scope) == 200


WORKER = """
import sys, time, oauth_refresh as oar
url, kind, where, seconds, count = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4]), int(sys.argv[5])
store = oar.FileStore(where) if kind == "file" else oar.RedisStore(where, prefix="py-acc-hosts")
accounts = oar.AccountTokens(oar.Client(url), "app", "secret-app", store=store, min_window=0.05)
names = [f"acct-{i}" for i in range(count)]
errors, until = 0, time.monotonic() + seconds
while time.monotonic() < until:
    for name in names:
        try:
            accounts.access_token(name)
        except oar.OAuthRefreshError as err:
            errors += 1
            print(err.code, file=sys.stderr)
    time.sleep(0.01)
print(accounts.stats["refreshes"])
accounts.close()
sys.exit(1 if errors else 0)
"""


@pytest.mark.parametrize("kind", ["file", "redis"])
def test_two_processes_share_one_store(server, tmp, kind, request):
    scope, count, seconds = f"py-acc-procs-{kind}", 12, 2
    if kind == "file":
        where = os.path.join(tmp, "tokens")
        store = oar.FileStore(where)
    else:
        where = request.getfixturevalue("redis_url")
        store = oar.RedisStore(where, prefix="py-acc-hosts")
    names = [f"acct-{i}" for i in range(count)]
    seeds = {name: f"seed-{scope}-{name}" for name in names}
    with oar.AccountTokens(oar.Client(f"{server.url}/{scope}/token"), "app", "secret-app", store=store) as seeding:
        for name, seed in seeds.items():
            seeding.add(name, seed)
    # Reusing a refresh token revokes its whole family: any double refresh would fail a call.
    url = f"{server.url}/{scope}/family,expires=1/token"
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, url, kind, where, str(seconds), str(count)],
                              stdout=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [p.communicate(timeout=60)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], "a worker saw an error (see stderr)"
    requests = server.token_requests(scope)
    assert sum(int(out) for out in outputs) == requests, "each request was one process's refresh"
    for name, seed in seeds.items():
        current = server.get(f"/current/{seed}")
        assert 1 <= current["refreshes"] <= seconds + 2, f"{name}: {current['refreshes']} refreshes in {seconds} s"
        if kind == "file":
            with open(os.path.join(where, f"{name}.token")) as f:
                stored = json.load(f)["refresh_token"]
        else:
            stored = json.loads(redis_cli(where, "HGET", f"py-acc-hosts:{{{name}}}:token", "token"))["refresh_token"]
        assert stored == current["refresh_token"], f"{name}: the store holds the server's current token"


def test_a_revoked_grant_is_reported_once_and_not_retried_and_a_new_grant_recovers(server):
    scope, events = "py-acc-events", []
    accounts = accounts_for(server, f"{scope}/ok", events=events)
    accounts.add("good", f"seed-{scope}-good")
    accounts.add("revoked", "revoked-grant-py-acc")  # not seed-: the server answers invalid_grant
    good = accounts.access_token("good")
    errors = []
    for _ in range(5):
        with pytest.raises(oar.InvalidGrantError) as info:
            accounts.access_token("revoked")
        errors.append(info.value)
    assert server.token_requests(scope) == 2, "one request for each grant, none after the refusal"
    assert [(e.kind, e.account) for e in events] == [("refreshed", "good"), ("needs_reauthorization", "revoked")]
    refused = events[1]
    assert (refused.code, refused.refresh_token_state, refused.attempts) == ("invalid_grant", "rejected", 1)
    assert events[0].code is None and events[0].refresh_token_state is None

    health = accounts.health("revoked")
    assert health.status == "needs_reauthorization"
    assert (health.code, health.refresh_token_state) == ("invalid_grant", "rejected")
    assert health.since is not None and abs(health.since - time.time()) < 30
    assert health.attempts == 1
    ok = accounts.health("good")
    assert (ok.status, ok.code, ok.refresh_token_state, ok.since, ok.attempts) == ("ok", None, None, None, 0)
    [(name, listed)] = accounts.unhealthy()
    assert name == "revoked" and listed.status == "needs_reauthorization"

    # Nothing secret in what a service logs.
    seen = " ".join([repr(e) for e in events] + [repr(health), repr(accounts), repr(accounts.unhealthy())]
                    + [str(e) + repr(e) for e in errors])
    for secret in (SECRET, "revoked-grant-py-acc", f"seed-{scope}-good", good):
        assert secret not in seen

    # A person authorized again: the new grant works and the account has recovered.
    events.clear()
    accounts.add("revoked", f"seed-{scope}-again")
    assert accounts.access_token("revoked")
    assert [(e.kind, e.account) for e in events] == [("refreshed", "revoked"), ("recovered", "revoked")]
    assert accounts.health("revoked").status == "ok" and accounts.unhealthy() == []
    assert server.token_requests(scope) == 3
    accounts.close()


def test_a_transient_failure_is_failing_then_recovered(server):
    scope, events = "py-acc-flaky", []
    accounts = accounts_for(server, f"{scope}/fault=429,times=1", events=events, client={"max_retries": 0})
    accounts.add("a", f"seed-{scope}")
    with pytest.raises(oar.RateLimitedError):
        accounts.access_token("a")
    health = accounts.health("a")
    assert (health.status, health.code, health.refresh_token_state, health.attempts) == ("failing", "rate_limited", "unused", 1)
    assert [(e.kind, e.code, e.refresh_token_state, e.attempts) for e in events] == [("failed", "rate_limited", "unused", 1)]
    accounts.access_token("a")
    assert [e.kind for e in events[1:]] == ["refreshed", "recovered"]
    assert accounts.health("a").status == "ok"
    assert accounts.stats["failures"] == 1 and accounts.stats["refreshes"] == 1
    accounts.close()


def test_a_raising_hook_is_reported_and_the_refresh_goes_on(server):
    scope, reported = "py-acc-raising", []

    def hook(event):
        raise RuntimeError(f"hook failed for {event.account}")

    accounts = oar.AccountTokens(oar.Client(f"{server.url}/{scope}/ok/token"), CLIENT_ID, SECRET, on_event=hook)
    accounts.add("a", f"seed-{scope}")
    saved, sys.unraisablehook = sys.unraisablehook, reported.append
    try:
        token = accounts.token("a")
    finally:
        sys.unraisablehook = saved
    assert token.refresh_token and accounts.access_token("a") == token.access_token
    assert [(type(r.exc_value), str(r.exc_value), r.object) for r in reported] == [
        (RuntimeError, "hook failed for a", hook)]
    assert server.token_requests(scope) == 1 and accounts.stats["refreshes"] == 1
    accounts.close()
    with pytest.raises(TypeError):
        oar.AccountTokens(oar.Client(f"{server.url}/{scope}/ok/token"), CLIENT_ID, SECRET, on_event="print")


def test_refresh_ahead_keeps_callers_from_waiting_within_the_cap(server):
    scope, count, cap = "py-acc-ahead", 20, 4
    # Grants obtained at once elsewhere (another scope of the same server), so that every
    # account falls due together and only the cap spreads their refreshes.
    warm = oar.Client(f"{server.url}/py-acc-ahead-warm/expires=2/token")
    names = [f"acct-{i:02}" for i in range(count)]
    events = []
    accounts = accounts_for(server, f"{scope}/expires=2,delay=30", events=events, refresh_ahead=True,
                            min_window=0.6, max_concurrent_refreshes=cap)
    for name in names:
        accounts.add(name, warm.refresh(CLIENT_ID, SECRET, f"seed-{scope}-{name}"))
    assert wait_until(lambda: len(ahead_threads()) == cap + 1), "the scheduler and its workers"
    for name in names:
        accounts.access_token(name)  # loads each account: served from the token added
    assert server.token_requests(scope) == 0 and accounts.stats["waits"] == 0
    until = time.monotonic() + 2.5
    while time.monotonic() < until:
        for name in names:
            accounts.access_token(name)
        time.sleep(0.02)
    stats = accounts.stats
    assert stats["waits"] == 0, stats
    requests = server.token_requests(scope)
    assert stats["refreshed_ahead"] == stats["refreshes"], "no caller refreshed"
    assert stats["refreshes"] <= requests <= stats["refreshes"] + cap, "at most the cap still in flight"
    assert requests >= 2 * count, f"each account refreshed ahead every ~0.8 s: {requests}"
    assert 1 <= server.stats(scope)["max_in_flight"] <= cap
    assert {e.kind for e in events} == {"refreshed"} and {e.account for e in events} == set(names)
    accounts.close()
    assert ahead_threads() == []
    after = server.token_requests(scope)
    time.sleep(1.0)
    assert server.token_requests(scope) == after, "refresh-ahead stopped with close()"


def test_asyncio_methods(server):
    scope = "py-acc-async"
    accounts = accounts_for(server, f"{scope}/ok")
    names = [f"a{i}" for i in range(20)]
    for name in names:
        accounts.add(name, f"seed-{scope}-{name}")
    accounts.add("revoked", "revoked-grant-py-acc-async")

    async def main():
        tokens = await asyncio.gather(*(accounts.access_token_async(n) for n in names))
        assert all(isinstance(t, str) for t in tokens)
        token = await accounts.token_async(names[3])
        assert token.access_token == tokens[3]
        with pytest.raises(oar.InvalidGrantError):
            await accounts.access_token_async("revoked")
        with pytest.raises(oar.InvalidInputError):
            await accounts.token_async("")
        return tokens

    tokens = asyncio.run(main())
    assert tokens == [accounts.access_token(n) for n in names]
    assert server.token_requests(scope) == 21
    accounts.close()


def test_close_and_the_context_manager_stop_refresh_ahead(server):
    scope = "py-acc-close"
    with accounts_for(server, f"{scope}/expires=1", refresh_ahead=True, min_window=0.3) as accounts:
        accounts.add("a", f"seed-{scope}")
        accounts.access_token("a")
        assert wait_until(lambda: len(ahead_threads()) == 5)  # the scheduler, 4 workers (the default cap)
        pending = accounts.access_token_async("a")  # awaited only after close()
    assert ahead_threads() == []
    assert repr(accounts) == "AccountTokens(closed)"
    requests = server.token_requests(scope)
    time.sleep(0.8)
    assert server.token_requests(scope) == requests
    for call in (lambda: accounts.access_token("a"), lambda: accounts.add("b", "seed-b"),
                 lambda: accounts.accounts(), lambda: accounts.stats, lambda: asyncio.run(pending)):
        with pytest.raises(oar.InvalidInputError) as info:
            call()
        assert "closed" in str(info.value)
    accounts.close()  # again: nothing to do


def test_close_from_the_hook_and_collection_without_close(server):
    scope, closed = "py-acc-hook-close", threading.Event()
    accounts = None

    def hook(event):
        accounts.close()  # on a caller's thread, inside its call: must not wait for it
        closed.set()

    accounts = oar.AccountTokens(oar.Client(f"{server.url}/{scope}/ok/token"), CLIENT_ID, SECRET,
                                 refresh_ahead=True, on_event=hook)
    accounts.add("a", f"seed-{scope}")
    assert accounts.access_token("a")
    assert closed.is_set() and wait_until(lambda: ahead_threads() == [])
    with pytest.raises(oar.InvalidInputError):
        accounts.access_token("a")

    # Never closed, only dropped: refresh-ahead stops all the same.
    dropped = accounts_for(server, f"{scope}/ok", refresh_ahead=True, events=[])
    assert wait_until(lambda: len(ahead_threads()) == 5)
    del dropped
    gc.collect()
    assert wait_until(lambda: ahead_threads() == [])


def test_option_errors_name_the_option_and_never_show_the_value(server):
    client = oar.Client(f"{server.url}/py-acc-opts/ok/token")
    with pytest.raises(oar.InvalidInputError) as info:
        oar.AccountTokens(client, CLIENT_ID, SECRET, refreshAheadMs=5)
    assert "refreshAheadMs" in str(info.value)
    with pytest.raises(oar.InvalidInputError) as info:
        oar.AccountTokens(client, CLIENT_ID, SECRET, maxConcurrentRefreshes=2)
    assert "max_concurrent_refreshes" in str(info.value), "the Python spelling is suggested"
    with pytest.raises(oar.InvalidInputError) as info:
        oar.AccountTokens(client, CLIENT_ID, SECRET, max_cached_accounts="98765")
    assert "max_cached_accounts" in str(info.value) and "98765" not in str(info.value)
    for bad in ({"max_concurrent_refreshes": 0}, {"max_cached_accounts": 0}, {"keep_alive": -1.0},
                {"refresh_fraction": 1.5}, {"refresh_ahead": "yes"}):
        with pytest.raises(oar.InvalidInputError) as info:
            oar.AccountTokens(client, CLIENT_ID, SECRET, **bad)
        assert next(iter(bad)) in str(info.value)
    with pytest.raises(oar.InvalidInputError) as info:
        oar.AccountTokens(client, "app", "")
    assert "client_secret" in str(info.value)
    with pytest.raises(TypeError):
        oar.AccountTokens(client, CLIENT_ID, SECRET, store="tokens/")
    assert server.token_requests("py-acc-opts") == 0


def test_bad_account_ids_are_invalid_input_before_any_request(server):
    scope = "py-acc-ids"
    accounts = accounts_for(server, f"{scope}/ok")
    for bad in ("", "x" * 257, "a\0b"):
        for call in (accounts.access_token, accounts.token, accounts.remove,
                     lambda a: accounts.add(a, "seed-x"), lambda a: asyncio.run(accounts.access_token_async(a))):
            with pytest.raises(oar.InvalidInputError) as info:
                call(bad)
            assert "account" in str(info.value)
    with pytest.raises(TypeError):
        accounts.access_token(42)
    with pytest.raises(oar.InvalidInputError):
        accounts.add("a", "")  # an empty grant
    # Any id of 1 to 256 bytes, whatever it holds.
    for i, odd in enumerate(("x" * 256, "../../etc/passwd", "a b{}%:é")):
        accounts.add(odd, f"seed-{scope}-{i}")
        assert accounts.access_token(odd)
    assert sorted(accounts.accounts()) == sorted(["x" * 256, "../../etc/passwd", "a b{}%:é"])
    assert server.token_requests(scope) == 3
    accounts.close()


def test_a_file_store_directory_holds_safe_names(server, tmp):
    scope = "py-acc-files"
    where = os.path.join(tmp, "tokens")
    with oar.AccountTokens(oar.Client(f"{server.url}/{scope}/ok/token"), CLIENT_ID, SECRET,
                           store=oar.FileStore(where)) as accounts:
        for name in ("Acme/Inc", "../up", "plain-1"):
            accounts.add(name, f"seed-{scope}-{name.encode().hex()}")
            accounts.access_token(name)
        files = sorted(f for f in os.listdir(where) if f.endswith(".token"))
        assert files == ["%2E%2E%2Fup.token", "%41cme%2F%49nc.token", "plain-1.token"]
        assert accounts.accounts() == ["../up", "Acme/Inc", "plain-1"]
    # Another AccountTokens over the same directory finds them, without a request.
    with oar.AccountTokens(oar.Client(f"{server.url}/{scope}/ok/token"), CLIENT_ID, SECRET,
                           store=oar.FileStore(where)) as again:
        assert again.accounts() == ["../up", "Acme/Inc", "plain-1"]
        again.access_token("plain-1")
    assert server.token_requests(scope) == 3


def test_redis_stores_with_and_without_an_account():
    every = oar.RedisStore("redis://:hunter2@127.0.0.1:1")
    assert repr(every) == "RedisStore(account=None)"
    one = oar.RedisStore("redis://127.0.0.1:1", "acct")
    assert repr(one) == 'RedisStore(key="oauth-refresh:{acct}:token")'
    client = oar.Client("http://127.0.0.1:1/token")
    # The wrong kind is refused at first use, before connecting (nothing listens there).
    with pytest.raises(oar.InvalidInputError):
        oar.TokenManager(client, CLIENT_ID, SECRET, "seed-x", store=every).access_token()
    with oar.AccountTokens(client, CLIENT_ID, SECRET, store=one) as accounts:
        with pytest.raises(oar.InvalidInputError):
            accounts.access_token("acct")


def test_one_redis_store_for_many_accounts(server, redis_url):
    scope = "py-acc-redis"
    def connections(url):
        return redis_cli(url, "CLIENT", "LIST").count("\n")

    before = connections(redis_url)
    store = oar.RedisStore(redis_url, prefix="py-acc-redis", timeout=2.0)
    with oar.AccountTokens(oar.Client(f"{server.url}/{scope}/ok/token"), CLIENT_ID, SECRET, store=store) as accounts:
        names = [f"c{i}" for i in range(50)]
        for name in names:
            accounts.add(name, f"seed-{scope}-{name}")
        tokens = {name: accounts.token(name) for name in names}
        assert accounts.accounts() == sorted(names)
        for name in names[:3]:
            stored = json.loads(redis_cli(redis_url, "HGET", f"py-acc-redis:{{{name}}}:token", "token"))
            assert stored["refresh_token"] == tokens[name].refresh_token
        assert accounts.remove("c0") and "c0" not in accounts.accounts()
        after = connections(redis_url)
        assert after - before == 1, "one connection for every account"
    assert server.token_requests(scope) == 50

"""PostgresStore from Python: a manager and AccountTokens over one table, processes sharing a
rotating token, encryption at rest, and the store's errors. Needs the PostgreSQL of
scripts/with-postgres.sh; each test has a table of its own (py_*), so faces never collide."""

import concurrent.futures
import json
import subprocess
import sys
import urllib.parse

import pytest

import oauth_refresh as oar
from conftest import psql, worker_script

KEY = bytes(range(32))


def stored(url: str, table: str, account: str) -> str:
    """The row's `record` column: the token JSON, or its sealed form."""
    return psql(url, f"SELECT record FROM {table} WHERE account = '{account}'").strip()


def test_a_manager_stores_each_refresh_before_use_and_another_handle_reads_it(server, postgres_url):
    scope, table = "py-pg-manager", "py_manager"
    seen = []

    def on_refresh(token):
        # Called once the token was stored: the row holds it already.
        seen.append(json.loads(stored(postgres_url, table, "acct"))["refresh_token"] == token.refresh_token)

    client = oar.Client(f"{server.url}/{scope}/ok/token")
    store = oar.PostgresStore(postgres_url, account="acct", table=table)
    token = oar.TokenManager(client, "app", "secret-app", "seed-py-pg-manager", store=store,
                             on_refresh=on_refresh).token()
    assert seen == [True]
    assert json.loads(stored(postgres_url, table, "acct"))["refresh_token"] == token.refresh_token
    # Another handle (another pool, as another process would have) reads it without a request.
    again = oar.PostgresStore(postgres_url, "acct", table=table)
    assert oar.TokenManager(client, "app", "secret-app", store=again).access_token() == token.access_token
    assert server.token_requests(scope) == 1


def test_account_tokens_over_one_bounded_pool(server, postgres_url):
    scope, table = "py-pg-accounts", "py_accounts"
    # The application name marks this store's connections in pg_stat_activity.
    url = postgres_url + "?application_name=py_accounts"
    client = oar.Client(f"{server.url}/{scope}/ok/token")
    names = [f"company-{i}" for i in range(20)]
    store = oar.PostgresStore(url, table=table, max_connections=2)
    with oar.AccountTokens(client, "app", "secret-app", store=store) as accounts:
        for name in names:
            accounts.add(name, f"seed-{scope}-{name}")
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            tokens = dict(zip(names, pool.map(accounts.token, names)))
        assert accounts.accounts() == sorted(names)
        for name in names[:3]:
            assert json.loads(stored(postgres_url, table, name))["refresh_token"] == tokens[name].refresh_token
        opened = int(psql(postgres_url, "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'py_accounts'"))
        assert 1 <= opened <= 2, f"{opened} connections for a pool of 2"
        assert accounts.remove(names[0]) and names[0] not in accounts.accounts()
    assert server.token_requests(scope) == 20
    # Another AccountTokens over another store of the same table finds them without a request.
    with oar.AccountTokens(client, "app", "secret-app", store=oar.PostgresStore(postgres_url, table=table)) as again:
        assert again.accounts() == sorted(names[1:])
        assert again.access_token(names[1]) == tokens[names[1]].access_token
    assert server.token_requests(scope) == 20


WORKER = worker_script('oar.PostgresStore(__import__("os").environ["POSTGRES_URL"], account="acct", table=store_arg)')


def test_two_processes_share_one_rotating_token_in_family_mode(server, postgres_url):
    table, seed = "py_family", "seed-py-pg-family"
    store = oar.PostgresStore(postgres_url, account="acct", table=table)
    oar.TokenManager(oar.Client(f"{server.url}/py-pg-seed/expires=1/token"), "app", "secret-app", seed,
                     store=store).access_token()
    # Reusing a refresh token revokes its whole family: any double refresh would fail a call.
    url = f"{server.url}/py-pg-family/family,expires=1/token"
    seconds = 3
    # The URL reaches the workers through their environment (POSTGRES_URL), not argv.
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, url, table, str(seconds)],
                              stdout=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [p.communicate(timeout=60)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], "a worker saw an error (see stderr)"
    requests = server.token_requests("py-pg-family")
    assert sum(int(out) for out in outputs) == requests, "each request was one worker's refresh"
    assert 1 <= requests <= seconds + 2, f"{requests} refreshes for about {seconds} expiries"
    row = json.loads(stored(postgres_url, table, "acct"))
    assert row["refresh_token"] == server.current_refresh_token(seed), "the store holds the server's current token"


def test_an_encrypted_store_holds_no_token_and_binds_each_record_to_its_account(server, postgres_url):
    scope, table = "py-pg-seal", "py_seal"
    client = oar.Client(f"{server.url}/{scope}/ok/token")
    store = oar.PostgresStore(postgres_url, "seal", table=table, encryption_key=KEY)
    token = oar.TokenManager(client, "app", "secret-app", "seed-py-pg-seal", store=store).token()
    row = psql(postgres_url, f"SELECT * FROM {table}")
    assert "seal" in row and token.access_token not in row and token.refresh_token not in row
    # The same key as hex text reads it; another key, or none, is a clear error.
    same = oar.PostgresStore(postgres_url, "seal", table=table, encryption_key=KEY.hex())
    assert oar.TokenManager(client, "app", "secret-app", store=same).access_token() == token.access_token
    for other in (bytes(32), None):
        reader = oar.PostgresStore(postgres_url, "seal", table=table, encryption_key=other)
        with pytest.raises(oar.StoreDecryptError):
            oar.TokenManager(client, "app", "secret-app", store=reader).access_token()
    # A record copied to another account's row does not open there.
    psql(postgres_url, f"INSERT INTO {table} (account, record, rt_fingerprint) "
                       f"SELECT 'moved', record, rt_fingerprint FROM {table} WHERE account = 'seal'")
    moved = oar.PostgresStore(postgres_url, "moved", table=table, encryption_key=KEY)
    with pytest.raises(oar.StoreDecryptError):
        oar.TokenManager(client, "app", "secret-app", store=moved).access_token()
    assert server.token_requests(scope) == 1


def test_a_wrong_password_is_store_failed_and_never_shown(server, postgres_url):
    scope = "py-pg-password"
    parts = urllib.parse.urlsplit(postgres_url)
    real = urllib.parse.unquote(parts.password or "")
    wrong = "not-the-pg-password-4711"
    url = parts._replace(netloc=f"{parts.username}:{wrong}@{parts.hostname}:{parts.port}").geturl()
    store = oar.PostgresStore(url, "acct", table="py_password")
    manager = oar.TokenManager(oar.Client(f"{server.url}/{scope}/ok/token"), "app", "secret-app",
                               "seed-py-pg-password", store=store)
    with pytest.raises(oar.StoreFailedError) as info:
        manager.access_token()
    assert info.value.code == "store_failed" and info.value.refresh_token_state == "unused"
    for shown in (str(info.value), repr(info.value), repr(store)):
        assert wrong not in shown and real not in shown, shown
    assert server.token_requests(scope) == 0, "nothing is sent without the store"


def test_a_database_that_is_down_is_store_unavailable(server):
    store = oar.PostgresStore(server.refused.replace("http://", "postgres://py@") + "/db", "acct", timeout=0.5)
    manager = oar.TokenManager(oar.Client(f"{server.url}/py-pg-down/ok/token"), "app", "secret-app",
                               "seed-py-pg-down", store=store)
    with pytest.raises(oar.StoreUnavailableError) as info:
        manager.access_token()
    assert isinstance(info.value, ConnectionError)
    assert info.value.code == "store_unavailable" and info.value.refresh_token_state == "unused"
    assert server.token_requests("py-pg-down") == 0


def test_the_wrong_kind_of_store_is_invalid_input():
    # Refused at first use, before connecting: nothing listens on port 1.
    client = oar.Client("http://127.0.0.1:1/token")
    one = oar.PostgresStore("postgres://py:pw-kind@127.0.0.1:1/db", "acct")
    every = oar.PostgresStore("postgres://py:pw-kind@127.0.0.1:1/db")
    assert (repr(one), repr(every)) == ("PostgresStore(account='acct')", "PostgresStore(account=None)")
    with oar.AccountTokens(client, "app", "secret-app", store=one) as accounts:
        with pytest.raises(oar.InvalidInputError):
            accounts.access_token("acct")
    with pytest.raises(oar.InvalidInputError):
        oar.TokenManager(client, "app", "secret-app", "seed-x", store=every).access_token()


@pytest.mark.parametrize("options, named", [
    ({"table": "py-bad;drop"}, "table"),
    ({"table": "a.b.c"}, "table"),
    ({"max_connections": 0}, "max_connections"),
    ({"timeout": 0}, "timeout"),
    ({"create_table": "yes"}, "create_table"),
    ({"encryption_key": b"short"}, "32 bytes"),
    ({"maxConnections": 2}, "max_connections"),
])
def test_bad_options_are_invalid_input_in_python_spelling(options, named):
    with pytest.raises(oar.InvalidInputError) as info:
        oar.PostgresStore("postgres://py@127.0.0.1:1/db", "acct", **options)
    assert named in str(info.value)


def test_a_bad_url_or_account_is_refused_without_echoing_it():
    for url in ("postgres://py:hunter2@127.0.0.1:notaport/db", "hunter2 = nonsense"):
        with pytest.raises(oar.InvalidInputError) as info:
            oar.PostgresStore(url, "acct")
        assert "hunter2" not in str(info.value)
    with pytest.raises(oar.InvalidInputError):
        oar.PostgresStore("postgres://py@127.0.0.1:1/db", account="")
    assert "hunter2" not in repr(oar.PostgresStore("postgres://py:hunter2@127.0.0.1:1/db", "acct"))

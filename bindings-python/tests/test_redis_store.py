"""RedisStore from Python: processes as hosts sharing one rotating token, encryption at rest
for Redis and files, and the store errors. Needs the redis-server of scripts/with-redis.sh."""

import json
import os
import subprocess
import sys
import tempfile

import pytest

import oauth_refresh as oar
from conftest import redis_cli, worker_script

WORKER = worker_script('oar.RedisStore(store_arg, account="acct", prefix="py-hosts")')

KEY = bytes(range(32))


def stored_token(redis_url: str, key: str) -> dict:
    return json.loads(redis_cli(redis_url, "HGET", key, "token"))


def test_eight_processes_share_one_rotating_token(server, redis_url):
    seeding = oar.TokenManager(oar.Client(f"{server.url}/py-redis-seed/expires=1/token"), "app", "secret-app",
                               "seed-py-redis", store=oar.RedisStore(redis_url, account="acct", prefix="py-hosts"))
    seeding.access_token()
    url = f"{server.url}/py-redis/family,expires=1/token"
    seconds = 20
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, url, redis_url, str(seconds)],
                              stdout=subprocess.PIPE, text=True) for _ in range(8)]
    outputs = [p.communicate(timeout=120)[0] for p in procs]
    assert [p.returncode for p in procs] == [0] * 8, "a worker saw an error (see stderr)"
    requests = server.token_requests("py-redis")
    assert sum(int(out) for out in outputs) == requests, "each request was one worker's refresh"
    assert seconds - 2 <= requests <= seconds + 3, f"{requests} refreshes for about {seconds} expiries"
    stored = stored_token(redis_url, "py-hosts:{acct}:token")["refresh_token"]
    assert server.current_refresh_token("seed-py-redis") == stored


def test_an_encrypted_redis_store_holds_no_token_bytes(server, redis_url):
    client = oar.Client(f"{server.url}/py-seal/ok/token")
    store = oar.RedisStore(redis_url, account="seal", prefix="py", encryption_key=KEY)
    token = oar.TokenManager(client, "app", "secret-app", "seed-py-seal", store=store).token()
    assert repr(store) == 'RedisStore(key="py:{seal}:token")'
    everything = redis_cli(redis_url, "HGETALL", "py:{seal}:token")
    assert token.access_token not in everything and token.refresh_token not in everything
    # The same key as hex text reads it; another key, or none, is a clear error.
    same = oar.RedisStore(redis_url, account="seal", prefix="py", encryption_key=KEY.hex())
    assert oar.TokenManager(client, "app", "secret-app", store=same).access_token() == token.access_token
    for other in (bytes(32), None):
        reader = oar.RedisStore(redis_url, account="seal", prefix="py", encryption_key=other)
        with pytest.raises(oar.StoreDecryptError) as info:
            oar.TokenManager(client, "app", "secret-app", store=reader).access_token()
        assert info.value.code == "store_decrypt"
    assert server.token_requests("py-seal") == 1


def test_an_encrypted_file_store_holds_no_token_bytes(server):
    client = oar.Client(f"{server.url}/py-fseal/ok/token")
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "token")
        store = oar.FileStore(path, encryption_key=KEY)
        token = oar.TokenManager(client, "app", "secret-app", "seed-py-fseal", store=store).token()
        with open(path) as f:
            contents = f.read()
        assert token.access_token not in contents and token.refresh_token not in contents
        with pytest.raises(oar.StoreDecryptError):
            oar.TokenManager(client, "app", "secret-app", store=oar.FileStore(path, encryption_key=bytes(32))).token()


@pytest.mark.parametrize("key", [b"short", "zz" * 32, "not base64!"])
def test_a_bad_key_is_invalid_input_and_not_echoed(key):
    with pytest.raises(oar.InvalidInputError) as info:
        oar.FileStore("token", encryption_key=key)
    assert "32 bytes" in str(info.value)
    if isinstance(key, str):
        assert key not in str(info.value)


def test_an_unreachable_redis_is_store_unavailable(server):
    store = oar.RedisStore(server.refused.replace("http://", "redis://"), account="a", timeout=0.5)
    manager = oar.TokenManager(oar.Client(f"{server.url}/py-unreach/ok/token"), "app", "secret-app", "seed-py-unreach",
                               store=store)
    with pytest.raises(oar.StoreUnavailableError) as info:
        manager.access_token()
    assert isinstance(info.value, ConnectionError)
    assert info.value.code == "store_unavailable" and info.value.refresh_token_state == "unused"
    assert server.token_requests("py-unreach") == 0


def test_bad_settings_are_refused_without_echoing_the_url():
    with pytest.raises(oar.InvalidInputError) as info:
        oar.RedisStore("http://:hunter2@127.0.0.1:1", account="a")
    assert "hunter2" not in str(info.value)
    with pytest.raises(oar.InvalidInputError):
        oar.RedisStore("redis://127.0.0.1:1", account="")
    for prefix in ("{app}", "app}"):
        with pytest.raises(oar.InvalidInputError):
            oar.RedisStore("redis://127.0.0.1:1", account="a", prefix=prefix)
    with pytest.raises(oar.InvalidInputError):
        oar.RedisStore("redis://127.0.0.1:1", account="a", timeout=0)
    assert "hunter2" not in repr(oar.RedisStore("redis://:hunter2@127.0.0.1:1", account="a"))


def test_keys_are_unambiguous():
    def key(prefix: str, account: str) -> str:
        return repr(oar.RedisStore("redis://127.0.0.1:1", account=account, prefix=prefix))

    assert key("app:tenant", "1") == 'RedisStore(key="app:tenant:{1}:token")'
    assert key("app", "tenant:1") == 'RedisStore(key="app:{tenant:1}:token")'
    assert key("p", "a b{}%") == 'RedisStore(key="p:{a%20b%7B%7D%25}:token")'

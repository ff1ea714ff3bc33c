"""TokenManager from Python: single flight across threads, a FileStore shared by processes,
the store_failed error with the new token, the hook, and asyncio."""

import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading

import pytest

import oauth_refresh as oar
from conftest import worker_script

WORKER = worker_script("oar.FileStore(store_arg)")


@pytest.fixture
def tmp():
    path = tempfile.mkdtemp(prefix="oauth-refresh-py-")
    yield path
    shutil.rmtree(path)


def test_threads_cause_one_refresh(server):
    client = oar.Client(f"{server.url}/py-mgr/delay=200/token")
    manager = oar.TokenManager(client, "app", "secret-app", "seed-py-mgr")
    for round_ in (1, 2):
        barrier = threading.Barrier(16)
        results = []

        def call():
            barrier.wait()
            results.append(manager.access_token())

        threads = [threading.Thread(target=call) for _ in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(set(results)) == 1 and len(results) == 16
        assert server.token_requests("py-mgr") == round_
        manager.invalidate()
    assert manager.stats == {"refreshes": 2, "adoptions": 0, "failures": 0}


def test_on_refresh_and_async(server):
    seen = []
    client = oar.Client(f"{server.url}/py-mgr-hook/ok/token")
    manager = oar.TokenManager(client, "app", "secret-app", "seed-py-mgr-hook", on_refresh=seen.append)
    token = asyncio.run(manager.token_async())
    assert [t.refresh_token for t in seen] == [token.refresh_token]
    assert manager.token().access_token == token.access_token
    # Like access_token(), its coroutine gives the string; both forms agree.
    access = asyncio.run(manager.access_token_async())
    assert isinstance(access, str)
    assert access == manager.access_token() == token.access_token
    assert server.token_requests("py-mgr-hook") == 1


def test_processes_sharing_a_file_store(server, tmp):
    path = os.path.join(tmp, "token.json")
    seeding = oar.TokenManager(oar.Client(f"{server.url}/py-mgr-seed/expires=1/token"), "app", "secret-app",
                               "seed-py-mgr-procs", store=oar.FileStore(path))
    seeding.access_token()
    url = f"{server.url}/py-mgr-procs/family,expires=1/token"
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, url, path, "6"], stdout=subprocess.DEVNULL) for _ in range(4)]
    assert [p.wait(timeout=60) for p in procs] == [0, 0, 0, 0]
    requests = server.token_requests("py-mgr-procs")
    assert 4 <= requests <= 8, f"{requests} refreshes for about 6 expiries"
    with open(path) as f:
        stored = json.load(f)["refresh_token"]
    assert server.current_refresh_token("seed-py-mgr-procs") == stored


def test_store_failed_carries_the_new_token(server, tmp):
    path = os.path.join(tmp, "token.json")
    client = oar.Client(f"{server.url}/py-mgr-fail/ok/token")
    oar.TokenManager(client, "app", "secret-app", "seed-py-mgr-fail", store=oar.FileStore(path)).access_token()
    # Writes now fail: the write lock's path is a directory. Reads still work.
    os.remove(path + ".lock")
    os.mkdir(path + ".lock")
    seen = []
    manager = oar.TokenManager(client, "app", "secret-app", store=oar.FileStore(path), on_refresh=seen.append)
    manager.access_token()
    manager.invalidate()
    with pytest.raises(oar.StoreFailedError) as info:
        manager.access_token()
    err = info.value
    assert err.code == "store_failed"
    assert err.token is not None
    assert err.token.refresh_token == server.current_refresh_token("seed-py-mgr-fail")
    assert [t.refresh_token for t in seen] == [err.token.refresh_token]
    assert err.token.refresh_token not in str(err) and err.token.refresh_token not in repr(err)


def test_wrong_store_type_is_a_type_error(server):
    with pytest.raises(TypeError):
        oar.TokenManager(oar.Client(f"{server.url}/token"), "app", "secret-app", "seed-x", store="file.json")
    with pytest.raises(oar.InvalidInputError):
        oar.TokenManager(oar.Client(f"{server.url}/token"), "app", "secret-app", "seed-x", min_window=-1)

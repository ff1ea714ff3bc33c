"""A real token server for the whole session, started from the binary the Makefile built."""

import json
import os
import subprocess
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


class TokenServer:
    def __init__(self) -> None:
        binary = os.environ.get("TOKEN_SERVER_BIN", str(ROOT / "target" / "debug" / "token-server"))
        self.process = subprocess.Popen([binary, "--port", "0"], stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        self.opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        self.url = self.process.stdout.readline().strip()
        assert self.url.startswith("http://127.0.0.1:"), "token-server did not start"
        # Then `name=value` lines, the last one `authenticated_proxy=` (see its main.rs).
        fields = {}
        while "authenticated_proxy" not in fields:
            line = self.process.stdout.readline()
            assert line, "token-server stopped before printing all its addresses"
            name, _, value = line.strip().partition("=")
            fields[name] = value
        self.blackhole = fields["blackhole"]
        self.refused = fields["refused"]
        self.https = fields["https"]
        self.https_wrong_host = fields["https_wrong_host"]
        self.https_expired = fields["https_expired"]
        self.https_port = int(fields["https_port"])
        self.ca_file = fields["ca_file"]
        self.other_ca_file = fields["other_ca_file"]
        self.proxy = fields["proxy"]
        self.auth_proxy = fields["authenticated_proxy"]

    def get(self, path: str) -> dict:
        # Never through a proxy, whatever a conformance case put in the environment.
        with self.opener.open(self.url + path, timeout=10) as response:
            return json.load(response)

    def stats(self, scope: str) -> dict:
        return self.get(f"/{scope}/stats")

    def proxy_requests(self) -> int:
        """CONNECT plus plain requests that reached the proxies so far."""
        stats = self.get("/proxy/stats")
        return stats["connects"] + stats["plain"]

    def token_requests(self, scope: str) -> int:
        return self.stats(scope)["token_requests"]

    def current_refresh_token(self, sent: str) -> "str | None":
        return self.get("/current/" + urllib.parse.quote(sent, safe=""))["refresh_token"]

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


@pytest.fixture(scope="session")
def server():
    s = TokenServer()
    yield s
    s.stop()


@pytest.fixture(scope="session")
def redis_url():
    """The private redis-server `scripts/with-redis.sh` started for this run."""
    url = os.environ.get("REDIS_URL")
    if not url:
        pytest.skip(os.environ.get("REDIS_SKIP", "REDIS_URL is not set: run under scripts/with-redis.sh"))
    return url


def redis_cli(url: str, *args: str) -> str:
    """One command through redis-cli, for assertions on what is stored."""
    return subprocess.run(["redis-cli", "-u", url, *args], check=True, capture_output=True, text=True).stdout


@pytest.fixture(scope="session")
def postgres_url():
    """The private PostgreSQL `scripts/with-postgres.sh` started for this run (its password is
    a fixture of that server). Under CI a missing one fails the tests instead of skipping them."""
    url = os.environ.get("POSTGRES_URL")
    if not url:
        why = os.environ.get("POSTGRES_SKIP", "POSTGRES_URL is not set: run under scripts/with-postgres.sh")
        if os.environ.get("CI"):
            pytest.fail(f"the PostgreSQL tests must run under CI: {why}")
        pytest.skip(why)
    return url


def psql(url: str, sql: str) -> str:
    """One statement through psql, for assertions on what is stored. The password goes in
    PGPASSWORD, never on the command line, so no error or process list shows it."""
    parts = urllib.parse.urlsplit(url)
    env = dict(os.environ, PGPASSWORD=urllib.parse.unquote(parts.password or ""))
    args = ["psql", "-qtAX", "-v", "ON_ERROR_STOP=1", "-h", parts.hostname or "", "-p", str(parts.port),
            "-U", urllib.parse.unquote(parts.username or ""), "-d", parts.path.lstrip("/"), "-c", sql]
    done = subprocess.run(args, env=env, capture_output=True, text=True)
    assert done.returncode == 0, f"psql failed: {done.stderr.strip()}"
    return done.stdout


WORKER = """
import sys, time, oauth_refresh as oar
url, store_arg, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
manager = oar.TokenManager(oar.Client(url), "app", "secret-app", store=STORE, min_window=0.05)
errors, until = 0, time.monotonic() + seconds
while time.monotonic() < until:
    try:
        manager.access_token()
    except oar.OAuthRefreshError as err:
        errors += 1
        print(err.code, file=sys.stderr)
    time.sleep(0.005)
print(manager.stats["refreshes"])
sys.exit(1 if errors else 0)
"""


def worker_script(store: str) -> str:
    """A worker process asking a manager for a token every 5 ms; `store` is the Python
    expression of its store, over `store_arg`. Run: [python, -c, script, url, store_arg, seconds].
    Prints its refreshes; exits 1 if any call failed."""
    return WORKER.replace("STORE", store)

"""Python, Node and C processes share one account through one PostgresStore, against the token
server in "reuse revokes the family" mode with 2-second tokens: none may send a consumed refresh
token (no invalid_grant, the family is never revoked), each adopts the others' refreshes, and
every request the server saw is one worker's refresh.

Run by `make test-mixed`, next to the token server and a private PostgreSQL (TOKEN_SERVER_URL,
POSTGRES_URL); argv: the venv Python, then the C worker."""

import json
import os
import subprocess
import sys
import urllib.request

python, c_worker = sys.argv[1], sys.argv[2]
here = os.path.dirname(os.path.abspath(__file__))
server = os.environ["TOKEN_SERVER_URL"]
database = os.environ.get("POSTGRES_URL")
if not database:
    why = os.environ.get("POSTGRES_SKIP", "POSTGRES_URL is not set")
    if os.environ.get("CI"):
        sys.exit(f"mixed languages: {why}")
    print(f"SKIPPED mixed languages: {why}")
    sys.exit(0)
token_url = f"{server}/mixed/family,expires=2/token"
seconds = "8"
commands = [
    [python, os.path.join(here, "worker.py"), token_url, database, seconds],
    ["node", os.path.join(here, "worker.js"), token_url, database, seconds],
    [c_worker, token_url, database, seconds],
]
workers = [subprocess.Popen(c, stdout=subprocess.PIPE, text=True) for c in commands]
summaries = []
for worker in workers:
    out, _ = worker.communicate(timeout=120)
    line = out.strip().splitlines()[-1] if out.strip() else ""
    assert worker.returncode == 0, f"a worker failed: {line!r}"
    summaries.append(dict(kv.split("=", 1) for kv in line.split()))
    print(f"mixed languages: {line}")


def get(path):
    with urllib.request.urlopen(server + path, timeout=10) as reply:
        return json.load(reply)


for s in summaries:
    assert s["failed"] == "0" and s["invalid_grant"] == "0", s
    assert int(s["adoptions"]) >= 1, f"{s['lang']} never saw another language's refresh: {s}"
refreshes = sum(int(s["refreshes"]) for s in summaries)
requests = get("/mixed/stats")["token_requests"]
assert refreshes == requests, f"{refreshes} refreshes, {requests} requests"
family = get("/current/seed-mixed")
assert family["refresh_token"] is not None, "the family was revoked: a consumed token was sent"
assert refreshes >= 3 and family["refreshes"] == refreshes, (refreshes, family["refreshes"])
print(f"mixed languages: {refreshes} refreshes shared by Python, Node and C, no token sent twice")

"""A Python process sharing one account through PostgreSQL, for tests/mixed/run.py.

`worker.py TOKEN_URL POSTGRES_URL SECONDS`: calls access_token() every few ms for SECONDS and
prints `lang=python ok=N failed=N invalid_grant=N refreshes=N adoptions=N`."""

import sys
import time

import oauth_refresh as oar

token_url, database, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
store = oar.PostgresStore(database, account="mixed", table="mixed_tokens")
manager = oar.TokenManager(oar.Client(token_url), "app", "secret-app", "seed-mixed", store=store,
                           min_window=1.0, jitter=0.0, lease_ttl=2.0)
ok = failed = invalid_grant = 0
until = time.monotonic() + seconds
while time.monotonic() < until:
    try:
        manager.access_token()
        ok += 1
    except oar.OAuthRefreshError as err:
        failed += 1
        invalid_grant += isinstance(err, oar.InvalidGrantError)
        print(f"python worker: {err.code}", file=sys.stderr)
    time.sleep(0.005)
stats = manager.stats
print(f"lang=python ok={ok} failed={failed} invalid_grant={invalid_grant} "
      f"refreshes={stats['refreshes']} adoptions={stats['adoptions']}")

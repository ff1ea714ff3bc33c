"""`make demo`, Python part: tokens for many accounts under one client and one store, kept
fresh ahead of callers, with events and health per account."""

import asyncio
import os
import time

import oauth_refresh as oar

server = os.environ["TOKEN_SERVER_URL"]  # set by scripts/with-token-server.sh


def on_event(event: oar.AccountEvent) -> None:
    # Called on the thread that saw it (often a refresh-ahead thread): keep it short.
    detail = f" ({event.code}, refresh token {event.refresh_token_state})" if event.code else ""
    print(f"python: event {event.kind} for {event.account}{detail}")


# Access tokens that live 2 s, so refresh-ahead shows within the demo.
client = oar.Client(f"{server}/python-many/expires=2/token")
with oar.AccountTokens(
    client,
    "demo-app",
    "secret-demo-app",
    store=oar.MemoryStore(),  # FileStore(directory) for one host, RedisStore(url) for many
    on_event=on_event,
    refresh_ahead=True,  # off by default in the library
    min_window=0.5,
    max_concurrent_refreshes=2,
) as accounts:
    for company in ("company-1", "company-2", "company-3"):
        accounts.add(company, f"seed-python-many-{company}")  # from your onboarding flow
    accounts.add("company-revoked", "revoked-python-many")  # a grant the server refuses

    for company in accounts.accounts():
        try:
            accounts.access_token(company)
        except oar.InvalidGrantError as err:
            print(f"python: {company} needs a person to authorize again ({err.code})")

    # Callers keep asking; refresh-ahead refreshes before any of them has to wait (the first
    # call of a new grant waits for its first refresh: counted from here).
    warm = accounts.stats["waits"]
    until = time.monotonic() + 2.5
    while time.monotonic() < until:
        for company in ("company-1", "company-2", "company-3"):
            accounts.access_token(company)
        time.sleep(0.05)
    token = asyncio.run(accounts.token_async("company-1"))
    print(f"python: company-1 expires at {token.expires_at:%H:%M:%S %Z} ({token!r})")

    for company, health in accounts.unhealthy():
        print(f"python: unhealthy {company}: {health.status}, {health.code}, {health.attempts} attempt(s)")
    stats = accounts.stats
    print(f"python: {stats['refreshes']} refreshes ({stats['refreshed_ahead']} ahead), "
          f"{stats['waits'] - warm} callers waited after the first calls")
# Leaving the block closed it: refresh-ahead stopped and its threads were joined.

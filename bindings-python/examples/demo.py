"""`make demo`, Python part: refresh twice, show a reuse failing, ask Gusto for a system token."""

import asyncio
import os

import oauth_refresh as oar

server = os.environ["TOKEN_SERVER_URL"]  # set by scripts/with-token-server.sh

client = oar.Client(f"{server}/token")
first = client.refresh("demo-app", "secret-demo-app", "seed-python-demo")
print(f"python: refreshed, rotated={first.refresh_token_rotated} expires_at={first.expires_at:%H:%M:%S %Z}")
print(f"python: {first!r}")

# Only the rotated refresh token works now.
second = asyncio.run(client.refresh_async("demo-app", "secret-demo-app", first.refresh_token))
print(f"python: refreshed again with refresh_async, rotated={second.refresh_token_rotated}")

try:
    client.refresh("demo-app", "secret-demo-app", "seed-python-demo")
except oar.InvalidGrantError as err:
    print(f"python: reusing the first token fails as it should: {err.code}, token {err.refresh_token_state}")

gusto = oar.Client.gusto(server, gusto_api_version="2025-06-15")
system = gusto.system_access("demo-app", "secret-demo-app")
print(f"python: gusto system_access token_type={system.token_type} expires_in={system.expires_in}")

# A manager serves the cached token while it is fresh and refreshes it once when not.
manager = oar.TokenManager(client, "demo-app", "secret-demo-app", "seed-python-demo-manager")
first, cached = manager.access_token(), manager.access_token()
manager.invalidate()  # as after an API 401
renewed = manager.access_token()
print(f"python: manager served the cached token again: {first == cached}, "
      f"a new one after invalidate(): {renewed != first}, stats {manager.stats}")

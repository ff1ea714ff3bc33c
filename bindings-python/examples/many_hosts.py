"""`make demo`, many hosts: two managers (think: two hosts) share one account's rotating token
through Redis, sealed under a key from the environment. One refreshes; the other adopts it."""

import os

import oauth_refresh as oar

client = oar.Client(f"{os.environ['TOKEN_SERVER_URL']}/token")


def host() -> oar.TokenManager:
    store = oar.RedisStore(os.environ["REDIS_URL"], account="company-42", prefix="my-app-python",
                           encryption_key=os.environ["TOKEN_ENCRYPTION_KEY"])
    return oar.TokenManager(client, "my-app", "secret-my-app", "seed-python-hosts", store=store)


a, b = host(), host()
same = a.access_token() == b.access_token()
print(f"python: two hosts, one token: {same}; a {a.stats}, b {b.stats}")

"""`make demo`, PostgreSQL: two AccountTokens (think: two hosts) keep several companies' rotating
tokens in one PostgreSQL table, sealed under a key from the environment. The first refreshes each
company once; the second serves them from the table without a request.

Needs TOKEN_SERVER_URL, POSTGRES_URL and TOKEN_ENCRYPTION_KEY (64 hex digits)."""

import os

import oauth_refresh as oar

COMPANIES = ["company-1", "company-2", "company-3"]
client = oar.Client(f"{os.environ['TOKEN_SERVER_URL']}/pg-python/ok/token")


def host() -> oar.AccountTokens:
    # One pool for every account; the table is created on first use.
    store = oar.PostgresStore(os.environ["POSTGRES_URL"], table="demo_python_tokens",
                              encryption_key=os.environ["TOKEN_ENCRYPTION_KEY"])
    return oar.AccountTokens(client, "my-app", "secret-my-app", store=store)


with host() as a, host() as b:
    for company in COMPANIES:
        a.add(company, f"seed-python-pg-{company}")
        a.access_token(company)
    same = all(a.access_token(c) == b.access_token(c) for c in COMPANIES)
    print(f"python: postgres: {len(b.accounts())} companies, the second host served the same "
          f"tokens: {same}; refreshes a {a.stats['refreshes']} b {b.stats['refreshes']}")

"""Type-checked by `make test-python` with `mypy --strict` against the installed stubs; never
run. The `type: ignore` lines must stay errors: strict mode reports an ignore that is unused."""

import oauth_refresh as oar


def build() -> oar.TokenManager:
    client = oar.Client(
        "https://auth.example.com/token",
        timeout=5.0,
        max_retries=1,
        body_encoding="json",
        headers={"X-Api-Key": "k"},
        retry_unknown_outcome=False,
        proxy_from_env=False,
    )
    gusto = oar.Client.gusto("demo", gusto_api_version="2025-06-15", initial_backoff=0.1)
    store = oar.RedisStore("redis://127.0.0.1:6379", account="acct", prefix="app", timeout=1.0)
    oar.FileStore("/tmp/token.json", encryption_key=bytes(32))
    options: oar.ClientOptions = {"connect_timeout": 2.0}
    oar.Client("https://auth.example.com/token", **options)
    oar.Client("https://auth.example.com/token", timeout="soon")  # type: ignore[arg-type]
    oar.Client("https://auth.example.com/token", timeout_ms=5)  # type: ignore[call-arg]
    oar.Client("https://auth.example.com/token", body_encoding="xml")  # type: ignore[arg-type]
    oar.Client.gusto("demo", body_encoding="json")  # type: ignore[call-arg]
    del gusto
    return oar.TokenManager(client, "id", "secret", "seed", store=store, min_window=10.0, lease_ttl=5.0)

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
    oar.PostgresStore("postgres://app@db/app", account="acct", table="tokens", create_table=False, timeout=2.0)
    oar.PostgresStore("postgres://app@db/app", "acct", max_connections="4")  # type: ignore[arg-type]
    oar.PostgresStore("postgres://app@db/app", maxConnections=4)  # type: ignore[call-arg]
    options: oar.ClientOptions = {"connect_timeout": 2.0}
    oar.Client("https://auth.example.com/token", **options)
    oar.Client("https://auth.example.com/token", timeout="soon")  # type: ignore[arg-type]
    oar.Client("https://auth.example.com/token", timeout_ms=5)  # type: ignore[call-arg]
    oar.Client("https://auth.example.com/token", body_encoding="xml")  # type: ignore[arg-type]
    oar.Client.gusto("demo", body_encoding="json")  # type: ignore[call-arg]
    del gusto
    return oar.TokenManager(client, "id", "secret", "seed", store=store, min_window=10.0, lease_ttl=5.0)


def many() -> oar.AccountTokens:
    def on_event(event: oar.AccountEvent) -> None:
        print(event.kind, event.account, event.code, event.refresh_token_state, event.attempts)

    client = oar.Client("https://auth.example.com/token")
    every = oar.RedisStore("redis://127.0.0.1:6379", prefix="app")
    pg_options: oar.PostgresStoreOptions = {"max_connections": 8, "encryption_key": "00" * 32}
    oar.AccountTokens(client, "id", "secret", store=oar.PostgresStore("postgres://app@db/app", **pg_options))
    options: oar.AccountTokensOptions = {"refresh_ahead": True, "max_concurrent_refreshes": 8, "min_window": 5.0}
    accounts = oar.AccountTokens(client, "id", "secret", store=every, on_event=on_event, **options)
    accounts.add("company-1", "refresh-token")
    access: str = accounts.access_token("company-1")
    health: oar.Health = accounts.health("company-1")
    since: "float | None" = health.since
    sick: list[tuple[str, oar.Health]] = accounts.unhealthy()
    waits: int = accounts.stats["waits"]
    removed: bool = accounts.remove("company-1")
    with oar.AccountTokens(client, "id", "secret") as scoped:
        scoped.accounts()
    oar.AccountTokens(client, "id", "secret", refresh_ahead=1.5)  # type: ignore[arg-type]
    oar.AccountTokens(client, "id", "secret", refreshAhead=True)  # type: ignore[call-arg]
    oar.AccountTokens(client, "id", "secret", on_event=print, store="dir")  # type: ignore[arg-type]
    accounts.access_token(42)  # type: ignore[arg-type]
    del access, since, sick, waits, removed
    return accounts


async def many_async(accounts: oar.AccountTokens) -> str:
    token: oar.Token = await accounts.token_async("company-1")
    return await accounts.access_token_async("company-1") + token.token_type

"""`make test-dist`: type-checked with `mypy --strict` against the stubs the wheel installed;
never run. The `type: ignore` line must stay an error: strict mode reports an unused ignore,
so the check fails if the package's types are missing (everything would be Any)."""

import oauth_refresh as oar


def refresh(url: str, client_id: str, secret: str, refresh_token: str) -> tuple[str, str | None]:
    client = oar.Client(url, timeout=5.0, max_retries=1)
    try:
        token: oar.Token = client.refresh(client_id, secret, refresh_token)
    except oar.InvalidGrantError as err:
        state: str = err.refresh_token_state
        return state, None
    manager = oar.TokenManager(client, client_id, secret, refresh_token, store=oar.MemoryStore())
    access: str = manager.access_token()
    oar.Client(url, timeout="soon")  # type: ignore[arg-type]
    return access, token.refresh_token

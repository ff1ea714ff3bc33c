"""`make test-dist`: what a user does with the installed wheel, on a machine without Rust.
Refreshes against the local token server (TOKEN_SERVER_URL), fails as it should, keeps a
token fresh with a TokenManager, and checks the metadata pip installed. Prints no token."""

import asyncio
import importlib.metadata
import os
import sys

import oauth_refresh as oar

# The installed wheel, not a source tree that happens to be on sys.path.
assert oar.__file__.startswith(sys.prefix + os.sep), f"oauth_refresh imported from {oar.__file__}"

server = os.environ["TOKEN_SERVER_URL"]
seed = sys.argv[1]  # a refresh token the server accepts once
app = "dist-python"
secret = f"secret-{app}"

client = oar.Client(f"{server}/token")
token = client.refresh(app, secret, seed)
assert token.access_token and token.token_type == "Bearer", "no access token"
assert token.refresh_token_rotated and token.refresh_token not in (None, seed), "the refresh token did not rotate"
assert token.expires_at is not None and token.expires_at.tzinfo is not None, "expires_at is not an aware datetime"

again = asyncio.run(client.refresh_async(app, secret, token.refresh_token))
assert again.refresh_token_rotated and again.access_token != token.access_token, "refresh_async returned the old token"

# The first refresh token was rotated away: the server refuses it.
try:
    client.refresh(app, secret, seed)
    raise SystemExit("reusing a rotated refresh token succeeded")
except oar.InvalidGrantError as err:
    assert isinstance(err, oar.OAuthRefreshError)
    assert (err.code, err.refresh_token_state, err.retryable, err.status) == ("invalid_grant", "rejected", False, 400), \
        f"unexpected error fields: {err.code} {err.refresh_token_state} {err.retryable} {err.status}"
# A caller's mistake is refused before any I/O, as a ValueError too.
try:
    oar.Client("http://auth.example.com/token")
    raise SystemExit("plain http to a remote host was accepted")
except oar.InvalidInputError as err:
    assert isinstance(err, ValueError) and err.refresh_token_state == "unused", "invalid_input is not a ValueError"

manager = oar.TokenManager(client, app, secret, f"{seed}-manager")
first = manager.access_token()
assert manager.access_token() == first, "the manager did not serve its cached token"
manager.invalidate()
renewed = manager.access_token()
assert renewed != first, "invalidate() did not lead to a refresh"
assert manager.stats["refreshes"] == 2, f"manager stats: {manager.stats}"

# What pip shows of the package.
meta = importlib.metadata.metadata("oauth-refresh")
assert meta["Version"] == oar.__version__ == os.environ["DIST_VERSION"], f"{meta['Version']} {oar.__version__}"
assert meta["License-Expression"] == "MIT OR Apache-2.0", meta["License-Expression"]
assert "Typing :: Typed" in meta.get_all("Classifier"), "no Typing :: Typed classifier"
assert any(url.startswith("Repository, ") for url in meta.get_all("Project-URL")), "no repository URL"
assert meta.get_payload().startswith("# oauth-refresh for Python"), "the description is not the package README"
files = {str(f) for f in importlib.metadata.files("oauth-refresh") or []}
for wanted in ("oauth_refresh/py.typed", "oauth_refresh/_native.pyi"):
    assert wanted in files, f"{wanted} is not installed"
assert {f.rsplit("/", 1)[-1] for f in files if "/licenses/" in f} >= {"LICENSE-MIT", "LICENSE-APACHE"}, "license files missing"

print(f"dist: python {sys.version_info.major}.{sys.version_info.minor}: wheel {meta['Version']} refreshed twice, "
      f"reuse refused (invalid_grant), invalid input refused, manager refreshed {manager.stats['refreshes']} times")

"""The Python surface: arguments, types, tokens, requests, redaction, options."""

import datetime

import pytest

import oauth_refresh as oar

SECRET = "3aQSHRB3596nZhm6NdNBELZ1u9xbZmvCrKpBhbZYq6w"
TOKEN = "iEjL96L9Pndwmi-xVX3Q-xbrvvhnjHYGX87sopgGJ8E"


def test_refresh_with_fields_and_with_a_request(server):
    client = oar.Client(f"{server.url}/py-forms/ok/token")
    first = client.refresh("app", "secret-app", "seed-py-forms")
    request = oar.RefreshTokenRequest(client_id="app", client_secret="secret-app", refresh_token=first.refresh_token)
    second = client.refresh(request)
    assert second.refresh_token_rotated
    assert server.current_refresh_token("seed-py-forms") == second.refresh_token
    assert server.stats("py-forms")["last"]["user-agent"] == f"oauth-refresh/{oar.__version__} (python)"


def test_token_fields(server):
    client = oar.Client(f"{server.url}/py-token/extras,created-at-iso/token")
    token = client.refresh("app", "secret-app", "seed-py-token", scope="read")
    assert token.token_type == "Bearer"
    assert token.expires_in == 7200
    assert token.scope == "read"
    assert isinstance(token.created_at, int)
    assert token.extra == {"account_id": "acct-1"}
    assert token.id_token and token.id_token.startswith("idt-")
    assert token.expires_at.tzinfo == datetime.timezone.utc
    assert not token.is_expired()
    assert token.is_expired(leeway=7300)
    with pytest.raises(ValueError):
        token.is_expired(leeway=-1)


def test_from_dict_takes_the_seed_literally():
    seed = {"clientId": "qr6L", "clientSecret": SECRET, "grantType": "refresh_token", "refreshToken": TOKEN}
    request = oar.RefreshTokenRequest.from_dict(seed)
    assert (request.client_id, request.client_secret, request.refresh_token) == ("qr6L", SECRET, TOKEN)
    assert request.grant_type == "refresh_token"
    snake = oar.RefreshTokenRequest.from_dict({"client_id": "a", "client_secret": "s", "refresh_token": "t", "redirect_uri": "https://x/cb"})
    assert snake.redirect_uri == "https://x/cb"


@pytest.mark.parametrize("key", ["grantType", "grant_type"])
def test_wrong_grant_type_is_invalid_input(key):
    with pytest.raises(oar.InvalidInputError):
        oar.RefreshTokenRequest.from_dict({"clientId": "a", "clientSecret": "s", key: "system_access", "refreshToken": "t"})
    with pytest.raises(oar.InvalidInputError):
        oar.RefreshTokenRequest("a", "s", "t", grant_type="password")


def test_missing_field_names_it():
    with pytest.raises(oar.InvalidInputError, match="client_secret"):
        oar.RefreshTokenRequest.from_dict({"clientId": "a", "refreshToken": "t"})


def test_nothing_prints_a_secret(server):
    request = oar.RefreshTokenRequest("app", SECRET, TOKEN, redirect_uri="https://x/cb")
    client = oar.Client(f"{server.url}/py-redact/extras/token", headers={"X-Api-Key": SECRET})
    token = client.refresh("app", "secret-app", "seed-py-redact")
    shown = " ".join([repr(request), str(request), repr(client), repr(token), str(token)])
    for secret in [SECRET, TOKEN, token.access_token, token.refresh_token, token.id_token, "secret-app"]:
        assert secret not in shown
    assert "client_id='app'" in repr(request)
    assert "token_type='Bearer'" in repr(token) and "scope='public'" in repr(token)


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.refresh(42, "s", "t"),
        lambda c: c.refresh("a", 42, "t"),
        lambda c: c.refresh("a", "s", None),
        lambda c: c.refresh("a"),
        lambda c: c.refresh(oar.RefreshTokenRequest("a", "s", "t"), "extra"),
        lambda c: c.system_access("a", None),
        lambda c: oar.RefreshTokenRequest.from_dict({"clientId": 1}),
        lambda c: oar.RefreshTokenRequest.from_dict(["not", "a", "dict"]),
    ],
)
def test_wrong_types_raise_type_error(server, call):
    client = oar.Client(f"{server.url}/py-types/ok/token")
    with pytest.raises(TypeError):
        call(client)
    assert server.token_requests("py-types") == 0


@pytest.mark.parametrize(
    "make, name",
    [
        (lambda: oar.Client(12345678), "token_url"),
        (lambda: oar.Client("http://127.0.0.1/token", timeout="12345678"), "timeout"),
        (lambda: oar.Client("http://127.0.0.1/token", headers={"X": 12345678}), "headers"),
        (lambda: oar.Client("http://127.0.0.1/token", max_retries=1.5), "max_retries"),
        (lambda: oar.Client("http://127.0.0.1/token", proxy_from_env="12345678"), "proxy_from_env"),
        (lambda: oar.Client("http://127.0.0.1/token", ca_file=12345678), "ca_file"),
        (lambda: oar.Client.gusto("demo", gusto_api_version=12345678), "gusto_api_version"),
        (lambda: oar.FileStore("/tmp/x", encryption_key=12345678), "encryption_key"),
        (lambda: oar.RedisStore("redis://127.0.0.1:1", account="a", timeout=[12345678]), "timeout"),
    ],
)
def test_an_option_of_the_wrong_type_is_invalid_input_naming_it(make, name):
    # The core checks every option; the message names it and never shows the value.
    with pytest.raises(oar.InvalidInputError) as raised:
        make()
    assert name in str(raised.value) and "12345678" not in str(raised.value)


@pytest.mark.parametrize(
    "make, says",
    [
        (lambda: oar.Client("https://a.example/token", timeout_ms=5), '"timeout_ms": here it is "timeout" (seconds)'),
        (lambda: oar.Client("https://a.example/token", timeoutMs=5), '"timeoutMs": here it is "timeout" (seconds)'),
        (lambda: oar.Client("https://a.example/token", retries=5), 'unknown client option "retries"'),
        (lambda: oar.Client("https://a.example/token", gusto_api_version="1"), "gusto_api_version is an option of the Gusto preset"),
        (lambda: oar.Client.gusto("demo", body_encoding="json"), "the Gusto preset sets body_encoding itself"),
        (lambda: oar.Client.gusto("demo", token_url="https://a.example/token"), "the Gusto preset sets token_url itself"),
        (lambda: oar.FileStore("/tmp/x", prefix="p"), 'unknown FileStore option "prefix"'),
    ],
)
def test_an_unknown_or_misplaced_option_is_invalid_input_naming_it(make, says):
    with pytest.raises(oar.InvalidInputError) as raised:
        make()
    assert says in str(raised.value)


@pytest.mark.parametrize(
    "make",
    [
        lambda: oar.Client("http://auth.example.com/token"),
        lambda: oar.Client("not a url"),
        lambda: oar.Client("https://auth.example.com/token", body_encoding="xml"),
        lambda: oar.Client("https://auth.example.com/token", client_auth="jwt"),
        lambda: oar.Client("https://auth.example.com/token", timeout=0),
        lambda: oar.Client("https://auth.example.com/token", connect_timeout=-1),
        lambda: oar.Client("https://auth.example.com/token", headers={"Authorization": "x"}),
        lambda: oar.Client("https://auth.example.com/token", ca_file="/nonexistent.pem"),
        lambda: oar.Client.gusto("staging"),
    ],
)
def test_bad_options_are_invalid_input(make):
    with pytest.raises(oar.InvalidInputError):
        make()


def test_gusto_preset_sends_its_headers(server):
    client = oar.Client.gusto(f"{server.url}/py-gusto/ok", gusto_api_version="2025-06-15")
    token = client.refresh("app", "secret-app", "seed-py-gusto", redirect_uri="https://app/cb")
    assert token.refresh_token_rotated
    last = server.stats("py-gusto")["last"]
    assert last["x-gusto-api-version"] == "2025-06-15"
    assert last["content-type"] == "application/json"
    assert last["client_auth"] == "post"
    system = client.system_access("app", "secret-app")
    assert system.refresh_token is None

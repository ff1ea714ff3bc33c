"""Every exception class, raised by a real server behaviour, with its fields."""

import builtins

import pytest

import oauth_refresh as oar
from oauth_refresh import _error_classes, _native

CODES = {
    oar.InvalidInputError: "invalid_input",
    oar.InvalidGrantError: "invalid_grant",
    oar.InvalidClientError: "invalid_client",
    oar.InvalidRequestError: "invalid_request",
    oar.InvalidScopeError: "invalid_scope",
    oar.UnauthorizedClientError: "unauthorized_client",
    oar.UnsupportedGrantTypeError: "unsupported_grant_type",
    oar.RateLimitedError: "rate_limited",
    oar.ServerError: "server_error",
    oar.HttpStatusError: "http_status",
    oar.TimeoutError: "timeout",
    oar.ConnectionError: "connection",
    oar.TlsError: "tls",
    oar.InvalidResponseError: "invalid_response",
}

# (scope suffix, modes, client options, target, class, builtin it must also be, fields)
CASES = [
    ("grant", "ok", {}, None, oar.InvalidGrantError, None, {"status": 400, "refresh_token_state": "rejected"}),
    ("client", "fault=invalid-client", {}, None, oar.InvalidClientError, None, {"status": 401}),
    ("request", "fault=invalid-request", {}, None, oar.InvalidRequestError, None, {"error": "invalid_request"}),
    ("scope", "fault=invalid-scope", {}, None, oar.InvalidScopeError, None, {"error": "invalid_scope"}),
    ("unauth", "fault=unauthorized-client", {}, None, oar.UnauthorizedClientError, None, {"status": 400}),
    ("grant-type", "fault=unsupported-grant-type", {}, None, oar.UnsupportedGrantTypeError, None, {"status": 400}),
    ("429", "fault=429,retry-after=9", {"max_retries": 0}, None, oar.RateLimitedError, None, {"retry_after": 9.0, "retryable": True}),
    ("500", "fault=500", {}, None, oar.ServerError, None, {"status": 500, "refresh_token_state": "unknown"}),
    ("404", "fault=html-404", {}, None, oar.HttpStatusError, None, {"status": 404, "error": None}),
    ("slow", "delay=3000", {"timeout": 0.3}, None, oar.TimeoutError, builtins.TimeoutError, {"refresh_token_state": "unknown"}),
    ("connect", "ok", {"connect_timeout": 0.2, "max_retries": 0}, "blackhole", oar.TimeoutError, builtins.TimeoutError, {"refresh_token_state": "unused"}),
    ("refused", "ok", {"max_retries": 0}, "refused", oar.ConnectionError, builtins.ConnectionError, {"refresh_token_state": "unused"}),
    ("close", "fault=close", {}, None, oar.ConnectionError, builtins.ConnectionError, {"refresh_token_state": "unknown"}),
    ("tls", "ok", {"max_retries": 0}, "tls", oar.TlsError, None, {"status": None}),
    ("broken", "fault=broken-with-refresh", {}, None, oar.InvalidResponseError, None, {"status": 200}),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_exception_class_and_fields(server, case):
    name, modes, options, target, cls, builtin, fields = case
    scope = "py-errors-" + name
    base = {None: server.url, "blackhole": server.blackhole, "refused": server.refused,
            "tls": server.url.replace("http://", "https://")}[target]
    client = oar.Client(f"{base}/{scope}/{modes}/token", **options)
    refresh_token = "never-issued" if name == "grant" else f"seed-{scope}"
    with pytest.raises(cls) as info:
        client.refresh("app", "secret-app", refresh_token)
    err = info.value
    assert type(err) is cls
    assert isinstance(err, oar.OAuthRefreshError)
    if builtin is not None:
        assert isinstance(err, builtin)
    for key, value in fields.items():
        assert getattr(err, key) == value, key
    assert err.code == CODES[cls]
    assert refresh_token not in str(err) and refresh_token not in repr(err)


def test_invalid_input_is_a_value_error(server):
    client = oar.Client(f"{server.url}/py-input/ok/token")
    with pytest.raises(ValueError) as info:
        client.refresh("", "secret", "token")
    assert isinstance(info.value, oar.InvalidInputError)
    assert info.value.code == "invalid_input"
    assert info.value.refresh_token_state == "unused"
    assert server.token_requests("py-input") == 0


def test_salvaged_refresh_token_is_the_servers_current_one(server):
    client = oar.Client(f"{server.url}/py-salvage/fault=truncated/token")
    with pytest.raises(oar.InvalidResponseError) as info:
        client.refresh("app", "secret-app", "seed-py-salvage")
    assert info.value.salvaged_refresh_token == server.current_refresh_token("seed-py-salvage")
    assert info.value.salvaged_refresh_token not in str(info.value)


def test_every_core_code_has_its_class():
    codes = _native._error_codes()
    assert len(codes) == len(set(codes)) >= 18
    assert set(CODES.values()) <= set(codes)
    assert set(_error_classes._BY_CODE) == set(codes), "a class for every core code, no other"
    for code in codes:
        cls = _error_classes._BY_CODE[code]
        assert issubclass(cls, oar.OAuthRefreshError)
        if code == "internal":
            assert cls is oar.OAuthRefreshError  # a caught panic: the base class itself
        else:
            assert cls is not oar.OAuthRefreshError and cls.code == code, code
            assert getattr(oar, cls.__name__) is cls, "exported from oauth_refresh"

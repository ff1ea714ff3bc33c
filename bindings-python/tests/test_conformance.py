"""Every case of tests/conformance/cases.json, through the Python API."""

import datetime
import json

import pytest

import oauth_refresh as oar
from conftest import ROOT

CASES = json.loads((ROOT / "tests" / "conformance" / "cases.json").read_text())["cases"]


def build_client(server, case, scope):
    c = case["client"]
    base = {
        None: server.url,
        "blackhole": server.blackhole,
        "refused": server.refused,
        "tls": server.url.replace("http://", "https://"),
    }[case.get("target")]
    options = {}
    if "max_retries" in c:
        options["max_retries"] = c["max_retries"]
    if "timeout_ms" in c:
        options["timeout"] = c["timeout_ms"] / 1000
    if "connect_timeout_ms" in c:
        options["connect_timeout"] = c["connect_timeout_ms"] / 1000
    if "token_url" in c:
        return oar.Client(c["token_url"], **options)
    if c["dialect"] == "gusto":
        return oar.Client.gusto(f"{base}/{scope}/{case['modes']}", c.get("api_version"), **options)
    return oar.Client(
        f"{base}/{scope}/{case['modes']}/token",
        body_encoding=c.get("body_encoding", "form"),
        client_auth=c.get("client_auth", "basic"),
        **options,
    )


def run(client, case, request):
    if case["grant"] == "system_access":
        return client.system_access(request["client_id"], request["client_secret"])
    return client.refresh(oar.RefreshTokenRequest.from_dict(request))


def check_token(server, token, want, sent):
    assert token.token_type == want["token_type"]
    assert token.expires_in == want["expires_in"]
    assert token.scope == want["scope"]
    assert token.refresh_token_rotated is want["refresh_token_rotated"]
    assert (token.refresh_token is not None) is want["has_refresh_token"]
    assert (sent is not None and token.refresh_token == sent) is want["refresh_token_kept"]
    assert (token.id_token is not None) is want["has_id_token"]
    assert (token.created_at is not None) is want["has_created_at"]
    assert sorted(token.extra) == want["extra_keys"]
    assert token.access_token
    if want["expires_in"] is None:
        # No lifetime, or an absurd one: no expiry is known.
        assert token.expires_at is None
    else:
        now = datetime.datetime.now(datetime.timezone.utc)
        assert token.expires_at.tzinfo is not None
        assert token.expires_at <= now + datetime.timedelta(seconds=token.expires_in)
    if token.refresh_token_rotated:
        assert server.current_refresh_token(sent) == token.refresh_token


def check_error(server, err, want, secrets):
    assert isinstance(err, oar.OAuthRefreshError)
    assert err.code == want["code"]
    assert err.refresh_token_state == want["state"]
    assert err.status == want["status"]
    assert err.retryable is want["retryable"]
    assert err.error == want["error"]
    assert err.retry_after == want["retry_after_s"]
    if want["salvaged_refresh_token"]:
        assert err.refresh_token is not None
        assert server.current_refresh_token(secrets[1]) == err.refresh_token
    else:
        assert err.refresh_token is None
    shown = f"{err} {err!r} {err.args}"
    for secret in secrets:
        if secret and len(secret) >= 4:
            assert secret not in shown


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_case(server, case):
    scope = "python-" + case["name"]
    request = {k: v.replace("{scope}", scope) for k, v in case["request"].items()}
    secrets = [request.get("client_secret"), request.get("refresh_token")]
    try:
        client = build_client(server, case, scope)
        if case.get("reuse"):
            run(client, case, request)
        outcome = run(client, case, request)
    except oar.OAuthRefreshError as err:
        assert "error" in case["expect"], f"expected a token, got {err!r}"
        check_error(server, err, case["expect"]["error"], secrets)
    else:
        assert "token" in case["expect"], "expected an error, got a token"
        check_token(server, outcome, case["expect"]["token"], request.get("refresh_token"))
    if case["requests"] is not None:
        assert server.token_requests(scope) == case["requests"]
    for key, value in case.get("server_saw", {}).items():
        assert server.stats(scope)["last"][key] == value


def test_every_case_ran():
    assert len(CASES) >= 50

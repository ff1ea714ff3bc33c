"""Every case of tests/conformance/cases.json, through the Python API."""

import contextlib
import datetime
import json
import os

import pytest

import oauth_refresh as oar
from conftest import ROOT

CASES = json.loads((ROOT / "tests" / "conformance" / "cases.json").read_text())["cases"]
# Characters a log line must never receive raw: C0 controls, DEL and C1 controls.
CONTROL = {chr(c) for c in [*range(0x20), *range(0x7F, 0xA0)]}


def fill(server, text):
    """`text` with the server's placeholders ({ca_file}, {proxy}, ...) filled in."""
    for name, value in {
        "ca_file": server.ca_file,
        "other_ca_file": server.other_ca_file,
        "proxy": server.proxy,
        "auth_proxy": server.auth_proxy,
    }.items():
        text = text.replace("{" + name + "}", value)
    return text


@contextlib.contextmanager
def environment(server, case):
    """The case's environment variables, each restored (or unset) afterwards."""
    saved = {name: os.environ.get(name) for name in case.get("env", {})}
    try:
        for name, value in case.get("env", {}).items():
            os.environ[name] = fill(server, value)
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def build_client(server, case, scope):
    c = case["client"]
    base = {
        None: server.url,
        "blackhole": server.blackhole,
        "refused": server.refused,
        "tls": server.url.replace("http://", "https://"),
        "https": server.https,
        "https_wrong_host": server.https_wrong_host,
        "https_expired": server.https_expired,
        "https_proxied": f"https://tokens.test:{server.https_port}",
    }[case.get("target")]
    options = {}
    if "ca_file" in c:
        options["ca_file"] = fill(server, c["ca_file"])
    if "max_retries" in c:
        options["max_retries"] = c["max_retries"]
    if "timeout_ms" in c:
        options["timeout"] = c["timeout_ms"] / 1000
    if "connect_timeout_ms" in c:
        options["connect_timeout"] = c["connect_timeout_ms"] / 1000
    if "token_url" in c:
        return oar.Client(c["token_url"], **options)
    if c["dialect"] == "gusto":
        return oar.Client.gusto(f"{base}/{scope}/{case['modes']}", gusto_api_version=c.get("gusto_api_version"), **options)
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


class Sent:
    """The secrets a case sent. Its repr names no value, since pytest prints the arguments of
    a failing check; likewise comparisons of secrets go through a bool before `assert`."""

    def __init__(self, request):
        self.client_secret = request.get("client_secret")
        self.refresh_token = request.get("refresh_token")

    def __repr__(self) -> str:
        return "Sent(<client secret>, <refresh token>)"


def check_token(server, token, want, sent):
    assert token.token_type == want["token_type"]
    assert token.expires_in == want["expires_in"]
    assert token.scope == want["scope"]
    assert token.refresh_token_rotated is want["refresh_token_rotated"]
    assert (token.refresh_token is not None) is want["has_refresh_token"]
    kept = sent.refresh_token is not None and token.refresh_token == sent.refresh_token
    assert kept is want["refresh_token_kept"], "refresh_token_kept"
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
        current = server.current_refresh_token(sent.refresh_token) == token.refresh_token
        assert current, "the returned refresh token is the server's current one"


def check_error(server, err, want, sent):
    assert isinstance(err, oar.OAuthRefreshError)
    check_nothing_leaks(err, sent)
    assert err.code == want["code"]
    assert err.refresh_token_state == want["state"]
    assert err.status == want["status"]
    assert err.retryable is want["retryable"]
    assert err.error == want["error"]
    assert err.retry_after == want["retry_after_s"]
    if "error_description" in want:
        assert err.error_description == want["error_description"]
    if want["salvaged_refresh_token"]:
        assert err.salvaged_refresh_token is not None
        current = server.current_refresh_token(sent.refresh_token) == err.salvaged_refresh_token
        assert current, "the salvaged refresh token is the server's current one"
    else:
        assert err.salvaged_refresh_token is None, "no refresh token salvaged"


def check_nothing_leaks(err, sent):
    """No secret in the message or the server's fields, no control character in the message.
    Run before the comparisons, whose failure would print the fields; and failing through
    pytest.fail, which names the secret without the value an assert's introspection shows."""
    named = {
        "the client secret": sent.client_secret,
        "the refresh token sent": sent.refresh_token,
        "the salvaged refresh token": err.salvaged_refresh_token,
    }
    fields = {
        "the message": f"{err} {err!r} {err.args}",
        "error": err.error,
        "error_description": err.error_description,
        "error_uri": err.error_uri,
    }
    for field, text in fields.items():
        for secret, value in named.items():
            if text and value and len(value) >= 4 and value in text:
                pytest.fail(f"{field} holds {secret}")
    controls = sorted(f"U+{ord(ch):04X}" for ch in set(str(err)) & CONTROL)
    if controls:
        pytest.fail(f"the message holds control characters {controls}")


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_case(server, case):
    scope = "python-" + case["name"]
    request = {k: v.replace("{scope}", scope) for k, v in case["request"].items()}
    sent = Sent(request)
    proxied_before = server.proxy_requests()
    with environment(server, case):
        try:
            client = build_client(server, case, scope)
            if case.get("reuse"):
                run(client, case, request)
            outcome = run(client, case, request)
        except oar.OAuthRefreshError as err:
            outcome = err
    if isinstance(outcome, oar.OAuthRefreshError):
        assert "error" in case["expect"], f"expected a token, got {outcome!r}"
        check_error(server, outcome, case["expect"]["error"], sent)
    else:
        assert "token" in case["expect"], "expected an error, got a token"
        check_token(server, outcome, case["expect"]["token"], sent)
    if case["requests"] is not None:
        assert server.token_requests(scope) == case["requests"]
    for key, value in case.get("server_saw", {}).items():
        assert server.stats(scope)["last"][key] == value
    if "proxy_connects" in case:
        assert server.proxy_requests() - proxied_before == case["proxy_connects"]
    CHECKED.add(case["name"])


# The names of the cases that reached their last check (the test above adds them).
CHECKED: set = set()


def test_every_case_ran_to_its_last_check():
    # Runs last: no case skipped, none that returned early.
    names = [case["name"] for case in CASES]
    assert len(names) == len(set(names)), "case names are unique"
    assert CHECKED == set(names)

"""Hostile inputs raise OAuthRefreshError subclasses, never PanicException (a BaseException
that `except Exception` lets through); a refresh with an unknown outcome is not resent on its
own, until allow_resend()."""

import pytest

import oauth_refresh as oar

BAD_SECONDS = [float("nan"), float("inf"), float("-inf"), -1.0, 1e308, 1e22]


@pytest.mark.parametrize("value", BAD_SECONDS, ids=repr)
@pytest.mark.parametrize("option", ["timeout", "connect_timeout"])
def test_client_durations_out_of_range(server, option, value):
    with pytest.raises(oar.InvalidInputError) as info:
        oar.Client(f"{server.url}/token", **{option: value})
    assert info.value.code == "invalid_input" and option in str(info.value)
    with pytest.raises(oar.InvalidInputError):
        oar.Client.gusto(server.url, **{option: value})


@pytest.mark.parametrize("value", BAD_SECONDS, ids=repr)
def test_other_durations_out_of_range(server, value):
    client = oar.Client(f"{server.url}/token")
    with pytest.raises(oar.InvalidInputError):
        oar.TokenManager(client, "app", "secret-app", "seed-x", min_window=value)
    with pytest.raises(oar.InvalidInputError):
        oar.RedisStore("redis://127.0.0.1:1", account="a", timeout=value)


def test_zero_timeout_is_refused(server):
    with pytest.raises(oar.InvalidInputError):
        oar.Client(f"{server.url}/token", timeout=0)


def test_is_expired_with_a_huge_leeway(server):
    token = oar.Client(f"{server.url}/py-hostile-leeway/ok/token").refresh("app", "secret-app", "seed-py-hostile-leeway")
    for value in BAD_SECONDS:
        with pytest.raises(oar.InvalidInputError):
            token.is_expired(value)
    assert token.is_expired(365 * 24 * 3600)


@pytest.mark.parametrize("agent", ["a\r\nb", "a\nb", "a\x00b"], ids=["crlf", "lf", "nul"])
def test_user_agent_with_control_characters(server, agent):
    with pytest.raises(oar.InvalidInputError):
        oar.Client(f"{server.url}/token", user_agent=agent)


def test_absurd_lifetime_means_no_known_expiry(server):
    client = oar.Client(f"{server.url}/py-hostile-absurd/fault=expires-absurd/token")
    token = client.refresh("app", "secret-app", "seed-py-hostile-absurd")
    assert token.expires_in is None
    assert token.expires_at is None
    assert isinstance(token.is_expired(), bool)
    assert token.refresh_token == server.current_refresh_token("seed-py-hostile-absurd")


def test_unknown_outcome_is_not_resent_until_allowed(server):
    scope = "py-hostile-resend"
    client = oar.Client(f"{server.url}/{scope}/delay=3000/token", timeout=0.5)
    manager = oar.TokenManager(client, "app", "secret-app", f"seed-{scope}")
    with pytest.raises(oar.TimeoutError) as first:
        manager.access_token()
    assert first.value.refresh_token_state == "unknown"
    assert server.token_requests(scope) == 1
    # Fails fast with the same error, without sending the token again.
    with pytest.raises(oar.TimeoutError) as again:
        manager.access_token()
    assert again.value.code == first.value.code
    assert str(again.value).startswith("timeout: not resent")
    assert server.token_requests(scope) == 1
    manager.allow_resend()
    with pytest.raises(oar.OAuthRefreshError):
        manager.access_token()  # sent once more (and the server is still slow)
    assert server.token_requests(scope) == 2

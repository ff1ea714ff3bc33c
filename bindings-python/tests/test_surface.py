"""Python's surface against tests/conformance/surface.json: the exports, every option of every
constructor (in the typed dicts and at runtime), the error fields and the error codes."""

import json
import re
import pathlib
import typing

import pytest

import oauth_refresh as oar
from oauth_refresh import _error_classes, _native

SURFACE = json.loads((pathlib.Path(__file__).parents[2] / "tests/conformance/surface.json").read_text())


def test_exports():
    assert sorted(oar.__all__) == SURFACE["exports"]["python"]
    for name in oar.__all__:
        assert hasattr(oar, name), name


# Each constructor: the options it takes as arguments, and the typed dict of the rest.
CONSTRUCTORS = {
    "client": ({"token_url", "environment"}, [oar.ClientOptions, oar.GustoOptions]),
    "manager": ({"client_id", "client_secret", "refresh_token"}, [oar.TokenManagerOptions]),
    "accounts": ({"client_id", "client_secret"}, [oar.AccountTokensOptions]),
    "file_store": (set(), [oar.FileStoreOptions]),
    "redis_store": (set(), [oar.RedisStoreOptions]),
    "postgres_store": (set(), [oar.PostgresStoreOptions]),
}


@pytest.mark.parametrize("kind", sorted(CONSTRUCTORS))
def test_typed_dicts_list_every_option(kind):
    arguments, dicts = CONSTRUCTORS[kind]
    typed = set(arguments)
    for d in dicts:
        typed |= set(typing.get_type_hints(d))
    assert typed == set(SURFACE["options"][kind])


def probe(kind, name):
    """Builds `kind` with option `name` set to a list, a type no option takes."""
    bad = {name: [12345678]}
    if kind == "client":
        if name == "environment":
            return oar.Client.gusto([12345678])
        if name in ("gusto_api_version",):
            return oar.Client.gusto("demo", **bad)
        return oar.Client("https://a.example/token", **bad)
    if kind == "manager":
        client = oar.Client("https://a.example/token")
        base = {"client_id": "a", "client_secret": "s"}
        base.update(bad)
        return oar.TokenManager(client, base.pop("client_id"), base.pop("client_secret"), **base)
    if kind == "accounts":
        client = oar.Client("https://a.example/token")
        base = {"client_id": "a", "client_secret": "s"}
        base.update(bad)
        return oar.AccountTokens(client, base.pop("client_id"), base.pop("client_secret"), **base)
    if kind == "file_store":
        return oar.FileStore("/nonexistent/x", **bad)
    if kind == "redis_store":
        return oar.RedisStore("redis://127.0.0.1:1", account="a", **bad)
    if kind == "postgres_store":
        return oar.PostgresStore("postgres://u@127.0.0.1:1/db", account="a", **bad)
    raise AssertionError(f"no probe for {kind}: add one")


@pytest.mark.parametrize(
    "kind, name",
    [(kind, name) for kind in SURFACE["options"] for name in SURFACE["options"][kind]],
)
def test_every_option_reaches_the_core(kind, name):
    # Refused for its type, naming it, so the core knows it by this name; never "unknown".
    with pytest.raises((oar.InvalidInputError, TypeError)) as raised:
        probe(kind, name)
    message = str(raised.value)
    if isinstance(raised.value, oar.InvalidInputError):
        assert name in message and not re.search(r"unknown \w+ option", message), message
    assert "12345678" not in message


def test_error_fields_and_codes(server):
    client = oar.Client(f"{server.url}/py-surface/ok/token")
    with pytest.raises(oar.InvalidGrantError) as raised:
        client.refresh("app", "secret-app", "not-a-token")
    for field in SURFACE["error_fields"]:
        assert hasattr(raised.value, field), field
    assert raised.value.retry_after is None and raised.value.status == 400
    assert _native._error_codes() == SURFACE["error_codes"]
    assert set(_error_classes._BY_CODE) == set(SURFACE["error_codes"])


def test_headers_take_any_mapping_and_a_path_like_raises_its_own_error(server):
    import types

    scope = "py-mapping"
    headers = types.MappingProxyType({"X-Extra": "on"})
    client = oar.Client(f"{server.url}/{scope}/ok/token", headers=headers)
    client.refresh("app", "secret-app", f"seed-{scope}")
    assert server.stats(scope)["last"]["x-extra"] == "on"

    class Broken:
        def __fspath__(self):
            raise LookupError("from __fspath__")

    import os

    os.PathLike.register(Broken)
    with pytest.raises(LookupError):
        oar.Client("https://a.example/token", ca_file=Broken())
    with pytest.raises(oar.InvalidInputError):
        oar.FileStore("/tmp/a\0b")

"""The requests and httpx adapters against the token server's /v1/me endpoint."""

import asyncio

import httpx
import requests

import oauth_refresh as oar
from oauth_refresh.auth import HttpxAuth, RequestsAuth


def manager(server, scope):
    client = oar.Client(f"{server.url}/{scope}/ok/token")
    return oar.TokenManager(client, "app", "secret-app", f"seed-{scope}")


def test_requests_adds_the_bearer_and_retries_once_on_401(server):
    m = manager(server, "py-auth-req")
    session = requests.Session()
    session.auth = RequestsAuth(m)
    assert session.get(f"{server.url}/py-auth-req/ok/v1/me").status_code == 200
    # The API refuses the token once: the adapter refreshes and retries.
    response = session.get(f"{server.url}/py-auth-req2/fault=me-401/v1/me")
    assert response.status_code == 200
    assert [r.status_code for r in response.history] == [401]
    assert server.token_requests("py-auth-req") == 2
    # Refused every time: one retry, then the 401 is the caller's.
    assert session.get(f"{server.url}/py-auth-req3/fault=me-401,times=5/v1/me").status_code == 401


def test_httpx_sync_and_async(server):
    m = manager(server, "py-auth-httpx")
    with httpx.Client(auth=HttpxAuth(m)) as client:
        assert client.get(f"{server.url}/py-auth-httpx/ok/v1/me").status_code == 200
        assert client.get(f"{server.url}/py-auth-httpx2/fault=me-401/v1/me").status_code == 200
    assert server.token_requests("py-auth-httpx") == 2

    async def main():
        async with httpx.AsyncClient(auth=HttpxAuth(m)) as client:
            return (await client.get(f"{server.url}/py-auth-httpx3/fault=me-401/v1/me")).status_code

    assert asyncio.run(main()) == 200
    assert server.token_requests("py-auth-httpx") == 3

"""Auth adapters: add the manager's bearer token to every request, and on a 401 invalidate
it and retry once with a fresh one.

>>> session.auth = RequestsAuth(manager)          # requests
>>> httpx.Client(auth=HttpxAuth(manager))         # httpx, sync and async
"""

from typing import TYPE_CHECKING, Any, AsyncGenerator, Generator

if TYPE_CHECKING:
    import requests

    from ._native import TokenManager

try:  # httpx is optional; its Auth base class is what httpx recognizes.
    import httpx

    _HttpxAuthBase: Any = httpx.Auth
except ImportError:  # pragma: no cover - exercised only without httpx
    _HttpxAuthBase = object


def _bearer(token: str) -> str:
    return f"Bearer {token}"


class RequestsAuth:
    """A `requests` auth: ``session.auth = RequestsAuth(manager)``."""

    def __init__(self, manager: "TokenManager") -> None:
        self.manager = manager

    def __call__(self, request: "requests.PreparedRequest") -> "requests.PreparedRequest":
        request.headers["Authorization"] = _bearer(self.manager.access_token())
        request.register_hook("response", self._retry_once_on_401)
        return request

    def _retry_once_on_401(self, response: "requests.Response", **kwargs: Any) -> "requests.Response":
        if response.status_code != 401 or getattr(response.request, "_oauth_refresh_retried", False):
            return response
        self.manager.invalidate()
        retry = response.request.copy()
        retry.headers["Authorization"] = _bearer(self.manager.access_token())
        setattr(retry, "_oauth_refresh_retried", True)
        response.content  # read the body so the connection can be reused
        response.close()
        new = response.connection.send(retry, **kwargs)
        new.history.append(response)
        new.request = retry
        return new


class HttpxAuth(_HttpxAuthBase):
    """An `httpx` auth for `Client` and `AsyncClient`: ``httpx.Client(auth=HttpxAuth(manager))``."""

    requires_request_body = False
    requires_response_body = False

    def __init__(self, manager: "TokenManager") -> None:
        self.manager = manager

    def sync_auth_flow(self, request: "httpx.Request") -> Generator["httpx.Request", "httpx.Response", None]:
        request.headers["Authorization"] = _bearer(self.manager.access_token())
        response = yield request
        if response.status_code == 401:
            self.manager.invalidate()
            request.headers["Authorization"] = _bearer(self.manager.access_token())
            yield request

    async def async_auth_flow(self, request: "httpx.Request") -> AsyncGenerator["httpx.Request", "httpx.Response"]:
        request.headers["Authorization"] = _bearer(await self.manager.access_token_async())
        response = yield request
        if response.status_code == 401:
            self.manager.invalidate()
            request.headers["Authorization"] = _bearer(await self.manager.access_token_async())
            yield request

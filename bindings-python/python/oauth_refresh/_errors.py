"""The exception hierarchy. Every failure is an ``OAuthRefreshError``; each code has its own
subclass, and some also inherit the builtin of the same meaning.

``str()`` and ``repr()`` never contain a secret. ``refresh_token_state`` says what the failure
means for the refresh token that was sent: ``"unused"`` (safe to retry with it), ``"rejected"``
(authorize again) or ``"unknown"`` (it may have been consumed). On ``InvalidResponseError``,
``salvaged_refresh_token`` holds a new refresh token found in the broken response: store it. On
``StoreFailedError`` after a refresh, ``token`` holds the new token the store could not keep.
"""

import builtins
from typing import TYPE_CHECKING, Optional

if TYPE_CHECKING:
    from ._native import Token


class OAuthRefreshError(Exception):
    """Base class of every oauth_refresh error.

    Raised as itself, with ``code`` ``"internal"``, for a bug in the library caught before it
    could crash (a panic); ``refresh_token_state`` is then ``"unknown"``."""

    code: str = "unknown"
    refresh_token_state: str = "unknown"
    retryable: bool = False
    status: Optional[int] = None
    error: Optional[str] = None
    error_description: Optional[str] = None
    error_uri: Optional[str] = None
    retry_after: Optional[float] = None
    salvaged_refresh_token: Optional[str] = None
    token: "Optional[Token]" = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, refresh_token_state={self.refresh_token_state!r}, status={self.status!r})"


class InvalidInputError(OAuthRefreshError, ValueError):
    """The input was refused before any I/O."""

    code = "invalid_input"


class InvalidGrantError(OAuthRefreshError):
    """The server refused the refresh token: authorize again."""

    code = "invalid_grant"


class InvalidClientError(OAuthRefreshError):
    """The server refused the client credentials."""

    code = "invalid_client"


class InvalidRequestError(OAuthRefreshError):
    """The server says the request is malformed."""

    code = "invalid_request"


class InvalidScopeError(OAuthRefreshError):
    """The server refused the requested scope."""

    code = "invalid_scope"


class UnauthorizedClientError(OAuthRefreshError):
    """The client may not use this grant."""

    code = "unauthorized_client"


class UnsupportedGrantTypeError(OAuthRefreshError):
    """The server does not support this grant type."""

    code = "unsupported_grant_type"


class RateLimitedError(OAuthRefreshError):
    """HTTP 429; ``retry_after`` says how long to wait."""

    code = "rate_limited"


class ServerError(OAuthRefreshError):
    """HTTP 5xx, ``server_error`` or ``temporarily_unavailable``."""

    code = "server_error"


class HttpStatusError(OAuthRefreshError):
    """Another non-2xx answer without an OAuth error body."""

    code = "http_status"


class TimeoutError(OAuthRefreshError, builtins.TimeoutError):
    """A connect timeout (token unused) or no answer after sending (token unknown)."""

    code = "timeout"


class ConnectionError(OAuthRefreshError, builtins.ConnectionError):
    """The connection was refused, not resolved, or reset."""

    code = "connection"


class TlsError(OAuthRefreshError):
    """The TLS handshake or certificate check failed."""

    code = "tls"


class InvalidResponseError(OAuthRefreshError):
    """A 2xx answer that is not a valid token."""

    code = "invalid_response"


class StoreFailedError(OAuthRefreshError):
    """A token store could not be read or written."""

    code = "store_failed"


class StoreUnavailableError(OAuthRefreshError, builtins.ConnectionError):
    """The store (Redis) could not be reached when a refresh had to be coordinated.

    Nothing was sent: the refresh token is unchanged. A still-valid token is served instead
    of this error; it is raised only once the token has expired."""

    code = "store_unavailable"


class StoreDecryptError(OAuthRefreshError):
    """A stored token could not be decrypted: wrong key, or a key for a plain store (or none
    for an encrypted one)."""

    code = "store_decrypt"

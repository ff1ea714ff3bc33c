"""Refresh OAuth 2.0 tokens (RFC 6749 §6 and Gusto's rotating tokens) safely and fast.

>>> import oauth_refresh as oar
>>> client = oar.Client("https://auth.example.com/token")
>>> token = client.refresh(client_id, client_secret, refresh_token)  # doctest: +SKIP
"""

from ._error_classes import (
    ConnectionError,
    HttpStatusError,
    InvalidClientError,
    InvalidGrantError,
    InvalidInputError,
    InvalidRequestError,
    InvalidResponseError,
    InvalidScopeError,
    RateLimitedError,
    ServerError,
    StoreDecryptError,
    StoreFailedError,
    StoreUnavailableError,
    TimeoutError,
    TlsError,
    UnauthorizedClientError,
    UnsupportedGrantTypeError,
)
from ._errors import OAuthRefreshError
from ._options import (
    AccountTokensOptions,
    ClientOptions,
    FileStoreOptions,
    GustoOptions,
    RedisStoreOptions,
    TokenManagerOptions,
)
from ._native import (
    AccountEvent,
    AccountTokens,
    Client,
    FileStore,
    Health,
    MemoryStore,
    RedisStore,
    RefreshTokenRequest,
    Token,
    TokenManager,
    __version__,
)

__all__ = [
    "AccountEvent",
    "AccountTokens",
    "AccountTokensOptions",
    "Client",
    "ClientOptions",
    "FileStoreOptions",
    "GustoOptions",
    "RedisStoreOptions",
    "TokenManagerOptions",
    "FileStore",
    "ConnectionError",
    "Health",
    "HttpStatusError",
    "InvalidClientError",
    "InvalidGrantError",
    "InvalidInputError",
    "InvalidRequestError",
    "InvalidResponseError",
    "InvalidScopeError",
    "MemoryStore",
    "OAuthRefreshError",
    "RateLimitedError",
    "RedisStore",
    "RefreshTokenRequest",
    "ServerError",
    "StoreDecryptError",
    "StoreFailedError",
    "StoreUnavailableError",
    "TimeoutError",
    "TlsError",
    "Token",
    "TokenManager",
    "UnauthorizedClientError",
    "UnsupportedGrantTypeError",
    "__version__",
]

from datetime import datetime
from os import PathLike
from typing import Any, Callable, Coroutine, Mapping, Optional, Union, final, overload

__all__ = ["Client", "FileStore", "MemoryStore", "RedisStore", "RefreshTokenRequest", "Token", "TokenManager", "__version__", "_error_codes"]

__version__: str

def _error_codes() -> list[tuple[str, str]]:
    """Every core error code with the name of the ``_errors`` class it raises (for tests)."""
    ...

@final
class RefreshTokenRequest:
    """A refresh-token grant request. ``repr()`` never shows the secret or the token."""

    def __new__(
        cls,
        client_id: str,
        client_secret: str,
        refresh_token: str,
        redirect_uri: Optional[str] = None,
        scope: Optional[str] = None,
        grant_type: str = "refresh_token",
        extra: Optional[Mapping[str, str]] = None,
    ) -> RefreshTokenRequest: ...
    @staticmethod
    def from_dict(data: dict[str, str]) -> RefreshTokenRequest: ...
    @property
    def client_id(self) -> str: ...
    @property
    def client_secret(self) -> str: ...
    @property
    def grant_type(self) -> str: ...
    @property
    def refresh_token(self) -> str: ...
    @property
    def redirect_uri(self) -> Optional[str]: ...
    @property
    def scope(self) -> Optional[str]: ...
    @property
    def extra(self) -> dict[str, str]: ...

@final
class Token:
    """A token response. ``repr()`` shows no secret."""

    @property
    def access_token(self) -> str: ...
    @property
    def token_type(self) -> str: ...
    @property
    def expires_in(self) -> Optional[int]: ...
    @property
    def expires_at(self) -> Optional[datetime]: ...
    @property
    def refresh_token(self) -> Optional[str]: ...
    @property
    def refresh_token_rotated(self) -> bool: ...
    @property
    def scope(self) -> Optional[str]: ...
    @property
    def created_at(self) -> Optional[int]: ...
    @property
    def id_token(self) -> Optional[str]: ...
    @property
    def extra(self) -> dict[str, Any]: ...
    def is_expired(self, leeway: float = 0.0) -> bool: ...

@final
class Client:
    """Refreshes tokens at one token endpoint. Thread-safe; keeps connections alive."""

    def __new__(
        cls,
        token_url: str,
        *,
        body_encoding: str = "form",
        client_auth: str = "basic",
        timeout: float = 30.0,
        connect_timeout: float = 10.0,
        max_retries: int = 2,
        headers: Optional[Mapping[str, str]] = None,
        allow_insecure_http: bool = False,
        ca_file: Union[str, PathLike[str], None] = None,
        user_agent: Optional[str] = None,
    ) -> Client: ...
    @staticmethod
    def gusto(
        environment: str = "demo",
        api_version: Optional[str] = None,
        *,
        timeout: float = 30.0,
        connect_timeout: float = 10.0,
        max_retries: int = 2,
        headers: Optional[Mapping[str, str]] = None,
        allow_insecure_http: bool = False,
        ca_file: Union[str, PathLike[str], None] = None,
        user_agent: Optional[str] = None,
    ) -> Client: ...
    @overload
    def refresh(self, request_or_client_id: RefreshTokenRequest) -> Token: ...
    @overload
    def refresh(
        self,
        request_or_client_id: str,
        client_secret: str,
        refresh_token: str,
        *,
        redirect_uri: Optional[str] = None,
        scope: Optional[str] = None,
    ) -> Token: ...
    @overload
    def refresh_async(self, request_or_client_id: RefreshTokenRequest) -> Coroutine[Any, Any, Token]: ...
    @overload
    def refresh_async(
        self,
        request_or_client_id: str,
        client_secret: str,
        refresh_token: str,
        *,
        redirect_uri: Optional[str] = None,
        scope: Optional[str] = None,
    ) -> Coroutine[Any, Any, Token]:
        """``refresh`` on a worker thread. Cancelled before the exchange started: nothing is
        sent, ``CancelledError``. Cancelled after: the exchange is awaited anyway and its token
        returned (or its error raised), so a rotated refresh token is never lost."""
        ...
    def system_access(self, client_id: str, client_secret: str) -> Token: ...
    def system_access_async(self, client_id: str, client_secret: str) -> Coroutine[Any, Any, Token]: ...

@final
class MemoryStore:
    """Keeps the token in this process only."""

    def __new__(cls) -> MemoryStore: ...

@final
class FileStore:
    """Keeps the token in a JSON file (mode 0600) shared by the processes of one host.

    With ``encryption_key`` (32 bytes, or 64 hex digits / base64 text) the file holds the
    token sealed with XChaCha20-Poly1305."""

    def __new__(
        cls, path: Union[str, PathLike[str]], *, encryption_key: Union[bytes, str, None] = None
    ) -> FileStore: ...

@final
class RedisStore:
    """Keeps the token in Redis, shared by the processes of many hosts.

    Keys are ``<prefix>:{<account>}:token`` and ``<prefix>:{<account>}:lease``: the braces
    are literal (the account is the keys' Redis Cluster hash tag) and the account is
    percent-encoded for ``%``, ``{``, ``}``, space and bytes outside printable ASCII; a
    ``prefix`` containing ``{`` or ``}`` is refused. Nothing connects until first use.
    ``timeout`` bounds connecting and each answer, in seconds."""

    def __new__(
        cls,
        url: str,
        *,
        account: str,
        prefix: str = "oauth-refresh",
        encryption_key: Union[bytes, str, None] = None,
        timeout: float = 2.0,
    ) -> RedisStore: ...

@final
class TokenManager:
    """Serves a valid access token for one account, refreshing it once when needed."""

    def __new__(
        cls,
        client: Client,
        client_id: str,
        client_secret: str,
        refresh_token: Optional[str] = None,
        *,
        store: Union[MemoryStore, FileStore, RedisStore, None] = None,
        on_refresh: Optional[Callable[[Token], object]] = None,
        scope: Optional[str] = None,
        redirect_uri: Optional[str] = None,
        min_window: float = 30.0,
        refresh_without_store: bool = False,
    ) -> TokenManager: ...
    def access_token(self) -> str: ...
    def token(self) -> Token: ...
    def access_token_async(self) -> Coroutine[Any, Any, str]:
        """Resolves to the access token, as ``access_token()`` returns it. Cancellation as
        for ``Client.refresh_async``."""
        ...
    def token_async(self) -> Coroutine[Any, Any, Token]:
        """Resolves to the current `Token`, as ``token()`` returns it."""
        ...
    def invalidate(self) -> None: ...
    def allow_resend(self) -> None:
        """After a refresh whose outcome was unknown, calls fail at once with that error
        (message "not resent ...") instead of sending the refresh token again, unless the
        client's policy forgives (Gusto). This lets the next call send it once more."""
        ...
    @property
    def stats(self) -> dict[str, int]: ...

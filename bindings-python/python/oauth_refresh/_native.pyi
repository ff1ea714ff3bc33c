from datetime import datetime
from os import PathLike
from types import TracebackType
from typing import Any, Callable, Coroutine, Literal, Mapping, Optional, Union, final, overload

from typing_extensions import Unpack

from ._options import AccountTokensOptions, ClientOptions, FileStoreOptions, GustoOptions, PostgresStoreOptions, RedisStoreOptions, TokenManagerOptions

__all__ = ["_Mailbox", "AccountEvent", "AccountTokens", "Client", "FileStore", "Health", "MemoryStore", "PostgresStore", "RedisStore", "RefreshTokenRequest", "Token", "TokenManager", "__version__", "_error_codes"]

__version__: str

def _error_codes() -> list[str]:
    """Every core error code (for the test that each has its class)."""
    ...

@final
class _Mailbox:
    """Where an event loop's finished jobs wait (``_asyncio`` watches ``fileno()``)."""

    def __new__(cls) -> "_Mailbox": ...
    def fileno(self) -> int: ...
    def deliver(self, deliver: Callable[[Any, bool, Any], None]) -> None: ...

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
    ) -> RefreshTokenRequest:
        """``extra`` parameters are sent as they are (a PKCE ``code_verifier``, say) and
        treated as secrets: redacted from errors, never shown."""
        ...
    @staticmethod
    def from_dict(data: dict[str, str]) -> RefreshTokenRequest:
        """From the seed's camelCase (``clientId``...) or snake_case keys; unknown string keys
        become extra parameters."""
        ...
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
    def access_token(self) -> str:
        """The access token. Use it; never log it."""
        ...
    @property
    def token_type(self) -> str:
        """``"Bearer"`` (normalised from any case), or what the server sent."""
        ...
    @property
    def expires_in(self) -> Optional[int]:
        """Seconds the access token lives, as the server said; ``None`` when not known."""
        ...
    @property
    def expires_at(self) -> Optional[datetime]:
        """When the access token expires (UTC): when the request was sent plus ``expires_in``."""
        ...
    @property
    def refresh_token(self) -> Optional[str]:
        """The refresh token to use next time: the new one, or the one sent when the server did not rotate."""
        ...
    @property
    def refresh_token_rotated(self) -> bool:
        """True when the server issued a new refresh token: store it before using the access token."""
        ...
    @property
    def scope(self) -> Optional[str]:
        """The granted scope, if the server said."""
        ...
    @property
    def created_at(self) -> Optional[int]:
        """The server's ``created_at`` (Unix seconds), if it sent one."""
        ...
    @property
    def id_token(self) -> Optional[str]:
        """The OpenID Connect ID token, if any."""
        ...
    @property
    def extra(self) -> dict[str, Any]:
        """Every other field of the answer."""
        ...
    def is_expired(self, leeway: float = 0.0) -> bool:
        """True when the access token expires within ``leeway`` seconds from now; False when
        no expiry is known."""
        ...

@final
class Client:
    """Refreshes tokens at one token endpoint. Thread-safe; keeps connections alive."""

    def __new__(cls, token_url: str, **options: Unpack[ClientOptions]) -> Client:
        """A client for an RFC 6749 token endpoint; every option is a keyword argument
        (``ClientOptions`` lists them). ``https://`` is required except to loopback
        (``allow_insecure_http`` opts out); proxies come from ``https_proxy`` / ``no_proxy``.
        A bad option is ``InvalidInputError`` naming it."""
        ...
    @staticmethod
    def gusto(environment: Optional[str] = None, **options: Unpack[GustoOptions]) -> Client:
        """The Gusto preset: ``environment`` is ``"demo"`` (``None``, the default), ``"production"`` or a base URL;
        JSON body, credentials in the body, ``X-Gusto-API-Version: gusto_api_version`` when
        given, unknown outcomes retried (Gusto revokes lazily)."""
        ...
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
    def system_access(self, client_id: str, client_secret: str) -> Token:
        """Gusto's ``system_access`` grant: an application token, with no refresh token."""
        ...
    def system_access_async(self, client_id: str, client_secret: str) -> Coroutine[Any, Any, Token]:
        """``system_access`` on a worker thread; cancellation as for ``refresh_async``."""
        ...

@final
class MemoryStore:
    """Keeps the token in this process only."""

    def __new__(cls) -> MemoryStore: ...

@final
class FileStore:
    """Keeps the token in a JSON file (mode 0600) shared by the processes of one host.

    With ``encryption_key`` (32 bytes, or 64 hex digits) the file holds the
    token sealed with XChaCha20-Poly1305."""

    def __new__(cls, path: Union[str, PathLike[str]], **options: Unpack[FileStoreOptions]) -> FileStore: ...

@final
class RedisStore:
    """Keeps tokens in Redis, shared by the processes of many hosts: one account's (for a
    ``TokenManager``), or with ``account=None`` every account's over one connection (for
    ``AccountTokens``; a ``TokenManager`` refuses it at first use, as ``AccountTokens`` refuses
    a store of one account).

    Keys are ``<prefix>:{<account>}:token`` and ``<prefix>:{<account>}:lease``: the braces
    are literal (the account is the keys' Redis Cluster hash tag) and the account is
    percent-encoded for ``%``, ``{``, ``}``, space and bytes outside printable ASCII; a
    ``prefix`` containing ``{`` or ``}`` is refused. Nothing connects until first use.
    ``timeout`` bounds connecting and each answer, in seconds."""

    def __new__(cls, url: str, account: Optional[str] = None, **options: Unpack[RedisStoreOptions]) -> RedisStore: ...

@final
class PostgresStore:
    """Keeps tokens in PostgreSQL, where the service keeps its data, durably: one account's
    (for a ``TokenManager``), or with ``account=None`` every account's through one pool of
    connections (for ``AccountTokens``; each refuses the other kind, as for ``RedisStore``).

    ``url`` is ``postgres://user:password@host:port/database`` (or the ``key=value`` form);
    it is never shown in an error or ``repr``. One row per account in ``table`` (default
    ``oauth_refresh_tokens``), created on first use unless ``create_table=False``. A write
    returns once it is durable. Nothing connects until first use; ``timeout`` bounds
    connecting, waiting for a free connection and each statement, in seconds."""

    def __new__(cls, url: str, account: Optional[str] = None, **options: Unpack[PostgresStoreOptions]) -> PostgresStore: ...

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
        store: Union[MemoryStore, FileStore, RedisStore, PostgresStore, None] = None,
        on_refresh: Optional[Callable[[Token], object]] = None,
        **options: Unpack[TokenManagerOptions],
    ) -> TokenManager:
        """``refresh_token`` seeds an empty store. ``on_refresh`` is called with every new
        token, after it was stored or when storing it failed (a token is never silently
        dropped). The timing options (``min_window``, ``refresh_fraction``, ``lease_ttl``...;
        ``TokenManagerOptions`` lists them) are keyword arguments, durations in seconds."""
        ...
    def access_token(self) -> str:
        """A valid access token, refreshing first (once, for every caller) when needed."""
        ...
    def token(self) -> Token:
        """The current token, refreshing first when needed."""
        ...
    def access_token_async(self) -> Coroutine[Any, Any, str]:
        """Resolves to the access token, as ``access_token()`` returns it. Cancellation as
        for ``Client.refresh_async``."""
        ...
    def token_async(self) -> Coroutine[Any, Any, Token]:
        """Resolves to the current `Token`, as ``token()`` returns it."""
        ...
    def invalidate(self) -> None:
        """Marks the token stale (say, after the API answered 401): the next call refreshes."""
        ...
    def allow_resend(self) -> None:
        """After a refresh whose outcome was unknown, calls fail at once with that error
        (message "not resent ...") instead of sending the refresh token again, unless the
        client's policy forgives (Gusto). This lets the next call send it once more."""
        ...
    @property
    def stats(self) -> dict[str, int]:
        """Counters: ``refreshes``, ``adoptions`` (a token another process stored), ``failures``."""
        ...

@final
class Health:
    """How an account's grant is doing in this process. Never holds a secret."""

    @property
    def status(self) -> Literal["ok", "failing", "needs_reauthorization"]:
        """``"failing"``: the last refresh failed in a way that may pass (refreshing goes on);
        ``"needs_reauthorization"``: the server refused the grant (``invalid_grant``) and no
        other process had a newer one: a person must authorize again."""
        ...
    @property
    def code(self) -> Optional[str]:
        """The last failure's error code; ``None`` when ``"ok"``."""
        ...
    @property
    def refresh_token_state(self) -> Optional[Literal["unused", "rejected", "unknown"]]:
        """The last failure's refresh-token state; ``None`` when ``"ok"``."""
        ...
    @property
    def since(self) -> Optional[float]:
        """When it stopped being ``"ok"``, in Unix seconds; ``None`` when ``"ok"``."""
        ...
    @property
    def attempts(self) -> int:
        """Failed refreshes since then."""
        ...

@final
class AccountEvent:
    """What happened to an account, as ``on_event`` receives it. Never holds a secret."""

    @property
    def kind(self) -> Literal["refreshed", "failed", "needs_reauthorization", "recovered"]:
        """``"needs_reauthorization"`` is reported once per refused grant; ``"recovered"``
        when a failing grant works again."""
        ...
    @property
    def account(self) -> str: ...
    @property
    def code(self) -> Optional[str]:
        """The failure's error code (``"failed"``, ``"needs_reauthorization"``)."""
        ...
    @property
    def refresh_token_state(self) -> Optional[Literal["unused", "rejected", "unknown"]]:
        """The failure's refresh-token state (``"failed"``, ``"needs_reauthorization"``)."""
        ...
    @property
    def attempts(self) -> int:
        """The account's failed refreshes in a row (``"failed"``, ``"needs_reauthorization"``)."""
        ...

@final
class AccountTokens:
    """Valid access tokens for many accounts of one token endpoint and one client, kept in one
    store. Each account has a ``TokenManager``'s guarantees; a cached token is served without
    a lock; accounts load lazily from the store and at most ``max_cached_accounts`` stay in
    memory; ``refresh_ahead=True`` refreshes them on background threads before callers find
    them due. A context manager: leaving it calls ``close()``."""

    def __new__(
        cls,
        client: Client,
        client_id: str,
        client_secret: str,
        *,
        store: Union[MemoryStore, FileStore, RedisStore, PostgresStore, None] = None,
        on_event: Optional[Callable[[AccountEvent], object]] = None,
        **options: Unpack[AccountTokensOptions],
    ) -> AccountTokens:
        """``store``: a ``MemoryStore`` (the default) for one process, a ``FileStore`` over a
        directory (one file per account) for one host, a ``RedisStore(url)`` or a
        ``PostgresStore(url)`` without an account for many hosts. ``on_event`` is called with
        every ``AccountEvent``, on the thread that saw it (a caller's or a refresh-ahead
        thread): keep it short; what it raises is reported through ``sys.unraisablehook`` and
        never breaks a refresh. The options (``AccountTokensOptions``) are keyword arguments,
        durations in seconds."""
        ...
    def access_token(self, account: str) -> str:
        """A valid access token for ``account``, refreshing first (once, for every caller)
        when needed. An account id is 1 to 256 bytes without NUL (else ``InvalidInputError``)."""
        ...
    def token(self, account: str) -> Token:
        """``account``'s current token, refreshing first when needed."""
        ...
    def access_token_async(self, account: str) -> Coroutine[Any, Any, str]:
        """Resolves to the access token, as ``access_token()`` returns it. Cancellation as
        for ``Client.refresh_async``."""
        ...
    def token_async(self, account: str) -> Coroutine[Any, Any, Token]:
        """Resolves to ``account``'s current ``Token``."""
        ...
    def invalidate(self, account: str) -> None:
        """Marks ``account``'s token stale (say, after the API answered 401): its next call refreshes."""
        ...
    def allow_resend(self, account: str) -> None:
        """After a refresh of ``account`` whose outcome was unknown, lets the next call send
        its refresh token once more (see ``TokenManager.allow_resend``)."""
        ...
    def add(self, account: str, refresh_token: Union[str, Token]) -> None:
        """Stores a new grant for ``account`` (a refresh token, or a ``Token`` whose access
        token is used until due), replacing what was stored; a grant that needed
        reauthorization works again."""
        ...
    def remove(self, account: str) -> bool:
        """Deletes ``account``'s grant from the store and from memory; whether there was one."""
        ...
    def accounts(self) -> list[str]:
        """Every account the store holds a grant for, sorted."""
        ...
    def health(self, account: str) -> Health:
        """How ``account``'s grant is doing in this process."""
        ...
    def unhealthy(self) -> list[tuple[str, Health]]:
        """Every account whose grant is not ``"ok"``, sorted by account."""
        ...
    @property
    def stats(self) -> dict[str, int]:
        """Counters: ``cached`` (accounts in memory), ``refreshes``, ``refreshed_ahead``,
        ``adoptions``, ``failures``, ``waits`` (calls that waited on a refresh: 0 while
        refresh-ahead keeps up), ``evictions``."""
        ...
    def close(self) -> None:
        """Stops refresh-ahead: waits for the calls and refreshes in flight, then joins its
        threads. Later calls raise ``InvalidInputError``. Calling it again does nothing; it
        also runs at interpreter exit."""
        ...
    def __enter__(self) -> AccountTokens: ...
    def __exit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc_value: Optional[BaseException],
        traceback: Optional[TracebackType],
    ) -> bool: ...

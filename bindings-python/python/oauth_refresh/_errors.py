"""The exception hierarchy. Every failure is an ``OAuthRefreshError``; each code has its own
subclass (in ``_error_classes``, generated from the core's codes), and some also inherit the
builtin of the same meaning.

``str()`` and ``repr()`` never contain a secret. ``refresh_token_state`` says what the failure
means for the refresh token that was sent: ``"unused"`` (safe to retry with it), ``"rejected"``
(authorize again) or ``"unknown"`` (it may have been consumed). On ``InvalidResponseError``,
``salvaged_refresh_token`` holds a new refresh token found in the broken response: store it. On
``StoreFailedError`` after a refresh, ``token`` holds the new token the store could not keep.
"""

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


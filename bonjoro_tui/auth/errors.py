"""Sign-in errors. Every message is fit for the user; ``hint`` says what to do next."""

from __future__ import annotations

from bonjoro_tui.errors import BonjoroError
from bonjoro_tui.safetext import safe_text


def clean_text(value: str, limit: int = 200) -> str:
    """Server-supplied text for a message: bounded, every control character shown as an escape
    (``\\x1b``) rather than dropped, so the reader sees that something was there."""
    return safe_text(value, limit=limit + 1)


class AuthError(BonjoroError):
    """Base of every error of the auth package: ``str(exc)`` is a one-line message with no
    secret in it, ``hint`` a suggestion for what to do next (may be empty)."""


class LoginError(AuthError):
    """A sign-in did not complete."""


class ApiKeyRejected(LoginError):
    """The API rejected the key (401/403) when it was checked before saving."""

    hint = "check the key; your previous sign-in is unchanged"


class CallbackServerError(LoginError):
    """The loopback server could not start (port in use, cannot bind)."""

    hint = "free that port, configure another one, or leave it unset to use any free port"


class AuthorizationDenied(LoginError):
    """The authorization server redirected back with ``error=…`` (e.g. access_denied)."""

    hint = "start the sign-in again and approve the request"

    def __init__(self, error: str, description: str | None = None) -> None:
        self.error = error
        self.description = description
        text = f"the sign-in was not approved ({error})"
        if description:
            text += f": {description}"
        super().__init__(text)


class StateMismatch(LoginError):
    hint = "the redirect did not come from this sign-in; start it again from this app"


class IssuerMismatch(LoginError):
    hint = "the redirect names a different authorization server; check the configured endpoints"


class MissingCode(LoginError):
    hint = "the authorization server redirected back without a code; start the sign-in again"


class InvalidCallback(LoginError):
    hint = "paste the full URL the browser was redirected to (it starts with the redirect URI)"


class CallbackTimeout(LoginError):
    hint = "start the sign-in again, or paste the redirect URL if the browser cannot reach this machine"


class LoginCancelled(LoginError):
    hint = "the sign-in was cancelled"


class OAuthError(AuthError):
    """An RFC 6749 §5.2 error response."""

    def __init__(self, error: str, description: str | None = None, status: int | None = None) -> None:
        self.error = error
        self.description = description
        self.status = status
        text = f"the authorization server refused the request: {error}"
        if description:
            text += f" ({description})"
        if status is not None:
            text += f" [HTTP {status}]"
        super().__init__(text, hint=_OAUTH_HINTS.get(error, ""))


class InvalidGrant(OAuthError):
    """The code or refresh token was refused: sign in again."""


class TokenEndpointError(AuthError):
    """The token endpoint gave no usable answer (network, timeout, 5xx, HTML, malformed)."""

    def __init__(
        self, message: str, *, status: int | None = None, retry_after: str | None = None, hint: str | None = None
    ) -> None:
        self.status = status
        self.retry_after = retry_after
        super().__init__(message, hint=hint)


_OAUTH_HINTS = {
    "invalid_grant": "sign in again",
    "invalid_client": "check BONJORO_CLIENT_ID and BONJORO_CLIENT_SECRET",
    "unauthorized_client": "this client may not use this grant type; check the client's settings",
    "unsupported_grant_type": "the server does not support this sign-in method",
    "invalid_scope": "check BONJORO_SCOPE",
}


class DiscoveryError(AuthError):
    """The issuer's metadata (RFC 8414 / OpenID Connect discovery) could not be read or used."""

    hint = (
        "check BONJORO_ISSUER (it must be the server's issuer identifier exactly, trailing slash "
        "included), or set the endpoints yourself (BONJORO_AUTHORIZE_URL, BONJORO_TOKEN_URL, …)"
    )


class MetadataNotFound(DiscoveryError):
    """No metadata document at either well-known location (or the server could not be reached)."""

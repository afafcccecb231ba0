"""The token set a sign-in yields, and what it knows about its own expiry."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any, Mapping

from bonjoro_tui.errors import BonjoroError

#: Refresh this long before expiry (capped by the token's lifetime, see ``effective_leeway``).
DEFAULT_LEEWAY = 60.0
#: Lifetimes above this (about 100 years) are treated as a malformed response.
MAX_LIFETIME = 100 * 365 * 24 * 3600


class TokenResponseError(BonjoroError, ValueError):
    """A token endpoint answered 2xx with a body that is not a usable token response."""


@dataclass(frozen=True)
class TokenSet:
    """Access token, optional refresh token, and timing.

    Times are epoch seconds. ``obtained_at`` is when the token *request was sent*, so
    ``expires_at = obtained_at + expires_in`` errs on the early side. ``expires_at`` is
    ``None`` for credentials that do not expire (an API key).
    """

    access_token: str
    obtained_at: float
    token_type: str = "Bearer"
    refresh_token: str | None = None
    scope: str | None = None
    expires_at: float | None = None

    @property
    def lifetime(self) -> float | None:
        if self.expires_at is None:
            return None
        return max(0.0, self.expires_at - self.obtained_at)

    def expires_in(self, now: float) -> float | None:
        """Seconds left (negative once expired), or None if it never expires."""
        if self.expires_at is None:
            return None
        return self.expires_at - now

    def __repr__(self) -> str:
        # Tracebacks, pytest diffs and debug prints must never carry a token in full.
        from bonjoro_tui.redact import mask

        return (
            f"TokenSet(access_token={mask(self.access_token)!r}, refresh_token="
            f"{mask(self.refresh_token) if self.refresh_token else None!r}, token_type={self.token_type!r}, "
            f"scope={self.scope!r}, obtained_at={self.obtained_at!r}, expires_at={self.expires_at!r})"
        )

    def effective_leeway(self, leeway: float = DEFAULT_LEEWAY) -> float:
        """The leeway, capped at half the lifetime so a short-lived token is still used."""
        lifetime = self.lifetime
        if lifetime is None:
            return 0.0
        return min(leeway, lifetime / 2)

    def needs_refresh(self, now: float, leeway: float = DEFAULT_LEEWAY) -> bool:
        """True when the token is expired or will be within the (capped) leeway.

        A clock that jumped backwards before ``obtained_at`` is treated as suspicious
        and also answers True, so the token is refreshed rather than trusted for longer
        than it was issued for.
        """
        if self.expires_at is None:
            return False
        if now < self.obtained_at - 5:
            return True
        return now >= self.expires_at - self.effective_leeway(leeway)

    def fraction_left(self, now: float) -> float | None:
        """Share of the lifetime left, 0.0–1.0 (for the countdown bar)."""
        lifetime = self.lifetime
        if lifetime is None:
            return None
        if lifetime <= 0:
            return 0.0
        return min(1.0, max(0.0, (self.expires_at - now) / lifetime))  # type: ignore[operator]

    def with_refresh_fallback(self, previous: "TokenSet") -> "TokenSet":
        """A refresh response may omit ``refresh_token``: keep the previous one then."""
        if self.refresh_token is None and previous.refresh_token is not None:
            return replace(self, refresh_token=previous.refresh_token)
        return self

    @classmethod
    def from_response(cls, data: Any, sent_at: float) -> "TokenSet":
        """Validate a token endpoint's JSON body (RFC 6749 §5.1) and build a TokenSet.

        Raises :class:`TokenResponseError` with a message fit for the user when the body
        is not an object, lacks ``access_token``, names a token type other than Bearer,
        or carries an ``expires_in`` that is not a sensible number of seconds.
        """
        if not isinstance(data, Mapping):
            raise TokenResponseError("the token response is not a JSON object")
        access = data.get("access_token")
        if not isinstance(access, str) or not access:
            raise TokenResponseError("the token response has no access_token")
        token_type = data.get("token_type", "Bearer")
        if not isinstance(token_type, str) or token_type.lower() != "bearer":
            raise TokenResponseError(
                f"the token response has token_type {str(token_type)[:20]!r}; only Bearer is supported"
            )
        refresh = data.get("refresh_token")
        if refresh is not None and (not isinstance(refresh, str) or not refresh):
            raise TokenResponseError("the token response has a refresh_token that is not a string")
        scope = data.get("scope")
        if scope is not None and not isinstance(scope, str):
            raise TokenResponseError("the token response has a scope that is not a string")
        expires_in = data.get("expires_in")
        expires_at: float | None = None
        if expires_in is not None:
            if isinstance(expires_in, bool) or not isinstance(expires_in, (int, float)):
                # RFC 6749 says a number; some servers send a numeric string.
                if isinstance(expires_in, str) and expires_in.strip().isdigit():
                    expires_in = int(expires_in.strip())
                else:
                    raise TokenResponseError("the token response has an expires_in that is not a number")
            if not math.isfinite(expires_in) or expires_in <= 0 or expires_in > MAX_LIFETIME:
                raise TokenResponseError(
                    f"the token response has an expires_in of {expires_in!r} seconds, which is not usable"
                )
            expires_at = sent_at + float(expires_in)
        return cls(
            access_token=access,
            obtained_at=sent_at,
            token_type="Bearer",
            refresh_token=refresh,
            scope=scope or None,
            expires_at=expires_at,
        )

"""The checks a stored token passes before it leaves the store — with no httpx imported.

``BonjoroAuth`` runs them before every request; ``bonjoro-tui token`` runs the same functions
without building an HTTP client (a fresh token is handed out without importing the HTTP stack).
One copy of the rules, here; the reasons are :mod:`bonjoro_tui.trust`'s.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bonjoro_tui.api.errors import LOGIN_HINT, Misdirected, NotSignedIn, WrongTarget
from bonjoro_tui.settings import Settings
from bonjoro_tui.trust import describe, destination_error, redirect_hint

if TYPE_CHECKING:
    from bonjoro_tui.store import StoredProfile


def check_profile(settings: Settings, profile: "StoredProfile | None") -> "StoredProfile":
    """The profile, if it exists and was issued by the configured target (else NotSignedIn / WrongTarget)."""
    name = settings.profile
    if profile is None:
        raise NotSignedIn(f"not signed in (profile {name!r}); {LOGIN_HINT}")
    if profile.target != settings.target_id:
        where = describe(settings, "token_url") if settings.token_url else settings.target_id
        raise WrongTarget(
            f"profile {name!r} is signed in to {profile.target}, not {settings.target_id} "
            f"({where}); {LOGIN_HINT} to sign in there (or pick another --profile)"
        )
    return profile


def check_destination(settings: Settings, profile: "StoredProfile", key: str) -> None:
    """Refuse, before anything is sent, credentials bound for an origin the profile was not
    signed in with (``key``: "api_base", "token_url" or "revoke_url"): Misdirected."""
    reason = destination_error(settings, profile, key)
    if reason is not None:
        raise Misdirected(reason, hint=redirect_hint(settings, key))

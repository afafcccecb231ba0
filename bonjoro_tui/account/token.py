"""The access token, for a program the user runs: ``bonjoro-tui token`` and ``bonjoro-tui exec``.

The token handed out is the one a request would carry, after the same checks (the profile was
issued by the configured target; the API base is an origin the profile signed in with —
:mod:`bonjoro_tui.api.gate`, rules in :mod:`bonjoro_tui.trust`), refreshed first when it is
within the refresh leeway.

:func:`stored_token` answers from the store alone, when it can: no sandbox started, no HTTP
client built, httpx never imported — ``$(bonjoro-tui token)`` in a loop stays cheap.
:func:`fresh_token` is the full path through a session's client (refreshing when due).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from bonjoro_tui.api.errors import ApiError, NotSignedIn
from bonjoro_tui.api.gate import check_destination, check_profile
from bonjoro_tui.settings import SANDBOX, Settings
from bonjoro_tui.store import StoreError, TokenStore
from bonjoro_tui.tokens import DEFAULT_LEEWAY
from bonjoro_tui.trust import ENDPOINTS

if TYPE_CHECKING:
    from bonjoro_tui.account.session import Session

#: Stands for "the built-in sandbox, wherever it listens": every endpoint derived from it is
#: bound to the profile origin "sandbox" whatever the port (trust.bound_origin), so the checks
#: come out as they would against the running sandbox.
_SANDBOX_PLACEHOLDER = "http://127.0.0.1"


def stored_token(settings: Settings, store: TokenStore, now: float, *, leeway: float = DEFAULT_LEEWAY) -> str | None:
    """The stored access token if it may be handed out as it is; None when a session is needed
    (it is due for a refresh, or the endpoints are only known once a server is asked).

    Raises what a request would: NotSignedIn (none stored, another server's, unreadable store),
    Misdirected (the API base is not an origin the profile signed in with), ApiError (no API base).
    """
    if settings.needs_discovery:
        return None  # the endpoints come from the issuer's metadata: only a session knows them
    if settings.target == SANDBOX:
        if any(getattr(settings, key) for key in ENDPOINTS):
            return None  # an endpoint set explicitly: its origin against the running sandbox's decides
        settings = settings.resolved_for_sandbox(_SANDBOX_PLACEHOLDER)
    if not settings.api_base:
        raise ApiError("no API base URL is configured (set BONJORO_API_BASE or BONJORO_BASE_URL)")
    try:
        loaded = store.load(settings.profile)
    except StoreError as exc:
        raise NotSignedIn(f"{exc}") from None
    profile = check_profile(settings, loaded)
    check_destination(settings, profile, "api_base")
    if profile.tokens.needs_refresh(now, leeway):
        return None
    return profile.tokens.access_token


async def fresh_token(session: "Session", *, now: Callable[[], float] | None = None) -> str:
    """The token a request to the API base would carry now: refreshed first when it is due
    (the refresh is saved before the token is returned), through the session's client."""
    client = session.client
    auth = client.auth
    profile = auth.current_profile()
    auth.check_destination(profile, "api_base")  # before a refresh spends anything
    clock = now or session.now
    if profile.tokens.needs_refresh(clock(), auth.leeway):
        await auth.refresh(reason="expiring", stale=profile.tokens.access_token)
    return client.token_for(session.settings.api_base or "")

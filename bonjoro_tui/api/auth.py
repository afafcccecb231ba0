"""``BonjoroAuth``: the httpx auth that sends the stored bearer token and keeps it fresh.

Per request: load the profile, refuse it if it belongs to another server, refresh it first
when it is expired or within the leeway (60 s, capped at half the lifetime), send
``Authorization: Bearer …``; on a 401, refresh once and resend once.

One refresh in flight per profile: an ``asyncio.Lock`` per (event loop, store path, profile)
serialises the tasks of this process, and the store's cross-process lock serialises processes.
Inside both, the store is read again, so a caller that waited finds the token someone else
just obtained and uses it instead of refreshing a second time. The new tokens (with a rotated
refresh token) are saved before the new access token is handed out.

When the store cannot be written after the server has rotated the tokens (a full disk), the old
refresh token on disk is already spent. With ``keep_unsaved`` (the long-running dashboard) the
new tokens are then held in memory and used, the event says they are not saved, and every later
use of the profile tries the save again; if the store changes meanwhile (another process
refreshed, the user signed in again or out) the store wins. Without it (one-shot commands) the
refresh fails with "got new tokens but could not save them", as the process would lose them.

``invalid_grant`` on refresh means the refresh token is dead: the profile's tokens are
deleted from the store (nothing usable is left, and a dead token kept on disk is still a
secret to protect) and :class:`SignInAgain` is raised.

Note: the store lock is taken in the event loop's thread (its re-entrancy is per thread), so a
*second process* refreshing the same profile makes this one wait for that refresh to finish.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from dataclasses import dataclass, replace
from typing import Any, AsyncGenerator, Callable

import httpx

from bonjoro_tui.auth.oauth import InvalidGrant, OAuthClient, OAuthError, TokenEndpointError
from bonjoro_tui.settings import SANDBOX_CLIENTS, Settings
from bonjoro_tui.store import StoredProfile, StoreError, TokenStore
from bonjoro_tui.tokens import DEFAULT_LEEWAY, TokenSet
from bonjoro_tui.api.gate import check_destination, check_profile

from bonjoro_tui.api.errors import (  # noqa: E402 - re-exported: the classes live in a light module
    LOGIN_HINT,
    ClientError,
    ClientMismatch,
    Misdirected,
    NotSignedIn,
    RefreshFailed,
    SignInAgain,
    WrongTarget,
)

__all__ = ["LOGIN_HINT", "BonjoroAuth", "ClientError", "ClientMismatch", "Misdirected", "NotSignedIn", "RefreshEvent", "RefreshFailed",
           "SignInAgain", "WrongTarget", "oauth_for", "origin", "refresh_lock"]


@dataclass(frozen=True)
class RefreshEvent:
    profile: str
    reason: str  # "expiring", "rejected" (a 401), "manual"
    ok: bool
    at: float
    expires_at: float | None = None
    detail: str = "ok"
    #: False: the new tokens are held in memory only (the store could not be written).
    saved: bool = True


def origin(url: str | httpx.URL) -> tuple[str, str, int | None]:
    u = httpx.URL(str(url))
    port = u.port or {"http": 80, "https": 443}.get(u.scheme)
    return (u.scheme, u.host, port)


# (loop, store path, profile) -> asyncio.Lock. Keyed by loop because an asyncio.Lock is
# bound to the loop it was first contended in, and every CLI command runs its own loop.
_refresh_locks: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple[str, str], asyncio.Lock]]" = (
    weakref.WeakKeyDictionary()
)


def refresh_lock(store: TokenStore, profile: str) -> asyncio.Lock:
    locks = _refresh_locks.setdefault(asyncio.get_running_loop(), {})
    key = (str(store.path.resolve()), profile)
    if key not in locks:
        locks[key] = asyncio.Lock()
    return locks[key]


def oauth_for(oauth: OAuthClient, profile: StoredProfile) -> OAuthClient:
    """The OAuth client for the client that obtained ``profile`` (tokens are bound to it).

    When that is not the configured client and the configured one has a secret, the profile's
    client is confidential as far as we can tell and we hold no secret of its: refused, naming
    the stored client, rather than presenting another client's credentials (the server would
    answer invalid_grant, and the profile would be signed out for nothing).
    """
    configured = oauth.settings
    settings = configured.with_client(profile.client_id)
    if settings is configured:
        return oauth
    known = configured.is_sandbox and profile.client_id in SANDBOX_CLIENTS  # the sandbox's published clients
    needs_secret = profile.method == "client_credentials" or bool(configured.client_secret)
    if needs_secret and not settings.client_secret and not known:
        raise ClientMismatch(
            f"profile {profile.name!r} was issued to client {profile.client_id!r}, but the configured client is "
            f"{configured.client_id!r} ({configured.source('client_id')}); its secret is not that client's",
            hint=f"set BONJORO_CLIENT_ID={profile.client_id} and that client's secret to refresh or revoke, "
            "or sign in again with the configured client",
        )
    return OAuthClient(settings, oauth.http, oauth.now)


#: A request extension: a 401 is returned as it is, without a refresh and a retry (the sign-in's own
#: /me right after a grant: a fresh token the API refuses will not be better for a second grant).
NO_RETRY_ON_401 = "bonjoro_tui.no_retry_on_401"


class BonjoroAuth(httpx.Auth):
    requires_request_body = True  # the body must be replayable for the retry after a 401

    def __init__(
        self,
        settings: Settings,
        store: TokenStore,
        oauth: OAuthClient,
        *,
        now: Callable[[], float] = time.time,
        on_refresh: Callable[[RefreshEvent], None] | None = None,
        leeway: float = DEFAULT_LEEWAY,
        keep_unsaved: bool = False,
    ) -> None:
        self.settings = settings
        self.store = store
        self.oauth = oauth
        self.now = now
        self.on_refresh = on_refresh
        self.leeway = leeway
        self.keep_unsaved = keep_unsaved
        self.refresh_count = 0  # refreshes this object performed (not ones it waited for)
        # (the profile still on disk, the newer one held in memory) after a failed save
        self._unsaved: tuple[StoredProfile, StoredProfile] | None = None

    @property
    def unsaved(self) -> StoredProfile | None:
        """The profile held in memory because the store could not take it (None: all saved)."""
        return self._unsaved[1] if self._unsaved is not None else None

    # -- the flow ---------------------------------------------------------------------------
    def sync_auth_flow(self, request: httpx.Request):  # pragma: no cover - async only
        raise RuntimeError("BonjoroAuth works with httpx.AsyncClient only")

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        if not self.settings.api_base or origin(request.url) != origin(self.settings.api_base):
            # Never attach the token to a server other than the API's own origin.
            yield request
            return
        profile = self.current_profile()
        self.check_destination(profile, "api_base")
        if profile.tokens.needs_refresh(self.now(), self.leeway):
            profile = await self.refresh(reason="expiring", stale=profile.tokens.access_token)
        sent = profile.tokens.access_token
        request.headers["Authorization"] = f"Bearer {sent}"
        response = yield request
        if response.status_code != 401 or not self.can_refresh(profile) or request.extensions.get(NO_RETRY_ON_401):
            return
        # The 401's body is never read (a hostile server could make it huge); httpx closes the
        # response once this flow has sent the retry.
        profile = await self.refresh(reason="rejected", stale=sent)
        request.headers["Authorization"] = f"Bearer {profile.tokens.access_token}"
        yield request  # at most once: a second 401 is returned to the caller

    # -- profile ----------------------------------------------------------------------------
    def current_profile(self) -> StoredProfile:
        try:
            profile = self.load_profile()
        except StoreError as exc:
            raise NotSignedIn(f"{exc}") from None
        return self.check(profile)

    def load_profile(self) -> StoredProfile | None:
        """The stored profile — or the newer one held in memory, whose save is tried again here."""
        if self._unsaved is None:
            return self.store.load(self.settings.profile)
        on_disk, held = self._unsaved
        try:
            with self.store.locked():
                stored = self.store.load(self.settings.profile)
                if stored is None or _pair(stored) != _pair(on_disk):
                    self._unsaved = None  # the store moved on without us: it wins
                    return stored
                saved = replace(held, last_refresh_result="ok")
                self.store.save(saved)
        except StoreError:
            return held  # still not writable: keep using what we hold
        self._unsaved = None
        self._emit(RefreshEvent(held.name, "saved", True, self.now(), held.tokens.expires_at,
                                "the new tokens held in memory are saved now"))
        return saved

    def check(self, profile: StoredProfile | None) -> StoredProfile:
        return check_profile(self.settings, profile)

    def check_destination(self, profile: StoredProfile, key: str) -> None:
        """Refuse, before anything is sent, credentials bound for an origin the profile was not
        signed in with (``key``: "api_base", "token_url" or "revoke_url")."""
        check_destination(self.settings, profile, key)

    @staticmethod
    def can_refresh(profile: StoredProfile) -> bool:
        if profile.method == "api_key":
            return False
        return profile.tokens.refresh_token is not None or profile.method == "client_credentials"

    # -- refresh ----------------------------------------------------------------------------
    async def refresh(self, *, reason: str, stale: str | None = None, force: bool = False) -> StoredProfile:
        """Refresh unless someone else already did; return the profile to use.

        ``stale`` is the access token the caller holds: if the stored one differs and is not
        itself due, another task or process refreshed while we waited, and we use theirs.
        """
        async with refresh_lock(self.store, self.settings.profile):
            with self.store.locked():
                current = self.check(self.load_profile())
                if not force and current.tokens.access_token != stale and not current.tokens.needs_refresh(
                    self.now(), self.leeway
                ):
                    return current
                return await self._refresh_locked(current, reason)

    async def _refresh_locked(self, current: StoredProfile, reason: str) -> StoredProfile:
        name = current.name
        if current.method == "api_key":
            raise RefreshFailed("an API key does not expire and cannot be refreshed")
        if not current.tokens.refresh_token and current.method != "client_credentials":
            if reason == "manual" and not current.tokens.needs_refresh(self.now(), self.leeway):
                raise RefreshFailed(f"this sign-in has no refresh token; {LOGIN_HINT} for a new token")
            raise NotSignedIn(f"the access token has expired and there is no refresh token; {LOGIN_HINT}")
        started = self.now()
        self.check_destination(current, "token_url")
        oauth = oauth_for(self.oauth, current)
        try:
            if current.tokens.refresh_token:
                tokens = await oauth.refresh(current.tokens.refresh_token)
                tokens = tokens.with_refresh_fallback(current.tokens)
            else:
                tokens = await oauth.client_credentials()
        except InvalidGrant as exc:
            self._unsaved = None
            self.store.delete(name)
            detail = exc.description or exc.error or "invalid_grant"
            self._emit(RefreshEvent(name, reason, False, started, None, f"signed out: {detail}"))
            raise SignInAgain(
                f"the refresh token was refused ({_short(detail)}); profile {name!r} is signed out, "
                f"{LOGIN_HINT} to sign in again"
            ) from None
        except (OAuthError, TokenEndpointError, httpx.TransportError) as exc:
            message = f"the refresh failed: {_short(str(exc))}"
            result = _short(message)
            try:
                self.store.save(replace(current, last_refresh_at=started, last_refresh_result=result))
            except StoreError:
                pass
            self._emit(RefreshEvent(name, reason, False, started, current.tokens.expires_at, result))
            raise RefreshFailed(str(message)) from None
        updated = replace(current, tokens=tokens, last_refresh_at=started, last_refresh_result="ok")
        # Saved before the new access token is used: a rotated refresh token must not be lost.
        try:
            self.store.save(updated)
        except StoreError as exc:
            if not self.keep_unsaved:
                raise RefreshFailed(f"got new tokens but could not save them: {exc}") from None
            # The old refresh token on disk is spent: these are the only good tokens left.
            on_disk = self._unsaved[0] if self._unsaved is not None else current
            updated = replace(updated, last_refresh_result="ok, but not saved (kept in memory)")
            self._unsaved = (on_disk, updated)
            self.refresh_count += 1
            # Our own message (not server text): whole, or a long data-dir path cuts off what
            # the user most needs to read ("the previous file is unchanged").
            self._emit(RefreshEvent(name, reason, True, started, tokens.expires_at,
                                    " ".join(str(exc).split()), saved=False))  # held in memory only
            return updated
        self._unsaved = None
        self.refresh_count += 1
        self._emit(RefreshEvent(name, reason, True, started, tokens.expires_at, "ok"))
        return updated

    def _emit(self, event: RefreshEvent) -> None:
        if self.on_refresh is not None:
            try:
                self.on_refresh(event)
            except Exception:  # a display callback must never break a request
                pass


def _pair(profile: StoredProfile) -> tuple[str, str | None]:
    return profile.tokens.access_token, profile.tokens.refresh_token


def _short(text: Any, limit: int = 160) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"

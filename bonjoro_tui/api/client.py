"""``BonjoroClient``: calls to the Bonjoro API v2 with the stored, auto-refreshed token.

Paths are relative to the API base (``/me`` → ``{api_base}/me``); an absolute URL is accepted
only on the API base's own origin — the token is never offered to any other server. 429 and
503 answers are retried after their ``Retry-After`` (bounded in count and in wait; an answer
asking for longer than ``max_retry_wait`` is returned at once), and connection errors are
retried for idempotent methods only. The tokens travel only in the ``Authorization`` header
(see :mod:`bonjoro_tui.api.auth`). The ``httpx.AsyncClient`` keeps ``trust_env``, so
``HTTPS_PROXY`` and ``SSL_CERT_FILE`` apply.
"""

from __future__ import annotations

import asyncio
import json as jsonlib
import re
import time
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any, Awaitable, Callable, Mapping

import httpx

from bonjoro_tui.api.errors import ApiError, RevocationFailed
from bonjoro_tui.api.auth import (
    LOGIN_HINT,
    NO_RETRY_ON_401,
    BonjoroAuth,
    ClientError,
    Misdirected,
    NotSignedIn,
    RefreshEvent,
    RefreshFailed,
    SignInAgain,
    WrongTarget,
    oauth_for,
    origin,
    refresh_lock,
)
from bonjoro_tui.auth.oauth import OAuthClient, OAuthError, TokenEndpointError
from bonjoro_tui.plumbing.httplimits import MAX_API_BODY, BodyTooLarge, read_capped
from bonjoro_tui.settings import Settings
from bonjoro_tui.store import StoredProfile, TokenStore

__all__ = [
    "ApiError",
    "ApiResponse",
    "BonjoroAuth",
    "BonjoroClient",
    "ClientError",
    "LogoutResult",
    "Misdirected",
    "RevocationFailed",
    "NotSignedIn",
    "RateLimit",
    "RefreshEvent",
    "RefreshFailed",
    "SignInAgain",
    "WrongTarget",
]

IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
DEFAULT_TIMEOUT = 30.0
_ABSOLUTE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


UNREACHABLE_HINT = (
    "is the server running? check BONJORO_BASE_URL / BONJORO_API_BASE, and the .env and config file "
    "that `bonjoro-tui paths` lists"
)


@dataclass(frozen=True)
class RateLimit:
    limit: int | None
    remaining: int | None


@dataclass(frozen=True)
class ApiResponse:
    method: str
    url: str
    status: int
    reason: str
    headers: httpx.Headers
    elapsed: float  # seconds, request sent to body read (last attempt)
    content: bytes = field(repr=False)
    attempts: int = 1
    #: Each answer retried before this one: (its status, seconds waited before the next attempt).
    #: A transport error retried has the status 0.
    retries: tuple[tuple[int, float], ...] = ()
    #: The headers of the request as sent (last attempt): the Authorization header included, so
    #: whoever shows or keeps them masks it.
    request_headers: httpx.Headers | None = field(default=None, repr=False)
    #: The last attempt got a 401 first, refreshed the token and was resent (``api/auth.py``).
    refreshed: bool = False

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        """The body as JSON; a ``ValueError`` for anything that is not (nesting too deep for the
        parser included: callers handle one exception for every bad body)."""
        try:
            return jsonlib.loads(self.content)
        except RecursionError:
            raise ValueError("the JSON body is nested too deeply to parse") from None

    @property
    def rate_limit(self) -> RateLimit | None:
        limit, remaining = _int(self.headers.get("x-ratelimit-limit")), _int(self.headers.get("x-ratelimit-remaining"))
        if limit is None and remaining is None:
            return None
        return RateLimit(limit, remaining)

    def error_message(self) -> str:
        """The server's own message when it gave one (Laravel or Bonjoro error shapes)."""
        try:
            body = self.json()
        except ValueError:
            return ""
        if isinstance(body, dict):
            err = body.get("error")
            if isinstance(err, dict) and isinstance(err.get("message"), str):
                return err["message"]
            for key in ("message", "error_description", "error"):
                if isinstance(body.get(key), str):
                    return body[key]
        return ""



@dataclass
class LogoutResult:
    profile: str
    revoked: list[str] = field(default_factory=list)  # token kinds the server confirmed revoked
    not_revoked: list[str] = field(default_factory=list)  # "refresh_token: reason"
    deleted: bool = False
    #: Revocations that were attempted and failed (a subset of ``not_revoked``, by token kind).
    failed: list[str] = field(default_factory=list)

    @property
    def revoked_all(self) -> bool:
        return bool(self.revoked) and not self.not_revoked


class BonjoroClient:
    def __init__(
        self,
        settings: Settings,
        store: TokenStore,
        *,
        http: httpx.AsyncClient | None = None,
        now: Callable[[], float] = time.time,
        on_refresh: Callable[[RefreshEvent], None] | None = None,
        oauth: OAuthClient | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        max_retries: int = 3,
        max_retry_wait: float = 30.0,
        keep_unsaved: bool = False,
        max_body: int = MAX_API_BODY,
    ) -> None:
        self.settings = settings
        self.store = store
        self.now = now
        self._own_http = http is None
        self.http = http if http is not None else httpx.AsyncClient(timeout=DEFAULT_TIMEOUT)
        self.oauth = oauth if oauth is not None else OAuthClient(settings, self.http, now=now)
        # keep_unsaved: a long-running caller keeps using rotated tokens the store could not take
        # (see BonjoroAuth); a one-shot command would lose them at exit, so it gets an error.
        self.auth = BonjoroAuth(settings, store, self.oauth, now=now, on_refresh=on_refresh, keep_unsaved=keep_unsaved)
        self.sleep = sleep
        self.max_retries = max_retries
        self.max_retry_wait = max_retry_wait
        self.max_body = max_body

    @property
    def on_refresh(self) -> Callable[[RefreshEvent], None] | None:
        return self.auth.on_refresh

    @on_refresh.setter
    def on_refresh(self, callback: Callable[[RefreshEvent], None] | None) -> None:
        self.auth.on_refresh = callback

    # -- URLs -------------------------------------------------------------------------------
    def url_for(self, path_or_url: str) -> str:
        base = self.settings.api_base
        if not base:
            raise ApiError("no API base URL is configured (set BONJORO_API_BASE or BONJORO_BASE_URL)")
        target = path_or_url.strip()
        if _ABSOLUTE.match(target):
            if origin(target) != origin(base):
                raise ApiError(
                    f"refusing to send the token to {_origin_text(target)}: "
                    f"only the API's origin {_origin_text(base)} gets it"
                )
            return target
        return base.rstrip("/") + "/" + target.lstrip("/")

    # -- requests ---------------------------------------------------------------------------
    async def request(
        self,
        method: str,
        path_or_url: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        refresh_on_401: bool = True,
        retry: bool = True,
    ) -> ApiResponse:
        """``refresh_on_401=False``: a 401 is returned, not answered by a refresh and a retry.

        ``retry=False``: the first answer is returned as it is (a 429 or 503 too) and a transport
        error raised at once. Otherwise each retry is recorded in ``ApiResponse.retries``.
        """
        method = method.upper()
        url = self.url_for(path_or_url)
        if params:
            # httpx *replaces* a URL's query with ``params``: `/greets?page=4` with the explorer's
            # search field, or `api -X GET '/greets?page=2' -F limit=5`, went out without its
            # page (found by reviewers). The query written in the URL stays; the fields join it,
            # and a field of the same name wins (as `gh api` appends fields to a GET's query).
            url = str(httpx.URL(url).copy_merge_params(params))
            params = None
        idempotent = method in IDEMPOTENT
        attempt = 1
        max_retries = self.max_retries if retry else 0
        retries: list[tuple[int, float]] = []
        while True:
            request = self.http.build_request(
                method, url, params=params, json=json, content=content,
                headers={"Accept": "application/json", **(headers or {})},
                extensions=None if refresh_on_401 else {NO_RETRY_ON_401: True},
            )
            started = time.perf_counter()
            try:
                response = await self.http.send(request, auth=self.auth, follow_redirects=False, stream=True)
                body = await read_capped(response, self.max_body)
            except BodyTooLarge as exc:
                raise ApiError(f"{_origin_text(url)} answered {method} {path_or_url}, but {exc}",
                               response.status_code) from None
            except httpx.TransportError as exc:
                if idempotent and attempt <= max_retries:
                    backoff = _backoff(attempt)
                    retries.append((0, backoff))
                    await self.sleep(backoff)
                    attempt += 1
                    continue
                what = type(exc).__name__ if not str(exc) else f"{type(exc).__name__}: {exc}"
                retried = f" after {attempt} attempts" if attempt > 1 else ""
                error = ApiError(f"could not reach {_origin_text(url)}{retried} ({what})")
                error.hint = UNREACHABLE_HINT
                raise error from None
            status = response.status_code
            if (status == 429 or status == 503) and attempt <= max_retries:
                wait = retry_after(response.headers.get("retry-after"), self.now())
                retryable = status == 429 or idempotent or wait is not None
                if wait is None:
                    wait = _backoff(attempt)
                if retryable and wait <= self.max_retry_wait:
                    retries.append((status, wait))
                    await self.sleep(wait)
                    attempt += 1
                    continue
            return ApiResponse(response.request.method, str(response.request.url), status, response.reason_phrase,
                               response.headers, time.perf_counter() - started, body, attempt,
                               tuple(retries), response.request.headers,
                               any(earlier.status_code == 401 for earlier in response.history))

    async def me(self, *, refresh_on_401: bool = True) -> dict[str, Any]:
        r = await self.request("GET", "/me", refresh_on_401=refresh_on_401)
        if r.status == 401:
            raise NotSignedIn(f"the server rejected the token (401); {LOGIN_HINT}")
        if not r.ok:
            raise ApiError(f"GET /me answered {r.status} {r.reason} {r.error_message()}".strip(), r.status, r)
        try:
            body = r.json()
        except ValueError:
            raise ApiError("GET /me answered with a body that is not JSON", r.status, r) from None
        if not isinstance(body, dict):
            raise ApiError("GET /me answered with JSON that is not an object", r.status, r)
        return body

    def token_for(self, path_or_url: str) -> str:
        """The access token a request to ``path_or_url`` would carry — for a "copy as curl" the
        user asked to include it in. The same checks as a request: the API base's origin only,
        and only the API origin the profile signed in with (raises ``Misdirected``/``NotSignedIn``)."""
        self.url_for(path_or_url)
        profile = self.auth.current_profile()
        self.auth.check_destination(profile, "api_base")
        return profile.tokens.access_token

    async def refresh_now(self) -> StoredProfile:
        return await self.auth.refresh(reason="manual", force=True)

    async def logout(self) -> bool:
        """Revoke (where an endpoint exists), then delete the local tokens whatever happened."""
        return (await self.logout_detailed()).revoked_all

    async def logout_detailed(self, *, forget: bool = False) -> LogoutResult:
        """Revoke where an endpoint exists, then forget the local tokens.

        If a revocation was attempted and failed, the tokens are still valid at the server: they
        are kept (so the user can retry) and :class:`RevocationFailed` says which and until when —
        unless ``forget``, which removes them locally anyway."""
        name = self.settings.profile
        result = LogoutResult(name)
        async with refresh_lock(self.store, name):
            with self.store.locked():
                profile = self.auth.load_profile()  # tokens held in memory are the ones to revoke
                if profile is None:
                    raise NotSignedIn(f"not signed in (profile {name!r}); nothing to log out")
                # Tokens of another server are left alone: they cannot be revoked from here (they are
                # never sent anywhere else), and deleting them unrevoked would only lose them.
                self.auth.check(profile)
                if profile.method != "api_key":
                    # Refused before anything is sent, and the local tokens are kept: deleting
                    # them would sign the user out while the tokens stay valid at the server.
                    self.auth.check_destination(profile, "revoke_url")
                await self._revoke(profile, result)
                if result.failed and not forget:
                    raise RevocationFailed(_still_valid(profile, result, self.now()), result)
                result.deleted = self.store.delete(name)
        return result

    async def _revoke(self, profile: StoredProfile, result: LogoutResult) -> None:
        if profile.method == "api_key":
            result.not_revoked.append("api_key: an API key is only forgotten here; delete it in Bonjoro to revoke it")
            return
        if not self.settings.revoke_url:
            result.not_revoked.append("tokens: no revocation endpoint is configured (Bonjoro publishes none)")
            return
        oauth = oauth_for(self.oauth, profile)  # revoke as the client the tokens were issued to
        kinds = [("refresh_token", profile.tokens.refresh_token), ("access_token", profile.tokens.access_token)]
        for hint, token in kinds:
            if not token:
                continue
            try:
                if await oauth.revoke(token, hint):
                    result.revoked.append(hint)
                else:
                    result.not_revoked.append(f"{hint}: no revocation endpoint")
            except (OAuthError, TokenEndpointError, httpx.TransportError) as exc:
                result.not_revoked.append(f"{hint}: {' '.join(str(exc).split())[:120]}")
                result.failed.append(hint)

    async def aclose(self) -> None:
        if self._own_http:
            await self.http.aclose()

    async def __aenter__(self) -> "BonjoroClient":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


def _still_valid(profile: StoredProfile, result: LogoutResult, now: float) -> str:
    from datetime import datetime, timezone

    def iso(ts: float) -> str:
        return datetime.fromtimestamp(ts, timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")

    kinds = {"access_token": "the access token", "refresh_token": "the refresh token"}
    which = " and ".join(kinds.get(k, k) for k in result.failed)
    t = profile.tokens
    until = ""
    if "access_token" in result.failed and t.expires_at is not None:
        until = f"; the access token until {iso(t.expires_at)}"
    if "refresh_token" in result.failed:
        until += "; the refresh token until the server expires it"
    reasons = "; ".join(n for n in result.not_revoked if n.split(":", 1)[0] in result.failed)
    return (f"could not revoke {which} of profile {profile.name!r} ({reasons}): still valid at the server{until}; "
            "the local tokens are kept")


def retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - now)


def _backoff(attempt: int) -> float:
    return min(0.5 * 2 ** (attempt - 1), 8.0)


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _origin_text(url: str) -> str:
    u = httpx.URL(url)
    return f"{u.scheme}://{u.netloc.decode('ascii', 'replace')}"

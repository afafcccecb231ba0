"""The three ways to sign in, each ending with a profile saved in the token store.

* :class:`CodeLogin` — authorization code + PKCE S256 + state through the loopback
  callback server (the default). It reports its progress as :class:`LoginStep` events for
  the TUI's wizard and the CLI; the ``PROFILE`` step (``GET /me``) belongs to the API
  layer, which runs it after :meth:`CodeLogin.run` returns.
* :func:`login_client_credentials` — the client credentials grant (needs a secret).
* :func:`login_api_key` — an API key kept as a Bearer token that never expires;
  :func:`verify_api_key` checks it against the API first, so a wrong key never replaces
  a working sign-in.

No token request is ever made after a refused callback (bad state, bad ``iss``): those
never leave :class:`~bonjoro_tui.auth.callback.CallbackServer`.
"""

from __future__ import annotations

import enum
import time
from dataclasses import replace
from typing import Callable
from urllib.parse import urlsplit

import httpx

from bonjoro_tui.auth.callback import CallbackServer
from bonjoro_tui.auth.errors import ApiKeyRejected, CallbackServerError, LoginCancelled, LoginError
from bonjoro_tui.auth.oauth import OAuthClient
from bonjoro_tui.auth.pkce import AuthorizationRequest
from bonjoro_tui.redact import mask
from bonjoro_tui.settings import Settings
from bonjoro_tui.store import StoredProfile, TokenStore
from bonjoro_tui.tokens import TokenSet
from bonjoro_tui.trust import check_sign_in, recorded_origins


class LoginStep(str, enum.Enum):
    """Steps of a code sign-in, in order. Values equal names, so ``step == "WAITING"`` works."""

    PREPARE = "PREPARE"  # state, verifier, challenge generated
    LISTENING = "LISTENING"  # callback server bound; detail: the redirect URI
    BROWSER = "BROWSER"  # authorization URL handed to the browser (or shown to paste)
    WAITING = "WAITING"  # waiting for the redirect
    CODE_RECEIVED = "CODE_RECEIVED"  # a callback with the right state and a code
    EXCHANGING = "EXCHANGING"  # POST to the token endpoint
    CHECKING = "CHECKING"  # an API key tried against the API before it is saved
    SAVED = "SAVED"  # tokens written to the store; detail: the store path
    PROFILE = "PROFILE"  # GET /me — run by the application layer (account.signin), not by CodeLogin


StepCallback = Callable[[LoginStep, str], None]


def _require(settings: Settings, *names: str) -> None:
    missing = [n for n in names if not getattr(settings, n)]
    if missing:
        raise LoginError(
            f"cannot sign in: {', '.join(missing)} not configured",
            hint="set BONJORO_CLIENT_ID (and BONJORO_BASE_URL or the endpoint URLs), or use the sandbox",
        )


def _callback_address(settings: Settings) -> tuple[int, str, str]:
    """(port, path, host used in the redirect URI) from the settings."""
    if settings.redirect_uri:
        parts = urlsplit(settings.redirect_uri)
        return parts.port or 80, parts.path or "/", parts.hostname or "127.0.0.1"
    return settings.callback_port or 0, "/callback", "127.0.0.1"


def _with_port_source(exc: CallbackServerError, settings: Settings) -> CallbackServerError:
    """The same error, its hint naming where the port was configured (flag, variable, file)."""
    source = settings.sources.get("callback_port")
    if not source:
        return exc
    return CallbackServerError(
        str(exc), hint=f"the port comes from {source}: free it, change it there, or unset it to use any free port"
    )


class CodeLogin:
    def __init__(
        self,
        settings: Settings,
        store: TokenStore,
        http: httpx.AsyncClient,
        *,
        now: Callable[[], float] = time.time,
        on_step: StepCallback | None = None,
        expected_issuer: str | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.oauth = OAuthClient(settings, http, now)
        self.now = now
        self.on_step = on_step
        # RFC 9207: check ``iss`` on the redirect whenever the issuer is known.
        self.expected_issuer = expected_issuer or settings.issuer
        self.request: AuthorizationRequest | None = None
        self.server: CallbackServer | None = None
        self._cancelled = False

    @property
    def authorization_url(self) -> str | None:
        return self.request.url if self.request else None

    @property
    def redirect_uri(self) -> str | None:
        return self.request.redirect_uri if self.request else None

    def _step(self, step: LoginStep, detail: str = "") -> None:
        if self.on_step is not None:
            self.on_step(step, detail)

    def _check_cancelled(self) -> None:
        if self._cancelled:
            raise LoginCancelled("the sign-in was cancelled")

    def paste(self, url: str) -> None:
        """A redirect URL pasted by the user (no browser on this machine, SSH…).

        Raises a :class:`LoginError` when it does not count (wrong state, not this
        sign-in's URL); the wait goes on. Call it from the event loop's thread.
        """
        if self.server is None:
            raise LoginError("the sign-in is not waiting for a redirect yet")
        self.server.submit_redirect_url(url)

    def cancel(self) -> None:
        self._cancelled = True
        if self.server is not None:
            self.server.cancel()

    async def run(
        self, *, open_browser: Callable[[str], bool] | None = None, timeout: float = 300.0
    ) -> StoredProfile:
        s = self.settings
        _require(s, "client_id", "authorize_url", "token_url")
        check_sign_in(s, "code")  # before the browser opens: an untrusted .env cannot split the flow
        self._check_cancelled()
        port, path, redirect_host = _callback_address(s)
        # The redirect URI depends on the port the server gets; the state does not.
        request = AuthorizationRequest.new(s.authorize_url, s.client_id, "", s.scope,  # type: ignore[arg-type]
                                           params=s.authorize_params)
        self._step(LoginStep.PREPARE, "state, PKCE verifier and S256 challenge generated")
        self.server = CallbackServer(
            request.state,
            port=port,
            path=path,
            timeout=timeout,
            expected_issuer=self.expected_issuer,
            require_issuer=s.issuer_sends_iss,
            redirect_host=redirect_host,
            on_rejected=lambda error: self._step(LoginStep.WAITING, f"{error}; still waiting for the real redirect"),
        )
        try:
            try:
                redirect_uri = await self.server.start()
            except CallbackServerError as exc:
                raise _with_port_source(exc, s) from None
            self.request = request = replace(request, redirect_uri=s.redirect_uri or redirect_uri)
            self._step(LoginStep.LISTENING, request.redirect_uri)
            self._check_cancelled()
            opened = bool(open_browser(request.url)) if open_browser is not None else False
            self._step(
                LoginStep.BROWSER,
                "opened the browser" if opened else "open the URL in a browser, or paste the redirect URL",
            )
            self._step(LoginStep.WAITING, f"waiting up to {timeout:g} s for the redirect to {request.redirect_uri}")
            result = await self.server.wait(close=False)
            # The callback is settled: the browser has its page and no second callback is
            # accepted. The server shuts down (uvicorn notices within 0.1 s) while the code is
            # exchanged, instead of before; the finally below waits for that one shutdown.
            self.server.begin_close()
            self._step(LoginStep.CODE_RECEIVED, f"code {mask(result.code)}, state verified")
            self._check_cancelled()
            self._step(LoginStep.EXCHANGING, f"POST {s.token_url}")
            tokens = await self.oauth.exchange_code(result.code, request.verifier, request.redirect_uri)
            self._check_cancelled()
            profile = StoredProfile(
                name=s.profile, target=s.target_id, method="code", client_id=s.client_id, tokens=tokens,
                **recorded_origins(s),
            )
            self.store.save(profile)
            self._step(LoginStep.SAVED, str(self.store.path))
        finally:
            # Every outcome (saved, exchange error, cancel, timeout) waits for the server to be
            # closed; close() is idempotent and all callers share its single shutdown.
            await self.server.close()
        return profile


async def login_client_credentials(
    settings: Settings, store: TokenStore, http: httpx.AsyncClient, now: Callable[[], float] = time.time
) -> StoredProfile:
    # Against the sandbox with no secret configured: its published confidential client.
    settings = settings.for_client_credentials()
    _require(settings, "client_id", "token_url")
    check_sign_in(settings, "client_credentials")
    tokens = await OAuthClient(settings, http, now).client_credentials()
    profile = StoredProfile(
        name=settings.profile,
        target=settings.target_id,
        method="client_credentials",
        client_id=settings.client_id,
        tokens=tokens,
        **recorded_origins(settings),
    )
    store.save(profile)
    return profile


def _check_api_key_text(key: str) -> str:
    key = (key or "").strip()
    if not key:
        raise LoginError("no API key was given", hint="pipe the key on stdin or type it at the prompt")
    if len(key) > 4096 or any(c.isspace() or ord(c) < 0x21 or ord(c) == 0x7F for c in key):
        raise LoginError(
            "that does not look like an API key (it contains spaces or control characters)",
            hint="paste only the key itself",
        )
    return key


#: Reads that check an API key, in order: the seed's ``GET /me`` (Bonjoro does not publish it),
#: then the published ``GET /users`` (Bonjoro's definition: a page of the team's users).
KEY_CHECKS = ("/me", "/users?limit=1")


async def verify_api_key(settings: Settings, http: httpx.AsyncClient, key: str) -> str:
    """Try the key as a Bearer token against the API before anything is saved; returns the read
    that answered (``"GET /me"``, or ``"GET /users?limit=1"`` when ``/me`` is 404/405 — as live
    Bonjoro most likely answers, since it publishes no ``GET /me``).

    Raises :class:`ApiKeyRejected` on 401/403 and :class:`LoginError` when the API cannot
    be reached or answers anything else. The key is never logged or put in a message.
    """
    key = _check_api_key_text(key)
    _require(settings, "api_base")
    check_sign_in(settings, "api_key", user_secret=True)
    for path in KEY_CHECKS:
        url = f"{settings.api_base}{path}"
        try:
            # Only the status matters: the body is never read (a hostile server cannot fill memory).
            async with http.stream("GET", url, headers={"Authorization": f"Bearer {key}"},
                                   follow_redirects=False) as response:
                pass
        except httpx.HTTPError as exc:
            raise LoginError(
                f"could not check the API key: cannot reach {url} ({type(exc).__name__})",
                hint="is the server running? your previous sign-in is unchanged",
            ) from None
        if response.status_code in (404, 405) and path != KEY_CHECKS[-1]:
            continue  # not served here: try the published read
        if response.status_code in (401, 403):
            raise ApiKeyRejected(f"the API key was rejected ({response.status_code}) by {url}")
        if not 200 <= response.status_code < 300:
            raise LoginError(
                f"could not check the API key: {url} answered HTTP {response.status_code}",
                hint="try again later; your previous sign-in is unchanged",
            )
        return f"GET {path}"
    raise AssertionError("unreachable")  # pragma: no cover - the last check returns or raises


def login_api_key(
    settings: Settings, store: TokenStore, key: str, now: Callable[[], float] = time.time
) -> StoredProfile:
    key = _check_api_key_text(key)
    check_sign_in(settings, "api_key", user_secret=True)
    profile = StoredProfile(
        name=settings.profile,
        target=settings.target_id,
        method="api_key",
        client_id=settings.client_id,
        tokens=TokenSet(access_token=key, obtained_at=now(), token_type="Bearer", expires_at=None),
        **recorded_origins(settings),
    )
    store.save(profile)
    return profile

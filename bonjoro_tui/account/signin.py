"""Sign-in, every method, once: the use case both ``bonjoro-tui login`` and the login wizard run.

:class:`SignIn` runs a method of :class:`~bonjoro_tui.account.methods.SignInMethod` against a
session and reports each step (``on_step(step, detail)``) as it happens:

- code: PREPARE → LISTENING → BROWSER → WAITING → CODE_RECEIVED → EXCHANGING → SAVED (the core's
  :class:`~bonjoro_tui.auth.login.CodeLogin`);
- client credentials: EXCHANGING → SAVED;
- API key: CHECKING (one request with the key, before anything is saved: a wrong key never
  replaces a working sign-in) → SAVED;

then, for every method, PROFILE: ``GET /me`` for the signed-in user's :class:`Identity`. That last
step is best effort: the sign-in has succeeded once the tokens are saved, so a failing ``/me`` is
reported in :attr:`SignedIn.identity_error`, not raised. With ``--debug`` each step is logged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

from bonjoro_tui.account.identity import Identity
from bonjoro_tui.account.whoami import fetch_me
from bonjoro_tui.account.methods import SignInMethod
from bonjoro_tui.auth.login import LoginStep
from bonjoro_tui.redact import mask

if TYPE_CHECKING:
    from bonjoro_tui.account.session import AppSession
    from bonjoro_tui.auth.login import CodeLogin
    from bonjoro_tui.store import StoredProfile

StepCallback = Callable[[LoginStep, str], None]


@dataclass(frozen=True)
class SignedIn:
    profile: "StoredProfile"
    identity: Identity | None = None
    #: Why the identity could not be fetched (the sign-in itself succeeded).
    identity_error: BaseException | None = None
    #: The ``/me`` body as the server sent it (the dashboard keeps it for its status screen).
    me: dict[str, Any] | None = None


class SignIn:
    def __init__(self, session: "AppSession", *, on_step: StepCallback | None = None) -> None:
        self.session = session
        self.on_step = on_step
        self._code: "CodeLogin | None" = None
        self._cancelled = False

    # -- while a code sign-in waits ---------------------------------------------------------
    @property
    def authorization_url(self) -> str | None:
        return self._code.authorization_url if self._code is not None else None

    @property
    def redirect_uri(self) -> str | None:
        return self._code.redirect_uri if self._code is not None else None

    def paste(self, url: str) -> None:
        """A redirect URL the user pasted (no browser on this machine); raises ``LoginError`` when
        it does not count, and the wait goes on."""
        from bonjoro_tui.auth.errors import LoginError

        if self._code is None:
            raise LoginError("the sign-in is not waiting for a redirect yet")
        self._code.paste(url)

    def cancel(self) -> None:
        """End a code sign-in (its callback server closes, ``run`` raises ``LoginCancelled``) —
        also when it is asked before the flow has started."""
        self._cancelled = True
        if self._code is not None:
            self._code.cancel()

    # -- the use case -----------------------------------------------------------------------
    def _step(self, step: LoginStep, detail: str = "") -> None:
        log = self.session.debug_log
        if log is not None:
            log.write(f"· login step {step.value}: {detail}")
        if self.on_step is not None:
            self.on_step(step, detail)

    async def run(
        self,
        method: SignInMethod,
        *,
        api_key: str | None = None,
        open_browser: Callable[[str], bool] | None = None,
        timeout: float = 300.0,
    ) -> SignedIn:
        from bonjoro_tui.auth import login as core

        session = self.session
        await session.client_ready()  # the HTTP stack, built off the event loop the first time
        settings, store, http = session.settings, session.store, session.http
        if method is SignInMethod.CODE:
            self._code = core.CodeLogin(settings, store, http, now=session.now, on_step=self._step)
            if self._cancelled:
                self._code.cancel()
            try:
                profile = await self._code.run(open_browser=open_browser, timeout=timeout)
            finally:
                self._code = None
        elif method is SignInMethod.CLIENT_CREDENTIALS:
            self._step(LoginStep.EXCHANGING, f"POST {settings.for_client_credentials().token_url}")
            profile = await core.login_client_credentials(settings, store, http, session.now)
            self._step(LoginStep.SAVED, str(store.path))
        elif method is SignInMethod.API_KEY:
            key = (api_key or "").strip()
            session.add_secret(key)
            self._step(LoginStep.CHECKING, f"GET {settings.api_base}/me with {mask(key)}")
            used = await core.verify_api_key(settings, http, key)
            if used != "GET /me":
                self._step(LoginStep.CHECKING, f"GET /me is not served here; {used} accepted {mask(key)}")
            profile = core.login_api_key(settings, store, key, session.now)
            self._step(LoginStep.SAVED, f"{mask(key)} → {store.path}")
        else:  # pragma: no cover - the enum is closed
            raise ValueError(f"unknown sign-in method {method!r}")
        session.add_secret(profile.tokens.access_token)
        session.add_secret(profile.tokens.refresh_token)
        return await self._identify(profile)

    async def _identify(self, profile: "StoredProfile") -> SignedIn:
        self._step(LoginStep.PROFILE, "GET /me")
        try:
            client = await self.session.client_ready()
            # Right after the grant: a 401 here is the answer, not a stale token (no second grant).
            me = await fetch_me(client, refresh_on_401=False)
        except Exception as exc:  # noqa: BLE001 - best effort: the sign-in has succeeded
            return SignedIn(profile, None, exc)
        return SignedIn(profile, Identity.from_me(me), me=me)

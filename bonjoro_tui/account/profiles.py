"""The stored profiles: list them, choose the one in use, remove one — for the dashboard's
profiles view and ``bonjoro-tui profiles list/use/rm``, written once.

``session`` is an :class:`bonjoro_tui.account.session.Session` (or any
:class:`~bonjoro_tui.account.session.AppSession`). Nothing here returns a token: a
:class:`ProfileSummary` holds names, origins, times and flags only.

* :func:`list_profiles` reads the token store.
* :func:`use_profile` remembers the profile as the default in config.toml
  (:mod:`bonjoro_tui.account.preferences`) and switches the session to it (its client is rebuilt
  for that profile on next use).
* :func:`remove_profile` (a coroutine) revokes the tokens at the server the way ``logout`` does
  (``BonjoroClient.logout_detailed``: refused before anything is sent to an endpoint the profile
  did not sign in with; a failed revocation keeps the tokens and raises ``RevocationFailed``),
  or with ``revoke=False`` only forgets them here.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from bonjoro_tui.account import preferences
from bonjoro_tui.errors import BonjoroError
from bonjoro_tui.settings import _PROFILE_RE

if TYPE_CHECKING:
    from bonjoro_tui.account.session import AppSession
    from bonjoro_tui.api.client import LogoutResult

#: The profile in use when neither a flag, the environment nor config.toml names one.
DEFAULT_PROFILE = "default"


class ProfileError(BonjoroError):
    """No such profile, or a name that cannot be one."""


@dataclass(frozen=True)
class ProfileSummary:
    name: str
    #: The target its tokens belong to: "sandbox" or the token endpoint's origin (store.target).
    target: str
    #: The API origin it signed in with, when recorded (None: older profile, or the same as target).
    api_origin: str | None
    method: str  # "code" | "client_credentials" | "api_key"
    client_id: str | None
    #: Tokens stored that can still be used: not expired, or expired with a refresh token (or a
    #: client-credentials profile, which gets a new token) — and issued by the current target.
    signed_in: bool
    expires_at: float | None
    expired: bool
    #: Its tokens were issued by the server these settings talk to (else they are never sent).
    on_this_target: bool
    #: The profile this session uses (settings.profile).
    active: bool
    #: The profile remembered in config.toml (or "default" when none is).
    default: bool

    @property
    def where(self) -> str:
        """The target in words: "the sandbox" or the origin (live Bonjoro is "Bonjoro")."""
        return target_words(self.target)


def target_words(target: str) -> str:
    """How a target is named in a sentence: "the sandbox", "Bonjoro" or the origin."""
    from bonjoro_tui.settings import LIVE_BASE_URL, SANDBOX

    if target == SANDBOX:
        return "the sandbox"
    if target == LIVE_BASE_URL:
        return "Bonjoro"
    return target


def default_profile(session: "AppSession") -> str:
    """The profile config.toml names (the one ``use_profile`` remembered), else "default"."""
    return preferences.read(session.settings, "profile") or DEFAULT_PROFILE


def list_profiles(session: "AppSession") -> list[ProfileSummary]:
    """Every stored profile, sorted by name (a profile exists once it has tokens: the active one
    is listed only when stored). Raises the store's errors (StoreError)."""
    settings = session.settings
    now = session.now()
    default = default_profile(session)
    store = session.store
    out: list[ProfileSummary] = []
    for name in sorted(store.names()):
        p = session.load_profile() if name == settings.profile else store.load(name)
        if p is None:
            continue
        t = p.tokens
        left = t.expires_in(now)
        expired = left is not None and left <= 0
        here = p.target == settings.target_id
        usable = not expired or t.refresh_token is not None or p.method == "client_credentials"
        out.append(ProfileSummary(
            name=p.name, target=p.target, api_origin=p.api_origin, method=p.method, client_id=p.client_id,
            signed_in=here and usable, expires_at=t.expires_at, expired=expired, on_this_target=here,
            active=name == settings.profile, default=name == default,
        ))
    return out


def _check_name(name: str) -> None:
    if not isinstance(name, str) or not _PROFILE_RE.match(name):
        raise ProfileError(f"{name!r} is not a profile name (letters, digits, '.', '_' or '-')")


def _not_stored(session: "AppSession", name: str, doing: str) -> ProfileError:
    """No profile ``name``: the stored names, and what to do (``doing``: "use" or "sign-out")."""
    known = sorted(session.store.names())
    stored = ", ".join(known) or "none"
    if doing == "use":
        hint = f"sign in with that profile first: bonjoro-tui --profile {name} login"
    elif known:
        hint = "`bonjoro-tui profiles list` shows them; `bonjoro-tui profiles rm NAME` signs one out"
    else:
        hint = "there is nothing to sign out"
    return ProfileError(f"no profile named {name!r} is stored (stored: {stored})", hint=hint)


@dataclass(frozen=True)
class DefaultRepaired:
    """config.toml named a profile that was just removed: the line was taken out."""
    removed: str
    config_file: Any
    #: The profile the next start uses instead ("default", unless a flag or variable names one).
    now_default: str
    #: Whether that profile is stored (signed in or not).
    stored: bool

    def sentence(self, choose: str) -> str:
        """In words; ``choose`` says how to pick another in this front end."""
        then = (f"the next start uses profile {self.now_default!r}" if self.stored
                else f"the next start uses profile {self.now_default!r}, which is not signed in")
        return (f"{self.removed!r} was the default profile in config.toml: removed from {self.config_file}; "
                f"{then} ({choose}).")


def repair_default(session: "AppSession", removed: str) -> DefaultRepaired | None:
    """After ``removed`` was removed: when config.toml still names it (and it is not stored any
    more), take that line out, so the next start does not pick a profile that is gone. None when
    there was nothing to repair. Raises ``preferences.PreferenceError`` when config.toml cannot
    be rewritten (then it is unchanged)."""
    if preferences.read(session.settings, "profile") != removed or removed in session.store.names():
        return None
    path = preferences.forget(session.settings, "profile")
    return DefaultRepaired(removed, path, DEFAULT_PROFILE, DEFAULT_PROFILE in session.store.names())


def use_profile(session: "AppSession", name: str) -> Any:
    """Make ``name`` the default profile (config.toml ``profile = "name"``) and switch the session
    to it; return the path of the config file written.

    The profile must be stored (ProfileError otherwise). A ``--profile`` flag or
    ``BONJORO_PROFILE`` still wins over config.toml in later runs (``overridden_by`` tells).
    Raises ``preferences.PreferenceError`` when config.toml cannot be written (then the session
    is not switched either)."""
    _check_name(name)
    if name not in session.store.names():
        raise _not_stored(session, name, "use")
    path = preferences.remember(session.settings, "profile", name)
    switch = getattr(session, "switch_profile", None)
    if switch is not None:
        switch(name)
    return path


def overridden_by(session: "AppSession") -> str | None:
    """Where the profile in effect comes from when it is not config.toml (a flag, the
    environment): what ``use_profile`` cannot change for later runs."""
    source = session.settings.sources.get("profile", "")
    if not source or source.startswith("profile in "):  # "profile in /…/config.toml", or the default
        return None
    return source


async def remove_profile(session: "AppSession", name: str, *, revoke: bool) -> "LogoutResult":
    """Remove a stored profile: with ``revoke``, revoke at the server first like ``logout`` (the
    client of the session for the active profile, else one for ``name`` on the session's HTTP
    client); without, forget it here only (its tokens stay valid at the server until they expire).

    Raises ProfileError (not stored), and with ``revoke`` the client's errors: ``WrongTarget`` (a
    profile of another server: nothing sent, nothing removed — remove it with ``revoke=False``),
    ``RevocationFailed`` (tokens kept), ``UntrustedDestination``."""
    from bonjoro_tui.api.client import BonjoroClient, LogoutResult

    _check_name(name)
    store = session.store
    if name not in store.names():
        raise _not_stored(session, name, "sign-out")
    if not revoke:
        with store.locked():
            deleted = store.delete(name)
        result = LogoutResult(name, deleted=deleted)
        result.not_revoked.append("tokens: only forgotten here (not revoked)")
        return result
    if name == session.settings.profile:
        client = await session.client_ready()
        return await client.logout_detailed()
    other = BonjoroClient(replace(session.settings, profile=name), store, http=session.http, now=session.now)
    try:
        return await other.logout_detailed()
    finally:
        await other.aclose()  # closes nothing shared: the http client is the session's


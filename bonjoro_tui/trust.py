"""Where a token, code, verifier or secret may go — and what an untrusted ``.env`` may decide.

Two rules, both enforced here and written down in docs/SECURITY.md ("Untrusted configuration").

**1. A profile talks only to the origins it was signed in with.** At sign-in a profile records
the origin of its token endpoint (``StoredProfile.target``, ``"sandbox"`` for the built-in one
whatever port it listens on), of its API base (``api_origin``) and of its revocation endpoint
(``revoke_origin``). Afterwards, a request that would carry its access token, refresh token or
the client secret anywhere else is refused before it is sent — for refresh, revoke, every API
call (``/me``, the explorer, the CLI's ``api``) and copy-as-curl alike — with a message naming
the setting, its value and where that value came from. A revocation endpoint at the token
endpoint's own origin is always allowed (it is the same authorization server). A profile saved
before origins were recorded is bound to its token origin, and takes its API base / revocation
endpoint only from a trusted source (a value from ``.env`` is refused for it).

**2. A working-directory ``.env`` may choose a server, never split one.** Flags, the
environment and the user's own ``config.toml`` are trusted; a ``.env`` in the working directory
(a cloned repository's, say) is not. For a new sign-in, when any endpoint — authorize, token,
revocation, API base — takes its value from ``.env`` (directly or derived from a ``.env``
``BONJORO_BASE_URL``), all endpoints in use must share one origin; otherwise the sign-in is
refused before the browser opens, naming each endpoint and its source. And a secret the ``.env``
did not bring — a client secret from the environment or config.toml, an API key typed at the
prompt — is never sent to an endpoint the ``.env`` chose. The login screen and ``bonjoro-tui
login`` list each endpoint with its source whenever one comes from a ``.env``
(:func:`endpoint_report`). To use such a configuration on purpose, move it to the environment
or to config.toml.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypedDict
from urllib.parse import urlsplit

from bonjoro_tui.auth.errors import LoginError
from bonjoro_tui.settings import ENV_NAMES, SANDBOX, Settings

if TYPE_CHECKING:
    from bonjoro_tui.store import StoredProfile

#: The endpoint settings, in the order a sign-in uses them.
ENDPOINTS = ("authorize_url", "token_url", "revoke_url", "api_base")
_DEFAULT_PORTS = {"http": 80, "https": 443}


class UntrustedConfiguration(LoginError):
    """A new sign-in was refused: a working-directory ``.env`` would split the flow across
    origins, or send a secret it did not bring to a server it chose."""

    hint = (
        "if you trust these settings, set them in the environment or in config.toml; "
        "otherwise remove them from the .env (or run bonjoro-tui from another directory)"
    )


def origin(url: str) -> str:
    """``scheme://host[:port]`` in lower case, the default port left out (RFC 6454 origin)."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    if port is None or port == _DEFAULT_PORTS.get(scheme):
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def bound_origin(settings: Settings, url: str) -> str:
    """What a profile records for ``url``: ``"sandbox"`` for the running built-in sandbox
    (its port may change between runs), otherwise the URL's origin."""
    if settings.target == SANDBOX and settings.base_url and origin(url) == origin(settings.base_url):
        return SANDBOX
    return origin(url)


def setting_name(key: str) -> str:
    return ENV_NAMES[key][0] if key in ENV_NAMES else key


def describe(settings: Settings, key: str) -> str:
    """``BONJORO_API_BASE = https://x/api/v2 (from BONJORO_API_BASE in /p/.env line 2)``."""
    source = settings.source(key)
    where = source if source.startswith("derived from ") else f"from {source}"  # not "from derived from"
    return f"{setting_name(key)} = {getattr(settings, key)} ({where})"


def _in_use(settings: Settings, method: str) -> list[str]:
    keys = {"code": ["authorize_url", "token_url"], "client_credentials": ["token_url"], "api_key": []}[method]
    return [k for k in (*keys, "revoke_url", "api_base") if getattr(settings, k)]


def endpoint_report(settings: Settings) -> list[str]:
    """One line per endpoint with its source — empty unless some endpoint comes from a ``.env``
    (then the user should see exactly where the sign-in will go)."""
    if not any(k in settings.untrusted for k in (*ENDPOINTS, "base_url")):
        return []
    return [describe(settings, k) for k in ENDPOINTS if getattr(settings, k)]


def check_sign_in(settings: Settings, method: str, *, user_secret: bool = False) -> None:
    """Rule 2, before a new sign-in sends anything. ``method``: "code", "client_credentials" or
    "api_key"; ``user_secret``: the user is about to send a secret of their own (an API key).

    Raises :class:`UntrustedConfiguration`.
    """
    keys = _in_use(settings, method)
    from_dotenv = [k for k in keys if k in settings.untrusted]
    if not from_dotenv:
        return
    origins = {origin(getattr(settings, k)) for k in keys}
    if len(origins) > 1:
        lines = "; ".join(describe(settings, k) for k in keys)
        raise UntrustedConfiguration(
            "refusing to sign in: the .env in the working directory would split the sign-in across "
            f"{len(origins)} servers ({lines}); a .env may choose a server, not send one server's "
            "codes or tokens to another"
        )
    # One origin, chosen by the .env: it may use a client the .env brought, not the user's secrets.
    destination = "api_base" if method == "api_key" else "token_url"
    if destination not in settings.untrusted:
        return
    if method == "api_key" and user_secret:
        raise UntrustedConfiguration(
            f"refusing to send your API key to a server chosen by the .env in the working directory "
            f"({describe(settings, destination)})"
        )
    if settings.client_secret and "client_secret" not in settings.untrusted:
        raise UntrustedConfiguration(
            f"refusing to send the client secret from {settings.source('client_secret')} to a token "
            f"endpoint chosen by the .env in the working directory ({describe(settings, destination)})"
        )


class RecordedOrigins(TypedDict):
    """The keyword arguments of ``StoredProfile`` that :func:`recorded_origins` fills in."""

    api_origin: str | None
    revoke_origin: str | None


def recorded_origins(settings: Settings) -> RecordedOrigins:
    """What a new profile records (rule 1): ``api_origin`` and ``revoke_origin``."""
    return {
        "api_origin": bound_origin(settings, settings.api_base) if settings.api_base else None,
        "revoke_origin": bound_origin(settings, settings.revoke_url) if settings.revoke_url else None,
    }


def destination_error(settings: Settings, profile: "StoredProfile", key: str) -> str | None:
    """Rule 1: why ``profile``'s credentials must not go to the endpoint ``key`` names, or None.

    ``key``: "token_url" (refresh, a client-credentials re-grant), "revoke_url" or "api_base".
    """
    url = getattr(settings, key)
    if not url:
        return None
    here = bound_origin(settings, url)
    allowed: set[str | None]  # an origin not recorded (None) allows nothing: `here` is a str
    if key == "token_url":
        allowed = {profile.target}
    elif key == "revoke_url":
        allowed = {profile.target, profile.revoke_origin}
    else:
        allowed = {profile.api_origin}
    if here in allowed:
        return None
    legacy = (profile.api_origin if key == "api_base" else profile.revoke_origin) is None
    if key != "token_url" and legacy and key not in settings.untrusted:
        return None  # saved before origins were recorded: a trusted source decides
    bound = ", ".join(sorted(o for o in allowed if o)) or "no server for this"
    return (
        f"refusing to send the credentials of profile {profile.name!r} to {here}: it was signed in with "
        f"{bound}, and {describe(settings, key)}"
    )


def redirect_hint(settings: Settings, key: str) -> str:
    """What to do about a refused destination, by where the setting came from."""
    name = setting_name(key)
    if key in settings.untrusted:
        return (f"{name} comes from the .env in the working directory, which may not redirect a signed-in "
                f"profile: remove it there (or run bonjoro-tui from another directory); if you trust that server, "
                "set it in the environment or config.toml instead and sign in there")
    return f"unset {name} ({settings.source(key)}) to use the server you signed in with, or sign in again there"


def blocked_reason(settings: Settings, profile: "StoredProfile") -> str | None:
    """Why every API request of this profile would be refused with these settings (None: they
    would go). Only the API base decides that: see :func:`logout_blocked_reason` for logout."""
    return _refused(settings, profile, "api_base")


def logout_blocked_reason(settings: Settings, profile: "StoredProfile") -> str | None:
    """Why logging this profile out would be refused (its revocation endpoint moved to an origin
    its tokens do not belong to); requests still go. None for an API key (nothing is revoked)."""
    return None if profile.method == "api_key" else _refused(settings, profile, "revoke_url")


def _refused(settings: Settings, profile: "StoredProfile", key: str) -> str | None:
    if profile.target != settings.target_id:
        return None  # another server's profile: status says "not signed in" for that already
    reason = destination_error(settings, profile, key)
    return None if reason is None else f"{reason} ({redirect_hint(settings, key)})"

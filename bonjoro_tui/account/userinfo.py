"""Who signed in, from an OpenID Connect userinfo endpoint (OIDC Core §5.3).

For a server configured by its issuer alone there is no API of Bonjoro's shape to ask ``GET /me``:
the identity then comes from the issuer's ``userinfo_endpoint`` (discovered, or
``BONJORO_USERINFO_URL``). :func:`uses_userinfo` says when; :func:`fetch_identity` asks.

The access token goes to the userinfo endpoint only where ``bonjoro_tui.trust`` would let it go:
one that came from a working-directory ``.env`` (directly or discovered from a ``.env`` issuer)
must be on an origin the profile was signed in with (its token endpoint or API base).

Server text: every field is the server's string as sent; front ends escape it where they show it.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from bonjoro_tui.account.identity import Identity
from bonjoro_tui.api.errors import ApiError, Misdirected
from bonjoro_tui.auth.errors import clean_text
from bonjoro_tui.plumbing.httplimits import MAX_OAUTH_BODY, BodyTooLarge, read_capped
from bonjoro_tui.settings import Settings
from bonjoro_tui.trust import bound_origin, describe, origin

if TYPE_CHECKING:
    import httpx

    from bonjoro_tui.store import StoredProfile


def uses_userinfo(settings: Settings) -> bool:
    """The identity comes from the userinfo endpoint: one is known and no API base was configured
    (the API base in use was only derived from the issuer's origin, a guess for a server that is
    not Bonjoro's)."""
    return settings.userinfo_url is not None and "api_base" not in settings.explicit


def identity_from_claims(claims: Any) -> Identity | None:
    """An :class:`Identity` from userinfo claims (OIDC Core §5.1): ``name``, else ``given_name`` +
    ``family_name``, else ``preferred_username``; ``email``; ``sub`` as the id."""
    if not isinstance(claims, dict):
        return None

    def text(key: str) -> str | None:
        value = claims.get(key)
        return value if isinstance(value, str) and value else None

    name = text("name") or " ".join(p for p in (text("given_name"), text("family_name")) if p) or text(
        "preferred_username")
    email, sub = text("email"), text("sub")
    if not (name or email or sub):
        return None
    return Identity(name or None, email, sub)


def _check_destination(settings: Settings, profile: "StoredProfile", url: str) -> None:
    if "userinfo_url" not in settings.untrusted:
        return
    here = bound_origin(settings, url)
    if here in {profile.target, profile.api_origin}:
        return
    raise Misdirected(
        f"refusing to send profile {profile.name!r}'s access token to {origin(url)}: it was signed in with "
        f"{profile.target}, and {describe(settings, 'userinfo_url')}"
    )


async def fetch_identity(
    settings: Settings, http: "httpx.AsyncClient", profile: "StoredProfile"
) -> tuple[Identity | None, dict[str, Any]]:
    """``GET {settings.userinfo_url}`` with the profile's access token: (identity, claims).

    Raises :class:`~bonjoro_tui.api.errors.ApiError` (no endpoint, unreachable, refused, not a
    JSON object — a signed ``application/jwt`` answer is not read) or
    :class:`~bonjoro_tui.api.errors.Misdirected` (see the module docstring); nothing is retried or
    refreshed — right after a sign-in a 401 is the answer.
    """
    import httpx

    url = settings.userinfo_url
    if not url:
        raise ApiError("no userinfo endpoint is known (BONJORO_USERINFO_URL, or the issuer's metadata)")
    _check_destination(settings, profile, url)
    tokens = profile.tokens
    headers = {"Authorization": f"{tokens.token_type or 'Bearer'} {tokens.access_token}",
               "Accept": "application/json"}
    where = f"the userinfo endpoint at {origin(url)}"
    try:
        response = await http.send(http.build_request("GET", url, headers=headers), stream=True,
                                   follow_redirects=False)
        content = await read_capped(response, MAX_OAUTH_BODY)
    except BodyTooLarge as exc:
        raise ApiError(f"{where} sent too much: {exc}") from None
    except httpx.HTTPError as exc:
        raise ApiError(f"could not reach {where}: {clean_text(str(exc), 120) or type(exc).__name__}") from None
    status = response.status_code
    if status != 200:
        note = " (a redirect; redirects are not followed)" if 300 <= status < 400 else ""
        raise ApiError(f"{where} answered HTTP {status}{note}", status)
    if response.headers.get("content-type", "").split(";")[0].strip().lower() == "application/jwt":
        raise ApiError(f"{where} sent a signed (JWT) answer, which bonjoro-tui does not read", status)
    try:
        claims = json.loads(content)
    except (ValueError, UnicodeDecodeError):
        raise ApiError(f"{where} sent something that is not JSON", status) from None
    if not isinstance(claims, dict):
        raise ApiError(f"{where} sent JSON that is not an object", status)
    return identity_from_claims(claims), claims

"""Who is signed in, asked of the server: the one way both front ends fetch the user.

Kept apart from :mod:`bonjoro_tui.account.identity` (what an identity is) because it uses the
userinfo endpoint too, whose module builds identities: no import loop.
"""

from __future__ import annotations

from typing import Any

from bonjoro_tui.account.identity import token_subject


async def fetch_me(client: Any, *, refresh_on_401: bool = True) -> dict[str, Any]:
    """The signed-in user's body: the userinfo claims for a server configured by its issuer alone
    (OpenID Connect), else ``GET /me`` (the seed's call), or — where that is not served (404 or
    405, as on live Bonjoro, which publishes none) — the published ``GET /users/{id}`` for the
    access token's ``sub``. Both front ends get the user through here."""
    from bonjoro_tui.account.userinfo import fetch_identity, uses_userinfo
    from bonjoro_tui.api.errors import ApiError

    if uses_userinfo(client.settings):
        # A server configured by its issuer, with no API of Bonjoro's shape: OpenID Connect userinfo.
        _identity, claims = await fetch_identity(client.settings, client.http, client.auth.current_profile())
        return claims
    try:
        me: dict[str, Any] = await client.me(refresh_on_401=refresh_on_401)
        return me
    except ApiError as exc:
        if exc.status not in (404, 405):
            raise
        profile = client.auth.current_profile()
        sub = token_subject(profile.tokens.access_token)
        if sub is None:
            raise ApiError(f"GET /me is not served here ({exc.status}) and the access token names no user (no JWT "
                           "'sub'), so the user cannot be looked up", exc.status) from None
    from urllib.parse import quote

    sub = quote(sub, safe="")  # the token's claim is not ours to put in a path unescaped ("/", "..")
    r = await client.request("GET", f"/users/{sub}", refresh_on_401=refresh_on_401)
    if not r.ok:
        raise ApiError(f"GET /me is not served here, and GET /users/{sub} answered {r.status} {r.reason}", r.status, r)
    try:
        body = r.json()
    except ValueError:
        raise ApiError(f"GET /users/{sub} answered with a body that is not JSON", r.status, r) from None
    if not isinstance(body, dict):
        raise ApiError(f"GET /users/{sub} answered with JSON that is not an object", r.status, r)
    return body

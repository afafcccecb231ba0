"""Who is signed in, from the body of ``GET /me`` (Bonjoro wraps the user in ``data``).

Server text: every field is the server's string as sent; front ends escape it where they show it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Identity:
    name: str | None
    email: str | None
    id: str | None

    @classmethod
    def from_me(cls, body: Any) -> "Identity | None":
        """The user of a ``/me`` body (``{"data": {...}}`` or the user itself); None when it names
        nobody. ``name``, else ``first_name`` + ``last_name``."""
        data = body.get("data", body) if isinstance(body, dict) else None
        if not isinstance(data, dict):
            return None
        name = data.get("name")
        if not isinstance(name, str) or not name:
            name = " ".join(str(p) for p in (data.get("first_name"), data.get("last_name")) if isinstance(p, str) and p)
        email = data.get("email") if isinstance(data.get("email"), str) else None
        raw_id = data.get("id", data.get("sub"))  # userinfo claims name the user by "sub"
        ident = str(raw_id) if isinstance(raw_id, (str, int)) and not isinstance(raw_id, bool) else None
        if not (name or email or ident):
            return None
        return cls(name or None, email or None, ident)

    @property
    def display(self) -> str:
        """``Name <email>``, else whichever of name, email and id there is."""
        if self.name and self.email:
            return f"{self.name} <{self.email}>"
        return self.name or self.email or self.id or "—"


def display_name(body: Any) -> str:
    """``Name <email>`` for a ``/me`` body, "—" for none."""
    who = Identity.from_me(body)
    return who.display if who is not None else "—"


def token_subject(token: str) -> str | None:
    """The ``sub`` claim of a JWT access token, decoded WITHOUT verification (only to pick which
    published read names the signed-in user); None for an opaque token."""
    import base64
    import json

    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, UnicodeDecodeError):
        return None
    sub = payload.get("sub") if isinstance(payload, dict) else None
    return str(sub) if isinstance(sub, (str, int)) and not isinstance(sub, bool) and str(sub) else None


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

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

"""What an access token says about itself: a JWT's header and claims, decoded, never verified.

For the dashboard's token inspector (and any front end). The stdlib only: base64url and JSON
(RFC 7515 §2, RFC 7519). The signature is *not* checked — we hold no key, and the server is the
one who decides — so everything here is labelled "not verified". A token that is not three
base64url parts with a JSON header and JSON claims is *opaque* (an API key, a Passport personal
token, a random string): only the server knows what it means.

Nothing a masking rule hides is returned in full: the token itself only as
:func:`bonjoro_tui.redact.mask`; a claim whose name sounds like a secret (``*token*``,
``*secret*``, ``*password*``, ``*key*`` …) or whose value is one of the profile's own tokens is
masked too. ``exp`` is compared with the expiry stored at sign-in (``expires_in`` of the token
response): a difference of more than :data:`TOLERANCE` seconds is flagged.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bonjoro_tui.redact import mask

if TYPE_CHECKING:
    from bonjoro_tui.tokens import TokenSet

#: Seconds by which ``exp`` may differ from the stored expiry without a flag: the stored one is
#: "when we sent the request + expires_in", so a slow answer or a clock step shows as a second or two.
TOLERANCE = 5.0
#: The time claims of RFC 7519 §4.1, in the order shown.
TIME_CLAIMS = ("iat", "nbf", "exp")
_SECRET_NAME = re.compile(r"secret|token|passw|pwd|key|credential|assertion|code|cookie|session", re.I)
_B64URL = re.compile(r"^[A-Za-z0-9_-]*$")
#: A JWT larger than this is not decoded (a token is a few kilobytes; this bounds the work).
MAX_TOKEN = 64 * 1024


@dataclass(frozen=True)
class TokenInfo:
    masked: str  # the token as redact.mask shows it
    is_jwt: bool
    #: Why it is not a JWT (or why the JWT could not be decoded), in words; None for a JWT.
    opaque_reason: str | None = None
    header: dict[str, Any] = field(default_factory=dict)
    claims: dict[str, Any] = field(default_factory=dict)  # secret-looking values masked
    masked_claims: tuple[str, ...] = ()  # names of the claims shown masked
    #: (claim, epoch seconds) for each of iat / nbf / exp present as a number.
    times: tuple[tuple[str, float], ...] = ()
    stored_expires_at: float | None = None
    #: exp minus the stored expiry, in seconds (None: one of them is missing).
    exp_difference: float | None = None

    @property
    def exp_disagrees(self) -> bool:
        return self.exp_difference is not None and abs(self.exp_difference) > TOLERANCE

    @property
    def exp(self) -> float | None:
        return dict(self.times).get("exp")


def _b64url_json(part: str) -> Any:
    if not _B64URL.match(part):
        raise ValueError("not base64url")
    raw = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
    return json.loads(raw.decode("utf-8"))


def inspect_token(tokens: "TokenSet") -> TokenInfo:
    """Decode ``tokens.access_token`` if it is a JWT (signature not verified)."""
    token = tokens.access_token or ""
    masked = mask(token)
    stored = tokens.expires_at
    parts = token.split(".")
    if len(parts) != 3 or not parts[0] or not parts[1]:
        why = ("five parts: an encrypted JWT (JWE), whose claims only the server can read" if len(parts) == 5
               else "not a JWT (not three dot-separated parts): an opaque token, only the server knows what it means")
        return TokenInfo(masked, False, why, stored_expires_at=stored)
    if len(token) > MAX_TOKEN:
        return TokenInfo(masked, False, f"longer than {MAX_TOKEN // 1024} KiB: not decoded", stored_expires_at=stored)
    try:
        header = _b64url_json(parts[0])
        claims = _b64url_json(parts[1])
    except (ValueError, UnicodeDecodeError, binascii.Error, RecursionError):
        return TokenInfo(masked, False, "three parts, but not base64url JSON: an opaque token",
                         stored_expires_at=stored)
    if not isinstance(header, dict) or not isinstance(claims, dict):
        return TokenInfo(masked, False, "three parts, but its header or claims are not JSON objects: an opaque token",
                         stored_expires_at=stored)
    own = {t for t in (tokens.access_token, tokens.refresh_token) if t}
    shown, hidden = _mask_secrets(claims, own)
    times = tuple((name, float(claims[name])) for name in TIME_CLAIMS
                  if isinstance(claims.get(name), (int, float)) and not isinstance(claims.get(name), bool))
    exp = dict(times).get("exp")
    difference = None if exp is None or stored is None else exp - stored
    header_shown, header_hidden = _mask_secrets(header, own)
    return TokenInfo(masked, True, None, header_shown, shown, tuple(hidden + header_hidden), times, stored, difference)


def _mask_secrets(data: dict[str, Any], own: set[str]) -> tuple[dict[str, Any], list[str]]:
    """``data`` with secret-looking values masked (nested objects too); the masked names."""
    hidden: list[str] = []

    def walk(value: Any, name: str, path: str) -> Any:
        if isinstance(value, dict):
            return {k: walk(v, str(k), f"{path}.{k}" if path else str(k)) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v, name, f"{path}[{i}]") for i, v in enumerate(value)]
        if isinstance(value, str) and (value in own or (_SECRET_NAME.search(name) and len(value) >= 8)
                                       or any(t in value for t in own)):
            hidden.append(path)
            return mask(value)
        return value

    return walk(data, "", ""), hidden

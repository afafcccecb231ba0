"""HS256 JSON Web Tokens (RFC 7519) for the sandbox's access tokens, with the stdlib only.

Bonjoro's access tokens are JWTs (its published example starts ``eyJ0eXAiOiJKV1QiLCJh``, i.e.
``{"typ":"JWT","alg"...``); the sandbox's are too, signed with a key kept in its state file
so they stay valid across a restart. Verification accepts only ``alg: HS256``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

HEADER = {"typ": "JWT", "alg": "HS256"}


class InvalidJWT(ValueError):
    pass


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    if not text or any(c not in _B64URL for c in text):
        raise InvalidJWT("not base64url")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except ValueError as exc:
        raise InvalidJWT("not base64url") from exc


_B64URL = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def _json(data: dict[str, Any]) -> bytes:
    return json.dumps(data, separators=(",", ":")).encode("utf-8")


def encode(claims: dict[str, Any], key: bytes) -> str:
    """A signed token; like Laravel Passport's, the header repeats the ``jti`` claim."""
    header = {**HEADER, "jti": claims["jti"]} if "jti" in claims else HEADER
    signing_input = f"{b64url(_json(header))}.{b64url(_json(claims))}"
    signature = hmac.new(key, signing_input.encode("ascii"), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(signature)}"


def decode(token: str, key: bytes) -> dict[str, Any]:
    """The claims of a token signed with ``key``; raises ``InvalidJWT`` otherwise.

    Expiry and the other claims are the caller's to check.
    """
    parts = token.split(".")
    if len(parts) != 3:
        raise InvalidJWT("not a JWS compact serialization")
    if any(not part or not _B64URL.issuperset(part) for part in parts):
        raise InvalidJWT("not base64url")
    header_b64, claims_b64, signature_b64 = parts
    try:
        header = json.loads(b64url_decode(header_b64))
    except ValueError as exc:
        raise InvalidJWT("bad header") from exc
    if not isinstance(header, dict) or header.get("alg") != "HS256":
        raise InvalidJWT("unsupported alg")
    expected = hmac.new(key, f"{header_b64}.{claims_b64}".encode("ascii"), hashlib.sha256).digest()
    if not hmac.compare_digest(expected, b64url_decode(signature_b64)):
        raise InvalidJWT("bad signature")
    try:
        claims = json.loads(b64url_decode(claims_b64))
    except ValueError as exc:
        raise InvalidJWT("bad claims") from exc
    if not isinstance(claims, dict):
        raise InvalidJWT("claims are not an object")
    return claims


def s256(verifier: str) -> str:
    """The PKCE S256 challenge of a verifier (RFC 7636 §4.2), written here for the server side."""
    return b64url(hashlib.sha256(verifier.encode("ascii")).digest())


def digest(secret: str) -> str:
    """How codes and refresh tokens are kept in the state: a SHA-256, never the value itself."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()

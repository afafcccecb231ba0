"""The authorization server's memory: codes, access tokens, refresh-token families, revocation.

Mixed into ``SandboxState`` (which provides ``_transaction``, ``_doc``, ``_index``, ``now`` and
``knobs``). Codes and refresh tokens are stored as SHA-256 digests only. Each authorization
code starts a *family*; a refresh rotates the family's current token, and presenting a token the
family has already rotated past revokes the whole family (RFC 9700 §4.14.2), including the
access tokens minted from it.
"""

from __future__ import annotations

import hmac
import math
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bonjoro_tui.sandbox import signing

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    from bonjoro_tui.sandbox.clients import Client
    from bonjoro_tui.sandbox.seed import SeedData

ISSUER = "bonjoro-sandbox"
#: The sandbox's API key (sent as a Bearer token; listed with the registered clients by
#: ``sandbox.clients``). Defined here, where it is checked on every API request, so that checking
#: it does not load the clients' module (issue 16: a sandbox started for one ``GET /me``).
API_KEY = "sandbox-api-key"
def new_family_id() -> str:
    """A refresh-token family's id (a random UUID; ``uuid`` imported here, at the first code
    exchange: it imports ``platform``, which a sandbox started for one ``GET /me`` never needs)."""
    import uuid

    return str(uuid.uuid4())


#: How many rotated refresh tokens a family remembers (to detect their reuse).
USED_TOKENS_KEPT = 200
DEFAULT_SCOPE = "*"


class GrantError(Exception):
    """An OAuth error answered by the token or revocation endpoint (RFC 6749 §5.2)."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status


@dataclass(frozen=True)
class Principal:
    """Who an API request acts for."""

    user_id: str
    client_id: str | None
    scope: str
    rate_key: str
    kind: str  # "jwt" or "api_key"
    expires_at: float | None


class GrantsMixin:
    # What SandboxState, the one class this is mixed into, provides.
    _doc: dict[str, Any]
    _index: dict[str, str]
    _dirty: bool
    seed: SeedData

    if TYPE_CHECKING:

        def now(self) -> float: ...

        def _transaction(self) -> AbstractContextManager[None]: ...

    # -- helpers ---------------------------------------------------------------------------

    @property
    def _key(self) -> bytes:
        return bytes.fromhex(self._doc["signing_key"])

    def _prune(self) -> None:
        now = self.now()
        doc = self._doc
        doc["codes"] = {h: c for h, c in doc["codes"].items() if c["expires_at"] > now - 3600}
        doc["revoked_jtis"] = {j: exp for j, exp in doc["revoked_jtis"].items() if exp > now}
        horizon = now - 24 * 3600
        stale = [
            fid
            for fid, fam in doc["families"].items()
            if fam["current_expires_at"] < horizon or (fam["revoked"] and fam["revoked_at"] < horizon)
        ]
        for fid in stale:
            del doc["families"][fid]
        if stale:
            self._index = {h: f for h, f in self._index.items() if f in doc["families"]}

    def _mint(self, client_id: str, user_id: str, scope: str, family_id: str | None) -> dict[str, Any]:
        now = math.floor(self.now())
        ttl = int(self._doc["knobs"]["access_ttl"])
        # As Laravel Passport issues them (league/oauth2-server's AccessTokenTrait::convertToJWT:
        # permittedFor(client) identifiedBy(id) issuedAt canOnlyBeUsedAfter expiresAt relatedTo(user)
        # withClaim('scopes')), plus the sandbox's own family and generation (docs/SANDBOX.md).
        jti = secrets.token_hex(40)  # Passport's token ids: 80 hex characters
        claims = {
            "aud": client_id,
            "jti": jti,
            "iat": now,
            "nbf": now,
            "exp": now + ttl,
            "sub": user_id,
            "scopes": scope.split(),
            "fam": family_id,
            "gen": self._doc["generation"],
        }
        return {
            "token_type": "Bearer",
            "expires_in": ttl,
            "access_token": signing.encode(claims, self._key),
            "scope": scope,
        }

    def _new_refresh(self, family_id: str) -> str:
        token = secrets.token_urlsafe(48)
        fam = self._doc["families"][family_id]
        digest = signing.digest(token)
        fam["current"] = digest
        fam["current_expires_at"] = self.now() + int(self._doc["knobs"]["refresh_ttl"])
        self._index[digest] = family_id
        return token

    def _revoke_family(self, family_id: str | None, reason: str) -> None:
        fam = self._doc["families"].get(family_id or "")
        if fam is not None and not fam["revoked"]:
            fam["revoked"] = True
            fam["revoked_at"] = self.now()
            fam["revoked_reason"] = reason
            self._dirty = True

    # -- authorization codes ---------------------------------------------------------------

    def issue_code(self, *, client_id: str, redirect_uri: str, challenge: str, scope: str, user_id: str) -> str:
        code = secrets.token_urlsafe(32)
        with self._transaction():
            self._doc["codes"][signing.digest(code)] = {
                "client_id": client_id,
                "redirect_uri": redirect_uri,
                "challenge": challenge,
                "scope": scope,
                "user_id": user_id,
                "expires_at": self.now() + int(self._doc["knobs"]["code_ttl"]),
                "used": False,
                "family": None,
            }
            self._dirty = True
        return code

    def redeem_code(self, client: Client, code: str, redirect_uri: str, verifier: str) -> dict[str, Any]:
        """Exchange a code for tokens (RFC 6749 §4.1.3, RFC 7636 §4.6) or raise ``GrantError``."""
        with self._transaction():
            record = self._doc["codes"].get(signing.digest(code))
            if record is None:
                raise GrantError("invalid_grant", "the authorization code is not valid")
            if record["client_id"] != client.client_id:
                raise GrantError("invalid_grant", "the authorization code was issued to another client")
            self._dirty = True
            if record["used"]:
                # RFC 6749 §4.1.2: a code presented twice revokes what it was exchanged for.
                self._revoke_family(record["family"], "authorization code reused")
                raise GrantError("invalid_grant", "the authorization code has already been used")
            record["used"] = True  # any attempt spends the code
            if self.now() >= record["expires_at"]:
                raise GrantError("invalid_grant", "the authorization code has expired")
            if redirect_uri != record["redirect_uri"]:
                raise GrantError("invalid_grant", "redirect_uri differs from the one in the authorization request")
            if not hmac.compare_digest(signing.s256(verifier), record["challenge"]):
                raise GrantError("invalid_grant", "PKCE verification failed: code_verifier does not match")
            family_id = new_family_id()
            self._doc["families"][family_id] = {
                "client_id": client.client_id,
                "user_id": record["user_id"],
                "scope": record["scope"],
                "current": "",
                "current_expires_at": 0,
                "used": [],
                "revoked": False,
                "revoked_at": None,
                "revoked_reason": None,
                "created_at": self.now(),
            }
            record["family"] = family_id
            tokens = self._mint(client.client_id, record["user_id"], record["scope"], family_id)
            tokens["refresh_token"] = self._new_refresh(family_id)
            return tokens

    # -- refresh, client credentials -------------------------------------------------------

    def refresh(self, client: Client, refresh_token: str, scope: str | None) -> dict[str, Any]:
        """Rotate a refresh token (RFC 6749 §6) or raise ``GrantError``."""
        with self._transaction():
            digest = signing.digest(refresh_token)
            family_id = self._index.get(digest)
            fam = self._doc["families"].get(family_id or "")
            if fam is None or family_id is None:
                raise GrantError("invalid_grant", "the refresh token is not valid")
            if fam["client_id"] != client.client_id:
                raise GrantError("invalid_grant", "the refresh token was issued to another client")
            if fam["revoked"]:
                raise GrantError("invalid_grant", f"the refresh token has been revoked ({fam['revoked_reason']})")
            if digest != fam["current"]:
                self._revoke_family(family_id, "rotated refresh token reused")
                raise GrantError(
                    "invalid_grant", "the refresh token was already used; every token of its family is now revoked"
                )
            if self.now() >= fam["current_expires_at"]:
                raise GrantError("invalid_grant", "the refresh token has expired")
            granted = fam["scope"]
            if scope is not None:
                if not set(scope.split()) <= set(granted.split()) and granted != DEFAULT_SCOPE:
                    raise GrantError("invalid_scope", "the requested scope exceeds the one originally granted")
                granted = scope
            fam["used"] = (fam["used"] + [digest])[-USED_TOKENS_KEPT:]
            self._dirty = True
            tokens = self._mint(client.client_id, fam["user_id"], granted, family_id)
            tokens["refresh_token"] = self._new_refresh(family_id)
            return tokens

    def client_credentials(self, client: Client, scope: str | None, user_id: str) -> dict[str, Any]:
        """An access token for the client itself, acting as its owner; no refresh token (RFC 6749 §4.4.3)."""
        with self._transaction():
            return self._mint(client.client_id, user_id, scope or DEFAULT_SCOPE, None)

    # -- revocation ------------------------------------------------------------------------

    def revoke(self, client: Client, token: str) -> None:
        """RFC 7009: revoke a refresh token (its family) or an access token; unknown tokens are fine."""
        with self._transaction():
            family_id = self._index.get(signing.digest(token))
            fam = self._doc["families"].get(family_id or "")
            if fam is not None:
                if fam["client_id"] != client.client_id:
                    raise GrantError("unauthorized_client", "the token was issued to another client")
                self._revoke_family(family_id, "revoked by the client")
                return
            try:
                claims = signing.decode(token, self._key)
            except signing.InvalidJWT:
                return
            if claims.get("aud") != client.client_id:
                raise GrantError("unauthorized_client", "the token was issued to another client")
            if isinstance(claims.get("jti"), str) and isinstance(claims.get("exp"), (int, float)):
                self._doc["revoked_jtis"][claims["jti"]] = claims["exp"]
                self._dirty = True

    def revoke_all(self) -> None:
        """The "revoke every token" knob: all access tokens, refresh families and unused codes die."""
        with self._transaction():
            self._doc["generation"] += 1
            for family_id in self._doc["families"]:
                self._revoke_family(family_id, "every token was revoked")
            for record in self._doc["codes"].values():
                record["used"] = True
            self._dirty = True

    # -- access --------------------------------------------------------------------------

    def verify_access(self, token: str) -> tuple[Principal | None, str]:
        """Who a Bearer token acts for, or (None, why not)."""
        if hmac.compare_digest(token.encode("utf-8"), API_KEY.encode("utf-8")):
            me = self.seed.me["id"]
            return Principal(me, None, DEFAULT_SCOPE, "api-key", "api_key", None), ""
        with self._transaction():
            try:
                claims = signing.decode(token, self._key)
            except signing.InvalidJWT:
                return None, "the access token is malformed or its signature is invalid"
            exp = claims.get("exp")
            if not isinstance(exp, (int, float)) or self.now() >= exp:
                return None, "the access token expired"
            nbf = claims.get("nbf")
            if not isinstance(nbf, (int, float)) or self.now() < nbf:
                return None, "the access token is not valid yet"
            if claims.get("gen") != self._doc["generation"] or claims.get("jti") in self._doc["revoked_jtis"]:
                return None, "the access token has been revoked"
            family_id = claims.get("fam")
            if family_id is not None:
                fam = self._doc["families"].get(family_id)
                if fam is None or fam["revoked"]:
                    return None, "the access token has been revoked"
            user_id = claims.get("sub")
            if not isinstance(user_id, str) or self.seed.user(user_id) is None:
                return None, "the access token names no known user"
            return (
                Principal(user_id, claims.get("aud") if isinstance(claims.get("aud"), str) else None,
                          " ".join(map(str, scopes)) if isinstance(scopes := claims.get("scopes"), list) else "",
                          f"jti:{claims.get('jti')}", "jwt", exp),
                "",
            )

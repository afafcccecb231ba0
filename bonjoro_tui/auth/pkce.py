"""PKCE (RFC 7636, S256 only), state, and the authorization request URL.

Extra parameters (``BONJORO_AUTHORIZE_PARAMS``: ``prompt``, ``audience``, ``resource`` …) follow
ours in the URL; one that names a parameter we set ourselves is refused (``ValueError``; the
settings refuse it first, naming where it came from).
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit, urlunsplit

from bonjoro_tui.settings import OWNED_AUTHORIZE_PARAMS

#: RFC 7636 §4.1: 43–128 characters from the unreserved set.
VERIFIER_RE = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")


def new_verifier() -> str:
    """A code verifier from 384 random bits (64 bytes -> 86 base64url characters)."""
    return secrets.token_urlsafe(64)


def new_state() -> str:
    """An unguessable state value: 256 random bits."""
    return secrets.token_urlsafe(32)


def s256_challenge(verifier: str) -> str:
    """BASE64URL(SHA256(ASCII(verifier))) without padding."""
    if not VERIFIER_RE.match(verifier):
        raise ValueError("a PKCE code verifier must be 43-128 unreserved characters")
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@dataclass(frozen=True)
class AuthorizationRequest:
    authorize_url: str
    client_id: str
    redirect_uri: str
    state: str
    verifier: str
    challenge: str
    scope: str | None = None
    #: Extra (name, value) pairs, in order, after ours (never one of ``OWNED_AUTHORIZE_PARAMS``).
    params: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        owned = sorted({name for name, _ in self.params if name.lower() in OWNED_AUTHORIZE_PARAMS})
        if owned:
            raise ValueError(f"the authorization request sets {', '.join(owned)} itself")

    @classmethod
    def new(
        cls, authorize_url: str, client_id: str, redirect_uri: str, scope: str | None = None,
        params: tuple[tuple[str, str], ...] = (),
    ) -> "AuthorizationRequest":
        verifier = new_verifier()
        return cls(
            authorize_url=authorize_url,
            client_id=client_id,
            redirect_uri=redirect_uri,
            state=new_state(),
            verifier=verifier,
            challenge=s256_challenge(verifier),
            scope=scope,
            params=tuple(params),
        )

    @property
    def url(self) -> str:
        """The authorization URL; existing query parameters of the endpoint are kept."""
        params = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": self.redirect_uri,
            "state": self.state,
            "code_challenge": self.challenge,
            "code_challenge_method": "S256",
        }
        if self.scope:
            params["scope"] = self.scope
        parts = urlsplit(self.authorize_url)
        query = "&".join(q for q in (parts.query, urlencode(params), urlencode(self.params)) if q)
        return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))

    def __repr__(self) -> str:  # never show the verifier or state in a traceback
        return f"AuthorizationRequest(authorize_url={self.authorize_url!r}, client_id={self.client_id!r}, redirect_uri={self.redirect_uri!r})"

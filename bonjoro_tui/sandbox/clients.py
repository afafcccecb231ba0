"""The sandbox's registered clients, redirect-URI matching and client authentication.

Written for the server side only (no code shared with ``bonjoro_tui.auth``).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import re
from dataclasses import dataclass
from typing import Mapping
from urllib.parse import unquote_plus

from bonjoro_tui.sandbox.grants import API_KEY as API_KEY  # the API key, checked by grants (re-exported)

PUBLIC_CLIENT_ID = "sandbox-public"
CONFIDENTIAL_CLIENT_ID = "sandbox-confidential"
CONFIDENTIAL_CLIENT_SECRET = "sandbox-secret"

#: Loopback redirects: registered without a port, accepted with any port (RFC 8252 §7.3).
LOOPBACK_REDIRECTS = ("http://127.0.0.1/callback", "http://[::1]/callback")
#: The seed article's redirect URI, matched exactly.
SEED_REDIRECT = "http://localhost:3000/callback"


@dataclass(frozen=True)
class Client:
    client_id: str
    name: str
    secret: str | None  # None: a public client
    redirect_uris: tuple[str, ...]

    @property
    def is_public(self) -> bool:
        return self.secret is None

    @property
    def grant_types(self) -> tuple[str, ...]:
        base = ("authorization_code", "refresh_token")
        return base if self.is_public else base + ("client_credentials",)


CLIENTS: dict[str, Client] = {
    c.client_id: c
    for c in (
        Client(PUBLIC_CLIENT_ID, "Sandbox public client (PKCE)", None, LOOPBACK_REDIRECTS + (SEED_REDIRECT,)),
        Client(
            CONFIDENTIAL_CLIENT_ID,
            "Sandbox confidential client",
            CONFIDENTIAL_CLIENT_SECRET,
            LOOPBACK_REDIRECTS + (SEED_REDIRECT,),
        ),
    )
}


def redirect_uri_allowed(client: Client, uri: str) -> bool:
    """Exact match with a registered URI, except the port of an ``http`` loopback IP literal.

    ``http://127.0.0.1:PORT/callback`` and ``http://[::1]:PORT/callback`` match the registered
    port-less URIs for any PORT in 1..65535; everything else after the port must be identical.
    """
    if not uri or any(ord(c) <= 0x20 or ord(c) == 0x7F for c in uri) or "#" in uri:
        return False
    if uri in client.redirect_uris:
        return True
    match = _LOOPBACK_WITH_PORT.match(uri)
    if match is None or int(match.group("port")) > 65535:
        return False
    without_port = f"http://{match.group('host')}{uri[match.end():]}"
    return without_port in client.redirect_uris


_LOOPBACK_WITH_PORT = re.compile(r"http://(?P<host>127\.0\.0\.1|\[::1\]):(?P<port>[1-9][0-9]{0,4})(?=/)")


class ClientAuthError(Exception):
    """``invalid_client`` (401) or ``invalid_request`` (400) during client authentication."""

    def __init__(self, error: str, description: str, *, basic: bool = False) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.basic = basic  # the client tried HTTP Basic: answer with WWW-Authenticate: Basic


def _basic_credentials(header: str | None) -> tuple[str, str] | None:
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise ClientAuthError("invalid_client", "malformed HTTP Basic credentials", basic=True) from exc
    client_id, sep, secret = decoded.partition(":")
    if not sep:
        raise ClientAuthError("invalid_client", "malformed HTTP Basic credentials", basic=True)
    # RFC 6749 §2.3.1: both parts are form-urlencoded before being joined.
    return unquote_plus(client_id), unquote_plus(secret)


def authenticate_client(params: Mapping[str, object], authorization: str | None) -> Client:
    """The client making a token or revocation request, authenticated as RFC 6749 §2.3 says.

    A confidential client proves itself with its secret (HTTP Basic or ``client_secret`` in
    the body, never both); a public client identifies itself with ``client_id`` and must not
    present a secret.
    """
    basic = _basic_credentials(authorization)
    client_id: object
    secret: object
    body_id = params.get("client_id")
    body_secret = params.get("client_secret")
    if basic is not None and body_secret is not None:
        raise ClientAuthError("invalid_request", "use one client authentication method, not two")
    if basic is not None:
        client_id, secret = basic
        if body_id is not None and body_id != client_id:
            raise ClientAuthError("invalid_request", "client_id differs from the authenticated client")
    else:
        client_id, secret = body_id, body_secret
    if not isinstance(client_id, str) or not client_id:
        raise ClientAuthError("invalid_client", "client authentication failed: no client_id", basic=basic is not None)
    if secret is not None and not isinstance(secret, str):
        raise ClientAuthError("invalid_request", "client_secret must be a string")
    client = CLIENTS.get(client_id)
    if client is None:
        raise ClientAuthError("invalid_client", "client authentication failed: unknown client", basic=basic is not None)
    if client.secret is None:  # a public client
        if secret:
            raise ClientAuthError("invalid_client", "a public client has no secret", basic=basic is not None)
        return client
    if not secret or not hmac.compare_digest(secret.encode("utf-8"), client.secret.encode("utf-8")):
        raise ClientAuthError("invalid_client", "client authentication failed", basic=basic is not None)
    return client

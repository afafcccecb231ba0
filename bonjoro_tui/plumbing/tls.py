"""The TLS context of the session's HTTP client: verified like httpx's own, trust loaded when first needed.

httpx builds an ``ssl.SSLContext`` as soon as an ``AsyncClient`` is created and loads the whole
CA bundle into it (~3 MiB of memory, tens of milliseconds), even when every request goes to
``http://127.0.0.1`` — the sandbox, where a new user starts. :class:`DeferredTrustContext` is a
client context with the same verification (certificate required, host name checked) that loads
the same trust anchors httpx would load — ``SSL_CERT_FILE``, else ``SSL_CERT_DIR``, else
certifi's bundle (the first two only with ``trust_env``) — the first time a TLS connection is
wrapped.

It fails closed: until the anchors are loaded the context trusts no certificate at all, so a
handshake that reached OpenSSL some other way would fail verification, never pass unverified.
"""

from __future__ import annotations

import os
import ssl
import sys
import threading
from typing import Any


class DeferredTrustContext(ssl.SSLContext):
    """``ssl.create_default_context(cafile=…)`` for a client, with the CA file read on first use."""

    def __new__(cls, *, trust_env: bool = True) -> "DeferredTrustContext":
        return super().__new__(cls, ssl.PROTOCOL_TLS_CLIENT)

    def __init__(self, *, trust_env: bool = True) -> None:
        # PROTOCOL_TLS_CLIENT already means CERT_REQUIRED and check_hostname; say so anyway.
        self.verify_mode = ssl.CERT_REQUIRED
        self.check_hostname = True
        if sys.version_info >= (3, 13):  # what create_default_context adds from 3.13 on
            self.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN | ssl.VERIFY_X509_STRICT
        keylog = os.environ.get("SSLKEYLOGFILE")  # as create_default_context honours it
        if keylog and not sys.flags.ignore_environment and hasattr(self, "keylog_filename"):
            self.keylog_filename = keylog
        self._trust_loaded = False
        self._trust_lock = threading.Lock()
        # Chosen now, as httpx chooses when the client is created: a later change of the
        # environment does not change what this context trusts. Nothing is read yet.
        self._source, self._source_name = _trust_source(trust_env)

    @property
    def trust_loaded(self) -> bool:
        return self._trust_loaded

    def trust_source(self) -> dict[str, str]:
        """Where the anchors come from: ``{"cafile": …}`` or ``{"capath": …}`` (httpx's order)."""
        return dict(self._source)

    def load_trust(self) -> None:
        """Load the trust anchors now (once; safe from any thread).

        A file that cannot be read becomes an ``ssl.SSLError`` naming it (httpx reports it as a
        ``ConnectError``); the context then still trusts nothing, and the next connection tries again.
        """
        if self._trust_loaded:
            return
        with self._trust_lock:
            if not self._trust_loaded:
                try:
                    self.load_verify_locations(**self._source)
                except (OSError, ssl.SSLError) as exc:
                    raise ssl.SSLError(f"cannot load the trusted certificates from {self._source_name}: {exc}") from None
                self._trust_loaded = True

    # Every TLS connection starts here: asyncio and anyio call wrap_bio (anyio, for a subclass
    # like this one, in a worker thread, so the bundle is read off the event loop), blocking
    # sockets call wrap_socket.
    def wrap_bio(self, *args: Any, **kwargs: Any) -> ssl.SSLObject:
        self.load_trust()
        return super().wrap_bio(*args, **kwargs)

    def wrap_socket(self, *args: Any, **kwargs: Any) -> ssl.SSLSocket:
        self.load_trust()
        return super().wrap_socket(*args, **kwargs)


def _trust_source(trust_env: bool) -> tuple[dict[str, str], str]:
    """httpx's order: SSL_CERT_FILE, SSL_CERT_DIR (both only with trust_env), certifi's bundle."""
    if trust_env and os.environ.get("SSL_CERT_FILE"):
        return {"cafile": os.environ["SSL_CERT_FILE"]}, f"SSL_CERT_FILE={os.environ['SSL_CERT_FILE']}"
    if trust_env and os.environ.get("SSL_CERT_DIR"):
        return {"capath": os.environ["SSL_CERT_DIR"]}, f"SSL_CERT_DIR={os.environ['SSL_CERT_DIR']}"
    import certifi

    return {"cafile": certifi.where()}, f"certifi's bundle {certifi.where()}"

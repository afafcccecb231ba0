"""A tiny server on 127.0.0.1 that lacks what ``bonjoro-tui doctor`` looks for, one knob each.

``DoctorServer(**knobs)`` runs a plain ASGI app under uvicorn in a thread (reached over a real
loopback socket, as Bonjoro would be). By default it is "broken" the ways the doctor's tests want:

- ``authorize``: the status of ``GET /oauth/authorize`` (404 by default);
- ``token``: how ``POST /api/v2/oauth/2/token`` answers — ``"html"`` (a 200 web page), ``"form-only"``
  (reads form bodies only, as django-oauth-toolkit does: a JSON body looks empty to it, so it sees no
  client and answers ``invalid_client``; a form body gets ``invalid_request``), ``"oauth"`` (an OAuth
  error for either format), ``"hostile"`` (an OAuth error whose description holds terminal escapes);
- ``me``: whether ``GET /api/v2/me`` is served (no by default; ``GET /api/v2/users`` always is);
- ``users_by_id``: whether ``GET /api/v2/users/{id}`` is served (no by default);
- ``rate_limit``: whether API answers carry ``X-RateLimit-*`` (no by default);
- ``skew``: seconds added to the ``Date`` header (3600 by default; uvicorn's own is turned off);
- ``metadata``: whether ``/.well-known/oauth-authorization-server`` is served (no by default);
- ``tls``: serve https with the test CA's certificate for ``localhost`` (tests/data/tls); ``url`` is
  then ``https://localhost:PORT``.

``server.requests`` records every request: (method, path as sent, headers as a dict, body).
"""

from __future__ import annotations

import json
import time
from email.utils import formatdate
from pathlib import Path
from typing import Any

from support import LoopbackServer, read_body

TLS = Path(__file__).resolve().parents[1] / "data" / "tls"
HOSTILE = "bad \x1b]52;c;QUFB\x07 \x1b[2J \u202eevil\u202c"


class DoctorServer(LoopbackServer):
    def __init__(self, *, authorize: int = 404, token: str = "html", me: bool = False, rate_limit: bool = False,
                 skew: float = 3600.0, metadata: bool = False, tls: bool = False, users_by_id: bool = False) -> None:
        self.knobs: dict[str, Any] = {"authorize": authorize, "token": token, "me": me, "rate_limit": rate_limit,
                                      "skew": skew, "metadata": metadata, "users_by_id": users_by_id}
        self.requests: list[tuple[str, str, dict[str, str], bytes]] = []
        certs = {"ssl_certfile": str(TLS / "server.pem"), "ssl_keyfile": str(TLS / "server.key")} if tls else {}
        super().__init__(self.app, name="the doctor's test server", interface="asgi3",
                         date_header=False, server_header=False, **certs)
        if tls:
            self.url = f"https://localhost:{self.port}"

    def authorizations(self) -> list[str]:
        """The Authorization headers the server was sent."""
        return [h["authorization"] for _, _, h, _ in self.requests if "authorization" in h]

    async def app(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = await read_body(receive)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        method, path = scope["method"], scope["path"]
        self.requests.append((method, scope.get("raw_path", b"").decode("latin-1") or path, headers, body))
        status, ctype, payload, extra = self.route(method, path, headers, body)
        date = formatdate(time.time() + self.knobs["skew"], usegmt=True)
        out = [(b"content-type", ctype.encode()), (b"content-length", str(len(payload)).encode()),
               (b"date", date.encode())] + [(k.encode(), v.encode()) for k, v in extra]
        await send({"type": "http.response.start", "status": status, "headers": out})
        await send({"type": "http.response.body", "body": payload})

    def route(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, str, bytes, list]:
        k = self.knobs
        html = "text/html; charset=utf-8"
        if path == "/oauth/authorize":
            page = b"<!doctype html><html><head><title>Sign in</title></head><body>sign in</body></html>"
            return k["authorize"], html, page if k["authorize"] != 404 else b"<html><title>Not Found</title></html>", []
        if path == "/.well-known/oauth-authorization-server" and k["metadata"]:
            doc = {"issuer": self.url, "authorization_endpoint": f"{self.url}/oauth/authorize",
                   "token_endpoint": f"{self.url}/somewhere/else/token", "code_challenge_methods_supported": ["S256"]}
            return 200, "application/json", json.dumps(doc).encode(), []
        if path == "/api/v2/oauth/2/token" and method == "POST":
            return self.token(headers, body)
        if path.startswith("/api/v2/"):
            extra = [("x-ratelimit-limit", "60"), ("x-ratelimit-remaining", "59")] if k["rate_limit"] else []
            if not headers.get("authorization", "").startswith("Bearer "):
                return 401, "application/json", b'{"message": "Unauthenticated."}', extra
            user = {"id": 7, "name": "Eve Example", "email": "eve@example.test"}
            if path == "/api/v2/me" and k["me"]:
                return 200, "application/json", json.dumps({"data": user}).encode(), extra
            if path.startswith("/api/v2/users/") and k["users_by_id"]:
                return 200, "application/json", json.dumps({"data": dict(user, id=path.rsplit("/", 1)[1])}).encode(), extra
            if path == "/api/v2/users":
                page = {"data": [user], "current_page": 1, "per_page": 1}
                return 200, "application/json", json.dumps(page).encode(), extra
        return 404, html, b"<!doctype html><html><title>404 Not Found</title></html>", []

    def token(self, headers: dict[str, str], body: bytes) -> tuple[int, str, bytes, list]:
        mode = self.knobs["token"]
        ctype = headers.get("content-type", "").split(";")[0]
        if mode == "html":
            return 200, "text/html", b"<!doctype html><html><title>Welcome</title><body>our app</body></html>", []
        if mode == "hostile":
            error = {"error": "invalid_request", "error_description": HOSTILE}
            return 400, "application/json", json.dumps(error).encode(), []
        if mode == "form-only":
            if ctype != "application/x-www-form-urlencoded":
                error = {"error": "invalid_client", "error_description": "no client"}
                return 401, "application/json", json.dumps(error).encode(), []
        error = {"error": "invalid_request", "error_description": "grant_type is required"}
        return 400, "application/json", json.dumps(error).encode(), []

"""The sandbox as one plain ASGI application: Host check, latency, faults, routing.

The OAuth endpoints (``sandbox.oauth``: the consent page, its HTML, the registered clients) are
imported on the first request for one of them: a one-shot command that starts its own sandbox for
one API call (``bonjoro-tui api GET /me``, issue 16) never loads them.
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import TYPE_CHECKING, Any, Iterable, Mapping

from bonjoro_tui.sandbox import admin, announce, api
from bonjoro_tui.sandbox.state import SandboxState
from bonjoro_tui.sandbox.web import BadRequest, Receive, Request, Response, Send, json_response

if TYPE_CHECKING:
    from types import ModuleType

log = logging.getLogger("bonjoro_tui.sandbox")

#: The token endpoint's paths: Bonjoro's own, and the one its seed article names.
TOKEN_PATHS = ("/oauth/token", f"{api.PREFIX}/oauth/2/token")

#: Host names the sandbox answers to: a request naming any other host (a DNS-rebinding page
#: at evil.example resolving to 127.0.0.1) is refused.
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "[::1]"})
_HOST = re.compile(r"(?P<name>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::[0-9]{1,5})?")


def _host_allowed(host_header: str, allowed: frozenset[str]) -> bool:
    match = _HOST.fullmatch(host_header)
    return match is not None and match.group("name").lower() in allowed


def _oauth() -> ModuleType:
    from bonjoro_tui.sandbox import oauth

    return oauth


def _index(req: Request) -> Response:
    return json_response(
        {
            "name": "Bonjoro sandbox",
            "authorize_url": f"{req.origin}/oauth/authorize",
            "token_url": f"{req.origin}/api/v2/oauth/2/token",
            "token_url_seed": f"{req.origin}/oauth/token",
            "revoke_url": f"{req.origin}/oauth/revoke",
            "api_base": f"{req.origin}/api/v2",
            "admin": f"{req.origin}/_sandbox/",
        }
    )


class SandboxApp:
    """ASGI 3 application. ``allowed_hosts``: extra host names besides the loopback ones."""

    def __init__(self, state: SandboxState, allowed_hosts: Iterable[str] = ()) -> None:
        self.state = state
        extra = {h.lower() if not (":" in h and not h.startswith("[")) else f"[{h.lower()}]" for h in allowed_hosts}
        self.allowed_hosts = LOOPBACK_HOSTS | extra
        #: Answers ``GET /_sandbox/info`` (and proves the announcement: sandbox/announce.py).
        self.identity = announce.Identity()

    async def __call__(self, scope: Mapping[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return  # lifespan is off; websockets are not served
        try:
            req = await Request.read(scope, receive)
        except BadRequest as exc:
            await json_response({"error": exc.message}, exc.status).send(send)
            return
        try:
            response = await self.dispatch(req)
        except Exception:  # never let a bug take the server down; never echo the request
            log.exception("sandbox: unhandled error on %s %s", req.method, req.path)
            response = json_response({"message": "Server Error"}, 500)
        await response.send(send)

    async def dispatch(self, req: Request) -> Response:
        if not _host_allowed(req.host, self.allowed_hosts):
            return json_response({"error": "misdirected request: this sandbox only answers to its own address"}, 421)
        path = req.path
        if path == announce.INFO_PATH and req.method == "GET":
            return self.identity.info(req)
        if path == admin.PREFIX or path.startswith(admin.PREFIX + "/"):
            return await admin.handle(req, self.state)
        latency = self.state.knobs["latency"]
        if latency > 0:
            await asyncio.sleep(latency)
        if path in TOKEN_PATHS:
            return await _oauth().token(req, self.state)
        if path.startswith(api.PREFIX + "/"):
            return await api.handle(req, self.state)
        fault = self.state.take_fault("other")
        if fault is not None:
            return _oauth().fault_response(fault)
        if path == "/oauth/authorize" and req.method in ("GET", "POST"):
            return await _oauth().authorize(req, self.state)
        if path == "/oauth/revoke":
            return await _oauth().revoke(req, self.state)
        if path == "/" and req.method == "GET":
            return _index(req)
        if path == "/.well-known/oauth-authorization-server" and req.method == "GET":
            return await _oauth().metadata(req, self.state)
        return json_response(api.error_body(404, "Not Found"), 404)


def create_app(state: SandboxState | None = None, *, allowed_hosts: Iterable[str] = ()) -> SandboxApp:
    """The sandbox as an ASGI app (also usable with ``httpx.ASGITransport``)."""
    return SandboxApp(state if state is not None else SandboxState(), allowed_hosts)

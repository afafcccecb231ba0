"""Helpers and fixtures for the sandbox's own tests (fixtures are re-exported by conftest.py).

In-process tests talk to the ASGI app through ``httpx.ASGITransport`` with an injected clock;
the PKCE pair is computed here by hand (no project client code is used against the sandbox).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import uvicorn
from openapi_check import assert_api_response

from bonjoro_tui.sandbox import create_app
from bonjoro_tui.sandbox.server import bind_socket
from bonjoro_tui.sandbox.state import SandboxState

BASE = "http://127.0.0.1"
PUBLIC = "sandbox-public"
CONFIDENTIAL = "sandbox-confidential"
SECRET = "sandbox-secret"
REDIRECT = "http://127.0.0.1:8765/callback"


class Clock:
    """A clock tests move by hand."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(64)[:96]
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=").decode()
    return verifier, challenge


def authorize_query(**overrides: Any) -> dict[str, str]:
    params = {
        "client_id": PUBLIC,
        "redirect_uri": REDIRECT,
        "response_type": "code",
        "state": "st-" + secrets.token_urlsafe(8),
        "code_challenge": pkce_pair()[1],
        "code_challenge_method": "S256",
    }
    params.update(overrides)
    return {k: v for k, v in params.items() if v is not None}


def redirect_params(response: httpx.Response) -> dict[str, str]:
    assert response.status_code in (302, 303), response.text
    query = parse_qs(urlsplit(response.headers["location"]).query, keep_blank_values=True)
    return {k: v[0] for k, v in query.items()}


@dataclass
class Sandbox:
    """An in-process sandbox: its state, clock and an httpx client bound to its ASGI app."""

    state: SandboxState
    clock: Clock
    http: httpx.AsyncClient

    async def code(self, *, client_id: str = PUBLIC, redirect_uri: str = REDIRECT, **extra: str) -> tuple[str, str]:
        """Run /oauth/authorize with auto-approve; returns (code, verifier)."""
        verifier, challenge = pkce_pair()
        self.state.set_knobs(auto_approve=True)
        r = await self.http.get("/oauth/authorize", params=authorize_query(
            client_id=client_id, redirect_uri=redirect_uri, code_challenge=challenge, **extra))
        return redirect_params(r)["code"], verifier

    async def token(self, body: dict[str, str], *, form: bool = False, **kwargs: Any) -> httpx.Response:
        if form:
            return await self.http.post("/api/v2/oauth/2/token", data=body, **kwargs)
        return await self.http.post("/api/v2/oauth/2/token", json=body, **kwargs)

    async def sign_in(self, client_id: str = PUBLIC) -> dict[str, Any]:
        code, verifier = await self.code(client_id=client_id)
        body = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
                "client_id": client_id, "code_verifier": verifier}
        if client_id == CONFIDENTIAL:
            body["client_secret"] = SECRET
        r = await self.token(body)
        assert r.status_code == 200, r.text
        return r.json()

    async def api(self, method: str, path: str, token: str = "sandbox-api-key", **kwargs: Any) -> httpx.Response:
        """An API call; every response is checked against the published definition (or Bonjoro's error shapes)."""
        r = await self.http.request(method, "/api/v2" + path, headers={"Authorization": f"Bearer {token}"}, **kwargs)
        assert_api_response(method, urlsplit(str(r.url)).path, r.status_code, r.json())
        assert r.headers["x-ratelimit-limit"] and r.headers["x-ratelimit-remaining"]
        return r


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def sandbox(clock) -> Sandbox:
    state = SandboxState(now=clock)
    transport = httpx.ASGITransport(app=create_app(state))
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as http:
        yield Sandbox(state, clock, http)


@dataclass
class CallbackReceiver:
    """A stand-in for the app's loopback callback server (uvicorn on 127.0.0.1:0)."""

    url: str
    hits: list[str] = field(default_factory=list)


@pytest.fixture
def callback_receiver():
    hits: list[str] = []

    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        hits.append(scope["path"] + "?" + scope["query_string"].decode())
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"signed in, you can close this tab"})

    sock = bind_socket("127.0.0.1", 0)
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=lambda: server.run(sockets=[sock]), daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.005)
    port = sock.getsockname()[1]
    yield CallbackReceiver(f"http://127.0.0.1:{port}/callback", hits)
    server.should_exit = True
    thread.join(5)
    sock.close()

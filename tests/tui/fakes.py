"""A small stand-in for the session, honouring the contract in docs/DESIGN.md, for the tests of
layout and wiring that do not need the real core (the flows run against the real core and
sandbox in test_flows.py)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import httpx

from bonjoro_tui.settings import load_settings
from bonjoro_tui.store import StoredProfile, TokenStore
from bonjoro_tui.tokens import TokenSet

T0 = 1_800_000_000.0  # 2027-01-15 08:00:00 UTC
ME = {"data": {"id": "9b1c", "name": "Ada Lovelace", "email": "ada@example.com"}}


class Clock:
    def __init__(self, t: float = T0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


@dataclass
class FakeResponse:
    status: int
    content: bytes
    headers: dict[str, str] = field(default_factory=dict)
    elapsed: float = 0.0


class FakeClient:
    def __init__(self, settings, store, now) -> None:
        self.settings, self.store, self.now = settings, store, now
        self.on_refresh = None
        self.http = httpx.AsyncClient()
        self.fail_with: Exception | None = None
        self.responses: dict[str, Any] = {"/me": ME}

    async def me(self, *, refresh_on_401: bool = True) -> dict:
        if self.fail_with:
            raise self.fail_with
        return ME

    async def request(self, method, path, *, params=None, json=None, headers=None, retry=True):
        if self.fail_with:
            raise self.fail_with
        body = self.responses.get(path, {"error": {"message": "Not found", "status_code": 404}})
        status = 200 if path in self.responses else 404
        import json as _json

        return FakeResponse(status, _json.dumps(body).encode(), {"X-RateLimit-Limit": "600", "X-RateLimit-Remaining": "599"})

    def token_for(self, path: str) -> str:
        # The real client also refuses other origins (tests/adversarial/test_hostile_config.py).
        return self.store.load(self.settings.profile).tokens.access_token

    async def refresh_now(self):
        p = self.store.load(self.settings.profile)
        t = p.tokens
        p = StoredProfile(p.name, p.target, p.method, p.client_id,
                          TokenSet("fresh-access-token-0123456789", self.now(), refresh_token="fresh-refresh-0123456789",
                                   scope=t.scope, expires_at=self.now() + 3600), self.now(), "ok")
        self.store.save(p)
        return p

    async def logout_detailed(self, *, forget: bool = False):
        self.store.delete(self.settings.profile)

        class R:
            revoked_all = True
            not_revoked: list = []

        return R()


class FakeSession:
    def __init__(self, now=None, sandbox=None) -> None:
        self.now = now or Clock()
        self.settings = load_settings().resolved_for_sandbox("http://127.0.0.1:8765")
        self.store = TokenStore(self.settings.store_path)
        self.client = FakeClient(self.settings, self.store, self.now)
        self.http = self.client.http
        self.sandbox = sandbox
        self.debug_log = None

    def add_secret(self, secret) -> None:
        pass

    async def client_ready(self):
        return self.client

    def load_profile(self):
        return self.store.load(self.settings.profile)

    def switch_profile(self, name: str) -> None:
        from dataclasses import replace

        self.settings = replace(self.settings, profile=name)
        self.client = FakeClient(self.settings, self.store, self.now)
        self.client.http = self.http

    def sign_in(self, lifetime: float = 3600) -> StoredProfile:
        p = StoredProfile(
            self.settings.profile, self.settings.target_id, "code", "sandbox-public",
            TokenSet("eyJhbGciOiJIUzI1NiJ9.fake-access-token-abcdefghijkl", self.now(),
                     refresh_token="fake-refresh-token-abcdefghijkl", scope="read write",
                     expires_at=self.now() + lifetime),
        )
        self.store.save(p)
        return p

    def close(self) -> None:
        pass

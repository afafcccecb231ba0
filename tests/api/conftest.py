"""Fixtures for the API client tests: settings for a fake live server, a real token store, a clock."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl

import httpx
import pytest

from bonjoro_tui.settings import load_settings
from bonjoro_tui.store import StoredProfile, TokenStore
from bonjoro_tui.tokens import TokenSet

BASE = "https://bonjoro.test"
API = BASE + "/api/v2"
TOKEN_URL = BASE + "/api/v2/oauth/2/token"
REVOKE_URL = BASE + "/oauth/revoke"
T0 = 1_800_000_000.0


class Clock:
    def __init__(self, t: float = T0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def settings(tmp_path):
    env = {
        "BONJORO_BASE_URL": BASE,
        "BONJORO_CLIENT_ID": "client-1",
        "BONJORO_TUI_DATA_DIR": str(tmp_path / "data"),
        "BONJORO_TUI_CONFIG_DIR": str(tmp_path / "config"),
        "BONJORO_TUI_LOG_DIR": str(tmp_path / "logs"),
    }
    return load_settings(env=env, cwd=tmp_path)


@pytest.fixture
def store(settings):
    return TokenStore(settings.store_path)


def make_profile(settings, *, access="access-0", refresh="refresh-0", obtained=T0, lifetime=3600.0,
                 method="code", target=None) -> StoredProfile:
    return StoredProfile(
        name=settings.profile,
        target=target or settings.target_id,
        method=method,
        client_id=settings.client_id,
        tokens=TokenSet(
            access_token=access,
            obtained_at=obtained,
            refresh_token=refresh,
            expires_at=None if lifetime is None else obtained + lifetime,
        ),
    )


def request_fields(request: httpx.Request) -> dict[str, str]:
    """The token endpoint's parameters, whichever body format the client used."""
    body = request.content.decode()
    if request.headers.get("content-type", "").startswith("application/json"):
        return {k: str(v) for k, v in json.loads(body).items()}
    return dict(parse_qsl(body))


def bearer(request: httpx.Request) -> str | None:
    value = request.headers.get("authorization", "")
    return value[len("Bearer "):] if value.startswith("Bearer ") else None

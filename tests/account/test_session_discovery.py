"""open_session reads an issuer's metadata once, before anything else is sent (auth/discovery.py)."""

from __future__ import annotations

import pytest

from bonjoro_tui.account.session import open_session
from bonjoro_tui.auth.errors import DiscoveryError
from bonjoro_tui.sandbox import SandboxServer
from bonjoro_tui.settings import load_settings


@pytest.fixture
def server():
    with SandboxServer(port=0) as s:
        yield s


def load(tmp_path, **env):
    return load_settings(env={"BONJORO_TUI_DATA_DIR": str(tmp_path / "data"),
                              "BONJORO_TUI_CONFIG_DIR": str(tmp_path / "config"), "NO_PROXY": "127.0.0.1", **env},
                         cwd=tmp_path)


async def test_the_session_holds_the_discovered_endpoints(tmp_path, server):
    settings = load(tmp_path, BONJORO_ISSUER=server.url, BONJORO_CLIENT_ID="sandbox-public")
    assert settings.token_url is None
    session = open_session(settings)
    try:
        s = session.settings
        assert session.sandbox is None  # the issuer names the server: no built-in sandbox is started
        assert s.metadata_url == f"{server.url}/.well-known/oauth-authorization-server"
        assert s.token_url == f"{server.url}/api/v2/oauth/2/token" and s.revoke_url == f"{server.url}/oauth/revoke"
        assert s.target_id == server.url and s.issuer == server.url
    finally:
        await session.aclose()


def test_a_refused_document_stops_the_session(tmp_path, server):
    with pytest.raises(DiscoveryError, match="RFC 8414"):
        open_session(load(tmp_path, BONJORO_ISSUER=server.url + "/", BONJORO_CLIENT_ID="c"))

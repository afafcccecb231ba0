"""open_session: the sandbox is started when it is the target, endpoints resolved, everything closed."""

from __future__ import annotations

import socket
import stat

import httpx
import respx

from bonjoro_tui.plumbing.debug import LOG_FILE_NAME
from bonjoro_tui.account.session import open_session
from bonjoro_tui.settings import load_settings


def _port_open(url: str) -> bool:
    u = httpx.URL(url)
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex((u.host, u.port)) == 0


async def test_sandbox_target_starts_a_sandbox_and_resolves_every_endpoint():
    settings = load_settings()
    assert settings.target == "sandbox" and settings.api_base is None
    session = open_session(settings)
    try:
        url = session.sandbox.url
        assert url.startswith("http://127.0.0.1:")
        s = session.settings
        assert (s.api_base, s.token_url, s.revoke_url) == (
            f"{url}/api/v2",
            f"{url}/api/v2/oauth/2/token",
            f"{url}/oauth/revoke",
        )
        assert s.target_id == "sandbox"  # tokens survive the sandbox's port changing between runs
        assert session.client.settings is s and session.client.http is session.http
        assert session.sandbox.state.state_file == settings.data_dir / "sandbox" / "state.json"
        assert session.debug_log is None
        r = await session.http.get(f"{url}/api/v2/me")
        assert r.status_code == 401
    finally:
        await session.aclose()
    assert session.http.is_closed
    assert not _port_open(url)


async def test_live_target_starts_no_sandbox_and_debug_logs_to_a_private_file(monkeypatch, tmp_path):
    monkeypatch.setenv("BONJORO_BASE_URL", "https://bonjoro.test")
    monkeypatch.setenv("BONJORO_CLIENT_ID", "client-1")
    monkeypatch.setenv("BONJORO_CLIENT_SECRET", "a-client-secret-value")
    settings = load_settings({"debug": True})
    session = open_session(settings)
    try:
        assert session.sandbox is None and session.settings is settings
        assert session.debug_log is not None
        with respx.mock:  # no network: the hooks are what is under test
            respx.get("https://bonjoro.test/api/v2/ping").respond(200, json={"echo": "a-client-secret-value"})
            await session.http.get("https://bonjoro.test/api/v2/ping")
    finally:
        await session.aclose()
    log = settings.log_dir / LOG_FILE_NAME
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    text = log.read_text()
    assert "→ GET https://bonjoro.test/api/v2/ping" in text
    assert "a-client-secret-value" not in text


async def test_the_session_client_honours_proxy_settings_from_the_environment(monkeypatch):
    """trust_env stays on: a request for an unresolvable host reaches the proxy named in HTTP_PROXY."""
    from bonjoro_tui.sandbox import SandboxServer

    with SandboxServer(port=0) as proxy:  # any HTTP server will do: it only has to receive the request
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        monkeypatch.setenv("BONJORO_BASE_URL", "https://bonjoro.test")
        monkeypatch.setenv("BONJORO_CLIENT_ID", "client-1")
        session = open_session(load_settings())
        try:
            r = await session.http.get("http://bonjoro.invalid/api/v2/me")
        finally:
            await session.aclose()
    assert r.status_code == 421  # the sandbox refusing a request for a host that is not its own
    assert "misdirected" in r.text


async def test_debug_session_reports_a_corrupt_store_it_had_to_move_aside(capsys):
    settings = load_settings({"debug": True})
    settings.store_path.parent.mkdir(parents=True)
    settings.store_path.write_text("this is [not toml")
    session = open_session(settings)
    await session.aclose()
    err = capsys.readouterr().err
    assert "moved to" in err and str(settings.store_path) in err
    assert not settings.store_path.exists()
    assert list(settings.store_path.parent.glob("tokens.toml.corrupt-*"))


async def test_the_sandbox_keeps_its_port_from_one_session_to_the_next():
    settings = load_settings()
    first = open_session(settings)
    url = first.sandbox.url
    await first.aclose()
    port_file = settings.data_dir / "sandbox" / "port"
    assert port_file.read_text().strip() == url.rsplit(":", 1)[1]
    assert stat.S_IMODE(port_file.stat().st_mode) == 0o600
    second = open_session(settings)
    try:
        # A pagination link printed by one command can be followed by the next.
        assert second.sandbox.url == url
        assert second.settings.api_base == first.settings.api_base
    finally:
        await second.aclose()


async def test_a_taken_sandbox_port_falls_back_to_any_free_port():
    settings = load_settings()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        state_dir = settings.data_dir / "sandbox"
        state_dir.mkdir(parents=True)
        (state_dir / "port").write_text(f"{port}\n")
        session = open_session(settings)
        got = session.sandbox.port
        try:
            assert got != port
            assert (await session.http.get(f"{session.sandbox.url}/api/v2/me")).status_code == 401
        finally:
            await session.aclose()
    assert (state_dir / "port").read_text().strip() == str(got)  # the next run tries this one


async def test_a_garbled_port_file_is_ignored():
    settings = load_settings()
    state_dir = settings.data_dir / "sandbox"
    state_dir.mkdir(parents=True)
    (state_dir / "port").write_text("not a port")
    session = open_session(settings)
    try:
        assert session.sandbox.url.startswith("http://127.0.0.1:")
    finally:
        await session.aclose()
    assert (state_dir / "port").read_text().strip().isdigit()

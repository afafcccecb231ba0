"""SandboxServer on real loopback sockets, and the sandbox browser (function and script)."""

from __future__ import annotations

import socket
import subprocess
import sys
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from bonjoro_tui.sandbox import SandboxServer, SandboxServerError
from bonjoro_tui.sandbox.browser import ApprovalError, approve

from .helpers import authorize_query

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def consent_server():
    with SandboxServer() as server:
        yield server


def auth_url(server: SandboxServer, redirect_uri: str, **overrides: str) -> str:
    return f"{server.url}/oauth/authorize?{urlencode(authorize_query(redirect_uri=redirect_uri, **overrides))}"


def test_start_listens_on_a_free_loopback_port_and_stop_closes_it():
    server = SandboxServer()
    server.start()
    try:
        assert server.url == f"http://127.0.0.1:{server.port}" and server.port > 0
        assert httpx.get(server.url + "/").json()["name"] == "Bonjoro sandbox"
    finally:
        server.stop()
    with pytest.raises(httpx.ConnectError):
        httpx.get(server.url + "/", timeout=2)


def test_binds_only_the_host_it_is_given(consent_server):
    # Linux routes all of 127/8 to lo: a server bound to 0.0.0.0 would answer on 127.0.0.2 too.
    with pytest.raises(OSError):  # refused
        socket.create_connection(("127.0.0.2", consent_server.port), timeout=2).close()
    socket.create_connection(("127.0.0.1", consent_server.port), timeout=2).close()


def test_port_in_use_is_a_clear_error(consent_server):
    with pytest.raises(SandboxServerError, match="cannot listen on 127.0.0.1"):
        SandboxServer(port=consent_server.port).start()


def test_foreign_host_header_is_refused_over_the_wire(consent_server):
    r = httpx.get(consent_server.url + "/api/v2/me", headers={"Host": "rebind.example", "Authorization": "Bearer sandbox-api-key"})
    assert r.status_code == 421


async def test_approve_submits_the_consent_form_and_delivers_the_callback(consent_server, callback_receiver):
    url = auth_url(consent_server, callback_receiver.url, state="state-1")
    location = await approve(url)
    params = parse_qs(urlsplit(location).query)
    assert location.startswith(callback_receiver.url + "?") and params["state"] == ["state-1"]
    assert len(callback_receiver.hits) == 1 and callback_receiver.hits[0] == urlsplit(location).path + "?" + urlsplit(location).query


async def test_deny_delivers_access_denied(consent_server, callback_receiver):
    location = await approve(auth_url(consent_server, callback_receiver.url, state="s2"), decision="deny")
    assert parse_qs(urlsplit(location).query)["error"] == ["access_denied"]
    assert "error=access_denied" in callback_receiver.hits[0]


async def test_approve_works_with_an_in_process_client_and_auto_approve():
    with SandboxServer(auto_approve=True) as server:
        async with httpx.AsyncClient() as http:
            location = await approve(auth_url(server, "http://127.0.0.1:9/callback"), http=http, deliver=False)
    assert "code" in parse_qs(urlsplit(location).query)


async def test_approve_reports_a_refused_request(consent_server):
    with pytest.raises(ApprovalError, match="HTTP 400.*redirect_uri"):
        await approve(auth_url(consent_server, "http://127.0.0.1:1/elsewhere"))


async def test_approve_talks_only_to_loopback():
    with pytest.raises(ApprovalError, match="loopback"):
        await approve("https://app.bonjoro.com/oauth/authorize?client_id=x")


async def test_approve_reports_an_undeliverable_callback(consent_server):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(ApprovalError, match="could not deliver the callback"):
        await approve(auth_url(consent_server, f"http://127.0.0.1:{port}/callback"))


def run_browser(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bonjoro_tui.sandbox.browser", *args],
                          capture_output=True, text=True, timeout=30)


def test_browser_script_approves_and_never_prints_the_code(consent_server, callback_receiver):
    proc = run_browser(auth_url(consent_server, callback_receiver.url))
    assert proc.returncode == 0, proc.stderr
    code = parse_qs(callback_receiver.hits[0].split("?", 1)[1])["code"][0]
    assert code not in proc.stdout + proc.stderr
    assert "callback delivered to " + callback_receiver.url in proc.stderr


def test_browser_script_fails_with_one_line_on_a_refusal(consent_server):
    proc = run_browser(auth_url(consent_server, "http://127.0.0.1:1/not-registered"))
    assert proc.returncode == 1
    assert proc.stderr.startswith("sandbox browser: the sandbox answered HTTP 400") and proc.stderr.count("\n") == 1

"""``bonjoro-tui sandbox`` as a subprocess, driven with plain httpx over real loopback sockets.

No project client code is used: PKCE, the authorization request and the token requests are
written out here by hand, as any third-party client would.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import secrets
import selectors
import signal
import subprocess
import sys
import time
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from openapi_check import assert_api_response, assert_matches_spec

pytestmark = pytest.mark.integration

REDIRECT = "http://127.0.0.1:53682/callback"
TOKEN = "/api/v2/oauth/2/token"
FIRST_LINE = re.compile(r"Bonjoro sandbox listening on (http://127\.0\.0\.1:(\d+))")


class CliSandbox:
    def __init__(self, *args: str, cwd) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bonjoro_tui", "sandbox", "--port", "0", *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd,
            # A data dir of its own: the module's sandbox starts before the per-test isolation, and
            # `bonjoro-tui sandbox` is the data directory's sandbox (its state file, announced there).
            env={**os.environ, "PYTHONUNBUFFERED": "1", "BONJORO_TUI_DATA_DIR": os.path.join(cwd, "data")},
        )
        self.first_line = self._read_line(timeout=30)
        match = FIRST_LINE.fullmatch(self.first_line)
        assert match, f"unexpected first line {self.first_line!r}; stderr: {self.proc.stderr.read() if self.proc.poll() is not None else ''}"
        self.url = match.group(1)
        self.http = httpx.Client(base_url=self.url, timeout=10, trust_env=False)

    def _read_line(self, timeout: float) -> str:
        """The first stdout line, read byte by byte from the pipe so nothing after it is buffered away."""
        fd = self.proc.stdout.fileno()
        data = b""
        deadline = time.monotonic() + timeout
        with selectors.DefaultSelector() as sel:
            sel.register(fd, selectors.EVENT_READ)
            while not data.endswith(b"\n"):
                if not sel.select(max(0.0, deadline - time.monotonic())):
                    self.proc.kill()
                    raise AssertionError(f"the sandbox printed no full line (got {data!r})")
                chunk = os.read(fd, 1)
                if not chunk:
                    break
                data += chunk
        return data.decode().rstrip("\n")

    def stop(self, sig: int = signal.SIGTERM) -> tuple[int, str, str]:
        self.http.close()
        self.proc.send_signal(sig)
        out, err = self.proc.communicate(timeout=20)
        return self.proc.returncode, out, err


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def authorize(sb: CliSandbox, redirect_uri: str = REDIRECT, method: str = "S256") -> tuple[httpx.Response, str]:
    verifier, challenge = pkce()
    state = secrets.token_urlsafe(16)
    query = {"client_id": "sandbox-public", "redirect_uri": redirect_uri, "response_type": "code", "state": state,
             "code_challenge": challenge if method == "S256" else verifier, "code_challenge_method": method}
    r = sb.http.get("/oauth/authorize?" + urlencode(query))
    if r.status_code == 302:
        params = parse_qs(urlsplit(r.headers["location"]).query)
        assert params["state"] == [state]
    return r, verifier


def get_code(sb: CliSandbox) -> tuple[str, str]:
    r, verifier = authorize(sb)
    assert r.status_code == 302 and r.headers["location"].startswith(REDIRECT + "?")
    return parse_qs(urlsplit(r.headers["location"]).query)["code"][0], verifier


def exchange(sb: CliSandbox, code: str, verifier: str, redirect_uri: str = REDIRECT) -> httpx.Response:
    return sb.http.post(TOKEN, json={"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
                                     "client_id": "sandbox-public", "code_verifier": verifier})


def refresh(sb: CliSandbox, refresh_token: str) -> httpx.Response:
    return sb.http.post("/oauth/token", data={"grant_type": "refresh_token", "refresh_token": refresh_token,
                                              "client_id": "sandbox-public"})


def me(sb: CliSandbox, access_token: str) -> httpx.Response:
    r = sb.http.get("/api/v2/me", headers={"Authorization": f"Bearer {access_token}"})
    assert_api_response("GET", "/api/v2/me", r.status_code, r.json())
    return r


def assert_error(r: httpx.Response, error: str, status: int = 400) -> None:
    assert r.status_code == status, r.text
    assert r.json()["error"] == error


@pytest.fixture(scope="module")
def sb(tmp_path_factory):
    sandbox = CliSandbox("--auto-approve", cwd=tmp_path_factory.mktemp("cli-sandbox"))
    yield sandbox
    code, _, err = sandbox.stop()
    assert code == 0, err


def test_code_pkce_token_me_refresh_revoke(sb):
    code, verifier = get_code(sb)
    r = exchange(sb, code, verifier)
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    tokens = r.json()
    assert_matches_spec("POST", TOKEN, 200, tokens)
    assert tokens["token_type"] == "Bearer"

    r = me(sb, tokens["access_token"])
    assert r.status_code == 200 and r.headers["x-ratelimit-limit"] == "600"
    assert_matches_spec("GET", "/api/v2/me", 200, r.json())
    user = r.json()

    r = refresh(sb, tokens["refresh_token"])
    assert r.status_code == 200
    assert_matches_spec("POST", "/oauth/token", 200, r.json())
    refreshed = r.json()
    assert refreshed["refresh_token"] != tokens["refresh_token"]
    r = me(sb, refreshed["access_token"])
    assert r.status_code == 200 and r.json() == user
    assert_matches_spec("GET", "/api/v2/me", 200, r.json())

    r = sb.http.post("/oauth/revoke", data={"token": refreshed["refresh_token"], "token_type_hint": "refresh_token",
                                            "client_id": "sandbox-public"})
    assert r.status_code == 200
    assert_error(refresh(sb, refreshed["refresh_token"]), "invalid_grant")
    r = me(sb, refreshed["access_token"])
    assert r.status_code == 401 and r.json() == {"message": "Unauthenticated."}
    assert_matches_spec("GET", "/api/v2/me", 401, r.json())


def test_wrong_verifier_is_invalid_grant(sb):
    code, _ = get_code(sb)
    assert_error(exchange(sb, code, pkce()[0]), "invalid_grant")


def test_reused_code_is_invalid_grant(sb):
    code, verifier = get_code(sb)
    assert exchange(sb, code, verifier).status_code == 200
    assert_error(exchange(sb, code, verifier), "invalid_grant")


def test_expired_code_is_invalid_grant(sb):
    code, verifier = get_code(sb)
    r = sb.http.post("/_sandbox/clock", json={"advance": 61})  # the sandbox's clock, not ours
    assert r.status_code == 200
    assert_error(exchange(sb, code, verifier), "invalid_grant")


def test_redirect_uri_differing_in_path_is_refused(sb):
    # at the authorization endpoint: an error page, never a redirect (RFC 6749 §4.1.2.1)
    r, _ = authorize(sb, redirect_uri="http://127.0.0.1:53682/callback/extra")
    assert r.status_code == 400 and "location" not in r.headers and "invalid_request" in r.text
    # at the token endpoint: not identical to the authorization request's
    code, verifier = get_code(sb)
    assert_error(exchange(sb, code, verifier, redirect_uri="http://127.0.0.1:53682/callbacks"), "invalid_grant")


def test_plain_pkce_is_refused(sb):
    r, _ = authorize(sb, method="plain")
    assert r.status_code == 302
    params = parse_qs(urlsplit(r.headers["location"]).query)
    assert params["error"] == ["invalid_request"] and "code" not in params


def test_reused_rotated_refresh_token_kills_its_successor(sb):
    code, verifier = get_code(sb)
    first = exchange(sb, code, verifier).json()
    second = refresh(sb, first["refresh_token"]).json()
    assert_error(refresh(sb, first["refresh_token"]), "invalid_grant")
    assert_error(refresh(sb, second["refresh_token"]), "invalid_grant")
    assert me(sb, second["access_token"]).status_code == 401


def test_wrong_client_secret_is_invalid_client(sb):
    r = sb.http.post(TOKEN, json={"grant_type": "client_credentials", "client_id": "sandbox-confidential",
                                  "client_secret": "not-the-secret"})
    assert_error(r, "invalid_client", 401)
    r = sb.http.post(TOKEN, data={"grant_type": "client_credentials"}, auth=("sandbox-confidential", "wrong"))
    assert_error(r, "invalid_client", 401)
    r = sb.http.post(TOKEN, data={"grant_type": "client_credentials"}, auth=("sandbox-confidential", "sandbox-secret"))
    assert r.status_code == 200


def test_unknown_grant_type_is_unsupported_grant_type(sb):
    r = sb.http.post(TOKEN, json={"grant_type": "magic", "client_id": "sandbox-public"})
    assert_error(r, "unsupported_grant_type")


def test_binds_loopback_only(sb):
    port = int(urlsplit(sb.url).port)
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.2:{port}/", timeout=2, trust_env=False)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "Ctrl+C"])
def test_prints_clients_and_stops_cleanly(tmp_path, sig):
    sandbox = CliSandbox("--access-ttl", "30", "--fail-next", "1:503:api", cwd=tmp_path)
    try:
        r = me(sandbox, "sandbox-api-key")
        assert r.status_code == 503 and r.headers["retry-after"] == "1"
        assert me(sandbox, "sandbox-api-key").status_code == 200
        assert sandbox.http.get("/_sandbox/knobs").json()["access_ttl"] == 30
    finally:
        code, out, err = sandbox.stop(sig)
    assert code == 0, err
    for expected in ("sandbox-public", "sandbox-confidential", "sandbox-secret", "sandbox-api-key",
                     "http://127.0.0.1/callback", "http://localhost:3000/callback", "/oauth/authorize"):
        assert expected in out
    assert "Traceback" not in err


def test_bad_flag_value_is_a_usage_error(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "bonjoro_tui", "sandbox", "--fail-next", "1:418"],
                          capture_output=True, text=True, timeout=30, cwd=tmp_path)
    assert proc.returncode == 2 and "status must be one of" in proc.stderr and proc.stdout == ""


def test_port_in_use_exits_1(sb, tmp_path):
    port = str(urlsplit(sb.url).port)
    proc = subprocess.run([sys.executable, "-m", "bonjoro_tui", "sandbox", "--port", port],
                          capture_output=True, text=True, timeout=30, cwd=tmp_path)
    assert proc.returncode == 1 and "cannot listen on 127.0.0.1:" in proc.stderr


def test_state_file_keeps_the_user_signed_in_across_a_restart(tmp_path):
    state_file = tmp_path / "state" / "sandbox.json"
    first = CliSandbox("--auto-approve", "--state-file", str(state_file), cwd=tmp_path)
    try:
        code, verifier = get_code(first)
        tokens = exchange(first, code, verifier).json()
    finally:
        assert first.stop()[0] == 0
    second = CliSandbox("--state-file", str(state_file), cwd=tmp_path)  # another port, same sandbox
    try:
        r, _ = authorize(second)
        assert r.status_code == 200 and "Approve" in r.text  # --auto-approve was for the first run only
        assert me(second, tokens["access_token"]).status_code == 200
        r = refresh(second, tokens["refresh_token"])
        assert r.status_code == 200
        assert me(second, r.json()["access_token"]).status_code == 200
    finally:
        assert second.stop()[0] == 0
    assert state_file.stat().st_mode & 0o777 == 0o600

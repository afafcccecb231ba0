"""Server text is text, on the command line: ``bonjoro-tui`` run as a real subprocess against a
hostile server on 127.0.0.1 (tests/adversarial/hostile_text.py) whose every string carries
markup, terminal escapes (OSC 52, OSC 8, title, clear screen, one-byte CSI), bidi overrides,
NUL and CR.

Output is captured as BYTES, on pipes and — where the command behaves differently on a
terminal — on a pseudo-terminal: no ESC, no C1 CSI (UTF-8 ``c2 9b``), no raw U+202E, NUL,
BEL or CR ever comes out; the hostile strings are shown with visible escapes instead, and
``--json`` output parses back to the server's original strings. The one exception, by design:
a non-JSON body written to a pipe is the server's bytes, unchanged (see commands._print_body).
"""

from __future__ import annotations

import json
import os
import pty
import re
import select
import subprocess
from pathlib import Path
import sys
import termios
import time
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from adversarial.hostile_text import ALL, BIDI, CLICK, CLOSE_TAG, OSC52, VISIBLE, HostileServer, forbidden_bytes_in
from bonjoro_tui.safetext import safe_text

pytestmark = pytest.mark.integration

SECRET = "hostile-client-secret-0123456789"


@pytest.fixture
def hostile():
    with HostileServer() as server:
        yield server


@pytest.fixture
def env(isolated_environment, hostile):
    base = dict(os.environ)
    base.update({
        "BONJORO_BASE_URL": hostile.url,
        "BONJORO_CLIENT_ID": "hostile-client",
        "BONJORO_CLIENT_SECRET": SECRET,
        "PYTHONUNBUFFERED": "1",
        "NO_PROXY": "127.0.0.1,localhost",
    })
    return base


def run(env: dict, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    """The CLI with stdout and stderr on pipes, captured as bytes."""
    return subprocess.run([sys.executable, "-m", "bonjoro_tui", *args], env=env, stdin=subprocess.DEVNULL,
                          capture_output=True, timeout=timeout)


def run_in_terminal(env: dict, *args: str, timeout: float = 60) -> tuple[int, bytes]:
    """The CLI with stdout and stderr on a pseudo-terminal (isatty() is True); the bytes it wrote.

    Output post-processing is off on the terminal (no ONLCR), so a CR in the output is the
    program's, not the line discipline's."""
    master, slave = pty.openpty()
    attrs = termios.tcgetattr(slave)
    attrs[1] &= ~termios.OPOST
    termios.tcsetattr(slave, termios.TCSANOW, attrs)
    proc = subprocess.Popen([sys.executable, "-m", "bonjoro_tui", *args], env=env, stdin=subprocess.DEVNULL,
                            stdout=slave, stderr=slave, close_fds=True)
    os.close(slave)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    data = os.read(master, 65536)
                except OSError:  # EIO: the child closed the terminal
                    break
                if not data:
                    break
                chunks.append(data)
            elif proc.poll() is not None:
                break
        code = proc.wait(timeout=max(1, deadline - time.monotonic()))
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
    return code, b"".join(chunks)


def assert_clean(data: bytes, what: str) -> None:
    found = forbidden_bytes_in(data)
    assert not found, f"{what} wrote raw {found}:\n{data!r}"


def sign_in(env) -> subprocess.CompletedProcess:
    result = run(env, "login", "--method", "client-credentials")
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    return result


# ---- the fixture itself is hostile (a broken fixture would make every test below pass) -------


def test_the_hostile_server_really_sends_raw_escapes(hostile):
    me = httpx.get(f"{hostile.url}/api/v2/me").content
    assert b"\\u001b]52;c;" in me and b"\\u202e" in me and b"[@click=" in me  # JSON-escaped, raw once decoded
    text = httpx.get(f"{hostile.url}/api/v2/text")
    assert b"\x1b]52;c;" in text.content and b"\xc2\x9b2J" in text.content and b"\xe2\x80\xae" in text.content
    assert "\x9b" in text.headers["x-hostile"] and "\u202e" in text.headers["x-hostile"]


# ---- login, status, status --json ------------------------------------------------------------


def test_login_then_status_show_hostile_names_and_scopes_as_escaped_text(env, hostile):
    result = sign_in(env)
    out = result.stdout + result.stderr
    assert_clean(out, "login")
    text = out.decode()
    assert f"Signed in as {safe_text(ALL)} <{safe_text(hostile.email)}>." in text
    for visible in VISIBLE:
        assert visible in text

    status = run(env, "status")
    assert status.returncode == 0, status.stderr
    assert_clean(status.stdout + status.stderr, "status")
    line = next(l for l in status.stdout.decode().splitlines() if l.strip().startswith("scope:"))
    assert line.split(":", 1)[1].strip() == safe_text(hostile.scope)
    assert CLOSE_TAG in line and CLICK in line and "\\x1b]52;c;cHduZWQ=\\x07" in line


def test_status_on_a_terminal_is_escaped_too(env, hostile):
    sign_in(env)
    code, data = run_in_terminal(env, "status")
    assert code == 0, data
    assert_clean(data, "status on a terminal")
    assert safe_text(hostile.scope).encode() in data


def test_status_json_is_valid_json_that_reads_back_to_the_server_strings(env, hostile):
    sign_in(env)
    for runner in ("pipe", "terminal"):
        if runner == "pipe":
            result = run(env, "status", "--json")
            code, data = result.returncode, result.stdout
            assert_clean(result.stderr, "status --json stderr")
        else:
            code, data = run_in_terminal(env, "status", "--json")
        assert code == 0, data
        assert_clean(data, f"status --json ({runner})")
        info = json.loads(data)
        assert info["scope"] == hostile.scope  # the very string the server sent, after a JSON round trip
        assert "\x1b" in info["scope"] and CLOSE_TAG in info["scope"]


# ---- api ----------------------------------------------------------------------------------


def test_api_get_me_prints_valid_json_with_every_control_escaped(env, hostile):
    sign_in(env)
    result = run(env, "api", "GET", "/me")
    assert result.returncode == 0, result.stderr
    assert_clean(result.stdout + result.stderr, "api GET /me")
    body = json.loads(result.stdout)
    assert body["data"]["name"] == ALL and body["data"]["email"] == hostile.email
    code, data = run_in_terminal(env, "api", "GET", "/me")
    assert code == 0
    assert_clean(data, "api GET /me on a terminal")
    assert json.loads(data)["data"]["name"] == ALL


def test_api_jq_strings_are_escaped_on_a_terminal_and_the_servers_on_a_pipe(env, hostile):
    sign_in(env)
    code, data = run_in_terminal(env, "api", "/me", "--jq", ".data.name, .data")
    assert code == 0, data
    assert_clean(data, "api --jq on a terminal")
    result = run(env, "api", "/me", "--jq", ".data.name")
    assert result.returncode == 0 and result.stdout.decode() == ALL + "\n"  # `> file` gets the text itself


def test_api_include_escapes_header_values(env, hostile):
    sign_in(env)
    result = run(env, "api", "GET", "/me", "--include")
    assert result.returncode == 0, result.stderr
    assert_clean(result.stdout, "api --include")
    headers = result.stdout.decode().split("\n\n", 1)[0]
    assert "x-hostile: \\x9b2J \\u202eevil" in headers


def test_api_non_json_body_is_escaped_on_a_terminal(env, hostile):
    sign_in(env)
    code, data = run_in_terminal(env, "api", "GET", "/text")
    assert code == 0, data
    assert_clean(data, "a non-JSON body on a terminal")
    text = data.decode()
    assert "line one " in text and "\nline two\n" in text  # newlines stay newlines
    for visible in VISIBLE:
        assert visible in text


def test_api_non_json_body_on_a_pipe_is_the_servers_bytes(env, hostile):
    """Documented choice: `api GET /x > file` saves exactly what the server sent."""
    sign_in(env)
    result = run(env, "api", "GET", "/text")
    assert result.returncode == 0, result.stderr
    assert result.stdout == hostile.body
    assert_clean(result.stderr, "stderr of api GET /text")


def test_the_debug_log_shows_hostile_headers_and_bodies_as_text(env, hostile):
    """--debug writes every exchange to stderr (a terminal) and to a file someone will `cat`."""
    sign_in(env)
    result = run(env, "--debug", "api", "GET", "/text")
    assert result.returncode == 0, result.stderr
    assert_clean(result.stderr, "the --debug lines on stderr")
    log = Path(env["BONJORO_TUI_LOG_DIR"]) / "bonjoro-tui.log"
    assert_clean(log.read_bytes(), "the --debug log file")
    assert "\\x9b2J \\u202eevil" in result.stderr.decode()


def test_api_error_message_is_one_escaped_line(env, hostile):
    sign_in(env)
    result = run(env, "api", "GET", "/fail")
    assert result.returncode == 1
    assert_clean(result.stdout + result.stderr, "api GET /fail")
    line = result.stderr.decode().strip().splitlines()[-1]
    assert line.startswith("bonjoro-tui: HTTP 422")
    assert CLICK in line and CLOSE_TAG in line and "\\u202eevil.exe" in line


# ---- failures: the token endpoint, the callback ----------------------------------------------


def test_failing_login_and_refresh_show_the_error_description_as_text(env, hostile):
    hostile.token_error = ALL
    result = run(env, "login", "--method", "client-credentials")
    assert result.returncode == 1
    assert_clean(result.stdout + result.stderr, "a failing login")
    err = result.stderr.decode()
    assert CLICK in err and CLOSE_TAG in err and "\\u202eevil.exe" in err

    hostile.token_error = None
    sign_in(env)
    hostile.token_error = f"{OSC52}{BIDI}{CLOSE_TAG}"
    hostile.token_error_code = "temporarily_unavailable"  # the tokens are kept: the next refresh fails too
    for command in (("refresh",), ("refresh", "--json")):
        result = run(env, *command)
        assert result.returncode != 0
        assert_clean(result.stdout + result.stderr, " ".join(command))
        assert "\\u202eevil.exe[/x]" in result.stderr.decode()
    # The failed refresh is recorded (last_refresh_result quotes the server): status shows it escaped.
    status = run(env, "status")
    assert_clean(status.stdout + status.stderr, "status after a failed refresh")
    assert "\\u202eevil.exe[/x]" in status.stdout.decode()
    info = json.loads(run(env, "status", "--json").stdout)
    # The stored result is our message: the server's part was escaped when the error was made
    # (auth/errors.py clean_text), so JSON carries the visible escape, not the raw override.
    assert "\\u202eevil.exe[/x]" in info["last_refresh_result"]


def test_a_callback_error_description_is_shown_as_text(env, hostile):
    """The code flow with no browser: the test plays a hostile authorization server that
    redirects back with ``error`` / ``error_description`` full of escapes and markup."""
    proc = subprocess.Popen([sys.executable, "-m", "bonjoro_tui", "login", "--no-browser", "--timeout", "30"],
                            env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        url = _read_authorize_url(proc)
        query = parse_qs(urlsplit(url).query)
        redirect, state = query["redirect_uri"][0], query["state"][0]
        httpx.get(redirect, params={"error": "access_denied" + OSC52 + CLOSE_TAG, "error_description": ALL,
                                    "state": state})
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 1
    assert_clean(out + err, "a refused code flow")
    text = err.decode()
    assert "access_denied" in text and CLOSE_TAG in text and "\\u202eevil.exe" in text


def _read_authorize_url(proc: subprocess.Popen) -> str:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = proc.stdout.readline().decode()
        match = re.search(r"https?://\S+", line)
        if match:
            return match.group()
        if not line and proc.poll() is not None:
            break
    raise AssertionError(f"no authorization URL printed: {proc.stderr.read()!r}")

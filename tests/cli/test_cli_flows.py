"""The command line end to end: login, status, api, refresh, logout against the sandbox.

Every command is a real ``python -m bonjoro_tui`` subprocess talking to the sandbox over
loopback sockets; the browser is a script that approves and follows the redirect.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import httpx
import pytest

from .conftest import Cli, sandbox_rejects_access_token, sandbox_rejects_refresh_token

pytestmark = pytest.mark.integration


def refresh_count(server) -> int:
    return server.state.stats()["token_requests"].get("refresh_token", 0)


def assert_status_without_tokens(cli, stored, *, expires: bool = True):
    r = cli.run("status", "--json")
    assert r.code == 0, r.err
    info = json.loads(r.out)
    assert info["signed_in"] is True
    assert info["profile"] == "default"
    assert info["access_token_masked"].startswith(stored["access_token"][:3]) and "…" in info["access_token_masked"]
    for secret in (stored["access_token"], stored.get("refresh_token")):
        if secret:
            assert secret not in r.all
    if expires:
        assert datetime.fromisoformat(info["expires_at"].replace("Z", "+00:00")).timestamp() > time.time()
        assert 0 < info["expires_in"] <= 3600
    else:
        assert info["expires_at"] is None and info["expires_in"] is None
    return info


def assert_me(cli, server) -> dict:
    r = cli.run("api", "GET", "/me")
    assert r.code == 0, r.err
    body = json.loads(r.out)
    expected = httpx.get(
        f"{server.url}/api/v2/me", headers={"Authorization": "Bearer " + cli.stored()["access_token"]}
    ).json()
    assert body == expected
    assert "\n  " not in r.out  # piped: compact JSON
    return body


@pytest.mark.parametrize("token_format", ["json", "form"])
def test_code_login_status_api_refresh_logout(sandbox, make_cli, token_format):
    cli = make_cli(sandbox, BONJORO_TOKEN_FORMAT=token_format)

    r = cli.run("login", "--timeout", "30")
    assert r.code == 0, r.err
    assert f"{sandbox.url}/oauth/authorize?" in r.out.splitlines()[0]  # the URL, on a line of its own
    stored = cli.stored()
    assert stored["method"] == "code" and stored["target"] == sandbox.url
    assert stored["refresh_token"]
    mode = cli.store_path.stat().st_mode & 0o777
    assert mode == 0o600

    info = assert_status_without_tokens(cli, stored)
    assert info["method"] == "code" and info["has_refresh_token"] is True
    assert info["target"] == "live" and info["base_url"] == sandbox.url

    assert_me(cli, sandbox)

    # The API rejects the (still valid) token once: one refresh, one retry, and the call succeeds.
    sandbox.state.fail_next(1, 401, "api")
    before = refresh_count(sandbox)
    r = cli.run("api", "GET", "/me")
    assert r.code == 0, r.err
    assert refresh_count(sandbox) == before + 1
    stored = cli.stored()

    before = refresh_count(sandbox)
    r = cli.run("refresh", "--json")
    assert r.code == 0, r.err
    rotated = cli.stored()
    assert rotated["refresh_token"] != stored["refresh_token"]
    assert rotated["access_token"] != stored["access_token"]
    assert refresh_count(sandbox) == before + 1
    assert json.loads(r.out)["signed_in"] is True
    assert rotated["access_token"] not in r.all and rotated["refresh_token"] not in r.all

    r = cli.run("logout")
    assert r.code == 0, r.err
    assert "refresh_token, access_token" in r.out
    assert cli.stored() is None
    assert sandbox_rejects_access_token(sandbox, rotated["access_token"])
    assert sandbox_rejects_refresh_token(sandbox, rotated["refresh_token"])

    r = cli.run("status")
    assert r.code == 4 and "Not signed in" in r.out


def test_expired_access_token_is_refreshed_on_its_own_once_across_processes(start_sandbox, make_cli):
    server = start_sandbox(access_ttl=2)
    cli = make_cli(server)
    assert cli.run("login", "--timeout", "30").code == 0
    first = cli.stored()
    expires_at = datetime.fromisoformat(first["expires_at"].replace("Z", "+00:00")).timestamp()
    obtained_at = datetime.fromisoformat(first["obtained_at"].replace("Z", "+00:00")).timestamp()
    assert expires_at - obtained_at == 2
    time.sleep(max(0.0, expires_at - time.time()) + 0.1)  # the only real wait: the 2 s lifetime

    # Three processes at once on the expired token: the store's lock makes them share one refresh.
    # The refreshed token lives long, so a process that starts late has no reason to refresh again.
    server.state.set_knobs(access_ttl=3600)
    before = refresh_count(server)
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "bonjoro_tui", "api", "GET", "/me"],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=cli.env,
        )
        for _ in range(3)
    ]
    for proc in procs:
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        assert json.loads(out)["email"]
    later = cli.stored()
    assert refresh_count(server) == before + 1
    assert later["refresh_token"] != first["refresh_token"]
    assert later["last_refresh_result"] == "ok"
    assert sandbox_rejects_refresh_token(server, first["refresh_token"])  # rotated: the old one is spent


def test_client_credentials(sandbox, make_cli):
    cli = make_cli(sandbox, BONJORO_CLIENT_ID="sandbox-confidential", BONJORO_CLIENT_SECRET="sandbox-secret")
    r = cli.run("login", "--method", "client-credentials")
    assert r.code == 0, r.err
    stored = cli.stored()
    assert stored["method"] == "client_credentials"
    info = assert_status_without_tokens(cli, stored)
    assert info["method"] == "client_credentials"
    assert_me(cli, sandbox)
    r = cli.run("api", "/profiles", "-F", "search=x")  # gh's rule made it a POST: said when refused
    assert r.code == 1 and "sent as POST because of -F/-f; use -X GET" in r.err, r.err
    r = cli.run("api", "POST", "/profiles", "-F", "search=x")  # asked for: nothing to explain
    assert r.code == 1 and "sent as POST" not in r.err

    r = cli.run("refresh")
    assert r.code == 0, r.err
    renewed = cli.stored()
    assert renewed["access_token"] != stored["access_token"]

    r = cli.run("logout")
    assert r.code == 0, r.err
    assert cli.stored() is None
    assert sandbox_rejects_access_token(sandbox, renewed["access_token"])
    if renewed.get("refresh_token"):
        assert sandbox_rejects_refresh_token(
            sandbox, renewed["refresh_token"], "sandbox-confidential", "sandbox-secret"
        )
    assert "sandbox-secret" not in "".join(cli.outputs)


def test_api_key(sandbox, make_cli):
    cli = make_cli(sandbox)
    r = cli.run("login", "--method", "api-key", input="sandbox-api-key\n")
    assert r.code == 0, r.err
    stored = cli.stored()
    assert stored["method"] == "api_key" and stored["access_token"] == "sandbox-api-key"
    info = assert_status_without_tokens(cli, stored, expires=False)
    assert info["has_refresh_token"] is False
    assert_me(cli, sandbox)

    r = cli.run("refresh")
    assert r.code == 1 and "API key" in r.err and len(r.err.strip().splitlines()) == 1

    r = cli.run("logout")
    assert r.code == 0, r.err
    assert cli.stored() is None
    assert "sandbox-api-key" not in "".join(cli.outputs)


def test_login_completes_from_a_pasted_redirect_url(sandbox, make_cli):
    """--no-browser: the URL is printed; the user approves elsewhere and pastes where they landed."""
    import socket

    with socket.socket() as probe:  # a free port for --port
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    cli = make_cli(sandbox)
    proc = subprocess.Popen(
        [sys.executable, "-m", "bonjoro_tui", "login", "--no-browser", "--timeout", "30", "--port", str(port)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=cli.env,
    )
    try:
        url = proc.stdout.readline().strip()
        assert url.startswith(f"{sandbox.url}/oauth/authorize?")
        assert f"redirect_uri=http%3A%2F%2F127.0.0.1%3A{port}%2Fcallback" in url
        # auto-approve: the sandbox answers the authorization request with the redirect itself
        landed = httpx.get(url, follow_redirects=False).headers["location"]
        assert landed.startswith("http://127.0.0.1:") and "code=" in landed
        forged = landed.replace("state=", "state=forged")
        proc.stdin.write("not a url\n" + forged + "\n" + landed + "\n")
        proc.stdin.flush()
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "Signed in" in out
    assert cli.stored()["method"] == "code"
    refused = [line for line in err.splitlines() if "not accepted" in line]
    assert len(refused) == 1 and "still waiting" in refused[0] and "paste another" in refused[0]


def test_not_signed_in_exits_4(sandbox, make_cli):
    cli = make_cli(sandbox)
    for args in (["status"], ["status", "--json"], ["api", "GET", "/me"], ["refresh"], ["logout"]):
        r = cli.run(*args)
        assert r.code == 4, (args, r.out, r.err)
        assert "not signed in" in r.err.lower() and len(r.err.strip().splitlines()) == 1
        if args == ["status"]:  # the reason once, on stderr; stdout says only the facts
            assert r.out.count("no tokens stored") + r.err.count("no tokens stored") == 1
        if args[0] != "logout":
            assert "bonjoro-tui login" in r.err
    assert json.loads(cli.run("status", "--json").out)["signed_in"] is False
    for args in (["status"], ["api", "/me"]):  # another profile: the advice signs in that one
        r = cli.run("--profile", "ghost", *args)
        assert r.code == 4 and "`bonjoro-tui --profile ghost login`" in r.err, r.err


def test_usage_errors_exit_2(sandbox, make_cli):
    cli = make_cli(sandbox)
    for args in (
        ["api"],
        ["api", "GET"],
        ["login", "--method", "password"],
        ["api", "FETCH", "/me"],
        ["api", "POST", "/me", "--data", "{not json"],
        ["api", "POST", "/me", "--data", "@/nonexistent/body.json"],
        ["frobnicate"],
    ):
        r = cli.run(*args)
        assert r.code == 2, (args, r.err)
        assert r.err.strip()


def test_api_key_from_empty_stdin_is_a_usage_error(sandbox, make_cli):
    r = make_cli(sandbox).run("login", "--method", "api-key", input="")
    assert r.code == 2 and "API key" in r.err


def test_api_post_with_data_and_include(sandbox, make_cli, tmp_path):
    cli = make_cli(sandbox)
    assert cli.run("login", "--method", "api-key", input="sandbox-api-key\n").code == 0
    body = tmp_path / "bio.json"
    body.write_text(json.dumps({"bio": "Hello from the CLI"}))
    r = cli.run("api", "POST", "/me", "--data", f"@{body}", "--include")
    assert r.code == 0, r.err
    head, _, payload = r.out.partition("\n\n")
    assert head.startswith("HTTP/1.1 200")
    assert "content-type: application/json" in head.lower()
    assert "Hello from the CLI" in payload
    r = cli.run("api", "GET", "/no/such/endpoint")
    assert r.code == 1 and "HTTP 404" in r.err
    r = cli.run("api", "GET", "/me", BONJORO_DEBUG="1")  # the environment switch, like --debug
    assert r.code == 0 and f"→ GET {sandbox.url}/api/v2/me" in r.err and "sandbox-api-key" not in r.err


def test_api_refuses_another_origin(sandbox, make_cli):
    cli = make_cli(sandbox)
    assert cli.run("login", "--method", "api-key", input="sandbox-api-key\n").code == 0
    r = cli.run("api", "GET", "https://example.invalid/steal")
    assert r.code == 1 and "refusing to send the token" in r.err


def test_signed_in_elsewhere_is_not_used(start_sandbox, make_cli):
    first, second = start_sandbox(), start_sandbox()
    cli = make_cli(first)
    assert cli.run("login", "--method", "api-key", input="sandbox-api-key\n").code == 0
    r = cli.run("api", "GET", "/me", BONJORO_BASE_URL=second.url)
    assert r.code == 4
    assert f"signed in to {first.url}, not {second.url}" in r.err
    assert second.state.stats()["api_requests"] == 0


def test_paths(make_cli, sandbox):
    cli = make_cli(sandbox)
    r = cli.run("paths")
    assert r.code == 0
    assert str(cli.store_path) in r.out
    assert "bonjoro-tui.log" in r.out


def test_api_output_is_pretty_on_a_terminal(sandbox, make_cli):
    import os
    import pty

    cli = make_cli(sandbox)
    assert cli.run("login", "--method", "api-key", input="sandbox-api-key\n").code == 0
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "bonjoro_tui", "api", "GET", "/me"],
        stdin=subprocess.DEVNULL, stdout=slave, stderr=subprocess.PIPE, env=cli.env,
    )
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 4096)
        except OSError:  # EIO: the other side closed
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    assert proc.wait(timeout=30) == 0
    text = b"".join(chunks).decode().replace("\r\n", "\n")
    assert text.startswith("{\n  ")
    assert json.loads(text)["email"]


def test_refused_refresh_token_signs_the_profile_out(sandbox, make_cli):
    cli = make_cli(sandbox)
    assert cli.run("login", "--timeout", "30").code == 0
    sandbox.state.revoke_all()  # e.g. the user revoked the app's access in Bonjoro
    r = cli.run("refresh")
    assert r.code == 4
    assert "refused" in r.err and "bonjoro-tui login" in r.err and len(r.err.strip().splitlines()) == 1
    assert cli.stored() is None
    assert cli.run("status").code == 4


def test_wrong_api_key_keeps_the_previous_sign_in(sandbox, make_cli):
    cli = make_cli(sandbox)
    assert cli.run("login", "--method", "api-key", input="sandbox-api-key\n").code == 0
    before = cli.stored()
    r = cli.run("login", "--method", "api-key", input="wrong-key\n")
    assert r.code == 1
    assert "Signed in" not in r.out
    lines = r.err.strip().splitlines()
    assert len(lines) == 1 and "rejected" in lines[0] and "unchanged" in lines[0]
    assert "wrong-key" not in r.all
    assert cli.stored() == before


def in_process_sandbox_cli(home, **env: str) -> Cli:
    """No base URL: every command starts the built-in sandbox itself, as a first-time user's does."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("BONJORO_") or k.startswith("BONJORO_TUI_")}
    base.update({"NO_PROXY": "127.0.0.1,localhost", "PYTHONUNBUFFERED": "1"}, **env)
    return Cli(base, home)


def test_client_credentials_work_out_of_the_box_against_the_built_in_sandbox(isolated_environment):
    cli = in_process_sandbox_cli(isolated_environment)
    r = cli.run("login", "--method", "client-credentials")
    assert r.code == 0, r.err
    stored = cli.stored()
    assert (stored["target"], stored["method"], stored["client_id"]) == ("sandbox", "client_credentials", "sandbox-confidential")
    r = cli.run("status", "--json")
    assert r.code == 0, r.err
    assert json.loads(r.out)["target"] == "sandbox"
    r = cli.run("refresh")  # re-grant with the stored profile's client, not sandbox-public
    assert r.code == 0, r.err
    assert cli.stored()["access_token"] != stored["access_token"]
    r = cli.run("api", "GET", "/me")
    assert r.code == 0, r.err
    assert cli.run("logout").code == 0 and cli.stored() is None
    assert "sandbox-secret" not in "".join(cli.outputs)


def test_sandbox_confidential_client_id_keeps_the_built_in_sandbox(isolated_environment):
    cli = in_process_sandbox_cli(
        isolated_environment, BONJORO_CLIENT_ID="sandbox-confidential", BONJORO_CLIENT_SECRET="sandbox-secret"
    )
    r = cli.run("login", "--method", "client-credentials")
    assert r.code == 0, r.err
    assert cli.stored()["target"] == "sandbox"
    r = cli.run("status", "--json")
    assert r.code == 0 and json.loads(r.out)["target"] == "sandbox"
    assert cli.run("refresh").code == 0


def _taken_port():
    import socket

    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen(1)
    return taken, taken.getsockname()[1]


def test_port_in_use_names_where_it_came_from_and_the_port_flag_wins(sandbox, make_cli):
    import socket

    taken, port = _taken_port()
    with taken:
        (Path.cwd() / ".env").write_text(f"REDIRECT_URI=http://127.0.0.1:{port}/callback\n")
        cli = make_cli(sandbox)
        r = cli.run("login", "--no-browser", "--timeout", "5")
        assert r.code == 1
        lines = r.err.strip().splitlines()
        assert f"port {port}" in lines[-1] and f"REDIRECT_URI in {Path.cwd() / '.env'} line 1" in lines[-1]
        assert "--port" not in lines[-1]
        r = cli.run("login", "--no-browser", "--timeout", "5", BONJORO_CALLBACK_PORT=str(port), BONJORO_REDIRECT_URI="")
        assert r.code == 1 and "BONJORO_CALLBACK_PORT" in r.err

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            free = probe.getsockname()[1]
        r = cli.run("login", "--port", str(free))  # the fake browser approves and follows the redirect
        assert r.code == 0, r.err
        assert cli.stored()["method"] == "code"


def test_a_web_apps_redirect_uri_in_dotenv_is_ignored_with_one_warning(sandbox, make_cli):
    (Path.cwd() / ".env").write_text("REDIRECT_URI=https://myapp.example.com/callback\n")
    cli = make_cli(sandbox)
    r = cli.run("status")
    assert r.code == 4
    warnings = [line for line in r.err.splitlines() if "warning" in line]
    assert len(warnings) == 1 and "REDIRECT_URI" in warnings[0] and "myapp.example.com" in warnings[0]
    assert cli.run("login").code == 0


@pytest.mark.parametrize(
    ("args", "env", "names"),
    [
        (("status",), {"BONJORO_TOKEN_FORMAT": "xml"}, "BONJORO_TOKEN_FORMAT"),
        (("--profile", "bad name!", "status"), {}, "--profile"),
        (("paths",), {"BONJORO_PROFILE": "no/slashes"}, "BONJORO_PROFILE"),
    ],
)
def test_a_bad_setting_is_a_usage_error_naming_its_source(sandbox, make_cli, args, env, names):
    cli = make_cli(sandbox, **env)
    r = cli.run(*args)
    assert r.code == 2
    lines = r.err.strip().splitlines()
    assert len(lines) == 1 and names in lines[0]
    if args[-1] == "paths":  # still shows where things are
        assert "data dir:" in r.out and cli.env["BONJORO_TUI_DATA_DIR"] in r.out


def test_paths_with_a_broken_dotenv_still_lists_the_directories(sandbox, make_cli):
    (Path.cwd() / ".env").write_text("BONJORO_TUI_LOG_DIR=/tmp/x\nthis is not an assignment\n")
    cli = make_cli(sandbox)
    r = cli.run("paths")
    assert r.code == 2
    assert f"{Path.cwd() / '.env'} line 2" in r.err and len(r.err.strip().splitlines()) == 1
    assert cli.env["BONJORO_TUI_DATA_DIR"] in r.out and "config file:" in r.out


def test_a_next_page_url_from_one_run_can_be_followed_in_the_next(isolated_environment):
    cli = in_process_sandbox_cli(isolated_environment)
    assert cli.run("login", "--method", "api-key", input="sandbox-api-key\n").code == 0
    r = cli.run("api", "GET", "/campaigns?limit=1")
    assert r.code == 0, r.err
    next_url = json.loads(r.out)["next_page_url"]
    assert next_url
    r = cli.run("api", "GET", next_url)
    assert r.code == 0, r.err
    assert json.loads(r.out)["current_page"] == 2


def test_status_shows_the_time_left_readably(sandbox, make_cli):
    import re

    from bonjoro_tui.account.format import duration

    assert (duration(3572), duration(45), duration(0), duration(3600), duration(90061)) == (
        "59m 32s", "45s", "0s", "1h", "1d 1h 1m 1s"
    )
    cli = make_cli(sandbox)
    assert cli.run("login").code == 0
    r = cli.run("status")
    assert r.code == 0, r.err
    assert re.search(r"expires in (\d+m )?\d+s \(\d+ s\), at \d{4}-\d\d-\d\dT", r.out), r.out


def test_a_dead_server_error_says_what_to_do(start_sandbox, make_cli):
    server = start_sandbox()
    cli = make_cli(server)
    assert cli.run("login", "--method", "api-key", input="sandbox-api-key\n").code == 0
    server.stop()
    r = cli.run("api", "GET", "/me")
    assert r.code == 1
    lines = r.err.strip().splitlines()
    assert len(lines) == 1 and "could not reach" in lines[0] and "after 4 attempts" in lines[0]
    assert "server running" in lines[0] and "BONJORO_BASE_URL" in lines[0] and "bonjoro-tui paths" in lines[0]

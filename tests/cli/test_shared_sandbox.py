"""One sandbox per data directory (issue 14, item 5): commands run as the user's shell runs them
(real subprocesses, real loopback) find the sandbox that serves their data directory — the
dashboard's in-process one, or `bonjoro-tui sandbox` — and use it, after it proved it knows the
announcement's secret; a stale announcement and a squatter on the announced port are ignored.
`login --approve` signs in against a sandbox (built-in or recognised) without a browser, never live.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from bonjoro_tui.account.sandbox import find_running
from bonjoro_tui.account.session import open_session
from bonjoro_tui.settings import load_settings

from .conftest import Cli

pytestmark = pytest.mark.integration


@pytest.fixture
def cli(isolated_environment) -> Cli:
    """The built-in sandbox as target; BROWSER is `true` (isolated_environment): no browser approves."""
    env = dict(os.environ)
    env.update(PYTHONUNBUFFERED="1", NO_PROXY="127.0.0.1,localhost")
    return Cli(env, isolated_environment)


def announcement(cli: Cli) -> Path:
    return Path(cli.env["BONJORO_TUI_DATA_DIR"]) / "sandbox" / "running.json"


class Standalone:
    """`bonjoro-tui sandbox` (the data directory's), its URL read from its first line."""

    def __init__(self, cli: Cli, *args: str) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "bonjoro_tui", "sandbox", *args],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=cli.env)
        first = self.proc.stdout.readline()
        assert first.startswith("Bonjoro sandbox listening on http://127.0.0.1:"), first + self.proc.stderr.read()
        self.url = first.split()[-1]

    def stats(self) -> dict:
        return httpx.get(f"{self.url}/_sandbox/stats", trust_env=False).json()

    def stop(self) -> str:
        self.proc.terminate()
        out, _ = self.proc.communicate(timeout=15)
        assert self.proc.returncode == 0
        return out


def test_commands_use_the_running_sandbox_what_one_creates_the_next_finds_and_its_links_answer(cli):
    sandbox = Standalone(cli)
    try:
        assert announcement(cli).stat().st_mode & 0o777 == 0o600
        told = json.loads(announcement(cli).read_text())
        assert told["url"] == sandbox.url and told["pid"] == sandbox.proc.pid and len(told["secret"]) == 64
        assert told["secret"] not in sandbox.stats().__repr__()
        # No browser here (BROWSER=true): --approve plays it at the sandbox's consent page.
        r = cli.run("login", "--approve", timeout=60)
        assert r.code == 0, r.err
        assert "Signed in" in r.out and "Approving at the sandbox's consent page" in r.err

        r = cli.run("api", "POST", "/profiles", "-F", "email=shared@example.com", "-f", "first_name=Shared")
        assert r.code == 0, r.err
        created = json.loads(r.out)["data"]
        assert created["self_url"].startswith(sandbox.url + "/api/v2/profiles/")  # the running sandbox's port

        found = cli.run("api", "/profiles?search=shared@example.com", "--jq", ".data[].id")
        assert found.code == 0 and found.out.split() == [created["id"]], found.err
        # An absolute link printed by one command is followed by the next: something listens there.
        again = cli.run("api", created["self_url"], "--jq", ".email")
        assert again.code == 0 and again.out.strip() == "shared@example.com", again.err

        # status names the running sandbox's URL (a new user found no way to learn it), and starts nothing
        st = cli.run("status")
        assert st.code == 0 and f"to the built-in sandbox at {sandbox.url}" in st.out and f"{sandbox.url}/api/v2" in st.out
        info = json.loads(cli.run("status", "--json").out)
        assert (info["base_url"], info["api_base"]) == (sandbox.url, sandbox.url + "/api/v2")

        stats = sandbox.stats()
        assert stats["authorize_requests"] >= 1 and stats["token_requests"].get("authorization_code") == 1
        assert stats["api_requests"] >= 3  # every command talked to this one sandbox
    finally:
        sandbox.stop()
    assert not announcement(cli).exists()  # the owner removed its announcement on the way out
    st = cli.run("status")
    assert "built-in sandbox (not running; starts with the next command)" in st.out, st.out
    assert json.loads(cli.run("status", "--json").out)["base_url"] is None


async def test_a_profile_the_cli_creates_is_seen_by_the_dashboards_sandbox(cli):
    # As the dashboard opens its session (tui/launch.py): its in-process sandbox is announced.
    session = open_session(load_settings(), announce=True)
    try:
        assert announcement(cli).exists()
        assert find_running(announcement(cli)).url == session.sandbox.url
        r = cli.run("login", "--method", "client-credentials")
        assert r.code == 0, r.err
        r = cli.run("api", "POST", "/profiles", "-F", "email=from-cli@example.com")
        assert r.code == 0, r.err
        assert session.sandbox.state.stats()["token_requests"] == {"client_credentials": 1}  # the CLI's, here

        page = (await session.client.request("GET", "/profiles", params={"search": "from-cli@example.com"})).json()
        assert [p["email"] for p in page["data"]] == ["from-cli@example.com"]
    finally:
        await session.aclose()
    assert not announcement(cli).exists()


def test_a_stale_announcement_is_ignored_and_the_command_starts_its_own(cli):
    dead = subprocess.Popen(["true"])
    dead.wait()
    path = announcement(cli)
    path.parent.mkdir(parents=True, mode=0o700)
    path.write_text(json.dumps({"version": 1, "url": "http://127.0.0.1:9", "pid": dead.pid,
                                "secret": secrets.token_hex(32)}))
    path.chmod(0o600)
    assert find_running(path) is None
    r = cli.run("login", "--method", "client-credentials")
    assert r.code == 0, r.err
    assert cli.run("api", "/me", "--jq", ".name").out.strip() == "Alex Sandbox"


class Squatter(BaseHTTPRequestHandler):
    """A plain listener on the announced port: it answers everything, says it is a sandbox, and
    cannot prove the secret. It records what it was sent."""

    seen: list[tuple[str, str, dict[str, str]]] = []

    def _answer(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length).decode("latin-1") if length else ""
        Squatter.seen.append((self.command, self.path + " " + body, dict(self.headers)))
        data = json.dumps({"sandbox": True, "proof": "0" * 64, "access_token": "x", "token_type": "Bearer"}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = _answer

    def log_message(self, *args: object) -> None:
        pass


def test_a_squatter_on_the_announced_port_is_ignored_and_gets_no_token(cli):
    server = ThreadingHTTPServer(("127.0.0.1", 0), Squatter)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    Squatter.seen = []
    secret = secrets.token_hex(32)
    path = announcement(cli)
    path.parent.mkdir(parents=True, mode=0o700)
    # The pid is alive (this process): only the proof can tell.
    path.write_text(json.dumps({"version": 1, "url": f"http://127.0.0.1:{server.server_port}", "pid": os.getpid(),
                                "secret": secret}))
    path.chmod(0o600)
    try:
        r = cli.run("login", "--method", "client-credentials")
        assert r.code == 0, r.err
        r = cli.run("api", "/me", "--jq", ".name")
        assert r.code == 0 and r.out.strip() == "Alex Sandbox", r.err
        assert cli.stored()["access_token"]
    finally:
        server.shutdown()
        server.server_close()
    assert len(Squatter.seen) == 2  # one probe per command, nothing else
    for method, target, headers in Squatter.seen:
        assert method == "GET" and target.startswith("/_sandbox/info?challenge=")
        assert "authorization" not in {k.lower() for k in headers}
        assert secret not in target and secret not in json.dumps(headers)  # the secret never leaves the data dir
    token = cli.stored()["access_token"]
    assert not any(token in target or token in json.dumps(headers) for _, target, headers in Squatter.seen)


def test_two_commands_starting_at_once_both_work(cli):
    assert cli.run("login", "--method", "client-credentials").code == 0
    procs = [subprocess.Popen([sys.executable, "-m", "bonjoro_tui", "api", "/me", "--jq", ".name"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=cli.env)
             for _ in range(2)]
    for proc in procs:
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0 and out.strip() == "Alex Sandbox", err


def test_login_approve_is_refused_against_live(cli):
    r = cli.run("login", "--approve", BONJORO_CLIENT_ID="my-client", BONJORO_BASE_URL="https://bonjoro.invalid")
    assert r.code == 2 and "only against the sandbox" in r.err
    assert cli.stored() is None
    r = cli.run("login", "--approve", "--method", "api-key", input="k\n")
    assert r.code == 2 and "--method code" in r.err


def test_a_sandbox_named_by_base_url_is_recognised_but_not_from_a_dotenv(cli, tmp_path):
    other = Standalone(cli, "--state-file", str(tmp_path / "other-state.json"))  # not the data dir's
    try:
        assert not announcement(cli).exists()  # a sandbox of its own file announces nothing
        env = {"BONJORO_BASE_URL": other.url, "BONJORO_CLIENT_ID": "sandbox-public"}
        r = cli.run("login", "--approve", "--json", **env)
        assert r.code == 0, r.err
        done = json.loads(r.out)
        # Approved without a browser; the tokens stay bound to its origin (never "sandbox", the built-in).
        assert done["target"] == "live" and done["target_id"] == other.url
        assert cli.stored()["target"] == other.url

        # The same server named by the working directory's .env is not taken for the sandbox.
        work = Path(os.getcwd())
        (work / ".env").write_text(f"BONJORO_BASE_URL={other.url}\n")
        r = subprocess.run([sys.executable, "-m", "bonjoro_tui", "login", "--approve"], capture_output=True,
                           text=True, env={**cli.env, "BONJORO_CLIENT_ID": "sandbox-public"}, cwd=work, timeout=60)
        assert r.returncode == 2 and ".env" in r.stderr, r.stderr
    finally:
        other.stop()


def test_a_command_inside_exec_uses_execs_sandbox(cli):
    assert cli.run("login", "--method", "client-credentials").code == 0
    inner = f'"{sys.executable}" -m bonjoro_tui api /me --jq .name && echo "$BONJORO_API_BASE"'
    r = cli.run("exec", "--", "sh", "-c", inner)
    assert r.code == 0, r.err
    name, api_base = r.out.split("\n")[:2]
    assert name == "Alex Sandbox" and api_base.startswith("http://127.0.0.1:")


def test_a_link_planted_in_place_of_the_announcement_is_not_followed(cli, tmp_path):
    victim = tmp_path / "victim"
    victim.write_text("keep me\n")
    path = announcement(cli)
    path.parent.mkdir(parents=True, mode=0o700)
    path.symlink_to(victim)
    session = open_session(load_settings(), announce=True)  # starts (its announcement refused), works
    try:
        assert session.sandbox.url.startswith("http://127.0.0.1:")
        assert find_running(path) is None
    finally:
        session.close()
    assert path.is_symlink() and victim.read_text() == "keep me\n"


def test_the_data_dirs_sandbox_takes_the_port_the_last_command_used(cli):
    assert cli.run("login", "--method", "client-credentials").code == 0
    remembered = (Path(cli.env["BONJORO_TUI_DATA_DIR"]) / "sandbox" / "port").read_text().strip()
    sandbox = Standalone(cli)
    try:  # links printed before it started, and after it stops, name the same origin
        assert sandbox.url == f"http://127.0.0.1:{remembered}"
    finally:
        sandbox.stop()

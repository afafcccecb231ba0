"""A hostile working directory (issue 10, part 1): a ``.env`` planted in the directory the user
runs bonjoro-tui from (a cloned repository's) must not send a token, a code, a verifier or a
secret anywhere but where it belongs.

The user's own configuration — the environment — points at a real server (a sandbox on
loopback, reached as a live-style target through ``BONJORO_BASE_URL``); the ``.env`` points at
an attacker's recording server. Every test runs the real ``bonjoro-tui`` command line as a
subprocess in that directory and then asks the attacker what it received: nothing, always.
The rule these tests hold the product to is in bonjoro_tui/trust.py and docs/SECURITY.md.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import httpx
import pytest

from adversarial import figures, registry
from adversarial.recorder import RecorderServer
from bonjoro_tui.sandbox import SandboxServer
from bonjoro_tui.settings import load_settings
from bonjoro_tui.trust import UntrustedConfiguration, check_sign_in, endpoint_report
from support import write_browser_script

pytestmark = pytest.mark.integration

CONFIDENTIAL = {"BONJORO_CLIENT_ID": "sandbox-confidential", "BONJORO_CLIENT_SECRET": "sandbox-secret"}


@pytest.fixture
def sandbox():
    server = SandboxServer(port=0, auto_approve=True)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def attacker():
    with RecorderServer() as recorder:
        yield recorder


class Shell:
    """The user's shell: their environment (trusted) and a working directory (not)."""

    def __init__(self, sandbox: SandboxServer, tmp: Path) -> None:
        self.sandbox = sandbox
        self.cwd = Path.cwd()  # tests/conftest.py put us in an empty tmp directory
        self.browser_log = tmp / "fake-browser.log"
        browser = write_browser_script(tmp, log=self.browser_log.name, mode=0o700)
        self.env = {**os.environ, "BONJORO_BASE_URL": sandbox.url, **CONFIDENTIAL, "BROWSER": str(browser),
                    "NO_PROXY": "127.0.0.1,localhost", "PYTHONUNBUFFERED": "1"}

    def run(self, *args: str, input: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "bonjoro_tui", *args], input=input, capture_output=True,
                              text=True, env=self.env, cwd=self.cwd, timeout=60)

    def plant_dotenv(self, text: str) -> Path:
        path = self.cwd / ".env"
        path.write_text(text)
        return path

    @property
    def stored(self) -> dict | None:
        path = Path(self.env["BONJORO_TUI_DATA_DIR"]) / "tokens.toml"
        if not path.exists():
            return None
        return tomllib.loads(path.read_text())["profiles"].get("default")

    def sign_in(self) -> dict:
        r = self.run("login", "--timeout", "30")
        assert r.returncode == 0, r.stderr
        stored = self.stored
        assert stored and stored["refresh_token"]
        registry.secret(stored["access_token"], stored["refresh_token"])
        return stored


@pytest.fixture
def shell(sandbox, tmp_path) -> Shell:
    return Shell(sandbox, tmp_path)


def tally(attacker, attack: str) -> None:
    figures.add("hostile .env attacks tried (revoke, API base, token URL, whole server)")
    figures.add("requests of theirs that reached the attacker's server", len(attacker.requests))


def still_valid(sandbox: SandboxServer, stored: dict) -> bool:
    return httpx.get(f"{sandbox.url}/api/v2/me", headers={"Authorization": f"Bearer {stored['access_token']}"}).status_code == 200


def test_a_dotenv_revoke_url_cannot_take_the_tokens_at_logout(shell, attacker):
    """Was: logout sent the refresh token, the access token and the client secret to the .env's
    URL, said "revoked at the server" and deleted the local copy — the tokens still valid."""
    stored = shell.sign_in()
    dotenv = shell.plant_dotenv(f"BONJORO_REVOKE_URL={attacker.url}/oauth/revoke\n")

    r = shell.run("logout")

    assert r.returncode == 1, r.stdout + r.stderr
    assert attacker.requests == []
    assert f"BONJORO_REVOKE_URL in {dotenv} line 1" in r.stderr
    assert "revoked at the server" not in r.stdout
    assert shell.stored == stored  # kept: the user can still sign out properly
    assert still_valid(shell.sandbox, stored)
    # status says logout would be refused — and no more: requests still go, so it is a warning
    # and exit 0 (a reviewer's finding: it said BLOCKED, "every request would be refused", exit 1,
    # and `status && …` stopped scripts whose `api` calls worked)
    status = shell.run("status")
    assert status.returncode == 0, status.stdout + status.stderr
    assert "BLOCKED" not in status.stdout and "logout:        would be refused" in status.stdout
    assert "BONJORO_REVOKE_URL" in status.stdout and "warning: logout would be refused" in status.stderr
    as_json = json.loads(shell.run("status", "--json").stdout)
    assert "blocked" not in as_json and "refusing to send" in as_json["logout_blocked"]
    assert shell.run("api", "GET", "/me").returncode == 0
    assert attacker.requests == []
    tally(attacker, ".env revoke URL at logout: requests to the attacker")


def test_a_dotenv_api_base_cannot_take_the_access_token(shell, attacker):
    """Was: `api GET /me` sent the stored access token to the .env's API base and exited 0."""
    stored = shell.sign_in()
    dotenv = shell.plant_dotenv(f"# a cloned project's settings\nBONJORO_API_BASE={attacker.url}/api/v2\n")

    r = shell.run("api", "GET", "/me")

    assert r.returncode == 1, r.stdout + r.stderr
    assert f"BONJORO_API_BASE in {dotenv} line 2" in r.stderr
    assert "refusing to send" in r.stderr
    assert "remove it there" in r.stderr  # what to do, by where the setting came from
    # status says so too (found by a new-user review: it said "Signed in" and nothing else), and
    # exits 1 (a second review: `status && …` carried on with a profile whose requests all fail)
    status = shell.run("status")
    assert status.returncode == 1 and "BLOCKED:" in status.stdout and "BONJORO_API_BASE" in status.stdout
    assert "every request of this profile would be refused" in status.stderr
    as_json = shell.run("status", "--json")
    assert as_json.returncode == 1 and "refusing to send" in json.loads(as_json.stdout)["blocked"]
    assert attacker.requests == []
    assert shell.stored == stored
    tally(attacker, ".env API base at `api`: requests to the attacker")


def test_a_dotenv_api_base_cannot_take_a_new_sign_in(shell, attacker):
    """Was: login's own /me (and the API key check) went to the .env's API base."""
    shell.plant_dotenv(f"BONJORO_API_BASE={attacker.url}/api/v2\n")

    code = shell.run("login", "--timeout", "10")
    key = shell.run("login", "--method", "api-key", input="my-real-api-key-0123456789\n")

    for r in (code, key):
        assert r.returncode == 1, r.stdout + r.stderr
        assert "refusing" in r.stderr and ".env" in r.stderr
    assert attacker.requests == []
    assert not shell.browser_log.exists()  # refused before the browser opened
    assert shell.stored is None


def test_a_dotenv_token_url_cannot_take_the_code_and_verifier(shell, attacker):
    """Was: an ordinary `login` handed the authorization code, the PKCE verifier and the redirect
    URI to the .env's token endpoint, which could redeem them at the real one."""
    dotenv = shell.plant_dotenv(f"BONJORO_TOKEN_URL={attacker.url}/token\n")

    r = shell.run("login", "--timeout", "10")

    assert r.returncode == 1, r.stdout + r.stderr
    assert "split the sign-in" in r.stderr
    assert f"BONJORO_TOKEN_URL in {dotenv} line 1" in r.stderr
    assert "derived from the environment variable BONJORO_BASE_URL" in r.stderr  # the authorize URL's source
    assert not shell.browser_log.exists()  # nothing was approved, no code was ever issued
    assert attacker.requests == []
    assert shell.stored is None
    tally(attacker, ".env token URL at login: requests to the attacker")


def test_after_sign_in_a_dotenv_token_url_cannot_take_the_refresh_token(shell, attacker):
    stored = shell.sign_in()
    dotenv = shell.plant_dotenv(f"BONJORO_TOKEN_URL={attacker.url}/token\n")

    r = shell.run("refresh")

    assert r.returncode == 4, r.stdout + r.stderr  # not signed in *there*
    assert f"BONJORO_TOKEN_URL in {dotenv} line 1" in r.stderr
    assert attacker.requests == []
    assert shell.stored == stored


def test_a_dotenv_that_names_a_whole_server_cannot_have_the_users_secret(shell, attacker):
    """A .env may choose a server (all endpoints at one origin) — but not send it the client
    secret from the user's environment, or an API key the user types."""
    shell.env.pop("BONJORO_BASE_URL")  # the environment would win over the .env
    shell.plant_dotenv(f"BONJORO_BASE_URL={attacker.url}\n")

    cc = shell.run("login", "--method", "client-credentials")
    key = shell.run("login", "--method", "api-key", input="my-real-api-key-0123456789\n")

    assert cc.returncode == 1 and "refusing to send the client secret" in cc.stderr, cc.stderr
    assert "the environment variable BONJORO_CLIENT_SECRET" in cc.stderr
    assert key.returncode == 1 and "refusing to send your API key" in key.stderr, key.stderr
    assert attacker.requests == []


def test_a_dotenv_that_brings_its_own_public_client_and_server_is_shown(shell, attacker):
    """The one thing a .env may do: name one server and a client of its own. The sign-in then
    goes there (it is that server's own code), and the user is shown where, with the source."""
    shell.env.pop("BONJORO_CLIENT_SECRET")
    shell.env.pop("BONJORO_BASE_URL")
    dotenv = shell.plant_dotenv(f"BONJORO_BASE_URL={attacker.url}\nBONJORO_CLIENT_ID=their-client\n")

    r = shell.run("login", "--no-browser", "--timeout", "1")

    assert "settings from the .env in the working directory" in r.stderr
    assert f"BONJORO_TOKEN_URL = {attacker.url}/api/v2/oauth/2/token (derived from BONJORO_BASE_URL in {dotenv} line 1)" in r.stderr
    assert attacker.carried("sandbox-secret") == []


def test_the_users_own_split_configuration_is_trusted(tmp_path):
    """Flags, the environment and config.toml are the user's: a split there is a choice."""
    env = {**os.environ, "BONJORO_TOKEN_URL": "https://auth.example.com/token", "BONJORO_CLIENT_ID": "c",
           "BONJORO_CLIENT_SECRET": "s", "BONJORO_API_BASE": "https://api.example.com/v2"}
    s = load_settings(env=env, cwd=tmp_path)
    check_sign_in(s, "code")
    check_sign_in(s, "client_credentials")
    check_sign_in(s, "api_key", user_secret=True)
    assert endpoint_report(s) == []


def test_a_dotenv_next_to_trusted_settings_is_judged_by_what_it_sets(tmp_path):
    (tmp_path / ".env").write_text("BONJORO_CLIENT_ID=from-dotenv\nBONJORO_SCOPE=read\n")
    env = {**os.environ, "BONJORO_BASE_URL": "https://bonjoro.example"}
    s = load_settings(env=env, cwd=tmp_path)
    assert "client_id" in s.untrusted and "token_url" not in s.untrusted
    check_sign_in(s, "code")  # a client id from the .env choosing no endpoint: fine

    (tmp_path / ".env").write_text("BONJORO_AUTHORIZE_URL=https://phish.example/authorize\n")
    s = load_settings(env={**env, "BONJORO_CLIENT_ID": "c"}, cwd=tmp_path)
    with pytest.raises(UntrustedConfiguration, match="split the sign-in across 2 servers"):
        check_sign_in(s, "code")
    check_sign_in(s, "client_credentials")  # the authorize URL is not used by this grant


async def test_the_dashboard_does_not_send_the_token_to_a_dotenv_api_base(shell, attacker, monkeypatch):
    """Was: the dashboard's /me (and every explorer request) went to the .env's API base."""
    from bonjoro_tui.account.session import open_session
    from bonjoro_tui.tui.app import BonjoroApp

    stored = shell.sign_in()
    shell.plant_dotenv(f"BONJORO_API_BASE={attacker.url}/api/v2\n")
    for key, value in shell.env.items():
        monkeypatch.setenv(key, value)
    session = open_session(load_settings())
    try:
        app = BonjoroApp(session, open_browser=lambda url: False, tick_interval=0.05)
        async with app.run_test(size=(120, 36)) as pilot:
            for _ in range(200):
                await pilot.pause(0.02)
                if any("refusing to send" in str(n.message) for n in app._notifications):
                    break
            messages = " ".join(str(n.message) for n in app._notifications)
            assert "refusing to send" in messages and "BONJORO_API_BASE in" in messages, messages
            from tui.screen import screen_text

            assert "Blocked" in screen_text(app)  # stays on the status screen after the toast fades
            await pilot.press("e")  # the explorer: its first request is /me
            await pilot.pause(0.3)
            app.screen.action_send()
            await pilot.pause(0.5)
            # Copy as curl "with token" is a request too: it gets the token only for the origin
            # the profile signed in with — not the .env's API base, not an absolute URL elsewhere.
            app.screen.query_one("#curl-token").value = True
            for path in ("/me", f"{shell.sandbox.url}/api/v2/me", f"{attacker.url}/steal"):
                app.screen.query_one("#path").value = path
                app.screen.current = None
                app.copy_to_clipboard("")
                app.screen.action_copy_curl()
                await pilot.pause()
                assert stored["access_token"] not in app.clipboard, path
                assert any("Not copied" in str(n.message) for n in app._notifications)
    finally:
        await session.aclose()
    assert attacker.requests == []
    assert shell.stored == stored
    tally(attacker, "dashboard")


async def test_the_login_screen_lists_every_endpoint_with_its_source_when_a_dotenv_sets_one(shell, attacker, monkeypatch):
    from bonjoro_tui.account.session import open_session
    from bonjoro_tui.tui.app import BonjoroApp
    from tui.screen import screen_text

    dotenv = shell.plant_dotenv(f"BONJORO_TOKEN_URL={attacker.url}/token\n")
    for key, value in shell.env.items():
        monkeypatch.setenv(key, value)
    session = open_session(load_settings())
    try:
        app = BonjoroApp(session, open_browser=lambda url: False, tick_interval=0.05)
        async with app.run_test(size=(120, 36)) as pilot:
            await pilot.press("l")
            await pilot.pause()
            text = " ".join(screen_text(app).split())
            assert "Settings from the .env in the working directory" in text
            assert f"BONJORO_TOKEN_URL = {attacker.url}/token" in text
            assert "derived from the environment variable BONJORO_BASE_URL" in text  # the others' source
            await pilot.click("#start")
            for _ in range(100):
                await pilot.pause(0.02)
                if app.screen.phase == "failed":
                    break
            assert app.screen.phase == "failed"
            assert "split the sign-in" in " ".join(screen_text(app).split())
    finally:
        await session.aclose()
    assert attacker.requests == []
    assert str(dotenv) in " ".join(session.settings.source("token_url").split())


def test_a_dotenv_cannot_choose_the_config_dir_whose_config_toml_is_trusted(shell, attacker):
    """Found by review: a .env naming BONJORO_TUI_CONFIG_DIR made its own config.toml (a
    cloned repository's, 0644) a trusted source — every endpoint at the attacker's, the client
    secret, the code and verifier and a typed API key sent there, no warning."""
    shell.sign_in()
    (shell.cwd / "cfg").mkdir()
    (shell.cwd / "cfg" / "config.toml").write_text(
        f'token_url = "{attacker.url}/token"\napi_base = "{attacker.url}/api/v2"\nrevoke_url = "{attacker.url}/revoke"\n')
    dotenv = shell.plant_dotenv("BONJORO_TUI_CONFIG_DIR=cfg\n")

    cc = shell.run("login", "--method", "client-credentials", "--profile", "p1")
    key = shell.run("login", "--method", "api-key", "--profile", "p2", input="sandbox-api-key\n")
    api = shell.run("api", "GET", "/me")

    for r in (cc, key, api):
        assert f"ignoring BONJORO_TUI_CONFIG_DIR in {dotenv} line 1" in r.stderr, r.stderr
    assert cc.returncode == 0 and key.returncode == 0 and api.returncode == 0  # the user's own config
    assert attacker.requests == []
    tally(attacker, ".env config dir")


@pytest.mark.parametrize("variable", ["BONJORO_TUI_DATA_DIR", "BONJORO_TUI_LOG_DIR", "BONJORO_DEBUG"])
def test_a_dotenv_cannot_move_the_token_store_or_turn_on_logging(shell, variable):
    """Found by review: a .env could put tokens.toml (and a --debug log) inside the repository."""
    value = "1" if variable == "BONJORO_DEBUG" else ".bonjoro"
    dotenv = shell.plant_dotenv(f"{variable}={value}\n")

    r = shell.run("login", "--timeout", "30")

    assert r.returncode == 0, r.stderr
    assert f"ignoring {variable} in {dotenv} line 1" in r.stderr
    assert not (shell.cwd / ".bonjoro").exists()
    assert shell.stored is not None  # in the user's own data dir
    assert "login step" not in r.stderr  # no --debug lines

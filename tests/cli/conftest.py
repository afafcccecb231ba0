"""Run ``bonjoro-tui`` subcommands as real subprocesses against a sandbox on a loopback port.

The sandbox runs in a thread of the test process (``SandboxServer``) so a test can read its
counters; the CLI reaches it over real sockets exactly as it would reach Bonjoro. ``BROWSER``
points at a small script that plays the user's browser (the sandbox's ``browser`` module):
it fetches the authorization URL, approves, and follows the redirect to the CLI's loopback
callback.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from bonjoro_tui.sandbox import SandboxServer
from support import write_browser_script

pytestmark = pytest.mark.integration


@dataclass
class Result:
    code: int
    out: str
    err: str

    @property
    def all(self) -> str:
        return self.out + self.err


class Cli:
    """Runs ``python -m bonjoro_tui`` with an environment aimed at the sandbox."""

    def __init__(self, env: dict[str, str], home: Path) -> None:
        self.env = env
        self.home = home
        self.outputs: list[str] = []  # everything any run printed, for the secret scan

    def run(self, *args: str, input: str | None = None, timeout: float = 60, **env: str) -> Result:
        proc = subprocess.run(
            [sys.executable, "-m", "bonjoro_tui", *args],
            input=input if input is not None else "",
            capture_output=True,
            text=True,
            env={**self.env, **env},
            timeout=timeout,
        )
        self.outputs += [proc.stdout, proc.stderr]
        return Result(proc.returncode, proc.stdout, proc.stderr)

    @property
    def store_path(self) -> Path:
        return Path(self.env["BONJORO_TUI_DATA_DIR"]) / "tokens.toml"

    def stored(self, profile: str = "default") -> dict | None:
        if not self.store_path.exists():
            return None
        return tomllib.loads(self.store_path.read_text())["profiles"].get(profile)

    def log_texts(self) -> list[str]:
        log_dir = Path(self.env["BONJORO_TUI_LOG_DIR"])
        return [p.read_text() for p in sorted(log_dir.rglob("*")) if p.is_file()] if log_dir.exists() else []


@pytest.fixture
def start_sandbox():
    servers: list[SandboxServer] = []

    def start(**options) -> SandboxServer:
        options.setdefault("auto_approve", True)
        server = SandboxServer(port=0, **options)
        server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def sandbox(start_sandbox) -> SandboxServer:
    return start_sandbox()


@pytest.fixture
def make_cli(isolated_environment, tmp_path):
    def make(server: SandboxServer, **env: str) -> Cli:
        base = {k: v for k, v in os.environ.items()}
        base.update(
            {
                "BONJORO_BASE_URL": server.url,
                "BONJORO_CLIENT_ID": "sandbox-public",
                "BROWSER": str(write_browser_script(tmp_path)),
                "PYTHONUNBUFFERED": "1",
                # A proxy configured on the test machine must not intercept loopback traffic.
                "NO_PROXY": "127.0.0.1,localhost",
            }
        )
        base.update(env)
        return Cli(base, isolated_environment)

    return make


def sandbox_rejects_access_token(server: SandboxServer, token: str) -> bool:
    r = httpx.get(f"{server.url}/api/v2/me", headers={"Authorization": f"Bearer {token}"})
    return r.status_code == 401


def sandbox_rejects_refresh_token(server: SandboxServer, token: str, client_id: str = "sandbox-public",
                                  secret: str | None = None) -> bool:
    body = {"grant_type": "refresh_token", "refresh_token": token, "client_id": client_id}
    if secret:
        body["client_secret"] = secret
    r = httpx.post(f"{server.url}/api/v2/oauth/2/token", json=body)
    return r.status_code == 400 and r.json().get("error") == "invalid_grant"

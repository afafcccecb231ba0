"""Interop with a real authorization server nobody here wrote: django-oauth-toolkit (DOT).

The ``dot`` fixture (once per session) starts ``python -m dot_server`` (tests/interop/dot_server:
a minimal Django project, DOT at ``/o/``, ``GET /api/me`` behind DOT's protected-resource view)
on a fresh sqlite database in a tmp dir, waits for its one JSON line (it accepts connections by
then; a few seconds, most of it Django's migrations), fetches DOT's RFC 8414 metadata, and stops
it with SIGTERM at the end.

:class:`Dot` is what a test sees of the server:

* ``url``, ``issuer``, ``metadata`` (RFC 8414, ``/o/.well-known/oauth-authorization-server``) and
  ``openid_configuration`` — the endpoint URLs exactly as DOT publishes them, trailing ``/`` and all;
* ``clients``: ``public`` (authorization code, PKCE), ``confidential`` (authorization code, with a
  secret DOT stores hashed), ``service`` (client credentials); ``user``: the person who signs in;
* what the server saw: :meth:`Dot.exchanges` (token and revocation requests, recorded by the
  project's middleware without any secret), :meth:`Dot.introspect` (RFC 7662, as a resource
  server asks), :meth:`Dot.access_token_row` / :meth:`Dot.refresh_token_row` (the database).

``cli`` runs the real ``python -m bonjoro_tui`` as a subprocess in the isolated environment of
tests/conftest.py, with ``BROWSER`` set to :mod:`dot_browser` (signs in at Django's login form and
answers DOT's consent page). :func:`user_config` is what a user puts in the environment:
endpoint URLs as DOT prints them, the API base, a client id, a secret and a scope — nothing else.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import sqlite3
import stat
import subprocess
import sys
import threading
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

HERE = Path(__file__).resolve().parent

pytestmark = pytest.mark.integration

#: The server should be up in a few seconds (migrations on a fresh sqlite file take most of it).
START_TIMEOUT = 30
#: No CLI command here waits on anything slow: a hung one fails the test instead of the session.
CLI_TIMEOUT = 30


@dataclass
class Result:
    code: int
    out: str
    err: str

    @property
    def all(self) -> str:
        return self.out + self.err

    @property
    def last_err_line(self) -> str:
        lines = [line for line in self.err.splitlines() if line.strip()]
        return lines[-1] if lines else ""


@dataclass
class Dot:
    """The running DOT server, and what it saw."""

    url: str
    db: Path
    user: dict[str, Any]
    clients: dict[str, dict[str, Any]]
    versions: dict[str, str]
    started_in: float
    log: Path
    metadata: dict[str, Any] = field(default_factory=dict)
    openid_configuration: dict[str, Any] = field(default_factory=dict)

    @property
    def issuer(self) -> str:
        return self.metadata["issuer"]

    @property
    def api_base(self) -> str:
        return self.url + "/api"

    def http(self) -> httpx.Client:
        return httpx.Client(trust_env=False, timeout=10)

    # ---------------------------------------------------------------- what the server saw

    def exchanges(self) -> list[dict[str, Any]]:
        """Every request to the token and revocation endpoints so far, oldest first."""
        with self.http() as h:
            return h.get(self.url + "/_harness/exchanges").json()["exchanges"]

    def mark(self) -> int:
        return len(self.exchanges())

    def exchanges_since(self, mark: int) -> list[dict[str, Any]]:
        return self.exchanges()[mark:]

    def introspect(self, token: str) -> dict[str, Any]:
        """RFC 7662 introspection, authenticated as the harness's resource-server client."""
        c = self.clients["introspector"]
        with self.http() as h:
            r = h.post(self.metadata["introspection_endpoint"], data={"token": token},
                       auth=(c["client_id"], c["client_secret"]))
        assert r.status_code == 200, f"introspection failed: HTTP {r.status_code} {r.text[:200]}"
        return r.json()

    def _row(self, table: str, token: str) -> dict[str, Any] | None:
        checksum = hashlib.sha256(token.encode()).hexdigest()  # DOT stores a checksum, not the token
        with sqlite3.connect(self.db, timeout=10) as db:
            db.row_factory = sqlite3.Row
            row = db.execute(f"SELECT * FROM {table} WHERE token_checksum = ?", (checksum,)).fetchone()
        return dict(row) if row is not None else None

    def access_token_row(self, token: str) -> dict[str, Any] | None:
        """DOT's row for an access token; None once it is revoked (DOT deletes revoked ones)."""
        return self._row("oauth2_provider_accesstoken", token)

    def refresh_token_row(self, token: str) -> dict[str, Any] | None:
        """DOT's row for a refresh token (``revoked`` is set when revoked, rotated or replayed)."""
        return self._row("oauth2_provider_refreshtoken", token)

    def access_token_dead(self, token: str) -> bool:
        return self.introspect(token) == {"active": False} and self.access_token_row(token) is None

    def refresh_token_dead(self, token: str) -> bool:
        row = self.refresh_token_row(token)
        return row is not None and row["revoked"] is not None

    def expire_access_token(self, token: str) -> None:
        checksum = hashlib.sha256(token.encode()).hexdigest()
        with sqlite3.connect(self.db, timeout=10) as db:
            changed = db.execute("UPDATE oauth2_provider_accesstoken SET expires = '2000-01-01 00:00:00' "
                                 "WHERE token_checksum = ?", (checksum,)).rowcount
        assert changed == 1

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def _start_dot(workdir: Path) -> tuple[subprocess.Popen, Dot]:
    db = workdir / "dot.sqlite3"
    log = workdir / "dot-server.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BONJORO_", "DJANGO_"))}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(HERE), env.get("PYTHONPATH", "")) if p)
    env["NO_PROXY"] = "127.0.0.1,localhost"
    with open(log, "wb") as err:
        proc = subprocess.Popen([sys.executable, "-m", "dot_server", "--db", str(db)], cwd=workdir, env=env,
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err)
    line: list[bytes] = []
    reader = threading.Thread(target=lambda: line.append(proc.stdout.readline()), daemon=True)
    reader.start()
    reader.join(START_TIMEOUT)
    if not line or not line[0].strip():
        proc.kill()
        proc.wait()
        raise RuntimeError(f"the DOT server did not start in {START_TIMEOUT} s (exit {proc.returncode}):\n"
                           + log.read_text(errors="replace")[-3000:])
    info = json.loads(line[0])
    dot = Dot(url=info["url"], db=db, user=info["user"], clients=info["clients"], log=log,
              versions={"django-oauth-toolkit": info["dot_version"], "django": info["django_version"]},
              started_in=info["started_in"])
    with dot.http() as h:
        dot.metadata = h.get(dot.url + "/o/.well-known/oauth-authorization-server").raise_for_status().json()
        dot.openid_configuration = h.get(dot.url + "/o/.well-known/openid-configuration").raise_for_status().json()
    return proc, dot


@pytest.fixture(scope="session")
def dot(tmp_path_factory) -> Dot:
    proc, server = _start_dot(tmp_path_factory.mktemp("dot"))
    try:
        yield server
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        proc.stdout.close()


def user_config(dot: Dot, client: str = "public", *, scope: str | None = "read", **extra: str) -> dict[str, str]:
    """The environment a user writes for DOT: the endpoint URLs exactly as DOT publishes them
    (RFC 8414 metadata, trailing ``/`` included), the API base, the client id, its secret when
    it has one, and a scope. ``extra`` adds or overrides (``None`` removes)."""
    c = dot.clients[client]
    env = {
        "BONJORO_AUTHORIZE_URL": dot.metadata["authorization_endpoint"],
        "BONJORO_TOKEN_URL": dot.metadata["token_endpoint"],
        "BONJORO_REVOKE_URL": dot.metadata["revocation_endpoint"],
        "BONJORO_API_BASE": dot.api_base,
        "BONJORO_CLIENT_ID": c["client_id"],
    }
    if c["client_secret"]:
        env["BONJORO_CLIENT_SECRET"] = c["client_secret"]
    if scope:
        env["BONJORO_SCOPE"] = scope
    env.update(extra)
    return {k: v for k, v in env.items() if v is not None}


def write_dot_browser(directory: Path, dot: Dot) -> Path:
    """An executable for ``BROWSER``: :mod:`dot_browser` with the user's credentials, its steps
    appended to ``directory/dot-browser.log``. ``DOT_BROWSER_DECISION`` (allow/deny) reaches it
    through the CLI's environment."""
    script = directory / "dot-browser"
    log = directory / "dot-browser.log"
    script.write_text(
        "#!/bin/sh\n"
        f"DOT_BROWSER_USERNAME='{dot.user['username']}' DOT_BROWSER_PASSWORD='{dot.user['password']}' "
        f'exec "{sys.executable}" "{HERE / "dot_browser.py"}" "$1" >>"{log}" 2>&1\n'
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


class Cli:
    """``python -m bonjoro_tui`` in the isolated environment, aimed at DOT by ``config``."""

    def __init__(self, base_env: dict[str, str], home: Path, browser_log: Path) -> None:
        self.base_env = base_env
        self.home = home
        self.browser_log = browser_log
        self.config: dict[str, str] = {}
        self.outputs: list[str] = []

    def configure(self, config: dict[str, str]) -> "Cli":
        self.config = dict(config)
        return self

    def run(self, *args: str, timeout: float = CLI_TIMEOUT, **env: str) -> Result:
        proc = subprocess.run([sys.executable, "-m", "bonjoro_tui", *args], input="", capture_output=True,
                              text=True, env={**self.base_env, **self.config, **env}, timeout=timeout)
        self.outputs += [proc.stdout, proc.stderr]
        return Result(proc.returncode, proc.stdout, proc.stderr)

    def login(self, *args: str, **env: str) -> Result:
        return self.run("login", "--timeout", "10", *args, **env)

    @property
    def store_path(self) -> Path:
        return Path(self.base_env["BONJORO_TUI_DATA_DIR"]) / "tokens.toml"

    def stored(self, profile: str = "default") -> dict[str, Any] | None:
        if not self.store_path.exists():
            return None
        return tomllib.loads(self.store_path.read_text())["profiles"].get(profile)

    def write_stored(self, profile: dict[str, Any], name: str = "default") -> None:
        """Put a profile back as it was (the store's own format: a TOML table per profile)."""
        import tomli_w

        doc = tomllib.loads(self.store_path.read_text())
        doc["profiles"][name] = profile
        self.store_path.write_text(tomli_w.dumps(doc))
        self.store_path.chmod(0o600)

    def browser_said(self) -> str:
        return self.browser_log.read_text() if self.browser_log.exists() else ""


def _failed(request) -> bool:
    report = getattr(request.node, "rep_call", None)
    return report is not None and report.failed


@pytest.fixture
def cli(request, isolated_environment, tmp_path, dot) -> Cli:
    env = dict(os.environ)  # isolated by tests/conftest.py: no BONJORO_* but the tmp dirs
    env.update(
        BROWSER=str(write_dot_browser(tmp_path, dot)),
        PYTHONUNBUFFERED="1",
        NO_PROXY="127.0.0.1,localhost",
    )
    runner = Cli(env, isolated_environment, tmp_path / "dot-browser.log")
    yield runner
    if _failed(request):  # shown under "Captured stderr teardown"
        sys.stderr.write(f"--- what the browser stand-in said ---\n{runner.browser_said()}\n")


@pytest.fixture(autouse=True)
def _server_log_on_failure(request, dot):
    """A failing test's report ends with the tail of the DOT server's log (its 4xx warnings)."""
    yield
    if _failed(request):
        sys.stderr.write(f"--- DOT server log (tail) ---\n{dot.log_tail()}\n")


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.rep_call = report
    return report


def pytest_collection_modifyitems(config, items):
    # One worker runs the interop suite (make test: -n auto --dist loadgroup), so one Django
    # server (the session fixture above) serves all of it instead of one per worker.
    here = os.path.dirname(__file__)
    for item in items:
        if str(item.fspath).startswith(here):
            item.add_marker(pytest.mark.xdist_group("interop"))

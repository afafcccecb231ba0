"""Secrets (issue 5, part 6): nothing the suite produced shows a token, refresh token, client
secret or API key. This file runs last in the directory: it first drives the CLI with --debug
through every sign-in method and a refresh (output worth scanning), then scans everything the
registry collected — captured stdout/stderr/logs and failure text of every test of the suite,
log files under the isolated log dirs, exception messages — plus the TUI's snapshots and the
screenshots, for every real token value issued during the suite."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path


from adversarial import figures, registry
from bonjoro_tui.sandbox import SandboxServer
from bonjoro_tui.sandbox.clients import API_KEY, CONFIDENTIAL_CLIENT_ID, CONFIDENTIAL_CLIENT_SECRET
from support import write_browser_script

ROOT = Path(__file__).resolve().parents[2]
JWT = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")
WINDOW = 16


def cli(env: dict, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-m", "bonjoro_tui", *args], input=stdin, capture_output=True, text=True,
                          env=env, timeout=60)
    registry.output(f"cli {' '.join(args)} stdout", proc.stdout)
    registry.output(f"cli {' '.join(args)} stderr", proc.stderr)
    return proc


def test_cli_with_debug_through_every_sign_in_method(isolated_environment, tmp_path):
    browser = write_browser_script(tmp_path, name="browser", log=None)
    registry.secret(CONFIDENTIAL_CLIENT_SECRET, API_KEY)
    with SandboxServer(auto_approve=True) as sandbox:
        base = {**os.environ, "BONJORO_BASE_URL": sandbox.url, "BROWSER": str(browser), "NO_PROXY": "127.0.0.1,localhost"}
        public = {**base, "BONJORO_CLIENT_ID": "sandbox-public"}
        confidential = {**base, "BONJORO_CLIENT_ID": CONFIDENTIAL_CLIENT_ID, "BONJORO_CLIENT_SECRET": CONFIDENTIAL_CLIENT_SECRET}
        runs = [
            cli(public, "login", "--debug", "--timeout", "30"),
            cli(public, "refresh", "--debug"),
            cli(public, "api", "GET", "/me", "--debug", "--include"),
            cli(public, "status", "--json"),
            cli(public, "logout", "--debug"),
            cli(confidential, "login", "--method", "client-credentials", "--debug", "--profile", "cc"),
            cli(confidential, "refresh", "--debug", "--profile", "cc"),
            cli(public, "login", "--method", "api-key", "--debug", "--profile", "key", stdin=API_KEY + "\n"),
            cli(public, "api", "GET", "/users", "--debug", "--profile", "key"),
        ]
    assert [r.returncode for r in runs] == [0] * len(runs), [(r.args, r.stderr[-300:]) for r in runs]
    assert any("authorization: bearer" in r.stderr.lower() for r in runs)  # --debug really logged the exchanges
    registry.harvest_tree(isolated_environment, "cli")
    assert registry.SECRETS  # the refresh, client-credentials and code tokens were registered


def _windows(secret: str) -> set[str]:
    if len(secret) <= WINDOW:
        return {secret}
    mid = len(secret) // 2
    return {secret, secret[-WINDOW:], secret[mid - WINDOW // 2: mid + WINDOW // 2]}


def _artefacts() -> list[tuple[str, str]]:
    found = []
    for folder in (ROOT / "tests" / "tui" / "__snapshots__", ROOT / "screenshots"):
        if folder.exists():
            for path in sorted(folder.rglob("*")):
                if path.is_file():
                    found.append((str(path.relative_to(ROOT)), path.read_text("utf-8", "replace")))
    return found


def find_leaks(secrets: list[str], texts: list[tuple[str, str]]) -> list[tuple[str, str]]:
    leaks = []
    for where, text in texts:
        flat = re.sub(r"\s+", "", text)  # a secret wrapped over two lines is still found
        for secret in secrets:
            if any(w in text or w in flat for w in _windows(secret)):
                leaks.append((where, secret[:6] + "…"))
    return leaks


def test_the_scan_finds_whole_cut_and_wrapped_secrets():
    secret = "rt-" + "q7Zx3LmN9pW2vB8kD4fH6jT1sY5cR0aE"
    masked = f"refresh_token: {secret[:6]}…({len(secret)} chars)"
    texts = [("whole", f"x {secret} y"), ("cut", secret[:-3]), ("wrapped", secret[:20] + "\n   " + secret[20:]),
             ("masked", masked)]
    assert [where for where, _ in find_leaks([secret], texts)] == ["whole", "cut", "wrapped"]


def test_no_secret_in_anything_the_suite_produced(secret_registry):
    outputs = list(registry.OUTPUTS)
    artefacts = _artefacts()
    secrets = sorted(secret_registry)
    assert secrets and outputs
    leaks = find_leaks(secrets, outputs + artefacts)
    for where, text in artefacts:
        flat = re.sub(r"<[^>]*>|\s+", "", text)
        if JWT.search(flat) or CONFIDENTIAL_CLIENT_SECRET in flat or API_KEY in flat:
            leaks.append((where, "a JWT or a sandbox credential"))
    figures.put("secrets: real token/secret values checked", len(secrets))
    figures.put("secrets: outputs scanned (captured, logs, messages, snapshots, screenshots)", len(outputs) + len(artefacts))
    figures.put("secrets: leaks found", len(leaks))
    assert leaks == []

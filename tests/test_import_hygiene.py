"""The headless core must never import Textual (shared/DESIGN.md §1).

Each import runs in a fresh interpreter so nothing imported by another test leaks in. The
CLI subcommands are checked the same way, by running them through ``cli.main`` for real.
"""

import json
import subprocess
import sys

import pytest

#: The core every layer builds on; discovery below must find at least these.
CORE_MODULES = [
    "bonjoro_tui",
    "bonjoro_tui.cli",
    "bonjoro_tui.tokens",
    "bonjoro_tui.redact",
    "bonjoro_tui.settings",
    "bonjoro_tui.store",
    "bonjoro_tui.plumbing.debug",
    "bonjoro_tui.api.catalog",
    "bonjoro_tui.api.auth",
    "bonjoro_tui.api.client",
    "bonjoro_tui.account.session",
    "bonjoro_tui.cli.commands",
    "bonjoro_tui.account.signin",
    "bonjoro_tui.account.status",
    "bonjoro_tui.auth.pkce",
    "bonjoro_tui.auth.callback",
    "bonjoro_tui.auth.oauth",
    "bonjoro_tui.auth.login",
    "bonjoro_tui.sandbox.server",
    "bonjoro_tui.sandbox.browser",
]

TEXTUAL_IN_SYS_MODULES = "sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.'))"


def headless_modules() -> list[str]:
    """Every module of the package outside bonjoro_tui.tui (and __main__, which runs the CLI)."""
    import pkgutil

    import bonjoro_tui

    found = ["bonjoro_tui"]
    for info in pkgutil.walk_packages(bonjoro_tui.__path__, "bonjoro_tui."):
        if info.name == "bonjoro_tui.tui" or info.name.startswith("bonjoro_tui.tui.") or info.name.endswith("__main__"):
            continue
        found.append(info.name)
    return sorted(found)


def test_every_module_outside_tui_is_checked():
    assert set(CORE_MODULES) <= set(headless_modules())


@pytest.mark.parametrize("module", headless_modules())
def test_headless_module_does_not_import_textual(module):
    code = (
        "import importlib, json, sys\n"
        f"importlib.import_module({module!r})\n"
        f"print(json.dumps({TEXTUAL_IN_SYS_MODULES}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == [], f"{module} pulled in textual"


def test_cli_status_refresh_and_api_run_without_textual():
    """A full headless run: sign in with the sandbox's API key, then status, api, refresh.

    The target is the in-process sandbox (no client configured), so session, sandbox,
    store, auth and API client are all imported and exercised.
    """
    code = (
        "import io, json, sys\n"
        "from bonjoro_tui.cli import main\n"
        "codes = {}\n"
        "sys.stdin = io.StringIO('sandbox-api-key\\n')\n"
        "codes['login'] = main(['login', '--method', 'api-key'])\n"
        "codes['status'] = main(['status', '--json'])\n"
        "codes['api'] = main(['api', 'GET', '/me'])\n"
        "codes['refresh'] = main(['refresh'])\n"
        "codes['paths'] = main(['paths'])\n"
        f"print('RESULT ' + json.dumps({{'codes': codes, 'textual': {TEXTUAL_IN_SYS_MODULES}}}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=90)
    lines = [line for line in out.stdout.splitlines() if line.startswith("RESULT ")]
    assert lines, out.stdout + out.stderr
    result = json.loads(lines[-1][len("RESULT "):])
    # An API key cannot be refreshed: refresh fails cleanly (1); everything else succeeds.
    assert result["codes"] == {"login": 0, "status": 0, "api": 0, "refresh": 1, "paths": 0}, out.stderr
    assert result["textual"] == []

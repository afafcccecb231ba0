"""The sandbox shares no protocol code with the client side and never imports Textual."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys

import bonjoro_tui.sandbox


def test_sandbox_imports_neither_the_client_layers_nor_textual():
    modules = sorted(f"bonjoro_tui.sandbox.{m.name}" for m in pkgutil.iter_modules(bonjoro_tui.sandbox.__path__))
    assert {"bonjoro_tui.sandbox.app", "bonjoro_tui.sandbox.oauth", "bonjoro_tui.sandbox.browser"} <= set(modules)
    code = (
        "import importlib, json, sys\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] == 'textual'"
        " or m.startswith(('bonjoro_tui.auth', 'bonjoro_tui.api', 'bonjoro_tui.tui', 'bonjoro_tui.account.session')))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []

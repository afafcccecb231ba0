"""The headless core must never import Textual (shared/DESIGN.md §1).

Each import runs in a fresh interpreter so nothing imported by another test leaks in.
"""

import json
import subprocess
import sys

import pytest

HEADLESS_MODULES = [
    "bonjoro_tui",
    "bonjoro_tui.cli",
    "bonjoro_tui.tokens",
    "bonjoro_tui.redact",
]


@pytest.mark.parametrize("module", HEADLESS_MODULES)
def test_headless_module_does_not_import_textual(module):
    code = (
        "import importlib, json, sys\n"
        f"importlib.import_module({module!r})\n"
        "print(json.dumps(sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.'))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == [], f"{module} pulled in textual"

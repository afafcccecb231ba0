"""The layer rules of docs/DESIGN.md as import-linter contracts, and the types, checked by mypy
([tool.importlinter] and [tool.mypy] in pyproject.toml).

``make test`` runs ``lint-imports`` and ``mypy`` before pytest; these tests run them too, so that
``pytest`` alone (or an editor's test runner) also fails when a layer imports what it must not or
a type is wrong. Both are quick: lint-imports ~0.2 s, mypy ~0.3 s with its cache (.mypy_cache),
~6 s without.
"""

from __future__ import annotations

import pkgutil
import subprocess
import sys
import tomllib
from pathlib import Path

import bonjoro_tui

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"
MYPY = Path(sys.executable).parent / "mypy"

#: The front ends, and ``python -m bonjoro_tui``: every other top-level module is the headless core.
FRONT_ENDS = {"bonjoro_tui.tui", "bonjoro_tui.cli", "bonjoro_tui.__main__"}
CORE_CONTRACT = "The headless core never imports UI (Textual, Rich, the TUI, the CLI)"


def contracts() -> dict[str, dict]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return {c["name"]: c for c in config["tool"]["importlinter"]["contracts"]}


def test_import_contracts_are_kept():
    out = subprocess.run(
        [str(LINT_IMPORTS)], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stdout + out.stderr


def test_types_check():
    out = subprocess.run(
        [str(MYPY), "bonjoro_tui"], cwd=ROOT, capture_output=True, text=True, timeout=110
    )
    assert out.returncode == 0, out.stdout + out.stderr


def test_every_top_level_module_is_core_or_a_front_end():
    """A new module (``bonjoro_tui/newthing.py``) must be listed: in the core contract, or here."""
    top_level = {f"bonjoro_tui.{m.name}" for m in pkgutil.iter_modules(bonjoro_tui.__path__)}
    core = set(contracts()[CORE_CONTRACT]["source_modules"])
    assert core.isdisjoint(FRONT_ENDS)
    assert top_level - FRONT_ENDS == core, (
        "add the new module to the core contract's source_modules in pyproject.toml, "
        "or (a front end) to FRONT_ENDS here"
    )


def test_there_is_no_import_loop():
    """No module imports itself through others (TYPE_CHECKING imports aside): the last loop,
    cli.py <-> commands.py over the exit codes, ended with cli/exitcodes.py."""
    import grimp

    graph = grimp.build_graph("bonjoro_tui", exclude_type_checking_imports=True)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    loops: list[list[str]] = []

    def visit(module: str) -> None:  # Tarjan's strongly connected components
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in graph.find_modules_directly_imported_by(module):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == module:
                    break
            if len(component) > 1:
                loops.append(sorted(component))

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    assert loops == []

"""Every ``@work`` in the dashboard names itself (``description=``).

Without one, Textual describes a worker by the ``repr`` of its arguments, built on the event loop
when the worker starts: ``ResponseView._after_parse(exchange, document)`` spent ~150–250 ms
rendering a 5 MB response as text before its thread began (the explorer's stall, issue 16), and
``run_sign_in(method, key)`` would have put an API key in full into the worker's description,
which Textual's devtools and worker reprs show. A name costs nothing and says what runs.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

TUI = Path(__file__).resolve().parents[2] / "bonjoro_tui" / "tui"


def _work_decorators() -> list[tuple[str, int, ast.Call | ast.expr]]:
    found = []
    for path in sorted(TUI.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for deco in node.decorator_list:
                    target = deco.func if isinstance(deco, ast.Call) else deco
                    name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")
                    if name == "work":
                        found.append((f"{path.relative_to(TUI.parent.parent)}:{node.lineno} {node.name}", node.lineno, deco))
    return found


def test_the_dashboard_has_workers_to_check():
    assert len(_work_decorators()) >= 10


@pytest.mark.parametrize("where, line, deco", _work_decorators(), ids=lambda v: v if isinstance(v, str) else "")
def test_every_worker_has_a_description(where, line, deco):
    assert isinstance(deco, ast.Call) and any(k.arg == "description" for k in deco.keywords), (
        f"{where}: give @work a description= (else Textual repr()s the arguments on the event loop)"
    )


def test_an_api_key_is_not_in_the_sign_in_workers_description(monkeypatch):
    """What the rule protects, seen from outside: the description the worker is started with."""
    from bonjoro_tui.account.methods import SignInMethod
    from bonjoro_tui.tui.screens.login import LoginScreen

    seen: list[str] = []

    def run_worker(self, work, *args, description: str = "", **kwargs):  # type: ignore[no-untyped-def]
        seen.append(description)
        raise RuntimeError("not started: no app")

    monkeypatch.setattr(LoginScreen, "run_worker", run_worker)
    screen = LoginScreen.__new__(LoginScreen)  # the decorator needs a DOM node, not a running app
    key = "bj_live_" + "k" * 32
    with pytest.raises(RuntimeError, match="not started"):
        screen.run_sign_in(SignInMethod.API_KEY, key)
    assert seen and all(key not in d for d in seen)

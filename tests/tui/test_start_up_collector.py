"""The dashboard starts without full passes of the cyclic garbage collector (``bonjoro_tui.startup``)
and collects as usual once started: signed out after the first frame, signed in once ``/me`` is
shown. It is never left that way, and a collector the embedding program disabled stays disabled."""

from __future__ import annotations

import gc

import pytest

from bonjoro_tui import startup
from bonjoro_tui.tui.app import BonjoroApp

from .fakes import FakeSession
from .helpers import make_app

USUAL = (700, 10, 10)


@pytest.fixture(autouse=True)
def usual_collector():
    was, thresholds = gc.isenabled(), gc.get_threshold()
    gc.enable()
    gc.set_threshold(*USUAL)
    yield
    startup._saved = None
    gc.set_threshold(*thresholds)
    if was:
        gc.enable()
    else:
        gc.disable()


@pytest.mark.parametrize("signed_in", [False, True])
async def test_no_full_collection_during_start_up_and_the_usual_once_started(signed_in):
    session = FakeSession()
    if signed_in:
        session.sign_in()
    seen: list[tuple[int, int, int]] = []

    class Probe(BonjoroApp):
        def on_load(self) -> None:
            super().on_load()
            seen.append(gc.get_threshold())

    app = make_app(session)
    app.__class__ = Probe
    async with app.run_test(size=(80, 24)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.pause()
        assert seen == [(700, 10, startup.START_UP_THRESHOLD)]  # from the start
        assert gc.get_threshold() == USUAL and gc.isenabled()  # and as usual once started
        if signed_in:
            assert app.user is not None


def test_resume_restores_once_and_only_its_own_change():
    startup.pause_collector()
    assert gc.get_threshold() == (700, 10, startup.START_UP_THRESHOLD)
    startup.resume_collector()
    assert gc.get_threshold() == USUAL
    startup.resume_collector()  # a second resume changes nothing
    assert gc.get_threshold() == USUAL
    startup.pause_collector()
    gc.set_threshold(100, 5, 5)  # someone tuned it meanwhile: theirs stays
    startup.resume_collector()
    assert gc.get_threshold() == (100, 5, 5)


def test_a_collector_disabled_by_someone_else_stays_disabled():
    gc.disable()
    startup.pause_collector()
    startup.resume_collector()
    assert not gc.isenabled() and gc.get_threshold() == USUAL


def _in_a_fresh_interpreter(code: str) -> str:
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_the_program_freezes_what_its_start_up_made_once_started():
    """``bonjoro-tui`` asks for it (cli/main.py): a full pass later scans only what came after the
    start-up (a pass over all of it was 70-105 ms of the explorer's loop with a 5 MB response)."""
    out = _in_a_fresh_interpreter(
        "import gc\n"
        "from bonjoro_tui import startup\n"
        "startup.freeze_when_started(); startup.pause_collector()\n"
        "kept = [[i] for i in range(10000)]\n"  # what a start-up makes and keeps
        "before = gc.get_freeze_count()\n"
        "startup.resume_collector(); startup.resume_collector()\n"
        "print(before, gc.get_freeze_count() >= 10000, gc.get_threshold()[2] != startup.START_UP_THRESHOLD)\n"
    )
    assert out == "0 True True"


def test_a_freeze_is_only_for_the_program_not_for_an_app_in_a_test_process():
    out = _in_a_fresh_interpreter(
        "import gc\n"
        "from bonjoro_tui import startup\n"
        "startup.pause_collector(); kept = [[i] for i in range(1000)]; startup.resume_collector()\n"
        "print(gc.get_freeze_count())\n"
    )
    assert out == "0"


async def test_running_the_app_in_a_test_does_not_freeze():
    before = gc.get_freeze_count()
    app = make_app(FakeSession())
    async with app.run_test(size=(80, 24)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
    assert gc.get_freeze_count() == before


def test_bonjoro_tui_asks_for_the_freeze_before_the_dashboard_starts(monkeypatch):
    """The command line's dashboard path: freeze_when_started() then the pause, then run_tui."""
    import importlib

    import bonjoro_tui.tui.launch as launch

    cli_main = importlib.import_module("bonjoro_tui.cli.main")

    calls: list[str] = []
    monkeypatch.setattr(startup, "freeze_when_started", lambda: calls.append("freeze"))
    monkeypatch.setattr(startup, "pause_collector", lambda: calls.append("pause"))
    monkeypatch.setattr(startup, "resume_collector", lambda: calls.append("resume"))
    monkeypatch.setattr(launch, "run_tui", lambda args: calls.append("run") or 0)
    assert cli_main.main([]) == 0
    assert calls == ["freeze", "pause", "run", "resume"]

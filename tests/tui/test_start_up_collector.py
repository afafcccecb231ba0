"""The dashboard starts without full passes of the cyclic garbage collector (``bonjoro_tui.startup``)
and collects as usual once started: signed out after the first frame, signed in once ``/me`` is
shown. It is never left that way, and a collector the embedding program disabled stays disabled."""

from __future__ import annotations

import gc

import pytest

from bonjoro_tui import startup
from bonjoro_tui.tui.app import BonjoroApp

from .fakes import FakeSession
from .helpers import make_app, open_explorer, until

USUAL = (700, 10, 10)


@pytest.fixture(autouse=True)
def usual_collector():
    was, thresholds = gc.isenabled(), gc.get_threshold()
    gc.enable()
    gc.set_threshold(*USUAL)
    yield
    startup._saved = None
    startup._holds, startup._hold_saved = 0, None
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


# ---- the explorer's part: set aside once, and full passes held back while a large body is shown ----


def test_the_explorer_is_set_aside_once_in_the_program():
    """``set_aside`` (asked for by the explorer once it has answered): a full pass, then a freeze,
    once per name, and only in a program that froze its start-up."""
    out = _in_a_fresh_interpreter(
        "import gc\n"
        "from bonjoro_tui import startup\n"
        "startup.set_aside('explorer'); print(gc.get_freeze_count())\n"  # not frozen at start: nothing
        "startup.freeze_when_started(); startup.pause_collector(); startup.resume_collector()\n"
        "after_start = gc.get_freeze_count()\n"
        "garbage = []; garbage.append(garbage); del garbage\n"  # a cycle: collected, not frozen
        "explorer = [[i] for i in range(5000)]\n"
        "startup.set_aside('explorer'); once = gc.get_freeze_count()\n"
        "more = [[i] for i in range(5000)]; startup.set_aside('explorer')\n"
        "print(once - after_start >= 5000, gc.get_freeze_count() == once, gc.garbage == [])\n"
    )
    assert out == "0\nTrue True True"


async def test_an_app_in_a_test_process_sets_nothing_aside(session):
    """Open the explorer, let it answer: a test process runs many apps, nothing is frozen."""
    from bonjoro_tui.tui.app import BonjoroApp as App

    before = gc.get_freeze_count()
    app = App(session)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("e")
        await app.workers.wait_for_complete()
        await pilot.pause()
    assert gc.get_freeze_count() == before


def test_hold_and_release_full_passes():
    startup.hold_full_passes()
    startup.hold_full_passes()  # a second holder
    assert gc.get_threshold() == (700, 10, startup.START_UP_THRESHOLD)
    assert startup.release_full_passes() is False  # one still holds
    assert startup.release_full_passes() is True  # the last: the caller runs the pass
    assert gc.get_threshold() == (700, 10, startup.START_UP_THRESHOLD)  # until the pass has run
    collected: list[int] = []
    gc.callbacks.append(cb := lambda phase, info: collected.append(info["generation"]) if phase == "stop" else None)
    try:
        startup.full_pass()
    finally:
        gc.callbacks.remove(cb)
    assert 2 in collected and gc.get_threshold() == USUAL
    assert startup.release_full_passes() is False  # nothing held: nothing to release
    startup.full_pass()  # nor to run
    assert gc.get_threshold() == USUAL


def test_a_hold_leaves_someone_elses_thresholds_and_a_disabled_collector_alone():
    startup.hold_full_passes()
    gc.set_threshold(100, 5, 5)  # tuned meanwhile: theirs stays
    assert startup.release_full_passes()
    startup.full_pass()
    assert gc.get_threshold() == (100, 5, 5)
    gc.set_threshold(*USUAL)
    gc.disable()
    startup.hold_full_passes()
    assert gc.get_threshold() == USUAL  # a disabled collector is not touched
    assert startup.release_full_passes()
    startup.full_pass()
    assert not gc.isenabled() and gc.get_threshold() == USUAL


def test_no_pass_while_a_new_hold_is_on():
    """The pass is run a moment after the verdict's frame: a new large response may be held by then."""
    startup.hold_full_passes()
    assert startup.release_full_passes()
    startup.hold_full_passes()  # the next large body
    startup.full_pass()  # the first one's pass, late: not now
    assert gc.get_threshold() == (700, 10, startup.START_UP_THRESHOLD)
    assert startup.release_full_passes()
    startup.full_pass()
    assert gc.get_threshold() == USUAL


@pytest.fixture
def session():
    s = FakeSession()
    s.sign_in()
    return s


async def _wait_usual(pilot) -> None:
    """The thresholds back to the usual ones within a second (20 polls of 50 ms)."""
    await until(pilot, lambda: gc.get_threshold() == USUAL, "the usual thresholds", tries=20, show=None)


async def _send(pilot, path: str) -> None:
    from textual.widgets import Input

    screen = pilot.app.screen
    screen.query_one("#path", Input).value = path
    await pilot.press("ctrl+j")


@pytest.mark.parametrize("replaced", [False, True])
async def test_a_large_body_is_shown_without_full_passes_and_one_follows(session, replaced):
    """While a body of 1 MB or more is parsed, shown and checked, the oldest generation waits; its
    pass runs once after the verdict, and the thresholds are the usual ones again — also when
    another response replaces it half-way."""
    from bonjoro_tui.tui.widgets.response import HOLD_COLLECTOR_AT, ResponseView

    big = {"data": [{"id": i, "notes": "x" * 60} for i in range(20000)]}
    session.client.responses["/greets"] = big
    app = make_app(session)
    async with app.run_test(size=(120, 36)) as pilot:
        view = (await open_explorer(pilot, after_me=True)).query_one(ResponseView)
        seen: list[tuple[int, int, int]] = []
        original = view._raw_and_contract

        async def watched(exchange, document):  # type: ignore[no-untyped-def]
            seen.append(gc.get_threshold())
            await original(exchange, document)

        view._raw_and_contract = watched  # type: ignore[method-assign]
        await _send(pilot, "/greets")
        if replaced:
            await pilot.pause()
            await _send(pilot, "/me")
        await app.workers.wait_for_complete()
        await _wait_usual(pilot)
        assert gc.get_threshold() == USUAL and startup._holds == 0
        if not replaced:
            assert len(app.screen.current.content) >= HOLD_COLLECTOR_AT
            assert seen and seen[0] == (700, 10, startup.START_UP_THRESHOLD)




async def test_a_hold_ends_when_showing_the_body_is_cancelled_or_fails(session, monkeypatch):
    """A new send cancels the worker that was showing a large body, mid-parse: its hold ends with
    it. A large body that is not JSON ends its hold too."""
    import asyncio
    import threading

    from bonjoro_tui.tui.exchange import Exchange
    from bonjoro_tui.tui.widgets import response as response_module
    from bonjoro_tui.tui.widgets.response import HOLD_COLLECTOR_AT, ResponseView

    app = make_app(session)
    async with app.run_test(size=(120, 36)) as pilot:
        view = (await open_explorer(pilot, after_me=True)).query_one(ResponseView)
        release = threading.Event()
        parse = response_module.loads_in_pieces

        parsing = threading.Event()

        def slow_parse(content, **kw):  # type: ignore[no-untyped-def]
            parsing.set()
            release.wait(10)
            return parse(content, **kw)

        monkeypatch.setattr(response_module, "loads_in_pieces", slow_parse)
        big = b'{"data": "' + b"x" * HOLD_COLLECTOR_AT + b'"}'
        showing = asyncio.create_task(view.show(Exchange("GET", "/big", {}, None, at=0.0, status=200, content=big)))
        for _ in range(200):
            if parsing.is_set():
                break
            await asyncio.sleep(0.01)
        assert startup._holds == 1 and gc.get_threshold()[2] == startup.START_UP_THRESHOLD
        showing.cancel()  # while its parse is still running in its thread
        try:
            await showing
        except asyncio.CancelledError:
            pass
        release.set()
        assert showing.cancelled() and startup._holds == 0
        await _wait_usual(pilot)
        assert gc.get_threshold() == USUAL

        monkeypatch.setattr(response_module, "loads_in_pieces", parse)
        await view.show(Exchange("GET", "/big", {}, None, at=0.0, status=200, content=b"not json " * HOLD_COLLECTOR_AT))
        await app.workers.wait_for_complete()
        assert startup._holds == 0
        await _wait_usual(pilot)
        assert gc.get_threshold() == USUAL


async def test_the_held_pass_runs_even_if_the_view_is_gone(session):
    """The pass that restores the thresholds is the app's timer, not the view's: a view closed
    right after its verdict leaves no collector held for the rest of the run."""
    from bonjoro_tui.tui.exchange import Exchange
    from bonjoro_tui.tui.widgets.response import HOLD_COLLECTOR_AT, ResponseView

    app = make_app(session)
    async with app.run_test(size=(120, 36)) as pilot:
        view = (await open_explorer(pilot, after_me=True)).query_one(ResponseView)
        exchange = Exchange("GET", "/big", {}, None, at=0.0, status=200, content=b"x" * HOLD_COLLECTOR_AT)
        view._hold_collector(exchange)
        assert gc.get_threshold()[2] == startup.START_UP_THRESHOLD
        view._release_collector(exchange)
        await view.remove()
        await _wait_usual(pilot)
        assert gc.get_threshold() == USUAL and startup._hold_saved is None


async def test_a_hold_does_not_outlive_the_app(session):
    """The app ends while a large body is still being checked: the process's collector is as it
    was (a program embedding the app, or the next test, goes on with it)."""
    from bonjoro_tui.tui.exchange import Exchange
    from bonjoro_tui.tui.widgets.response import HOLD_COLLECTOR_AT, ResponseView

    app = make_app(session)
    async with app.run_test(size=(120, 36)) as pilot:
        view = (await open_explorer(pilot, after_me=True)).query_one(ResponseView)
        view._hold_collector(Exchange("GET", "/big", {}, None, at=0.0, status=200, content=b"x" * HOLD_COLLECTOR_AT))
        assert gc.get_threshold()[2] == startup.START_UP_THRESHOLD
    assert gc.get_threshold() == USUAL and startup._holds == 0 and startup._hold_saved is None

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

"""The dashboard starts with the cyclic garbage collector paused (``bonjoro_tui.startup``)
and resumes it once started: signed out after the first frame, signed in once ``/me`` is shown.
It is never left paused, and a collector the embedding program disabled stays disabled."""

from __future__ import annotations

import gc

import pytest

from bonjoro_tui import startup
from bonjoro_tui.tui.app import BonjoroApp

from .fakes import FakeSession
from .helpers import make_app


@pytest.fixture(autouse=True)
def collector_on():
    was = gc.isenabled()
    gc.enable()
    yield
    startup._paused = False
    if was:
        gc.enable()
    else:
        gc.disable()


@pytest.mark.parametrize("signed_in", [False, True])
async def test_the_collector_is_paused_at_start_and_resumed_once_started(signed_in):
    session = FakeSession()
    if signed_in:
        session.sign_in()
    seen: list[bool] = []

    class Probe(BonjoroApp):
        def on_load(self) -> None:
            super().on_load()
            seen.append(gc.isenabled())

    app = make_app(session)
    app.__class__ = Probe
    async with app.run_test(size=(80, 24)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.pause()
        assert seen == [False]  # paused from the start
        assert gc.isenabled()  # and running again once started
        if signed_in:
            assert app.user is not None


async def test_the_collector_is_resumed_when_the_app_ends_early():
    startup.pause_collector()
    assert not gc.isenabled()
    startup.resume_collector()
    assert gc.isenabled()
    startup.resume_collector()  # a second resume changes nothing
    assert gc.isenabled()


def test_a_collector_disabled_by_someone_else_stays_disabled():
    gc.disable()
    startup.pause_collector()
    startup.resume_collector()
    assert not gc.isenabled()

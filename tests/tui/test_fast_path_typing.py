"""A path typed faster than the parameter fields can be rebuilt (a real terminal delivers a
burst of keys between two frames): each keystroke that matches another endpoint asks for new
fields. Found in tmux: the app crashed (NoMatches 'SelectOverlay') when a rebuild was cancelled
between mounting a Select and the next rebuild removing it."""

from __future__ import annotations

import asyncio

from textual.widgets import Input, Select

from bonjoro_tui.tui.screens.explorer import ExplorerScreen

from .fakes import FakeSession
from .helpers import make_app


async def test_a_burst_of_paths_builds_the_last_ones_fields_and_nothing_crashes():
    session = FakeSession()
    session.sign_in()
    app = make_app(session)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("e")
        await app.workers.wait_for_complete()
        screen = app.screen
        assert isinstance(screen, ExplorerScreen)
        path = screen.query_one("#path", Input)
        # Keys arrive while a rebuild is under way: between two values the event loop runs a
        # varying number of steps (0 to 11), so a new value lands at every stage of a rebuild.
        burst = ["/greets", "/users/{user_id}", "/greets", "/me", "/greets", "/greets/{greet_id}/profiles"] * 4
        for n, value in enumerate(burst):
            path.value = value
            for _ in range(n % 12):
                await asyncio.sleep(0)
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.is_running and app._exception is None
        assert list(screen._path_fields) == ["greet_id"]
        assert not screen.query("#query-params Select")  # /greets' enum Selects are gone, whole
        # And back to an endpoint whose query parameters include Selects: they are all mounted.
        for value in ["/me", "/greets"]:
            path.value = value
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        selects = list(screen.query("#query-params Select").results(Select))
        assert selects and all(s.is_mounted for s in selects)

"""What the explorer redraws, and when (issue 16 figures 7 and 11: a 5 MB response).

- A scrolled tree repaints its scrollbars when a size changes, not on every layout of the
  screen (``widgets/steady.py``): the catalog's full-height scrollbar, repainted with the
  response below, made the compositor repaint the whole request pane in between.
- The Raw tab's text goes into its TextArea when the tab is shown, by mouse or by key, and it is
  the text of the response shown then — never an earlier one's.
"""

from __future__ import annotations

import json

from textual.widgets import Input, Static, TabbedContent, TextArea

from bonjoro_tui.tui.screens.explorer import CatalogTree
from bonjoro_tui.tui.widgets.json_tree import JsonTree

from .fakes import FakeSession
from .helpers import make_app, open_explorer, until


def _session() -> FakeSession:
    session = FakeSession()
    session.sign_in()
    return session


async def _send(pilot, path: str) -> None:
    pilot.app.screen.query_one("#path", Input).value = path
    await pilot.press("ctrl+j")
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def test_a_layout_elsewhere_does_not_repaint_the_catalogs_scrollbar():
    app = make_app(_session())
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_explorer(pilot, after_me=True)
        catalog = screen.query_one(CatalogTree)
        assert catalog.show_vertical_scrollbar  # 123 endpoints in 30 rows
        bar = catalog.vertical_scrollbar
        repaints: list[object] = []
        repaint = bar.refresh
        bar.refresh = lambda *a, **k: (repaints.append(a), repaint(*a, **k))[1]  # type: ignore[method-assign]
        # a layout of the screen that changes nothing of the catalog: the response's status grows
        meta = screen.query_one("#response-meta", Static)
        meta.update("one\ntwo\nthree")
        await pilot.pause()
        meta.update("one")
        await pilot.pause()
        assert repaints == []
        # a size that changes does: the window follows the terminal
        before = bar.window_size
        await pilot.resize_terminal(100, 40)
        await pilot.pause()
        assert repaints and bar.window_size > before
        # and scrolling still moves the thumb
        catalog.scroll_end(animate=False)
        await pilot.pause()
        assert bar.position == catalog.scroll_y > 0


async def test_the_response_tree_scrollbar_follows_its_content():
    session = _session()
    session.client.responses["/greets"] = {"data": [{"id": i} for i in range(5)]}
    session.client.responses["/many"] = [{"id": i} for i in range(200)]
    app = make_app(session)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_explorer(pilot, after_me=True)
        tree = screen.query_one(JsonTree)
        await _send(pilot, "/greets")
        assert not tree.show_vertical_scrollbar
        await _send(pilot, "/many")
        tree.root.expand()
        await until(pilot, lambda: tree.show_vertical_scrollbar, "a scrollbar for 200 items")
        await pilot.pause()
        bar = tree.vertical_scrollbar
        assert bar.window_virtual_size == tree.virtual_size.height > 200
        assert bar.window_size == tree.scrollable_content_region.height
        tree.root.collapse()  # and away again when the content fits
        await until(pilot, lambda: not tree.show_vertical_scrollbar, "no scrollbar for one line")


async def test_the_raw_text_is_filled_when_its_tab_is_shown_and_is_the_current_ones():
    session = _session()
    session.client.responses["/first"] = {"which": "first"}
    session.client.responses["/second"] = {"which": "second"}
    app = make_app(session)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_explorer(pilot, after_me=True)
        raw = screen.query_one("#response-raw", TextArea)
        await _send(pilot, "/first")
        await _send(pilot, "/second")  # the Raw tab never shown in between
        assert await pilot.click("#--content-tab-tab-raw")
        await pilot.pause()
        assert json.loads(raw.text) == {"which": "second"}
        # shown: the next response goes in at once
        await _send(pilot, "/first")
        assert json.loads(raw.text) == {"which": "first"}
        # back on Tree, a response, then Raw by keyboard (the tabs focused, right arrow)
        tabs = screen.query_one("#response-tabs", TabbedContent)
        assert await pilot.click("#--content-tab-tab-tree")
        await _send(pilot, "/second")
        tabs.query_one("Tabs").focus()
        await pilot.press("right")
        await pilot.pause()
        assert tabs.active == "tab-raw" and json.loads(raw.text) == {"which": "second"}


async def test_an_error_after_a_body_leaves_no_stale_raw_text():
    session = _session()
    session.client.responses["/first"] = {"secret_looking": "first body"}
    app = make_app(session)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_explorer(pilot, after_me=True)
        await _send(pilot, "/first")
        session.client.responses["/first"] = b""  # an empty body next time
        await _send(pilot, "/first")
        assert await pilot.click("#--content-tab-tab-raw")
        await pilot.pause()
        assert "first body" not in screen.query_one("#response-raw", TextArea).text


def test_a_history_label_joins_a_query_to_a_path_that_has_one():
    """A reviewer saw `…/greets?page=4?search=a` in the history (a paged URL, then a field)."""
    from bonjoro_tui.account.history import Entry
    from bonjoro_tui.tui.screens.explorer import history_label

    paged = history_label(Entry("GET", "http://127.0.0.1:1/api/v2/greets?page=4", {"search": "a"}, None, at=0.0, status=200))
    assert "greets?page=4&search=a" in paged and paged.count("?") == 1
    plain = history_label(Entry("GET", "/greets", {"search": "a"}, None, at=0.0, status=200))
    assert "/greets?search=a" in plain


async def test_down_and_up_in_the_catalog_filter_choose_the_match_enter_opens():
    """A reviewer pressed down in the filter, saw a match highlighted, pressed enter: the first
    match opened instead. Down/up now move through the matches (wrapping), typing stays in the
    filter, enter opens the one highlighted — the first when none is."""
    app = make_app(_session())
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_explorer(pilot, after_me=True)
        assert await pilot.click("#catalog-filter")
        for key in "stats":
            await pilot.press(key)
        await pilot.pause()
        leaves = screen._catalog_leaves()
        assert len(leaves) >= 2
        await pilot.press("down", "down")
        assert app.focused.id == "catalog-filter"
        await pilot.press("enter")
        await pilot.pause()
        assert screen.endpoint is leaves[1].data
        # up from nothing chosen wraps to the last; enter with nothing chosen opens the first
        assert await pilot.click("#catalog-filter")
        await pilot.press("end", "backspace")
        await pilot.pause()
        await pilot.press("s")
        await pilot.pause()
        leaves = screen._catalog_leaves()
        await pilot.press("up", "enter")
        await pilot.pause()
        assert screen.endpoint is leaves[-1].data
        assert await pilot.click("#catalog-filter")
        await pilot.press("end", "backspace")
        await pilot.pause()
        await pilot.press("s", "enter")
        await pilot.pause()
        assert screen.endpoint is screen._catalog_leaves()[0].data

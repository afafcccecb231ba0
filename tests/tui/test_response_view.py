"""The explorer's response side (tui/widgets/response.py) against the real core and sandbox:
status line, retries, Headers, Raw pretty/compact, page links, array previews, copy value,
copy limits, save to a file, and the contract check (green against the sandbox; its differences
listed when the off_schema knob or a respx-mocked server departs from the schema)."""

from __future__ import annotations

import os
import stat

import httpx
import pytest
import respx
from textual.widgets import Input, TabbedContent, TextArea

from bonjoro_tui.account.session import open_session
from bonjoro_tui.auth.login import login_api_key
from bonjoro_tui.settings import load_settings
from bonjoro_tui.store import StoredProfile, TokenStore
from bonjoro_tui.tokens import TokenSet
from bonjoro_tui.tui.app import BonjoroApp
from bonjoro_tui.tui.modals.save import SaveBodyScreen
from bonjoro_tui.tui.screens.explorer import ExplorerScreen
from bonjoro_tui.tui.widgets.json_tree import JsonTree
from bonjoro_tui.tui.widgets.response import COPY_LIMIT, ResponseView

from .helpers import make_app, notifications, open_explorer, until
from .screen import screen_text

pytestmark = pytest.mark.integration


async def _explorer(pilot) -> ExplorerScreen:
    screen = await open_explorer(pilot)
    await _settled(pilot, screen)
    return screen


async def _settled(pilot, screen: ExplorerScreen) -> None:
    view = screen.query_one(ResponseView)
    await until(pilot, lambda: view.contract is not None or "not checked" in str(view._verdict or ""),
                "the contract check is done")
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def _send(pilot, screen: ExplorerScreen, path: str, query: str = "") -> None:
    count = len(screen.history)
    screen.query_one("#path", Input).value = path
    await pilot.pause()
    screen.query_one("#query", Input).value = query
    screen.query_one("#path", Input).focus()
    await pilot.press("ctrl+j")
    await until(pilot, lambda: len(screen.history) > count, f"{path} is answered")
    await _settled(pilot, screen)


async def _released(pilot, button) -> None:
    """A button ignores a click while it still shows the previous one (Textual's 0.2 s effect)."""
    await until(pilot, lambda: not button.has_class("-active"), "the button is released")


def _meta(screen) -> str:
    return str(screen.query_one("#response-meta").render())


async def _tab(pilot, pane_id: str) -> None:
    assert await pilot.click(f"#--content-tab-{pane_id}")
    await pilot.pause()


async def test_the_response_in_full_against_the_sandbox(session, clock, tmp_path):
    login_api_key(session.settings, session.store, "sandbox-api-key", clock)
    app = make_app(session, clock)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _explorer(pilot)
        view = screen.query_one(ResponseView)
        assert "✓ matches the published schema (GET /me 200)" in _meta(screen)

        # Headers: what was sent (the key masked) and what came back.
        await _tab(pilot, "tab-response-headers")
        text = screen_text(app)
        assert "Request" in text and "GET http://127.0.0.1:" in text and "/api/v2/me" in text
        assert "authorization: Bearer san…(15 chars)" in text and "sandbox-api-key" not in text
        assert "x-ratelimit-limit: 600" in str(screen.query_one("#response-headers").render())  # scrolled off

        # A list: page links, array items previewed by id and a name-like field, Raw pretty-printed.
        await _send(pilot, screen, "/greets", "limit=5")
        assert "✓ matches the published schema (GET /greets 200)" in _meta(screen)
        assert "page 1 of 10 · 50 in all" in screen_text(app)
        await _tab(pilot, "tab-tree")
        tree = screen.query_one(JsonTree)
        data = next(n for n in tree.root.children if n.data.key == "data")
        data.expand()
        await pilot.pause()
        first = data.children[0]
        greet = view.document["data"][0]
        assert f'id "{greet["id"]}"' in first.label.plain and f'status "{greet["status"]}"' in first.label.plain

        await _tab(pilot, "tab-raw")
        raw = screen.query_one("#response-raw", TextArea)
        assert raw.text.startswith('{\n  "current_page": 1,\n  "data": [\n    {')
        assert await pilot.click("#raw-compact")
        await pilot.pause()
        assert raw.text == view.exchange.content.decode()  # the body as sent
        await pilot.press("p")  # focus is on the box: p toggles it back
        await pilot.pause()
        assert raw.text.startswith('{\n  "current_page"')

        # Next page by mouse, previous by key (from the tree).
        assert await pilot.click("#page-next")
        await until(pilot, lambda: "page=2" in screen.history[-1].path, "page 2 is asked for")
        await _settled(pilot, screen)
        assert screen.history[-1].path.startswith(session.settings.api_base + "/greets?")
        assert "limit=5" in screen.history[-1].path and screen.history[-1].status == 200
        assert "page 2 of 10" in screen_text(app)
        assert "✓ matches the published schema (GET /greets 200)" in _meta(screen)  # an absolute URL is matched too
        await _tab(pilot, "tab-tree")
        screen.query_one(JsonTree).focus()
        await pilot.press("left_square_bracket")
        await until(pilot, lambda: "page=1" in screen.history[-1].path, "page 1 is asked for again")
        await _settled(pilot, screen)
        assert "page 1 of 10" in screen_text(app)

        # Copy the value under the cursor: a string as it is, a subtree as JSON; key and button.
        tree = screen.query_one(JsonTree)
        tree.focus()
        current = next(n for n in tree.root.children if n.data.key == "current_page")
        tree.move_cursor(current)
        await pilot.press("c")
        assert app.clipboard == "1"
        assert any("The value of current_page (1 B). Sent to the terminal's clipboard (OSC 52)" in m
                   for m in notifications(app))
        data = next(n for n in tree.root.children if n.data.key == "data")
        data.expand()
        await pilot.pause()
        tree.move_cursor(data.children[0])
        assert await pilot.click("#copy-value")
        assert app.clipboard.startswith('{\n  "id": ') and app.clipboard.count('"status"') >= 1
        data.children[0].expand()
        await pilot.pause()
        status_node = next(n for n in data.children[0].children if n.data.key == "status")
        tree.move_cursor(status_node)
        await pilot.press("c")
        assert app.clipboard == view.document["data"][0]["status"]
        assert any("data[0].status" in m for m in notifications(app))

        # Copy body within the limit; above it nothing is sent and Save is offered.
        await pilot.press("ctrl+y")
        assert app.clipboard == view.exchange.content.decode()
        session.sandbox.state.set_knobs(greet_count=250)
        await _send(pilot, screen, "/greets", "limit=250")
        assert len(view.exchange.content) > COPY_LIMIT
        before = app.clipboard
        assert await pilot.click("#copy-body")
        assert app.clipboard == before
        assert any("Not copied: the body is" in m and "Save it to a file instead" in m for m in notifications(app))
        assert "long arrays checked on their first items" in _meta(screen)
        tree = screen.query_one(JsonTree)
        tree.focus()
        tree.move_cursor(next(n for n in tree.root.children if n.data.key == "data"))
        await pilot.press("c")
        assert app.clipboard == before
        assert any("Not copied: the value of data is more than 100.0 KB" in m for m in notifications(app))

        # Save it: 0600, never over an existing file without a second press, never through a link.
        target = tmp_path / "greets.json"
        assert await pilot.click("#save-body")
        await until(pilot, lambda: isinstance(app.screen, SaveBodyScreen), "the save prompt")
        field = app.screen.query_one("#save-path", Input)
        assert field.value == "bonjoro-GET-greets-200.json"
        field.value = str(target)
        assert await pilot.click("#save-ok")
        await until(pilot, lambda: not isinstance(app.screen, SaveBodyScreen), "saved")
        assert target.read_bytes() == view.exchange.content
        assert stat.S_IMODE(target.stat().st_mode) == 0o600
        assert any(f"Saved the body" in m and str(target) in m for m in notifications(app))

        screen.query_one(JsonTree).focus()
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, SaveBodyScreen), "the save prompt again")
        modal = app.screen
        modal.query_one("#save-path", Input).value = str(target)
        assert await pilot.click("#save-ok")
        await until(pilot, lambda: "exists" in str(modal.query_one("#save-note").render()), "asked to overwrite")
        assert str(modal.query_one("#save-ok").label) == "Overwrite"
        target.write_bytes(b"old")
        await _released(pilot, modal.query_one("#save-ok"))
        assert await pilot.click("#save-ok")
        await until(pilot, lambda: not isinstance(app.screen, SaveBodyScreen), "overwritten")
        assert target.read_bytes() == view.exchange.content

        victim = tmp_path / "victim"
        victim.write_bytes(b"keep me")
        link = tmp_path / "link.json"
        link.symlink_to(victim)
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, SaveBodyScreen), "the save prompt a third time")
        modal = app.screen
        modal.query_one("#save-path", Input).value = str(link)
        await pilot.press("enter")
        await until(pilot, lambda: "exists" in str(modal.query_one("#save-note").render()), "asked to overwrite")
        await _released(pilot, modal.query_one("#save-ok"))
        assert await pilot.click("#save-ok")
        await until(pilot, lambda: "Not saved" in str(modal.query_one("#save-note").render()), "refused")
        assert "symbolic link" in str(modal.query_one("#save-note").render())
        assert victim.read_bytes() == b"keep me" and link.is_symlink()
        assert await pilot.click("#save-cancel")
        await until(pilot, lambda: isinstance(app.screen, ExplorerScreen), "back to the explorer")

        # A 429 the client retried is said, and recorded in the exchange.
        session.sandbox.state.set_knobs(greet_count=50)
        session.sandbox.state.fail_next(1, 429, "api")
        await _send(pilot, screen, "/me")
        assert screen.history[-1].retries == [(429, 1.0)]
        assert "429 → retried after 1 s → 200" in _meta(screen)

        # The off_schema knob: the differences in the status line and the Contract tab.
        session.sandbox.state.set_knobs(off_schema=True)
        await _send(pilot, screen, "/greets", "limit=3")
        assert "✗ 2 differences from the published schema (GET /greets 200)" in _meta(screen)
        await _tab(pilot, "tab-contract")
        text = screen_text(app)
        for shown in ("data[0].id", "present (string)", "absent", "integer 42"):
            assert shown in text, shown
        session.sandbox.state.set_knobs(off_schema=False)


async def test_a_page_link_to_another_origin_is_not_followed(clock):
    """respx plays a server whose page envelope points elsewhere and departs from the schema."""
    settings = load_settings(env={**os.environ, "BONJORO_BASE_URL": "https://bonjoro.test", "BONJORO_CLIENT_ID": "c"})
    TokenStore(settings.store_path).save(StoredProfile(settings.profile, settings.target_id, "api_key", None,
                                                       TokenSet("respx-api-key-0123456789", clock())))
    session = open_session(settings, now=clock)
    me = {"id": "u1", "name": "Ada"}  # most documented fields of `user` missing
    page = {"current_page": 1, "data": [{"id": 7, "name": 12}], "first_page_url": "https://bonjoro.test/x",
            "from": 1, "last_page": 2, "last_page_url": "https://bonjoro.test/x", "path": "https://bonjoro.test/x",
            "per_page": 1, "prev_page_url": None, "to": 1, "total": 2,
            "next_page_url": "https://evil.example/api/v2/campaigns?page=2"}
    try:
        with respx.mock(assert_all_called=False) as mock:
            mock.get("https://bonjoro.test/api/v2/me").mock(return_value=httpx.Response(200, json=me))
            campaigns = mock.get("https://bonjoro.test/api/v2/campaigns").mock(return_value=httpx.Response(200, json=page))
            evil = mock.get(url__startswith="https://evil.example").mock(return_value=httpx.Response(200, json={}))
            app = BonjoroApp(session, now=clock)
            async with app.run_test(size=(120, 40)) as pilot:
                await pilot.press("e")
                screen = app.screen
                await until(pilot, lambda: screen.history and screen.history[-1].status == 200, "GET /me")
                await _settled(pilot, screen)
                assert "differences from the published schema (GET /me 200)" in _meta(screen)
                await _send(pilot, screen, "/campaigns")
                assert campaigns.called
                meta = _meta(screen)
                assert "✗ " in meta and "differences from the published schema (GET /campaigns 200)" in meta
                await _tab(pilot, "tab-contract")
                text = screen_text(app)
                assert "data[0].name" in text and "integer 12" in text and "data[0].slug" in text
                count = len(screen.history)
                assert await pilot.click("#page-next")
                await pilot.pause()
                assert not evil.called and len(screen.history) == count
                assert any("Not sent: the next page's URL https://evil.example/api/v2/campaigns?page=2 is not on "
                           "the API's origin (https://bonjoro.test/api/v2)" in m for m in notifications(app))
    finally:
        await session.aclose()


async def test_the_footer_shows_next_page_whenever_focus_is_in_the_response(session, clock):
    """The footer is rebuilt for ] / [ only when it shows the response's keys (issue 16: a rebuild
    is a layout of the whole screen): focus in the tree when a paged response arrives, and focus
    moved into the response after one arrived, both show "Next page"; a last page does not."""
    login_api_key(session.settings, session.store, "sandbox-api-key", clock)
    app = make_app(session, clock)
    async with app.run_test(size=(160, 40)) as pilot:
        screen = await _explorer(pilot)
        footer = lambda: screen_text(app).splitlines()[-1]  # noqa: E731

        await _send(pilot, screen, "/greets", "limit=5")  # sent from the path field
        assert "Next page" not in footer()
        screen.query_one(JsonTree).focus()
        await pilot.pause()
        assert "Next page" in footer()

        screen.query_one("#path", Input).value = "/me"
        await pilot.pause()
        screen.query_one(JsonTree).focus()
        await pilot.press("right_square_bracket")  # from the tree: page 2, the tree keeps focus
        await until(pilot, lambda: "page=2" in screen.history[-1].path, "page 2 is asked for")
        await _settled(pilot, screen)
        assert screen.query_one(JsonTree).has_focus and "Next page" in footer() and "Prev page" in footer()

        await _send(pilot, screen, "/greets", "limit=50")  # one page: nothing to move to
        screen.query_one(JsonTree).focus()
        await pilot.pause()
        assert "Next page" not in footer() and "Prev page" not in footer()

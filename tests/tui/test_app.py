"""Wiring, keys, layout and error handling of the dashboard, with a stand-in session (fakes.py).

The sign-in flows themselves run against the real core and sandbox in test_flows.py.
"""

from __future__ import annotations

import httpx
import pytest
from textual.widgets import Input, Tree

from bonjoro_tui.tui.app import BonjoroApp
from bonjoro_tui.tui.screens.explorer import ExplorerScreen
from bonjoro_tui.tui.modals.help import HelpScreen
from bonjoro_tui.tui.screens.login import LoginScreen
from bonjoro_tui.tui.screens.status import StatusScreen
from bonjoro_tui.tui.widgets.countdown import Countdown, level_for
from bonjoro_tui.tui.widgets.json_tree import CHUNK, JsonTree

from .fakes import ME, FakeSession
from .helpers import make_app
from .screen import screen_text


async def test_first_launch_signed_out_shows_how_to_sign_in():
    session = FakeSession()
    app = make_app(session)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, StatusScreen)
        text = screen_text(app)
        assert "SANDBOX" in text and "http://127.0.0.1:8765" in text
        assert "not signed in — press l" in text
        assert "r Refresh" not in text  # nothing to refresh: the key is hidden
        await pilot.press("l")
        assert isinstance(app.screen, LoginScreen)


async def test_signed_in_status_shows_user_masked_token_and_countdown():
    session = FakeSession()
    profile = session.sign_in(lifetime=3600)
    app = make_app(session)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        text = screen_text(app)
        assert "Ada Lovelace <ada@example.com>" in text
        assert profile.tokens.access_token not in text
        assert profile.tokens.refresh_token not in text
        assert "eyJhbG…(51 chars)" in text
        assert "expires in 1h 00m 00s" in text
        session.now.t += 3000  # 10 minutes left: the bar turns to "low"
        await pilot.pause(0.2)
        countdown = app.screen.query_one(Countdown)
        assert countdown.level == "low"
        assert "expires in 10m 00s" in screen_text(app)


def test_countdown_levels():
    assert level_for(1.0, 3600) == "ok"
    assert level_for(0.3, 100) == "warn"
    assert level_for(0.1, 10) == "low"
    assert level_for(0.0, -1) == "expired"
    assert level_for(None, None) == "never"


async def test_refresh_key_gets_a_new_token_and_a_full_countdown():
    session = FakeSession()
    session.sign_in(lifetime=3600)
    app = make_app(session)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        session.now.t += 3000
        await pilot.press("r")
        await app.workers.wait_for_complete()
        await pilot.pause(0.2)
        assert app.profile.tokens.access_token == "fresh-access-token-0123456789"
        text = screen_text(app)
        assert "expires in 1h 00m 00s" in text
        assert "Last refresh" in text and "ok" in text


async def test_user_keymap_from_config_remaps_bindings(isolated_environment):
    config = isolated_environment / "config"
    config.mkdir()
    (config / "config.toml").write_text('[keymap]\nexplorer = "ctrl+e"\n')
    session = FakeSession()
    assert session.settings.keymap == {"explorer": "ctrl+e"}
    app = make_app(session)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("e")
        assert isinstance(app.screen, StatusScreen)
        await pilot.press("ctrl+e")
        await pilot.pause()
        assert isinstance(app.screen, ExplorerScreen)


def test_every_binding_has_an_id():
    screens = [BonjoroApp, StatusScreen, LoginScreen, ExplorerScreen, HelpScreen]
    for owner in screens:
        for binding in owner.__dict__.get("BINDINGS", []):
            assert binding.id, f"{owner.__name__}: {binding}"


async def test_help_and_palette_list_the_actions():
    session = FakeSession()
    session.sign_in()
    app = make_app(session)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        assert "Refresh" in screen_text(app)
        await pilot.press("escape")
        assert isinstance(app.screen, StatusScreen)
        names = [name for name, _, _ in app.palette_commands()]
        assert "Refresh token now" in names and "Sign out" in names
        await pilot.press("ctrl+p")
        await pilot.press(*"sign out")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause()
        assert app.profile is not None  # signing out asks first
        await pilot.press("tab", "enter")  # focus starts on Cancel: Tab to "Sign out", then enter
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.profile is None


async def test_corrupt_store_is_reported_not_fatal():
    session = FakeSession()
    session.settings.store_path.parent.mkdir(parents=True, exist_ok=True)
    session.settings.store_path.write_text("this is [not toml")
    app = make_app(session)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.profile is None
        messages = [n.message for n in app._notifications]
        assert any("moved aside" in m for m in messages), messages
        assert any(str(session.settings.store_path.parent) in m for m in messages)


async def test_explorer_opens_on_me_and_shows_a_tree():
    session = FakeSession()
    session.sign_in()
    app = make_app(session)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("e")
        await app.workers.wait_for_complete()
        await pilot.pause(0.2)
        screen = app.screen
        assert isinstance(screen, ExplorerScreen)
        assert screen.history[0].path == "/me" and screen.history[0].status == 200
        text = screen_text(app)
        assert "200 OK" in text and "rate limit 599/600" in text
        tree = screen.query_one(JsonTree)
        tree.root.children[0].expand()
        await pilot.pause()
        assert "Ada Lovelace" in screen_text(app)


async def test_explorer_network_error_is_inline():
    session = FakeSession()
    session.sign_in()
    session.client.fail_with = httpx.ConnectError("connection refused")
    app = make_app(session)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("e")
        await app.workers.wait_for_complete()
        await pilot.pause(0.2)
        text = screen_text(app)
        assert "Request failed: Cannot reach" in text
        assert isinstance(app.screen, ExplorerScreen)  # still running


async def test_catalog_filter_narrows_the_endpoints():
    session = FakeSession()
    app = make_app(session)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("e")
        await pilot.pause()
        app.screen.query_one("#catalog-filter", Input).value = "campaign"
        await pilot.pause()
        tree = app.screen.query_one("#catalog", Tree)
        leaves = [leaf.data for group in tree.root.children for leaf in group.children if leaf.data]
        assert leaves and all("campaign" in f"{e.path} {e.summary} {e.tag}".lower() for e in leaves)


async def test_large_json_builds_nodes_lazily():
    app_session = FakeSession()
    big = {"data": [{"id": i, "name": f"greet {i}", "tags": ["a", "b"]} for i in range(60000)]}
    app = make_app(app_session)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("e")
        await pilot.pause()
        tree = app.screen.query_one(JsonTree)
        tree.show_document(big)
        data = tree.root.children[0]
        assert len(data.children) == 0  # nothing built below the first level yet
        data.expand()
        await pilot.pause()
        assert len(data.children) == CHUNK + 1  # a chunk plus "… more"
        more = data.children[-1]
        tree.select_node(more)
        tree.action_select_cursor()
        await pilot.pause()
        assert len(data.children) == 2 * CHUNK + 1


@pytest.mark.parametrize("size", [(80, 24), (120, 36)])
async def test_screens_fit_without_overlap(size):
    """Every widget lies inside the screen, except content scrolled out of a scrolling container
    (whose own box fits); on the status screen the essentials are visible without scrolling."""
    session = FakeSession()
    session.sign_in()
    app = make_app(session)
    async with app.run_test(size=size) as pilot:
        for key, mode in (("s", "status"), ("e", "explorer"), ("l", "login")):
            await app.switch_mode(mode)  # not by key: the explorer opens in its path field, where l is typing
            await app.workers.wait_for_complete()
            await pilot.pause()
            screen_region = app.screen.region
            for widget in app.screen.query("*"):
                if not widget.display or not widget.region.area:
                    continue
                scrolled = any(
                    ancestor.allow_vertical_scroll and ancestor.max_scroll_y > 0
                    for ancestor in widget.ancestors
                    if hasattr(ancestor, "max_scroll_y")
                )
                if not scrolled:
                    assert screen_region.contains_region(widget.region), (key, widget, widget.region)
            if key == "s":
                for essential in ("#account", "#countdown", "#status-actions"):
                    region = app.screen.query_one(essential).region
                    assert screen_region.contains_region(region), (essential, region)
            siblings = [w for w in app.screen.query(".panel") if w.display and w.region.area]
            for i, a in enumerate(siblings):
                for b in siblings[i + 1 :]:
                    assert not a.region.overlaps(b.region) or a in b.ancestors or b in a.ancestors, (a, b)


async def test_copy_body_and_curl_mask_the_token_unless_asked():
    session = FakeSession()
    profile = session.sign_in()
    token = profile.tokens.access_token
    app = make_app(session)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("e")
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("ctrl+y")
        assert app.clipboard == '{"data": {"id": "9b1c", "name": "Ada Lovelace", "email": "ada@example.com"}}'
        await pilot.press("ctrl+t")
        curl = app.clipboard
        assert curl.startswith("curl -X GET http://127.0.0.1:8765/api/v2/me ")
        assert token not in curl and '"Authorization: Bearer $(bonjoro-tui token)"' in curl  # runs as copied
        app.screen.query_one("#curl-token").value = True
        await pilot.press("ctrl+t")
        assert f"Bearer {token}" in app.clipboard
        assert any("keep it private" in m for m in (n.message for n in app._notifications))


async def test_history_lists_this_runs_requests_and_shows_them_again():
    session = FakeSession()
    session.sign_in()
    app = make_app(session)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("e")
        await app.workers.wait_for_complete()
        screen = app.screen
        screen.query_one("#path", Input).value = "/nowhere"
        await pilot.press("ctrl+j")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert [(e.path, e.status) for e in screen.history] == [("/me", 200), ("/nowhere", 404)]
        assert "404 Not Found" in screen_text(app)
        history = screen.query_one("#history")
        assert history.option_count == 2
        history.highlighted = 1  # the oldest: GET /me
        history.action_select()
        await pilot.pause()
        assert screen.current.path == "/me"
        assert "200 OK" in screen_text(app)


async def test_a_5_mb_response_is_shown_lazily_and_the_raw_view_is_capped():
    session = FakeSession()
    session.sign_in()
    big = {"data": [{"id": i, "name": f"greet number {i}", "notes": "x" * 40} for i in range(60000)]}
    session.client.responses["/greets"] = big
    app = make_app(session)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("e")
        await app.workers.wait_for_complete()
        screen = app.screen
        screen.query_one("#path", Input).value = "/greets"
        await pilot.press("ctrl+j")
        await app.workers.wait_for_complete()
        await pilot.pause()
        exchange = screen.current
        assert exchange.path == "/greets" and len(exchange.content) > 5 * 1024 * 1024
        assert "5." in screen_text(app) and "MB" in screen_text(app)
        tree = screen.query_one(JsonTree)
        assert tree.root.data.value is not None and len(tree.root.children) == 1  # only "data", unexpanded
        assert len(tree.root.children[0].children) == 0
        assert await pilot.click("#--content-tab-tab-raw")  # the Raw tab is filled when shown
        await pilot.pause()
        raw = screen.query_one("#response-raw").text
        assert len(raw) < 300 * 1024 and "truncated" in raw

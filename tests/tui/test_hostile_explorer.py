"""The explorer against a hostile server: server text is text, and bad bodies cannot end the app.

Every response comes from a real uvicorn server on 127.0.0.1 (hostile_server.py), through the
real session and client, over a loopback socket. Keys and values carry markup that would run
an action or not parse, and control sequences a terminal obeys (OSC 52/8/0, CSI, C1, bidi,
NUL, CR); bodies are nested 100 000 deep (invalid) and 5 000 deep (valid), not UTF-8, UTF-16
with a BOM, 5 MB, or one 5 MB string. The tree, the Raw tab, the status line and the history
must show all of it as visible escapes, no click may run an action, and the app stays up.
"""

from __future__ import annotations

import functools

import pytest
from rich.style import Style
from rich.text import Text
from textual.widgets import Input, OptionList, TabbedContent, TextArea

from adversarial.hostile_text import LITERAL_MARKUP, VISIBLE

from bonjoro_tui.jsonload import MAX_DEPTH
from bonjoro_tui.account.session import open_session
from bonjoro_tui.tui.app import BonjoroApp
from bonjoro_tui.tui.screens.explorer import ExplorerScreen, raw_text
from bonjoro_tui.tui.widgets.json_tree import JsonTree

from . import helpers
from . import hostile_server as hs
from .screen import screen_text

pytestmark = pytest.mark.integration


@pytest.fixture
def server():
    with hs.HostileServer() as s:
        yield s


@pytest.fixture
async def session(server):
    s = open_session(hs.signed_in_settings(server))
    yield s
    await s.aclose()


def assert_no_raw_controls(text: str, where: str) -> None:
    found = [repr(c) for c in hs.RAW_CONTROLS if c in text]
    assert not found, f"raw control characters {found} in {where}"


#: Waits at most 400 polls here.
until = functools.partial(helpers.until, tries=400)


async def open_explorer(pilot) -> ExplorerScreen:
    screen = await helpers.open_explorer(pilot)
    await until(pilot, lambda: screen.query_one(JsonTree).root.data.value is not None, "the /me tree is shown")
    return screen


async def send(pilot, screen: ExplorerScreen, path: str) -> None:
    count = len(screen.history)
    screen.query_one("#path", Input).value = path
    screen.query_one("#path", Input).focus()
    await pilot.press("ctrl+j")
    await until(pilot, lambda: len(screen.history) > count, f"{path} is answered")
    await pilot.app.workers.wait_for_complete()
    await pilot.pause(0.1)


def tree_labels(tree: JsonTree) -> list[Text]:
    labels, stack = [], [tree.root]
    while stack:
        node = stack.pop()
        labels.append(node.label)
        stack.extend(node.children)
    return labels


def has_action_meta(label: Text) -> bool:
    styles = [label.style] + [span.style for span in label.spans]
    return any(isinstance(s, Style) and s.meta and any(k.startswith("@") for k in s.meta) for s in styles)


async def test_hostile_keys_and_values_are_shown_as_escapes_and_run_nothing(session, tmp_path):
    app = BonjoroApp(session)
    screenshots: list[tuple] = []
    app.action_screenshot = lambda *a, **k: screenshots.append((a, k))  # what the markup would call
    async with app.run_test(size=(160, 50)) as pilot:
        screen = await open_explorer(pilot)
        await send(pilot, screen, "/hostile")
        tree = screen.query_one(JsonTree)
        assert tree.root.data.value == hs.HOSTILE_DOC  # the document itself is intact
        # expand every container, by key and by code, so every hostile label is built
        nested = next(c for c in tree.root.children if c.allow_expand)
        tree.move_cursor(nested)
        tree.focus()
        await pilot.press("space")
        await pilot.pause()
        assert nested.is_expanded and nested.children
        nested.expand_all()
        await pilot.pause(0.1)

        labels = tree_labels(tree)
        plain = "\n".join(label.plain for label in labels)
        assert_no_raw_controls(plain, "the tree labels")
        assert not any(has_action_meta(label) for label in labels)
        assert hs.CLICK in plain and hs.BAD_MARKUP in plain  # markup shown as the characters it is
        assert "osc52\\x1b]52;c;QUFB\\x07" in plain  # a key: safe_text escapes
        assert '"\\u001b]52;c;QUFB\\u0007"' in plain  # a value: JSON escapes (stays valid JSON)
        assert "\\u202eevil\\u202c" in plain and "csi\\x9b31m" in plain and '"a\\u0000b"' in plain
        assert '"ok\\rFAKE"' in plain
        for shown_as in VISIBLE + LITERAL_MARKUP:  # the shared cases, in keys (safe_text's escapes)
            assert shown_as in plain, shown_as

        shown = screen_text(app)
        assert_no_raw_controls(shown, "the screen")
        assert hs.CLICK in shown
        # the status line: header values escaped (h11 lets bytes >= 0x80 through; httpx reads them
        # as Latin-1, so the UTF-8 bidi override arrives as "â" + C1 \x80 + "®")
        assert "rate limit 5â\\x80®evilâ\\x80¬/600\\x9b2J" in shown

        # a click on the hostile label selects it and nothing else
        click_row = next(i for i, line in enumerate(tree._tree_lines) if hs.CLICK in line.node.label.plain)
        tree.scroll_to(y=max(0, click_row - 2), animate=False)
        await pilot.pause()
        assert await pilot.click(JsonTree, offset=(8, click_row - int(tree.scroll_y)))
        await pilot.pause(0.2)
        assert screenshots == []
        assert not list(tmp_path.glob("x*")) and not __import__("os").path.exists("/tmp/x")
        assert isinstance(app.screen, ExplorerScreen)

        # the Raw tab: the body as text, every control shown as an escape
        screen.query_one("#response-tabs", TabbedContent).active = "tab-raw"
        await pilot.pause(0.2)
        raw = screen.query_one("#response-raw", TextArea).text
        assert_no_raw_controls(raw, "the Raw tab")
        # JSON itself escapes C0 controls; C1 and bidi come raw in the body and are escaped here
        assert "csi\\x9b31m" in raw and "\\u202eevil\\u202c" in raw and hs.CLICK in raw
        assert_no_raw_controls(screen_text(app), "the screen with the Raw tab")


async def test_the_click_check_would_catch_markup(session):
    """Control for the test above: a label parsed as markup does run the action when clicked."""
    app = BonjoroApp(session)
    calls: list[tuple] = []
    app.action_screenshot = lambda *a, **k: calls.append((a, k))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_explorer(pilot)
        tree = screen.query_one(JsonTree)
        tree.root.set_label(Text.from_markup(hs.CLICK))
        await pilot.pause()
        assert await pilot.click(JsonTree, offset=(3, 0))
        await pilot.pause(0.2)
        assert calls, "the markup label should have run the action: the click test proves nothing"


async def test_history_and_errors_with_markup_in_the_path(session):
    app = BonjoroApp(session)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_explorer(pilot)
        await send(pilot, screen, "/hostile[/x]")  # a str prompt in the history would raise MarkupError
        await send(pilot, screen, "/nothing-here" + hs.CLICK)
        assert screen.history[-1].status == 404
        screen.query_one("#request-tabs", TabbedContent).active = "tab-history"  # the request side's tab
        await pilot.pause(0.2)
        history = screen.query_one("#history", OptionList)
        prompts = [str(history.get_option_at_index(i).prompt) for i in range(history.option_count)]
        assert any("/hostile[/x]" in p for p in prompts), prompts
        assert any(hs.CLICK in p for p in prompts), prompts
        assert "/hostile[/x]" in screen_text(app)
        history.highlighted = 1
        history.action_select()  # back to the hostile response
        await pilot.pause(0.3)
        assert screen.query_one(JsonTree).root.data.value == hs.HOSTILE_DOC
        assert isinstance(app.screen, ExplorerScreen)


async def test_non_json_hostile_body_is_raw_text_with_escapes(session):
    app = BonjoroApp(session)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_explorer(pilot)
        await send(pilot, screen, "/text")
        assert "not JSON" in screen.query_one(JsonTree).root.label.plain
        screen.query_one("#response-tabs", TabbedContent).active = "tab-raw"
        await pilot.pause(0.2)
        raw = screen.query_one("#response-raw", TextArea).text
        assert raw.startswith("not json ") and raw.endswith("\n")
        assert_no_raw_controls(raw, "the Raw tab")
        for escaped in ("\\x1b]0;t\\x07", "\\x1b[2J", "\\x9b31m", "\\u202e", "a\\x00b", "ok\\rFAKE", hs.CLICK):
            assert escaped in raw, escaped
        assert_no_raw_controls(screen_text(app), "the screen")


@pytest.mark.parametrize("path", ["/deep", "/deep-valid", "/deep-error"])
async def test_deep_nesting_is_an_inline_note_and_the_app_goes_on(session, path):
    app = BonjoroApp(session)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_explorer(pilot)
        await send(pilot, screen, path)  # answered within until()'s bounded tries
        assert screen.history[-1].path.endswith(path) and screen.history[-1].status is not None
        note = f"Nested deeper than {MAX_DEPTH} levels: showing the raw body."
        assert note in screen.query_one(JsonTree).root.label.plain
        assert note in str(screen.query_one("#response-meta").render())
        assert screen.query_one("#response-tabs", TabbedContent).active == "tab-raw"
        await pilot.pause(0.2)
        assert "[" * 1000 in screen.query_one("#response-raw", TextArea).text  # after any truncation note
        assert app.return_code is None and isinstance(app.screen, ExplorerScreen)
        # still responsive: keys reach the field, escape gives them back, another request works
        screen.query_one("#path", Input).focus()
        await pilot.press("end", "x")
        assert screen.query_one("#path", Input).value == path + "x"
        await pilot.press("escape")
        assert app.focused is screen.query_one(JsonTree)
        await send(pilot, screen, "/me")
        assert screen.query_one(JsonTree).root.data.value == hs.ME


async def test_a_body_at_the_depth_limit_is_a_tree_that_expands_all_the_way(session):
    app = BonjoroApp(session)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_explorer(pilot)
        await send(pilot, screen, "/at-the-limit")
        tree = screen.query_one(JsonTree)
        assert isinstance(tree.root.data.value, dict)
        node = tree.root
        while node.children:  # open every level (Textual builds the lines of expanded nodes recursively)
            node = node.children[0]
            tree._load(node)
            node.expand()
        await pilot.pause(0.3)
        assert tree.last_line >= MAX_DEPTH
        assert tree._tree_lines[-1].node.label.plain == "[0]: 1"
        tree.scroll_to(x=tree.max_scroll_x, y=tree.max_scroll_y, animate=False)  # 256 levels of guides
        await pilot.pause(0.2)
        assert "[0]: 1" in screen_text(app)
        assert app.return_code is None


async def test_invalid_utf8_and_utf16_bodies(session):
    app = BonjoroApp(session)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_explorer(pilot)
        await send(pilot, screen, "/bad-utf8")
        assert "not valid UTF-8" in screen.query_one(JsonTree).root.label.plain
        assert await pilot.click("#--content-tab-tab-raw")  # the Raw tab, as a user opens it
        await pilot.pause(0.2)
        assert "caf\ufffd \ufffd\ufffd" in screen.query_one("#response-raw", TextArea).text

        await send(pilot, screen, "/utf16")
        assert screen.query_one(JsonTree).root.data.value == {"name": "Zoë", "city": "Zürich"}
        await pilot.pause(0.2)
        raw = screen.query_one("#response-raw", TextArea).text
        assert raw == '{\n  "name": "Zoë",\n  "city": "Zürich"\n}'  # decoded after its BOM, not shown as NULs
        screen.query_one("#raw-compact").value = True  # the body as sent, decoded the same way
        await pilot.pause()
        assert screen.query_one("#response-raw", TextArea).text == '{"name": "Zoë", "city": "Zürich"}'


async def test_five_megabyte_body_and_one_huge_string(session):
    app = BonjoroApp(session)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_explorer(pilot)
        await send(pilot, screen, "/big")
        tree = screen.query_one(JsonTree)
        assert len(hs.BIG) > 4_000_000
        assert len(tree.root.data.value["data"]) == 42_000
        await pilot.pause(0.2)
        await pilot.app.workers.wait_for_complete()  # the pretty-printed text, built in a thread
        assert await pilot.click("#--content-tab-tab-raw")
        await pilot.pause()
        first_line = screen.query_one("#response-raw", TextArea).text.split("\n", 1)[0]
        assert first_line.startswith("… pretty-printed and truncated at 64.0 KB (the body is 5.")

        await send(pilot, screen, "/huge-string")
        label = tree.root.children[0].label.plain
        assert label.startswith('s: "yyyy') and label.endswith('…"') and len(label) < 100
        await pilot.press("escape", "down")  # the tree takes keys
        assert isinstance(app.screen, ExplorerScreen)


def test_raw_text_escapes_and_cuts():
    assert raw_text(b'{"a": 1}\r\n') == '{"a": 1}\n'  # CRLF reads as a newline
    assert raw_text(b"a\rb\x1b[2J\xc2\x9b\x00") == "a\\rb\\x1b[2J\\x9b\\x00"
    assert raw_text("\u202e".encode() * 10, limit=16).startswith("… truncated at")  # escapes count too
    shown = raw_text(b"\x1b" * 100, limit=50)
    assert shown.startswith("… truncated at") and "\x1b" not in shown
    assert raw_text("Zoë".encode("utf-32")) == "Zoë"

"""The explorer's response side: the status line, the body as a lazy JSON tree and as raw text,
and the actions on the body.

:class:`ResponseView` shows an :class:`~bonjoro_tui.tui.exchange.Exchange` (``show``), an error
(``show_error``) or a note such as the catalog's endpoint summary (``show_summary``). The screen
that holds it may add its own tab panes and action widgets (``extra_panes``, ``extra_actions``).

Server text is text: the body, its keys and values, header values and error messages reach the
screen through :func:`~bonjoro_tui.safetext.safe_text` and only inside ``Text``/``Content``
objects, never as markup. A body the tree cannot show (nested deeper than ``MAX_DEPTH``, not
JSON, not UTF-8, or any other failure to parse or build it) is an inline message, never the end
of the app. JSON is parsed in a thread so a large body never freezes the screen.
"""

from __future__ import annotations

import asyncio
import codecs
from typing import Iterable

import httpx
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widget import Widget
from textual.widgets import Button, Static, TabbedContent, TabPane, TextArea

from bonjoro_tui.account.format import size
from bonjoro_tui.jsonload import MAX_DEPTH, TooDeep, loads_in_pieces
from bonjoro_tui.safetext import safe_text
from bonjoro_tui.tui.exchange import Exchange
from bonjoro_tui.tui.widgets.json_tree import JsonTree

#: The Raw tab shows at most this much (a TextArea lays out and wraps all of its text at once:
#: 256 kB of one-line JSON stalled the screen for half a second); "Copy body" copies everything.
RAW_LIMIT = 64 * 1024
#: A header value shown in the status line is cut to this many characters.
HEADER_LIMIT = 40


class ResponseView(Vertical):
    """Status line, Tree/Raw tabs (plus the holder's panes) and the body's actions."""

    DEFAULT_CSS = """
    ResponseView { height: 1fr; }
    #response-meta { height: auto; max-height: 5; }
    #response-tabs { height: 1fr; }
    #response-tabs TabPane { padding: 0; }
    #response-tree, #response-raw { height: 1fr; }
    #response-actions { height: 1; }
    #response-actions Button, #response-actions Checkbox { margin: 0 1 0 0; }
    """

    def __init__(self, *, extra_panes: Iterable[TabPane] = (), extra_actions: Iterable[Widget] = (),
                 id: str | None = None) -> None:
        super().__init__(id=id)
        self._extra_panes = list(extra_panes)
        self._extra_actions = list(extra_actions)
        #: The exchange shown (None: nothing yet, or an error without a response).
        self.exchange: Exchange | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="response-meta")
        with TabbedContent(id="response-tabs"):
            with TabPane("Tree", id="tab-tree"):
                yield JsonTree(id="response-tree")
            with TabPane("Raw", id="tab-raw"):
                raw = TextArea("", read_only=True, soft_wrap=True, id="response-raw")
                raw.match_cursor_bracket = False  # no highlight of the matching bracket
                yield raw
            yield from self._extra_panes
        with Horizontal(id="response-actions"):
            yield Button("Copy body", id="copy-body", compact=True)
            yield from self._extra_actions

    def on_mount(self) -> None:
        self.query_one("#response-meta", Static).update(Text("No request sent yet.", style="dim"))

    # ---- what is shown ---------------------------------------------------------------------------

    def show_summary(self, text: Text) -> None:
        """A note of ours in the status line (the endpoint the catalog chose, "Sending …")."""
        self.query_one("#response-meta", Static).update(text)

    def show_error(self, what: str, todo: str, *, clear: bool = False) -> None:
        """A request that failed: what happened and what to do; ``clear`` empties the body views."""
        text = Text()
        text.append("Request failed: ", style="bold red")
        text.append(safe_text(what))
        if todo:
            text.append("\n" + safe_text(todo), style="italic")
        self.query_one("#response-meta", Static).update(text)
        if clear:
            self.query_one(JsonTree).show_message("(no response)")
            self.query_one("#response-raw", TextArea).text = ""

    async def show(self, exchange: Exchange) -> None:
        self.exchange = exchange
        if exchange.error:
            self.show_error(exchange.error, "")
            return
        meta = self._meta(exchange)
        self.query_one("#response-meta", Static).update(meta)
        raw = raw_text(exchange.content)
        raw_area = self.query_one("#response-raw", TextArea)
        raw_area.text = ""
        tree = self.query_one(JsonTree)
        if not exchange.content:
            raw_area.text = raw
            tree.show_message("(empty body)")
            return
        # The tree is painted first; the Raw tab (hidden by default) is filled after that frame.
        self.call_after_refresh(self._fill_raw, exchange, raw)
        tree.show_message("parsing …")
        try:
            # In pieces: one json.loads of megabytes would hold the GIL, and so the screen, throughout.
            document = await asyncio.to_thread(loads_in_pieces, exchange.content, max_depth=MAX_DEPTH)
        except Exception as exc:  # whatever the body, the app stays up: the reason is shown inline
            if self.exchange is exchange:
                self._not_a_tree(exc, meta)
            return
        if self.exchange is not exchange:
            return  # another response is shown meanwhile
        try:
            tree.show_document(document, label=f"{exchange.method} {exchange.path}")
            if (exchange.status or 0) >= 400 and isinstance(document, dict):
                for key in ("error", "errors"):
                    if key in document:
                        tree.expand_key(key)
        except Exception as exc:  # noqa: BLE001 - a tree that cannot be built is a message, not a crash
            tree.show_message(f"(the body could not be shown as a tree: {type(exc).__name__}: {exc}; see the Raw tab)")

    def _not_a_tree(self, exc: Exception, meta: Text) -> None:
        """Why the body is not shown as a tree, in the tree (and the status line when it matters)."""
        tree = self.query_one(JsonTree)
        if isinstance(exc, TooDeep):
            note = f"Nested deeper than {MAX_DEPTH} levels: showing the raw body."
            tree.show_message(f"({note} It is not shown as a tree.)", style="yellow")
            meta.append("\n" + note, style="yellow")
            self.query_one("#response-meta", Static).update(meta)
            self.query_one("#response-tabs", TabbedContent).active = "tab-raw"
        elif isinstance(exc, UnicodeDecodeError):
            tree.show_message("(not JSON: the body is not valid UTF-8; see the Raw tab)")
        elif isinstance(exc, ValueError):
            tree.show_message("(not JSON: see the Raw tab)")
        else:  # MemoryError, or anything else a hostile body may cause
            tree.show_message(f"(the body could not be parsed: {type(exc).__name__}: {exc}; see the Raw tab)")

    def _fill_raw(self, exchange: Exchange, raw: str) -> None:
        if self.exchange is exchange:
            self.query_one("#response-raw", TextArea).text = raw

    def _meta(self, exchange: Exchange) -> Text:
        status = exchange.status or 0
        style = "bold green" if status < 300 else "bold yellow" if status < 400 else "bold red"
        text = Text()
        text.append(f" {status} {httpx.codes.get_reason_phrase(status)} ", style=f"reverse {style}")
        text.append(f"  {exchange.elapsed * 1000:.0f} ms · {size(len(exchange.content))}")
        limit = _header(exchange, "x-ratelimit-limit")
        remaining = _header(exchange, "x-ratelimit-remaining")
        if limit or remaining:
            text.append(f" · rate limit {remaining or '?'}/{limit or '?'}")
        if status == 401:
            text.append("\nUnauthenticated: sign in again (l).", style="red")
        elif status == 429:
            text.append(f"\nRate limited: retry after {_header(exchange, 'retry-after') or '?'} s.", style="yellow")
        elif status >= 500:
            text.append("\nThe server failed; try again later.", style="red")
        return text

    # ---- actions on the body ---------------------------------------------------------------------

    @on(Button.Pressed, "#copy-body")
    def _copy_body_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.copy_body()

    def copy_body(self) -> None:
        exchange = self.exchange
        if exchange is None or not exchange.content:
            self.notify("Nothing to copy yet: send a request first.", severity="warning", markup=False)
            return
        self.app.copy_to_clipboard(exchange.content.decode("utf-8", "replace"))
        self.notify(f"Copied the body ({size(len(exchange.content))}).", title="Copied", markup=False)


def raw_text(content: bytes, limit: int = RAW_LIMIT) -> str:
    """The body as the Raw tab shows it: at most ``limit`` characters of display text.

    Decoded as UTF-8 (invalid bytes replaced), or UTF-16/32 when it starts with that BOM; CRLF
    line ends read as newlines; every other control character, escape sequence and bidi
    override shown as a visible escape (:func:`safe_text`), so nothing reaches the terminal raw.
    """
    head = content[:limit]
    encoding = "utf-8"
    if head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        encoding = "utf-32"
    elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    shown = safe_text(head.decode(encoding, "replace").replace("\r\n", "\n"), multiline=True)
    if len(content) <= limit and len(shown) <= limit:
        return shown
    # The note goes first: the cursor starts on it, not on a "{" whose match TextArea would
    # look for through the whole (cut) text.
    return f"… truncated at {size(limit)} of {size(len(content))}; copy the body for all of it\n" + shown[:limit]


def _header(exchange: Exchange, name: str) -> str | None:
    """A response header's value as display text (escaped, cut), None when absent."""
    value = exchange.headers.get(name)
    return None if value is None else safe_text(value, limit=HEADER_LIMIT)

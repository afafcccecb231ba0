"""The explorer's response side: the status line, the body as a lazy JSON tree and as raw text,
the request's and response's headers, the contract check, the page links, and the actions on
the body.

:class:`ResponseView` shows an :class:`~bonjoro_tui.tui.exchange.Exchange` (``show``), an error
(``show_error``) or a note such as the catalog's endpoint summary (``show_summary``). The screen
that holds it may add its own tab panes and action widgets (``extra_panes``, ``extra_actions``)
and handles :class:`ResponseView.PageRequested` (send a GET to the page's URL).

What ``show`` does, in order: the status line (status, time, size, rate limit, the retries the
client made) and the Headers tab at once; the body parsed in a thread and shown as a tree; then,
in a worker, the Raw tab pretty-printed (indent 2, at most ``RAW_LIMIT``; ``p`` or the box
toggles the body as sent) and the contract check (``api/contract.py``, in a thread) whose verdict
joins the status line and whose differences fill the Contract tab.

Copying goes to the terminal's clipboard through OSC 52 (Textual's ``copy_to_clipboard``): the
app can only send it, never know it arrived (tmux drops it unless ``set-clipboard`` is on, some
terminals ask or refuse), so the message says "sent", and above ``COPY_LIMIT`` nothing is sent:
Save (``ctrl+s``) writes the body to a file instead (``tui/modals/save.py``).

Server text is text: the body, its keys and values, header values, error messages and the
contract's "got" values reach the screen through :func:`~bonjoro_tui.safetext.safe_text` and
only inside ``Text``/``Content`` objects, never as markup. A body the tree cannot show (nested
deeper than ``MAX_DEPTH``, not JSON, not UTF-8, or any other failure to parse or build it) is an
inline message, never the end of the app.
"""

from __future__ import annotations

import asyncio
import codecs
import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable
from urllib.parse import urlencode, urlsplit

import httpx
from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Button, Checkbox, Static, TabbedContent, TabPane, TextArea

from bonjoro_tui.account.format import size
from bonjoro_tui.jsonload import MAX_DEPTH, TooDeep, loads_in_pieces
from bonjoro_tui.redact import MASK, mask
from bonjoro_tui.safetext import safe_text
from bonjoro_tui.startup import full_pass, hold_full_passes, release_full_passes
from bonjoro_tui.tui.exchange import Exchange
from bonjoro_tui.tui.text import notice, rich_plain
from bonjoro_tui.tui.widgets.fields import TextEditor
from bonjoro_tui.tui.widgets.json_tree import JsonTree

if TYPE_CHECKING:
    from bonjoro_tui.api.contract import ContractResult

#: The Raw tab shows at most this much (a TextArea lays out and wraps all of its text at once:
#: 256 kB of one-line JSON stalled the screen for half a second); Save writes everything.
RAW_LIMIT = 64 * 1024
#: A header value shown in the status line is cut to this many characters.
HEADER_LIMIT = 40
#: Above this many bytes nothing is sent to the clipboard: OSC 52 carries the text base64-encoded
#: in one escape sequence, and terminals cap it (xterm's default is about 100 kB, tmux's buffer
#: and several terminals less, some cut silently). Save writes a body of any size.
COPY_LIMIT = 100 * 1024
#: A header value in the Headers tab is cut to this many characters.
HEADER_VALUE_LIMIT = 2000
#: A body of this many bytes or more is shown with the collector's full passes held back until
#: its verdict (``startup.hold_full_passes``): below it, what showing it makes does not bring one on.
HOLD_COLLECTOR_AT = 1024 * 1024
#: Seconds between the verdict's frame and that held-back full pass.
FULL_PASS_AFTER = 0.05
#: Headers that carry a credential: masked wherever they are shown.
SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key"})
#: Said in the Raw tab when it masked a credential there.
RAW_MASKED_NOTE = "(credentials masked; Copy body / Save give the bytes as received)"
CLIPBOARD_NOTE = ("Sent to the terminal's clipboard (OSC 52); the terminal may refuse it, "
                  "and tmux needs `set -g set-clipboard on`.")


class ResponseView(Vertical):
    """Status line, page links, Tree/Raw/Headers/Contract tabs (plus the holder's) and actions."""

    DEFAULT_CSS = """
    ResponseView { height: 1fr; }
    #response-meta { height: auto; max-height: 6; }
    #response-pager { height: 1; display: none; }
    #response-pager.paged { display: block; }
    #response-pager Button { margin: 0 1 0 0; }
    #page-info { width: auto; margin: 0 1 0 0; color: $text-muted; }
    #response-tabs { height: 1fr; }
    #response-tabs TabPane { padding: 0; }
    #response-tree, #response-raw { height: 1fr; }
    #response-raw { border: none; padding: 0; }
    #raw-bar { height: 1; }
    #raw-masked { height: auto; display: none; }
    #raw-masked.masked { display: block; }
    #response-headers-scroll, #response-contract-scroll { height: 1fr; }
    #response-actions { height: 1; }
    #response-actions Button, #response-actions Checkbox { margin: 0 1 0 0; }
    #response-actions Button, #response-pager Button { width: auto; min-width: 0; padding: 0 1; }
    """

    BINDINGS = [
        # Ids of the explorer's scope: the view only lives there ([keymap] conflicts are checked per scope).
        Binding("c", "copy_value", "Copy value", id="explorer.copy_value"),
        Binding("ctrl+s", "save_body", "Save body", id="explorer.save_body"),
        Binding("right_square_bracket", "next_page", "Next page", id="explorer.next_page", key_display="]"),
        Binding("left_square_bracket", "prev_page", "Prev page", id="explorer.prev_page", key_display="["),
        Binding("p", "toggle_compact", "Pretty/compact", id="explorer.compact", show=False),
    ]

    class PageRequested(Message):
        """The user asked for the next or previous page: ``url`` is on the API's origin."""

        def __init__(self, url: str) -> None:
            super().__init__()
            self.url = url

    def __init__(self, *, extra_panes: Iterable[TabPane] = (), extra_actions: Iterable[Widget] = (),
                 id: str | None = None) -> None:
        super().__init__(id=id)
        self._extra_panes = list(extra_panes)
        self._extra_actions = list(extra_actions)
        #: The exchange shown (None: nothing yet, or an error without a response).
        self.exchange: Exchange | None = None
        #: The parsed body of the exchange shown (None until parsed, or when it is not JSON).
        self.document: Any = None
        self.parsed = False
        #: The contract check of the exchange shown (None: not done, or not possible).
        self.contract: ContractResult | None = None
        #: The Raw tab shows the body as sent (True) or pretty-printed (False, the default).
        self.compact = False
        #: (previous URL, next URL, current page, last page, total) of a page envelope.
        self.pages: tuple[str | None, str | None, int | None, int | None, int | None] | None = None
        self._base: Text = Text()
        self._verdict: Text | None = None
        #: The Raw tab's texts: (as sent, masked) and (pretty, masked), made in a thread.
        self._raw: tuple[str, str] | None = None
        self._pretty: tuple[str, str] | None = None
        #: The masked Raw text not yet put into the Raw tab's TextArea (see ``_set_raw``).
        self._raw_pending: str | None = None
        #: The exchange for which the collector's full passes are held back (``_hold_collector``).
        self._collector_held_for: Exchange | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="response-meta")
        with Horizontal(id="response-pager"):
            yield Button("◀ Prev", id="page-prev", compact=True)
            yield Static(id="page-info")
            yield Button("Next ▶", id="page-next", compact=True)
        with TabbedContent(id="response-tabs"):
            with TabPane("Tree", id="tab-tree"):
                yield JsonTree(id="response-tree")
            with TabPane("Raw", id="tab-raw"):
                with Horizontal(id="raw-bar"):
                    yield Checkbox("compact: the body as sent (p)", id="raw-compact", compact=True)
                # Its own line (wrapped): beside the box it was cut at 80 columns.
                yield Static(rich_plain(RAW_MASKED_NOTE, "dim"), id="raw-masked")
                raw = TextEditor("", read_only=True, soft_wrap=True, id="response-raw")
                raw.match_cursor_bracket = False  # no highlight of the matching bracket
                yield raw
            with TabPane("Headers", id="tab-response-headers"):
                with VerticalScroll(id="response-headers-scroll"):
                    yield Static(Text("No request sent yet.", style="dim"), id="response-headers")
            with TabPane("Contract", id="tab-contract"):
                with VerticalScroll(id="response-contract-scroll"):
                    yield Static(Text("No response checked yet.", style="dim"), id="response-contract")
            yield from self._extra_panes
        with Horizontal(id="response-actions"):
            yield Button("Copy body", id="copy-body", compact=True)
            yield Button("Copy value", id="copy-value", compact=True)
            yield Button("Save…", id="save-body", compact=True)
            yield from self._extra_actions

    def on_mount(self) -> None:
        self.query_one("#response-meta", Static).update(Text("No request sent yet.", style="dim"))

    def on_resize(self) -> None:
        if self._verdict is not None:
            self._render_meta()  # the verdict joins the status line only when both fit

    # ---- what is shown ---------------------------------------------------------------------------

    def show_summary(self, text: Text) -> None:
        """A note of ours in the status line (the endpoint the catalog chose, "Sending …")."""
        self.query_one("#response-meta", Static).update(text)

    def show_error(self, what: str, todo: str, *, clear: bool = True, sent: bool = True) -> None:
        """A request that failed (``sent``) or was refused before it went (not ``sent``): what
        happened and what to do. The body views are emptied (``clear``): no previous response
        stays underneath as if it were this request's."""
        text = Text()
        text.append("Request failed: " if sent else "Not sent: ", style="bold red")
        text.append(safe_text(what))
        if todo:
            text.append("\n" + safe_text(todo), style="italic")
        self.query_one("#response-meta", Static).update(text)
        if not sent:
            self.clear_previous()
        elif clear:
            self._clear_body("(no response)")

    def clear_previous(self) -> None:
        """Nothing was sent: the previous response's tree, Raw text, pages and contract go."""
        self.exchange = None
        self.document, self.parsed, self.contract, self._verdict = None, False, None, None
        self._raw = self._pretty = None
        self._clear_body("(not sent: no response to show)")
        self.query_one("#response-headers", Static).update(Text("Not sent.", style="dim"))
        self._fill_contract(None, "Not sent: nothing to check.")

    def _clear_body(self, message: str) -> None:
        self.query_one(JsonTree).show_message(message)
        self._set_raw("")
        self._set_pages(None)
        self.contract, self._verdict = None, None
        self._fill_contract(None, "No response: nothing to check.")

    async def show(self, exchange: Exchange) -> None:
        """Show ``exchange``: returns once the tree is shown; Raw and the contract follow."""
        self.exchange = exchange
        self.document, self.parsed, self.contract, self._verdict = None, False, None, None
        self._raw = self._pretty = None
        self._set_pages(None)
        self._fill_headers(exchange)
        if exchange.error:
            self.show_error(exchange.error, "")
            self._fill_contract(None, "No response: nothing to check.")
            return
        self._base = self._meta(exchange)
        self._render_meta()
        self._set_raw("")
        tree = self.query_one(JsonTree)
        if not exchange.content:
            tree.show_message("(empty body)")
            self._verdict_not_checked("the body is empty")
            return
        tree.show_message("parsing …")
        self._hold_collector(exchange)
        handed_over = False  # to _after_parse, which releases the hold when the verdict is in
        try:
            handed_over = await self._parse_and_show(exchange, tree)
        finally:  # returned early, failed, or cancelled (a new send cancels this one's worker)
            if not handed_over:
                self._release_collector(exchange)

    async def _parse_and_show(self, exchange: Exchange, tree: JsonTree) -> bool:
        """``show``'s parse and tree; True once ``_after_parse`` has been started."""
        # The screen's updates and the threads' work take turns: a thread that computes while
        # the screen lays out halves the screen's share of the GIL (a 40 ms layout became an
        # 80-100 ms stall beside the parse or the contract check). So: this frame first.
        await self._next_frame()
        if self.exchange is not exchange:
            return False
        try:
            # In pieces: one json.loads of megabytes would hold the GIL, and so the screen, throughout.
            document = await asyncio.to_thread(loads_in_pieces, exchange.content, max_depth=MAX_DEPTH)
        except Exception as exc:  # whatever the body, the app stays up: the reason is shown inline
            if self.exchange is exchange:
                self._not_a_tree(exc)
                self._verdict_not_checked("the body is not JSON" if not isinstance(exc, TooDeep)
                                          else f"the body is nested deeper than {MAX_DEPTH} levels")
                self._fill_raw_later(exchange)
            return False
        if self.exchange is not exchange:
            return False  # another response is shown meanwhile
        self.document, self.parsed = document, True
        try:
            tree.show_document(document, label=f"{exchange.method} {exchange.path}")
            if (exchange.status or 0) >= 400 and isinstance(document, dict):
                for key in ("error", "errors"):
                    if key in document:
                        tree.expand_key(key)
        except Exception as exc:  # noqa: BLE001 - a tree that cannot be built is a message, not a crash
            tree.show_message(f"(the body could not be shown as a tree: {type(exc).__name__}: {exc}; see the Raw tab)")
        self._set_pages(page_links(document))
        self._after_parse(exchange, document)
        return True

    def _not_a_tree(self, exc: Exception) -> None:
        """Why the body is not shown as a tree, in the tree (and the status line when it matters)."""
        tree = self.query_one(JsonTree)
        if isinstance(exc, TooDeep):
            note = f"Nested deeper than {MAX_DEPTH} levels: showing the raw body."
            tree.show_message(f"({note} It is not shown as a tree.)", style="yellow")
            self._base.append("\n" + note, style="yellow")
            self._render_meta()
            self.query_one("#response-tabs", TabbedContent).active = "tab-raw"
        elif isinstance(exc, UnicodeDecodeError):
            tree.show_message("(not JSON: the body is not valid UTF-8; see the Raw tab)")
        elif isinstance(exc, ValueError):
            tree.show_message("(not JSON: see the Raw tab)")
        else:  # MemoryError, or anything else a hostile body may cause
            tree.show_message(f"(the body could not be parsed: {type(exc).__name__}: {exc}; see the Raw tab)")

    async def _next_frame(self, timeout: float = 0.5) -> None:
        """Return once the screen has drawn what is pending (or after ``timeout``: a screen that
        is not drawn, being closed or hidden, must not hold the caller up). Call it from a worker:
        a handler of the screen's own would wait for a frame its screen cannot draw meanwhile."""
        drawn = asyncio.Event()
        self.call_after_refresh(drawn.set)
        try:
            await asyncio.wait_for(drawn.wait(), timeout)
        except asyncio.TimeoutError:
            pass

    def _fill_raw_later(self, exchange: Exchange) -> None:
        """The Raw tab (hidden by default) of a body that is not a tree, off the event loop."""
        self.run_worker(self._fill_raw(exchange), group="response-raw", exclusive=True, description="raw text")

    async def _fill_raw(self, exchange: Exchange) -> None:
        secrets = self._known_secrets()
        raw = await asyncio.to_thread(_raw_pair, exchange.content, secrets)
        if self.exchange is exchange:
            self._raw = raw
            self._set_raw(*raw)

    def _set_raw(self, text: str, shown: str | None = None) -> None:
        """The Raw tab's text, every credential's value and every JWT in it masked (the product
        rule: a token is never shown in full unless asked for; Copy body and Save give the bytes).
        ``shown``: that masked text, when a thread has made it already.

        The text goes into the tab's TextArea when the tab is shown: a TextArea takes its text
        into lines (and wraps them) on the event loop, 30–45 ms for the 64 kB a large body's Raw
        text is cut to, and nobody reads a hidden tab. An empty text goes in at once (it costs
        nothing and leaves no stale body behind)."""
        if shown is None:
            shown = _scrubbed(text, self._known_secrets())
        self.query_one("#raw-masked", Static).set_class(shown != text, "masked")
        self._raw_pending = shown
        if not shown or self.query_one("#response-tabs", TabbedContent).active == "tab-raw":
            self._fill_raw_area()

    def _fill_raw_area(self) -> None:
        if self._raw_pending is not None:
            self.query_one("#response-raw", TextArea).text = self._raw_pending
            self._raw_pending = None

    @on(TabbedContent.TabActivated, "#response-tabs")
    def _tab_shown(self, event: TabbedContent.TabActivated) -> None:
        if event.pane.id == "tab-raw":
            self._fill_raw_area()

    def _known_secrets(self) -> list[str | None]:
        profile = getattr(self.app, "profile", None)
        tokens = getattr(profile, "tokens", None)
        return [getattr(tokens, "access_token", None), getattr(tokens, "refresh_token", None)]

    def _hold_collector(self, exchange: Exchange) -> None:
        """For a large body, the collector's full passes wait until its verdict is shown
        (``startup.hold_full_passes``): one hold at a time, for the exchange shown."""
        if self._collector_held_for is not None:
            self._release_collector(self._collector_held_for)
        if len(exchange.content) >= HOLD_COLLECTOR_AT:
            hold_full_passes()
            self._collector_held_for = exchange

    def _release_collector(self, exchange: Exchange) -> None:
        if self._collector_held_for is exchange:
            self._collector_held_for = None
            if release_full_passes():
                # Alone: a moment after the verdict's frame (the screen draws at most every
                # 1/60 s), so that keys and timers are served between the two. The app's timer,
                # not this view's: the pass (and the thresholds it restores) must not depend on
                # the view still being on screen.
                self.app.set_timer(FULL_PASS_AFTER, full_pass, name="full collection")

    @work(exclusive=True, group="response-after-parse", description="raw text and contract check")
    async def _after_parse(self, exchange: Exchange, document: Any) -> None:
        """Off the event loop: the Raw tab's texts (as sent and pretty, masked), then the contract
        check — each thread started once the screen has drawn what came before it."""
        try:
            await self._raw_and_contract(exchange, document)
        finally:
            self._release_collector(exchange)

    async def _raw_and_contract(self, exchange: Exchange, document: Any) -> None:
        await self._next_frame()  # the tree's first frame, alone
        secrets = self._known_secrets()
        raw, pretty = await asyncio.to_thread(
            lambda: (_raw_pair(exchange.content, secrets), _pretty_pair(document, len(exchange.content), secrets)))
        if self.exchange is not exchange:
            return
        self._raw, self._pretty = raw, pretty
        self._set_raw(*(raw if self.compact else pretty))
        template = self._operation(exchange)
        if template is None:
            self._verdict_not_checked(f"{exchange.method} {_path_only(exchange.path)} is not an operation "
                                      "of the published definition")
            return
        from bonjoro_tui.api import contract

        self._verdict = Text("… checking against the published schema", style="dim")
        self._render_meta()
        await self._next_frame()
        if self.exchange is not exchange:
            return
        try:
            result = await asyncio.to_thread(contract.check, exchange.method, template, exchange.status or 0, document)
        except Exception as exc:  # noqa: BLE001 - a check that fails is said, never the end of the app
            self._verdict_not_checked(f"the check failed ({type(exc).__name__}: {exc})")
            return
        if self.exchange is not exchange:
            return
        self.contract = result
        self._verdict = verdict_text(result)
        self._render_meta()
        self._fill_contract(result)

    def _operation(self, exchange: Exchange) -> str | None:
        """The published path template of the exchange: its catalog endpoint's, or matched."""
        endpoint = exchange.endpoint
        if endpoint is not None and getattr(endpoint, "method", "").upper() == exchange.method.upper():
            return str(endpoint.path)
        from bonjoro_tui.api.contract import operation_for

        relative = self._api_relative(exchange.path)
        return operation_for(exchange.method, relative) if relative is not None else None

    def _api_relative(self, path: str) -> str | None:
        """``path`` relative to the API base (an absolute URL must be under it), or None."""
        if not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", path):
            return path
        base = self._api_base()
        if base and _same_origin(path, base) and urlsplit(path).path.startswith(urlsplit(base).path.rstrip("/")):
            return urlsplit(path).path[len(urlsplit(base).path.rstrip("/")):] or "/"
        return None

    def _api_base(self) -> str:
        settings = getattr(self.app, "settings", None)
        return str(getattr(settings, "api_base", "") or "")

    def _verdict_not_checked(self, why: str) -> None:
        self._verdict = rich_plain(f"not checked against the published schema: {why}", "dim")
        self._render_meta()
        self._fill_contract(None, f"Not checked: {why}.")

    def _render_meta(self) -> None:
        self.query_one("#response-meta", Static).update(self._meta_text())

    def _meta_text(self) -> Text:
        """The status line: the response's, then the contract's verdict."""
        text = self._base.copy()
        if self._verdict is not None:
            # On the status line when both fit on one line, else on a line of its own.
            width = self.query_one("#response-meta", Static).size.width or self.size.width
            fits = "\n" not in text.plain and len(text.plain) + 2 + len(self._verdict.plain) <= width
            text.append("  " if fits else "\n")
            text.append_text(self._verdict)
        return text

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
        if exchange.retries or exchange.refreshed:
            text.append("\n" + safe_text(retries_line(exchange.retries, status, refreshed=exchange.refreshed)),
                        style="yellow")
        if status == 401:
            text.append("\nUnauthenticated: sign in again (l).", style="red")
        elif status == 429:
            text.append(f"\nRate limited: retry after {_header(exchange, 'retry-after') or '?'} s.", style="yellow")
        elif status >= 500:
            text.append("\nThe server failed; try again later.", style="red")
        return text

    # ---- headers and contract tabs ------------------------------------------------------------------

    def _fill_headers(self, exchange: Exchange) -> None:
        text = Text()
        text.append("Request\n", style="bold")
        text.append(safe_text(exchange.method) + " ")
        text.append(safe_text(self._url_of(exchange), limit=HEADER_VALUE_LIMIT))
        text.append("\n")
        sent = exchange.request_headers
        if not sent:
            text.append("(the headers sent are not known for this request)\n", style="dim")
        for name, value in sorted(sent.items(), key=lambda kv: kv[0].lower()):
            _header_line(text, name, _masked(name, value, already=True))
        text.append("\nResponse\n", style="bold")
        if exchange.status is None:
            text.append("(no response)\n", style="dim")
        else:
            text.append(safe_text(f"{exchange.status} {httpx.codes.get_reason_phrase(exchange.status)}") + "\n")
            for name, value in sorted(exchange.headers.items()):
                _header_line(text, name, _masked(name, value))
        self.query_one("#response-headers", Static).update(text)

    def _url_of(self, exchange: Exchange) -> str:
        path = exchange.path
        if not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", path):
            path = self._api_base().rstrip("/") + "/" + path.lstrip("/")
        if exchange.params:
            path += ("&" if "?" in path else "?") + urlencode(exchange.params)
        return path

    def _fill_contract(self, result: ContractResult | None, note: str = "") -> None:
        pane = self.query_one("#response-contract", Static)
        if result is None or result.matched is None:
            pane.update(rich_plain(note or f"Not checked: {result.reason if result else ''}.", "dim",
                                   multiline=True))
            return
        if result.matched:
            head = rich_plain(f"✓ {result.operation}: the body matches the published schema", "green")
            head.append("\n(with the corrections bonjoro-tui applies to known mistakes of the definition: "
                        "docs/SANDBOX.md)", style="dim")
            if result.sampled:
                head.append_text(_sampled_note(result))
            pane.update(head)
            return
        pane.update(contract_table(result))

    # ---- page links ------------------------------------------------------------------------------

    def _set_pages(self, pages: tuple[str | None, str | None, int | None, int | None, int | None] | None) -> None:
        # Which of next/prev page can run: the footer is rebuilt (a layout of the whole screen)
        # only when that changes and the footer shows this view's keys (focus inside it); with
        # focus elsewhere, moving it in here refreshes the footer then.
        before = self._page_moves()
        self.pages = pages
        pager = self.query_one("#response-pager")
        pager.set_class(pages is not None, "paged")
        if pages is not None:
            prev_url, next_url, current, last, total = pages
            info = f"page {current if current is not None else '?'} of {last if last is not None else '?'}"
            if total is not None:
                info += f" · {total} in all"
            self.query_one("#page-info", Static).update(rich_plain(info))
            self.query_one("#page-prev", Button).disabled = prev_url is None
            self.query_one("#page-next", Button).disabled = next_url is None
        if self._page_moves() != before and self.has_focus_within:
            self.refresh_bindings()

    def _page_moves(self) -> tuple[bool, bool]:
        pages = getattr(self, "pages", None)
        return (pages is not None and pages[0] is not None, pages is not None and pages[1] is not None)

    @on(Button.Pressed, "#page-next")
    def _next_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_next_page()

    @on(Button.Pressed, "#page-prev")
    def _prev_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_prev_page()

    def action_next_page(self) -> None:
        self._request_page(self.pages[1] if self.pages else None, "next")

    def action_prev_page(self) -> None:
        self._request_page(self.pages[0] if self.pages else None, "previous")

    def _request_page(self, url: str | None, which: str) -> None:
        if url is None:
            self.notify(f"There is no {notice(which)} page.", severity="warning", markup=False)
            return
        base = self._api_base()
        if not base or not _same_origin(url, base):
            self.notify(f"Not sent: the {notice(which)} page's URL {notice(safe_text(url, limit=200))} is not on "
                        f"the API's origin ({notice(base or 'unknown')}); the token goes there only.",
                        title="Page", severity="error", markup=False)
            return
        self.post_message(self.PageRequested(url))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "next_page":
            return self.pages is not None and self.pages[1] is not None
        if action == "prev_page":
            return self.pages is not None and self.pages[0] is not None
        return True

    # ---- actions on the body ---------------------------------------------------------------------

    @on(Checkbox.Changed, "#raw-compact")
    def _compact_changed(self, event: Checkbox.Changed) -> None:
        event.stop()
        self.compact = event.value
        exchange = self.exchange
        if exchange is None or exchange.error:
            return
        chosen = self._raw if self.compact or self._pretty is None else self._pretty
        if chosen is not None:
            self._set_raw(*chosen)
        else:  # not made yet: the thread that makes it shows the one the box asks for
            self._set_raw(raw_text(exchange.content))

    def action_toggle_compact(self) -> None:
        box = self.query_one("#raw-compact", Checkbox)
        box.value = not box.value

    @on(Button.Pressed, "#copy-body")
    def _copy_body_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.copy_body()

    @on(Button.Pressed, "#copy-value")
    def _copy_value_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_copy_value()

    @on(Button.Pressed, "#save-body")
    def _save_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_save_body()

    def copy_body(self) -> None:
        exchange = self.exchange
        if exchange is None or not exchange.content:
            self.notify("Nothing to copy yet: send a request first.", severity="warning", markup=False)
            return
        if len(exchange.content) > COPY_LIMIT:  # refused before decoding megabytes on the event loop
            self._too_big("the body", size(len(exchange.content)))
            return
        self._copy(exchange.content.decode("utf-8", "replace"), "the body")

    def action_copy_value(self) -> None:
        tree = self.query_one(JsonTree)
        found = tree.value_at_cursor() if self.parsed else None
        if found is None:
            self.notify("Nothing to copy: put the tree's cursor on a value first.", severity="warning", markup=False)
            return
        where, value = found
        what = f"the value of {safe_text(where, limit=80)}"
        text = value if isinstance(value, str) else bounded_json(value, COPY_LIMIT)
        if text is None:  # a subtree of megabytes: encoding stopped at the limit
            self._too_big(what, f"more than {size(COPY_LIMIT)}")
            return
        self._copy(text, what)

    def _too_big(self, what: str, how_big: str) -> None:
        self.notify(f"Not copied: {notice(what)} is {notice(how_big)}, more than the {size(COPY_LIMIT)} a terminal's "
                    "clipboard (OSC 52) reliably takes. Save it to a file instead (Save…, ctrl+s).",
                    title="Copy", severity="warning", timeout=10, markup=False)

    def _copy(self, text: str, what: str) -> None:
        count = len(text.encode("utf-8"))
        if count > COPY_LIMIT:
            self._too_big(what, size(count))
            return
        try:
            self.app.copy_to_clipboard(text)
        except Exception as exc:  # noqa: BLE001 - a terminal that cannot take it: said, not raised
            self.notify(notice(f"Not copied: {type(exc).__name__}: {exc}"), title="Copy", severity="error",
                        markup=False)
            return
        self.notify(f"{notice(what[:1].upper() + what[1:])} ({size(count)}). {CLIPBOARD_NOTE}", title="Copied",
                    markup=False)

    def action_save_body(self) -> None:
        exchange = self.exchange
        if exchange is None or not exchange.content:
            self.notify("Nothing to save yet: send a request first.", severity="warning", markup=False)
            return
        from bonjoro_tui.tui.modals.save import SaveBodyScreen

        data = exchange.content

        def saved(path: Path | None) -> None:
            if path is not None:
                self.notify(f"Saved the body ({size(len(data))}) to {notice(str(path))}, readable by you only.",
                            title="Saved", markup=False)

        self.app.push_screen(SaveBodyScreen(data, suggested_name(exchange)), saved)


def contract_table(result: ContractResult) -> Table:
    """The Contract tab's table: each difference as path, expected, got (all escaped text)."""
    # No title: the status line above says how many and against which operation.
    table = Table(box=None, show_edge=False, pad_edge=False, expand=True)
    table.add_column(rich_plain("path"), style="bold", overflow="fold", ratio=2)
    table.add_column(rich_plain("expected"), overflow="fold", ratio=2)
    table.add_column(rich_plain("got"), overflow="fold", ratio=2)
    for difference in result.differences:
        table.add_row(rich_plain(difference.path, limit=200), rich_plain(difference.expected, limit=200),
                      rich_plain(difference.got, "yellow", limit=200))
    if result.total > len(result.differences):
        table.add_row(rich_plain(f"… and {result.total - len(result.differences)} more"), Text(""), Text(""))
    if result.sampled:
        table.caption = _sampled_note(result)
        table.caption_justify = "left"
    return table


def raw_text(content: bytes, limit: int = RAW_LIMIT) -> str:
    """The body as sent, as the Raw tab shows it: at most ``limit`` characters of display text.

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
    return f"… truncated at {size(limit)} of {size(len(content))}; save the body for all of it\n" + shown[:limit]


def pretty_text(document: Any, sent: int, limit: int = RAW_LIMIT) -> str:
    """``document`` indented by 2, escaped like :func:`raw_text`, at most ``limit`` characters.

    Encoded piece by piece and stopped at the limit: a 5 MB body costs the first 64 kB.
    """
    pieces: list[str] = []
    length = 0
    cut = False
    for piece in json.JSONEncoder(indent=2, ensure_ascii=False).iterencode(document):
        pieces.append(piece)
        length += len(piece)
        if length > limit:
            cut = True
            break
    shown = safe_text("".join(pieces), multiline=True)
    if not cut and len(shown) <= limit:
        return shown
    return (f"… pretty-printed and truncated at {size(limit)} (the body is {size(sent)} as sent): p shows it as "
            "sent, Save writes all of it\n" + shown[:limit])


def _scrubbed(text: str, secrets: list[str | None]) -> str:
    from bonjoro_tui.account.history import scrub_text

    return scrub_text(text, secrets) if text else text


def _raw_pair(content: bytes, secrets: list[str | None]) -> tuple[str, str]:
    """(the Raw tab's text as sent, that text masked): thread-safe, for a worker thread."""
    text = raw_text(content)
    return text, _scrubbed(text, secrets)


def _pretty_pair(document: Any, sent: int, secrets: list[str | None]) -> tuple[str, str]:
    text = pretty_text(document, sent)
    return text, _scrubbed(text, secrets)


def bounded_json(value: Any, limit: int) -> str | None:
    """``value`` as JSON indented by 2, or None once it passes ``limit`` characters (encoded piece
    by piece: a subtree of megabytes costs the first ``limit``, not the whole)."""
    pieces: list[str] = []
    length = 0
    for piece in json.JSONEncoder(indent=2, ensure_ascii=False).iterencode(value):
        pieces.append(piece)
        length += len(piece)
        if length > limit:
            return None
    return "".join(pieces)


def page_links(document: Any) -> tuple[str | None, str | None, int | None, int | None, int | None] | None:
    """(previous URL, next URL, current page, last page, total) of a Laravel page envelope."""
    if not isinstance(document, dict) or not ("next_page_url" in document or "prev_page_url" in document):
        return None

    def url(key: str) -> str | None:
        value = document.get(key)
        return value if isinstance(value, str) and value else None

    def number(key: str) -> int | None:
        value = document.get(key)
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    return url("prev_page_url"), url("next_page_url"), number("current_page"), number("last_page"), number("total")


def verdict_text(result: ContractResult) -> Text:
    """The contract's verdict for the status line."""
    if result.matched is None:
        verdict = rich_plain(f"not checked against the published schema: {result.reason}", "dim")
    elif result.matched:
        verdict = rich_plain(f"✓ matches the published schema ({result.operation})", "green")
    else:
        n = result.total
        verdict = rich_plain(f"✗ {n} difference{'s' if n != 1 else ''} from the published schema "
                             f"({result.operation}): see the Contract tab", "bold yellow")
    if result.sampled:
        verdict.append(" · long arrays checked on their first items", style="dim")
    return verdict


def retries_line(retries: Iterable[tuple[int, float]], status: int, *, refreshed: bool = False) -> str:
    """``429 → retried after 1 s → 200``: what the client retried before the answer shown;
    ``401 → refreshed → 200`` when the last attempt's 401 was answered by a token refresh."""
    steps = [f"{code or 'no connection'} → retried after {wait:g} s" for code, wait in retries]
    if refreshed:
        steps.append("401 → refreshed")
    return " → ".join(steps + [str(status)])


def suggested_name(exchange: Exchange) -> str:
    """A file name for the body: ``bonjoro-GET-greets-200.json`` in the working directory."""
    path = _path_only(exchange.path)
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", path):
        path = urlsplit(path).path
    slug = re.sub(r"[^A-Za-z0-9]+", "-", path.replace("/api/v2", "")).strip("-")[:60] or "body"
    kind = "json" if (exchange.headers.get("content-type") or "").startswith("application/json") else "txt"
    return f"bonjoro-{exchange.method}-{slug}-{exchange.status}.{kind}"


def _sampled_note(result: ContractResult) -> Text:
    from bonjoro_tui.api.contract import SAMPLE_ITEMS

    where = ", ".join(f"{path} ({count} items)" for path, count in result.sampled)
    return rich_plain(f"\nOnly the first {SAMPLE_ITEMS} items of {where} were checked.", "dim")


def _path_only(path: str) -> str:
    return path.split("?", 1)[0]


def _same_origin(url: str, base: str) -> bool:
    a, b = urlsplit(url), urlsplit(base)
    return (a.scheme.lower(), (a.hostname or "").lower(), a.port) == (b.scheme.lower(), (b.hostname or "").lower(), b.port)


def _masked(name: str, value: str, *, already: bool = False) -> str:
    """A header's value for the Headers tab: a credential masked (``already``: unless it is)."""
    if name.lower() not in SECRET_HEADERS or (already and MASK in value):
        return value
    scheme, _, secret = value.partition(" ")
    return f"{scheme} {mask(secret)}" if secret and name.lower().endswith("authorization") else mask(value)


def _header_line(text: Text, name: str, value: str) -> None:
    text.append(safe_text(name, limit=200), style="bold")
    text.append(": ")
    text.append(safe_text(value, limit=HEADER_VALUE_LIMIT))
    text.append("\n")


def _header(exchange: Exchange, name: str) -> str | None:
    """A response header's value as display text (escaped, cut), None when absent."""
    value = exchange.headers.get(name)
    return None if value is None else safe_text(value, limit=HEADER_LIMIT)

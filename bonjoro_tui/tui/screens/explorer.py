"""The API explorer: pick an endpoint from Bonjoro's published catalog (or type a path), send it
with the signed-in token, and read the response (``tui/widgets/response.py`` ``ResponseView``).

Requests go through ``BonjoroClient.request`` (which refreshes as needed).

Server text is text: error messages and history labels reach the screen through
:func:`~bonjoro_tui.safetext.safe_text` and only inside ``Text``/``Content`` objects, never as
markup; the response view does the same for the body and headers.
"""

from __future__ import annotations

import json
import shlex
from collections import defaultdict
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import (
    Button,
    Checkbox,
    Footer,
    Header,
    Input,
    OptionList,
    Select,
    TabbedContent,
    TabPane,
    TextArea,
    Tree,
)

from bonjoro_tui.account.sandbox import served_routes, serves
from bonjoro_tui.redact import mask
from bonjoro_tui.safetext import safe_text
from bonjoro_tui.tui.errors import explain
from bonjoro_tui.tui.exchange import Exchange
from bonjoro_tui.tui.text import notice, plain
from bonjoro_tui.tui.widgets.response import RAW_LIMIT, ResponseView, raw_text

__all__ = ["METHODS", "RAW_LIMIT", "Exchange", "ExplorerScreen", "raw_text"]

if TYPE_CHECKING:
    from bonjoro_tui.tui.app import BonjoroApp

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")

class ExplorerScreen(Screen):
    if TYPE_CHECKING:
        app: BonjoroApp  # see HelpScreen

    CSS_PATH = "explorer.tcss"
    TITLE = "API explorer"
    AUTO_FOCUS = "#response-tree"
    BINDINGS = [
        Binding("escape", "leave_input", "Leave field", id="explorer.leave", show=False),
        Binding("ctrl+j", "send", "Send", id="explorer.send", priority=True),
        Binding("ctrl+y", "copy_body", "Copy body", id="explorer.copy_body", show=False),
        Binding("ctrl+t", "copy_curl", "Copy curl", id="explorer.copy_curl", show=False),
        Binding("ctrl+f", "focus_filter", "Filter", id="explorer.filter", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.history: list[Exchange] = []
        self._opened = False
        self._endpoints: list[Any] = []

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False)
        with Horizontal(id="explorer-main"):
            with Vertical(id="catalog-pane"):
                yield Input(placeholder="Filter endpoints", id="catalog-filter", compact=True)
                yield Tree("Endpoints", id="catalog")
            with Vertical(id="request-pane"):
                with Horizontal(id="request-line"):
                    yield Select([(m, m) for m in METHODS], value="GET", allow_blank=False,
                                 id="http-method", compact=True)
                    yield Input(value="/me", placeholder="/path or full URL", id="path", compact=True)
                    yield Button("Send", id="send", variant="primary", compact=True)
                yield Input(placeholder="query, e.g. page=1&limit=5", id="query", compact=True)
                yield TextArea("", language=None, id="body", soft_wrap=True)
                yield ResponseView(
                    id="response",
                    # The History tab lives among the response's tabs until it gets a place of its own.
                    extra_panes=[TabPane("History", OptionList(id="history"), id="tab-history")],
                    extra_actions=[Button("Copy as curl", id="copy-curl", compact=True),
                                   Checkbox("with token", id="curl-token", compact=True)],
                )
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.query_one("#body").border_title = "JSON body"
        self.load_catalog()

    def on_descendant_focus(self, event) -> None:
        # While the catalog is browsed it widens (app.tcss); the response actions are then hidden
        # rather than squeezed into a narrow pane.
        catalog = self.query_one("#catalog-pane")
        self.set_class(event.widget is catalog or catalog in event.widget.ancestors, "browsing")

    @property
    def response(self) -> ResponseView:
        return self.query_one(ResponseView)

    @property
    def current(self) -> Exchange | None:
        """The exchange the response view shows."""
        return self.response.exchange

    @current.setter
    def current(self, exchange: Exchange | None) -> None:
        self.response.exchange = exchange

    def on_screen_resume(self) -> None:
        if not self._opened and self.app.profile is not None:
            self._opened = True
            self.action_send()

    # ---- catalog -----------------------------------------------------------------------------

    def load_catalog(self) -> None:
        try:
            from bonjoro_tui.api.catalog import load_catalog

            self._endpoints = list(load_catalog())
        except Exception as exc:
            what, _ = explain(exc)
            self.notify(notice(f"The endpoint catalog could not be loaded: {what}"), severity="warning", markup=False)
            self._endpoints = []
        self._served = served_routes() if self.app.sandbox is not None else None
        if self._served is not None:
            self.query_one("#catalog-filter", Input).placeholder = "Filter (●=sandbox)"
        self._fill_catalog("")

    def _serves(self, ep: Any) -> bool | None:
        """Whether the sandbox answers this endpoint (None: the target is not the sandbox)."""
        if self._served is None:
            return None
        return serves(self._served, ep.method, ep.path)

    def _fill_catalog(self, needle: str) -> None:
        tree = self.query_one("#catalog", Tree)
        tree.clear()
        tree.show_root = False
        needle = needle.lower().strip()
        groups: dict[str, list[Any]] = defaultdict(list)
        for ep in self._endpoints:
            hay = f"{ep.method} {ep.path} {ep.summary} {ep.tag}".lower()
            if not needle or all(word in hay for word in needle.split()):
                groups[ep.tag or "Other"].append(ep)
        for tag in sorted(groups):
            node = tree.root.add(Text(f"{tag} ({len(groups[tag])})", style="bold"), expand=bool(needle))
            for ep in groups[tag]:
                served = self._serves(ep)
                label = Text()
                if served is not None:
                    label.append("● " if served else "  ", style="green")
                label.append(f"{ep.method:<6} ", style=_method_style(ep.method) + (" dim" if served is False else ""))
                label.append(ep.path, style="dim" if served is False else "")
                node.add_leaf(label, ep)
        if not groups:
            tree.root.add_leaf(Text("no endpoint matches", style="dim italic"))
        tree.root.expand()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "catalog-filter":
            self._fill_catalog(event.value)

    def on_tree_node_selected(self, event: Tree.NodeSelected) -> None:
        if event.control.id != "catalog" or event.node.data is None:
            return
        ep = event.node.data
        self.query_one("#http-method", Select).value = ep.method
        self.query_one("#path", Input).value = ep.path
        required = [p.name for p in getattr(ep, "params", ()) if p.location == "query" and p.required]
        self.query_one("#query", Input).value = "&".join(f"{name}=" for name in required)
        example = getattr(ep, "body_example", None)
        self.query_one("#body", TextArea).text = json.dumps(example, indent=2) if example else ""
        summary = Text(f"{ep.method} {ep.path}", style="bold")
        summary.append(f"  {ep.summary or ''}", style="dim")
        if not getattr(ep, "published", True):
            summary.append(" [not in Bonjoro's published definition]", style="dim")
        if self._serves(ep) is False:
            summary.append("\nThe sandbox does not serve this endpoint: it will answer 404 here.", style="yellow")
        self.response.show_summary(summary)
        self.query_one("#path", Input).focus()

    # ---- sending ------------------------------------------------------------------------------

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id in ("path", "query"):
            event.stop()
            self.action_send()

    # Each button runs the same action as its key.
    @on(Button.Pressed, "#send")
    def _send_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_send()

    @on(Button.Pressed, "#copy-curl")
    def _copy_curl_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_copy_curl()

    def action_send(self) -> None:
        method = str(self.query_one("#http-method", Select).value)
        path = self.query_one("#path", Input).value.strip() or "/"
        params = dict(parse_qsl(self.query_one("#query", Input).value.strip(), keep_blank_values=True))
        body_text = self.query_one("#body", TextArea).text.strip()
        body = None
        if body_text and method in ("POST", "PUT", "PATCH"):
            try:
                body = json.loads(body_text)
            except json.JSONDecodeError as exc:
                self.response.show_error(f"The JSON body is not valid JSON: {exc}", "Fix the body and send again.")
                return
        self._opened = True
        self.send(Exchange(method, path, params, body, at=self.app.now()))

    @work(exclusive=True, group="send")
    async def send(self, exchange: Exchange) -> None:
        app = self.app
        self.response.show_summary(Text(f"Sending {exchange.method} {safe_text(exchange.path)} …"))
        started = app.now()
        try:
            client = await app.client_ready()  # built off the event loop if this is the first request
            response = await client.request(
                exchange.method, exchange.path, params=exchange.params or None, json=exchange.body
            )
        except Exception as exc:
            what, todo = explain(exc, target=app.settings.api_base or "the API")
            exchange.error = f"{what} {todo}"
            self._remember(exchange)
            self.response.show_error(what, todo, clear=True)
            app.reload_profile()
            return
        exchange.elapsed = max(0.0, app.now() - started)
        exchange.status = response.status
        exchange.content = bytes(response.content)
        exchange.headers = {k.lower(): v for k, v in dict(response.headers).items()}
        self._remember(exchange)
        await self.response.show(exchange)
        app.reload_profile()  # a request may have refreshed the token

    def _remember(self, exchange: Exchange) -> None:
        self.history.append(exchange)
        del self.history[:-50]
        options = self.query_one("#history", OptionList)
        options.clear_options()
        options.add_options([plain(e.label()) for e in reversed(self.history)])  # a str prompt is markup

    async def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if event.option_list.id != "history":
            return
        exchange = self.history[len(self.history) - 1 - event.option_index]
        self.query_one("#http-method", Select).value = exchange.method
        self.query_one("#path", Input).value = exchange.path
        self.query_one("#query", Input).value = urlencode(exchange.params)
        self.query_one("#response-tabs", TabbedContent).active = "tab-tree"  # show may pick Raw
        await self.response.show(exchange)

    # ---- copying ---------------------------------------------------------------------------------

    def action_copy_body(self) -> None:
        self.response.copy_body()

    def action_copy_curl(self) -> None:
        exchange = self.current
        if exchange is None:
            method = str(self.query_one("#http-method", Select).value)
            exchange = Exchange(method, self.query_one("#path", Input).value.strip() or "/", {}, None, 0.0)
        with_token = self.query_one("#curl-token", Checkbox).value
        try:
            command = self.curl_command(exchange, with_token=with_token)
        except Exception as exc:  # the token may not go there (another origin, a .env's API base)
            what, todo = self.app.explain(exc)
            self.notify(f"Not copied: {safe_text(what)}\n{safe_text(todo)}", title="Copy as curl", severity="error",
                        markup=False)
            return
        self.app.copy_to_clipboard(command)
        note = "with the real token: keep it private" if with_token else "token masked"
        self.notify(f"Copied as curl ({note}).", title="Copied")

    def curl_command(self, exchange: Exchange, *, with_token: bool = False) -> str:
        settings = self.app.settings
        path = exchange.path
        url = path if path.startswith(("http://", "https://")) else (settings.api_base or "").rstrip("/") + "/" + path.lstrip("/")
        if exchange.params:
            url += "?" + urlencode(exchange.params)
        if with_token:
            # The same checks as a request: only the API origin this profile signed in with.
            shown = self.app.client.token_for(path)
        else:
            profile = self.app.profile
            shown = mask(profile.tokens.access_token if profile is not None else None)
        parts = ["curl", "-X", exchange.method, url, "-H", f"Authorization: Bearer {shown}", "-H", "Accept: application/json"]
        if exchange.body is not None:
            parts += ["-H", "Content-Type: application/json", "--data", json.dumps(exchange.body)]
        return " ".join(shlex.quote(p) for p in parts)

    def action_leave_input(self) -> None:
        """escape in a field gives the keys back: focus moves to the response tree."""
        focused = self.focused
        if isinstance(focused, (Input, TextArea, Select)) and focused.id != "response-raw":
            self.query_one("#response-tree").focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "leave_input":
            focused = self.focused
            return isinstance(focused, (Input, TextArea, Select)) and focused.id != "response-raw"
        return True

    def action_focus_filter(self) -> None:
        self.query_one("#catalog-filter").focus()


def _method_style(method: str) -> str:
    return {"GET": "green", "POST": "yellow", "PUT": "blue", "PATCH": "cyan", "DELETE": "red"}.get(method, "")

"""The API explorer: pick an endpoint from Bonjoro's published catalog (or type a path), build the
request from its definition, send it with the signed-in token, and read the response
(``tui/widgets/response.py`` ``ResponseView``).

The request side (this module):

- **Params**: the operation's path parameters as fields, pre-filled where the app knows a value
  (``{user_id}`` from ``/me``, ids seen in the last list response — ``request_builder.harvest_ids``),
  and its documented query parameters with their descriptions (a Select for an enum), plus a
  free query line. ``{name}`` is filled percent-encoded; an empty one is refused, never sent.
- **Body**: an example built from the request schema with every required field, a TextArea
  (JSON highlighting where tree-sitter is installed), ``$EDITOR`` on a key, and a check against
  the schema before sending: differences are shown and a second send sends anyway.
- **Headers**: ``Name: value`` lines; ``Authorization`` stays the client's (refused here).
- **History**: every request of every run (``account/history.py``: kept in the data dir without
  any secret), searchable, re-run with one key, saved under a name.

Requests go through ``BonjoroClient.request`` (which refreshes as needed, and retries 429/503
unless the "retry" box is cleared).

Server text is text: error messages and history labels reach the screen through
:func:`~bonjoro_tui.safetext.safe_text` and only inside ``Text``/``Content`` objects, never as
markup; the response view does the same for the body and headers.
"""

from __future__ import annotations

import asyncio
import json
import os
import shlex
from collections import defaultdict
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import (
    Button,
    Checkbox,
    Footer,
    Header,
    Input,
    Label,
    OptionList,
    Select,
    Static,
    TabbedContent,
    TabPane,
    TextArea,
    Tree,
)

from bonjoro_tui.account.format import clock_time
from bonjoro_tui.account.sandbox import served_routes, serves
from bonjoro_tui.redact import mask
from bonjoro_tui.safetext import safe_text
from bonjoro_tui.startup import set_aside
from bonjoro_tui.tui.errors import explain
from bonjoro_tui.tui.exchange import Exchange
from bonjoro_tui.tui.text import notice, plain, rich_plain
from bonjoro_tui.tui.widgets.fields import TextEditor, TextField
from bonjoro_tui.tui.widgets.response import RAW_LIMIT, ResponseView, raw_text
from bonjoro_tui.tui.widgets.steady import SteadyScrollbars

__all__ = ["METHODS", "RAW_LIMIT", "Exchange", "ExplorerScreen", "raw_text"]

if TYPE_CHECKING:
    from bonjoro_tui.account.history import Entry, History
    from bonjoro_tui.api.catalog import Endpoint, Param
    from bonjoro_tui.tui.app import BonjoroApp

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
#: A response body at most this big is read for ids the next request may use.
HARVEST_LIMIT = 1024 * 1024
#: Differences listed under the body (the rest are counted).
SHOWN_DIFFERENCES = 6
BOOLEANS = (("true", "true"), ("false", "false"))


def _json_language() -> str | None:
    """"json" when TextArea can highlight it (tree-sitter installed), else None (plain text)."""
    import importlib.util

    try:
        ok = importlib.util.find_spec("tree_sitter") is not None and importlib.util.find_spec("tree_sitter_json")
    except (ImportError, ValueError):
        return None
    return "json" if ok else None


class ExplorerScreen(Screen):
    if TYPE_CHECKING:
        app: BonjoroApp  # see HelpScreen

    CSS_PATH = "explorer.tcss"
    TITLE = "API explorer"
    # A text field on entry: typing "greets" types it (single-letter keys never fire in a field).
    AUTO_FOCUS = "#path"
    BINDINGS = [
        Binding("escape", "leave_input", "Leave field", id="explorer.leave", show=False),
        Binding("ctrl+j", "send", "Send", id="explorer.send", priority=True),
        Binding("f5", "rerun", "Re-run", id="explorer.rerun"),
        Binding("ctrl+n", "save_request", "Save request", id="explorer.save", show=False),
        Binding("f4", "edit_body", "$EDITOR", id="explorer.editor"),
        Binding("f3", "toggle_large", "Large editor", id="explorer.large", show=False),
        Binding("f2", "toggle_maximize", "Big response", id="explorer.maximize"),
        Binding("ctrl+y", "copy_body", "Copy body", id="explorer.copy_body", show=False),
        Binding("ctrl+t", "copy_curl", "Copy curl", id="explorer.copy_curl", show=False),
        Binding("ctrl+f", "focus_filter", "Filter", id="explorer.filter", show=False),
        Binding("ctrl+g", "show_history", "History", id="explorer.history", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        #: This run's exchanges, oldest first (full bodies; the history file keeps capped copies).
        self.history: list[Exchange] = []
        self._opened = False
        #: The catalog match chosen with down/up in the filter (enter opens it; None: the first).
        self._catalog_chosen: Any = None
        self._endpoints: list[Any] = []
        self._served: Any = None
        #: The catalog endpoint the request is built from (None: a path typed by hand).
        self.endpoint: Endpoint | None = None
        #: Path-parameter and documented query-parameter fields of ``endpoint``, by name.
        self._path_fields: dict[str, Input] = {}
        self._query_fields: dict[str, Input | Select] = {}
        #: One rebuild of the parameter fields at a time, never cancelled half-way: a Select
        #: removed before its own mount finished crashed the app (typing a path fast in tmux).
        self._params_lock = asyncio.Lock()
        #: The (endpoint, typed path) the fields should show, and the one they show.
        self._params_wanted: tuple[Endpoint | None, str] | None = None
        self._params_built: tuple[Endpoint | None, str] | None = None
        #: Ids seen in the last list response (``request_builder.harvest_ids``).
        self.harvested: dict[str, str] = {}
        #: (method, path, body) of a request whose body differed from its schema: the next send of
        #: the very same request goes anyway.
        self._anyway: tuple[str, str, str] | None = None
        #: The body (stripped) the note under the editor speaks of; an edit clears the note.
        self._noted_body: str | None = None
        #: The history kept across runs (loaded when the screen mounts).
        self.workspace: History | None = None
        #: The entries the history list shows, in its order; and this run's exchange of each.
        self._listed: list[Entry] = []
        self._live: dict[int, tuple[Entry, Exchange]] = {}
        self._saving = False
        self._save_again = False

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False)
        with Horizontal(id="explorer-main"):
            with Vertical(id="catalog-pane"):
                yield CatalogFilter(placeholder="Filter endpoints", id="catalog-filter", compact=True)
                yield CatalogTree("Endpoints", id="catalog")
            with Vertical(id="request-pane"):
                with Horizontal(id="request-line"):
                    yield Select([(m, m) for m in METHODS], value="GET", allow_blank=False,
                                 id="http-method", compact=True)
                    yield TextField(value="/me", placeholder="/path or full URL", id="path", compact=True)
                    yield Button("Send", id="send", variant="primary", compact=True)
                    yield Checkbox("retry", value=True, id="retry", compact=True,
                                   tooltip="Retry 429 and 503 answers after their Retry-After (the client's default)")
                with TabbedContent(id="request-tabs"):
                    with TabPane("Params", id="tab-params"):
                        with VerticalScroll(id="params-form"):
                            yield Static(Text("Pick an endpoint in the catalog, or type a path.", style="dim"),
                                         id="params-note")
                            yield Vertical(id="path-params")
                            yield Vertical(id="query-params")
                            yield TextField(placeholder="more query, e.g. page=1&limit=5", id="query", compact=True)
                    with TabPane("Body", id="tab-body"):
                        yield TextEditor("", language=_json_language(), id="body", soft_wrap=True,
                                         show_line_numbers=False)
                        with Horizontal(id="body-actions"):
                            yield Button("Example", id="example-body", compact=True,
                                         tooltip="Build the example body again from the request schema")
                            yield Button("Check", id="check-body", compact=True,
                                         tooltip="Check the body against the request schema")
                            yield Button("$EDITOR", id="edit-body", compact=True, tooltip="Edit the body in $EDITOR (f4)")
                            yield Button("Large", id="large-body", compact=True, tooltip="Larger editor (f3)")
                        yield Static(id="body-check")
                    with TabPane("Headers", id="tab-headers"):
                        yield TextEditor("", id="headers", soft_wrap=True)
                        yield Static(Text("One 'Name: value' per line. Authorization is the client's: the signed-in "
                                          "token, sent only to the API's origin.", style="dim"), id="headers-note")
                        with Horizontal(id="curl-actions"):
                            yield Button("Copy as curl", id="copy-curl", compact=True, tooltip="ctrl+t")
                            yield Checkbox("with token", id="curl-token", compact=True)
                    with TabPane("History", id="tab-history"):
                        with Horizontal(id="history-bar"):
                            yield TextField(placeholder="search history", id="history-search", compact=True)
                            yield Checkbox("saved", id="saved-only", compact=True)
                        yield OptionList(id="history")
                        with Horizontal(id="history-actions"):
                            yield Button("Re-run", id="rerun", compact=True, tooltip="Send it again (f5)")
                            yield TextField(placeholder="name", id="request-name", compact=True)
                            yield Button("Save", id="save-request", compact=True,
                                         tooltip="Save the highlighted request under this name (ctrl+n)")
                yield ResponseView(id="response")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.query_one("#body").border_title = "JSON body"
        self.query_one("#headers").border_title = "Request headers"
        self.load_catalog()
        self.load_history()
        # /me may arrive after an endpoint was opened: its id fills an empty {user_id} then.
        self.watch(self.app, "user", self._user_changed, init=False)

    def _user_changed(self, user: Any) -> None:
        known = self.known_values()
        for name, field in self._path_fields.items():
            if not field.value and known.get(name):
                field.value = known[name]

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
        elif not self._opened:
            self.call_after_refresh(set_aside, "explorer")  # signed out: nothing is sent

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
        self._catalog_chosen = None  # new matches: none chosen yet (enter opens the first)

    def _catalog_leaves(self) -> list[Any]:
        """The catalog's endpoint nodes, in the order shown."""
        tree = self.query_one("#catalog", Tree)
        return [leaf for group in tree.root.children for leaf in group.children if leaf.data is not None]

    def action_catalog_step(self, step: int) -> None:
        """Down/up in the filter: the next/previous match is highlighted in the catalog (enter
        opens it), the typing stays in the filter — as a command palette does."""
        tree = self.query_one("#catalog", Tree)
        leaves = self._catalog_leaves()
        if not leaves:
            return
        chosen = self._catalog_chosen
        if chosen in leaves:
            target = leaves[(leaves.index(chosen) + step) % len(leaves)]
        else:
            target = leaves[0] if step > 0 else leaves[-1]
        if target.parent is not None and not target.parent.is_expanded:
            target.parent.expand()
        self._catalog_chosen = target
        tree.move_cursor(target)
        tree.scroll_to_node(target, animate=False)

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "catalog-filter":
            self._fill_catalog(event.value)
        elif event.input.id == "path":
            self._path_changed(event.value)
        elif event.input.id == "history-search":
            self._fill_history()

    async def on_tree_node_selected(self, event: Tree.NodeSelected) -> None:
        if event.control.id != "catalog" or event.node.data is None:
            return
        await self.open_endpoint(event.node.data)

    async def open_endpoint(self, ep: Endpoint) -> None:
        """Build the request for ``ep``: method, path template, parameter fields, example body."""
        self.query_one("#http-method", Select).value = ep.method
        self.endpoint = ep
        path = self.query_one("#path", Input)
        with path.prevent(Input.Changed):
            path.value = ep.path
        await self._build_params(ep)
        self.query_one("#query", Input).value = ""
        self._example_body()
        summary = Text(f"{ep.method} {ep.path}", style="bold")
        summary.append(f"  {ep.summary or ''}", style="dim")
        if not getattr(ep, "published", True):
            summary.append(" [not in Bonjoro's published definition]", style="dim")
        if self._serves(ep) is False:
            summary.append("\nThe sandbox does not serve this endpoint: it will answer 404 here.", style="yellow")
        self.response.show_summary(summary)
        tabs = self.query_one("#request-tabs", TabbedContent)
        tabs.active = "tab-body" if ep.has_body and not ep.path_params and not ep.query_params else "tab-params"
        first_empty = next((f for f in self._path_fields.values() if not f.value), None)
        (first_empty or path).focus()

    def _path_changed(self, value: str) -> None:
        """A path typed by hand: the request is built from the endpoint it matches, if any."""
        from bonjoro_tui.api import catalog

        method = str(self.query_one("#http-method", Select).value)
        ep = catalog.match(method, value.strip()) if value.strip() else None
        if ep is not self.endpoint:
            self.endpoint = ep
            if ep is None:  # the previous endpoint's notes on the body are not this path's
                self.query_one("#body", TextArea).border_subtitle = None
                self.query_one("#body-check", Static).update("")
                self._noted_body = None
            # Not an exclusive worker: cancelling a rebuild between a mount and the next removal
            # left half-mounted widgets. Each worker builds whatever is wanted when its turn comes.
            self._params_wanted = (ep, value.strip())
            self.run_worker(self._build_wanted_params(), group="params")

    async def _build_wanted_params(self) -> None:
        async with self._params_lock:
            wanted = self._params_wanted
            if wanted is None or wanted == self._params_built:
                return  # a later keystroke's worker already built it
            await self._build_params_now(*wanted)
            self._params_built = wanted

    @on(Select.Changed, "#http-method")
    def _method_changed(self, event: Select.Changed) -> None:
        self._path_changed(self.query_one("#path", Input).value)

    # ---- the request's fields ------------------------------------------------------------------

    def known_values(self) -> dict[str, str]:
        """Values the app has seen, by parameter name: ids of the last list response, and the
        signed-in user's id from ``/me`` as ``user_id``."""
        from bonjoro_tui.account.identity import Identity

        known = dict(self.harvested)
        who = Identity.from_me(self.app.user) if self.app.user else None
        if who is not None and who.id:
            known["user_id"] = who.id
        return known

    async def _build_params(self, ep: Endpoint | None, *, typed: str = "") -> None:
        async with self._params_lock:
            self._params_wanted = self._params_built = (ep, typed)
            await self._build_params_now(ep, typed)

    async def _build_params_now(self, ep: Endpoint | None, typed: str = "") -> None:
        path_box = self.query_one("#path-params", Vertical)
        query_box = self.query_one("#query-params", Vertical)
        await path_box.remove_children()
        await query_box.remove_children()
        self._path_fields, self._query_fields = {}, {}
        note = self.query_one("#params-note", Static)
        if ep is None:
            note.update(Text("A path typed by hand: no documented parameters. Pick an endpoint in the catalog "
                             "to get its fields.", style="dim"))
            return
        known = self.known_values()
        template = ep.path if "{" in (typed or ep.path) else ""
        note.update(rich_plain(f"{ep.method} {ep.path}: {ep.summary or ''}", "dim"))
        rows: list[Widget] = []
        if template:
            for n, p in enumerate(ep.path_params):
                field = TextField(value=known.get(p.name, ""), placeholder=_hint(p, "required"), id=f"pp-{n}",
                                  compact=True, classes="param-input")
                self._path_fields[p.name] = field
                rows.append(_row(rich_plain("{" + p.name + "}", "bold"), field, p))
        if rows:
            await path_box.mount_all(rows)
        rows = []
        for n, p in enumerate(ep.query_params):
            widget: Input | Select
            if p.enum or p.type == "boolean":
                options = [(str(v), str(v)) for v in p.enum] if p.enum else list(BOOLEANS)
                widget = Select(options, prompt="(not sent)", allow_blank=True, id=f"qp-{n}", compact=True,
                                classes="param-input")
            else:
                widget = TextField(value=known.get(p.name, "") if p.required else "", placeholder=_hint(p),
                                   id=f"qp-{n}", compact=True, classes="param-input")
            self._query_fields[p.name] = widget
            rows.append(_row(rich_plain(p.name + (" *" if p.required else ""), "bold" if p.required else ""),
                             widget, p))
        if rows:
            await query_box.mount_all(rows)

    def _example_body(self) -> None:
        """The body editor holds the example built from the endpoint's request schema."""
        from bonjoro_tui.api.request_builder import example_body, optional_properties

        ep = self.endpoint
        body = self.query_one("#body", TextArea)
        check = self.query_one("#body-check", Static)
        self._anyway = None
        if ep is None or not ep.has_body:
            body.text = ""
            body.border_subtitle = None
            check.update(Text("This operation documents no body." if ep is not None else "", style="dim"))
            return
        schema = ep.request_schema
        example = example_body(schema, self.known_values()) if schema else ep.body_example
        body.text = json.dumps(example, indent=2) if example is not None else ""
        # One line under the editor: what the example holds; the check's results replace it.
        optional = optional_properties(schema) if schema else []
        body.border_subtitle = rich_plain("optional: " + ", ".join(optional)) if optional else None
        note = Text()
        if ep.body_media_type and ep.body_media_type != "application/json":
            note.append(safe_text(f"Documented as {ep.body_media_type}; sent here as JSON. "), style="yellow")
        note.append("Every required field is in the example." if schema else "No schema documented.", style="dim")
        check.update(note)
        self._noted_body = body.text.strip()

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        """An edit of the body makes the note under it (the example's, the check's) stale: cleared."""
        if event.text_area.id == "body" and self._noted_body is not None \
                and event.text_area.text.strip() != self._noted_body:
            self._noted_body = None
            self.query_one("#body-check", Static).update("")

    def _query_values(self) -> dict[str, str]:
        params: dict[str, str] = {}
        for name, widget in self._query_fields.items():
            value = widget.value
            if isinstance(widget, Select):
                if not widget.is_blank():
                    params[name] = str(value)
            elif str(value).strip():
                params[name] = str(value).strip()
        free = parse_qsl(self.query_one("#query", Input).value.strip(), keep_blank_values=True)
        params |= {name: value for name, value in free}
        return params

    def _set_query(self, params: dict[str, str]) -> None:
        """Fill the documented fields from ``params``; the rest goes to the free query line."""
        rest: dict[str, str] = {}
        for name, value in params.items():
            widget = self._query_fields.get(name)
            if isinstance(widget, Input):
                widget.value = value
            elif isinstance(widget, Select) and _select(widget, value):
                pass
            else:
                rest[name] = value
        self.query_one("#query", Input).value = urlencode(rest)

    # ---- sending ------------------------------------------------------------------------------

    async def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "catalog-filter":  # enter: the match down/up chose, else the first
            event.stop()
            leaves = self._catalog_leaves()
            chosen = self._catalog_chosen if self._catalog_chosen in leaves else (leaves[0] if leaves else None)
            if chosen is not None and chosen.data is not None:
                await self.open_endpoint(chosen.data)
            return
        if event.input.id in ("path", "query") or (event.input.id or "").startswith(("pp-", "qp-")):
            event.stop()
            self.action_send()
        elif event.input.id == "request-name":
            event.stop()
            self.action_save_request()
        elif event.input.id == "history-search":
            event.stop()
            self.query_one("#history", OptionList).focus()

    # Each button runs the same action as its key.
    @on(Button.Pressed, "#send")
    def _send_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_send()

    @on(Button.Pressed, "#copy-curl")
    def _copy_curl_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_copy_curl()

    @on(Button.Pressed, "#example-body")
    def _example_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_example_body()

    @on(Button.Pressed, "#check-body")
    def _check_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_check_body()

    @on(Button.Pressed, "#edit-body")
    def _edit_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_edit_body()

    @on(Button.Pressed, "#large-body")
    def _large_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_toggle_large()

    @on(Button.Pressed, "#rerun")
    def _rerun_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_rerun()

    @on(Button.Pressed, "#save-request")
    def _save_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_save_request()

    @on(Checkbox.Changed, "#saved-only")
    def _saved_only(self, event: Checkbox.Changed) -> None:
        self._fill_history()

    def build_exchange(self) -> Exchange | None:
        """The request the fields describe; None (with the reason shown) when it cannot be sent."""
        from bonjoro_tui.api.request_builder import HeaderError, MissingPathValue, fill_path, parse_headers

        method = str(self.query_one("#http-method", Select).value)
        path = self.query_one("#path", Input).value.strip() or "/"
        if "{" in path:
            values = {name: field.value for name, field in self._path_fields.items()}
            try:
                path = fill_path(path, values)
            except MissingPathValue as exc:
                self.response.show_error(sent=False, what=str(exc), todo=exc.hint)
                self.query_one("#request-tabs", TabbedContent).active = "tab-params"
                missing = self._path_fields.get(exc.names[0])
                if missing is not None:
                    missing.focus()
                return None
        params = self._query_values()
        body_text = self.query_one("#body", TextArea).text.strip()
        body = None
        if body_text and method in ("POST", "PUT", "PATCH", "DELETE"):
            try:
                body = json.loads(body_text)
            except json.JSONDecodeError as exc:
                self.response.show_error(sent=False, what=f"The JSON body is not valid JSON: {exc}",
                                         todo="Fix the body and send again.")
                return None
        try:
            headers = parse_headers(self.query_one("#headers", TextArea).text)
        except HeaderError as exc:
            self.response.show_error(sent=False, what=str(exc), todo=exc.hint)
            self.query_one("#request-tabs", TabbedContent).active = "tab-headers"
            return None
        exchange = Exchange(method, path, params, body, at=self.app.now())
        exchange.request_headers = {"Accept": "application/json", **headers}
        exchange.typed_headers = dict(headers)
        exchange.endpoint = self.endpoint
        return exchange

    def on_response_view_page_requested(self, event: ResponseView.PageRequested) -> None:
        """Next/previous page of a list: a GET of the envelope's URL (the view checked its origin;
        the client checks it again before the token goes anywhere)."""
        event.stop()
        # The URL carries the whole query (Laravel keeps the other parameters in it): sent as it is,
        # not rebuilt from the fields, which follow the path typed below once it is processed.
        shown = self.current
        exchange = Exchange("GET", event.url, {}, None, at=self.app.now())
        exchange.request_headers = {"Accept": "application/json"}
        exchange.endpoint = shown.endpoint if shown is not None else None
        self.query_one("#http-method", Select).value = "GET"
        self.query_one("#path", Input).value = event.url
        self.query_one("#query", Input).value = ""
        self._opened = True
        self.send_checked(exchange, ("GET", event.url, ""))

    def action_send(self) -> None:
        # ctrl+j is a priority binding: it runs before the focused field has handled what the
        # terminal gave it just before (a Paste queued there). The fields are read once that
        # field's queue has reached this point, so a paste and an immediate send send the paste.
        focused = self.focused
        if isinstance(focused, (Input, TextArea)):
            focused.call_later(self._send_fields)
        else:
            self._send_fields()

    def _send_fields(self) -> None:
        if not self.is_attached or self.app.screen is not self:
            return
        exchange = self.build_exchange()
        if exchange is None:
            return
        self._opened = True
        body_text = self.query_one("#body", TextArea).text.strip()
        key = (exchange.method, exchange.path, body_text)
        anyway = self._anyway == key
        self._anyway = None
        self.send_checked(exchange, key, anyway=anyway)

    @work(exclusive=True, group="send", description="send a request")
    async def send_checked(self, exchange: Exchange, key: tuple[str, str, str], *, anyway: bool = False) -> None:
        """Check the body against the request schema (off the event loop), then send it; with
        differences, show them and wait for a second send of the same request."""
        ep = exchange.endpoint
        schema = getattr(ep, "request_schema", None)
        if exchange.body is not None and schema and not anyway:
            from bonjoro_tui.api.request_builder import validate_body

            differences = await asyncio.to_thread(validate_body, schema, exchange.body)
            self._show_check(differences)
            if differences:
                self._anyway = key
                # The list is under the body (its tab shown); the status line says what to do.
                self.query_one("#request-tabs", TabbedContent).active = "tab-body"
                text = Text()
                text.append(f" {len(differences)} difference{'s' if len(differences) > 1 else ''} ",
                            style="reverse bold yellow")
                text.append(" from the request schema (listed under the body): not sent.")
                text.append(safe_text(f"\nSend again ({self.app.key_for('explorer.send')} or Send) to send it anyway.",
                                      multiline=True), style="italic")
                self.response.show_summary(text)
                self.response.clear_previous()
                return
        await self.send(exchange)

    def _show_check(self, differences: list[Any]) -> None:
        check = self.query_one("#body-check", Static)
        self._noted_body = self.query_one("#body", TextArea).text.strip()
        if not differences:
            check.update(Text("✓ The body matches the request schema.", style="green"))
            return
        text = Text(f"{len(differences)} difference{'s' if len(differences) > 1 else ''} from the request schema:",
                    style="yellow")
        for d in differences[:SHOWN_DIFFERENCES]:
            text.append("\n  " + safe_text(str(d), limit=120))
        if len(differences) > SHOWN_DIFFERENCES:
            text.append(f"\n  … and {len(differences) - SHOWN_DIFFERENCES} more")
        check.update(text)

    async def send(self, exchange: Exchange) -> None:
        app = self.app
        self.response.show_summary(Text(f"Sending {exchange.method} {safe_text(exchange.path)} …"))
        started = app.now()
        retry = self.query_one("#retry", Checkbox).value
        try:
            client = await app.client_ready()  # built off the event loop if this is the first request
            response = await client.request(
                exchange.method, exchange.path, params=exchange.params or None, json=exchange.body,
                headers={k: v for k, v in exchange.request_headers.items() if k.lower() != "accept"} or None,
                retry=retry,
            )
        except Exception as exc:
            what, todo = explain(exc, target=app.settings.api_base or "the API")
            exchange.error = f"{what} {todo}"
            self._remember(exchange)
            self.response.show_error(what, todo)
            app.reload_profile()
            return
        exchange.elapsed = max(0.0, app.now() - started)
        exchange.status = response.status
        exchange.content = bytes(response.content)
        exchange.headers = {k.lower(): v for k, v in dict(response.headers).items()}
        exchange.retries = list(getattr(response, "retries", ()) or ())
        exchange.refreshed = bool(getattr(response, "refreshed", False))
        sent = getattr(response, "request_headers", None)
        if sent is not None:
            exchange.request_headers = _masked_headers(dict(sent))
        self._remember(exchange)
        await self.response.show(exchange)
        app.reload_profile()  # a request may have refreshed the token
        self.call_after_refresh(set_aside, "explorer")  # once: the explorer is built and has answered
        if exchange.method == "GET" and 200 <= response.status < 300 and len(exchange.content) <= HARVEST_LIMIT:
            await self._harvest(exchange)

    async def _harvest(self, exchange: Exchange) -> None:
        from bonjoro_tui.api.request_builder import harvest_ids

        view = self.response
        if view.exchange is exchange and view.parsed:
            document = view.document  # parsed once, by the response view
        else:
            try:
                document = await asyncio.to_thread(json.loads, exchange.content)
            except (ValueError, RecursionError):
                return
        found = await asyncio.to_thread(harvest_ids, exchange.path, document)
        self.harvested |= found

    # ---- history ---------------------------------------------------------------------------------

    def _secrets(self) -> list[str | None]:
        profile = self.app.profile
        found: list[str | None] = [self.app.settings.client_secret]
        if profile is not None:
            found += [profile.tokens.access_token, profile.tokens.refresh_token]
        return found

    @work(group="history-load", description="read the history")
    async def load_history(self) -> None:
        from bonjoro_tui.account.history import History

        workspace = History(self.app.settings.data_dir, secrets=self._secrets, now=self.app.now)
        await asyncio.to_thread(workspace.load)
        loaded_now = [e for e in (self.workspace.entries if self.workspace else [])]
        workspace.entries.extend(loaded_now)  # requests sent while the file was read
        self.workspace = workspace
        if workspace.problem:
            self.notify(notice(workspace.problem[:1].upper() + workspace.problem[1:] + "."), title="History",
                        severity="warning", timeout=15, markup=False)
        self._fill_history()
        if loaded_now:
            self.save_history()

    def _remember(self, exchange: Exchange) -> None:
        from bonjoro_tui.account.history import Entry, History

        self.history.append(exchange)
        del self.history[:-50]
        if self.workspace is None:  # still loading: kept in memory, merged when the file is read
            self.workspace = History(self.app.settings.data_dir, secrets=self._secrets, now=self.app.now)
            self.workspace.writable = False
        entry = self.workspace.add(Entry(
            method=exchange.method, path=exchange.path, params=dict(exchange.params), body=exchange.body,
            at=exchange.at, status=exchange.status, elapsed=exchange.elapsed, content=exchange.content,
            headers=dict(exchange.headers), error=exchange.error, request_headers=dict(exchange.request_headers),
            retries=list(exchange.retries),
        ))
        # This run's exchange of each entry (full body), for the last 50 only, as self.history.
        self._live[id(entry)] = (entry, exchange)
        kept = {id(e) for e in self.history}
        self._live = {k: pair for k, pair in self._live.items() if id(pair[1]) in kept}
        self._fill_history()
        self.save_history()

    @work(group="history-save", description="write the history")
    async def save_history(self) -> None:
        """Write the history (one write at a time; a change meanwhile is written after it)."""
        if self.workspace is None or not self.workspace.writable:
            return
        if self._saving:
            self._save_again = True
            return
        self._saving = True
        try:
            while True:
                self._save_again = False
                workspace, snapshot = self.workspace, list(self.workspace.entries)
                await asyncio.to_thread(lambda: workspace.write(workspace.dumps(snapshot)))
                if not self._save_again:
                    break
        except Exception as exc:  # disk full, an unsafe path: the history of this run stays in memory
            what, todo = self.app.explain(exc)
            self.notify(f"The history is not saved: {notice(what)}\n{notice(todo)}", title="History",
                        severity="warning", markup=False)
            self.workspace.writable = False
        finally:
            self._saving = False

    def _fill_history(self) -> None:
        if self.workspace is None:
            return
        needle = self.query_one("#history-search", Input).value
        saved_only = self.query_one("#saved-only", Checkbox).value
        self._listed = self.workspace.search(needle, saved_only=saved_only)
        options = self.query_one("#history", OptionList)
        highlighted = options.highlighted
        options.clear_options()
        options.add_options([plain(history_label(e)) for e in self._listed])  # a str prompt is markup
        if self._listed:
            options.highlighted = min(highlighted or 0, len(self._listed) - 1)

    def _highlighted_entry(self) -> Entry | None:
        options = self.query_one("#history", OptionList)
        index = options.highlighted
        if index is None or not 0 <= index < len(self._listed):
            return None
        return self._listed[index]

    async def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if event.option_list.id != "history" or not 0 <= event.option_index < len(self._listed):
            return
        entry = self._listed[event.option_index]
        await self._load_entry(entry)
        self.query_one("#response-tabs", TabbedContent).active = "tab-tree"  # show may pick Raw
        # In a worker, not in this handler: show() waits for the screen to draw between its
        # steps, and the screen cannot draw while its own handler waits.
        self.run_worker(self.response.show(self._exchange_of(entry)), group="show-entry", exclusive=True,
                        description="show a history entry")

    def _exchange_of(self, entry: Entry) -> Exchange:
        live = self._live.get(id(entry))
        if live is not None and live[0] is entry:
            return live[1]
        from bonjoro_tui.api import catalog

        return Exchange(method=entry.method, path=entry.path, params=dict(entry.params), body=entry.body,
                        at=entry.at, status=entry.status, elapsed=entry.elapsed, content=entry.content,
                        headers=dict(entry.headers), error=entry.error, request_headers=dict(entry.request_headers),
                        retries=list(entry.retries), endpoint=catalog.match(entry.method, entry.path))

    async def _load_entry(self, entry: Entry) -> None:
        """Put a history entry's request into the fields (method, path, query, body, headers)."""
        from bonjoro_tui.api import catalog

        self.query_one("#http-method", Select).value = entry.method
        path = self.query_one("#path", Input)
        self.endpoint = catalog.match(entry.method, entry.path)
        with path.prevent(Input.Changed):
            path.value = entry.path
        await self._build_params(self.endpoint, typed=entry.path)
        self._set_query(dict(entry.params))
        self.query_one("#body", TextArea).text = json.dumps(entry.body, indent=2) if entry.body is not None else ""
        kept = _user_headers(entry.request_headers)
        self.query_one("#headers", TextArea).text = "".join(f"{k}: {v}\n" for k, v in kept.items())

    def action_rerun(self) -> None:
        """Send the highlighted history entry again (the last request when the list is empty)."""
        entry = self._highlighted_entry()
        if entry is None:
            if not self.history:
                self.notify("Nothing to re-run yet: send a request first.", title="Re-run", markup=False)
                return
            self.action_send()
            return
        self.rerun(entry)

    @work(group="rerun", description="re-run a history entry")
    async def rerun(self, entry: Entry) -> None:
        from bonjoro_tui.account.history import MASKED

        await self._load_entry(entry)
        typed = {k: v for k, v in entry.request_headers.items() if k.lower() != "authorization"}  # the client's
        if MASKED in json.dumps([entry.params, entry.body, entry.path, typed], ensure_ascii=False):
            self.response.show_error(sent=False, what="This request held a credential, which the history never keeps.",
                                     todo="Fill in the masked values (…(masked)), then send.")
            return
        self.action_send()

    def action_save_request(self) -> None:
        """Name the highlighted history entry (a saved request); an empty name un-saves it."""
        entry = self._highlighted_entry()
        if entry is None or self.workspace is None:
            self.notify("Highlight a request in the History tab first.", title="Save request", markup=False)
            self.action_show_history()
            return
        field = self.query_one("#request-name", Input)
        name = field.value.strip()
        if not name:
            if entry.name:
                self.workspace.rename(entry, None)
                self.notify("No longer a saved request.", title="Save request", markup=False)
            else:
                self.query_one("#request-tabs", TabbedContent).active = "tab-history"
                field.focus()
                self.notify("Type a name, then press Save (or enter).", title="Save request", markup=False)
                return
        else:
            self.workspace.rename(entry, name)
            self.notify(f"Saved as {notice(name)}.", title="Save request", markup=False)
        field.value = ""
        self._fill_history()
        self.save_history()

    def action_show_history(self) -> None:
        self.query_one("#request-tabs", TabbedContent).active = "tab-history"
        self.query_one("#history-search", Input).focus()

    def run_saved(self, name: str) -> None:
        """Load and send the saved request ``name`` (the palette's entries)."""
        if self.workspace is None:
            return
        for entry in self.workspace.saved:
            if entry.name == name:
                self.rerun(entry)
                return

    # ---- body ------------------------------------------------------------------------------------

    def action_example_body(self) -> None:
        self._example_body()
        self.query_one("#request-tabs", TabbedContent).active = "tab-body"

    def action_check_body(self) -> None:
        self.check_body()

    @work(group="check", description="check the body")
    async def check_body(self) -> None:
        from bonjoro_tui.api.request_builder import validate_body

        check = self.query_one("#body-check", Static)
        self.query_one("#request-tabs", TabbedContent).active = "tab-body"
        schema = getattr(self.endpoint, "request_schema", None)
        if not schema:
            check.update(Text("No request schema to check against (pick an endpoint with a body).", style="dim"))
            return
        try:
            body = json.loads(self.query_one("#body", TextArea).text or "null")
        except json.JSONDecodeError as exc:
            check.update(rich_plain(f"Not valid JSON: {exc}", "red"))
            return
        self._show_check(await asyncio.to_thread(validate_body, schema, body))

    def action_toggle_maximize(self) -> None:
        """The response at full height (the catalog and the request tabs hidden; the request line
        stays, so a send still works), or back: at 80×24 the tree had three lines."""
        self.remove_class("large-request")
        self.toggle_class("maximized")
        if self.has_class("maximized"):
            focused = self.focused
            if focused is None or self.query_one(ResponseView) not in focused.ancestors_with_self:
                self.query_one("#response-tree").focus()

    def action_toggle_large(self) -> None:
        """The request tabs take most of the pane (a larger body editor), or their usual share."""
        self.remove_class("maximized")
        self.toggle_class("large-request")
        self.query_one("#request-tabs", TabbedContent).active = "tab-body"
        self.query_one("#body", TextArea).focus()

    def editor_context(self) -> Any:
        """The terminal handed to the editor (tests replace this)."""
        return self.app.suspend()

    def action_edit_body(self) -> None:
        """Edit the body in ``$VISUAL``/``$EDITOR`` (the app is suspended meanwhile)."""
        import subprocess
        import tempfile

        editor = os.environ.get("VISUAL") or os.environ.get("EDITOR")
        if not editor:
            self.notify("Set $EDITOR (or $VISUAL) to edit the body in your editor, e.g. export EDITOR=nano.",
                        title="$EDITOR", severity="warning", markup=False)
            return
        area = self.query_one("#body", TextArea)
        fd, name = tempfile.mkstemp(prefix="bonjoro-body-", suffix=".json")  # 0600, ours
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(area.text)
            try:
                with self.editor_context():
                    code = subprocess.call([*shlex.split(editor), name])
            except Exception as exc:  # no such editor, no terminal to suspend
                self.notify(f"The editor could not run: {notice(type(exc).__name__)}: {notice(exc)}. The body is "
                            "unchanged.", title="$EDITOR", severity="error", markup=False)
                return
            if code != 0:
                self.notify(f"The editor exited with status {notice(code)}: the body is unchanged.", title="$EDITOR",
                            severity="warning", markup=False)
                return
            with open(name, encoding="utf-8", errors="replace") as f:
                area.text = f.read()
            self.query_one("#request-tabs", TabbedContent).active = "tab-body"
            self.check_body()
        finally:
            try:
                os.unlink(name)
            except OSError:
                pass

    # ---- copying ---------------------------------------------------------------------------------

    def action_copy_body(self) -> None:
        self.response.copy_body()

    def action_copy_curl(self) -> None:
        exchange = self.current
        if exchange is None:
            exchange = self.build_exchange()
            if exchange is None:
                return
        with_token = self.query_one("#curl-token", Checkbox).value
        try:
            command = self.curl_command(exchange, with_token=with_token)
        except Exception as exc:  # the token may not go there (another origin, a .env's API base)
            what, todo = self.app.explain(exc)
            self.notify(f"Not copied: {safe_text(what)}\n{safe_text(todo)}", title="Copy as curl", severity="error",
                        markup=False)
            return
        self.app.copy_to_clipboard(command)
        note = ("with the real token: keep it private" if with_token
                else "the token comes from $(bonjoro-tui token) when it runs")
        self.notify(f"Copied as curl ({note}).", title="Copied")

    def curl_command(self, exchange: Exchange, *, with_token: bool = False) -> str:
        settings = self.app.settings
        path = exchange.path
        url = path if path.startswith(("http://", "https://")) else (settings.api_base or "").rstrip("/") + "/" + path.lstrip("/")
        if exchange.params:
            url += "?" + urlencode(exchange.params)
        head = " ".join(shlex.quote(p) for p in ["curl", "-X", exchange.method, url])
        if with_token:
            # The same checks as a request: only the API origin this profile signed in with.
            auth = shlex.quote(f"Authorization: Bearer {self.app.client.token_for(path)}")
        else:
            # Runs as copied: the shell asks bonjoro-tui for this profile's token (refreshed if due).
            auth = f'"Authorization: Bearer $(bonjoro-tui{self._profile_flag()} token)"'
        parts = ["-H", "Accept: application/json"]
        # Only the headers the user typed: httpx's own (host, accept-encoding, connection,
        # user-agent …) are curl's business.
        typed = exchange.typed_headers if exchange.typed_headers is not None else _user_headers(exchange.request_headers)
        for name, value in typed.items():
            if name.lower() not in ("accept", "authorization", "content-type"):
                parts += ["-H", f"{name}: {value}"]
        if exchange.body is not None:
            parts += ["-H", "Content-Type: application/json", "--data", json.dumps(exchange.body)]
        return f"{head} -H {auth} " + " ".join(shlex.quote(p) for p in parts)

    def _profile_flag(self) -> str:
        """`` --profile NAME`` unless `bonjoro-tui token` alone would pick this app's profile."""
        from bonjoro_tui.account.profiles import DEFAULT_PROFILE, default_profile

        name = str(getattr(self.app.settings, "profile", "") or DEFAULT_PROFILE)
        try:
            implied = default_profile(self.app.session)
        except Exception:  # noqa: BLE001 - config.toml unreadable: name the profile, always right
            implied = ""
        if name == DEFAULT_PROFILE and implied == DEFAULT_PROFILE:
            return ""
        return f" --profile {shlex.quote(name)}"

    # ---- focus -----------------------------------------------------------------------------------

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

    def toggle_retry(self) -> None:
        box = self.query_one("#retry", Checkbox)
        box.value = not box.value

    def explorer_actions(self) -> list[tuple[str, str, str]]:
        """(name, help, method) of every explorer action, for the command palette."""
        from bonjoro_tui.tui.palette import EXPLORER_ACTIONS

        return list(EXPLORER_ACTIONS)


class CatalogFilter(TextField):
    """The catalog's filter: down/up choose among the matches while typing goes on."""

    BINDINGS = [
        Binding("down", "screen.catalog_step(1)", "Next match", show=False),
        Binding("up", "screen.catalog_step(-1)", "Previous match", show=False),
    ]


class CatalogTree(SteadyScrollbars, Tree[Any]):
    """The catalog: a path too long for the pane is cut in its middle, not at its end, so
    ``PUT /greets/{greet_id}`` and ``PUT /greets/{greet_id}/video`` stay apart at 80 columns."""

    def render_label(self, node: Any, base_style: Any, style: Any) -> Text:
        label = super().render_label(node, base_style, style)
        ep = node.data
        path = getattr(ep, "path", None)
        width = self.size.width
        if not isinstance(path, str) or not width or not label.plain.endswith(path):
            return label
        depth, parent = 0, node.parent
        while parent is not None and parent is not self.root:
            depth, parent = depth + 1, parent.parent
        room = width - self.guide_depth * (depth + (1 if self.show_root else 0)) - 1
        if label.cell_len <= room:
            return label
        cut = len(label.plain) - len(path)
        keep = max(8, room - cut)
        if keep >= len(path):
            return label
        start = max(1, (keep - 1) // 4)  # the tag above names the resource: the end tells rows apart
        end = keep - 1 - start
        return label[:cut + start] + Text("…", style="dim") + label[len(label.plain) - end:]


def history_label(entry: Entry) -> str:
    """``HH:MM:SS  GET /greets?status=open → 429 → retried after 1 s → 200`` (a saved one starts
    with ★ and its name)."""
    query = ("&" if "?" in entry.path else "?") + urlencode(entry.params) if entry.params else ""
    outcome = str(entry.status) if entry.status is not None else "error"
    steps = [f"{status or 'no answer'} → retried after {_seconds(wait)}" for status, wait in entry.retries]
    label = f"{clock_time(entry.at)[11:19]}  {entry.method} {entry.path}{query} → " + " → ".join([*steps, outcome])
    return f"★ {entry.name} — {label}" if entry.name else label


def _seconds(wait: float) -> str:
    return f"{wait:.0f} s" if wait >= 1 or wait == 0 else f"{wait:.1f} s"


def _user_headers(headers: dict[str, str]) -> dict[str, str]:
    """The headers as sent without the client's own and httpx's: the ones the user typed."""
    from bonjoro_tui.api.request_builder import RESERVED_HEADERS

    ours = RESERVED_HEADERS | {"accept", "accept-encoding", "user-agent", "content-type"}
    return {k: v for k, v in headers.items() if k.lower() not in ours}


def _masked_headers(headers: dict[str, str]) -> dict[str, str]:
    """The request's headers as sent, Authorization (and any other credential header) masked."""
    out: dict[str, str] = {}
    for name, value in headers.items():
        if name.lower() in ("authorization", "proxy-authorization", "cookie", "x-api-key"):
            scheme, _, secret = value.partition(" ")
            value = f"{scheme} {mask(secret)}" if secret else mask(value)
        out[name] = value
    return out


def _hint(p: Param, required: str = "") -> str:
    """A field's placeholder: its example, default, type and format."""
    bits = [b for b in (required,) if b]
    if p.example is not None:
        bits.append(f"e.g. {_short(p.example)}")
    elif p.default is not None:
        bits.append(f"default {_short(p.default)}")
    kind = p.format or p.type
    if kind:
        bits.append(str(kind))
    return ", ".join(bits)[:60]


def _short(value: object, limit: int = 14) -> str:
    text = json.dumps(value) if isinstance(value, bool) else str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _row(label: Text, field: Widget, p: Param) -> Widget:
    row = Horizontal(Label(label, classes="param-name"), field, classes="param-row")
    if p.description:
        return Vertical(row, Static(plain(p.description, limit=200), classes="param-help"), classes="param")
    return Vertical(row, classes="param")


def _select(widget: Select, value: str) -> bool:
    """Choose ``value`` in an enum's Select; False when it is not one of its options."""
    from textual.widgets.select import InvalidSelectValueError

    try:
        widget.value = value
    except InvalidSelectValueError:
        return False
    return True


def _method_style(method: str) -> str:
    return {"GET": "green", "POST": "yellow", "PUT": "blue", "PATCH": "cyan", "DELETE": "red"}.get(method, "")


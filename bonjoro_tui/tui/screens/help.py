"""Help: the keys (as remapped by the user's ``[keymap]``) and what each screen does."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

ABOUT = """\
[b]Status[/b] (home) shows where you are connected, who is signed in and how long the access \
token lives. The token is refreshed automatically shortly before it expires.
[b]Sign in[/b] walks through the OAuth 2.0 authorization code flow with PKCE: a loopback server \
on 127.0.0.1 receives the redirect. With no browser (SSH), copy the URL (c), open it elsewhere and \
paste the final redirect URL; against the sandbox, approve it in the terminal (a).
[b]Explorer[/b] calls Bonjoro API v2 with your token: pick an endpoint, send with ctrl+j.
Tokens are only ever shown masked. Keys can be remapped in config.toml under \\[keymap], \
e.g. refresh = "ctrl+r".
"""

SCREEN_KEYS = {
    "Sign-in wizard": [
        ("a", "approve in the sandbox (plays the browser)"),
        ("c / o", "copy the authorization URL / open it again"),
        ("escape", "cancel (closes the callback server)"),
    ],
    "API explorer": [
        ("ctrl+j", "send the request"),
        ("ctrl+y", "copy the response body"),
        ("ctrl+t", "copy as curl (token masked unless 'with token')"),
        ("ctrl+f", "filter the endpoints"),
    ],
}


class HelpScreen(ModalScreen):
    BINDINGS = [
        Binding("escape,q,question_mark,f1", "dismiss", "Close", id="help.close"),
    ]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-dialog"):
            yield Static(self._keys(), id="help-keys")
            yield Static(ABOUT, id="help-about")

    def on_mount(self) -> None:
        self.query_one("#help-dialog").border_title = "Help — escape to close"

    def _keys(self) -> Table:
        app = self.app
        keymap = getattr(app.settings, "keymap", {}) or {}
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold cyan", no_wrap=True)
        table.add_column()
        table.add_row(Text("Everywhere", style="bold underline"), "")
        for binding in app.BINDINGS:
            if not isinstance(binding, Binding):
                continue
            keys = keymap.get(binding.id or "", binding.key)
            shown = ", ".join(app.get_key_display(Binding(k.strip(), "")) for k in keys.split(","))
            table.add_row(shown, Text.assemble(binding.description, (f"  id: {binding.id}", "dim")))
        for where, keys in SCREEN_KEYS.items():
            table.add_row(Text(where, style="bold underline"), "")
            for key, what in keys:
                table.add_row(key, what)
        return table

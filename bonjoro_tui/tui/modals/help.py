"""Help: the keys (as remapped by the user's ``[keymap]``) and what each screen does."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from bonjoro_tui.safetext import safe_text
from bonjoro_tui.tui.text import rich_plain, template

if TYPE_CHECKING:
    from bonjoro_tui.tui.app import BonjoroApp

ABOUT = """\
[b]Status[/b] (home) shows where you are connected, who is signed in and how long the access \
token lives. The token is refreshed automatically shortly before it expires.
[b]Sign in[/b] walks through the OAuth 2.0 authorization code flow with PKCE: a loopback server \
on 127.0.0.1 receives the redirect. With no browser (SSH), copy the URL ($copy), open it elsewhere and \
paste the final redirect URL anywhere on the wizard; against the sandbox, approve it in the terminal ($approve).
[b]Explorer[/b] calls Bonjoro API v2 with your token: pick an endpoint, send with $send; escape leaves \
a field so the keys work again. ● marks the endpoints the sandbox serves.
[b]Token[/b] decodes the access token (a JWT's header and claims, not verified) and checks its exp \
against the stored expiry. [b]Profiles[/b] lists the stored profiles: enter switches (and remembers it), \
del signs one out.
Typed text is never a shortcut: letters typed in a field, right after leaving one, or as a word, do \
nothing until you pause, click or press a non-typing key (enter, escape, an arrow).
Tokens are only ever shown masked. Keys can be remapped in config.toml under \\[keymap], \
e.g. refresh = "ctrl+r"; the theme you pick is kept there too.
"""

#: Per screen: (binding ids, what they do); the keys shown are the active ones (see App.key_for).
SCREEN_KEYS: dict[str, list[tuple[tuple[str, ...], str]]] = {
    "Sign-in wizard": [
        (("login.approve",), "approve in the sandbox (plays the browser)"),
        (("login.copy", "login.open"), "copy the authorization URL / open it again"),
        (("login.show_url",), "show the authorization URL alone (for selecting it with the mouse)"),
        (("login.cancel",), "cancel (closes the callback server)"),
    ],
    "Profiles": [
        (("profiles.remove",), "sign the highlighted profile out (asks first)"),
        (("profiles.close",), "close"),
    ],
    "API explorer": [
        (("explorer.send",), "send the request"),
        (("explorer.copy_body",), "copy the response body (up to 100 KB: the terminal's clipboard, OSC 52)"),
        (("explorer.save_body",), "save the response body to a file (0600; any size)"),
        (("explorer.copy_value",), "copy the value or subtree under the tree's cursor"),
        (("explorer.prev_page", "explorer.next_page"), "previous / next page of a list"),
        (("explorer.compact",), "the Raw tab: pretty-printed or as sent"),
        (("explorer.copy_curl",), "copy as curl (token masked unless 'with token')"),
        (("explorer.filter",), "filter the endpoints"),
        (("explorer.history",), "history: search it, enter shows a response"),
        (("explorer.rerun",), "re-run the highlighted history entry"),
        (("explorer.save",), "save the highlighted entry under the name typed beside Save"),
        (("explorer.editor",), "edit the body in $EDITOR"),
        (("explorer.large",), "a larger body editor (again: back)"),
        (("explorer.maximize",), "the response at full height, no catalog or request tabs (again: back)"),
        (("explorer.leave",), "leave a field (so the keys above work again)"),
    ],
}


class HelpScreen(ModalScreen):
    if TYPE_CHECKING:
        app: BonjoroApp  # the screens' idiom: self.app is typed as the app that pushes them

    CSS_PATH = "dialogs.tcss"
    BINDINGS = [
        Binding("escape,q,question_mark,f1", "dismiss", "Close", id="help.close"),
    ]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-dialog"):
            yield Static(self._keys(), id="help-keys")
            key = self.app.key_for
            # The keys (from config.toml) are template variables: literal text, never markup.
            yield Static(template(ABOUT, copy=key("login.copy"), approve=key("login.approve"),
                                  send=key("explorer.send")), id="help-about")

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
            # Keys come from config.toml: Text, never a str cell (a str cell is parsed as markup).
            table.add_row(rich_plain(shown), Text.assemble(safe_text(binding.description),
                                                           (f"  id: {safe_text(binding.id)}", "dim")))
        for where, entries in SCREEN_KEYS.items():
            table.add_row(rich_plain(where, "bold underline"), "")
            for ids, what in entries:
                table.add_row(rich_plain(" / ".join(app.key_for(i) for i in ids)), rich_plain(what))
        return table

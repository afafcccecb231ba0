"""The token inspector: the access token's JWT header and claims, decoded and *not verified*.

Decoding is headless (:mod:`bonjoro_tui.account.token_info`); this modal only lays it out. The
token is shown masked; claims are server text (rendered with ``rich_plain``, never markup), and a
secret-looking claim arrives here already masked.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from bonjoro_tui.account.format import clock_time, duration
from bonjoro_tui.account.token_info import TOLERANCE, TokenInfo, inspect_token
from bonjoro_tui.tui.text import rich_plain

if TYPE_CHECKING:
    from bonjoro_tui.store import StoredProfile
    from bonjoro_tui.tui.app import BonjoroApp

NAMES = {"iat": "issued at", "nbf": "not before", "exp": "expires"}


def _value(value: Any) -> Text:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return rich_plain(text, multiline=False, limit=400)


def _table(data: dict[str, Any]) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold cyan", no_wrap=True)
    table.add_column(ratio=1, overflow="fold")
    for key, value in data.items():
        table.add_row(rich_plain(key, limit=80), _value(value))
    return table


def describe_token(info: TokenInfo, now: float) -> list[Any]:
    """The inspector's content, in order (Rich renderables), for a token's :class:`TokenInfo`."""
    out: list[Any] = []
    head = Text()
    head.append("Access token  ", style="bold")
    head.append(rich_plain(info.masked))
    out.append(head)
    if not info.is_jwt:
        out.append(rich_plain(f"Not decoded: {info.opaque_reason}.", "italic"))
        if info.stored_expires_at is not None:
            out.append(rich_plain(f"Stored expiry (from the token response): {clock_time(info.stored_expires_at)}"))
        return out
    out.append(Text("Decoded, NOT VERIFIED: the signature is not checked here; only the server's word counts.",
                    style="bold yellow"))
    out.append(Text("Header", style="bold underline"))
    out.append(_table(info.header))
    out.append(Text("Claims", style="bold underline"))
    out.append(_table(info.claims))
    if info.masked_claims:
        out.append(rich_plain("Masked (they look like secrets): " + ", ".join(info.masked_claims), "dim"))
    times = Table.grid(padding=(0, 2))
    times.add_column(style="bold", no_wrap=True)
    times.add_column(ratio=1)
    for name, at in info.times:
        when = at - now
        rel = f"in {duration(when)}" if when > 0 else f"{duration(-when)} ago"
        times.add_row(rich_plain(f"{name} ({NAMES[name]})"), rich_plain(f"{clock_time(at)}  ({rel})"))
    stored = info.stored_expires_at
    times.add_row(Text("stored expiry", style="bold"),
                  rich_plain(clock_time(stored) if stored is not None else "none (the token response had no expires_in)"))
    out.append(Text("Times", style="bold underline"))
    out.append(times)
    if info.exp_difference is None:
        if info.exp is None:
            out.append(Text("The token has no exp claim: the stored expiry is all there is.", style="italic"))
    elif info.exp_disagrees:
        d = info.exp_difference
        out.append(rich_plain(
            f"⚠ exp and the stored expiry disagree by {duration(abs(d))} (exp is {'later' if d > 0 else 'earlier'}): "
            "the server's expires_in and the token's own exp do not match; the countdown follows expires_in.",
            "bold red"))
    else:
        out.append(rich_plain(f"✓ exp agrees with the stored expiry (within {TOLERANCE:g} s).", "green"))
    return out


class TokenScreen(ModalScreen[None]):
    """Opened from the status screen (key ``t``, button "Token")."""

    if TYPE_CHECKING:
        app: "BonjoroApp"
    CSS_PATH = "dialogs.tcss"
    BINDINGS = [Binding("escape,q", "dismiss", "Close", id="token.close")]

    def __init__(self, profile: "StoredProfile") -> None:
        super().__init__()
        self.profile = profile

    def compose(self) -> ComposeResult:
        info = inspect_token(self.profile.tokens)
        with VerticalScroll(id="token-dialog"):
            for n, part in enumerate(describe_token(info, self.app.now())):
                yield Static(part, classes="token-part", id=f"token-part-{n}")  # safe-text: describe_token returns Text/Table built from rich_plain pieces
            with Horizontal(id="token-buttons"):
                yield Button("Close (esc)", id="token-close", compact=True)

    def on_mount(self) -> None:
        self.query_one("#token-dialog").border_title = "Token inspector"
        self.query_one("#token-close").focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(None)

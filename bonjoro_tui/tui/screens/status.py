"""The home screen: where we are connected, who is signed in, and how long the token lives.

Only the countdown re-renders each second; the rest changes when the app's ``profile`` or
``user`` changes.
"""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Container, Horizontal, Vertical, VerticalScroll
from textual.events import Resize
from textual.screen import Screen
from textual.widgets import Button, Footer, Header, Static

from bonjoro_tui.account.format import clock_time
from bonjoro_tui.account.identity import display_name
from bonjoro_tui.account.methods import SignInMethod, method_label
from bonjoro_tui.account.status import describe
from bonjoro_tui.safetext import safe_text
from bonjoro_tui.settings import SANDBOX_CONFIDENTIAL_CLIENT
from bonjoro_tui.tui.text import plain, rich_plain
from bonjoro_tui.tui.widgets.countdown import Countdown
from bonjoro_tui.tui.widgets.last_refresh import LastRefresh


def grid(rows: list[tuple[str, str | Text]]) -> Table:
    """Two columns, key and value. A ``str`` value may hold server text: it becomes a ``Text``
    through :func:`rich_plain` (a ``str`` cell would be parsed as Rich markup); a ``Text`` value
    is taken as built, so it must have been built from escaped pieces."""
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column(ratio=1, overflow="fold")
    for key, value in rows:
        table.add_row(rich_plain(key), rich_plain(value))
    return table


if TYPE_CHECKING:
    from textual.content import Content

    from bonjoro_tui.store import StoredProfile
    from bonjoro_tui.tui.app import BonjoroApp


class StatusScreen(Screen[None]):
    TITLE = "Status"
    if TYPE_CHECKING:
        app: "BonjoroApp"

    def compose(self) -> ComposeResult:
        # The layout class is right before the first style pass (a change later restyles every node).
        self.set_class(self.app.size.width >= self.WIDE, "-wide")
        if not self.app.profile_read:
            # The store is read before the first show, not after it: the panels are filled once,
            # and the buttons are built as they are shown (a button's variant or disabled state
            # changed later restyles it), signed in or not.
            self.app.reload_profile()
        profile = self.app.profile
        signed_in = profile is not None
        yield Header(show_clock=False)
        with VerticalScroll(id="status-body"):
            yield Static(id="target")
            with Container(id="panels"):
                yield Static(id="account", classes="panel")
                with Vertical(id="token-panel", classes="panel"):
                    yield Static(id="token")
                    yield Countdown(id="countdown")
                    yield LastRefresh(id="last-refresh")
            with Horizontal(id="status-actions"):
                # As show_profile leaves them (labels with their keys, variants, disabled), so the
                # first show changes none of them (a changed label lays the button out again). The
                # labels are Content already; plain() returns them as they are.
                states = self._button_states(profile)
                for button_id, label in self._button_labels(signed_in).items():
                    look = {"variant": "error" if button_id == "do-logout" else "default", **states[button_id]}
                    yield Button(plain(label), id=button_id, compact=True, **look)
            yield Static(id="endpoints", classes="panel")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.query_one("#account").border_title = "Account"
        self.query_one("#token-panel").border_title = "Access token"
        self.query_one("#endpoints").border_title = "Endpoints"
        # Shown at once (compose read the store); on_screen_resume's read, right after, finds the
        # same profile: no change.
        self.watch(self.app, "profile", self.show_profile)
        self.watch(self.app, "user", lambda _user: self.show_profile(self.app.profile), init=False)
        self.set_interval(self.app.tick_interval, self.tick, name="countdown")

    def on_screen_resume(self) -> None:
        """Back on the status screen: the store may have changed meanwhile (another sign-in,
        another process); read it again so the panels show what is stored now."""
        self.app.reload_profile()

    #: From this width on, the two panels sit side by side.
    WIDE = 110

    def on_resize(self, event: Resize) -> None:
        self.set_class(event.size.width >= self.WIDE, "-wide")

    def tick(self) -> None:
        profile = self.app.profile
        self.query_one(Countdown).show(profile.tokens if profile else None, self.app.now())
        ended = self.signed_out_by_refresh() if profile is None else None
        # Signed out by a refused refresh: its time and reason stand in for the profile's (now gone).
        shown = ended if ended is None else SimpleNamespace(last_refresh_at=ended.at, last_refresh_result=ended.detail)
        self.query_one(LastRefresh).show(profile if profile is not None else shown, self.app.now())

    #: The obtained_at of the last tokens shown: a refresh event older than them is not this session's end.
    _shown_since: float | None = None

    def signed_out_by_refresh(self) -> Any:
        """The core's refresh event that signed the current profile out (the refresh token was
        refused: "signed out: <the server's reason>"), when that is why no profile is stored now."""
        event = getattr(self.app, "last_refresh_event", None)
        if (event is None or event.ok or event.profile != self.app.settings.profile
                or not str(event.detail).startswith("signed out")):
            return None
        if self._shown_since is not None and event.at < self._shown_since:
            return None
        return event

    #: What the panels show now: (profile, user, settings, the refresh that signed out).
    _shown: tuple[Any, ...] | None = None

    def show_profile(self, profile: "StoredProfile | None") -> None:
        app = self.app
        settings = app.settings
        ended = None if profile is not None else self.signed_out_by_refresh()
        # The store is read again at each return to this screen and after each request: the same
        # profile as shown changes nothing on screen, and is not rendered and laid out again.
        shown = (replace(profile) if profile is not None else None, dict(app.user) if app.user else app.user,
                 settings, ended)
        if shown == self._shown:
            self.tick()
            return
        self._shown = shown
        badge = Text()
        badge.append(f" {safe_text(app.target_label)} ", style="bold reverse " + ("green" if settings.shows_sandbox else "red"))
        badge.append(f"  {safe_text(settings.base_url or '(no base URL)')}")
        if settings.api_base:
            badge.append(f"   API {safe_text(settings.api_base)}", style="dim")
        self.query_one("#target", Static).update(badge)

        signed_in = profile is not None
        if profile is not None:
            self._shown_since = profile.tokens.obtained_at
        status = describe(settings, profile, app.now())  # the same description as `bonjoro-tui status`
        key = app.key_for
        if signed_in:
            user: str | Text = display_name(app.user)
        elif ended is not None:
            # Why, when the app knows it: a server-side revoke shows as a refused refresh.
            user = Text(f"signed out at {clock_time(ended.at)} — the refresh token was refused: "
                        f"{safe_text(str(ended.detail).removeprefix('signed out: '))} — press "
                        f"{safe_text(key('login'))} to sign in again", style="italic")
        else:
            user = Text(f"not signed in — press {safe_text(key('login'))}", style="italic")
        rows: list[tuple[str, str | Text]] = [
            ("Profile", status.profile),
            ("User", user),
            ("Method", method_label(status.method)),
        ]
        if status.method != SignInMethod.API_KEY:  # an API key has no OAuth client
            rows += [
                ("Client id", status.client_id or settings.client_id or "—"),
                ("Client secret", status.client_secret_masked or self._no_secret(status)),
            ]
        if status.blocked:
            rows.append(("Blocked", rich_plain(status.blocked, "bold red")))
        if status.logout_blocked:
            rows.append(("Sign-out", rich_plain(f"would be refused: {status.logout_blocked}", "yellow")))
        self.query_one("#account", Static).update(grid(rows))

        if signed_in:
            token_rows: list[tuple[str, str | Text]] = [
                ("Type / scope", f"{status.token_type}  ·  {status.scope or '(none)'}"),
                ("Access token", status.access_token_masked or "—"),
                ("Refresh token", "held" if status.has_refresh_token else "none"),
                ("Issued", clock_time(status.obtained_at)),
                ("Expires", clock_time(status.expires_at) if status.expires_at else "never"),
            ]
        else:
            token_rows = [("", Text(f"No token. Sign in with {safe_text(key('login'))} (authorization code + PKCE by default).",
                                    style="italic"))]
        self.query_one("#token", Static).update(grid(token_rows))
        self.query_one("#endpoints", Static).update(self._endpoints())
        for button_id, text in self._button_labels(signed_in).items():
            button = self.query_one(f"#{button_id}", Button)
            if str(button.label) != str(text):
                button.label = plain(text)  # Content already: plain() says so to the markup check
                button.refresh(layout=True)  # Button.label does not ask for a layout: its width changes
        for button_id, state in self._button_states(profile).items():
            button = self.query_one(f"#{button_id}", Button)
            for name, value in state.items():
                setattr(button, name, value)
        self.tick()

    @staticmethod
    def _button_states(profile: "StoredProfile | None") -> dict[str, dict[str, Any]]:
        """What the profile changes on each button (built with it in compose, set in show_profile):
        Sign in is the primary action when signed out; Refresh needs tokens that refresh."""
        signed_in = profile is not None
        return {
            "do-login": {"variant": "default" if signed_in else "primary"},
            "do-refresh": {"disabled": profile is None or profile.method == SignInMethod.API_KEY},
            "do-explorer": {},
            "do-token": {"disabled": not signed_in},
            "do-profiles": {},
            "do-logout": {"disabled": not signed_in},
        }

    def _button_labels(self, signed_in: bool) -> dict[str, Content]:
        """Each button's label: what it does and its key (the user's [keymap] wins)."""
        key = self.app.key_for
        labels = {
            "do-login": ("Sign in again" if signed_in else "Sign in", "login"),
            "do-refresh": ("Refresh", "refresh"),
            "do-explorer": ("Explorer", "explorer"),
            "do-token": ("Token", "token"),
            "do-profiles": ("Profiles", "profiles"),
            "do-logout": ("Sign out", "logout"),
        }
        # A str label would be parsed as markup.
        return {button_id: plain(f"{label} ({safe_text(key(binding_id))})") for button_id, (label, binding_id) in labels.items()}

    @staticmethod
    def _no_secret(status: Any) -> str:
        """What the Client secret row says when no secret is known for the client."""
        if status.method == SignInMethod.CLIENT_CREDENTIALS:
            return "none configured (a new grant would be refused)"
        if status.client_id == SANDBOX_CONFIDENTIAL_CLIENT:  # not a public client: it needs its secret
            return "none configured (needs BONJORO_CLIENT_SECRET)"
        return "none (public client)"

    def _endpoints(self) -> Table:
        s = self.app.settings
        callback = s.redirect_uri or (
            f"http://127.0.0.1:{s.callback_port}/callback" if s.callback_port else "http://127.0.0.1:<any free port>/callback"
        )
        return grid([
            ("Authorize", s.authorize_url or "—"),
            ("Token", f"{s.token_url or '—'}  ({s.token_format} body)"),
            ("Revoke", s.revoke_url or "none known (tokens are only forgotten here)"),
            ("Redirect", callback),
            ("Token store", str(s.store_path)),
        ])

    # Each button does exactly what its key does: the same app action (awaited: ``run_action`` is a
    # coroutine, and an un-awaited one did nothing at all).
    @on(Button.Pressed, "#do-login")
    async def _login(self) -> None:
        await self.app.run_action("login")

    @on(Button.Pressed, "#do-refresh")
    async def _refresh(self) -> None:
        await self.app.run_action("refresh_token")

    @on(Button.Pressed, "#do-explorer")
    async def _explorer(self) -> None:
        await self.app.run_action("explorer")

    @on(Button.Pressed, "#do-token")
    async def _token(self) -> None:
        await self.app.run_action("token")

    @on(Button.Pressed, "#do-profiles")
    async def _profiles(self) -> None:
        await self.app.run_action("profiles")

    @on(Button.Pressed, "#do-logout")
    async def _logout(self) -> None:
        await self.app.run_action("logout")

"""The Bonjoro dashboard: wiring of screens, bindings and the core's objects.

The app receives a session (settings, store, client, optional sandbox) and a clock; it creates
none of its own, so tests inject them. Every network call runs in an exclusive worker; every
error becomes a notification or an inline message (see ``errors.explain``).

Notifications are never markup (``markup=False``): they quote server text, escaped with
``safe_text`` / ``tui.text.notice``, and a ``[@click=…]`` in an error message must stay text.
"""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, Any, Callable

from textual import events, work
from textual.app import App
from textual.binding import Binding
from textual.notifications import SeverityLevel
from textual.reactive import var

from bonjoro_tui.account.format import countdown as duration
from bonjoro_tui.account.methods import SignInMethod
from bonjoro_tui.safetext import safe_text
from bonjoro_tui.startup import end_holds, pause_collector, resume_collector
from bonjoro_tui.tui.palette import BonjoroCommands
from bonjoro_tui.tui.keyguard import TypingGuard, is_text_field, is_typing_key
from bonjoro_tui.tui.messages import RefreshHappened
from bonjoro_tui.tui.screens.status import StatusScreen
from bonjoro_tui.tui.text import notice

if TYPE_CHECKING:
    import httpx

    from bonjoro_tui.account.session import AppSession
    from bonjoro_tui.api.client import BonjoroClient, RefreshEvent
    from bonjoro_tui.store import StoredProfile

# The explorer, the wizard and help are imported when first shown, not at start-up: the explorer
# alone pulls in TextArea, Select and TabbedContent (tens of milliseconds before the first frame).


def _explorer_screen():
    from bonjoro_tui.tui.screens.explorer import ExplorerScreen

    return ExplorerScreen()


def _login_screen():
    from bonjoro_tui.tui.screens.login import LoginScreen

    return LoginScreen()


def _is(screen: Any, module: str, name: str) -> bool:
    """isinstance(screen, module.name), without importing a screen module nobody has shown yet."""
    loaded = sys.modules.get(module)
    return loaded is not None and isinstance(screen, getattr(loaded, name))


def _is_login(screen: Any) -> bool:
    return _is(screen, "bonjoro_tui.tui.screens.login", "LoginScreen")


def open_in_browser(url: str) -> bool:
    """Open ``url`` with :mod:`webbrowser` (honours ``BROWSER``); False when no browser exists."""
    import webbrowser  # imported when a sign-in needs it, not before the first frame

    try:
        webbrowser.get()
    except webbrowser.Error:
        return False
    try:
        return bool(webbrowser.open(url))
    except Exception:  # a broken BROWSER command must not end the sign-in
        return False


class BonjoroApp(App[int]):
    CSS_PATH = "app.tcss"
    TITLE = "bonjoro-tui"
    COMMANDS = App.COMMANDS | {BonjoroCommands}
    MODES = {"status": StatusScreen, "login": _login_screen, "explorer": _explorer_screen}
    # The app starts in the status mode: its screen is composed first, with no blank default
    # screen before it and no mode switch (each switch to a new mode re-parses the stylesheet).
    DEFAULT_MODE = "status"
    BINDINGS = [
        Binding("r", "refresh_token", "Refresh", id="refresh"),
        Binding("l", "login", "Sign in", id="login"),
        Binding("e", "explorer", "Explorer", id="explorer"),
        Binding("s", "status", "Status", id="status"),
        Binding("x", "logout", "Sign out", id="logout"),
        # Shown as buttons on the status screen; the footer at 80 columns has no room for them.
        Binding("t", "token", "Token", id="token", show=False),
        Binding("p", "profiles", "Profiles", id="profiles", show=False),
        Binding("question_mark,f1", "help", "Help", id="help", key_display="?"),
        Binding("q", "quit", "Quit", id="quit"),
        Binding("ctrl+p", "command_palette", "Commands", id="palette", show=False),
    ]

    #: Binding ids of the screens (their modules load on first use; test_app checks this list).
    SCREEN_BINDING_IDS = frozenset({
        "login.cancel", "login.approve", "login.copy", "login.open", "login.show_url", "url.close",
        "explorer.send", "explorer.copy_body", "explorer.copy_curl", "explorer.filter", "explorer.leave",
        "explorer.editor", "explorer.rerun", "explorer.large", "explorer.maximize", "explorer.history", "explorer.save", "save.cancel",
        "explorer.copy_value", "explorer.save_body", "explorer.next_page", "explorer.prev_page", "explorer.compact",
        "help.close", "confirm.no", "token.close", "profiles.close", "profiles.remove",
    })
    #: The default key of every binding id, for labels and hints ("press l"); see ``key_for``.
    DEFAULT_KEYS = {
        "login.cancel": "escape", "login.approve": "a", "login.copy": "c", "login.open": "o", "login.show_url": "u",
        "explorer.send": "ctrl+j", "explorer.copy_body": "ctrl+y", "explorer.copy_curl": "ctrl+t",
        "explorer.filter": "ctrl+f", "explorer.leave": "escape",
        "explorer.editor": "f4", "explorer.rerun": "f5", "explorer.large": "f3", "explorer.maximize": "f2",
        "explorer.history": "ctrl+g",
        "explorer.save": "ctrl+n", "save.cancel": "escape",
        "explorer.copy_value": "c", "explorer.save_body": "ctrl+s", "explorer.next_page": "right_square_bracket",
        "explorer.prev_page": "left_square_bracket", "explorer.compact": "p",
        "url.close": "escape,u,q", "help.close": "escape,q,question_mark,f1", "confirm.no": "escape,n",
        "token.close": "escape,q", "profiles.close": "escape,q", "profiles.remove": "delete",
    }

    #: The stored profile (None: signed out). Screens watch it.
    profile: var["StoredProfile | None"] = var(None, always_update=True, init=False)
    #: The body of ``GET /me`` for the signed-in user, when fetched.
    user: var[dict | None] = var(None, always_update=True, init=False)

    def __init__(
        self,
        session: "AppSession",
        *,
        now: Callable[[], float] = time.time,
        open_browser: Callable[[str], bool] = open_in_browser,
        login_timeout: float = 300.0,
        tick_interval: float = 1.0,
    ) -> None:
        super().__init__()
        self.session = session
        self.settings = session.settings
        self.store = session.store
        self.sandbox = session.sandbox
        self.now = now
        self.open_browser = open_browser
        self.login_timeout = login_timeout
        self.tick_interval = tick_interval
        self._auto_refresh_for: str | None = None
        self._wired: "BonjoroClient | None" = None
        self.refresh_events = 0
        #: The last refresh the core reported (the status screen says why a profile was signed out).
        self.last_refresh_event: "RefreshEvent | None" = None
        #: Typed text is never a shortcut (tui/keyguard.py has the rule; docs/DESIGN.md too).
        self.typing_guard = TypingGuard(now)
        self._remembered_theme: str | None = None
        self._previous_expiry: float | None = None
        #: The store has been read (reload_profile) since the app started.
        self.profile_read = False

    # ---- typing is never a shortcut ------------------------------------------------------------

    async def on_event(self, event: events.Event) -> None:
        """Every key from the terminal passes the typing guard before any widget or binding sees it."""
        if isinstance(event, events.Key) and not event.is_forwarded:
            in_field = is_text_field(self.focused)
            if self.typing_guard.key(event.key, event.character, in_field=in_field,
                                     shortcut=not in_field and self._is_shortcut(event.key)):
                if self.typing_guard.swallowed == 1:
                    self.notify("Taken as typing (a word, or right after a text field), not as shortcuts. "
                                "Pause a moment, then press the key again.", title="Typing", timeout=4,
                                markup=False)
                return  # swallowed: a word being typed reaches no widget and no binding
        elif isinstance(event, events.MouseDown):
            # From the terminal, or bubbled up from the widget it reached (a click that skipped
            # the app on its way in, as Pilot's do, still ends a typing run).
            self.typing_guard.click()
        await super().on_event(event)

    def _is_shortcut(self, key: str) -> bool:
        """An enabled binding (of the focused widget, its screen or the app) takes ``key``."""
        try:
            active = self.screen.active_bindings.get(key)
        except Exception:  # no screen yet
            return False
        return active is not None and active.enabled

    async def _on_key(self, event: events.Key) -> None:
        # Bindings that no widget took run here (App._on_key). In a text field a typed character
        # runs none of them: the field takes it, or it is dropped (a read-only TextArea).
        if is_text_field(self.focused) and is_typing_key(event.key, event.character):
            event.prevent_default()

    # ---- wiring -------------------------------------------------------------------------------

    @property
    def target_label(self) -> str:
        return "SANDBOX" if self.settings.shows_sandbox else "LIVE"  # built-in, or recognised (/_sandbox/info)

    @property
    def target_words(self) -> str:
        """The target in a sentence: "the sandbox", "Bonjoro", or another server's origin."""
        from bonjoro_tui.account.profiles import target_words

        if self.settings.recognised_sandbox:  # a sandbox BONJORO_BASE_URL names: still bound to its origin
            return "the sandbox"
        return target_words(self.settings.target_id)

    @property
    def client(self) -> "BonjoroClient":
        """The session's API client (built on first use, so the first frame does not wait for httpx)."""
        client = self.session.client
        if client is not self._wired:
            # Wired once: the client tells us about every refresh it makes (auto, on a 401, or manual).
            client.on_refresh = self._core_refreshed
            self._wired = client
        return client

    async def client_ready(self) -> "BonjoroClient":
        """``client`` for a worker: the first time it is built off the event loop (importing httpx
        and creating its client would otherwise hold up painting and keys)."""
        await self.session.client_ready()
        return self.client

    @property
    def http(self) -> "httpx.AsyncClient":
        """The httpx client the core's sign-in functions use: the session's, shared with the client."""
        return self.session.http

    def on_load(self) -> None:
        # The start-up runs without full passes of the garbage collector (bonjoro_tui.startup;
        # `bonjoro-tui` pauses them before its imports already): they resume once the first frame
        # is painted and, signed in, the user's name shown — at most START_UP_SECONDS after mount.
        pause_collector()

    #: The longest the start-up keeps full collections paused (a /me that hangs).
    START_UP_SECONDS = 5.0

    def on_unmount(self) -> None:
        resume_collector()
        end_holds()  # a large body's hold (ResponseView) does not outlive the app

    def on_mount(self) -> None:
        self.sub_title = f"{safe_text(self.target_label)} · {safe_text(self.settings.base_url or '')}"
        # A typing run does not carry over to another screen (tui/keyguard.py, rule 3).
        self.screen_change_signal.subscribe(self, lambda _screen: self.typing_guard.new_screen())
        if self.settings.keymap:
            self.set_keymap(self.settings.keymap)
            self._warn_unknown_keymap_ids()
        self._apply_theme()
        if not self.profile_read:  # the status screen, the first one, has read it as it was shown
            self.reload_profile()
        # A sandbox opened with defer_sandbox (tui/launch.py) has only its socket bound: it loads
        # and serves, in a thread, once the first frame is painted (requests wait in its backlog).
        serve = getattr(self.session, "serve_sandbox", None)
        if serve is not None:
            self.call_after_refresh(serve)
        if self.profile is not None:
            # Once the first frame is painted: the first request loads the HTTP stack.
            self.call_after_refresh(self.fetch_user)  # resumes the collector when done
        else:
            self.call_after_refresh(resume_collector)
        self.set_timer(self.START_UP_SECONDS, resume_collector)
        self.set_interval(self.tick_interval, self.check_expiry, name="expiry-check")

    def _apply_theme(self) -> None:
        """The theme config.toml names; from then on a theme the user picks is remembered there."""
        wanted = getattr(self.settings, "theme", None)
        if wanted:
            if wanted in self.available_themes:
                self.theme = wanted
            else:
                self.notify(f"Unknown theme {notice(wanted)!r} in {notice(self.settings.config_dir / 'config.toml')}; "
                            f"known: {notice(', '.join(sorted(self.available_themes)))}.", title="config.toml",
                            severity="warning", timeout=15, markup=False)
        # Subscribed after the theme above is applied: only the user's own choices are written.
        self.call_after_refresh(self.theme_changed_signal.subscribe, self, self._remember_theme)

    def _remember_theme(self, theme: Any) -> None:
        name = getattr(theme, "name", None)
        if not name or name == (self._remembered_theme or getattr(self.settings, "theme", None)):
            return
        from bonjoro_tui.account.preferences import remember

        try:
            path = remember(self.settings, "theme", name)
        except Exception as exc:  # PreferenceError: not writable; the theme still applies now
            what, todo = self.explain(exc)
            self.notify(f"The theme applies now but is not remembered: {notice(what)}\n{notice(todo)}",
                        title="Theme", severity="warning", timeout=10, markup=False)
            return
        self._remembered_theme = name
        self.notify(f"Theme {notice(name)} remembered in {notice(path)}.", title="Theme", timeout=4, markup=False)

    def _warn_unknown_keymap_ids(self) -> None:
        """The user's [keymap]: an id we do not know, or two bindings on one key, is said at start."""
        where = f"the [keymap] section of {notice(self.settings.config_dir / 'config.toml')}"
        known = {b.id for b in self.BINDINGS if isinstance(b, Binding) and b.id} | self.SCREEN_BINDING_IDS
        unknown = sorted(set(self.settings.keymap) - known)
        if unknown:
            self.notify(
                f"Unknown binding id{'s' if len(unknown) > 1 else ''} in {where}: {notice(', '.join(unknown))}.\n"
                f"Known ids: {notice(', '.join(sorted(known)))}.",
                title="config.toml", severity="warning", timeout=15, markup=False,
            )
        conflicts = self.keymap_conflicts()
        if conflicts:
            lines = notice("\n".join(f"{self.get_key_display(Binding(key, ''))} is bound to both {a} and {b}"
                                     for key, a, b in conflicts))
            self.notify(
                f"Key conflict{'s' if len(conflicts) > 1 else ''} in {where}:\n{lines}\n"
                "Only one binding of each key works; give the other one a key of its own.",
                title="config.toml", severity="warning", timeout=15, markup=False,
            )

    def keymap_conflicts(self) -> list[tuple[str, str, str]]:
        """(key, id, other id) for two bindings that the user's [keymap] put on one key where both
        apply: two app bindings, two of one screen, or a screen's and an app's (the screen's wins
        there). Defaults that share a key on purpose (q closes help, quits elsewhere) are not listed."""
        keymap = self.settings.keymap or {}
        keys_of = {b.id: keymap.get(b.id, b.key) for b in self.BINDINGS if isinstance(b, Binding) and b.id}
        for binding_id, default in self.DEFAULT_KEYS.items():
            keys_of[binding_id] = keymap.get(binding_id, default)
        normalized = {i: set(k.split(",")) for i, k in self._normalize_keymap(keys_of).items()}
        ids = sorted(normalized)
        found = []
        for n, a in enumerate(ids):
            for b in ids[n + 1:]:
                scope_a, scope_b = a.partition(".")[0] if "." in a else "", b.partition(".")[0] if "." in b else ""
                if scope_a and scope_b and scope_a != scope_b:
                    continue  # two different screens never apply at once
                if a not in keymap and b not in keymap:
                    continue
                for key in sorted(normalized[a] & normalized[b]):
                    found.append((key, a, b))
        return found

    def key_for(self, binding_id: str) -> str:
        """How the active key of ``binding_id`` is shown (the user's [keymap] wins): "l", "^r"."""
        keys = (self.settings.keymap or {}).get(binding_id)
        if not keys:
            keys = self.DEFAULT_KEYS.get(binding_id)
            for binding in self.BINDINGS:
                if isinstance(binding, Binding) and binding.id == binding_id:
                    keys = binding.key_display or binding.key
        first = (keys or "?").split(",")[0].strip()
        if first == "escape":
            return "esc"
        return self.get_key_display(Binding(first, ""))

    def explain(self, exc: BaseException, target: str | None = None) -> tuple[str, str]:
        """``errors.explain`` with this app's keys in the hints."""
        from bonjoro_tui.tui.errors import explain  # the error classes load at the first error

        return explain(exc, target=target or self.settings.base_url or "the server", key=self.key_for)

    def _core_refreshed(self, event: "RefreshEvent") -> None:
        """Called by the core (maybe from another thread): becomes a message on the app."""
        self.post_message(RefreshHappened(event))

    def on_refresh_happened(self, message: RefreshHappened) -> None:
        self.refresh_events += 1
        self.last_refresh_event = message.event
        self._previous_expiry = self.profile.tokens.expires_at if self.profile is not None else None
        self.reload_profile()
        event = message.event
        if not event.saved:
            self.notify(
                f"The token was refreshed, but the new tokens could not be saved ({notice(event.detail)}).\n"
                "They are kept in memory while bonjoro-tui runs and saved as soon as the disk takes them; "
                "quit before that and you will have to sign in again.",
                title="Tokens not saved", severity="error", timeout=30, markup=False,
            )
            return
        if event.reason == "saved":
            self.notify("The new tokens held in memory are saved now.", title="Tokens saved", markup=False)
            return
        if event.reason == "manual":
            return  # refresh_now() reports its own outcome
        previous = self._previous_expiry
        if event.reason == "rejected":
            why = "the server rejected the token"
        elif previous is not None and previous <= event.at:
            why = "it had expired"
        else:
            why = "it was about to expire"
        if event.ok and self.profile is not None:
            left = self.profile.tokens.expires_in(self.now())
            self.notify(
                f"Token refreshed automatically ({why}); valid for {duration(left)}.", title="Auto-refresh",
                markup=False,
            )
        # A failed refresh is reported once, by whatever asked for it (the worker's report, the
        # explorer's answer): a second toast here said the same thing again.

    def reload_profile(self) -> None:
        """Read the profile from the store; a corrupt store is reported, never fatal."""
        self.profile_read = True
        try:
            # The store's profile, or newer tokens the client holds because the store could not take them.
            self.profile = self.session.load_profile()
        except Exception as exc:  # StoreCorruptError and friends
            what, todo = self.explain(exc)
            self.notify(f"{notice(what)}\n{notice(todo)}", title="Token store", severity="error", timeout=15,
                        markup=False)
            self.profile = None
        if self.profile is None:
            self.user = None

    def signed_in(self, profile: "StoredProfile", user: dict | None = None, *, switch: bool = True) -> None:
        """A sign-in finished: remember it (and show the status screen unless told not to)."""
        self.profile = profile
        self._auto_refresh_for = None
        if user is not None:
            self.user = user
        else:
            self.fetch_user()
        if switch:
            self.switch_mode("status")
        self.notify(f"Signed in to {notice(self.target_words)}.", title="Signed in", markup=False)

    # ---- workers ---------------------------------------------------------------------------------

    def report(self, exc: BaseException, title: str, *, severity: SeverityLevel = "error", prefix: str = "",
               timeout: float | None = None) -> None:
        """A worker's failure, the one way: what happened and what to do as a notification (text,
        never markup), then the profile read again (the failure may have signed it out)."""
        what, todo = self.explain(exc)
        self.notify(f"{notice(prefix)}{notice(what)}\n{notice(todo)}", title=title, severity=severity,
                    timeout=timeout, markup=False)
        self.reload_profile()

    @work(exclusive=True, group="user", description="fetch the user (/me)")
    async def fetch_user(self) -> None:
        from bonjoro_tui.account.whoami import fetch_me

        try:
            client = await self.client_ready()
            self.user = await fetch_me(client)
        except Exception as exc:
            self.report(exc, "Profile", severity="warning", prefix="Could not fetch /me. ")
        finally:
            self.call_after_refresh(resume_collector)  # the start-up's last step: the name is painted first

    @work(exclusive=True, group="refresh", description="refresh the token")
    async def refresh_now(self) -> None:
        if self.profile is None:
            self.notify(f"Not signed in: press {notice(self.key_for('login'))} to sign in.", title="Refresh",
                        severity="warning", markup=False)
            return
        if self.profile.method == SignInMethod.API_KEY:
            self.notify("API keys cannot be refreshed: they do not expire. To use another key, sign in "
                        f"again ({notice(self.key_for('login'))}) with the API key method.", title="Refresh",
                        markup=False)
            return
        try:
            client = await self.client_ready()
            self.profile = await client.refresh_now()
        except Exception as exc:
            self.report(exc, "Refresh failed", timeout=10)
            return
        self._auto_refresh_for = None
        left = self.profile.tokens.expires_in(self.now()) if self.profile else None
        self.notify(f"New access token, valid for {duration(left)}.", title="Refreshed", markup=False)

    @work(exclusive=True, group="refresh", description="refresh the token")
    async def refresh_before_expiry(self) -> None:
        """The token is about to expire: a request through the client refreshes it (and fetches /me)."""
        from bonjoro_tui.account.whoami import fetch_me

        try:
            client = await self.client_ready()
            self.user = await fetch_me(client)
        except Exception as exc:
            self.report(exc, "Auto-refresh", timeout=10)
            return
        self.reload_profile()

    @work(exclusive=True, group="logout", description="sign out")
    async def logout(self, forget: bool = False) -> None:
        if self.profile is None:
            self.notify("Not signed in.", title="Sign out", markup=False)
            return
        from bonjoro_tui.api.errors import RevocationFailed

        try:
            client = await self.client_ready()
            result = await client.logout_detailed(forget=forget)
        except Exception as exc:
            self.report(exc, "Sign out")
            if isinstance(exc, RevocationFailed):
                self._offer_forget(str(exc))
            return
        self.reload_profile()
        self.user = None
        if result.revoked_all:
            note = "tokens revoked at the server and removed here."
        else:
            note = "local tokens removed. Not revoked: " + notice("; ".join(result.not_revoked))
        self.notify(f"Signed out: {note}", title="Signed out", markup=False)

    def _offer_forget(self, why: str, name: str | None = None) -> None:
        """The server could not revoke: the same choice as ``bonjoro-tui logout --forget``."""
        from bonjoro_tui.tui.modals.confirm import ConfirmScreen

        def chosen(yes: bool | None) -> None:
            if yes:
                if name is None or name == self.settings.profile:
                    self.logout(forget=True)
                else:
                    self.run_worker(self.remove_profile(name, revoke=False), group="profiles")

        question = (f"{safe_text(why[:1].upper() + why[1:])}.\n\nForget them here anyway? They stay valid at the "
                    "server until they expire.")
        self.push_screen(ConfirmScreen(question, confirm="Forget them"), chosen)

    async def check_expiry(self) -> None:
        """Each tick: when the token is within its refresh leeway, let the client refresh it once."""
        profile = self.profile
        if profile is None:
            return
        tokens = profile.tokens
        if tokens.needs_refresh(self.now()) and self._auto_refresh_for != tokens.access_token:
            self._auto_refresh_for = tokens.access_token
            self.refresh_before_expiry()

    # ---- actions ---------------------------------------------------------------------------------

    def action_refresh_token(self) -> None:
        self.refresh_now()

    def action_login(self) -> None:
        screen = self.screen
        if _is_login(screen):
            from bonjoro_tui.tui.screens.login import LoginScreen

            assert isinstance(screen, LoginScreen)
            screen.start_over()  # only enabled once a sign-in has stopped (see check_action)
            return
        self.switch_mode("login")

    def action_explorer(self) -> None:
        self.switch_mode("explorer")

    def action_status(self) -> None:
        self.switch_mode("status")

    def action_logout(self) -> None:
        if self.profile is None:
            self.notify("Not signed in.", title="Sign out", markup=False)
            return
        from bonjoro_tui.tui.modals.confirm import ConfirmScreen

        question = (f"Sign out of {notice(self.target_words)} (profile {notice(self.settings.profile)})? The tokens "
                    "are revoked at the server where possible and forgotten here.")
        def confirmed(yes: bool | None) -> None:
            if yes:
                self.logout()

        self.push_screen(ConfirmScreen(question), confirmed)

    def action_token(self) -> None:
        if self.profile is None:
            self.notify(f"Not signed in: no token to inspect. Press {notice(self.key_for('login'))} to sign in.",
                        title="Token", severity="warning", markup=False)
            return
        from bonjoro_tui.tui.modals.token import TokenScreen

        self.push_screen(TokenScreen(self.profile))

    def action_profiles(self) -> None:
        if not _is(self.screen, "bonjoro_tui.tui.modals.profiles", "ProfilesScreen"):
            from bonjoro_tui.tui.modals.profiles import ProfilesScreen

            self.push_screen(ProfilesScreen())

    def switch_profile(self, name: str) -> None:
        """Use the stored profile ``name``: remembered as the default in config.toml, and the
        session re-opened for it (its client is built again; the sandbox and HTTP client stay)."""
        from bonjoro_tui.account.preferences import PreferenceError
        from bonjoro_tui.account.profiles import overridden_by, use_profile

        if name == self.settings.profile:
            self.notify(f"Profile {notice(name)} is already in use.", title="Profiles", markup=False)
            return
        note = ""
        try:
            use_profile(self.session, name)
        except PreferenceError as exc:
            self.session.switch_profile(name)  # this run uses it all the same
            what, todo = self.explain(exc)
            note = f"\nNot remembered for the next start: {notice(what)} {notice(todo)}"
        except Exception as exc:
            self.report(exc, "Profiles")
            return
        else:
            source = overridden_by(self.session)
            if source:
                note = f"\nRemembered in config.toml, but {notice(source)} still chooses the profile at the next start."
        self.settings = self.session.settings
        self._auto_refresh_for = None
        self.user = None
        self.reload_profile()
        if self.profile is not None:
            self.fetch_user()
        state = "signed in" if self.profile is not None else "not signed in"
        self.notify(f"Now using profile {notice(name)} ({state}).{note}", title="Profiles", markup=False)

    async def remove_profile(self, name: str, *, revoke: bool) -> None:
        """Sign a profile out (revoked at the server with ``revoke``, else only forgotten here);
        a revocation that fails keeps its tokens and offers to forget them, like sign-out."""
        from bonjoro_tui.account.profiles import remove_profile
        from bonjoro_tui.api.errors import RevocationFailed

        try:
            await self.session.client_ready()
            result = await remove_profile(self.session, name, revoke=revoke)
        except Exception as exc:
            self.report(exc, "Sign out")
            if isinstance(exc, RevocationFailed):
                self._offer_forget(str(exc), name)
            return
        self.reload_profile()
        if result.revoked_all:
            note = "tokens revoked at the server and removed here."
        else:
            note = "local tokens removed. Not revoked: " + notice("; ".join(result.not_revoked))
        self.notify(f"Profile {notice(name)} signed out: {note}", title="Signed out", markup=False)

    def action_help(self) -> None:
        if not _is(self.screen, "bonjoro_tui.tui.modals.help", "HelpScreen"):
            from bonjoro_tui.tui.modals.help import HelpScreen

            self.push_screen(HelpScreen())

    #: App actions that open or replace a screen: not under a modal (its own keys apply there),
    #: and hidden from the footer meanwhile.
    NAVIGATION_ACTIONS = frozenset({"refresh_token", "login", "explorer", "status", "logout", "token", "profiles"})

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        from textual.screen import ModalScreen

        if (action in self.NAVIGATION_ACTIONS and isinstance(self.screen, ModalScreen)
                and not _is(self.screen, "textual.command", "CommandPalette")):
            # (The palette runs its command while it is still closing: that one is meant.)
            return False
        if action == "token":
            return self.profile is not None and not _is_login(self.screen)
        if action in ("refresh_token", "logout"):
            # Nothing to refresh when signed out; in the wizard the key would only distract.
            return self.profile is not None and not _is_login(self.screen)
        if action in ("status", "explorer", "profiles") and _is_login(self.screen):
            # The wizard leaves with escape (to status): a word typed there must not switch screens.
            return False
        if action == "login" and _is_login(self.screen):
            return getattr(self.screen, "phase", None) == "failed"
        return True

    def watch_profile(self, old: "StoredProfile | None", new: "StoredProfile | None") -> None:
        # The bindings check_action enables depend on signed in or not and the method; the store
        # is read again at each return to a screen and after each request, and each refresh of
        # the bindings rebuilds the footer (seven keys composed, styled and laid out again).
        if (old is None, getattr(old, "method", None)) != (new is None, getattr(new, "method", None)):
            self.refresh_bindings()

    def palette_commands(self) -> list[tuple[str, str, str]]:
        """(name, help, action) for the command palette; depends on what makes sense now."""
        commands = [
            ("Status", "Connection and token status (home)", "status"),
            ("Sign in again" if self.profile is not None else "Sign in", "Open the login wizard", "login"),
            ("API explorer", "Browse and call Bonjoro API v2", "explorer"),
            ("Help", "Keys and what each screen does", "help"),
            ("Quit", "Leave bonjoro-tui", "quit"),
        ]
        commands.insert(-2, ("Profiles", "List the stored profiles, switch, sign one out", "profiles"))
        if self.profile is not None:
            commands[1:1] = [
                ("Refresh token now", "Use the refresh token (or the client credentials) now", "refresh_token"),
                ("Inspect the token", "The access token's JWT header and claims, decoded (not verified)", "token"),
                ("Sign out", "Revoke the tokens where possible and forget them", "logout"),
            ]
        return commands

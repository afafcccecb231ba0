"""The login wizard: choose a method, then watch each step of the sign-in happen.

The wizard holds no protocol logic: it runs the application layer's
:class:`~bonjoro_tui.account.signin.SignIn` (the same use case as ``bonjoro-tui login``) and shows its
step events; against the sandbox, ``account.sandbox.approve_in_sandbox`` plays the browser. A failure stops at the failed step with what happened and what to do.

Server text (an ``error_description``, a callback's ``error``, the ``/me`` name) is shown
through ``safe_text`` / ``tui.text``: never as markup, never with raw control characters
(a step's detail is escaped where ``StepList`` renders it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Footer, Header, Input, RadioButton, RadioSet, Static

from bonjoro_tui.account.format import countdown as duration
from bonjoro_tui.account.identity import display_name as user_name
from bonjoro_tui.account.methods import SignInMethod
from bonjoro_tui.auth.errors import LoginCancelled
from bonjoro_tui.auth.login import LoginStep
from bonjoro_tui.safetext import safe_text
from bonjoro_tui.tui.text import notice, plain, rich_plain
from bonjoro_tui.tui.widgets.fields import TextField
from bonjoro_tui.tui.widgets.method_list import MethodList
from bonjoro_tui.tui.widgets.steps import Step, StepList

if TYPE_CHECKING:
    from bonjoro_tui.account.signin import SignIn
    from bonjoro_tui.tui.app import BonjoroApp

@dataclass(frozen=True)
class MethodView:
    """What the wizard shows of one sign-in method: its radio button, its steps, its help."""

    radio_id: str
    radio_label: str
    steps: tuple[tuple[str, str], ...]  # (LoginStep value, label), in the order SignIn reports them
    help: str


#: One entry per sign-in method, in the order shown; adding a method adds one here
#: (docs/DESIGN.md, "Where does my change go").
METHOD_VIEWS: dict[SignInMethod, MethodView] = {
    SignInMethod.CODE: MethodView(
        "method-code", "Authorization code + PKCE (recommended)",
        (("PREPARE", "Prepare"), ("LISTENING", "Callback server"), ("BROWSER", "Browser"), ("WAITING", "Waiting"),
         ("CODE_RECEIVED", "Code received"), ("EXCHANGING", "Exchanging code"), ("SAVED", "Tokens saved"),
         ("PROFILE", "/me fetched")),
        "Opens Bonjoro's consent page in your browser; a server on 127.0.0.1 receives the "
        "redirect. State and PKCE (S256) are verified. Works over SSH by pasting the redirect URL.",
    ),
    SignInMethod.CLIENT_CREDENTIALS: MethodView(
        "method-client", "Client credentials (confidential client)",
        (("EXCHANGING", "Client credentials grant"), ("SAVED", "Tokens saved"), ("PROFILE", "/me fetched")),
        "Signs in as the application itself with its client id and secret "
        "(BONJORO_CLIENT_ID / BONJORO_CLIENT_SECRET). No user and no browser involved.",
    ),
    SignInMethod.API_KEY: MethodView(
        "method-key", "API key",
        (("CHECKING", "Key checked (GET /me)"), ("SAVED", "API key saved"), ("PROFILE", "/me fetched")),
        "Stores an API key and sends it as a Bearer token. It does not expire; "
        "the sandbox accepts sandbox-api-key.",
    ),
}
METHODS = {view.radio_id: method for method, view in METHOD_VIEWS.items()}


class LoginScreen(Screen[None]):
    if TYPE_CHECKING:
        app: "BonjoroApp"
    CSS_PATH = "login.tcss"
    TITLE = "Sign in"
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="login.cancel"),
        Binding("a", "approve", "Approve", id="login.approve"),
        Binding("c", "copy_url", "Copy URL", id="login.copy"),
        Binding("o", "open_again", "Reopen", id="login.open", show=False),
        Binding("u", "show_url", "URL alone", id="login.show_url", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.phase = "choose"  # choose | running | done | failed
        self.method = SignInMethod.CODE
        self.login: "SignIn | None" = None
        self.url: str | None = None
        self.wait_started: float | None = None
        self.browser_opened: bool | None = None

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False)
        with VerticalScroll(id="login-body"):
            yield Static(id="endpoint-sources")
            with Vertical(id="choose"):
                with MethodList(id="method"):
                    for method, view in METHOD_VIEWS.items():
                        yield RadioButton(view.radio_label, value=method is SignInMethod.CODE, id=view.radio_id)
                yield TextField(placeholder="API key (hidden as you type)", password=True, id="api-key", compact=True)
                yield Static(id="method-help")
                yield Button("Start sign-in", id="start", variant="primary", compact=True)
            with Vertical(id="flow"):
                yield StepList([], id="steps")
                yield Static(id="auth-url")
                yield Static(id="outcome")
                with Horizontal(id="login-actions"):
                    yield Button("Approve in sandbox (a)", id="approve", variant="success", compact=True)
                    yield Button("Copy URL (c)", id="copy", compact=True)
                    yield Button("Open (o)", id="open", compact=True)
                    yield Button("Cancel (esc)", id="cancel", variant="error", compact=True)
                    yield Button("Go to status", id="to-status", variant="primary", compact=True)
                    yield Button("Start over", id="again", compact=True)
                yield TextField(placeholder="…or paste the redirect URL here (SSH / no browser) and press enter",
                                id="paste", compact=True)
                yield Static(id="paste-error")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.query_one("#choose").border_title = "Sign-in method"
        self.query_one("#flow").border_title = "Progress"
        self.set_interval(self.app.tick_interval, self._tick_waiting, name="waiting")
        self._label_buttons()
        self._show_endpoint_sources()
        self._show_method_help()
        self._render_phase()
        self.query_one("#method").focus()

    def _show_endpoint_sources(self) -> None:
        """Whenever an endpoint comes from the working directory's .env (untrusted), every endpoint
        this sign-in would use, with where its value came from (bonjoro_tui.trust)."""
        from bonjoro_tui.trust import endpoint_report

        lines = endpoint_report(self.app.settings)
        sources = self.query_one("#endpoint-sources", Static)
        sources.display = bool(lines)
        if lines:
            text = Text("Settings from the .env in the working directory — this sign-in goes to:\n", style="bold yellow")
            for line in lines:
                text.append("  " + safe_text(line) + "\n")
            sources.update(text)

    def _label_buttons(self) -> None:
        key = self.app.key_for
        for button_id, label, binding_id in (
            ("approve", "Approve in sandbox", "login.approve"),
            ("copy", "Copy URL", "login.copy"),
            ("open", "Open", "login.open"),
            ("cancel", "Cancel", "login.cancel"),
        ):
            self.query_one(f"#{button_id}", Button).label = plain(f"{label} ({safe_text(key(binding_id))})")

    # ---- phase and layout ------------------------------------------------------------------

    def _render_phase(self) -> None:
        choosing = self.phase == "choose"
        self.query_one("#choose").display = choosing
        self.query_one("#flow").display = not choosing
        self.query_one("#api-key").display = choosing and self.method is SignInMethod.API_KEY
        running_code = self.phase == "running" and self.method is SignInMethod.CODE
        self.query_one("#paste").display = running_code
        self.query_one("#paste-error").display = running_code and bool(str(self.query_one("#paste-error", Static).render()))
        self.query_one("#auth-url").display = running_code and self.url is not None
        show = {
            "approve": running_code and self.app.sandbox is not None and self.url is not None,
            "copy": self.method is SignInMethod.CODE and self.url is not None and self.phase == "running",
            "open": self.method is SignInMethod.CODE and self.url is not None and self.phase == "running",
            "cancel": self.phase == "running",
            "to-status": self.phase == "done",
            "again": self.phase in ("done", "failed"),
        }
        for button_id, visible in show.items():
            self.query_one(f"#{button_id}").display = visible
        self.refresh_bindings()
        if choosing:
            if self.method is SignInMethod.API_KEY:
                self.query_one("#api-key").focus()
        elif self.phase == "done":
            self.query_one("#to-status").focus()
        elif self.phase == "failed":
            self.query_one("#again").focus()
        elif show["approve"]:
            self.query_one("#approve").focus()
        elif show["cancel"]:
            self.query_one("#cancel").focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        running_code = self.phase == "running" and self.method is SignInMethod.CODE and self.url is not None
        if action == "approve":
            return running_code and self.app.sandbox is not None
        if action in ("copy_url", "open_again", "show_url"):
            return running_code
        return True

    def _show_method_help(self) -> None:
        text = rich_plain(METHOD_VIEWS[self.method].help)
        if self.method is SignInMethod.CLIENT_CREDENTIALS:
            warning = client_credentials_warning(self.app.settings)
            if warning:
                text.append("\n" + warning, style="yellow")
        self.query_one("#method-help", Static).update(text)

    def on_radio_set_changed(self, event: RadioSet.Changed) -> None:
        self.method = METHODS.get(event.pressed.id or "", SignInMethod.CODE)
        self._show_method_help()
        self._render_phase()
        self.query_one("#api-key" if self.method is SignInMethod.API_KEY else "#start").focus()

    def on_method_list_confirmed(self, event: MethodList.Confirmed) -> None:
        event.stop()
        if self.method is SignInMethod.API_KEY:
            self.query_one("#api-key").focus()
        else:
            self.start()

    def on_screen_resume(self) -> None:
        # Opened again (l, the button, the palette): a fresh wizard, not the last attempt's outcome.
        if self.phase in ("done", "failed"):
            self.phase = "choose"
        self._render_phase()
        if self.phase == "choose" and self.method is not SignInMethod.API_KEY:
            self.query_one("#method").focus()

    # ---- starting ---------------------------------------------------------------------------

    # Each button runs the same action as its key (or the one thing it says).
    @on(Button.Pressed, "#start")
    def _start_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.start()

    @on(Button.Pressed, "#approve")
    def _approve_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_approve()

    @on(Button.Pressed, "#copy")
    def _copy_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_copy_url()

    @on(Button.Pressed, "#open")
    def _open_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_open_again()

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_cancel()

    @on(Button.Pressed, "#to-status")
    def _to_status_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.app.switch_mode("status")

    @on(Button.Pressed, "#again")
    def _again_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.start_over()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input.id == "api-key":
            self.start()
        elif event.input.id == "paste":
            self.paste(event.value)

    def start_over(self) -> None:
        self.phase = "choose"
        self.url = None
        self._render_phase()
        # With API key chosen, the key field: a key typed next must not reach the app's shortcuts.
        self.query_one("#api-key" if self.method is SignInMethod.API_KEY else "#method").focus()

    def start(self) -> None:
        if self.phase == "running":
            return
        field = self.query_one("#api-key", Input)
        if self.method is SignInMethod.API_KEY and not field.value.strip():
            # Nothing to send: not a failed sign-in, a field to fill (the method chosen last time
            # is remembered, so enter right away lands here).
            field.display = True
            field.focus()
            sandbox = " (the sandbox's is sandbox-api-key)" if self.app.settings.shows_sandbox else ""
            self.notify(f"Type or paste your API key first{sandbox}, then press enter; or choose another "
                        "method above.", title="API key", severity="warning", markup=False)
            return
        steps = METHOD_VIEWS[self.method].steps
        step_list = self.query_one(StepList)
        step_list.steps = [Step(key, label) for key, label in steps]
        step_list.refresh(layout=True)
        self.url = None
        self.wait_started = None
        self.browser_opened = None
        self.query_one("#outcome", Static).update("")
        self.query_one("#outcome").display = False
        self.query_one("#paste-error", Static).update("")
        self.query_one("#paste", Input).value = ""
        self.phase = "running"
        self._render_phase()
        key = None
        if self.method is SignInMethod.API_KEY:
            key = self.query_one("#api-key", Input).value.strip()
            self.query_one("#api-key", Input).value = ""
        self.run_sign_in(self.method, key)

    # ---- the code flow ------------------------------------------------------------------------

    def on_step(self, step: LoginStep, detail: str = "") -> None:
        """A sign-in step began: earlier steps are done, this one is running."""
        key = step.value
        step_list = self.query_one(StepList)
        seen = False
        for s in step_list.steps:
            if s.key == key:
                seen = True
                s.state = "running"
                if detail:
                    s.detail = detail
            elif not seen and s.state in ("running", "pending"):
                s.state = "done"
                if s.key == "WAITING":  # the live "… elapsed, times out after …" is over
                    s.detail = self._waited()
        if key == "WAITING" and self.wait_started is None:
            self.wait_started = self.app.now()
            self._tick_waiting()
        if key == "BROWSER":
            self._describe_browser()
        step_list.refresh(layout=True)

    def _open_browser(self, url: str) -> bool:
        self.url = url
        self.browser_opened = self.app.open_browser(url)
        self.query_one("#auth-url", Static).update(self._url_text())
        self._describe_browser()
        self._render_phase()
        return self.browser_opened

    def _url_text(self) -> Text:
        key = self.app.key_for
        text = Text("Authorization URL", style="bold")
        text.append(f" ({safe_text(key('login.copy'))} copies it, {safe_text(key('login.show_url'))} shows it "
                    f"alone for the mouse, {safe_text(key('login.open'))} opens it again):\n", style="dim")
        text.append(rich_plain(self.url or "", "underline"))
        return text

    def _describe_browser(self) -> None:
        if self.browser_opened is None:
            return
        if self.browser_opened:
            detail = "opened the URL below in your browser"
        else:
            key = self.app.key_for
            detail = "no browser here:"
            if self.app.sandbox is not None:
                detail += f" approve in the sandbox ({key('login.approve')}), or"
            detail += f" copy the URL ({key('login.copy')}) and paste the redirect below"
        step_list = self.query_one(StepList)
        step_list.step("BROWSER").detail = detail
        step_list.refresh(layout=True)

    def _waited(self) -> str:
        if self.wait_started is None:
            return "redirect received"
        return f"redirect received after {duration(self.app.now() - self.wait_started)}"

    def _tick_waiting(self) -> None:
        if self.phase != "running" or self.wait_started is None or self.method is not SignInMethod.CODE:
            return
        step_list = self.query_one(StepList)
        waiting = step_list.step("WAITING")
        if waiting.state != "running":
            return
        elapsed = self.app.now() - self.wait_started
        waiting.detail = f"{duration(elapsed)} elapsed, times out after {duration(self.app.login_timeout)}"
        step_list.refresh(layout=True)

    @work(exclusive=True, group="login", description="sign in")
    async def run_sign_in(self, method: SignInMethod, key: str | None = None) -> None:
        """The application layer's sign-in (the same as ``bonjoro-tui login``), its steps shown."""
        from bonjoro_tui.account.signin import SignIn

        app = self.app
        if method is SignInMethod.API_KEY and not key:
            self._failed(ValueError("no API key was entered"), hint="Type or paste the key, then start again.")
            return
        self.login = SignIn(app.session, on_step=self.on_step)
        try:
            done = await self.login.run(method, api_key=key, open_browser=self._open_browser,
                                        timeout=app.login_timeout)
        except Exception as exc:
            self._failed(exc)
            return
        finally:
            self.login = None
        if done.identity_error is not None:
            # The tokens are saved; the wizard still stops at the /me step and says why.
            self._failed(done.identity_error)
            return
        self._succeeded(done.profile, done.me)

    def _succeeded(self, profile: Any, user: dict | None = None) -> None:
        step_list = self.query_one(StepList)
        for s in step_list.steps:
            if s.state in ("running", "pending"):
                s.state = "done"
                if s.key == "WAITING":
                    s.detail = self._waited()
        step_list.refresh(layout=True)
        self.phase = "done"
        self.url = None
        self.query_one("#paste", Input).value = ""
        self.app.signed_in(profile, user, switch=False)
        who = safe_text(user_name(user)) if user else "your account"
        self.query_one("#outcome", Static).update(Text(f"Signed in as {who}.", style="bold green"))
        self.query_one("#outcome").display = True
        self._render_phase()

    def _failed(self, exc: BaseException, hint: str | None = None) -> None:
        self.query_one("#paste", Input).value = ""  # it may hold a code
        what, todo = self.app.explain(exc)
        if _is_cancel(exc):
            self._stopped(Text(f"Sign-in cancelled; press enter or {safe_text(self.app.key_for('login'))} to start "
                               "again.", style="bold"), "cancelled")
            return
        outcome = Text()
        outcome.append("Failed: ", style="bold red")
        outcome.append(rich_plain(what))
        outcome.append("\n")
        outcome.append("What to do: ", style="bold")
        outcome.append(rich_plain(hint or todo))
        self._stopped(outcome, what)

    def _stopped(self, outcome: Text, detail: str) -> None:
        step_list = self.query_one(StepList)
        failed = step_list.running() or next((s for s in step_list.steps if s.state == "pending"), None)
        if failed is not None:
            failed.state = "failed"
            failed.detail = detail
        step_list.refresh(layout=True)
        self.phase = "failed"
        self.query_one("#outcome", Static).update(outcome)
        self.query_one("#outcome").display = True
        self._render_phase()

    # ---- actions while running -------------------------------------------------------------

    def paste(self, url: str) -> None:
        if self.login is None or not url.strip():
            return
        try:
            self.login.paste(url.strip())
        except Exception as exc:
            what, todo = self.app.explain(exc)
            self.query_one("#paste-error", Static).update(Text(safe_text(sentences(what, todo)), style="red"))
            self.query_one("#paste-error").display = True
        else:
            self.query_one("#paste", Input).value = ""
            self.query_one("#paste-error", Static).update("")
            self.query_one("#paste-error").display = False

    def on_paste(self, event: events.Paste) -> None:
        """While waiting for the redirect, a paste anywhere on the wizard is the redirect URL
        (the field itself, when focused, takes the paste first and waits for enter)."""
        text = event.text.strip()
        if self.phase == "running" and self.method is SignInMethod.CODE and self.login is not None and text:
            event.stop()
            field = self.query_one("#paste", Input)
            field.value = text.splitlines()[0]
            self.paste(field.value)

    def action_cancel(self) -> None:
        paste = self.query_one("#paste", Input)
        if self.focused is paste:
            # escape leaves the field, as everywhere else; a second escape cancels the sign-in
            self.query_one("#cancel", Button).focus()
            return
        if self.phase == "running":
            if self.method is SignInMethod.CODE and self.login is not None:
                self.login.cancel()  # closes the callback server; the flow ends with LoginCancelled
            else:
                self.workers.cancel_group(self, "login")
                self._failed(_Cancelled())
        else:
            self.app.switch_mode("status")

    def action_copy_url(self) -> None:
        if self.url:
            self.app.copy_to_clipboard(self.url)
            self.notify("Authorization URL copied to the clipboard.", title="Copied", markup=False)

    def action_show_url(self) -> None:
        if self.url:
            from bonjoro_tui.tui.modals.url import UrlScreen

            self.app.push_screen(UrlScreen(self.url))

    def action_open_again(self) -> None:
        if self.url:
            if self.app.open_browser(self.url):
                self.notify("Opened the authorization URL again.", markup=False)
            else:
                key = self.app.key_for
                self.notify(f"No browser available: copy the URL ({notice(key('login.copy'))}) or approve in the "
                            f"sandbox ({notice(key('login.approve'))}).", severity="warning", markup=False)

    def action_approve(self, decision: str = "approve") -> None:
        if self.url and self.app.sandbox is not None:
            self.play_browser(self.url, decision)

    @work(exclusive=True, group="approve", description="approve in the sandbox")
    async def play_browser(self, url: str, decision: str) -> None:
        """The sandbox's browser stand-in fetches the consent page, submits ``decision`` and
        delivers the redirect to our loopback callback server (served on this same loop)."""
        from bonjoro_tui.account.sandbox import approve_in_sandbox

        try:
            await approve_in_sandbox(url, decision=decision)
        except Exception as exc:  # the sign-in itself reports the outcome; this is the browser's view
            what, todo = self.app.explain(exc)
            self.notify(f"{notice(what)}\n{notice(todo)}", title="Sandbox browser", severity="error", markup=False)


def sentences(*parts: str) -> str:
    """The parts as sentences: each begun with a capital and ended with a full stop (a core
    message and its hint are lower-case clauses: "… (http://…?…)" + "paste the full URL …")."""
    out = []
    for part in parts:
        part = part.strip()
        if part:
            out.append(part[:1].upper() + part[1:] + ("" if part.endswith((".", "!", "?")) else "."))
    return " ".join(out)


def client_credentials_warning(settings: Any) -> str | None:
    """Said before a client-credentials grant only when it cannot work: no secret for the client
    it would present. (Against the sandbox with the default client its published confidential
    client is used: nothing to warn about; a server told to send no secret may still accept.)"""
    cc = settings.for_client_credentials()
    if cc.client_secret:
        return None
    if settings.is_sandbox:
        return ("No client secret is configured for sandbox-confidential: the sandbox will refuse this. "
                "Unset BONJORO_CLIENT_ID (the sandbox's published client is used) or set BONJORO_CLIENT_SECRET.")
    if settings.token_auth == "none":
        return "No client secret is configured (token_auth = none): the server decides whether that is enough."
    return "No client secret is configured: the server will refuse this (set BONJORO_CLIENT_SECRET)."


def _is_cancel(exc: BaseException) -> bool:
    return isinstance(exc, (LoginCancelled, _Cancelled))


class _Cancelled(Exception):
    hint = "Start again when you are ready."

    def __str__(self) -> str:
        return "sign-in cancelled"


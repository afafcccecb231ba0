"""The loopback redirect receiver (RFC 8252 §7.3), served by uvicorn in the caller's loop.

Behaviour, in the order checks are made on ``GET {path}``:

* The ``Host`` header must be ``127.0.0.1:PORT`` (or the redirect URI's own host): a DNS
  rebinding page cannot talk to us (421 otherwise). Other paths are 404, other methods 405.
* ``code``, ``state``, ``error`` or ``iss`` given more than once: refused (400).
* A request without ``code`` or ``error`` is not an authorization response: refused (400).
* A wrong or missing ``state`` (checked on error responses too) is **refused with an error
  page and the wait goes on**: the genuine redirect may still arrive, so a forged request
  cannot kill the sign-in. The refusal is counted (``rejected``) and reported through
  ``on_rejected``; if no genuine redirect arrives before the timeout, :meth:`wait` raises
  :class:`StateMismatch` rather than a plain timeout, so the user learns what happened.
  No token request can follow a refused callback: it never reaches the caller.
* With the right state: ``iss`` (RFC 9207), when present and an issuer is expected, must
  match, else :class:`IssuerMismatch`; ``error`` ends the wait with
  :class:`AuthorizationDenied`; no ``code`` ends it with :class:`MissingCode`; otherwise
  :meth:`wait` returns the :class:`CallbackResult`. Only that first valid callback counts;
  later ones get a "already complete" page.

Pages are static with escaped text and ``Referrer-Policy: no-referrer``,
``Cache-Control: no-store`` and a CSP that allows nothing. The listening socket is closed
when :meth:`wait` returns or raises (unless called with ``close=False``), on :meth:`close`,
and on leaving ``async with``. :meth:`close` shuts the server down exactly once however many
callers ask (concurrent callers all wait for that one shutdown), and the socket is closed only
after uvicorn has stopped using it.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import hmac
import html
import logging
import socket
from dataclasses import dataclass
from typing import Any, Callable
from urllib.parse import parse_qsl, urlsplit

import uvicorn

from bonjoro_tui.plumbing import serving
from bonjoro_tui.auth.errors import (
    AuthorizationDenied,
    CallbackServerError,
    CallbackTimeout,
    InvalidCallback,
    IssuerMismatch,
    LoginCancelled,
    LoginError,
    MissingCode,
    StateMismatch,
    clean_text,
)

log = logging.getLogger(__name__)

_SINGLE = ("code", "state", "error", "error_description", "iss")

PAGE_HEADERS = [
    (b"content-type", b"text/html; charset=utf-8"),
    (b"referrer-policy", b"no-referrer"),
    (b"cache-control", b"no-store"),
    (b"pragma", b"no-cache"),
    (b"content-security-policy", b"default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
]


#: Said of a redirect that was refused while the sign-in goes on waiting.
_STILL_WAITING = "the sign-in is still waiting for the right redirect"


@dataclass(frozen=True)
class CallbackResult:
    code: str
    state: str
    iss: str | None = None

    def __repr__(self) -> str:  # the code is a secret
        return f"CallbackResult(code=<{len(self.code)} chars>, iss={self.iss!r})"


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))


def _page(title: str, message: str) -> bytes:
    return (
        "<!doctype html><html><head><meta charset=\"utf-8\">"
        f"<title>{html.escape(title)}</title></head><body>"
        f"<h1>{html.escape(title)}</h1><p>{html.escape(message)}</p>"
        "</body></html>"
    ).encode("utf-8")


class _Refused(Exception):
    """A callback that does not count: answer it with an error page and keep waiting."""

    def __init__(self, status: int, error: LoginError) -> None:
        self.status = status
        self.error = error


class _NoHttpSignals(serving.PromptServer):
    """uvicorn, adapted to a server that lives for one sign-in (plumbing.serving.PromptServer):
    the app around us owns SIGINT/SIGTERM, and a sign-in waits for this server's shutdown (the
    callback's connection has already been answered by then), so it stops as soon as asked."""

    shutdown_message = "the sign-in callback server is shutting down"


class CallbackServer:
    def __init__(
        self,
        expected_state: str,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        path: str = "/callback",
        expected_issuer: str | None = None,
        require_issuer: bool = False,
        timeout: float = 300.0,
        redirect_host: str | None = None,
        on_rejected: Callable[[LoginError], None] | None = None,
    ) -> None:
        if host != "127.0.0.1":
            # RFC 8252 §8.3: loopback only, and the literal IP (not "localhost").
            raise ValueError("the callback server listens on 127.0.0.1 only")
        self.expected_state = expected_state
        self.host = host
        self.port = port
        self.path = path or "/"
        self.expected_issuer = expected_issuer
        #: RFC 9207 §2.4: the server says it always sends ``iss``, so a callback without it is refused.
        self.require_issuer = require_issuer and expected_issuer is not None
        self.timeout = timeout
        self.redirect_host = redirect_host or host
        self.on_rejected = on_rejected
        self.rejected = 0
        self._sock: socket.socket | None = None
        self._server: _NoHttpSignals | None = None
        self._task: asyncio.Task[None] | None = None
        self._outcome: asyncio.Future[CallbackResult] | None = None
        self._settled = False
        self._closing: asyncio.Task[None] | None = None

    # ------------------------------------------------------------------ lifecycle

    @property
    def redirect_uri(self) -> str:
        return f"http://{self.redirect_host}:{self.port}{self.path}"

    @property
    def listening(self) -> bool:
        return self._sock is not None and self._sock.fileno() != -1

    async def start(self) -> str:
        """Bind 127.0.0.1, start serving, and return the redirect URI."""
        loop = asyncio.get_running_loop()
        self._outcome = loop.create_future()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            # Lets a fixed port be reused right after the previous sign-in (TIME_WAIT);
            # on Linux/macOS it does not allow binding a port someone is listening on.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.host, self.port))
            sock.listen(16)
            sock.setblocking(False)
        except OSError as exc:
            sock.close()
            if exc.errno == errno.EADDRINUSE:
                raise CallbackServerError(
                    f"port {self.port} on {self.host} is in use, so the sign-in callback cannot be received there"
                ) from None
            raise CallbackServerError(f"cannot listen on {self.host}:{self.port}: {exc.strerror}") from None
        self._sock = sock
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self._app,
            log_config=None,
            # Not "warning": uvicorn warns about every malformed request ("Invalid HTTP request
            # received.", "Exceeded concurrency limit."), and with no handler configured logging's
            # last-resort handler prints those over the TUI — any local process could scribble there.
            log_level="error",
            access_log=False,
            lifespan="off",
            interface="asgi3",
            proxy_headers=False,
            http=serving.h11_protocol(),  # h11, plus a deadline to deliver each request
            h11_max_incomplete_event_size=serving.MAX_REQUEST_HEAD,
            ws="none",
            server_header=False,
            limit_concurrency=32,
            timeout_keep_alive=2,
            timeout_graceful_shutdown=2,
        )
        self._server = _NoHttpSignals(config)
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]), name="bonjoro-callback-server")
        while not self._server.started:
            if self._task.done():
                await self.close()
                raise CallbackServerError(f"the callback server on {self.host}:{self.port} failed to start")
            await asyncio.sleep(0.005)
        return self.redirect_uri

    async def wait(self, *, close: bool = True) -> CallbackResult:
        """The first valid callback; raises a :class:`LoginError`. Closes the server.

        With ``close=False`` it returns as soon as the callback is settled (the browser has
        its answer and no second callback is accepted) and leaves the shutdown to the caller,
        who can then run it concurrently with the code exchange — uvicorn only notices a
        shutdown request every 0.1 s. The caller must then ``await close()``.
        """
        if self._outcome is None:
            raise RuntimeError("start() the callback server first")
        try:
            return await asyncio.wait_for(asyncio.shield(self._outcome), self.timeout)
        except asyncio.TimeoutError:
            self._settled = True
            if self.rejected:
                raise StateMismatch(
                    f"no valid sign-in callback arrived within {self.timeout:g} s; "
                    f"{self.rejected} callback(s) with a wrong or missing state were refused"
                ) from None
            raise CallbackTimeout(f"no sign-in callback arrived within {self.timeout:g} s") from None
        finally:
            if close:
                await self.close()

    def cancel(self) -> None:
        self._settle_error(LoginCancelled("the sign-in was cancelled"))

    async def close(self) -> None:
        """Stop serving and close the socket (idempotent; safe to call concurrently).

        The shutdown runs once, in its own task; every caller waits for it to finish. A
        caller cancelled meanwhile still waits for it (it is bounded by the graceful
        shutdown timeout) and then re-raises the cancellation, so nobody returns while the
        socket is still registered with the event loop — closing it under uvicorn's feet
        frees its descriptor number for the next connection while the loop still watches it.
        """
        closing = self.begin_close()
        cancelled = False
        while not closing.done():
            try:
                await asyncio.shield(closing)
            except asyncio.CancelledError:
                if closing.cancelled():
                    break
                cancelled = True
            except Exception:  # noqa: BLE001 - reported below through closing.exception()
                break
        if cancelled:
            raise asyncio.CancelledError
        if not closing.cancelled() and closing.exception() is not None:
            raise closing.exception()  # type: ignore[misc]

    def begin_close(self) -> asyncio.Task[None]:
        """Start the shutdown without waiting for it (idempotent); ``await close()`` later."""
        self._settled = True
        if self._outcome is not None and not self._outcome.done():
            self._outcome.set_exception(LoginCancelled("the sign-in was cancelled"))
            self._outcome.exception()  # mark retrieved
        if self._closing is None:
            if self._server is not None:
                self._server.request_exit()
            self._closing = asyncio.ensure_future(self._shutdown())
        return self._closing

    async def _shutdown(self) -> None:
        server, task, self._task = self._server, self._task, None
        try:
            if server is not None and task is not None:
                server.request_exit()
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(asyncio.shield(task), 5)
                if not task.done():
                    server.force_exit = True
                    task.cancel()
                    with contextlib.suppress(BaseException):
                        await task
        finally:
            if self._sock is not None:
                self._sock.close()

    async def __aenter__(self) -> "CallbackServer":
        await self.start()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    # ------------------------------------------------------------------ validation

    def _settle_result(self, result: CallbackResult) -> None:
        self._settled = True
        if self._outcome is not None and not self._outcome.done():
            self._outcome.set_result(result)

    def _settle_error(self, error: LoginError) -> None:
        self._settled = True
        if self._outcome is not None and not self._outcome.done():
            self._outcome.set_exception(error)

    def _evaluate(self, query: str) -> CallbackResult | LoginError:
        """Judge an authorization response. Raises _Refused for one that does not count;
        returns the result or the error that ends the wait."""
        if self._settled:
            raise _Refused(409, InvalidCallback("this sign-in is already complete; a second callback is not accepted"))
        pairs = parse_qsl(query, keep_blank_values=True)
        params: dict[str, str] = {}
        for key, value in pairs:
            if key in _SINGLE and key in params:
                raise _Refused(400, InvalidCallback(f"the callback repeats the parameter {key!r}; refused"))
            params[key] = value
        if "code" not in params and "error" not in params:
            raise _Refused(400, InvalidCallback("this is not an authorization response (no code and no error)"))
        state = params.get("state")
        if not state or not _same(state, self.expected_state):
            what = "no state" if not state else "a state that does not match this sign-in"
            # Refused, and the wait goes on: the hint must not say to start again.
            raise _Refused(400, StateMismatch(
                f"a callback with {what} was refused",
                hint="that redirect did not come from this sign-in (an older tab or another sign-in); "
                     f"{_STILL_WAITING}"))
        iss = params.get("iss")
        if iss is None and self.require_issuer:
            return IssuerMismatch(
                f"the callback carries no issuer (iss), but {self.expected_issuer!r} says it always sends one "
                "(RFC 9207): the response may come from another server (a mix-up attack)"
            )
        if iss is not None and self.expected_issuer is not None and not _same(iss, self.expected_issuer):
            return IssuerMismatch(
                f"the callback names the issuer {clean_text(iss, 80)!r}, not {self.expected_issuer!r}; "
                "the sign-in was stopped (RFC 9207)"
            )
        if "error" in params:
            desc = params.get("error_description")
            return AuthorizationDenied(clean_text(params["error"], 60) or "error", clean_text(desc) if desc else None)
        if not params.get("code"):
            return MissingCode("the authorization server redirected back without a code")
        return CallbackResult(code=params["code"], state=state, iss=iss)

    def _reject(self, refused: _Refused) -> None:
        if isinstance(refused.error, StateMismatch):
            self.rejected += 1
        # info, not warning: logging's last-resort handler would print warnings over a TUI
        log.info("refused a sign-in callback: %s", refused.error)
        if self.on_rejected is not None:
            with contextlib.suppress(Exception):
                self.on_rejected(refused.error)

    def submit_redirect_url(self, url: str) -> None:
        """Accept a redirect URL pasted by the user, with the same checks as a callback.

        Raises :class:`InvalidCallback` / :class:`StateMismatch` for a URL that does not
        count (the wait goes on); otherwise settles the wait (successfully or not).
        Call it from the event loop's thread.
        """
        url = url.strip()
        if "://" in url:
            parts = urlsplit(url)
            try:
                port = parts.port
            except ValueError:
                port = None
            if (
                parts.scheme != "http"
                or parts.hostname not in {self.redirect_host, self.host}
                or port != self.port
                or parts.path != self.path
            ):
                raise InvalidCallback(
                    f"that URL is not this sign-in's redirect URL ({self.redirect_uri}?…)",
                    hint=f"paste the full URL the browser was redirected to (it starts with {self.redirect_uri}); "
                         f"{_STILL_WAITING}")
            query = parts.query
        else:
            query = url.lstrip("?")
        try:
            outcome = self._evaluate(query)
        except _Refused as refused:
            self._reject(refused)
            raise refused.error from None
        if isinstance(outcome, CallbackResult):
            self._settle_result(outcome)
        else:
            self._settle_error(outcome)

    # ------------------------------------------------------------------ ASGI app

    async def _app(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            return
        # Read the whole request first (a body is ignored): if the rest of it is malformed, the
        # server has already answered 400 and closed, and there is nobody left to answer.
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            if not message.get("more_body", False):
                break
        settle: Callable[[], None] | None = None
        host = dict(scope.get("headers") or []).get(b"host", b"").decode("latin-1").lower()
        allowed = {f"{self.host}:{self.port}", f"{self.redirect_host}:{self.port}"}
        if host not in allowed:
            status, title, text = 421, "Wrong address", "This server only answers at its own loopback address."
        elif scope["path"] != self.path:
            status, title, text = 404, "Not found", "Nothing here."
        elif scope["method"] != "GET":
            status, title, text = 405, "Method not allowed", "Only the sign-in redirect is accepted here."
        else:
            try:
                outcome = self._evaluate(scope.get("query_string", b"").decode("latin-1"))
            except _Refused as refused:
                self._reject(refused)
                status, title, text = refused.status, "Sign-in refused", str(refused.error)
            else:
                self._settled = True  # no second callback from here on, even before we reply
                if isinstance(outcome, CallbackResult):
                    status, title = 200, "Authorization received"
                    text = "bonjoro-tui received the authorization. You can close this tab and return to the terminal."
                    settle = lambda: self._settle_result(outcome)  # noqa: E731
                else:
                    status, title, text = 400, "Sign-in failed", f"{outcome} — return to the terminal."
                    settle = lambda: self._settle_error(outcome)  # noqa: E731
        body = _page(title, text)
        headers = PAGE_HEADERS + [(b"content-length", str(len(body)).encode())]
        if status == 405:
            headers.append((b"allow", b"GET"))
        try:
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": body})
        finally:
            if settle is not None:
                settle()

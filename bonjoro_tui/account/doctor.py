"""``bonjoro-tui doctor``: does the configured server answer the way bonjoro-tui assumes?

:func:`run_checks` runs one check after another against the configured target (the built-in
sandbox: its running origin) and returns a :class:`Check` per line — ``ok``, ``fail``, ``warn`` or
``skip``, what was seen (``detail``) and what to do about it (``todo``):

- **settings**: the target, the client, the token body format and where each came from; a
  working-directory ``.env`` that would split a sign-in (``trust.check_sign_in``) fails here;
- **reach ORIGIN** for every origin the endpoints use (authorize, token, revoke, API base): DNS,
  TCP, and TLS (the trust anchors the session's client uses) — each a step of its own, so the
  first one that breaks is named;
- **discovery**: RFC 8414 ``/.well-known/oauth-authorization-server`` and OpenID Connect's
  ``/.well-known/openid-configuration`` at the issuer (or the base origin): present or not (not a
  failure either way: bonjoro-tui never discovers, it uses the configured URLs), and where a
  published document disagrees with the settings, which setting to change;
- **authorize endpoint**: a GET with a dummy ``client_id`` (redirects are not followed): a page,
  a redirect or a refusal of the dummy client is "answers"; a 404 names ``BONJORO_AUTHORIZE_URL``
  and where its value came from;
- **token endpoint**: a POST of an empty grant (``grant_type=``, the configured client id, never a
  secret) in the configured body format must get an OAuth error in JSON; **token body format**:
  the same in the other format, and from the two answers which format(s) the server reads;
- **stored profile**: the origins the profile was signed in with against the current settings
  (``trust.destination_error`` / ``blocked_reason``);
- **access token**: its JWT header and claims, decoded *without verification* and labelled so
  (alg, kid, typ, iss, aud, sub, exp against the stored ``expires_at``); "opaque" otherwise;
- **API identity**: ``GET /me`` (with the token only where ``trust.destination_error`` allows it);
  where it is not served, ``GET /users/{sub}`` for the token's ``sub`` (what ``account.identity``
  does then) and Bonjoro's published ``GET /users?limit=1``; **rate-limit headers** on the answer;
- **clock**: this machine's clock against the servers' ``Date`` headers (a warning past 30 s).

Every request: short timeouts, redirects never followed, bodies read with ``read_capped``. The
access token is never in a result (at most ``redact.mask``), nor a JWT signature; text a server
sent is passed through ``safe_text`` before it is put in a detail. Nothing is written: no token is
refreshed, no sign-in started.
"""

from __future__ import annotations

import asyncio
import base64
import json
import socket
import ssl
import statistics
import time
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any, Callable, Literal
from urllib.parse import urlsplit

from bonjoro_tui import trust
from bonjoro_tui.account.format import duration, iso
from bonjoro_tui.redact import mask
from bonjoro_tui.safetext import safe_text
from bonjoro_tui.settings import SANDBOX, Settings

if TYPE_CHECKING:
    import httpx

    from bonjoro_tui.account.session import AppSession
    from bonjoro_tui.store import StoredProfile

Status = Literal["ok", "fail", "warn", "skip"]
STATUSES: tuple[Status, ...] = ("ok", "fail", "warn", "skip")

#: Seconds each step may take (a DNS lookup, a connection, a handshake, one request).
DEFAULT_TIMEOUT = 5.0
#: A clock further off than this (seconds) is worth a warning.
MAX_SKEW = 30.0
#: How far a JWT's ``exp`` may be from the stored ``expires_at`` (the latter is computed from the
#: token response's ``expires_in`` and the time the request was *sent*, so it errs a little early).
MAX_EXP_DISAGREEMENT = 60.0
#: The client id the authorize probe sends: no server has registered it.
DUMMY_CLIENT_ID = "bonjoro-tui-doctor"
#: Errors a token endpoint gives an empty grant it has read (RFC 6749 §5.2).
_READ_GRANT_ERRORS = ("unsupported_grant_type", "invalid_request")
_DEFAULT_PORTS = {"http": 80, "https": 443}
_SETTING_NAMES = {"authorize_url": "BONJORO_AUTHORIZE_URL", "token_url": "BONJORO_TOKEN_URL",
                  "revoke_url": "BONJORO_REVOKE_URL", "api_base": "BONJORO_API_BASE"}


@dataclass(frozen=True)
class Check:
    """One line of the doctor's report."""

    name: str
    status: Status
    detail: str
    todo: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "status": self.status, "detail": self.detail, "todo": self.todo or None}


def failed(checks: list[Check]) -> bool:
    return any(c.status == "fail" for c in checks)


def _server(text: Any, limit: int = 160) -> str:
    """Server text for a detail: one line, escaped, cut."""
    return safe_text(" ".join(safe_text(text, multiline=True).split()), limit=limit)


def _from(settings: Settings, key: str) -> str:
    """``from the environment variable X`` / ``derived from …`` / ``from the default``."""
    source = settings.source(key)
    return source if source.startswith("derived from") else f"from {source}"


def _setting(settings: Settings, key: str) -> str:
    return f"{_SETTING_NAMES.get(key, key)} = {getattr(settings, key)} ({_from(settings, key)})"


# --------------------------------------------------------------------------- HTTP


class _Unreachable(Exception):
    """A request got no HTTP answer; the message says why (one line, ours)."""


@dataclass
class _Reply:
    method: str
    url: str
    status: int
    reason: str
    headers: "httpx.Headers"
    body: bytes

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    @property
    def is_html(self) -> bool:
        head = self.body[:512].lstrip().lower()
        return self.content_type in ("text/html", "application/xhtml+xml") or head.startswith((b"<!doctype", b"<html"))

    def json(self) -> Any:
        """The body as JSON, or None (not JSON, empty, HTML)."""
        if not self.body.strip() or self.is_html:
            return None
        try:
            return json.loads(self.body)
        except (ValueError, UnicodeDecodeError, RecursionError):
            return None

    def title(self) -> str:
        """An HTML page's <title>, escaped ("" when none)."""
        text = self.body[:65536].decode("utf-8", errors="replace")
        low = text.lower()
        start = low.find("<title")
        if start < 0:
            return ""
        start = low.find(">", start) + 1
        end = low.find("</title", start)
        return _server(text[start:end], 80) if start > 0 and end > start else ""

    def summary(self) -> str:
        """``HTTP 404 (application/json)``-style: status and what kind of body."""
        kind = "an HTML page" if self.is_html else (self.content_type or "no content type")
        if not self.body.strip():
            kind = "an empty body"
        return f"HTTP {self.status} with {kind}"


def _message_of(body: Any) -> str:
    """The error text of a JSON error body, RFC 6749 or Bonjoro/Laravel style ("" when none)."""
    if not isinstance(body, dict):
        return ""
    error = body.get("error")
    if isinstance(error, dict):
        return _server(error.get("message", ""))
    parts = [body.get(k) for k in ("error", "error_description", "message")]
    return _server(": ".join(p for p in parts if isinstance(p, str) and p))


# --------------------------------------------------------------------------- the checks


class _Doctor:
    def __init__(self, settings: Settings, http: "httpx.AsyncClient", *, now: Callable[[], float],
                 timeout: float, profile: "StoredProfile | None", store_error: str | None) -> None:
        self.settings = settings
        self.http = http
        self.now = now
        self.timeout = timeout
        self.profile = profile
        self.store_error = store_error
        self.unreachable: dict[str, str] = {}
        #: (server time from Date, local time at the middle of the exchange, URL)
        self.dates: list[tuple[float, float, str]] = []
        self.api_replies: list[_Reply] = []

    # ------------------------------------------------------------------ plumbing

    async def send(self, method: str, url: str, *, headers: dict[str, str] | None = None,
                   params: dict[str, str] | None = None, json_body: Any = None,
                   form: dict[str, str] | None = None) -> _Reply:
        import httpx

        from bonjoro_tui.plumbing.httplimits import MAX_OAUTH_BODY, BodyTooLarge, read_capped

        request = self.http.build_request(method, url, headers=headers, params=params, json=json_body, data=form,
                                          timeout=self.timeout)
        sent = self.now()
        try:
            response = await self.http.send(request, follow_redirects=False, stream=True)
            try:
                body = await read_capped(response, MAX_OAUTH_BODY)
            except BodyTooLarge:
                body = b""  # the status and headers still tell; the body is not needed here
        except httpx.TimeoutException:
            raise _Unreachable(f"no answer within {self.timeout:g} s") from None
        except httpx.HTTPError as exc:
            raise _Unreachable(_server(str(exc), 120) or type(exc).__name__) from None
        received = self.now()
        date = response.headers.get_list("date")
        if date:
            try:
                server = parsedate_to_datetime(date[0]).timestamp()
            except (TypeError, ValueError, IndexError):
                pass
            else:
                self.dates.append((server, (sent + received) / 2, str(request.url)))
        return _Reply(method, str(request.url), response.status_code, response.reason_phrase, response.headers, body)

    def gone(self, url: str) -> str | None:
        """Why ``url``'s origin was found unreachable earlier (then its checks are skipped)."""
        return self.unreachable.get(trust.origin(url))

    # ------------------------------------------------------------------ settings

    def check_settings(self) -> Check:
        s = self.settings
        where = f"the built-in sandbox at {s.base_url}" if s.target == SANDBOX else f"{s.target_id}"
        detail = (f"target {where}; client {s.client_id or '(none)'} ({_from(s, 'client_id')}); "
                  f"token body {s.token_format} ({_from(s, 'token_format')})")
        if not s.client_id:
            return Check("settings", "fail", detail + "; no client id is configured",
                         "set BONJORO_CLIENT_ID to the client Bonjoro registered for you")
        try:
            trust.check_sign_in(s, "code")
        except trust.UntrustedConfiguration as exc:
            return Check("settings", "fail", f"{detail}; {exc}", exc.hint)
        if s.warnings:
            return Check("settings", "warn", f"{detail}; {len(s.warnings)} setting(s) ignored: " + "; ".join(s.warnings),
                         "fix or remove the ignored settings named above")
        return Check("settings", "ok", detail)

    # ------------------------------------------------------------------ reachability

    def origins(self) -> dict[str, list[str]]:
        """Each origin the endpoints use, with the settings that use it (in sign-in order)."""
        found: dict[str, list[str]] = {}
        for key in trust.ENDPOINTS:
            url = getattr(self.settings, key)
            if url:
                found.setdefault(trust.origin(url), []).append(key)
        return found

    async def check_reach(self, origin: str, keys: list[str]) -> Check:
        name = f"reach {origin}"
        parts = urlsplit(origin)
        host = parts.hostname or ""
        port = parts.port or _DEFAULT_PORTS.get(parts.scheme, 443)
        used_by = ", ".join(_SETTING_NAMES[k] for k in keys)
        settings_hint = "; ".join(_setting(self.settings, k) for k in keys)
        proxy = _proxy_for(parts.scheme, host)
        via = f"; requests go through the proxy {proxy} (from the environment)" if proxy else ""
        # With a proxy, a direct connection may well be impossible while requests work.
        bad: Status = "warn" if proxy else "fail"
        loop = asyncio.get_running_loop()
        steps: list[str] = []
        try:
            infos = await asyncio.wait_for(loop.getaddrinfo(host, port, type=socket.SOCK_STREAM), self.timeout)
        except (OSError, asyncio.TimeoutError) as exc:
            reason = "no answer" if isinstance(exc, asyncio.TimeoutError) else (getattr(exc, "strerror", None) or str(exc))
            self.unreachable[origin] = f"DNS failed for {host}"
            return Check(name, bad, f"DNS: cannot resolve {host} ({_server(reason, 80)}); used by {used_by}{via}",
                         f"check the host name ({settings_hint}) and this machine's network and DNS")
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
        steps.append("DNS " + ", ".join(addresses[:3]) + (" …" if len(addresses) > 3 else ""))
        started = time.perf_counter()
        try:
            _reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), self.timeout)
        except (OSError, asyncio.TimeoutError) as exc:
            if isinstance(exc, ConnectionRefusedError):
                why, todo = "connection refused (nothing listens there)", "is the server running, and is the port right?"
            elif isinstance(exc, asyncio.TimeoutError):
                why, todo = f"no connection within {self.timeout:g} s", "a firewall or a wrong address? check"
            else:
                why, todo = _server(getattr(exc, "strerror", None) or str(exc), 80), "check"
            self.unreachable[origin] = f"TCP to {host}:{port} failed"
            return Check(name, bad, f"{steps[0]}; TCP {host}:{port}: {why}; used by {used_by}{via}",
                         f"{todo} ({settings_hint})")
        steps.append(f"TCP :{port} in {(time.perf_counter() - started) * 1000:.0f} ms")
        status: Status = "ok"
        todo = ""
        try:
            if parts.scheme != "https":
                steps.append("plain http (accepted for loopback only)")
            else:
                from bonjoro_tui.plumbing.tls import DeferredTrustContext

                context = DeferredTrustContext(trust_env=True)
                try:
                    await asyncio.to_thread(context.load_trust)
                    await asyncio.wait_for(writer.start_tls(context, server_hostname=host), self.timeout)
                except ssl.SSLCertVerificationError as exc:
                    self.unreachable[origin] = "its TLS certificate is not trusted"
                    return Check(name, "fail", f"{'; '.join(steps)}; TLS: the certificate is not trusted "
                                 f"({_server(exc.verify_message or exc.reason, 100)}); used by {used_by}",
                                 "if a proxy or a private CA sits in between, point SSL_CERT_FILE at its CA bundle; "
                                 "otherwise the host is not who it claims to be")
                except (ssl.SSLError, OSError, asyncio.TimeoutError) as exc:
                    reason = "no handshake in time" if isinstance(exc, asyncio.TimeoutError) else _server(str(exc), 100)
                    self.unreachable[origin] = "the TLS handshake failed"
                    return Check(name, "fail", f"{'; '.join(steps)}; TLS: the handshake failed ({reason}); used by {used_by}",
                                 f"check that {origin} speaks https on port {port} ({settings_hint})")
                tls = writer.get_extra_info("ssl_object")
                version = tls.version() if tls is not None else "TLS"
                cert = tls.getpeercert() if tls is not None else None
                steps.append(f"{version}, certificate verified for {host}")
                not_after = cert.get("notAfter") if isinstance(cert, dict) else None
                if isinstance(not_after, str):
                    try:
                        expires = ssl.cert_time_to_seconds(not_after)
                    except ValueError:
                        pass
                    else:
                        left = expires - time.time()
                        steps.append(f"valid until {iso(expires)}")
                        if left < 14 * 86400:
                            status, todo = "warn", "the certificate expires soon: tell the server's operator"
        finally:
            writer.close()
            try:
                await asyncio.wait_for(writer.wait_closed(), 1.0)
            except (OSError, asyncio.TimeoutError, ssl.SSLError):
                pass
        return Check(name, status, f"{'; '.join(steps)}; used by {used_by}{via}", todo)

    # ------------------------------------------------------------------ discovery

    def discovery_urls(self) -> tuple[str, list[str], list[str]]:
        """(where, RFC 8414 URLs, OpenID Connect URLs), the first of each list the standard one."""
        s = self.settings
        issuer = s.issuer or (trust.origin(s.base_url) if s.base_url else trust.origin(s.token_url or ""))
        parts = urlsplit(issuer)
        origin = f"{parts.scheme}://{parts.netloc}"
        path = parts.path.rstrip("/")
        oauth = [f"{origin}/.well-known/oauth-authorization-server{path}"]
        if path:  # RFC 8414 inserts the well-known part; some servers append it, as OIDC does
            oauth.append(f"{origin}{path}/.well-known/oauth-authorization-server")
        oidc = [f"{origin}{path}/.well-known/openid-configuration"]
        where = f"the issuer {issuer}" if s.issuer else f"the base origin {issuer}"
        return where, oauth, oidc

    async def check_discovery(self, kind: str, urls: list[str], where: str) -> Check:
        name = f"discovery: {kind}"
        if self.gone(urls[0]):
            return Check(name, "skip", f"not fetched: {self.gone(urls[0])} (see above)")
        replies: list[_Reply] = []
        for url in urls:
            try:
                reply = await self.send("GET", url, headers={"Accept": "application/json"})
            except _Unreachable as exc:
                return Check(name, "warn", f"{url}: {exc}", "")
            replies.append(reply)
            doc = reply.json() if reply.status == 200 else None
            if isinstance(doc, dict):
                return self._published(name, kind, url, doc)
        absent = "; ".join(f"{urlsplit(r.url).path}: {r.summary()}" for r in replies)
        if kind == "openid-configuration":
            meaning = ("not an OpenID Connect provider (or it does not say so here): fine, bonjoro-tui uses plain "
                       "OAuth 2.0 and reads no ID token")
        else:
            meaning = ("no RFC 8414 metadata: the endpoints cannot be discovered, which is fine — bonjoro-tui always "
                       "uses the configured URLs (live Bonjoro publishes none)")
        status: Status = "ok"
        todo = ""
        if any(r.status >= 500 for r in replies):
            status, todo = "warn", "the server failed on a metadata request; try again later"
        return Check(name, status, f"not published at {where} ({absent}): {meaning}", todo)

    def _published(self, name: str, kind: str, url: str, doc: dict[str, Any]) -> Check:
        s = self.settings
        notes: list[str] = []
        todos: list[str] = []
        published = doc.get("issuer")
        if isinstance(published, str):
            notes.append(f"issuer {_server(published, 100)}")
            if s.issuer and published != s.issuer:
                todos.append(f"the published issuer differs from BONJORO_ISSUER = {s.issuer} "
                             f"({_from(s, 'issuer')}): set BONJORO_ISSUER={_server(published, 100)}")
        for field_name, key in (("authorization_endpoint", "authorize_url"), ("token_endpoint", "token_url"),
                                ("revocation_endpoint", "revoke_url")):
            value = doc.get(field_name)
            if not isinstance(value, str) or not value:
                continue
            configured = getattr(s, key)
            if configured is None:
                if key == "revoke_url":
                    todos.append(f"it publishes a revocation endpoint ({_server(value, 100)}) and none is configured: "
                                 f"set BONJORO_REVOKE_URL to it so logout revokes")
                continue
            if value != configured:
                todos.append(f"it publishes {field_name} {_server(value, 100)}, but {_setting(s, key)}")
        methods = doc.get("code_challenge_methods_supported")
        if isinstance(methods, list):
            if "S256" not in methods:
                todos.append("it does not list PKCE S256 in code_challenge_methods_supported (bonjoro-tui always sends S256)")
            else:
                notes.append("PKCE S256")
        if doc.get("authorization_response_iss_parameter_supported") is True:
            notes.append("iss on the redirect (RFC 9207)")
        head = f"published at {url}" + (f": {', '.join(notes)}" if notes else "")
        if todos:
            return Check(name, "warn", head + "; it disagrees with the settings", "; ".join(todos))
        return Check(name, "ok", head + "; the configured endpoints agree with it")

    # ------------------------------------------------------------------ authorize

    async def check_authorize(self) -> Check:
        name = "authorize endpoint"
        url = self.settings.authorize_url
        if not url:
            return Check(name, "skip", "no authorize URL configured: only client credentials and API keys can sign in",
                         "set BONJORO_AUTHORIZE_URL to sign in with a browser")
        if self.gone(url):
            return Check(name, "skip", f"not tried: {self.gone(url)} (see above)")
        params = {"response_type": "code", "client_id": DUMMY_CLIENT_ID, "redirect_uri": "http://127.0.0.1/callback",
                  "state": "bonjoro-tui-doctor", "code_challenge": "A" * 43, "code_challenge_method": "S256"}
        try:
            r = await self.send("GET", url, params=params, headers={"Accept": "text/html"})
        except _Unreachable as exc:
            return Check(name, "fail", f"GET {url}: {exc}", f"check {_setting(self.settings, 'authorize_url')}")
        title = f' ("{r.title()}")' if r.is_html and r.title() else ""
        where = f"GET {url} with a dummy client_id"
        if 300 <= r.status < 400:
            location = r.headers.get("location", "")
            to = f" to {_server(trust.origin(location), 100)}" if urlsplit(location).netloc else ""
            return Check(name, "ok", f"{where}: answers HTTP {r.status}, a redirect{to} (not followed) — to a login "
                         "page or back with an error, as an authorization endpoint does")
        if r.status == 200:
            return Check(name, "ok", f"{where}: answers 200 with {'a page' + title if r.is_html else r.content_type}")
        if r.status in (400, 401, 403, 422):
            message = _message_of(r.json())
            seen = title or (f" ({message})" if message else "")
            return Check(name, "ok", f"{where}: answers HTTP {r.status}{seen} — it refuses the unknown client, as it should")
        todo = f"fix {_setting(self.settings, 'authorize_url')}"
        if r.status in (404, 410):
            return Check(name, "fail", f"{where}: {r.summary()} — there is no authorization endpoint at this URL", todo)
        if r.status == 405:
            return Check(name, "fail", f"{where}: HTTP 405 — this URL does not take GET, so it is not an authorization "
                         "endpoint", todo)
        if r.status >= 500:
            return Check(name, "fail", f"{where}: {r.summary()} — the server failed", "try again later; " + todo)
        return Check(name, "warn", f"{where}: {r.summary()}, which an authorization endpoint does not usually answer", todo)

    # ------------------------------------------------------------------ token endpoint

    async def probe_token(self, fmt: str) -> _Reply | str:
        url = self.settings.token_url or ""
        body = {"grant_type": ""}
        if self.settings.client_id:
            body["client_id"] = self.settings.client_id  # an id is public; no secret is ever sent here
        headers = {"Accept": "application/json", "Cache-Control": "no-store"}
        try:
            if fmt == "form":
                return await self.send("POST", url, headers=headers, form=body)
            return await self.send("POST", url, headers=headers, json_body=body)
        except _Unreachable as exc:
            return str(exc)

    @staticmethod
    def classify(reply: _Reply | str) -> tuple[str, str]:
        """("oauth", error) | ("json", message) | ("html"|"notfound"|"redirect"|"unsupported"|
        "server"|"other"|"unreachable", summary) for a token endpoint's answer to the empty grant."""
        if isinstance(reply, str):
            return "unreachable", reply
        if 300 <= reply.status < 400:
            return "redirect", f"HTTP {reply.status}, a redirect (not followed)"
        if reply.status in (404, 410):
            return "notfound", reply.summary()
        if reply.status == 415:
            return "unsupported", f"HTTP 415 (unsupported media type){' ' + _message_of(reply.json()) if reply.json() else ''}"
        if reply.status >= 500:
            return "server", reply.summary()
        body = reply.json()
        if isinstance(body, dict) and isinstance(body.get("error"), str) and body["error"]:
            return "oauth", _server(body["error"], 60)
        if reply.is_html:
            return "html", reply.summary()
        if body is not None:
            return "json", f"HTTP {reply.status}, JSON but not an OAuth error" + (
                f" ({_message_of(body)})" if _message_of(body) else "")
        return "other", reply.summary()

    @staticmethod
    def describe_oauth(reply: _Reply | str) -> str:
        assert not isinstance(reply, str)
        body = reply.json()
        text = f"HTTP {reply.status} {_server(body['error'], 60)}"
        description = body.get("error_description")
        if isinstance(description, str) and description:
            text += f" ({_server(description, 100)})"
        return text

    async def check_token(self) -> tuple[Check, Check]:
        s = self.settings
        name, fmt_name = "token endpoint", "token body format"
        url = s.token_url
        if not url:
            skip = Check(name, "fail", "no token URL configured", "set BONJORO_TOKEN_URL or BONJORO_BASE_URL")
            return skip, Check(fmt_name, "skip", "no token URL configured")
        if self.gone(url):
            why = f"not tried: {self.gone(url)} (see above)"
            return Check(name, "skip", why), Check(fmt_name, "skip", why)
        mine = s.token_format
        other = "form" if mine == "json" else "json"
        replies = {mine: await self.probe_token(mine), other: await self.probe_token(other)}
        kinds = {f: self.classify(r) for f, r in replies.items()}
        where = f"POST {url} with an empty grant as a {mine} body"
        kind, what = kinds[mine]
        fix_url = f"check {_setting(s, 'token_url')}"
        if kind == "oauth":
            first = Check(name, "ok", f"{where}: {self.describe_oauth(replies[mine])} — an OAuth error in JSON, as RFC 6749 says")
        elif kind == "json":
            first = Check(name, "warn", f"{where}: {what} — the server answers JSON, but not RFC 6749's error "
                          "shape; bonjoro-tui shows its message as it is", "")
        elif kind == "notfound":
            first = Check(name, "fail", f"{where}: {what} — there is no token endpoint at this URL", fix_url)
        elif kind == "html":
            first = Check(name, "fail", f"{where}: {what} instead of an OAuth error in JSON — this URL is a web page, "
                          "not a token endpoint", fix_url)
        elif kind == "unreachable":
            first = Check(name, "fail", f"{where}: {what}", fix_url)
        elif kind == "unsupported":
            first = Check(name, "fail", f"{where}: {what} — it does not read a {mine} body", "")
        else:
            first = Check(name, "fail", f"{where}: {what} — not the OAuth error a token endpoint answers", fix_url)
        return first, self.format_check(fmt_name, mine, other, replies, kinds)

    def format_check(self, name: str, mine: str, other: str, replies: dict[str, _Reply | str],
                     kinds: dict[str, tuple[str, str]]) -> Check:
        s = self.settings
        seen = {f: (self.describe_oauth(replies[f]) if kinds[f][0] == "oauth" else kinds[f][1]) for f in (mine, other)}
        both = f"{mine}: {seen[mine]}; {other}: {seen[other]}"
        switch = f"set BONJORO_TOKEN_FORMAT={other} (now {mine}, {_from(s, 'token_format')})"
        mk, ok_ = kinds[mine][0] == "oauth", kinds[other][0] == "oauth"
        if mk and ok_:
            em, eo = kinds[mine][1], kinds[other][1]
            if em == eo == "invalid_client":
                return Check(name, "ok", f"both formats get invalid_client ({both}): the doctor sends no secret, and "
                             "a server that checks the client first stops there, so which format it reads cannot be "
                             f"told from this; {mine} is configured")
            if em == eo:
                return Check(name, "ok", f"it reads both formats alike ({both}); {mine} is configured")
            if em in _READ_GRANT_ERRORS and eo not in _READ_GRANT_ERRORS:
                return Check(name, "ok", f"it reads {mine} bodies, the one configured: a {other} body gets a different "
                             f"error ({both})")
            if eo in _READ_GRANT_ERRORS and em not in _READ_GRANT_ERRORS:
                return Check(name, "fail", f"it reads {other} bodies, not {mine}: only the {other} body's empty grant "
                             f"was seen ({both})", switch)
            return Check(name, "warn", f"the two formats get different errors and it cannot be told which it reads "
                         f"({both})", f"if signing in fails with {em}, {switch}")
        if mk:
            return Check(name, "ok", f"it reads {mine} bodies, the one configured ({both})")
        if ok_:
            return Check(name, "fail", f"it reads {other} bodies, not {mine} ({both})", switch)
        return Check(name, "fail", f"neither format gets an OAuth error ({both})",
                     f"check {_setting(s, 'token_url')}")

    # ------------------------------------------------------------------ the stored profile

    def usable(self) -> bool:
        p = self.profile
        return p is not None and p.target == self.settings.target_id

    def check_profile(self) -> Check:
        name = "stored profile"
        s = self.settings
        if self.store_error is not None:
            return Check(name, "fail", f"the token store cannot be read: {self.store_error}",
                         "see `bonjoro-tui paths` for where it lives")
        p = self.profile
        if p is None:
            return Check(name, "skip", f"not signed in (profile {s.profile!r}): the checks that need a token are skipped",
                         "run `bonjoro-tui login`, then `bonjoro-tui doctor` again")
        if p.target != s.target_id:
            return Check(name, "warn", f"profile {p.name!r} holds tokens issued by {p.target}, not by this target "
                         f"({s.target_id}): they are never sent here, so the checks that need a token are skipped",
                         "sign in here with `bonjoro-tui login`, or go back to the settings it was signed in with")
        recorded = (f"signed in ({p.method}) with token origin {p.target}, API origin {p.api_origin or '(not recorded)'}, "
                    f"revocation origin {p.revoke_origin or '(not recorded)'}")
        if trust.blocked_reason(s, p) is not None:
            return Check(name, "fail", f"{recorded}; {trust.destination_error(s, p, 'api_base')}",
                         trust.redirect_hint(s, "api_base"))
        if trust.logout_blocked_reason(s, p) is not None:
            return Check(name, "warn", f"{recorded}; requests go, but logout would be refused: "
                         f"{trust.destination_error(s, p, 'revoke_url')}", trust.redirect_hint(s, "revoke_url"))
        return Check(name, "ok", f"{recorded}: the current settings send its credentials to those origins only")

    def check_access_token(self) -> Check:
        name = "access token"
        p = self.profile
        if p is None or not self.usable():
            return Check(name, "skip", "no token for this target")
        t = p.tokens
        now = self.now()
        stored = (f"stored expires_at {iso(t.expires_at)}" if t.expires_at is not None else "stored as never expiring")
        if p.method == "api_key":
            return Check(name, "ok", f"an API key ({mask(t.access_token)}): opaque, nothing to decode; {stored}")
        decoded = _decode_jwt(t.access_token)
        if decoded is None:
            return Check(name, "ok", f"opaque (not a JWT: {mask(t.access_token)}): only the server knows its claims; {stored}")
        if decoded == "jwe":
            return Check(name, "ok", f"an encrypted JWT (JWE): its claims cannot be read here; {stored}")
        header, claims = decoded
        shown = [f"{k}={_claim(header[k]) if k in header else '(none)'}" for k in ("alg", "kid", "typ")]
        shown += [f"{k}={_claim(claims[k]) if k in claims else '(none)'}" for k in ("iss", "aud", "sub")]
        exp = claims.get("exp")
        problems: list[str] = []
        if isinstance(exp, (int, float)) and not isinstance(exp, bool):
            left = exp - now
            when = f"in {duration(left)}" if left > 0 else f"{duration(-left)} ago"
            shown.append(f"exp={iso(exp)} ({when})")
            if t.expires_at is None:
                problems.append("the token has an exp but the store says it never expires")
            elif abs(exp - t.expires_at) > MAX_EXP_DISAGREEMENT:
                problems.append(f"its exp disagrees with the stored expires_at {iso(t.expires_at)} by "
                                f"{duration(abs(exp - t.expires_at))}: the token response's expires_in and the token "
                                "say different things (or the clocks differ)")
        elif "exp" in claims:
            problems.append("its exp claim is not a number")
        else:
            shown.append("no exp")
        if header.get("alg") == "none":
            problems.append("alg none: the token is not signed")
        detail = f"JWT, decoded without verification (unverified): {', '.join(shown)}; {stored}"
        if t.expires_at is not None and t.expires_at <= now:
            detail += "; expired" + (" (bonjoro-tui refreshes it at the next request)" if t.refresh_token else "")
        if problems:
            return Check(name, "warn", detail + "; " + "; ".join(problems),
                         "bonjoro-tui times refreshes by the stored expires_at; if the server's exp is earlier, "
                         "requests may fail with 401 before it refreshes")
        return Check(name, "ok", detail)

    # ------------------------------------------------------------------ the API

    async def check_identity(self) -> Check:
        name = "API identity"
        s = self.settings
        base = s.api_base
        if not base:
            return Check(name, "skip", "no API base configured", "set BONJORO_API_BASE or BONJORO_BASE_URL")
        if self.gone(base):
            return Check(name, "skip", f"not tried: {self.gone(base)} (see above)")
        p = self.profile
        headers = {"Accept": "application/json"}
        signed_in = False
        expired = ""
        if p is not None and self.usable():
            refused = trust.destination_error(s, p, "api_base")
            if refused is not None:
                return Check(name, "skip", "the token is not sent: the stored profile's binding refuses the API base "
                             "(see above)")
            if p.tokens.expires_at is not None and p.tokens.expires_at <= self.now():
                # The doctor refreshes nothing: an expired token would only be refused.
                expired = f"the stored access token expired at {iso(p.tokens.expires_at)}, so it was not sent"
            else:
                headers["Authorization"] = f"{p.tokens.token_type or 'Bearer'} {p.tokens.access_token}"
                signed_in = True
        base = base.rstrip("/")
        try:
            me = await self.send("GET", base + "/me", headers=headers)
        except _Unreachable as exc:
            return Check(name, "fail", f"GET {base}/me: {exc}", f"check {_setting(s, 'api_base')}")
        self.api_replies.append(me)
        with_token = "with the token" if signed_in else "without a token"
        if me.status in (404, 405):
            result = await self._fallback(name, base, headers, me, signed_in)
        else:
            result = self._identity(name, f"GET {base}/me {with_token}", me, signed_in, fallback=False)
        if expired and result.status != "fail":
            refresh = ("run `bonjoro-tui refresh` (bonjoro-tui also refreshes on its own at the next request)"
                       if p is not None and p.tokens.refresh_token else "run `bonjoro-tui login`")
            return Check(name, "warn", f"{expired}; {result.detail}",
                         f"{refresh}, then `bonjoro-tui doctor` again to check the API with a token")
        return result

    async def _fallback(self, name: str, base: str, headers: dict[str, str], me: _Reply, signed_in: bool) -> Check:
        """``GET /me`` is not served (live Bonjoro publishes none): what bonjoro-tui does then —
        ``GET /users/{sub}`` for the access token's ``sub`` (``account.whoami.fetch_me``) — and
        Bonjoro's published list, ``GET /users?limit=1``."""
        from urllib.parse import quote

        from bonjoro_tui.account.identity import Identity, token_subject

        s = self.settings
        missing = f"GET {base}/me is not served ({me.summary()})"
        published = "Bonjoro publishes GET /api/v2/users and GET /users/{id}, not GET /me"
        sub = token_subject(self.profile.tokens.access_token) if signed_in and self.profile is not None else None
        why_not = "the access token names no user (no JWT sub)" if signed_in else ""
        if sub is not None:
            path = f"/users/{quote(sub, safe='')}"
            try:
                by_id = await self.send("GET", base + path, headers=headers)
            except _Unreachable as exc:
                why_not = f"GET {path}: {exc}"
            else:
                self.api_replies.append(by_id)
                body = by_id.json()
                if 200 <= by_id.status < 300 and isinstance(body, dict):
                    who = Identity.from_me(body)
                    shown = _server(who.display, 100) if who is not None else "a body that names nobody"
                    return Check(name, "ok", f"{missing}; GET {base}{_server(path, 80)} (the token's sub) answers "
                                 f"HTTP {by_id.status}: signed in as {shown} — bonjoro-tui reads the user this way "
                                 f"where GET /me is missing ({published})")
                why_not = f"GET {_server(path, 80)} (the token's sub) answered {by_id.summary()}"
        try:
            users = await self.send("GET", base + "/users", params={"limit": "1"}, headers=headers)
        except _Unreachable as exc:
            return Check(name, "fail", f"{missing}; GET {base}/users?limit=1: {exc}", f"check {_setting(s, 'api_base')}")
        self.api_replies.append(users)
        answered = self._identity(name, f"GET {base}/users?limit=1", users, signed_in, fallback=True)
        if answered.status == "fail":
            return Check(name, "fail", f"neither GET {base}/me ({me.summary()}) nor GET {base}/users?limit=1 "
                         f"({users.summary()}) answers as Bonjoro's API does", f"check {_setting(s, 'api_base')}")
        if not signed_in:
            return Check(name, answered.status, f"{missing}, but {answered.detail} ({published})", answered.todo)
        return Check(name, "warn", f"{missing}; {why_not}; but {answered.detail} — {published}",
                     "the API works, but bonjoro-tui's \"signed in as\" (login, the dashboard) needs GET /me or "
                     "GET /users/{the token's sub}, so it will show no identity against this server")

    def _identity(self, name: str, what: str, r: _Reply, signed_in: bool, *, fallback: bool) -> Check:
        from bonjoro_tui.account.identity import Identity

        s = self.settings
        body = r.json()
        if r.is_html or (r.body.strip() and body is None):
            return Check(name, "fail", f"{what}: {r.summary()}, not JSON — this is not an API base",
                         f"check {_setting(s, 'api_base')}")
        message = _message_of(body)
        said = f" ({message})" if message else ""
        if not signed_in:
            if r.status in (401, 403):
                return Check(name, "ok", f"{what}: HTTP {r.status}{said} — the API answers and wants a token "
                             "(sign in to check it with one)")
            if 200 <= r.status < 300:
                return Check(name, "warn", f"{what}: HTTP {r.status} without a token — an API that needs none?", "")
            return Check(name, "fail", f"{what}: {r.summary()}{said}", f"check {_setting(s, 'api_base')}")
        if 200 <= r.status < 300:
            if fallback:
                return Check(name, "ok", f"{what} answers HTTP {r.status}")
            who = Identity.from_me(body)
            shown = _server(who.display, 100) if who is not None else "a body that names nobody"
            return Check(name, "ok", f"{what}: HTTP {r.status}, signed in as {shown}")
        if r.status == 401:
            p = self.profile
            expired = p is not None and p.tokens.expires_at is not None and p.tokens.expires_at <= self.now()
            why = "the stored token has expired" if expired else "the server rejected the token"
            return Check(name, "fail", f"{what}: HTTP 401{said} — {why}",
                         "run `bonjoro-tui refresh` (or `bonjoro-tui login`)")
        if r.status == 403:
            return Check(name, "warn", f"{what}: HTTP 403{said} — the token is valid but may not read this",
                         "check the scopes your client was granted (BONJORO_SCOPE)")
        if r.status == 429:
            return Check(name, "warn", f"{what}: HTTP 429{said} — rate limited", "wait a minute and run it again")
        return Check(name, "fail", f"{what}: {r.summary()}{said}", f"check {_setting(s, 'api_base')}")

    def check_rate_limit(self) -> Check:
        name = "rate-limit headers"
        if not self.api_replies:
            return Check(name, "skip", "no API answer to look at")
        ok = [r for r in self.api_replies if 200 <= r.status < 300]
        reply = (ok or self.api_replies)[-1]
        limit = reply.headers.get("x-ratelimit-limit")
        remaining = reply.headers.get("x-ratelimit-remaining")
        path = urlsplit(reply.url).path
        if limit is None and remaining is None:
            return Check(name, "warn", f"no X-RateLimit-Limit/Remaining on {reply.method} {path} (HTTP {reply.status}): "
                         "how many requests are left cannot be shown", "")
        shown = f"X-RateLimit-Limit {_server(limit, 20) if limit is not None else '(missing)'}, " \
                f"X-RateLimit-Remaining {_server(remaining, 20) if remaining is not None else '(missing)'}"
        if limit is None or remaining is None:
            return Check(name, "warn", f"{shown} on {reply.method} {path}", "")
        if remaining.strip() == "0":
            return Check(name, "warn", f"{shown} on {reply.method} {path}: none left", "wait for the limit to reset")
        return Check(name, "ok", f"{shown} on {reply.method} {path}")

    def check_clock(self) -> Check:
        name = "clock"
        if not self.dates:
            return Check(name, "skip", "no answer carried a Date header to compare with")
        skews = [server - local for server, local, _ in self.dates]
        skew = statistics.median(skews)
        hosts = sorted({trust.origin(url) for *_, url in self.dates})
        against = f"against the Date header of {len(self.dates)} answer(s) from {', '.join(hosts)}"
        if abs(skew) > MAX_SKEW:
            way = "ahead of" if skew > 0 else "behind"
            return Check(name, "warn", f"the server's clock is {duration(round(abs(skew)))} ({abs(skew):.0f} s) {way} this "
                         f"machine's ({against})",
                         "set this machine's clock (NTP): expiry is computed locally from expires_in, and a server "
                         "checking exp/iat on its own clock will disagree")
        return Check(name, "ok", f"within {abs(skew):.0f} s of the server ({against}; Date has 1 s resolution)")


def _claim(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_server(v, 60) for v in value[:5]) + (", …" if len(value) > 5 else "") + "]"
    return _server(value, 80) if value is not None else "null"


def _b64json(part: str) -> Any:
    try:
        raw = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None


def _decode_jwt(token: str) -> tuple[dict[str, Any], dict[str, Any]] | Literal["jwe"] | None:
    """The header and claims of a JWS compact token, unverified; "jwe" for an encrypted one; None
    for anything else (an opaque token). The signature is never looked at."""
    parts = token.split(".")
    if len(parts) not in (3, 5) or not all(parts[:2]):
        return None
    header = _b64json(parts[0])
    if not isinstance(header, dict):
        return None
    if len(parts) == 5:
        return "jwe"
    claims = _b64json(parts[1])
    return (header, claims) if isinstance(claims, dict) else None


def _proxy_for(scheme: str, host: str) -> str | None:
    """``host:port`` of the proxy the environment names for this scheme and host (never its
    credentials), or None."""
    proxies = urllib.request.getproxies()
    url = proxies.get(scheme) or proxies.get("all")
    if not url:
        return None
    try:
        if urllib.request.proxy_bypass(host):
            return None
    except OSError:
        pass
    parts = urlsplit(url if "://" in url else f"http://{url}")
    return f"{parts.hostname}:{parts.port}" if parts.port else (parts.hostname or None)


# --------------------------------------------------------------------------- entry point


async def run_checks(
    session_or_settings: "AppSession | Settings",
    *,
    now: Callable[[], float] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    http: "httpx.AsyncClient | None" = None,
    on_check: Callable[[Check], None] | None = None,
) -> list[Check]:
    """Every check, in order (``on_check`` is called with each as it is done).

    ``session_or_settings``: a session (its resolved settings, store and debug log are used), or
    settings whose endpoints are known (for the built-in sandbox: resolved against a running one,
    ``Settings.resolved_for_sandbox``). ``http``: a client to use (redirects are never followed
    whatever it says); by default one is made with ``timeout`` and closed at the end.
    """
    from bonjoro_tui.store import StoreError, TokenStore

    hooks: dict[str, list[Any]] = {}
    if isinstance(session_or_settings, Settings):
        settings = session_or_settings
        store = TokenStore(settings.store_path)
        clock = now or time.time
    else:
        settings = session_or_settings.settings
        store = session_or_settings.store
        clock = now or session_or_settings.now
        debug_log = session_or_settings.debug_log
        if debug_log is not None:
            hooks = debug_log.event_hooks()
    if settings.target == SANDBOX and not settings.base_url:
        raise ValueError("the built-in sandbox is not running: pass a session (account.session.open_session)")

    profile: "StoredProfile | None" = None
    store_error: str | None = None
    try:
        profile = store.load(settings.profile)
    except StoreError as exc:
        store_error = str(exc)

    own = http is None
    if http is None:
        import httpx

        from bonjoro_tui.plumbing.tls import DeferredTrustContext

        http = httpx.AsyncClient(timeout=httpx.Timeout(timeout), follow_redirects=False, event_hooks=hooks,
                                 verify=DeferredTrustContext(trust_env=True))
    doctor = _Doctor(settings, http, now=clock, timeout=timeout, profile=profile, store_error=store_error)
    checks: list[Check] = []

    def add(check: Check) -> None:
        checks.append(check)
        if on_check is not None:
            on_check(check)

    try:
        add(doctor.check_settings())
        for origin, keys in doctor.origins().items():
            add(await doctor.check_reach(origin, keys))
        where, oauth_urls, oidc_urls = doctor.discovery_urls()
        add(await doctor.check_discovery("oauth-authorization-server", oauth_urls, where))
        add(await doctor.check_discovery("openid-configuration", oidc_urls, where))
        add(await doctor.check_authorize())
        for check in await doctor.check_token():
            add(check)
        add(doctor.check_profile())
        add(doctor.check_access_token())
        add(await doctor.check_identity())
        add(doctor.check_rate_limit())
        add(doctor.check_clock())
    finally:
        if own:
            await http.aclose()
    return checks


def report_json(settings: Settings, checks: list[Check]) -> dict[str, Any]:
    """The ``doctor --json`` document."""
    counts = {status: sum(1 for c in checks if c.status == status) for status in STATUSES}
    return {
        "ok": not failed(checks),
        "profile": settings.profile,
        "target": "sandbox" if settings.target == SANDBOX else "live",
        "target_id": settings.target_id,
        "base_url": settings.base_url,
        "checked_at": datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "counts": counts,
        "checks": [c.to_json() for c in checks],
    }

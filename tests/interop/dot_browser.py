"""Play the user's browser against django-oauth-toolkit: sign in, consent, deliver the callback.

``python dot_browser.py URL`` is what the interop tests put in ``BROWSER`` (through a small
shell script, :func:`conftest.write_dot_browser`): given the authorization URL the CLI opened,
it does what a person does in a browser —

1. loads the URL; DOT redirects an anonymous visitor to Django's login form;
2. fills in the username and password and submits the form (with its CSRF token and cookie);
3. follows the redirect back to DOT's authorization page and submits its consent form:
   "Authorize" (the ``allow`` button) or "Cancel" (no ``allow`` field: DOT answers
   ``error=access_denied``), chosen by ``DOT_BROWSER_DECISION`` = ``allow`` (default) or ``deny``;
4. takes DOT's redirect to the loopback callback and GETs it, so the CLI's callback server
   receives the code (or the error) exactly as from a browser.

Credentials come from ``DOT_BROWSER_USERNAME`` / ``DOT_BROWSER_PASSWORD``. It only ever talks to
127.0.0.1/localhost, follows at most a few redirects, and never prints a code or a token: one
line per step on stderr (the callback's path, not its query). Exit 0 once the callback was
delivered, 1 with a one-line reason otherwise.
"""

from __future__ import annotations

import os
import sys
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import httpx

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
MAX_REDIRECTS = 5


class BrowserError(Exception):
    pass


class _Form(HTMLParser):
    """The first POST form of a page: its action, every named input (with its value and type)."""

    def __init__(self) -> None:
        super().__init__()
        self.found = False
        self.action: str | None = None
        self.inputs: list[tuple[str, str, str]] = []  # (type, name, value)
        self._inside = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and not self.found and a.get("method", "get").lower() == "post":
            self.found = self._inside = True
            self.action = a.get("action", "")
        elif tag == "input" and self._inside and a.get("name"):
            self.inputs.append((a.get("type", "text").lower(), a["name"], a.get("value", "")))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._inside = False


def _form(response: httpx.Response) -> _Form:
    form = _Form()
    form.feed(response.text)
    if not form.found:
        raise BrowserError(f"no form on {_where(str(response.url))} (HTTP {response.status_code}): "
                           f"{' '.join(response.text.split())[:200]}")
    return form


def _where(url: str) -> str:
    p = urlsplit(url)
    return f"{p.scheme}://{p.netloc}{p.path}"  # never the query: it may carry a code


def _check_loopback(url: str) -> None:
    if (urlsplit(url).hostname or "") not in LOOPBACK:
        raise BrowserError(f"refusing to leave loopback: {_where(url)}")


def _log(message: str) -> None:
    print(f"dot browser: {message}", file=sys.stderr, flush=True)


def _follow(client: httpx.Client, response: httpx.Response) -> httpx.Response:
    """Follow same-server redirects; stop at one that leaves the server (the callback)."""
    origin = urlsplit(str(response.url)).netloc
    for _ in range(MAX_REDIRECTS):
        if not response.is_redirect:
            return response
        location = urljoin(str(response.url), response.headers["location"])
        _check_loopback(location)
        if urlsplit(location).netloc != origin:
            return response
        response = client.get(location)
    raise BrowserError("too many redirects")


def run(url: str, *, username: str, password: str, decision: str, deliver: bool = True) -> str:
    """Sign in, decide, deliver (unless ``deliver`` is false); returns the callback URL, query and all."""
    if decision not in ("allow", "deny"):
        raise BrowserError(f"DOT_BROWSER_DECISION must be allow or deny, not {decision!r}")
    _check_loopback(url)
    with httpx.Client(trust_env=False, timeout=10, follow_redirects=False) as client:
        page = _follow(client, client.get(url))
        if "/login/" in page.url.path:
            form = _form(page)
            data = {name: value for kind, name, value in form.inputs if kind == "hidden"}
            data.update(username=username, password=password)
            _log(f"signing in as {username} at {_where(str(page.url))}")
            page = _follow(client, client.post(urljoin(str(page.url), form.action or ""), data=data))
            if "/login/" in page.url.path:
                raise BrowserError("the login form did not accept the username and password")
        if page.is_redirect:  # DOT redirected straight back (an error, or no consent needed)
            consent = page
        else:
            form = _form(page)
            data = {name: value for kind, name, value in form.inputs if kind == "hidden"}
            if decision == "allow":
                data.update({name: value for kind, name, value in form.inputs if kind == "submit" and name == "allow"})
            _log(f"{'authorizing' if decision == 'allow' else 'cancelling'} at {_where(str(page.url))}")
            consent = client.post(urljoin(str(page.url), form.action or ""), data=data)
            if not consent.is_redirect:
                raise BrowserError(f"the consent form answered HTTP {consent.status_code}: "
                                   f"{' '.join(consent.text.split())[:200]}")
    callback = urljoin(str(consent.url), consent.headers["location"])
    _check_loopback(callback)
    if not deliver:
        return callback
    with httpx.Client(trust_env=False, timeout=10) as delivery:
        try:
            answer = delivery.get(callback)
        except httpx.HTTPError as exc:
            raise BrowserError(f"could not deliver the callback to {_where(callback)}: {type(exc).__name__}") from exc
    _log(f"callback delivered to {_where(callback)} (HTTP {answer.status_code})")
    return callback


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: dot_browser.py AUTHORIZATION_URL", file=sys.stderr)
        return 2
    try:
        run(argv[0], username=os.environ.get("DOT_BROWSER_USERNAME", ""),
            password=os.environ.get("DOT_BROWSER_PASSWORD", ""),
            decision=os.environ.get("DOT_BROWSER_DECISION", "allow"))
    except (BrowserError, httpx.HTTPError) as exc:
        _log(f"failed: {exc}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Play the user's browser against the sandbox: consent, then the redirect to the app's callback.

``approve(url)`` fetches the authorization URL; if the sandbox shows its consent page it submits
the Approve (or Deny) button of the form, exactly as a browser would; then it follows the
redirect to the loopback callback (a GET, so the app's callback server receives it) and returns
that redirect URL. It only ever talks to loopback addresses.

As a command it can stand in for a browser (``webbrowser`` runs ``$BROWSER`` with ``%s``
replaced by the URL)::

    BROWSER="/path/to/.venv/bin/python -m bonjoro_tui.sandbox.browser %s" bonjoro-tui login

Exit status 0 once the callback was delivered; 1 with one line on stderr otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from html.parser import HTMLParser
from typing import Sequence
from urllib.parse import urljoin, urlsplit

import httpx

LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})
DECISIONS = ("approve", "deny")


class ApprovalError(Exception):
    """The sandbox refused the request, or the callback could not be delivered."""


class _PageReader(HTMLParser):
    """The first POST form of a page (action, hidden fields, submit buttons) and its visible text."""

    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.fields: dict[str, str] = {}
        self.buttons: dict[str, str] = {}  # value -> name
        self.text: list[str] = []
        self._in_form = False
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag in ("style", "script", "title"):
            self._skip += 1
        elif tag == "form" and self.action is None and a.get("method", "get").lower() == "post":
            self.action = a.get("action", "")
            self._in_form = True
        elif self._in_form and tag == "input" and a.get("type") == "hidden" and a.get("name"):
            self.fields[a["name"]] = a.get("value", "")
        elif self._in_form and tag == "button" and a.get("name"):
            self.buttons[a.get("value", "")] = a["name"]

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "script", "title"):
            self._skip = max(0, self._skip - 1)
        elif tag == "form":
            self._in_form = False

    def handle_data(self, data: str) -> None:
        if not self._skip and data.strip():
            self.text.append(data.strip())


def _loopback(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and (parts.hostname or "") in LOOPBACK


def _refusal(response: httpx.Response) -> ApprovalError:
    reader = _PageReader()
    if "html" in response.headers.get("content-type", ""):
        reader.feed(response.text)
        detail = " ".join(reader.text)
    else:
        detail = response.text
    return ApprovalError(f"the sandbox answered HTTP {response.status_code}: {detail[:300]}")


def _location(response: httpx.Response) -> str:
    return urljoin(str(response.url), response.headers["location"])


async def approve(
    authorization_url: str,
    *,
    http: httpx.AsyncClient | None = None,
    decision: str = "approve",
    deliver: bool = True,
    timeout: float = 10.0,
) -> str:
    """Approve (or deny) an authorization request in the sandbox; returns the redirect URL.

    ``http`` talks to the sandbox (it may be an ``httpx.ASGITransport`` client); the callback
    is always delivered over a real loopback socket with a client of our own, unless
    ``deliver`` is false.
    """
    if decision not in DECISIONS:
        raise ValueError(f"decision must be one of {DECISIONS}")
    if not _loopback(authorization_url):
        raise ApprovalError("the sandbox browser only talks to loopback addresses")
    client = http or httpx.AsyncClient(timeout=timeout, trust_env=False)
    try:
        response = await client.get(authorization_url, follow_redirects=False)
        if response.is_redirect:
            location = _location(response)
        elif response.status_code == 200 and "html" in response.headers.get("content-type", ""):
            reader = _PageReader()
            reader.feed(response.text)
            if reader.action is None or decision not in reader.buttons:
                raise ApprovalError("the sandbox's page has no consent form")
            form = dict(reader.fields)
            form[reader.buttons[decision]] = decision
            posted = await client.post(urljoin(str(response.url), reader.action), data=form, follow_redirects=False)
            if not posted.is_redirect:
                raise _refusal(posted)
            location = _location(posted)
        else:
            raise _refusal(response)
    finally:
        if http is None:
            await client.aclose()
    if deliver:
        await _deliver(location, timeout)
    return location


async def _deliver(location: str, timeout: float) -> int:
    if not _loopback(location):
        raise ApprovalError("the sandbox redirected somewhere other than a loopback callback")
    async with httpx.AsyncClient(timeout=timeout, trust_env=False) as callback:
        try:
            response = await callback.get(location)
        except httpx.HTTPError as exc:
            where = urlsplit(location)
            raise ApprovalError(f"could not deliver the callback to {where.scheme}://{where.netloc}{where.path}: "
                                f"{type(exc).__name__}") from exc
    # Delivered: what the app's callback page says (even an error page) is the app's business.
    return response.status_code


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bonjoro_tui.sandbox.browser",
        description="Act as the user's browser for a sandbox sign-in: approve, then deliver the callback.",
    )
    parser.add_argument("url", help="the authorization URL the app opened")
    parser.add_argument("--deny", action="store_true", help="press Deny instead of Approve")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per request (default 10)")
    args = parser.parse_args(argv)
    try:
        location = asyncio.run(approve(args.url, decision="deny" if args.deny else "approve", timeout=args.timeout))
    except (ApprovalError, httpx.HTTPError, ValueError) as exc:
        print(f"sandbox browser: {exc}", file=sys.stderr)
        return 1
    where = urlsplit(location)  # never print the query: it carries the authorization code
    print(f"sandbox browser: {'approved' if not args.deny else 'denied'}; callback delivered to "
          f"{where.scheme}://{where.netloc}{where.path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

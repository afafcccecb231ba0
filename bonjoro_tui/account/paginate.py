"""Every page of a Laravel list: follow ``next_page_url``, paced by the API's rate limit.

Bonjoro's lists are Laravel ``LengthAwarePaginator`` envelopes (``data``, ``current_page``,
``next_page_url``, …); a JSON:API-style ``links.next`` is followed too. Each next page goes
through the same :class:`~bonjoro_tui.api.client.BonjoroClient` as the first, so it is sent only
to the API's origin (the client refuses any other: a hostile ``next_page_url`` never gets the
token) and keeps its refresh and retry rules. A URL already read stops the walk (a server
sending us in circles).

Pacing: after a page whose ``X-RateLimit-Remaining`` is 0, wait for ``Retry-After`` (or
``X-RateLimit-Reset``) when the answer says how long; a 429 the client gave up on (a
``Retry-After`` beyond its own bound, or its retries spent) is waited out here, up to
``max_wait`` seconds each time and ``max_rate_waits`` times in a row, then returned.

Asking ahead (``ask_ahead``, what ``api --paginate`` does): a GET walk asks for the next page as
soon as a page has arrived, while the caller reads that page (2 MB of JSON to parse: ~20 ms the
server spends building the next one meanwhile). The next link is read from the raw bytes
(``"next_page_url":"…"``, the last one) without parsing; the answer is used only if the parsed
page's real link is that very URL — otherwise it is dropped and the real link asked for. Never
when the page said ``X-RateLimit-Remaining: 0`` (that walk waits first, as above), for a URL
already read, or for another method than GET; the request is the client's, so a guessed URL on
another origin is refused like any other.
"""

from __future__ import annotations

import asyncio
import json as jsonlib
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, AsyncGenerator, Awaitable, Callable, Mapping
from urllib.parse import urljoin

from bonjoro_tui.api.errors import ApiError

if TYPE_CHECKING:
    from bonjoro_tui.api.client import ApiResponse, BonjoroClient

DEFAULT_MAX_WAIT = 300.0
DEFAULT_MAX_RATE_WAITS = 5


@dataclass(frozen=True)
class Wait:
    """A pause the walk makes, for the front end to say so."""

    seconds: float
    reason: str
    page: int  # the page about to be asked for (1-based)


def next_page_url(body: Any, current_url: str) -> str | None:
    """The next page's absolute URL from a Laravel envelope (or ``links.next``), or None."""
    if not isinstance(body, dict):
        return None
    link = body.get("next_page_url")
    if link is None and isinstance(body.get("links"), dict):
        link = body["links"].get("next")
    if not isinstance(link, str) or not link.strip():
        return None
    return urljoin(current_url, link.strip())  # a relative link is the current page's origin's


def page_items(body: Any) -> list[Any]:
    """A page's ``data`` list (``--slurp``); a ValueError when the page is not an envelope."""
    if isinstance(body, dict) and isinstance(body.get("data"), list):
        return body["data"]
    raise ValueError("the page is not a list envelope (no \"data\" array)")


def _header_wait(r: "ApiResponse", now: float) -> float | None:
    from bonjoro_tui.api.client import retry_after

    wait = retry_after(r.headers.get("retry-after"), now)
    if wait is not None:
        return wait
    reset = r.headers.get("x-ratelimit-reset")
    if reset and reset.strip().isdigit():
        value = float(reset.strip())
        return max(0.0, value - now) if value > 1e9 else value  # an epoch time, or seconds
    return None


#: JSON's whitespace, around a document.
_JSON_WS = b" \t\r\n"


class Bodies:
    """Each page's body parsed once, for the pager (its ``next_page_url``) and whoever reads the
    page (``api --paginate`` prints it): a 2 MB page was parsed twice (issue 16, docs/PERFORMANCE.md).
    Keeps the last page only; readers must not modify what :meth:`of` returns.

    :meth:`clean` says whether the page's bytes may be written as they are (what ``api`` does on
    a pipe instead of encoding the parsed body again: issue 16's figure 12d); it is found out
    while parsing, from the bytes the parser reads anyway (``safetext.as_sent_text``)."""

    def __init__(self) -> None:
        self._response: Any = None
        self._body: Any = None
        self._clean: bytes | None = None

    def of(self, r: "ApiResponse") -> Any:
        """``r.json()``, parsed once (a ``ValueError`` for a body that is not JSON, each time)."""
        if r is not self._response:
            body, clean = _parse(r)
            self._response, self._body, self._clean = r, body, clean
        return self._body

    def clean(self, r: "ApiResponse") -> bytes | None:
        """The page's JSON as the server sent it (without the whitespace around it) when those
        bytes are one line with no control, bidi or invisible character in them
        (:func:`~bonjoro_tui.safetext.as_sent_text`), else None; a ``ValueError`` when the body
        is not JSON."""
        self.of(r)
        return self._clean


def _parse(r: "ApiResponse") -> tuple[Any, bytes | None]:
    """``(r.json(), the clean bytes or None)``. A clean body is decoded once, strictly, and
    parsed as text: the very text ``json.loads`` would have decoded the bytes to (it reads
    UTF-8 unless the bytes start with a BOM or hold NUL bytes, and a clean body has neither).
    Anything else is ``r.json()``, with its encoding detection and error."""
    from bonjoro_tui.safetext import as_sent_text

    trimmed = r.content.strip(_JSON_WS)
    text = as_sent_text(trimmed)
    if text is None:
        return r.json(), None
    try:
        return jsonlib.loads(text), trimmed
    except RecursionError:
        return r.json(), None  # its ValueError, as for any other body nested too deeply
    except ValueError:
        return r.json(), None  # not JSON: raises r.json()'s own error


async def pages(
    client: "BonjoroClient",
    method: str,
    path: str,
    *,
    params: Mapping[str, Any] | None = None,
    json: Any = None,
    headers: Mapping[str, str] | None = None,
    sleep: Callable[[float], Awaitable[None]] | None = None,
    now: Callable[[], float] | None = None,
    on_wait: Callable[[Wait], None] | None = None,
    max_wait: float = DEFAULT_MAX_WAIT,
    max_rate_waits: int = DEFAULT_MAX_RATE_WAITS,
    bodies: Bodies | None = None,
    ask_ahead: bool = False,
) -> AsyncGenerator["ApiResponse", None]:
    """Yield each page's response, first to last. A page that is not 2xx is yielded and ends the
    walk (the caller reports it); so does a page without a next link. ``sleep`` and ``now``
    default to the client's own (tests inject theirs there). ``bodies``: shared with the caller,
    so that a page the caller has parsed is not parsed again here. ``ask_ahead``: see the
    module's docstring."""
    bodies = bodies or Bodies()
    sleep = sleep or client.sleep
    now = now or client.now
    target: str = path
    query: Mapping[str, Any] | None = params
    seen: set[str] = set()
    number = 1
    waits_in_a_row = 0
    ahead: tuple[str, "asyncio.Task[ApiResponse]"] | None = None  # (URL, its answer) asked for ahead
    try:
        while True:
            if ahead is not None and ahead[0] == target and query is None:
                r = await ahead[1]
            else:
                await _drop(ahead, cancel=False)
                r = await client.request(method, target, params=query, json=json, headers=headers)
            ahead = None
            if r.status == 429 and waits_in_a_row < max_rate_waits:
                wait = _header_wait(r, now())
                if wait is not None and wait <= max_wait:
                    waits_in_a_row += 1
                    await _pause(sleep, on_wait, Wait(wait, f"rate limited (HTTP 429, Retry-After {wait:g} s)", number))
                    continue
            waits_in_a_row = 0
            remaining = r.rate_limit.remaining if r.rate_limit is not None else None
            if ask_ahead and r.ok and method.upper() == "GET" and (remaining is None or remaining > 0):
                guess = _guess_next(r)
                if guess is not None and guess != r.url and guess not in seen:
                    ahead = (guess, await _started(client.request(method, guess, json=json, headers=headers)))
            yield r
            if not r.ok:
                return
            try:
                body = bodies.of(r)
            except ValueError:
                return
            link = next_page_url(body, r.url)
            if link is None:
                return
            seen.add(r.url)
            if link in seen:
                raise ApiError(f"page {number}'s next_page_url repeats a page already read; stopped after {number} pages")
            if remaining is not None and remaining <= 0:
                wait = _header_wait(r, now())
                if wait is not None and wait > 0:
                    await _pause(sleep, on_wait, Wait(min(wait, max_wait), "X-RateLimit-Remaining is 0", number + 1))
            target, query, number = link, None, number + 1  # the link carries the query already
    finally:
        await _drop(ahead, cancel=True)


#: ``"next_page_url":`` and the JSON string after it (a guess: checked against the parsed page).
_NEXT_KEY = b'"next_page_url":'
_STRING_AFTER = re.compile(rb'[ \t\r\n]*("(?:[^"\\\x00-\x1f]|\\.)*")')


def _guess_next(r: "ApiResponse") -> str | None:
    """The next page's URL as the raw bytes seem to give it (their last ``"next_page_url":"…"``;
    Laravel writes it after ``data``): no parse, a search from the end. None when not found."""
    at = r.content.rfind(_NEXT_KEY)
    if at < 0:
        return None
    match = _STRING_AFTER.match(r.content, at + len(_NEXT_KEY))
    if match is None:
        return None
    try:
        link = jsonlib.loads(match.group(1))
    except ValueError:
        return None
    return next_page_url({"next_page_url": link}, r.url)


#: How many turns of the event loop a request asked ahead gets before the caller reads the page
#: it has: enough for the client to send it on the open connection (it then waits for the answer,
#: and the remaining turns cost a few microseconds each).
_SEND_TURNS = 20


async def _started(request: Awaitable["ApiResponse"]) -> "asyncio.Task[ApiResponse]":
    task = asyncio.ensure_future(request)
    for _ in range(_SEND_TURNS):
        if task.done():
            break
        await asyncio.sleep(0)
    return task


async def _drop(ahead: tuple[str, "asyncio.Task[ApiResponse]"] | None, *, cancel: bool) -> None:
    """A page asked for ahead and not wanted, ended and its outcome (an error too) collected.

    A wrong guess is let finish, not cancelled: a request may be refreshing the token, and a
    refresh cut short after the server rotated the refresh token would lose the new one (one
    request at a time, as without asking ahead). ``cancel``: the walk is over (the caller
    stopped, or was interrupted: as a request of the walk itself would be)."""
    if ahead is None:
        return
    task = ahead[1]
    if cancel:
        task.cancel()
    await asyncio.wait([task])  # raises nothing
    if not task.cancelled():
        task.exception()  # collected: an error of a page not wanted is no one's to report


async def _pause(sleep: Callable[[float], Awaitable[None]], on_wait: Callable[[Wait], None] | None, wait: Wait) -> None:
    if on_wait is not None:
        on_wait(wait)
    await sleep(wait.seconds)

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
"""

from __future__ import annotations

import json as jsonlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, AsyncIterator, Awaitable, Callable, Mapping
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
    while parsing, from the bytes the parser reads anyway (``safetext.clean_text``)."""

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
        (:func:`~bonjoro_tui.safetext.clean_text`), else None; a ``ValueError`` when the body
        is not JSON."""
        self.of(r)
        return self._clean


def _parse(r: "ApiResponse") -> tuple[Any, bytes | None]:
    """``(r.json(), the clean bytes or None)``. A clean body is decoded once, strictly, and
    parsed as text: the very text ``json.loads`` would have decoded the bytes to (it reads
    UTF-8 unless the bytes start with a BOM or hold NUL bytes, and a clean body has neither).
    Anything else is ``r.json()``, with its encoding detection and error."""
    from bonjoro_tui.safetext import clean_text

    trimmed = r.content.strip(_JSON_WS)
    text = clean_text(trimmed)
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
) -> AsyncIterator["ApiResponse"]:
    """Yield each page's response, first to last. A page that is not 2xx is yielded and ends the
    walk (the caller reports it); so does a page without a next link. ``sleep`` and ``now``
    default to the client's own (tests inject theirs there). ``bodies``: shared with the caller,
    so that a page the caller has parsed is not parsed again here."""
    bodies = bodies or Bodies()
    sleep = sleep or client.sleep
    now = now or client.now
    target: str = path
    query: Mapping[str, Any] | None = params
    seen: set[str] = set()
    number = 1
    waits_in_a_row = 0
    while True:
        r = await client.request(method, target, params=query, json=json, headers=headers)
        if r.status == 429 and waits_in_a_row < max_rate_waits:
            wait = _header_wait(r, now())
            if wait is not None and wait <= max_wait:
                waits_in_a_row += 1
                await _pause(sleep, on_wait, Wait(wait, f"rate limited (HTTP 429, Retry-After {wait:g} s)", number))
                continue
        waits_in_a_row = 0
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
        remaining = r.rate_limit.remaining if r.rate_limit is not None else None
        if remaining is not None and remaining <= 0:
            wait = _header_wait(r, now())
            if wait is not None and wait > 0:
                await _pause(sleep, on_wait, Wait(min(wait, max_wait), "X-RateLimit-Remaining is 0", number + 1))
        target, query, number = link, None, number + 1  # the link carries the query already


async def _pause(sleep: Callable[[float], Awaitable[None]], on_wait: Callable[[Wait], None] | None, wait: Wait) -> None:
    if on_wait is not None:
        on_wait(wait)
    await sleep(wait.seconds)

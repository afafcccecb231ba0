"""account/paginate.pages(ask_ahead=True): the next page is asked for while the caller reads one,
and the walk is otherwise the same — the same pages, the same requests, the same pacing, the
same refusals (``api --paginate`` walks this way: issue 16, figure 12d).

A real BonjoroClient against respx, with a recorded sleep (tests/account/test_paginate.py's).
"""

from __future__ import annotations

import asyncio

import httpx
import pytest
import respx

from bonjoro_tui.account.paginate import Bodies, Wait, pages
from bonjoro_tui.api.client import ApiError

from account.test_paginate import API, client, envelope  # noqa: F401 - client is a fixture

PAGE = f"{API}/greets"


def answer(req: httpx.Request, last: int = 4, **headers: str) -> httpx.Response:
    page = int(req.url.params.get("page", 1))
    return httpx.Response(200, json=envelope(page, last), headers=headers)


async def walk(client, method: str = "GET", **kw) -> tuple[list[int], list[int]]:
    """(each page's current_page, how many requests were sent when the caller had that page)."""
    got, sent = [], []
    route = kw.pop("route")
    bodies = Bodies()
    async for r in pages(client, method, "/greets", bodies=bodies, ask_ahead=True, **kw):
        sent.append(route.call_count)
        got.append(bodies.of(r)["current_page"])
    return got, sent


async def test_the_next_page_is_asked_for_while_the_caller_has_this_one(client):
    with respx.mock() as mock:
        route = mock.get(url__startswith=PAGE).mock(side_effect=answer)
        got, sent = await walk(client, route=route, params={"limit": 2})
    assert got == [1, 2, 3, 4]
    assert sent == [2, 3, 4, 4]  # one ahead, none after the last page (its next link is null)
    assert [str(c.request.url) for c in route.calls] == [
        f"{PAGE}?limit=2", f"{PAGE}?limit=2&page=2", f"{PAGE}?limit=2&page=3", f"{PAGE}?limit=2&page=4"]
    assert all(c.request.headers["authorization"] == "Bearer access-0" for c in route.calls)


async def test_the_same_pages_and_requests_as_without_asking_ahead(client):
    urls = []
    for ahead in (False, True):
        with respx.mock() as mock:
            route = mock.get(url__startswith=PAGE).mock(side_effect=answer)
            responses = [r async for r in pages(client, "GET", "/greets", ask_ahead=ahead)]
        urls.append([str(c.request.url) for c in route.calls])
        assert [r.json()["current_page"] for r in responses] == [1, 2, 3, 4]
    assert urls[0] == urls[1]


async def test_a_wrong_guess_is_dropped_and_the_real_link_followed(client):
    def decoy(req: httpx.Request) -> httpx.Response:
        page = int(req.url.params.get("page", 1))
        body = envelope(page, 2)
        # the real link first, a decoy last in the bytes: the guess (the last one) is wrong
        body = {"next_page_url": body.pop("next_page_url"), **body, "meta": {"next_page_url": f"{PAGE}?page=99"}}
        return httpx.Response(200, json=body)

    with respx.mock() as mock:
        route = mock.get(url__startswith=PAGE).mock(side_effect=decoy)
        responses = [r async for r in pages(client, "GET", "/greets", ask_ahead=True)]
    assert [r.json()["current_page"] for r in responses] == [1, 2]
    assert [r.url for r in responses] == [PAGE, f"{PAGE}?limit=2&page=2"]
    asked = [str(c.request.url) for c in route.calls]
    assert asked[0] == PAGE and f"{PAGE}?page=99" in asked
    assert asked.count(f"{PAGE}?limit=2&page=2") == 1


async def test_not_after_a_page_with_no_requests_remaining(client):
    sleeps = client.sleep
    waits: list[Wait] = []
    with respx.mock() as mock:
        route = mock.get(url__startswith=PAGE).mock(side_effect=lambda req: answer(
            req, 2, **{"x-ratelimit-limit": "60", "x-ratelimit-remaining": "0", "retry-after": "2"}))
        got, sent = await walk(client, route=route, on_wait=waits.append)
    assert got == [1, 2] and sent == [1, 2]  # nothing asked ahead: the walk waits first
    assert sleeps == [2.0] and [(w.seconds, w.page) for w in waits] == [(2.0, 2)]


async def test_a_429_asked_ahead_is_waited_out_as_before(client):
    sleeps = client.sleep
    answers = [
        httpx.Response(200, json=envelope(1, 2), headers={"x-ratelimit-limit": "60", "x-ratelimit-remaining": "5"}),
        httpx.Response(429, json={"message": "Too Many Attempts."}, headers={"retry-after": "90"}),
        httpx.Response(200, json=envelope(2, 2), headers={"x-ratelimit-remaining": "59"}),
    ]
    with respx.mock() as mock:
        route = mock.get(url__startswith=PAGE).mock(side_effect=answers)
        got, sent = await walk(client, route=route)
    assert got == [1, 2] and sleeps == [90.0]
    assert [str(c.request.url) for c in route.calls] == [PAGE, f"{PAGE}?limit=2&page=2", f"{PAGE}?limit=2&page=2"]


async def test_only_a_get_walk_asks_ahead(client):
    with respx.mock() as mock:
        route = mock.post(url__startswith=PAGE).mock(side_effect=answer)
        got, sent = await walk(client, "POST", route=route)
    assert got == [1, 2, 3, 4] and sent == [1, 2, 3, 4]


async def test_a_next_page_on_another_origin_is_never_asked_for(client):
    with respx.mock(assert_all_called=False) as mock:
        mock.get(PAGE).respond(200, json=envelope(1, 2, next_url="https://evil.test/api/v2/greets?page=2"))
        evil = mock.get(url__startswith="https://evil.test")
        with pytest.raises(ApiError, match="refusing to send the token to https://evil.test"):
            [r async for r in pages(client, "GET", "/greets", ask_ahead=True)]
    assert not evil.called


async def test_a_server_sending_us_in_circles_is_still_stopped(client):
    with respx.mock() as mock:
        route = mock.get(url__startswith=PAGE).respond(200, json=envelope(1, 5, next_url=PAGE))
        with pytest.raises(ApiError, match="repeats a page"):
            [r async for r in pages(client, "GET", "/greets", ask_ahead=True)]
    assert route.call_count == 1  # the page's own URL is never asked for ahead


async def test_a_caller_that_stops_leaves_no_request_behind(client):
    with respx.mock() as mock:
        route = mock.get(url__startswith=PAGE).mock(side_effect=answer)
        walker = pages(client, "GET", "/greets", ask_ahead=True)
        first = await walker.__anext__()
        assert first.json()["current_page"] == 1 and route.call_count == 2  # page 2 asked ahead
        await walker.aclose()
    assert asyncio.all_tasks() == {asyncio.current_task()}  # the request asked ahead has ended

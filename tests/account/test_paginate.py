"""account/paginate.py: every page, once; only the API's origin; paced by the rate limit.

A real BonjoroClient (its origin rule, its 429 handling) against respx, with a recorded sleep.
"""

from __future__ import annotations

import httpx
import pytest
import respx

from bonjoro_tui.account.paginate import Wait, next_page_url, page_items, pages
from bonjoro_tui.api.client import ApiError, BonjoroClient
from bonjoro_tui.settings import load_settings
from bonjoro_tui.store import StoredProfile, TokenStore
from bonjoro_tui.tokens import TokenSet

BASE = "https://bonjoro.test"
API = BASE + "/api/v2"
T0 = 1_800_000_000.0


class Sleeps(list):
    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
async def client(tmp_path):
    settings = load_settings(env={"BONJORO_BASE_URL": BASE, "BONJORO_CLIENT_ID": "c",
                                  "BONJORO_TUI_DATA_DIR": str(tmp_path / "d"),
                                  "BONJORO_TUI_CONFIG_DIR": str(tmp_path / "c"),
                                  "BONJORO_TUI_LOG_DIR": str(tmp_path / "l")}, cwd=tmp_path)
    store = TokenStore(settings.store_path)
    store.save(StoredProfile(settings.profile, settings.target_id, "code", "c",
                             TokenSet("access-0", T0, refresh_token="r", expires_at=T0 + 3600),
                             api_origin=BASE))
    c = BonjoroClient(settings, store, now=lambda: T0, sleep=Sleeps())
    yield c
    await c.aclose()


def envelope(page: int, last: int, *, next_url: str | None = "default", per_page: int = 2) -> dict:
    link = f"{API}/greets?limit={per_page}&page={page + 1}" if next_url == "default" else next_url
    return {"current_page": page, "data": [{"id": f"g{page}-{i}"} for i in range(per_page)],
            "next_page_url": link if page < last else None, "last_page": last}


async def collect(client, **kw):
    return [r async for r in pages(client, "GET", "/greets", **kw)]


async def test_follows_next_page_url_to_the_last_page_once_each(client):
    with respx.mock(assert_all_called=True) as mock:
        route = mock.get(url__startswith=f"{API}/greets").mock(side_effect=lambda req: httpx.Response(
            200, json=envelope(int(req.url.params.get("page", 1)), 3)))
        responses = await collect(client, params={"limit": 2})
    assert [r.json()["current_page"] for r in responses] == [1, 2, 3]
    assert [str(c.request.url) for c in route.calls] == [
        f"{API}/greets?limit=2", f"{API}/greets?limit=2&page=2", f"{API}/greets?limit=2&page=3"]
    assert all(c.request.headers["authorization"] == "Bearer access-0" for c in route.calls)
    assert [g["id"] for r in responses for g in page_items(r.json())][:3] == ["g1-0", "g1-1", "g2-0"]


async def test_a_next_page_on_another_origin_never_gets_the_token(client):
    with respx.mock(assert_all_called=False) as mock:
        mock.get(f"{API}/greets").respond(200, json=envelope(1, 2, next_url="https://evil.test/api/v2/greets?page=2"))
        evil = mock.get(url__startswith="https://evil.test")
        with pytest.raises(ApiError, match="refusing to send the token to https://evil.test"):
            await collect(client)
    assert not evil.called


async def test_paced_by_remaining_and_a_long_retry_after(client):
    sleeps: Sleeps = client.sleep  # type: ignore[assignment]
    waits: list[Wait] = []
    answers = [
        httpx.Response(200, json=envelope(1, 2), headers={"x-ratelimit-limit": "60", "x-ratelimit-remaining": "0",
                                                         "retry-after": "2"}),
        # beyond the client's own 30 s bound: it returns the 429, the walk waits it out
        httpx.Response(429, json={"message": "Too Many Attempts."}, headers={"retry-after": "90"}),
        httpx.Response(200, json=envelope(2, 2), headers={"x-ratelimit-remaining": "59"}),
    ]
    with respx.mock() as mock:
        mock.get(url__startswith=f"{API}/greets").mock(side_effect=answers)
        responses = await collect(client, on_wait=waits.append)
    assert [r.status for r in responses] == [200, 200]
    assert sleeps == [2.0, 90.0]
    assert [(w.seconds, w.page) for w in waits] == [(2.0, 2), (90.0, 2)]


async def test_a_server_sending_us_in_circles_is_stopped(client):
    with respx.mock() as mock:
        mock.get(url__startswith=f"{API}/greets").respond(200, json=envelope(1, 5, next_url=f"{API}/greets"))
        with pytest.raises(ApiError, match="repeats a page"):
            await collect(client)


def test_next_page_url_shapes():
    here = f"{API}/greets?page=1"
    assert next_page_url({"next_page_url": None}, here) is None
    assert next_page_url({"links": {"next": "/api/v2/greets?page=2"}}, here) == f"{API}/greets?page=2"
    assert next_page_url([1, 2], here) is None
    with pytest.raises(ValueError):
        page_items({"items": []})

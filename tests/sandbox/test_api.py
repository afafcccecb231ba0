"""API v2 under /api/v2: every endpoint, its published shape, paging, errors and rate limits."""

from __future__ import annotations

import json

import pytest
from openapi_check import assert_matches_spec

from bonjoro_tui.sandbox.seed import SeedData, absolutize

from .helpers import BASE

LISTS = [
    ("/users", "/api/v2/users", 6),
    ("/profiles", "/api/v2/profiles", 60),
    ("/greets", "/api/v2/greets", 50),
    ("/campaigns", "/api/v2/campaigns", 5),
    ("/message-templates", "/api/v2/message-templates", 8),
]


async def get_ok(sandbox, path: str, template: str, token: str = "sandbox-api-key", **kwargs):
    r = await sandbox.api("GET", path, token, **kwargs)
    assert r.status_code == 200, r.text
    body = r.json()
    assert_matches_spec("GET", template, 200, body)
    return body


async def test_get_me_is_the_signed_in_user(sandbox):
    me = await get_ok(sandbox, "/me", "/api/v2/me")
    assert me["name"] == "Alex Sandbox" and me["self_url"] == f"{BASE}/api/v2/users/{me['id']}"


async def test_users_by_id_and_me_alias(sandbox):
    me = await get_ok(sandbox, "/me", "/api/v2/me")
    assert await get_ok(sandbox, "/users/me", "/api/v2/users/{user_id}") == me
    assert await get_ok(sandbox, f"/users/{me['id']}", "/api/v2/users/{user_id}") == me
    other = sandbox.state.seed.users[2]
    assert (await get_ok(sandbox, f"/users/{other['id']}", "/api/v2/users/{user_id}"))["name"] == other["name"]


@pytest.mark.parametrize("user_id", ["00000000-0000-4000-8000-000000000000", "not-a-uuid"])
async def test_unknown_user_is_404_in_bonjoro_shape(sandbox, user_id):
    r = await sandbox.api("GET", f"/users/{user_id}")
    assert r.status_code == 404
    assert_matches_spec("GET", "/api/v2/users/{user_id}", 404, r.json())
    assert r.json()["error"]["status_code"] == 404


@pytest.mark.parametrize(("path", "template", "total"), LISTS)
async def test_lists_are_laravel_pages_matching_the_published_schema(sandbox, path, template, total):
    page = await get_ok(sandbox, path, template)
    assert page["total"] == total and page["per_page"] == 15 and page["current_page"] == 1
    assert page["from"] == 1 and page["to"] == min(15, total) and len(page["data"]) == min(15, total)
    assert page["prev_page_url"] is None
    assert page["path"] == f"{BASE}/api/v2{path}"
    assert page["first_page_url"] == f"{BASE}/api/v2{path}?page=1"
    assert page["last_page"] == max(1, -(-total // 15))
    assert (page["next_page_url"] is None) == (total <= 15)


async def test_paging_through_profiles_visits_each_once(sandbox):
    seen, url = [], "/profiles?limit=25"
    while url:
        page = await get_ok(sandbox, url, "/api/v2/profiles")
        seen += [p["id"] for p in page["data"]]
        url = page["next_page_url"] and page["next_page_url"].removeprefix(f"{BASE}/api/v2")
    assert len(seen) == 60 == len(set(seen))
    last = await get_ok(sandbox, "/profiles?limit=25&page=3", "/api/v2/profiles")
    assert (last["from"], last["to"], last["last_page"]) == (51, 60, 3)
    assert last["prev_page_url"] == f"{BASE}/api/v2/profiles?limit=25&page=2"


async def test_page_past_the_end_is_empty(sandbox):
    page = await get_ok(sandbox, "/campaigns?page=9", "/api/v2/campaigns")
    assert page["data"] == [] and page["from"] is None and page["to"] is None


@pytest.mark.parametrize("limit", ["abc", "0", "-3", "2.5"])
async def test_bad_limit_is_400(sandbox, limit):
    r = await sandbox.api("GET", f"/greets?limit={limit}")
    assert r.status_code == 400
    assert r.json() == {"error": {"message": r.json()["error"]["message"], "status_code": 400}}
    assert_matches_spec("POST", "/api/v2/greets", 400, r.json())  # GET /greets publishes no 400; same shape


async def test_limit_is_capped(sandbox):
    assert (await get_ok(sandbox, "/profiles?limit=1000", "/api/v2/profiles"))["per_page"] == 100


async def test_seeded_data_is_deterministic():
    a, b = SeedData(), SeedData()
    assert json.dumps(a.greets(50)) == json.dumps(b.greets(50))
    assert [p["id"] for p in a.profiles] == [p["id"] for p in b.profiles]
    assert a.me["id"] == b.me["id"]


async def test_greets_filters(sandbox):
    opened = await get_ok(sandbox, "/greets?status=open&limit=100", "/api/v2/greets")
    assert opened["total"] > 0 and all(g["status"] == "open" for g in opened["data"])
    assignee = sandbox.state.seed.users[1]["id"]
    mine = await get_ok(sandbox, f"/greets?assignee_id={assignee}&limit=100", "/api/v2/greets")
    assert all(g["assignee"]["id"] == assignee for g in mine["data"])
    r = await sandbox.api("GET", "/greets?status=bogus")
    assert r.status_code == 400


async def test_large_greets_response_is_capped_at_5000_per_page(sandbox):
    sandbox.state.set_knobs(greet_count=600)
    r = await sandbox.http.get("/api/v2/greets?limit=9999", headers={"Authorization": "Bearer sandbox-api-key"})
    assert r.status_code == 200 and len(r.content) > 2_000_000  # a multi-megabyte body
    page = r.json()
    assert page["total"] == 600 and len(page["data"]) == 600 and page["per_page"] == 5000
    assert_matches_spec("GET", "/api/v2/greets", 200, {**page, "data": page["data"][::50]})


async def test_urls_are_absolute_for_the_origin_asked(sandbox):
    r = await sandbox.http.get("/api/v2/greets", headers={"Authorization": "Bearer sandbox-api-key", "Host": "localhost:4000"})
    assert_matches_spec("GET", "/api/v2/greets", 200, r.json())
    greet = r.json()["data"][0]
    assert greet["self_url"] == f"http://localhost:4000/api/v2/greets/{greet['id']}"
    assert greet["profiles"][0]["self_url"].startswith("http://localhost:4000/api/v2/profiles/")
    assert greet["thumb_url"].startswith("https://media.sandbox.bonjoro.invalid/")
    assert r.json()["data"] == absolutize(sandbox.state.seed.greets(50)[:15], "http://localhost:4000")


async def test_post_profile(sandbox):
    r = await sandbox.api("POST", "/profiles", json={"email": "frank@castle.example", "first_name": "Frank", "last_name": "Castle"})
    assert r.status_code == 200
    assert_matches_spec("POST", "/api/v2/profiles", 200, r.json())
    created = r.json()["data"]
    assert r.json()["message"] == "Created" and created["name"] == "Frank Castle"
    page = await get_ok(sandbox, "/profiles?search=castle", "/api/v2/profiles")
    assert [p["id"] for p in page["data"]] == [created["id"]]
    again = await sandbox.api("POST", "/profiles", json={"email": "frank@castle.example"})
    assert again.status_code == 400
    assert_matches_spec("POST", "/api/v2/profiles", 400, again.json())


@pytest.mark.parametrize("body", [{}, {"email": "no-at-sign"}, {"email": "a@b.example", "first_name": 7}])
async def test_post_profile_validation(sandbox, body):
    r = await sandbox.api("POST", "/profiles", json=body)
    assert r.status_code == 400
    assert_matches_spec("POST", "/api/v2/profiles", 400, r.json())


async def test_post_greet(sandbox):
    seed = sandbox.state.seed
    known = seed.profiles[0]
    body = {"profiles": [known["id"], "new.person@example.com"], "note": "New signup",
            "campaign_id": seed.campaigns[1]["uuid"], "template_id": seed.templates[2]["id"],
            "assignee_id": seed.users[3]["id"]}
    r = await sandbox.api("POST", "/greets", json=body)
    assert r.status_code == 200, r.text
    assert_matches_spec("POST", "/api/v2/greets", 200, r.json())
    greet = r.json()["data"]
    assert [p["email"] for p in greet["profiles"]] == [known["email"], "new.person@example.com"]
    assert greet["assignee"]["id"] == seed.users[3]["id"] and greet["message_template"]["id"] == seed.templates[2]["id"]
    first = (await get_ok(sandbox, "/greets", "/api/v2/greets"))["data"][0]
    assert first["id"] == greet["id"]


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"profiles": []}, 400),
        ({"profiles": "x@y.example"}, 400),
        ({"profiles": ["not an email"]}, 400),
        ({"profiles": ["00000000-0000-4000-8000-000000000000"]}, 404),
        ({"profiles": ["x@y.example"], "campaign_id": "00000000-0000-4000-8000-000000000000"}, 404),
    ],
)
async def test_post_greet_errors(sandbox, body, status):
    r = await sandbox.api("POST", "/greets", json=body)
    assert r.status_code == status
    assert_matches_spec("POST", "/api/v2/greets", status, r.json())


async def test_post_me_updates_the_bio(sandbox):
    r = await sandbox.api("POST", "/me", json={"bio": "Hello <b>there</b>"})
    assert r.status_code == 200
    assert_matches_spec("POST", "/api/v2/me", 200, r.json())
    assert r.json()["message"] == "Updated"
    assert (await get_ok(sandbox, "/me", "/api/v2/me"))["bio"] == "Hello <b>there</b>"
    assert (await sandbox.api("POST", "/me", json={"bio": 5})).status_code == 400


# -- authentication, errors and headers -------------------------------------------------------


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer", "Bearer nope", "Basic c2FuZGJveA==", "bearer eyJ0eXAiOiJKV1QiLCJhbGciOiJub25lIn0.e30."],
)
async def test_unauthenticated_requests_get_bonjoro_401(sandbox, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    r = await sandbox.http.get("/api/v2/me", headers=headers)
    assert r.status_code == 401
    assert r.json() == {"message": "Unauthenticated."}
    assert_matches_spec("GET", "/api/v2/me", 401, r.json())
    assert r.headers["www-authenticate"].startswith("Bearer")
    assert r.headers["x-ratelimit-limit"] == "600"


async def test_token_in_query_string_is_not_accepted(sandbox):
    tokens = await sandbox.sign_in()
    r = await sandbox.http.get("/api/v2/me", params={"access_token": tokens["access_token"]})
    assert r.status_code == 401
    assert_matches_spec("GET", "/api/v2/me", 401, r.json())


async def test_expired_access_token_is_401_with_invalid_token(sandbox, clock):
    tokens = await sandbox.sign_in()
    clock.advance(tokens["expires_in"])
    r = await sandbox.api("GET", "/me", tokens["access_token"])
    assert r.status_code == 401 and 'error="invalid_token"' in r.headers["www-authenticate"]


async def test_tampered_access_token_is_refused(sandbox):
    tokens = await sandbox.sign_in()
    header, payload, signature = tokens["access_token"].split(".")
    forged = f"{header}.{payload}.{signature[:-2]}{'AA' if signature[-2:] != 'AA' else 'BB'}"
    assert (await sandbox.api("GET", "/me", forged)).status_code == 401


async def test_rate_limit_headers_and_429(sandbox):
    sandbox.state.set_knobs(rate_limit=3)
    tokens = await sandbox.sign_in()
    remaining = []
    for _ in range(3):
        r = await sandbox.api("GET", "/me", tokens["access_token"])
        assert r.status_code == 200 and r.headers["x-ratelimit-limit"] == "3"
        remaining.append(r.headers["x-ratelimit-remaining"])
    assert remaining == ["2", "1", "0"]
    r = await sandbox.api("GET", "/me", tokens["access_token"])
    assert r.status_code == 429 and r.headers["x-ratelimit-remaining"] == "0"
    assert 1 <= int(r.headers["retry-after"]) <= 60
    # the limit is per token: the API key has its own window
    assert (await sandbox.api("GET", "/me")).status_code == 200


async def test_rate_limit_window_resets_after_a_minute(sandbox, clock):
    sandbox.state.set_knobs(rate_limit=1)
    assert (await sandbox.api("GET", "/me")).status_code == 200
    assert (await sandbox.api("GET", "/me")).status_code == 429
    clock.advance(60)
    assert (await sandbox.api("GET", "/me")).status_code == 200


async def test_unknown_api_path_is_404_and_wrong_method_405(sandbox):
    r = await sandbox.api("GET", "/nothing-here")
    assert r.status_code == 404 and r.json() == {"error": {"message": "Not Found", "status_code": 404}}
    assert "x-ratelimit-remaining" in r.headers
    r = await sandbox.api("DELETE", "/me")
    assert r.status_code == 405 and set(r.headers["allow"].split(", ")) == {"GET", "POST"}
    assert r.json()["error"]["status_code"] == 405


async def test_api_key_works_as_bearer(sandbox):
    me = await get_ok(sandbox, "/me", "/api/v2/me", token="sandbox-api-key")
    assert me["id"] == sandbox.state.seed.me["id"]

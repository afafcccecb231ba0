"""The explorer's contract check (bonjoro_tui/api/contract.py): every answer of every operation
the sandbox serves matches the published schema (with the errata), a departure is listed as
path → expected → got, and what the definition does not document is said, not guessed."""

from __future__ import annotations

import subprocess
import sys

import httpx
import pytest

import openapi_check
from bonjoro_tui.api import contract
from bonjoro_tui.sandbox import api, create_app
from bonjoro_tui.sandbox.state import SandboxState

AUTH = {"Authorization": "Bearer sandbox-api-key"}


@pytest.fixture
async def sandbox():
    state = SandboxState()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(state)),
                                 base_url="http://127.0.0.1") as http:
        yield state, http


async def _call(http, method, path, **kwargs):
    r = await http.request(method, "/api/v2" + path, headers=AUTH, **kwargs)
    return r, r.json()


async def test_every_answer_of_every_served_operation_matches(sandbox):
    state, http = sandbox
    _, users = await _call(http, "GET", "/users")
    user_id = users["data"][1]["id"]
    calls = [
        ("GET", "/me", "/me", {}),
        ("POST", "/me", "/me", {"json": {"bio": "Hello"}}),
        ("GET", "/users", "/users", {}),
        ("GET", "/users", "/users", {"params": {"includes": "signatures"}}),
        ("GET", "/users/{user_id}", f"/users/{user_id}", {}),
        ("GET", "/users/{user_id}", "/users/no-such-user", {}),  # 404: the notFound schema
        ("GET", "/profiles", "/profiles", {"params": {"search": "a", "limit": 3}}),
        ("POST", "/profiles", "/profiles", {"json": {"email": "new.person@example.com", "first_name": "New"}}),
        ("POST", "/profiles", "/profiles", {"json": {"email": "not an email"}}),  # 400: badRequest
        ("GET", "/greets", "/greets", {"params": {"status": "open", "page": 2, "limit": 5}}),
        ("GET", "/greets", "/greets", {"params": {"page": 99}}),  # an empty page: from/to null
        ("POST", "/greets", "/greets", {"json": {"profiles": ["someone@example.com"], "note": "hi"}}),
        ("GET", "/campaigns", "/campaigns", {}),
        ("GET", "/message-templates", "/message-templates", {}),
    ]
    served = {(method, regex.pattern) for method, regex, _ in api.HAND_ROUTES}  # the engine's: tests/sandbox/test_every_operation.py
    covered = set()
    for method, template, path, kwargs in calls:
        response, body = await _call(http, method, path, **kwargs)
        result = contract.check(method, template, response.status_code, body)
        assert result.matched is True, (method, path, response.status_code, result.differences[:5])
        assert result.operation == f"{method} {template} {response.status_code}"
        assert contract.operation_for(method, path) == template
        covered |= {(m, p) for m, p in served if m == method and _matches(p, path)}
    assert covered == served, f"a served operation is not checked here: {served - covered}"

    # 401 (no token) has a published schema too.
    r = await http.get("/api/v2/greets")
    assert contract.check("GET", "/greets", r.status_code, r.json()).matched is True


def _matches(pattern: str, path: str) -> bool:
    import re

    return re.match(pattern, path) is not None


async def test_the_off_schema_knob_shows_each_difference(sandbox):
    state, http = sandbox
    state.set_knobs(off_schema=True)
    response, body = await _call(http, "GET", "/greets", params={"limit": 2})
    assert response.headers["x-sandbox-off-schema"]
    result = contract.check("GET", "/greets", response.status_code, body)
    assert result.matched is False and result.total == 2 == len(result.differences)
    missing, wrong = result.differences
    assert (missing.path, missing.expected, missing.got) == ("data[0].id", "present (string)", "absent")
    assert wrong.path.startswith("data[0].") and wrong.got == "integer 42"
    assert wrong.expected.startswith("string")

    response, body = await _call(http, "GET", "/me")
    result = contract.check("GET", "/me", 200, body)
    assert [d.path for d in result.differences] == ["id", "name"]  # the body is the user itself
    state.set_knobs(off_schema=False)
    response, body = await _call(http, "GET", "/me")
    assert "x-sandbox-off-schema" not in response.headers
    assert contract.check("GET", "/me", 200, body).matched is True


def test_what_the_definition_does_not_document_is_said():
    teapot = contract.check("GET", "/me", 418, {})
    assert teapot.matched is None and teapot.differences == []
    assert "documents no 418 answer for GET /me (documented: 200, 401)" in teapot.reason
    unknown = contract.check("GET", "/nowhere", 200, {})
    assert unknown.matched is None and "GET /nowhere is not in the published definition" in unknown.reason
    assert contract.operation_for("GET", "/nowhere") is None
    # The most literal template wins; a query is ignored; the published form is accepted too.
    assert contract.operation_for("GET", "/greets/results?page=2") == "/greets/results"
    assert contract.operation_for("GET", "/greets/abc/events") == "/greets/{greet_id}/events"
    assert contract.check("GET", "/api/v2/me", 418, {}).operation == "GET /me 418"


def test_differences_name_the_type_enum_and_null():
    page = {"current_page": "1", "data": [], "first_page_url": "u", "last_page_url": "u", "path": "p",
            "from": None, "last_page": 1, "next_page_url": None, "per_page": 15, "prev_page_url": None,
            "to": None, "total": None}
    result = contract.check("GET", "/campaigns", 200, page)
    assert [(d.path, d.expected, d.got) for d in result.differences] == [
        ("current_page", "integer", 'string "1"'),
        ("total", "integer", "null"),
    ]
    assert contract.check("GET", "/campaigns", 200, [1, 2]).differences[0].path == "(body)"


def test_a_long_array_is_checked_on_a_sample_and_says_so():
    items = [{"id": i} for i in range(contract.SAMPLE_ITEMS * 10)]
    result = contract.check("GET", "/campaigns", 200, {"data": items})
    assert result.sampled == [("data", contract.SAMPLE_ITEMS * 10)]
    assert all(d.path == "(body)" or not d.path.startswith(f"data[{contract.SAMPLE_ITEMS}]")
               for d in result.differences)
    assert len(result.differences) <= contract.MAX_DIFFERENCES <= result.total


def test_the_tests_check_uses_the_same_errata():
    assert openapi_check.ERRATA is contract.ERRATA
    names = [e.name for e in contract.ERRATA]
    assert len(set(names)) == len(names) and {"awaiting-reply-boolean", "datetime-type"} <= set(names)
    schemas = contract.corrected_spec()["components"]["schemas"]
    assert schemas["result"]["properties"]["awaiting_reply"] == {"type": "boolean", "nullable": True}
    assert contract.check("GET", "/results/{greet_id}/{profile_id}/stats", 200, {"awaiting_reply": True}).total > 0
    assert all(d.path != "awaiting_reply" for d in
               contract.check("GET", "/results/{greet_id}/{profile_id}/stats", 200, {"awaiting_reply": True}).differences)
    assert contract.corrected_spec() is not openapi_check.corrected_spec()  # each its own copy


def test_importing_the_check_does_not_import_the_validator():
    code = ("import sys, bonjoro_tui.api.contract as c; "
            "print(any(m.startswith(('openapi_schema_validator', 'jsonschema')) for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"

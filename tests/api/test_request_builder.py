"""The request builder: bodies with every required field, filled paths, body checks, headers."""

import pytest

from bonjoro_tui.api import catalog
from bonjoro_tui.api.request_builder import (
    Difference,
    HeaderError,
    MissingPathValue,
    example_body,
    fill_path,
    harvest_ids,
    optional_properties,
    parse_headers,
    required_properties,
    resolve_refs,
    validate_body,
)


def test_post_greets_example_holds_the_profiles_the_server_requires():
    ep = catalog.find("POST", "/greets")
    assert ep is not None and ep.request_schema is not None
    # The definition declares no `required`; every property but profiles is nullable.
    assert required_properties(ep.request_schema) == ["profiles"]
    assert ep.body_example == {"profiles": ["someone@example.com"]}
    assert "assignee_id" in optional_properties(ep.request_schema)
    # A profile id the app has seen is used instead of a made-up email.
    assert example_body(ep.request_schema, {"profile_id": "p-1"}) == {"profiles": ["p-1"]}


def test_a_declared_required_list_wins_over_nullability():
    ep = catalog.find("POST", "/profiles")
    assert ep is not None
    assert ep.body_example == {"email": "someone@example.com"}  # first_name/last_name are optional


def test_every_example_body_matches_its_own_schema():
    for ep in catalog.load_catalog():
        if ep.request_schema and ep.body_media_type == "application/json":
            body = ep.body_example if ep.body_example is not None else {}
            assert validate_body(ep.request_schema, body) == [], ep.label()


def test_differences_name_the_path_what_was_expected_and_what_came():
    schema = catalog.find("POST", "/greets").request_schema
    assert validate_body(schema, {}) == [Difference("profiles", "present (not nullable)", "missing")]
    got = validate_body(schema, {"profiles": ["a@example.com", 5], "assignee_id": "nope", "note": None})
    assert got == [
        Difference("assignee_id", "format uuid", '"nope"'),
        Difference("profiles[1]", "type string", "integer 5"),
    ]
    assert str(got[1]) == "profiles[1] → expected type string → got integer 5"
    assert validate_body(schema, [1]) == [Difference("(body)", "type object", "array [1]")]
    declared = catalog.find("POST", "/profiles").request_schema
    assert validate_body(declared, {"first_name": "x"}) == [Difference("email", "present (required)", "missing")]


def test_differences_are_capped():
    schema = {"type": "array", "items": {"type": "string"}}
    assert len(validate_body(schema, list(range(500)), limit=7)) == 7


def test_fill_path_percent_encodes_and_refuses_an_empty_value():
    assert fill_path("/users/{user_id}", {"user_id": "42"}) == "/users/42"
    assert fill_path("/users/{user_id}", {"user_id": " a/b c?d "}) == "/users/a%2Fb%20c%3Fd"
    assert fill_path("/greets/{greet_id}/{profile_id}", {"greet_id": "g", "profile_id": "p"}) == "/greets/g/p"
    for bad in ({}, {"user_id": ""}, {"user_id": "  "}, {"user_id": ".."}):
        with pytest.raises(MissingPathValue) as caught:
            fill_path("/users/{user_id}", bad)
        assert "{user_id}" in str(caught.value) and caught.value.hint
    with pytest.raises(MissingPathValue) as caught:
        fill_path("/results/{greet_id}/{profile_id}", {})
    assert caught.value.names == ["greet_id", "profile_id"]


def test_params_carry_enum_default_example_and_description():
    ep = catalog.find("GET", "/greets")
    params = {p.name: p for p in ep.query_params}
    assert {"status", "search", "sort", "profile_id", "assignee_id", "simple"} <= set(params)
    assert params["status"].enum == ("open", "closed", "sent") and params["status"].example == "open"
    assert "Search for profiles" in params["search"].description
    assert params["sort"].enum[0] == "created_at"
    assert params["profile_id"].format == "uuid"
    users = {p.name: p for p in catalog.find("GET", "/users").query_params}
    assert "includes" in users
    assert [p.name for p in catalog.find("GET", "/users/{user_id}").path_params] == ["user_id"]


def test_harvest_ids_names_them_as_a_request_would():
    body = {"data": [{"id": "g1", "assignee": {"id": "u1"}, "profiles": [{"id": "p1"}], "campaign": None}]}
    assert harvest_ids("/greets", body) == {"greet_id": "g1", "assignee_id": "u1", "profile_id": "p1"}
    assert harvest_ids("/message-templates", {"data": [{"id": 7}]}) == {"message_template_id": "7"}
    assert harvest_ids("/campaigns", {"data": []}) == {}
    assert harvest_ids("/x", "not json") == {}


def test_resolve_refs_survives_a_loop_and_a_foreign_ref():
    spec = {"components": {"schemas": {"node": {"type": "object", "properties": {
        "next": {"$ref": "#/components/schemas/node"}, "far": {"$ref": "other.json#/x"}}}}}}
    node = resolve_refs(spec, {"$ref": "#/components/schemas/node"})
    assert node["type"] == "object" and node["properties"]["next"] == {}  # the loop is cut
    assert node["properties"]["far"] == {}


def test_headers_are_parsed_and_the_clients_own_are_refused():
    assert parse_headers("X-Trace: 1\n\n# note\nAccept-Language:  fr ") == {"X-Trace": "1", "Accept-Language": "fr"}
    for bad in ("Authorization: Bearer x", "authorization:x", "Cookie: a=b", "no colon", "Bad Name: x",
                "X-A: a\x1bb"):
        with pytest.raises(HeaderError):
            parse_headers(bad)


def test_a_typed_path_or_url_finds_its_endpoint():
    assert catalog.match("GET", "/users/42").path == "/users/{user_id}"
    assert catalog.match("get", "https://bonjoro.test/api/v2/users/7?x=1").path == "/users/{user_id}"
    assert catalog.match("GET", "/greets/results").path == "/greets/results"  # a literal beats {greet_id}
    assert catalog.match("GET", "/greets/g-1/events").path == "/greets/{greet_id}/events"
    assert catalog.match("GET", "/nowhere") is None
    assert catalog.match("PATCH", "/me") is None
    assert catalog.match("DELETE", "/x").path == "/{invite_id}"  # the definition publishes DELETE /api/v2/{invite_id}

"""account/fields.py: gh api's -F/-f fields, headers and path parameters, as a request plan."""

from __future__ import annotations

import pytest

from bonjoro_tui.account.fields import FieldError, parse_field, parse_header, plan_request, typed_value


def F(spec, **kw):
    return parse_field(spec, typed=True, **kw)


def f(spec):
    return parse_field(spec, typed=False)


@pytest.mark.parametrize("text, value", [
    ("1", 1), ("-2", -2), ("1.5", 1.5), ("1e3", 1000.0), ("true", True), ("false", False), ("null", None),
    ("007", "007"), ("NaN", "NaN"), ("12abc", "12abc"), (" 1", " 1"), ("", ""), ("[1]", "[1]"), ("True", "True"),
])
def test_typed_values(text, value):
    assert typed_value(text) == value and type(typed_value(text)) is type(value)


def test_body_for_post_query_for_get_and_the_default_method(tmp_path):
    note = tmp_path / "note.txt"
    note.write_text("line one\n")
    fields = [F("email=a@example.com"), F("count=3"), F(f"note=@{note}"), F("attrs[plan]=pro"),
              F("attrs[seats]=5"), F("tags[]=x"), F("tags[]=2"), f("zip=007")]
    plan = plan_request(None, "/profiles", fields)
    assert plan.method == "POST" and plan.params == {}
    assert plan.json == {"email": "a@example.com", "count": 3, "note": "line one\n",
                         "attrs": {"plan": "pro", "seats": 5}, "tags": ["x", 2], "zip": "007"}

    plan = plan_request("get", "/greets", [F("limit=50"), F("filter[status]=open"), F("flag=true"), F("x=null")])
    assert plan.method == "GET" and plan.json is None
    assert plan.params == {"limit": ["50"], "filter[status]": ["open"], "flag": ["true"], "x": [""]}
    assert plan_request(None, "/greets", [F("limit=5")], paginate=True).method == "GET"
    assert plan_request(None, "/me", []).method == "GET"


def test_stdin_is_read_for_at_dash():
    assert F("bio=@-", read_stdin=lambda: "from stdin").value == "from stdin"
    with pytest.raises(FieldError, match="only once"):
        F("bio=@-")


def test_path_parameters_are_filled_and_not_sent():
    plan = plan_request(None, "/users/{user_id}", [F("user_id=a b/c"), F("includes=signatures")], paginate=True)
    assert plan.path == "/users/a%20b%2Fc" and plan.params == {"includes": ["signatures"]}
    with pytest.raises(FieldError, match=r"names \{campaign_id\}: give it with -F campaign_id=VALUE"):
        plan_request("GET", "/campaigns/{campaign_id}", [])
    for value in ("..", ".", ""):  # would name the collection, or another path: never sent
        with pytest.raises(FieldError, match="needs a value"):
            plan_request("DELETE", "/profiles/{profile_id}", [f(f"profile_id={value}")])


@pytest.mark.parametrize("spec, message", [
    ("novalue", "expected KEY=VALUE"), ("a[=1", "the key must be"), ("a[][b]=1", "may only come last"),
])
def test_bad_fields(spec, message):
    with pytest.raises(FieldError, match=message):
        F(spec)


def test_conflicting_keys_and_body_twice():
    with pytest.raises(FieldError):
        plan_request("POST", "/x", [F("a=1"), F("a[b]=2")])
    with pytest.raises(FieldError, match="either with --data"):
        plan_request("POST", "/x", [F("a=1")], data={"b": 1}, has_data=True)


def test_headers():
    assert parse_header("X-Trace:  abc ") == ("X-Trace", "abc")
    assert plan_request(None, "/me", [], headers=[parse_header("accept: text/csv")]).headers == {"Accept": "text/csv"}
    for bad in ("Authorization: Bearer x", "authorization:x", "Host: evil", "Content-Length: 1", "no colon",
                "Bad Name: x", "X-A: 1\nX-B: 2", "X-A: \x1b[2J"):
        with pytest.raises(FieldError):
            parse_header(bad)

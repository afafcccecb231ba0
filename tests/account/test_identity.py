"""account/identity.py: who is signed in, from the body of ``GET /me``; server text, any shape."""

from __future__ import annotations

import pytest

from bonjoro_tui.account.identity import Identity, display_name

ADA = {"id": "u-1", "name": "Ada Lovelace", "email": "ada@example.com"}


@pytest.mark.parametrize("body", [{"data": ADA}, ADA], ids=["wrapped in data", "the user itself"])
def test_name_email_and_id(body):
    who = Identity.from_me(body)
    assert who == Identity("Ada Lovelace", "ada@example.com", "u-1")
    assert who.display == "Ada Lovelace <ada@example.com>"
    assert display_name(body) == "Ada Lovelace <ada@example.com>"


@pytest.mark.parametrize(
    "user, name",
    [
        ({"first_name": "Ada", "last_name": "Lovelace"}, "Ada Lovelace"),
        ({"name": "", "first_name": "Ada", "last_name": "Lovelace"}, "Ada Lovelace"),  # an empty name
        ({"name": None, "first_name": "Ada"}, "Ada"),
        ({"last_name": "Lovelace"}, "Lovelace"),
        ({"name": "Countess", "first_name": "Ada", "last_name": "Lovelace"}, "Countess"),  # name first
    ],
)
def test_first_and_last_name_when_there_is_no_name(user, name):
    who = Identity.from_me({"data": {**user, "email": "ada@example.com"}})
    assert who is not None and who.name == name
    assert who.display == f"{name} <ada@example.com>"


def test_email_only():
    who = Identity.from_me({"data": {"email": "ada@example.com"}})
    assert who == Identity(None, "ada@example.com", None)
    assert who.display == "ada@example.com"


@pytest.mark.parametrize("raw_id, ident", [("u-1", "u-1"), (42, "42"), (0, "0")])
def test_id_only(raw_id, ident):
    who = Identity.from_me({"data": {"id": raw_id}})
    assert who == Identity(None, None, ident)
    assert who.display == ident


@pytest.mark.parametrize(
    "body",
    [None, [], [ADA], "Ada", 42, True, {}, {"data": {}}, {"data": None}, {"data": []}, {"data": "Ada"},
     {"data": [ADA]}, {"data": {"name": "", "email": "", "id": ""}}],
)
def test_a_body_that_names_nobody(body):
    assert Identity.from_me(body) is None
    assert display_name(body) == "—"


@pytest.mark.parametrize(
    "user, expected",
    [
        # Only strings count as a name or an email, only strings and integers as an id; whatever
        # else a hostile server sends is left out, never turned into text with str().
        ({"name": 5, "first_name": "Ada", "email": "a@x"}, Identity("Ada", "a@x", None)),
        ({"name": ["Ada"], "first_name": 1, "last_name": {"x": 1}, "email": "a@x"}, Identity(None, "a@x", None)),
        ({"name": {"first": "Ada"}, "email": ["a@x"], "id": "u"}, Identity(None, None, "u")),
        ({"email": 123, "id": True}, None),  # a bool is not an id
        ({"id": 1.5}, None),
        ({"id": None, "name": None, "email": None}, None),
        ({"id": {"n": 1}, "name": "Ada"}, Identity("Ada", None, None)),
    ],
)
def test_hostile_types_are_left_out(user, expected):
    assert Identity.from_me({"data": user}) == expected


def test_server_text_is_kept_as_sent():
    """Escaping is the front ends' job (they show it with safe_text / as Text), not this one's."""
    hostile = {"name": "[b]Ada[/b]\x1b]52;c;eA==\x07", "email": "a@x\u202e"}
    who = Identity.from_me(hostile)
    assert who == Identity(hostile["name"], hostile["email"], None)


def test_a_data_key_wins_over_the_top_level():
    assert Identity.from_me({"data": {"name": "Inner"}, "name": "Outer"}) == Identity("Inner", None, None)

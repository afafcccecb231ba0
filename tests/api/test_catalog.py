"""The endpoint catalog is read from the packaged OpenAPI definition, not hard-coded."""

import json
from pathlib import Path

import bonjoro_tui
from bonjoro_tui.api import catalog
from bonjoro_tui.api.catalog import load_catalog

SPEC = Path(bonjoro_tui.__file__).parent / "spec" / "bonjoro-api-v2-openapi.json"


def _spec_operations():
    spec = json.loads(SPEC.read_text())
    return {
        (m.upper(), p)
        for p, item in spec["paths"].items()
        for m in item
        if m in {"get", "post", "put", "patch", "delete"}
    }


def test_every_published_operation_is_listed_once_except_the_token_endpoint():
    entries = load_catalog()
    published = {(e.method, e.spec_path) for e in entries if e.published}
    assert published == _spec_operations() - {("POST", "/api/v2/oauth/2/token")}
    assert len(entries) == len({(e.method, e.path) for e in entries})


def test_paths_are_relative_to_the_api_base():
    entries = load_catalog()
    assert all(e.path.startswith("/") and not e.path.startswith("/api/v2") for e in entries)
    campaigns = catalog.find("get", "/campaigns")
    assert campaigns is not None
    assert campaigns.spec_path == "/api/v2/campaigns"
    assert campaigns.tag == "Campaigns" and campaigns.operation_id == "getCampaigns"
    assert [(p.name, p.location, p.required) for p in campaigns.params] == [("limit", "query", False)]


def test_get_me_is_added_and_marked_unpublished_while_post_me_comes_from_the_spec():
    me = catalog.find("GET", "/me")
    assert me is not None and me.published is False
    assert "not published" in me.summary
    post_me = catalog.find("POST", "/me")
    assert post_me is not None and post_me.published is True
    assert post_me.has_body and post_me.body_example == {"bio": "Example bio"}


def test_path_parameters_are_required():
    entry = catalog.find("GET", "/campaigns/{campaign_id}")
    assert entry is not None
    assert [(p.name, p.required) for p in entry.path_params] == [("campaign_id", True)]


def test_catalog_is_parsed_once_and_callers_get_their_own_list():
    first = load_catalog()
    first.clear()
    assert load_catalog()
    assert catalog._catalog.cache_info().hits >= 1


def test_a_body_example_holds_every_required_property():
    profiles = catalog.find("post", "/profiles")
    assert profiles is not None and profiles.body_example is not None
    # email is required and has no example in the definition: made up from its format; the
    # optional first_name is left out (tests/api/test_request_builder.py has the rule)
    assert profiles.body_example == {"email": "someone@example.com"}
    for entry in load_catalog():
        if not entry.has_body or entry.body_example is None or entry.request_schema is None:
            continue
        assert set(entry.request_schema.get("required", [])) <= set(entry.body_example), entry.label()

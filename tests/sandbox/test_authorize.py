"""GET/POST /oauth/authorize: validation, RFC 6749 §4.1.2.1 errors, consent page, escaping."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest

from .helpers import BASE, CONFIDENTIAL, PUBLIC, REDIRECT, authorize_query, pkce_pair, redirect_params


def form_request_id(html: str) -> str:
    match = re.search(r'name="request_id" value="([^"]+)"', html)
    assert match, html
    return match.group(1)


async def test_consent_page_then_approve_redirects_with_code_state_and_iss(sandbox):
    query = authorize_query(state="abc123")
    r = await sandbox.http.get("/oauth/authorize", params=query)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    assert "Approve" in r.text and "Deny" in r.text and "Alex Sandbox" in r.text
    r = await sandbox.http.post("/oauth/authorize", data={"request_id": form_request_id(r.text), "decision": "approve"})
    assert r.status_code == 303
    location = r.headers["location"]
    assert location.startswith(REDIRECT + "?")
    params = redirect_params(r)
    assert params["state"] == "abc123" and params["iss"] == BASE and len(params["code"]) >= 40


async def test_deny_redirects_with_access_denied_and_state(sandbox):
    r = await sandbox.http.get("/oauth/authorize", params=authorize_query(state="s-deny"))
    r = await sandbox.http.post("/oauth/authorize", data={"request_id": form_request_id(r.text), "decision": "deny"})
    params = redirect_params(r)
    assert params["error"] == "access_denied" and params["state"] == "s-deny" and "code" not in params


async def test_consent_form_cannot_be_submitted_twice_or_forged(sandbox):
    r = await sandbox.http.get("/oauth/authorize", params=authorize_query())
    request_id = form_request_id(r.text)
    assert (await sandbox.http.post("/oauth/authorize", data={"request_id": request_id, "decision": "approve"})).status_code == 303
    again = await sandbox.http.post("/oauth/authorize", data={"request_id": request_id, "decision": "approve"})
    forged = await sandbox.http.post("/oauth/authorize", data={"request_id": "made-up", "decision": "approve"})
    for response in (again, forged):
        assert response.status_code == 400 and "location" not in response.headers


async def test_consent_request_expires(sandbox, clock):
    r = await sandbox.http.get("/oauth/authorize", params=authorize_query())
    clock.advance(601)
    r = await sandbox.http.post("/oauth/authorize", data={"request_id": form_request_id(r.text), "decision": "approve"})
    assert r.status_code == 400 and "location" not in r.headers


async def test_auto_approve_redirects_at_once(sandbox):
    sandbox.state.set_knobs(auto_approve=True)
    r = await sandbox.http.get("/oauth/authorize", params=authorize_query(state="xyz"))
    assert r.status_code == 302
    assert redirect_params(r)["state"] == "xyz"


@pytest.mark.parametrize("port", ["1", "8765", "65535"])
@pytest.mark.parametrize("host", ["127.0.0.1", "[::1]"])
async def test_any_loopback_port_is_accepted(sandbox, host, port):
    sandbox.state.set_knobs(auto_approve=True)
    uri = f"http://{host}:{port}/callback"
    r = await sandbox.http.get("/oauth/authorize", params=authorize_query(redirect_uri=uri))
    assert r.status_code == 302 and r.headers["location"].startswith(uri + "?")


async def test_seed_redirect_uri_is_registered_exactly(sandbox):
    sandbox.state.set_knobs(auto_approve=True)
    r = await sandbox.http.get("/oauth/authorize", params=authorize_query(redirect_uri="http://localhost:3000/callback"))
    assert r.status_code == 302


@pytest.mark.parametrize(
    "redirect_uri",
    [
        "http://127.0.0.1:8765/callback/evil",  # path differs
        "http://127.0.0.1:8765/Callback",
        "http://127.0.0.1:8765/callback?next=x",  # query differs
        "http://127.0.0.1:8765/callback#frag",
        "https://127.0.0.1:8765/callback",  # scheme differs
        "http://localhost:3001/callback",  # only the loopback IP literals get any port
        "http://localhost:8765/callback",
        "http://127.0.0.2:8765/callback",
        "http://127.0.0.1:99999/callback",
        "http://127.0.0.1:08765/callback",
        "http://evil.example/callback",
        "http://127.0.0.1:8765@evil.example/callback",
        "",
    ],
)
async def test_bad_redirect_uri_gets_an_error_page_never_a_redirect(sandbox, redirect_uri):
    r = await sandbox.http.get("/oauth/authorize", params=authorize_query(redirect_uri=redirect_uri))
    assert r.status_code == 400
    assert "location" not in r.headers
    assert r.headers["content-type"].startswith("text/html")
    assert "redirect_uri" in r.text


@pytest.mark.parametrize("client_id", ["", "nobody", None])
async def test_unknown_client_gets_an_error_page(sandbox, client_id):
    r = await sandbox.http.get("/oauth/authorize", params=authorize_query(client_id=client_id))
    assert r.status_code == 400 and "location" not in r.headers


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge_method": None}, "invalid_request"),  # absent means plain (RFC 7636 §4.3)
        ({"code_challenge": None}, "invalid_request"),
        ({"code_challenge": "too-short"}, "invalid_request"),
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"response_type": None}, "invalid_request"),
        ({"scope": "read\\write"}, "invalid_scope"),
    ],
)
async def test_invalid_requests_redirect_back_with_an_error_and_the_state(sandbox, overrides, error):
    r = await sandbox.http.get("/oauth/authorize", params=authorize_query(state="keep-me", **overrides))
    params = redirect_params(r)
    assert params["error"] == error
    assert params["state"] == "keep-me" and params["iss"] == BASE
    assert "code" not in params and params["error_description"]


async def test_plain_pkce_is_refused_even_for_the_confidential_client(sandbox):
    verifier, _ = pkce_pair()
    query = authorize_query(client_id=CONFIDENTIAL, code_challenge=verifier[:43], code_challenge_method="plain")
    params = redirect_params(await sandbox.http.get("/oauth/authorize", params=query))
    assert params["error"] == "invalid_request" and "plain" in params["error_description"]


async def test_repeated_parameter_is_invalid_request(sandbox):
    query = list(authorize_query().items()) + [("state", "second")]
    params = redirect_params(await sandbox.http.get("/oauth/authorize", params=query))
    assert params["error"] == "invalid_request"


async def test_pages_carry_strict_security_headers(sandbox):
    consent = await sandbox.http.get("/oauth/authorize", params=authorize_query())
    error = await sandbox.http.get("/oauth/authorize", params=authorize_query(client_id="nobody"))
    for r in (consent, error):
        assert r.headers["referrer-policy"] == "no-referrer"
        assert r.headers["x-frame-options"] == "DENY"
        assert r.headers["cache-control"] == "no-store"
        csp = r.headers["content-security-policy"]
        assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp and "script-src" not in csp
    # The consent form may post to the sandbox and end at the client's callback origin only.
    assert "form-action 'self' http://127.0.0.1:8765;" in consent.headers["content-security-policy"]


XSS = '<script>alert("x")</script>'


async def test_consent_page_escapes_the_state(sandbox):
    r = await sandbox.http.get("/oauth/authorize", params=authorize_query(state=XSS))
    assert r.status_code == 200
    assert "<script>" not in r.text and "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in r.text
    # and the redirect carries the state URL-encoded, byte for byte
    r = await sandbox.http.post("/oauth/authorize", data={"request_id": form_request_id(r.text), "decision": "approve"})
    assert redirect_params(r)["state"] == XSS


async def test_consent_page_escapes_a_hostile_scope(sandbox):
    r = await sandbox.http.get("/oauth/authorize", params=authorize_query(scope="<b>bold</b> x'onmouseover=1"))
    assert r.status_code == 200
    assert "<b>" not in r.text and "&lt;b&gt;bold&lt;/b&gt;" in r.text and "x&#x27;onmouseover=1" in r.text


async def test_error_page_escapes_what_it_shows(sandbox):
    r = await sandbox.http.get("/oauth/authorize", params=authorize_query(client_id=XSS, redirect_uri=XSS))
    assert r.status_code == 400 and "<script>" not in r.text


async def test_dns_rebinding_host_is_refused(sandbox):
    r = await sandbox.http.get("/oauth/authorize", params=authorize_query(), headers={"Host": "evil.example:8080"})
    assert r.status_code == 421
    r = await sandbox.http.get("/api/v2/me", headers={"Host": "evil.example", "Authorization": "Bearer sandbox-api-key"})
    assert r.status_code == 421
    for host in ("localhost:1234", "127.0.0.1", "[::1]:80"):
        r = await sandbox.http.get("/", headers={"Host": host})
        assert r.status_code == 200, host


async def test_public_client_id_in_the_authorization_url_is_the_registered_one(sandbox):
    r = await sandbox.http.get("/oauth/authorize", params=authorize_query(client_id=PUBLIC))
    assert "sandbox-public" in r.text
    assert urlsplit(REDIRECT).netloc in r.text


async def test_redirected_error_description_is_sanitised(sandbox):
    query = list(authorize_query().items()) + [('bad"\\é', "1"), ('bad"\\é', "2")]
    params = redirect_params(await sandbox.http.get("/oauth/authorize", params=query))
    assert params["error"] == "invalid_request"
    assert all(" " <= c <= "~" and c not in '"\\' for c in params["error_description"])

"""The harness itself, without bonjoro-tui: DOT is configured as the interop tests say, and the
browser stand-in gets a code out of it. When these pass and an interop test fails, the product
is at fault, not the harness.

The client here is a few lines of plain RFC 6749 + 7636 + 7009 (form bodies, HTTP Basic for the
confidential client), written from the RFCs, not from bonjoro-tui.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from . import dot_browser
from .conftest import Dot

pytestmark = pytest.mark.integration

REDIRECT = "http://127.0.0.1:54321/callback"  # any port: DOT relaxes it for loopback IPs (RFC 8252 §7.3)


def authorize(dot: Dot, client_id: str, *, decision: str = "allow", scope: str = "read",
              redirect_uri: str = REDIRECT) -> tuple[dict[str, str], str]:
    """Run the browser stand-in on a fresh authorization request; the callback's query and the verifier."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    state = secrets.token_urlsafe(16)
    url = dot.metadata["authorization_endpoint"] + "?" + urlencode({
        "response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri, "scope": scope,
        "state": state, "code_challenge": challenge, "code_challenge_method": "S256",
    })
    callback = dot_browser.run(url, username=dot.user["username"], password=dot.user["password"],
                               decision=decision, deliver=False)
    assert callback.startswith(redirect_uri + "?")
    query = {k: v[0] for k, v in parse_qs(urlsplit(callback).query).items()}
    assert query.pop("state") == state
    return query, verifier


def test_server_publishes_its_endpoints_with_trailing_slashes(dot):
    assert int(dot.versions["django-oauth-toolkit"].split(".")[0]) >= 3
    assert dot.started_in < 15
    m = dot.metadata
    assert m["issuer"] == dot.url + "/o"
    assert m["authorization_endpoint"] == dot.url + "/o/authorize/"
    assert m["token_endpoint"] == dot.url + "/o/token/"
    assert m["revocation_endpoint"] == dot.url + "/o/revoke_token/"
    assert m["code_challenge_methods_supported"] == ["S256"]
    assert set(m["token_endpoint_auth_methods_supported"]) == {"client_secret_basic", "client_secret_post"}
    assert m["authorization_response_iss_parameter_supported"] is True
    oidc = dot.openid_configuration
    assert oidc["issuer"] == m["issuer"]
    assert (oidc["authorization_endpoint"], oidc["token_endpoint"]) == (m["authorization_endpoint"], m["token_endpoint"])
    # RFC 8414 §3's own location for an issuer with a path serves the same document.
    with dot.http() as h:
        assert h.get(dot.url + "/.well-known/oauth-authorization-server/o").json() == m


def test_code_pkce_refresh_rotation_reuse_and_revocation_by_hand(dot):
    client_id = dot.clients["public"]["client_id"]
    query, verifier = authorize(dot, client_id)
    assert query["iss"] == dot.issuer  # RFC 9207
    with dot.http() as h:
        token = dot.metadata["token_endpoint"]
        # PKCE is required: the code without its verifier is refused.
        r = h.post(token, data={"grant_type": "authorization_code", "code": query["code"], "redirect_uri": REDIRECT,
                                "client_id": client_id})
        assert r.status_code == 400
        query, verifier = authorize(dot, client_id)
        r = h.post(token, data={"grant_type": "authorization_code", "code": query["code"], "redirect_uri": REDIRECT,
                                "client_id": client_id, "code_verifier": verifier})
        assert r.status_code == 200, r.text
        first = r.json()
        assert first["token_type"] == "Bearer" and first["scope"] == "read" and first["refresh_token"]
        me = h.get(dot.api_base + "/me", headers={"Authorization": "Bearer " + first["access_token"]})
        assert me.json() == {"data": {"id": dot.user["id"], "name": "Ada Lovelace", "email": dot.user["email"]}}
        # DOT's API answers a bad token as RFC 6750 says: 401 with a challenge.
        bad = h.get(dot.api_base + "/me", headers={"Authorization": "Bearer nope"})
        assert bad.status_code == 401 and bad.headers["www-authenticate"].startswith("Bearer")

        r = h.post(token, data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"],
                                "client_id": client_id})
        assert r.status_code == 200, r.text
        second = r.json()
        assert second["refresh_token"] != first["refresh_token"]  # rotated
        assert dot.refresh_token_dead(first["refresh_token"]) and dot.access_token_dead(first["access_token"])
        assert dot.introspect(second["access_token"])["active"] is True

        # Reuse of the rotated-out refresh token: refused, and the whole family is revoked.
        r = h.post(token, data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"],
                                "client_id": client_id})
        assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
        assert dot.access_token_dead(second["access_token"]) and dot.refresh_token_dead(second["refresh_token"])

        # Revocation (RFC 7009) of a fresh grant's refresh token kills its access token too.
        query, verifier = authorize(dot, client_id)
        third = h.post(token, data={"grant_type": "authorization_code", "code": query["code"], "redirect_uri": REDIRECT,
                                    "client_id": client_id, "code_verifier": verifier}).json()
        r = h.post(dot.metadata["revocation_endpoint"], data={"token": third["refresh_token"], "client_id": client_id,
                                                             "token_type_hint": "refresh_token"})
        assert r.status_code == 200
        assert dot.refresh_token_dead(third["refresh_token"]) and dot.access_token_dead(third["access_token"])


def test_confidential_client_basic_and_post_and_a_wrong_secret_by_hand(dot):
    c = dot.clients["confidential"]
    with dot.http() as h:
        for how in ("basic", "post", "wrong"):
            query, verifier = authorize(dot, c["client_id"])
            data = {"grant_type": "authorization_code", "code": query["code"], "redirect_uri": REDIRECT,
                    "code_verifier": verifier}
            if how == "basic":
                r = h.post(dot.metadata["token_endpoint"], data=data, auth=(c["client_id"], c["client_secret"]))
            else:
                secret = c["client_secret"] if how == "post" else "not-the-secret"
                r = h.post(dot.metadata["token_endpoint"],
                           data={**data, "client_id": c["client_id"], "client_secret": secret})
            if how == "wrong":
                assert r.status_code == 401 and r.json()["error"] == "invalid_client"
            else:
                assert r.status_code == 200, r.text
        # The recorder saw each the way it was sent, and nothing secret.
        seen = dot.exchanges()[-3:]
        assert [(e["basic_client_id"], e["body_has_secret"], e["status"]) for e in seen] == [
            (c["client_id"], False, 200), (None, True, 200), (None, True, 401)]
        assert c["client_secret"] not in str(dot.exchanges())


def test_denied_consent_and_client_credentials_by_hand(dot):
    query, _ = authorize(dot, dot.clients["public"]["client_id"], decision="deny")
    assert query["error"] == "access_denied" and "code" not in query
    s = dot.clients["service"]
    with dot.http() as h:
        r = h.post(dot.metadata["token_endpoint"], data={"grant_type": "client_credentials", "scope": "read"},
                   auth=(s["client_id"], s["client_secret"]))
        assert r.status_code == 200, r.text
        body = r.json()
        assert "refresh_token" not in body
        me = h.get(dot.api_base + "/me", headers={"Authorization": "Bearer " + body["access_token"]}).json()
        assert me["data"]["id"] == "client:" + s["client_id"]

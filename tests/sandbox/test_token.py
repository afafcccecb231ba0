"""POST /oauth/token and /api/v2/oauth/2/token: grants, client authentication, RFC 6749 §5.2 errors."""

from __future__ import annotations

import base64
import json

import pytest

from openapi_check import assert_matches_spec

from .helpers import CONFIDENTIAL, PUBLIC, REDIRECT, SECRET, pkce_pair


def basic(client_id: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


def claims(jwt: str) -> dict:
    payload = jwt.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def code_body(code: str, verifier: str, **extra: str) -> dict[str, str]:
    return {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
            "client_id": PUBLIC, "code_verifier": verifier, **extra}


def assert_oauth_error(r, error: str, status: int = 400) -> None:
    assert r.status_code == status, r.text
    body = r.json()
    assert body["error"] == error and isinstance(body["error_description"], str)
    assert r.headers["cache-control"] == "no-store"


@pytest.mark.parametrize("form", [False, True], ids=["json", "form"])
@pytest.mark.parametrize("path", ["/api/v2/oauth/2/token", "/oauth/token"])
async def test_code_exchange_on_both_paths_and_both_encodings(sandbox, form, path):
    code, verifier = await sandbox.code()
    body = code_body(code, verifier)
    r = await (sandbox.http.post(path, data=body) if form else sandbox.http.post(path, json=body))
    assert r.status_code == 200, r.text
    assert r.headers["cache-control"] == "no-store" and r.headers["pragma"] == "no-cache"
    tokens = r.json()
    assert_matches_spec("POST", path, 200, tokens)
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] == 3600 and tokens["scope"] == "*"
    assert tokens["access_token"].startswith("eyJ0eXAiOiJKV1QiLCJh")  # a JWT, like Bonjoro's
    c = claims(tokens["access_token"])
    assert c["aud"] == PUBLIC and c["exp"] - c["iat"] == 3600 and c["sub"] == sandbox.state.seed.me["id"]
    assert tokens["refresh_token"] and tokens["refresh_token"] != tokens["access_token"]


async def test_requested_scope_is_granted_and_returned(sandbox):
    code, verifier = await sandbox.code(scope="greets:read  profiles:read")
    r = await sandbox.token(code_body(code, verifier))
    assert r.json()["scope"] == "greets:read profiles:read"


async def test_wrong_verifier_is_invalid_grant_and_spends_the_code(sandbox):
    code, verifier = await sandbox.code()
    other, _ = pkce_pair()
    assert_oauth_error(await sandbox.token(code_body(code, other)), "invalid_grant")
    assert_oauth_error(await sandbox.token(code_body(code, verifier)), "invalid_grant")


async def test_malformed_verifier_is_invalid_request(sandbox):
    code, _ = await sandbox.code()
    assert_oauth_error(await sandbox.token(code_body(code, "short")), "invalid_request")


async def test_reused_code_is_refused_and_revokes_what_it_bought(sandbox):
    code, verifier = await sandbox.code()
    first = (await sandbox.token(code_body(code, verifier))).json()
    assert_oauth_error(await sandbox.token(code_body(code, verifier)), "invalid_grant")
    assert (await sandbox.api("GET", "/me", first["access_token"])).status_code == 401
    refreshed = await sandbox.token({"grant_type": "refresh_token", "refresh_token": first["refresh_token"], "client_id": PUBLIC})
    assert_oauth_error(refreshed, "invalid_grant")


async def test_code_expires_after_60_seconds(sandbox, clock):
    code, verifier = await sandbox.code()
    clock.advance(60)
    assert_oauth_error(await sandbox.token(code_body(code, verifier)), "invalid_grant")


async def test_code_is_good_just_before_expiry(sandbox, clock):
    code, verifier = await sandbox.code()
    clock.advance(59)
    assert (await sandbox.token(code_body(code, verifier))).status_code == 200


async def test_redirect_uri_must_be_identical(sandbox):
    code, verifier = await sandbox.code()
    r = await sandbox.token(code_body(code, verifier, redirect_uri="http://127.0.0.1:8765/callback/other"))
    assert_oauth_error(r, "invalid_grant")
    code, verifier = await sandbox.code()
    r = await sandbox.token(code_body(code, verifier, redirect_uri="http://127.0.0.1:9999/callback"))
    assert_oauth_error(r, "invalid_grant")  # the port counts once the code is issued


async def test_code_of_another_client_is_invalid_grant(sandbox):
    code, verifier = await sandbox.code(client_id=CONFIDENTIAL)
    assert_oauth_error(await sandbox.token(code_body(code, verifier)), "invalid_grant")


@pytest.mark.parametrize("missing", ["code", "redirect_uri", "code_verifier"])
async def test_missing_code_parameters_are_invalid_request(sandbox, missing):
    code, verifier = await sandbox.code()
    body = code_body(code, verifier)
    del body[missing]
    assert_oauth_error(await sandbox.token(body), "invalid_request")


async def test_unknown_code_is_invalid_grant(sandbox):
    _, verifier = pkce_pair()
    assert_oauth_error(await sandbox.token(code_body("not-a-code", verifier)), "invalid_grant")


# -- refresh ----------------------------------------------------------------------------------


async def refresh(sandbox, token: str, **extra: str):
    return await sandbox.token({"grant_type": "refresh_token", "refresh_token": token, "client_id": PUBLIC, **extra})


async def test_refresh_rotates_and_old_access_token_stays_valid_until_expiry(sandbox):
    first = await sandbox.sign_in()
    r = await refresh(sandbox, first["refresh_token"])
    assert r.status_code == 200
    second = r.json()
    assert_matches_spec("POST", "/api/v2/oauth/2/token", 200, second)
    assert second["refresh_token"] != first["refresh_token"] and second["access_token"] != first["access_token"]
    assert (await sandbox.api("GET", "/me", second["access_token"])).status_code == 200
    third = (await refresh(sandbox, second["refresh_token"])).json()
    assert (await sandbox.api("GET", "/me", third["access_token"])).status_code == 200


async def test_reusing_a_rotated_refresh_token_kills_the_whole_family(sandbox):
    first = await sandbox.sign_in()
    second = (await refresh(sandbox, first["refresh_token"])).json()
    assert_oauth_error(await refresh(sandbox, first["refresh_token"]), "invalid_grant")
    # the successor is dead too, and so are the access tokens of the family
    assert_oauth_error(await refresh(sandbox, second["refresh_token"]), "invalid_grant")
    assert (await sandbox.api("GET", "/me", second["access_token"])).status_code == 401
    # another sign-in is unaffected
    other = await sandbox.sign_in()
    assert (await refresh(sandbox, other["refresh_token"])).status_code == 200


async def test_refresh_token_of_another_client_is_invalid_grant(sandbox):
    tokens = await sandbox.sign_in(CONFIDENTIAL)
    assert_oauth_error(await refresh(sandbox, tokens["refresh_token"]), "invalid_grant")


async def test_refresh_can_narrow_but_not_widen_scope(sandbox):
    code, verifier = await sandbox.code(scope="a b")
    tokens = (await sandbox.token(code_body(code, verifier))).json()
    narrowed = await refresh(sandbox, tokens["refresh_token"], scope="a")
    assert narrowed.json()["scope"] == "a"
    assert_oauth_error(await refresh(sandbox, narrowed.json()["refresh_token"], scope="a c"), "invalid_scope")


async def test_refresh_token_expires(sandbox, clock):
    sandbox.state.set_knobs(refresh_ttl=100)
    tokens = await sandbox.sign_in()
    clock.advance(101)
    assert_oauth_error(await refresh(sandbox, tokens["refresh_token"]), "invalid_grant")


# -- client credentials and client authentication -----------------------------------------------


async def test_client_credentials_with_basic_auth(sandbox):
    r = await sandbox.token({"grant_type": "client_credentials"}, headers=basic(CONFIDENTIAL, SECRET))
    assert r.status_code == 200
    tokens = r.json()
    assert "refresh_token" not in tokens  # RFC 6749 §4.4.3
    assert_matches_spec("POST", "/api/v2/oauth/2/token", 200, tokens)
    assert (await sandbox.api("GET", "/me", tokens["access_token"])).status_code == 200


async def test_client_credentials_with_body_secret_form_encoded(sandbox):
    body = {"grant_type": "client_credentials", "client_id": CONFIDENTIAL, "client_secret": SECRET}
    assert (await sandbox.token(body, form=True)).status_code == 200


async def test_client_credentials_refused_for_the_public_client(sandbox):
    r = await sandbox.token({"grant_type": "client_credentials", "client_id": PUBLIC})
    assert_oauth_error(r, "unauthorized_client")


async def test_wrong_client_secret_is_invalid_client_401(sandbox):
    r = await sandbox.token({"grant_type": "client_credentials", "client_id": CONFIDENTIAL, "client_secret": "nope"})
    assert_oauth_error(r, "invalid_client", 401)
    r = await sandbox.token({"grant_type": "client_credentials"}, headers=basic(CONFIDENTIAL, "nope"))
    assert_oauth_error(r, "invalid_client", 401)
    assert r.headers["www-authenticate"].startswith("Basic")


async def test_confidential_client_code_exchange_needs_its_secret(sandbox):
    code, verifier = await sandbox.code(client_id=CONFIDENTIAL)
    r = await sandbox.token(code_body(code, verifier, client_id=CONFIDENTIAL))
    assert_oauth_error(r, "invalid_client", 401)


@pytest.mark.parametrize(
    ("body", "headers", "error", "status"),
    [
        ({"grant_type": "client_credentials", "client_id": "nobody"}, {}, "invalid_client", 401),
        ({"grant_type": "client_credentials"}, {}, "invalid_client", 401),
        ({"grant_type": "authorization_code", "client_id": PUBLIC, "client_secret": "x"}, {}, "invalid_client", 401),
        ({"grant_type": "client_credentials", "client_secret": SECRET}, basic(CONFIDENTIAL, SECRET), "invalid_request", 400),
        ({"grant_type": "client_credentials", "client_id": PUBLIC}, basic(CONFIDENTIAL, SECRET), "invalid_request", 400),
    ],
    ids=["unknown-client", "no-client", "public-with-secret", "two-methods", "id-mismatch"],
)
async def test_client_authentication_errors(sandbox, body, headers, error, status):
    assert_oauth_error(await sandbox.token(body, headers=headers), error, status)


async def test_basic_credentials_are_form_urldecoded(sandbox):
    # RFC 6749 §2.3.1: the id and secret are form-urlencoded before being base64-encoded.
    r = await sandbox.token({"grant_type": "client_credentials"}, headers=basic("sandbox%2Dconfidential", "sandbox%2Dsecret"))
    assert r.status_code == 200


@pytest.mark.parametrize("grant", ["password", "implicit", "urn:ietf:params:oauth:grant-type:device_code"])
async def test_unknown_grant_type_is_unsupported_grant_type(sandbox, grant):
    r = await sandbox.token({"grant_type": grant, "client_id": PUBLIC, "username": "a", "password": "b"})
    assert_oauth_error(r, "unsupported_grant_type")


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b"{not json", "application/json"),
        (b"[1, 2]", "application/json"),
        (b'{"grant_type": 5, "client_id": "sandbox-public"}', "application/json"),
        (b"grant_type=client_credentials&grant_type=refresh_token&client_id=sandbox-public",
         "application/x-www-form-urlencoded"),
        (b"<xml/>", "application/xml"),
        (b"client_id=sandbox-public", "application/x-www-form-urlencoded"),
    ],
    ids=["bad-json", "json-array", "non-string", "repeated", "xml", "no-grant-type"],
)
async def test_malformed_requests_are_invalid_request(sandbox, content, content_type):
    r = await sandbox.http.post("/oauth/token", content=content, headers={"content-type": content_type})
    assert_oauth_error(r, "invalid_request")


async def test_get_on_the_token_endpoint_is_405(sandbox):
    r = await sandbox.http.get("/oauth/token")
    assert r.status_code == 405 and r.headers["allow"] == "POST"


async def test_access_ttl_knob_sets_expires_in(sandbox):
    sandbox.state.set_knobs(access_ttl=5)
    tokens = await sandbox.sign_in()
    assert tokens["expires_in"] == 5


async def test_stats_count_token_calls_by_grant_type(sandbox):
    tokens = await sandbox.sign_in()
    await refresh(sandbox, tokens["refresh_token"])
    await refresh(sandbox, tokens["refresh_token"])  # reuse: an error
    await sandbox.token({"grant_type": "client_credentials"}, headers=basic(CONFIDENTIAL, SECRET))
    await sandbox.token({"client_id": PUBLIC})
    stats = sandbox.state.stats()
    assert stats["token_requests"] == {"authorization_code": 1, "refresh_token": 2, "client_credentials": 1, "(missing)": 1}
    assert stats["token_errors"] == {"refresh_token": 1, "(missing)": 1}
    assert (await sandbox.http.get("/_sandbox/stats")).json()["token_requests"] == stats["token_requests"]
    sandbox.state.reset_stats()
    assert sandbox.state.stats()["token_requests"] == {}


async def test_error_descriptions_stay_within_rfc_6749_characters(sandbox):
    r = await sandbox.token({"grant_type": 'é"\\\n<x>', "client_id": PUBLIC})
    assert_oauth_error(r, "unsupported_grant_type")
    description = r.json()["error_description"]
    assert all(" " <= c <= "~" and c not in '"\\' for c in description)


async def test_authorization_server_metadata(sandbox):
    meta = (await sandbox.http.get("/.well-known/oauth-authorization-server")).json()
    assert meta["issuer"] == "http://127.0.0.1"
    assert meta["token_endpoint"] == "http://127.0.0.1/api/v2/oauth/2/token"
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert meta["authorization_response_iss_parameter_supported"] is True


async def test_access_tokens_carry_passports_claims_and_header(sandbox):
    """Laravel Passport (league/oauth2-server's convertToJWT): aud = client id, jti in the claims
    and the header, sub, scopes (a list), iat/nbf/exp."""
    import base64
    import json

    tokens = await sandbox.sign_in()
    head, body, _ = tokens["access_token"].split(".")
    header = json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))
    c = claims(tokens["access_token"])
    assert header["typ"] == "JWT" and header["alg"] == "HS256" and header["jti"] == c["jti"]
    assert c["aud"] == PUBLIC and c["sub"] == sandbox.state.seed.me["id"] and c["scopes"] == ["*"]
    assert c["iat"] == c["nbf"] and c["exp"] == c["iat"] + 3600 and len(c["jti"]) == 80

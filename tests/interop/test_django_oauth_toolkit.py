"""bonjoro-tui against django-oauth-toolkit: the real CLI, a real authorization server nobody here wrote.

Each test configures only what a user would (:func:`conftest.user_config`): the endpoint URLs
exactly as DOT publishes them (``/o/authorize/``, ``/o/token/``, ``/o/revoke_token/``, trailing
slashes included), the API base, a client id, the secret of a confidential client, a scope — and
then checks what the user sees (exit codes, the one line on stderr, ``status``) and what the
server saw (:meth:`Dot.exchanges`: how each token and revocation request arrived; introspection
and DOT's database: which tokens are alive).

The server side is checked by hand, without bonjoro-tui, in test_harness.py.
"""

from __future__ import annotations

import json

import pytest

from .conftest import Cli, Dot, Result, user_config

pytestmark = pytest.mark.integration


def ok(r: Result) -> Result:
    assert r.code == 0, f"exit {r.code}: {r.err.strip()}"
    return r


def token_requests(dot: Dot, mark: int, grant_type: str | None = None) -> list[dict]:
    return [e for e in dot.exchanges_since(mark) if e["endpoint"] == "/o/token/"
            and (grant_type is None or e["grant_type"] == grant_type)]


def revocations(dot: Dot, mark: int) -> list[dict]:
    return [e for e in dot.exchanges_since(mark) if e["endpoint"] == "/o/revoke_token/"]


def assert_client_auth(exchanges: list[dict], client: dict, method: str) -> None:
    """Every request was a form body (RFC 6749) and authenticated the client as ``method`` says."""
    assert exchanges
    for e in exchanges:
        assert e["format"] == "form", e
        if method == "client_secret_basic":
            assert (e["basic_client_id"], e["body_has_secret"]) == (client["client_id"], False), e
        elif method == "client_secret_post":
            assert (e["basic_client_id"], e["body_client_id"], e["body_has_secret"]) == (
                None, client["client_id"], True), e
        else:  # a public client: its id, no secret anywhere
            assert (e["basic_client_id"], e["body_client_id"], e["body_has_secret"]) == (
                None, client["client_id"], False), e


def login(cli: Cli, dot: Dot, *args: str, identity: bool = True, **env: str) -> dict:
    """``login`` through the browser stand-in; the stored profile. ``identity``: the CLI names the
    user it read from ``/me`` (needs the API base)."""
    r = ok(cli.login(*args, **env))
    assert r.out.splitlines()[0].startswith(dot.metadata["authorization_endpoint"] + "?"), r.out
    assert "callback delivered" in cli.browser_said(), cli.browser_said()
    if identity:
        assert "Signed in as Ada Lovelace <ada@example.test>." in r.out
    stored = cli.stored()
    assert stored is not None and stored["method"] == "code"
    return stored


def assert_status(cli: Cli, client_id: str, *, method: str = "code", refresh: bool = True) -> dict:
    r = ok(cli.run("status", "--json"))
    info = json.loads(r.out)
    assert info["signed_in"] is True and info["method"] == method and info["client_id"] == client_id
    assert info["has_refresh_token"] is refresh
    stored = cli.stored()
    for token in (stored["access_token"], stored.get("refresh_token")):
        assert not token or token not in r.all
    return info


def assert_me(cli: Cli, dot: Dot) -> dict:
    r = ok(cli.run("api", "GET", "/me"))
    body = json.loads(r.out)
    assert body == {"data": {"id": dot.user["id"], "name": "Ada Lovelace", "email": dot.user["email"]}}
    return body


def refresh_rotates(cli: Cli, dot: Dot) -> tuple[dict, dict]:
    """``refresh``: a new access and refresh token; DOT retired the old pair."""
    before = cli.stored()
    ok(cli.run("refresh", "--json"))
    after = cli.stored()
    assert after["refresh_token"] != before["refresh_token"], "DOT rotates refresh tokens"
    assert after["access_token"] != before["access_token"]
    assert dot.refresh_token_dead(before["refresh_token"]) and dot.access_token_dead(before["access_token"])
    assert dot.introspect(after["access_token"])["active"] is True
    return before, after


def logout_revokes(cli: Cli, dot: Dot) -> None:
    """``logout``: both tokens revoked at DOT (dead by introspection and in its database), none kept."""
    stored = cli.stored()
    r = ok(cli.run("logout"))
    assert "refresh_token" in r.out and "access_token" in r.out, r.out
    assert cli.stored() is None
    assert dot.access_token_dead(stored["access_token"])
    if stored.get("refresh_token"):
        assert dot.refresh_token_dead(stored["refresh_token"])
    r = cli.run("status")
    assert r.code == 4 and "Not signed in" in r.out


# --------------------------------------------------------------------------- code + PKCE


def test_public_client_login_status_me_refresh_logout(cli, dot):
    public = dot.clients["public"]
    cli.configure(user_config(dot, "public"))
    mark = dot.mark()

    stored = login(cli, dot)
    assert stored["client_id"] == public["client_id"] and stored["scope"] == "read" and stored["refresh_token"]
    assert stored["target"] == dot.url
    seen = dot.introspect(stored["access_token"])
    assert (seen["active"], seen["client_id"], seen["username"], seen["scope"]) == (
        True, public["client_id"], dot.user["username"], "read")
    # The code went to /o/token/ itself (the recorder sees no other path), as a form, with PKCE.
    codes = token_requests(dot, mark, "authorization_code")
    assert [e["status"] for e in codes] == [200]
    assert_client_auth(codes, public, "none")

    info = assert_status(cli, public["client_id"])
    assert info["scope"] == "read"
    assert_me(cli, dot)

    mark = dot.mark()
    refresh_rotates(cli, dot)
    assert_client_auth(token_requests(dot, mark, "refresh_token"), public, "none")
    assert_me(cli, dot)

    mark = dot.mark()
    logout_revokes(cli, dot)
    assert [e["status"] for e in revocations(dot, mark)] and all(e["status"] == 200 for e in revocations(dot, mark))
    assert_client_auth(revocations(dot, mark), public, "none")


@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post"])
def test_confidential_client_login_status_me_refresh_logout(cli, dot, method):
    """With only the id and the secret configured, the secret goes in HTTP Basic (RFC 6749 §2.3.1:
    every server MUST support it); ``BONJORO_TOKEN_AUTH=client_secret_post`` puts it in the body."""
    conf = dot.clients["confidential"]
    config = user_config(dot, "confidential")
    if method == "client_secret_post":
        config["BONJORO_TOKEN_AUTH"] = "client_secret_post"
    cli.configure(config)
    mark = dot.mark()

    stored = login(cli, dot)
    assert stored["client_id"] == conf["client_id"] and stored["refresh_token"]
    assert dot.introspect(stored["access_token"])["client_id"] == conf["client_id"]
    assert_status(cli, conf["client_id"])
    assert_me(cli, dot)
    refresh_rotates(cli, dot)
    logout_revokes(cli, dot)

    seen = dot.exchanges_since(mark)
    assert [(e["endpoint"], e["grant_type"], e["status"]) for e in seen if e["endpoint"] == "/o/token/"] == [
        ("/o/token/", "authorization_code", 200), ("/o/token/", "refresh_token", 200)]
    assert revocations(dot, mark) and all(e["status"] == 200 for e in revocations(dot, mark))
    assert_client_auth(seen, conf, method)
    assert conf["client_secret"] not in "".join(cli.outputs)


def test_expired_access_token_is_refreshed_on_its_own(cli, dot):
    """DOT answers an expired token with 401 and a Bearer challenge: the CLI refreshes once and retries."""
    cli.configure(user_config(dot, "public"))
    first = login(cli, dot)
    dot.expire_access_token(first["access_token"])
    mark = dot.mark()
    assert_me(cli, dot)
    assert [e["status"] for e in token_requests(dot, mark, "refresh_token")] == [200]
    assert cli.stored()["refresh_token"] != first["refresh_token"]
    logout_revokes(cli, dot)


def test_reused_refresh_token_is_refused_and_revokes_the_family(cli, dot):
    """REFRESH_TOKEN_REUSE_PROTECTION: a refresh token already rotated out, presented again (a stale
    copy of the store), is refused with invalid_grant, and DOT revokes every token of that sign-in."""
    cli.configure(user_config(dot, "public"))
    login(cli, dot)
    old, new = refresh_rotates(cli, dot)

    cli.write_stored(old)  # the store as it was before the refresh: a backup, another machine's copy
    mark = dot.mark()
    r = cli.run("refresh")
    assert r.code != 0
    assert [(e["status"], e["error"]) for e in token_requests(dot, mark, "refresh_token")] == [(400, "invalid_grant")]
    line = r.last_err_line
    assert line.startswith("bonjoro-tui: ") and "invalid_grant" in line and "sign in again" in line, r.err
    assert old["refresh_token"] not in r.all
    # The replay cost the newer tokens too: nothing of that sign-in is alive at DOT.
    assert dot.access_token_dead(new["access_token"]) and dot.refresh_token_dead(new["refresh_token"])
    # What the user sees next: not usable; a new sign-in works.
    r = cli.run("api", "GET", "/me")
    assert r.code in (1, 4) and "bonjoro-tui login" in r.last_err_line, r.err
    login(cli, dot)
    assert_me(cli, dot)
    logout_revokes(cli, dot)


# --------------------------------------------------------------------------- client credentials


def test_client_credentials_login_status_me_refresh_logout(cli, dot):
    service = dot.clients["service"]
    cli.configure(user_config(dot, "service"))
    mark = dot.mark()

    ok(cli.run("login", "--method", "client-credentials"))
    stored = cli.stored()
    assert stored["method"] == "client_credentials" and stored["client_id"] == service["client_id"]
    assert "refresh_token" not in stored
    assert dot.introspect(stored["access_token"])["active"] is True
    grants = token_requests(dot, mark, "client_credentials")
    assert [e["status"] for e in grants] == [200]
    assert_client_auth(grants, service, "client_secret_basic")

    assert_status(cli, service["client_id"], method="client_credentials", refresh=False)
    r = ok(cli.run("api", "GET", "/me"))
    assert json.loads(r.out)["data"]["id"] == "client:" + service["client_id"]

    mark = dot.mark()
    ok(cli.run("refresh"))  # no refresh token: a new grant of the same kind
    renewed = cli.stored()
    assert renewed["access_token"] != stored["access_token"]
    assert dot.introspect(renewed["access_token"])["active"] is True
    assert [e["grant_type"] for e in token_requests(dot, mark)] == ["client_credentials"]

    mark = dot.mark()
    r = ok(cli.run("logout"))
    assert cli.stored() is None
    assert dot.access_token_dead(renewed["access_token"])
    assert [e["status"] for e in revocations(dot, mark)] == [200]
    assert_client_auth(revocations(dot, mark), service, "client_secret_basic")


# --------------------------------------------------------------------------- refusals


def test_denied_consent_is_a_clear_error_and_stores_nothing(cli, dot):
    cli.configure(user_config(dot, "public"))
    mark = dot.mark()
    r = cli.login(DOT_BROWSER_DECISION="deny")
    assert r.code == 1, r.err
    assert "cancelling" in cli.browser_said() and "callback delivered" in cli.browser_said()
    line = r.last_err_line
    assert line.startswith("bonjoro-tui: ") and "not approved (access_denied" in line, r.err
    assert cli.stored() is None and not cli.store_path.exists()
    assert dot.exchanges_since(mark) == []  # no token request after a refusal


@pytest.mark.parametrize("grant", ["authorization_code", "client_credentials"])
def test_wrong_secret_is_a_clear_error_naming_the_client_settings(cli, dot, grant):
    client = "confidential" if grant == "authorization_code" else "service"
    cli.configure(user_config(dot, client, BONJORO_CLIENT_SECRET="not-the-secret"))
    mark = dot.mark()
    if grant == "authorization_code":
        r = cli.login()
    else:
        r = cli.run("login", "--method", "client-credentials")
    assert r.code == 1, r.err
    assert [(e["grant_type"], e["status"], e["error"]) for e in token_requests(dot, mark)] == [
        (grant, 401, "invalid_client")]
    line = r.last_err_line
    assert line.startswith("bonjoro-tui: ") and "invalid_client" in line, r.err
    assert "BONJORO_CLIENT_ID" in line and "BONJORO_CLIENT_SECRET" in line, r.err
    assert "not-the-secret" not in r.all
    assert cli.stored() is None


# --------------------------------------------------------------------------- discovery


def test_discovery_from_the_issuer_alone(cli, dot):
    """Only the issuer and a client id: the endpoints come from DOT's metadata (RFC 8414 at
    ``{issuer}/.well-known/oauth-authorization-server`` and RFC 8414 §3's root form, or OpenID
    Connect discovery at ``{issuer}/.well-known/openid-configuration``; DOT serves all three)."""
    public = dot.clients["public"]
    cli.configure({"BONJORO_ISSUER": dot.issuer, "BONJORO_CLIENT_ID": public["client_id"]})
    mark = dot.mark()

    stored = login(cli, dot, identity=False)  # the URL it opens is DOT's published authorization endpoint
    assert stored["client_id"] == public["client_id"] and "read" in stored["scope"].split()  # DOT's default scope
    assert stored["target"] == dot.url
    assert [e["status"] for e in token_requests(dot, mark, "authorization_code")] == [200]
    assert_status(cli, public["client_id"])
    refresh_rotates(cli, dot)
    logout_revokes(cli, dot)  # the revocation endpoint is in DOT's RFC 8414 metadata

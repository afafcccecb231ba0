"""The command line configured by an issuer alone: the sandbox's RFC 8414 metadata fills in every
endpoint (issue 12), and the whole life of a sign-in works — login, status, api, refresh, logout.

Each command is a real ``python -m bonjoro_tui`` subprocess with only ``BONJORO_ISSUER`` (or
``login --issuer``) and ``BONJORO_CLIENT_ID`` set; the sandbox runs in this process.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qsl, urlsplit

import pytest

from .conftest import Cli, sandbox_rejects_access_token, sandbox_rejects_refresh_token

pytestmark = pytest.mark.integration


def issuer_cli(make_cli, server, **env: str) -> Cli:
    cli = make_cli(server, **{"BONJORO_ISSUER": server.url, **env})
    del cli.env["BONJORO_BASE_URL"]  # make_cli aims at the sandbox by its base URL: only the issuer here
    return cli


def authorization_url(out: str) -> str:
    return out.splitlines()[0].strip()


def test_issuer_alone_signs_in_and_every_command_follows(sandbox, make_cli):
    cli = issuer_cli(make_cli, sandbox)

    r = cli.run("login", "--timeout", "30")
    assert r.code == 0, r.err
    url = authorization_url(r.out)
    assert url.startswith(f"{sandbox.url}/oauth/authorize?"), r.out  # the metadata's authorization_endpoint
    assert "Signed in as" in r.out  # GET /me under the API base derived from the issuer's origin
    stored = cli.stored()
    assert stored["method"] == "code" and stored["target"] == sandbox.url and stored["refresh_token"]
    assert sandbox.state.stats()["token_requests"].get("authorization_code") == 1

    r = cli.run("status", "--json")
    assert r.code == 0, r.err
    info = json.loads(r.out)
    assert info["signed_in"] is True and info["method"] == "code" and info["client_id"] == "sandbox-public"
    assert stored["access_token"] not in r.all

    r = cli.run("api", "GET", "/me")
    assert r.code == 0, r.err
    assert json.loads(r.out)["email"]

    r = cli.run("refresh", "--json")
    assert r.code == 0, r.err
    rotated = cli.stored()
    assert rotated["refresh_token"] != stored["refresh_token"]
    assert sandbox.state.stats()["token_requests"].get("refresh_token") == 1

    revocations = sandbox.state.stats()["revoke_requests"]
    r = cli.run("logout")
    assert r.code == 0, r.err
    assert sandbox.state.stats()["revoke_requests"] == revocations + 2  # the metadata's revocation_endpoint
    assert cli.stored() is None
    assert sandbox_rejects_access_token(sandbox, rotated["access_token"])
    assert sandbox_rejects_refresh_token(sandbox, rotated["refresh_token"])


def test_the_issuer_flag_on_login(sandbox, make_cli):
    cli = issuer_cli(make_cli, sandbox)
    del cli.env["BONJORO_ISSUER"]
    r = cli.run("login", "--timeout", "30", "--issuer", sandbox.url)
    assert r.code == 0, r.err
    assert authorization_url(r.out).startswith(f"{sandbox.url}/oauth/authorize?")
    assert cli.stored()["target"] == sandbox.url
    r = cli.run("status", "--json", BONJORO_ISSUER=sandbox.url)
    assert r.code == 0 and json.loads(r.out)["signed_in"] is True, r.err


def test_a_metadata_issuer_that_differs_is_refused_before_anything_is_sent(sandbox, make_cli):
    # The sandbox names its issuer without a trailing slash: "…/" is another identifier (RFC 8414 §3.3).
    cli = issuer_cli(make_cli, sandbox, BONJORO_ISSUER=sandbox.url + "/")
    r = cli.run("login", "--timeout", "30")
    assert r.code == 1
    assert "RFC 8414" in r.err and "refusing the metadata" in r.err, r.err
    assert sandbox.state.stats()["authorize_requests"] == 0 and cli.stored() is None


def test_authorize_params_are_in_the_url(sandbox, make_cli):
    cli = issuer_cli(make_cli, sandbox, BONJORO_AUTHORIZE_PARAMS="prompt=consent&audience=https://api.example")
    r = cli.run("login", "--timeout", "30")
    assert r.code == 0, r.err
    query = parse_qsl(urlsplit(authorization_url(r.out)).query)
    assert ("prompt", "consent") in query and ("audience", "https://api.example") in query
    names = [name for name, _ in query]
    assert names.index("prompt") > names.index("code_challenge_method")  # ours first, the extras after
    assert names.count("client_id") == 1


def test_an_owned_authorize_param_is_a_usage_error(sandbox, make_cli):
    cli = issuer_cli(make_cli, sandbox, BONJORO_AUTHORIZE_PARAMS="redirect_uri=https://evil.example/cb")
    r = cli.run("login", "--timeout", "30")
    assert r.code == 2
    assert "BONJORO_AUTHORIZE_PARAMS" in r.err and "'redirect_uri'" in r.err, r.err


def test_client_credentials_ask_for_the_cc_scope(sandbox, make_cli):
    cli = issuer_cli(make_cli, sandbox, BONJORO_CLIENT_ID="sandbox-confidential",
                     BONJORO_CLIENT_SECRET="sandbox-secret", BONJORO_SCOPE="user-scope", BONJORO_CC_SCOPE="service.read")
    r = cli.run("login", "--method", "client-credentials")
    assert r.code == 0, r.err
    stored = cli.stored()
    assert stored["method"] == "client_credentials" and stored["scope"] == "service.read"

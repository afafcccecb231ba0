"""Logout tells the truth (issue 12): when revocation is attempted and fails, the tokens are still
valid at the server — so the command exits non-zero, says which remain valid and until when, and
keeps them so the user can retry; `--forget` removes them here anyway. The dashboard offers the
same choice."""

from __future__ import annotations

import pytest

from cli.conftest import sandbox_rejects_access_token

pytestmark = pytest.mark.integration


def test_a_failed_revocation_keeps_the_tokens_and_says_so(sandbox, make_cli):
    cli = make_cli(sandbox)
    assert cli.run("login").code == 0
    before = cli.stored()

    sandbox.state.fail_next(2, 503, "any")  # the revocation endpoint is down
    r = cli.run("logout")

    assert r.code == 1, r.all
    assert "could not revoke the refresh token and the access token" in r.err
    assert "still valid at the server; the access token until 20" in r.err
    assert "logout --forget" in r.err
    assert "Signed out" not in r.out
    assert cli.stored() == before  # kept: the user can retry
    assert not sandbox_rejects_access_token(sandbox, before["access_token"])

    again = cli.run("logout")  # the server is back: a retry revokes them
    assert again.code == 0, again.all
    assert "revoked at the server: refresh_token, access_token" in again.out
    assert cli.stored() is None
    assert sandbox_rejects_access_token(sandbox, before["access_token"])


def test_forget_removes_the_tokens_even_when_the_server_cannot_revoke(sandbox, make_cli):
    cli = make_cli(sandbox)
    assert cli.run("login").code == 0
    sandbox.state.fail_next(2, 503, "any")
    r = cli.run("logout", "--forget")
    assert r.code == 0, r.all
    assert "local tokens deleted; revoked at the server: nothing" in r.out
    assert "not revoked: refresh_token" in r.err
    assert cli.stored() is None


def test_the_retry_hint_names_the_profile_it_is_about(sandbox, make_cli):
    """A reviewer ran the hint of a failed `--profile other logout` as written: it signed out the
    default profile and left `other` stored. The hint names the profile."""
    import re
    import shlex

    cli = make_cli(sandbox)
    assert cli.run("login").code == 0
    assert cli.run("--profile", "other", "login").code == 0
    sandbox.state.fail_next(2, 503, "any")
    r = cli.run("--profile", "other", "logout")
    assert r.code == 1, r.all
    hinted = re.findall(r"`(bonjoro-tui [^`]*logout[^`]*)`", r.err)
    assert hinted == ["bonjoro-tui --profile other logout", "bonjoro-tui --profile other logout --forget"], r.err
    again = cli.run(*shlex.split(hinted[1])[1:])  # the server is still down: --forget, as suggested
    assert again.code == 0, again.all
    assert cli.run("--profile", "other", "status").code == 4  # that one is gone
    assert cli.run("status").code == 0  # the default one is still signed in

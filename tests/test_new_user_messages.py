"""Wording a new user's review found wrong: each message as it now reads (no subprocess)."""

from __future__ import annotations

import pytest

from bonjoro_tui.api.errors import SignInAgain, for_profile, login_command, without_cli_advice
from bonjoro_tui.tui.errors import explain
from bonjoro_tui.tui.screens.login import sentences


def test_the_dashboard_says_why_a_revoked_session_ended_without_cli_advice_or_double_parentheses():
    exc = SignInAgain("the refresh token was refused (the refresh token has been revoked (every token was revoked)); "
                      "profile 'default' is signed out, run `bonjoro-tui login` to sign in again")
    what, todo = explain(exc)
    assert "bonjoro-tui" not in what + todo and "))" not in what
    assert what == ("The session ended: the server refused the refresh token: the refresh token has been revoked "
                    "(every token was revoked). Profile 'default' is signed out.")
    assert todo == "Sign in again (press l)."


def test_login_advice_names_the_profile():
    assert login_command("default") == "bonjoro-tui login"
    assert for_profile("not signed in (profile 'ghost'); run `bonjoro-tui login`", "ghost") == \
        "not signed in (profile 'ghost'); run `bonjoro-tui --profile ghost login`"
    assert without_cli_advice("no refresh token; run `bonjoro-tui login` for a new token") == "no refresh token"


def test_a_pasted_url_error_reads_as_sentences():
    text = sentences("that URL is not this sign-in's redirect URL (http://127.0.0.1:1/callback?…)",
                     "paste the full URL; the sign-in is still waiting for the right redirect")
    assert text == ("That URL is not this sign-in's redirect URL (http://127.0.0.1:1/callback?…). "
                    "Paste the full URL; the sign-in is still waiting for the right redirect.")


def test_a_derived_setting_is_not_from_derived_from():
    from bonjoro_tui.settings import load_settings
    from bonjoro_tui.trust import describe

    settings = load_settings(env={"BONJORO_BASE_URL": "https://auth.example.test", "BONJORO_CLIENT_ID": "c"})
    line = describe(settings, "api_base")
    assert "(derived from the environment variable BONJORO_BASE_URL)" in line and "from derived" not in line


def test_a_jq_syntax_error_does_not_end_on_a_bare_colon():
    jqfilter = pytest.importorskip("bonjoro_tui.account.jqfilter")
    with pytest.raises(jqfilter.JqError) as refused:
        jqfilter.JqFilter(".data[] |")
    assert str(refused.value).endswith("line 1, column 9") and "jq: error" not in str(refused.value)

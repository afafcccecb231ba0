"""account/status.py: describe() and AccountStatus.to_json(), the ``bonjoro-tui status --json`` document.

Its keys (and their order) are a scripting interface, so each case below spells them out."""

from __future__ import annotations

import json
import os

import pytest

from bonjoro_tui.account.status import AccountStatus, describe
from bonjoro_tui.redact import mask
from bonjoro_tui.settings import (
    SANDBOX_CONFIDENTIAL_CLIENT,
    SANDBOX_CONFIDENTIAL_SECRET,
    SANDBOX_PUBLIC_CLIENT,
    load_settings,
)
from bonjoro_tui.store import StoredProfile, TokenStore
from bonjoro_tui.tokens import TokenSet

T0 = 1_800_000_000.0  # 2027-01-15T08:00:00Z
ISO_T0 = "2027-01-15T08:00:00Z"
LIVE = "https://bonjoro.test"
ACCESS = "eyJhbGciOiJSUzI1NiJ9.access-token-value-0123456789"
REFRESH = "refresh-token-value-0123456789"

SIGNED_OUT_KEYS = ["signed_in", "profile", "target", "target_id", "base_url", "api_base", "store", "reason"]
SIGNED_IN_KEYS = [
    "signed_in", "profile", "target", "target_id", "base_url", "api_base", "store",
    "method", "client_id", "token_type", "scope", "access_token_masked", "obtained_at", "expires_at",
    "expires_in", "expired", "has_refresh_token", "last_refresh_at", "last_refresh_result",
]
OTHER_TARGET_KEYS = SIGNED_IN_KEYS + ["reason", "signed_in_to"]


def live_settings(**env: str):
    """A live target; the isolated directories of tests/conftest.py come with os.environ."""
    return load_settings(env={**os.environ, "BONJORO_BASE_URL": LIVE, "BONJORO_CLIENT_ID": "client-1", **env})


def profile_for(settings, *, method="code", client_id=None, target=None, lifetime: float | None = 3600.0,
                refresh: str | None = REFRESH, access: str = ACCESS, **extra) -> StoredProfile:
    return StoredProfile(
        name=settings.profile,
        target=target or settings.target_id,
        method=method,
        client_id=client_id if client_id is not None else settings.client_id,
        tokens=TokenSet(access, T0, refresh_token=refresh, scope="read write",
                        expires_at=None if lifetime is None else T0 + lifetime),
        **extra,
    )


def test_signed_out():
    settings = load_settings()
    status = describe(settings, None, T0)
    assert isinstance(status, AccountStatus)
    assert not status.signed_in and status.method is None and status.access_token_masked is None
    assert status.reason == "no tokens stored for this profile"
    info = status.to_json()
    assert list(info) == SIGNED_OUT_KEYS
    assert info == {
        "signed_in": False,
        "profile": "default",
        "target": "sandbox",
        "target_id": "sandbox",
        "base_url": None,  # the sandbox's origin is known only once it runs
        "api_base": None,
        "store": str(settings.store_path),
        "reason": "no tokens stored for this profile",
    }
    assert status.where == "built-in sandbox (not running; starts with the next command)" and not status.expired
    running = describe(settings.resolved_for_sandbox("http://127.0.0.1:4567"), None, T0)
    assert running.where == "built-in sandbox at http://127.0.0.1:4567"
    assert running.to_json()["api_base"] == "http://127.0.0.1:4567/api/v2"


def test_signed_out_of_a_live_target_names_its_origin():
    settings = live_settings()
    info = describe(settings, None, T0).to_json()
    assert list(info) == SIGNED_OUT_KEYS
    assert (info["target"], info["target_id"], info["base_url"]) == ("live", LIVE, LIVE)
    assert describe(settings, None, T0).where == f"live ({LIVE})"


def test_signed_in():
    settings = live_settings()
    profile = profile_for(settings, last_refresh_at=T0 + 60, last_refresh_result="ok")
    status = describe(settings, profile, T0 + 600)
    assert status.signed_in and status.reason is None and status.signed_in_to is None
    info = status.to_json()
    assert list(info) == SIGNED_IN_KEYS
    assert info == {
        "signed_in": True,
        "profile": "default",
        "target": "live",
        "target_id": LIVE,
        "base_url": LIVE,
        "api_base": LIVE + "/api/v2",
        "store": str(settings.store_path),
        "method": "code",
        "client_id": "client-1",
        "token_type": "Bearer",
        "scope": "read write",
        "access_token_masked": mask(ACCESS),
        "obtained_at": ISO_T0,
        "expires_at": "2027-01-15T09:00:00Z",
        "expires_in": 3000,
        "expired": False,
        "has_refresh_token": True,
        "last_refresh_at": "2027-01-15T08:01:00Z",
        "last_refresh_result": "ok",
    }


def test_no_token_reaches_the_status_only_masks():
    settings = live_settings(BONJORO_CLIENT_SECRET="a-client-secret-value")
    status = describe(settings, profile_for(settings), T0)
    text = json.dumps(status.to_json()) + repr(status)
    for secret in (ACCESS, REFRESH, "a-client-secret-value"):
        assert secret not in text
    assert status.client_secret_masked == mask("a-client-secret-value")
    assert not any("secret" in key for key in status.to_json())  # the secret's mask is for screens only


def test_an_expired_token_counts_down_below_zero():
    settings = live_settings()
    info = describe(settings, profile_for(settings, lifetime=60), T0 + 90.9).to_json()
    assert info["signed_in"] is True  # signed in still: the client refreshes it
    assert (info["expires_in"], info["expired"]) == (-30, True)


def test_a_profile_of_another_target():
    settings = live_settings()
    profile = profile_for(settings, target="https://elsewhere.test")
    status = describe(settings, profile, T0)
    assert not status.signed_in
    info = status.to_json()
    assert list(info) == OTHER_TARGET_KEYS
    assert info["signed_in"] is False and info["method"] == "code"
    assert info["reason"] == f"the stored tokens were issued by https://elsewhere.test, not {LIVE}"
    assert info["signed_in_to"] == "https://elsewhere.test"
    assert info["target_id"] == LIVE


def test_an_api_key_never_expires():
    settings = load_settings()
    profile = profile_for(settings, method="api_key", access="sandbox-api-key", refresh=None, lifetime=None)
    info = describe(settings, profile, T0 + 10 * 86400).to_json()
    assert list(info) == SIGNED_IN_KEYS
    assert info["method"] == "api_key"
    assert (info["expires_at"], info["expires_in"], info["expired"]) == (None, None, False)
    assert info["has_refresh_token"] is False
    assert info["access_token_masked"] == mask("sandbox-api-key")
    assert (info["last_refresh_at"], info["last_refresh_result"]) == (None, None)


@pytest.mark.parametrize(
    "configured, issued_to, shown",
    [
        # Signed in with client credentials through the published confidential client while the
        # settings name the public one (the default): the status knows that client's secret.
        (SANDBOX_PUBLIC_CLIENT, SANDBOX_CONFIDENTIAL_CLIENT, mask(SANDBOX_CONFIDENTIAL_SECRET)),
        # And the other way round: the public client has no secret.
        (SANDBOX_CONFIDENTIAL_CLIENT, SANDBOX_PUBLIC_CLIENT, None),
        (SANDBOX_PUBLIC_CLIENT, SANDBOX_PUBLIC_CLIENT, None),
    ],
)
def test_the_secret_shown_is_that_of_the_client_the_profile_was_issued_to(configured, issued_to, shown):
    env = {**os.environ, "BONJORO_CLIENT_ID": configured}
    if configured == SANDBOX_CONFIDENTIAL_CLIENT:
        env["BONJORO_CLIENT_SECRET"] = SANDBOX_CONFIDENTIAL_SECRET
    settings = load_settings(env=env)
    assert settings.target == "sandbox"
    status = describe(settings, profile_for(settings, client_id=issued_to), T0)
    assert status.client_id == issued_to
    assert status.client_secret_masked == shown  # settings.with_client(issued_to)'s secret, masked
    assert status.to_json()["client_id"] == issued_to


def test_signed_out_shows_the_configured_clients_secret_masked():
    settings = live_settings(BONJORO_CLIENT_SECRET="a-client-secret-value")
    status = describe(settings, None, T0)
    assert (status.client_id, status.client_secret_masked) == ("client-1", mask("a-client-secret-value"))
    assert describe(live_settings(), None, T0).client_secret_masked is None


@pytest.mark.parametrize("stored", [False, True])
def test_the_command_prints_this_document(stored, capsys, monkeypatch):
    """``bonjoro-tui status --json`` prints to_json() as it is: same keys, same order."""
    from bonjoro_tui.cli.exitcodes import EXIT_NOT_SIGNED_IN, EXIT_OK
    from bonjoro_tui.cli.main import main

    monkeypatch.setenv("BONJORO_BASE_URL", LIVE)
    monkeypatch.setenv("BONJORO_CLIENT_ID", "client-1")
    settings = load_settings()
    if stored:
        TokenStore(settings.store_path).save(profile_for(settings, lifetime=None))
    code = main(["status", "--json"])
    printed = json.loads(capsys.readouterr().out)
    expected = describe(settings, TokenStore(settings.store_path).load(settings.profile), T0).to_json()
    assert code == (EXIT_OK if stored else EXIT_NOT_SIGNED_IN)
    assert list(printed) == list(expected) == (SIGNED_IN_KEYS if stored else SIGNED_OUT_KEYS)
    assert printed == expected

"""`bonjoro-tui profiles` list / use / rm, as real subprocesses against the built-in sandbox: the
choice is remembered in config.toml and every later command (status, token) follows it."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from .conftest import Cli

pytestmark = pytest.mark.integration


@pytest.fixture
def cli(isolated_environment) -> Cli:
    return Cli({**os.environ, "PYTHONUNBUFFERED": "1", "NO_PROXY": "127.0.0.1,localhost"}, isolated_environment)


def test_profiles_use_switches_and_rm_removes(cli):
    for name in ("default", "ci"):
        r = cli.run("--profile", name, "login", "--method", "client-credentials")
        assert r.code == 0, r.err
    listed = json.loads(cli.run("profiles", "list", "--json").out)
    assert [p["name"] for p in listed["profiles"]] == ["ci", "default"]
    assert listed["active"] == listed["default"] == "default"
    assert all(p["signed_in"] and "access_token" not in p for p in listed["profiles"])

    r = cli.run("profiles", "use", "ci")
    assert r.code == 0, r.err
    config = Path(cli.env["BONJORO_TUI_CONFIG_DIR"]) / "config.toml"
    assert 'profile = "ci"' in config.read_text()
    assert json.loads(cli.run("status", "--json").out)["profile"] == "ci"  # every later command follows
    assert f"profile from:  profile in {config}" in cli.run("status").out
    assert cli.run("token").out.strip() == cli.stored("ci")["access_token"]
    text = cli.run("profiles").out
    assert any(line.startswith("*d  ci ") for line in text.splitlines()), text
    r = cli.run("profiles", "use", "ci", BONJORO_PROFILE="default")  # the environment still wins: said so
    assert r.code == 0 and "BONJORO_PROFILE" in r.err

    r = cli.run("profiles", "rm", "ci", "--json")
    assert r.code == 0, r.err
    removed = json.loads(r.out)
    assert removed["deleted"] is True and removed["revoked"] == ["access_token"] and removed["was_default"] is True
    # The default it named is gone: config.toml no longer names it (said on stderr), as the dashboard does.
    assert removed["default_cleared"] is True and "profile =" not in config.read_text()
    assert "'ci' was the default profile" in r.err and "next start uses profile 'default'" in r.err
    assert cli.stored("ci") is None and cli.stored("default") is not None

    r = cli.run("profiles", "rm", "nope", "--no-revoke", "--json")
    assert r.code == 1 and json.loads(r.out)["error"]["type"] == "ProfileError"
    r = cli.run("profiles", "rm", "nope")  # like `profiles use nope`: the stored names and what to do
    assert r.code == 1 and "stored: default" in r.err and "bonjoro-tui profiles list" in r.err, r.err
    r = cli.run("profiles", "use", "nope")
    assert r.code == 1 and "no profile named 'nope'" in r.err

"""The command line as a bridge to scripts (issue 14), against the built-in sandbox: `token` in a
shell's `$(...)`, `exec -- CMD`, `api --paginate/--jq/-F`. Each command is a real subprocess, as
the user's shell runs it; the sign-in is the client-credentials grant (the quickest).

With no sandbox running for the data directory every command starts its own built-in sandbox;
they share the state file, so a token of one is good at the next. The `curl` test runs
`bonjoro-tui sandbox` on that state file, to have a server that outlives `token` (and the other
commands then use it: tests/cli/test_shared_sandbox.py).
"""

from __future__ import annotations

import json
import os
import pty
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from .conftest import Cli

pytestmark = pytest.mark.integration

BIN = str(Path(sys.executable).parent)  # where `bonjoro-tui` is installed (the project's venv)


@pytest.fixture
def cli(isolated_environment) -> Cli:
    """The built-in sandbox as target (no server configured), `bonjoro-tui` on PATH for `sh -c`."""
    env = dict(os.environ)
    env.update(PYTHONUNBUFFERED="1", NO_PROXY="127.0.0.1,localhost", PATH=BIN + os.pathsep + env.get("PATH", ""))
    return Cli(env, isolated_environment)


@pytest.fixture
def signed_in(cli) -> Cli:
    r = cli.run("login", "--method", "client-credentials")
    assert r.code == 0, r.err
    return cli


def sh(cli: Cli, script: str, **env: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(["sh", "-c", script], capture_output=True, text=True, env={**cli.env, **env}, timeout=60)
    cli.outputs += [done.stdout, done.stderr]
    return done


@pytest.fixture
def standalone_sandbox(cli):
    """`bonjoro-tui sandbox` on the data dir's state file; yields its URL (the first line it prints)."""
    state = Path(cli.env["BONJORO_TUI_DATA_DIR"]) / "sandbox" / "state.json"
    proc = subprocess.Popen([sys.executable, "-m", "bonjoro_tui", "sandbox", "--state-file", str(state)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=cli.env)
    try:
        first = proc.stdout.readline()
        assert first.startswith("Bonjoro sandbox listening on http://127.0.0.1:"), first + proc.stderr.read()
        yield first.split()[-1]
    finally:
        proc.terminate()
        proc.communicate(timeout=10)


def test_curl_with_the_token_of_a_shell_substitution_gets_me(signed_in, standalone_sandbox):
    cli = signed_in
    stored = cli.stored()["access_token"]
    r = cli.run("token")
    assert r.code == 0 and r.out == stored + "\n" and r.err == ""  # the token and nothing else

    script = 'curl -sf -H "Authorization: Bearer $(bonjoro-tui token)" "$URL/api/v2/me"'
    if shutil.which("curl") is None:  # pragma: no cover - the same request, by httpx
        token = cli.run("token").out.strip()
        me = httpx.get(f"{standalone_sandbox}/api/v2/me", headers={"Authorization": f"Bearer {token}"}).json()
    else:
        done = sh(cli, script, URL=standalone_sandbox)
        assert done.returncode == 0, done.stderr
        me = json.loads(done.stdout)
    assert me["email"] == "alex.sandbox@sandbox.bonjoro.invalid"


def run_on_a_terminal(cli: Cli, *args: str) -> tuple[int, str, str]:
    """``bonjoro-tui ARGS`` with stdout on a pseudo-terminal: (exit code, what the terminal got, stderr)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "bonjoro_tui", *args], stdout=slave, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, env=cli.env, text=True)
    os.close(slave)
    screen = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        screen += chunk
    err = proc.stderr.read()
    code = proc.wait(timeout=30)
    os.close(master)
    return code, screen.decode(), err


def test_token_on_a_terminal_needs_show_and_not_signed_in_is_4(signed_in):
    cli = signed_in
    stored = cli.stored()["access_token"]
    code, screen, err = run_on_a_terminal(cli, "token")
    assert code == 2 and stored not in screen and stored not in err
    assert "not printing the access token to a terminal" in err and "--show" in err and err.count("\n") == 1

    code, screen, err = run_on_a_terminal(cli, "token", "--show")
    assert code == 0 and screen.strip() == stored

    r = cli.run("token", "--profile", "nobody")
    assert r.code == 4 and r.out == "" and "not signed in" in r.err


def test_token_refreshes_a_token_about_to_expire(signed_in):
    cli = signed_in
    store = Path(cli.env["BONJORO_TUI_DATA_DIR"]) / "tokens.toml"
    assert cli.stored().get("last_refresh_at") is None
    # Make the stored token expire within the refresh leeway: the next `token` gets a new one first.
    # (obtained an hour ago: the leeway is capped at half the lifetime).
    text, stored = store.read_text(), cli.stored()
    soon = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 5))
    hour_ago = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 3600))
    text = text.replace(f'expires_at = "{stored["expires_at"]}"', f'expires_at = "{soon}"')
    store.write_text(text.replace(f'obtained_at = "{stored["obtained_at"]}"', f'obtained_at = "{hour_ago}"'))
    assert cli.stored()["expires_at"] == soon
    r = cli.run("token")
    assert r.code == 0, r.err
    after = cli.stored()
    # A new grant (a JWT issued in the same second as the first may be byte-for-byte the same).
    assert after["last_refresh_result"] == "ok" and after["expires_at"] > soon
    assert r.out == after["access_token"] + "\n"


def test_exec_runs_the_command_with_the_token_and_exits_with_its_status(signed_in):
    cli = signed_in
    stored = cli.stored()["access_token"]
    script = ('test "$BONJORO_ACCESS_TOKEN" = "$(cat "$EXPECTED")" || exit 9; '
              'echo "base=$BONJORO_API_BASE"; '
              + ('curl -sf -H "Authorization: Bearer $BONJORO_ACCESS_TOKEN" "$BONJORO_API_BASE/me"; echo; '
                 if shutil.which("curl") else "")
              + "exit 7")
    expected = cli.home / "expected-token"
    expected.write_text(stored)
    r = cli.run("exec", "--", "sh", "-c", script, EXPECTED=str(expected))
    assert r.code == 7, r.err
    base = r.out.splitlines()[0].removeprefix("base=")
    assert base.startswith("http://127.0.0.1:") and base.endswith("/api/v2")
    if shutil.which("curl"):  # the sandbox runs for as long as the command does
        assert json.loads(r.out.splitlines()[1])["email"] == "alex.sandbox@sandbox.bonjoro.invalid"
    assert stored not in r.out + r.err  # exec itself never prints it (the child chose not to)

    r = cli.run("exec", "--", "no-such-command-here", "arg")
    assert r.code == 127 and "no-such-command-here: command not found" in r.err
    r = cli.run("exec", "--", "sh", "-c", "kill -TERM $$")
    assert r.code == 128 + 15
    r = cli.run("exec", "--profile", "nobody", "--", "true")
    assert r.code == 4


def test_exec_passes_sigterm_on_and_waits_for_the_command(signed_in):
    proc = subprocess.Popen(
        [sys.executable, "-m", "bonjoro_tui", "exec", "--", "sh", "-c",
         "trap 'echo got TERM; exit 6' TERM; echo ready; while :; do sleep 0.1 >/dev/null 2>&1; done"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=signed_in.env)
    try:
        assert proc.stdout.readline() == "ready\n"
        proc.terminate()  # to bonjoro-tui only: it passes it on, and exits with the child's status
        out, err = proc.communicate(timeout=20)
    finally:
        proc.kill()
    assert proc.returncode == 6 and out == "got TERM\n", err


def test_api_paginate_jq_slurp_and_fields(signed_in):
    cli = signed_in
    r = cli.run("api", "--paginate", "/greets", "--jq", ".data[].id")
    assert r.code == 0, r.err
    ids = r.out.split()
    r = cli.run("api", "-X", "GET", "/greets", "-F", "limit=5000", "--jq", ".total, (.data | length)")
    total, in_one_page = map(int, r.out.split())
    assert total == in_one_page > 15  # more than one page of the default 15
    assert len(ids) == total and len(set(ids)) == total  # every greet, exactly once

    r = cli.run("api", "--paginate", "--slurp", "/greets", "-F", "limit=7")
    assert r.code == 0, r.err
    assert [g["id"] for g in json.loads(r.out)] == ids
    r = cli.run("api", "--paginate", "--slurp", "/greets", "--jq", "map(.status) | unique")
    assert set(json.loads(r.out)) <= {"open", "closed", "sent"}

    # -F builds the JSON body of a POST the sandbox accepts (typed values, a nested key), -f strings.
    r = cli.run("api", "/profiles", "-F", "email=ada@example.com", "-f", "first_name=Ada", "-f", "last_name=007",
                "-F", "custom[score]=3", "--jq", ".data | [.email, .first_name, .last_name]")
    assert r.code == 0, r.err
    assert json.loads(r.out) == ["ada@example.com", "Ada", "007"]

    # A path parameter filled from a field, never sent as one; an unfilled one is an error naming it.
    r = cli.run("api", "/users/{user_id}", "-F", "user_id=me", "--jq", ".email")
    assert r.code == 0 and r.out == "alex.sandbox@sandbox.bonjoro.invalid\n"
    r = cli.run("api", "/users/{user_id}", "--json")
    assert r.code == 2 and "{user_id}" in json.loads(r.out)["error"]["message"]


def test_every_json_path_prints_json_on_failure(cli):
    for args, code in ((("status", "--json"), 4), (("refresh", "--json"), 4), (("api", "/me", "--json"), 4),
                       (("logout", "--json"), 4), (("login", "--method", "api-key", "--json"), 2),
                       (("profiles", "use", "nope", "--json"), 1), (("token", "--json"), 2),
                       (("doctor", "--json", "--bogus"), 2), (("api", "/me", "--jq", ".[", "--json"), 2)):
        r = cli.run(*args)
        assert r.code == code, (args, r.err)
        doc = json.loads(r.out)
        assert doc.get("signed_in") is False or doc["error"]["exit_code"] == code, args
        assert r.err.strip(), args  # and the line on stderr, as without --json

    r = cli.run("login", "--method", "client-credentials", "--json")
    assert r.code == 0, r.err
    signed_in = json.loads(r.out)
    assert signed_in["signed_in"] is True and signed_in["identity"]["email"] == "alex.sandbox@sandbox.bonjoro.invalid"
    r = cli.run("logout", "--json")
    assert r.code == 0 and json.loads(r.out) == {"profile": "default", "deleted": True, "revoked": ["access_token"],
                                                  "not_revoked": []}


def test_exec_of_a_path_that_cannot_be_run_is_126_as_a_shell_says(cli, tmp_path):
    script = tmp_path / "script.sh"
    script.write_text("#!/bin/sh\necho hi\n")  # not executable
    r = cli.run("exec", "--", str(script))
    assert r.code == 126 and "Permission denied" in r.err, r.all
    r = cli.run("exec", "--", str(tmp_path))
    assert r.code == 126 and "Is a directory" in r.err, r.all
    r = cli.run("exec", "--", str(tmp_path / "missing"))
    assert r.code == 127 and "command not found" in r.err, r.all


def test_a_get_with_fields_keeps_the_query_written_in_the_path(signed_in):
    """`api -X GET '/greets?page=2' -F limit=5` came back as page 1: httpx replaced the path's
    query with the fields. As `gh api`: the fields join the query, a field of the same name wins."""
    r = signed_in.run("api", "-X", "GET", "/greets?page=2&limit=3", "-F", "limit=5", "--jq", "[.current_page, .per_page]")
    assert r.code == 0, r.err
    assert json.loads(r.out) == [2, 5]

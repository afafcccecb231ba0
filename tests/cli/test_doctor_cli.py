"""``bonjoro-tui doctor [--json]`` as a real subprocess: against the sandbox (reached through
BONJORO_BASE_URL, and the default in-process one) every line passes, signed out and signed in;
against a server lacking things it exits 1 and says what; ``--json`` is valid JSON with every check.
Only 127.0.0.1 is contacted."""

from __future__ import annotations

import json

from account.doctor_app import DoctorServer
from cli.conftest import Cli

MARKS = {"ok": "✓", "fail": "✗", "warn": "!", "skip": "-"}
CHECK_LINE = tuple(f"{m} " for m in MARKS.values())


def check_lines(out: str) -> list[str]:
    return [line for line in out.splitlines() if line.startswith(CHECK_LINE)]


def doctor(cli: Cli, **env: str) -> tuple[list[str], dict, int, int]:
    text = cli.run("doctor", **env)
    report = cli.run("doctor", "--json", **env)
    assert report.err == "" or "warning" in report.err, report.err
    data = json.loads(report.out)
    lines = check_lines(text.out)
    assert len(lines) == len(data["checks"])
    for check in data["checks"]:
        assert set(check) == {"name", "status", "detail", "todo"}
        assert any(line.startswith(f"{MARKS[check['status']]} {check['name']}: ") for line in lines), check
    return lines, data, text.code, report.code


def assert_passes(cli: Cli, *, signed_in: bool) -> dict:
    lines, data, code, json_code = doctor(cli)
    assert code == 0 and json_code == 0, lines
    assert data["ok"] is True and data["counts"]["fail"] == 0 and data["counts"]["warn"] == 0
    marks = {line[0] for line in lines}
    assert marks == ({"✓"} if signed_in else {"✓", "-"}), lines
    return data


def test_doctor_against_the_sandbox_by_base_url(sandbox, make_cli):
    cli = make_cli(sandbox)
    data = assert_passes(cli, signed_in=False)
    assert data["target"] == "live" and data["base_url"] == sandbox.url
    assert cli.run("login", "--timeout", "30").code == 0
    data = assert_passes(cli, signed_in=True)
    stored = cli.stored()
    assert stored is not None
    for out in cli.outputs[-4:]:
        assert stored["access_token"] not in out and stored["refresh_token"] not in out
        assert stored["access_token"].rsplit(".", 1)[1] not in out  # nor its signature
    assert "unverified" in next(c["detail"] for c in data["checks"] if c["name"] == "access token")


def test_doctor_against_the_default_sandbox(sandbox, make_cli):
    cli = make_cli(sandbox)
    del cli.env["BONJORO_BASE_URL"], cli.env["BONJORO_CLIENT_ID"]  # the in-process sandbox of each command
    data = assert_passes(cli, signed_in=False)
    assert data["target"] == "sandbox"
    assert cli.run("login", "--timeout", "30").code == 0
    assert_passes(cli, signed_in=True)


def test_doctor_against_a_broken_server_exits_1(make_cli, sandbox):
    with DoctorServer() as server:
        cli = make_cli(sandbox, BONJORO_BASE_URL=server.url, BONJORO_CLIENT_ID="my-client")
        lines, data, code, json_code = doctor(cli)
    assert code == 1 and json_code == 1
    assert data["ok"] is False and data["counts"]["fail"] == 3
    by_name = {c["name"]: c for c in data["checks"]}
    assert by_name["authorize endpoint"]["status"] == "fail"
    assert "BONJORO_AUTHORIZE_URL" in by_name["authorize endpoint"]["todo"]
    assert by_name["token endpoint"]["status"] == "fail" and "HTML" in by_name["token endpoint"]["detail"]
    assert by_name["clock"]["status"] == "warn"
    assert any(line.startswith("✗ authorize endpoint: ") for line in lines)
    assert any(line.startswith("! clock: ") for line in lines)


def test_doctor_on_an_ascii_terminal(sandbox, make_cli):
    r = make_cli(sandbox).run("doctor", PYTHONIOENCODING="ascii")
    assert r.code == 0, r.err
    assert any(line.startswith("+ settings: ") for line in r.out.splitlines())
    assert "✓" not in r.out

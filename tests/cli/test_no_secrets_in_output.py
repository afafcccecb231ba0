"""Every subcommand, through full sessions with --debug: no secret in any output.

The secrets looked for are the real ones: the tokens are read from the store file after each
command, the client secret and the API key are the sandbox's. Outputs are stdout and stderr of
every run and every file under the log directory.
"""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.integration

CLIENT_SECRET = "sandbox-secret"
API_KEY = "sandbox-api-key"


def _collect_tokens(cli, seen: set[str]) -> None:
    stored = cli.stored()
    if stored:
        for key in ("access_token", "refresh_token"):
            if stored.get(key):
                seen.add(stored[key])


def _run_all(cli, seen: set[str], *, login: list[str], stdin: str = "", debug: list[str]) -> list:
    results = []

    def run(*args: str, input: str = "") -> None:
        results.append((args, cli.run(*debug, *args, input=input)))
        _collect_tokens(cli, seen)

    run(*login, input=stdin)
    run("status")
    run("status", "--json")
    run("api", "GET", "/me")
    run("api", "GET", "/me", "--include")
    run("api", "POST", "/me", "--data", '{"bio": "hi"}')
    run("refresh")
    run("refresh", "--json")
    run("api", "GET", "/me")
    run("paths")
    run("logout")
    run("status")
    return results


def test_no_token_secret_or_key_in_any_output(sandbox, make_cli):
    # --debug only adds output (the exchanges on stderr and in the log file), so one pass
    # with it covers what every command prints without it as well.
    debug = ["--debug"]
    seen: set[str] = set()
    flows = [
        (
            make_cli(sandbox, BONJORO_CLIENT_ID="sandbox-confidential", BONJORO_CLIENT_SECRET=CLIENT_SECRET),
            ["login", "--timeout", "30"],
            "",
        ),
        (
            make_cli(sandbox, BONJORO_CLIENT_ID="sandbox-confidential", BONJORO_CLIENT_SECRET=CLIENT_SECRET),
            ["login", "--method", "client-credentials"],
            "",
        ),
        (make_cli(sandbox), ["login", "--method", "api-key"], API_KEY + "\n"),
    ]
    outputs: list[str] = []
    for cli, login, stdin in flows:
        results = _run_all(cli, seen, login=login, stdin=stdin, debug=debug)
        codes = {" ".join(args): r.code for args, r in results}
        assert codes[" ".join(login)] == 0, results[0][1].err
        assert codes["api GET /me"] == 0 and codes["logout"] == 0 and codes["status"] == 4
        outputs += cli.outputs + cli.log_texts()
        logs = "".join(cli.log_texts())
        assert "→ GET " in logs and "/api/v2/me" in logs  # the debug log really has the exchanges
        assert any("→ POST" in r.err for _, r in results)

    # Every kind of secret was really in play.
    assert len(seen) >= 6 and API_KEY in seen
    seen |= {CLIENT_SECRET, API_KEY}
    everything = "\n".join(outputs)
    for secret in seen:
        assert secret not in everything, f"a secret ({secret[:4]}…) leaked"
    # Authorization codes are never known to the test: any code= value must be masked.
    for value in re.findall(r"[?&\"']code[\"']?[=:]\s*[\"']?([^&\s\"',}]+)", everything):
        assert "…" in value, f"an unmasked code: {value[:4]}…"

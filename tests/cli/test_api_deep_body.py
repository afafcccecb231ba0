"""``bonjoro-tui api`` against a real server on loopback that answers with bodies json cannot take.

A body nested 100 000 deep (invalid) or 5 000 deep (valid JSON) makes ``json.loads`` raise
``RecursionError``: the command prints the body as it came and exits as the status says, with
no traceback.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tui import hostile_server as hs

pytestmark = pytest.mark.integration


@pytest.fixture
def aimed_at_server(isolated_environment):
    with hs.HostileServer() as server:
        hs.signed_in_settings(server)
        yield {**os.environ, **hs.env_for(server)}


def api(env: dict[str, str], path: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bonjoro_tui", "api", "GET", path],
                          env=env, capture_output=True, timeout=60)


@pytest.mark.parametrize("path,body", [("/deep", hs.DEEP_INVALID), ("/deep-valid", hs.DEEP_VALID)])
def test_a_deep_body_is_printed_without_a_traceback(aimed_at_server, path, body):
    r = api(aimed_at_server, path)
    assert b"Traceback" not in r.stderr and b"RecursionError" not in r.stderr
    assert r.returncode == 0, r.stderr
    assert r.stdout.rstrip(b"\n") == body  # on a pipe: the body as the server sent it
    assert r.stderr == b""


def test_a_deep_error_body_ends_with_one_line(aimed_at_server):
    r = api(aimed_at_server, "/deep-error")
    assert b"Traceback" not in r.stderr
    assert r.returncode == 1
    assert r.stdout.rstrip(b"\n") == hs.DEEP_VALID
    assert len(r.stderr.decode().splitlines()) == 1
    assert b"recursion" not in r.stderr  # the status line, not the parser's complaint
    assert b"HTTP 500" in r.stderr

"""`bonjoro-tui token` with a fresh stored token answers from the store alone: no sandbox started,
no HTTP stack imported (httpx, uvicorn, the sandbox, the API client), so `$(bonjoro-tui token)` in
a loop stays cheap (issue 16 measures it; here only *what* is imported is asserted)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

CHILD = r"""
import io, json, sys, time
from contextlib import redirect_stdout
from bonjoro_tui.settings import load_settings
from bonjoro_tui.store import StoredProfile, TokenStore
from bonjoro_tui.tokens import TokenSet

settings = load_settings()
TokenStore(settings.store_path).save(StoredProfile(
    settings.profile, "sandbox", "code", "sandbox-public",
    TokenSet("fresh-token-for-the-import-test", time.time(), refresh_token="r", expires_at=time.time() + 3600),
    api_origin="sandbox", revoke_origin="sandbox",
))
before = set(sys.modules)
from bonjoro_tui.cli import main

out = io.StringIO()
with redirect_stdout(out):
    code = main(["token"])
heavy = ("httpx", "httpcore", "uvicorn", "h11", "bonjoro_tui.sandbox", "bonjoro_tui.api.client",
         "bonjoro_tui.account.session", "jq", "shtab", "textual")
print(json.dumps({"code": code, "out": out.getvalue(),
                  # (cli.main's None entry for httpx._main keeps httpx's own tool out; it loads nothing)
                  "loaded": sorted(m for m in set(sys.modules) - before
                                   if sys.modules[m] is not None and m.startswith(heavy))}))
"""


def test_a_fresh_token_is_printed_without_the_http_stack(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("BONJORO")}
    env.update(BONJORO_TUI_DATA_DIR=str(tmp_path / "data"), BONJORO_TUI_CONFIG_DIR=str(tmp_path / "config"),
               BONJORO_TUI_LOG_DIR=str(tmp_path / "log"))
    done = subprocess.run([sys.executable, "-c", CHILD], env=env, cwd=tmp_path, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["code"] == 0 and report["out"] == "fresh-token-for-the-import-test\n"
    assert report["loaded"] == []
    assert not (tmp_path / "data" / "sandbox").exists()  # no sandbox was started

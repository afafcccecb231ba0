"""What a sandbox started for one request loads (issue 16, figure 10a: ``bonjoro-tui api GET /me``
with no sandbox running starts one in-process): only what that request needs. Asserted as
*what* is imported, in a fresh interpreter, never as how long it took.
"""

import json
import os
import subprocess
import sys

ONE_REQUEST = r"""
import http.client, json, sys
from pathlib import Path
from bonjoro_tui.sandbox import SandboxServer

report = {}
server = SandboxServer(state_file=Path(sys.argv[1]))
server.start()
try:
    def get(path, headers):
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        body = response.read()
        conn.close()
        return response.status, body

    status, body = get("/api/v2/me", {"authorization": "Bearer sandbox-api-key"})
    report["me"] = [status, json.loads(body)["name"]]
    report["loaded"] = sorted(m for m in sys.modules if m in (
        "click", "uvicorn.main", "uvicorn.supervisors", "multiprocessing",
        "bonjoro_tui.sandbox.oauth", "bonjoro_tui.sandbox.pages", "bonjoro_tui.sandbox.engine", "html",
        "bonjoro_tui.sandbox.clients", "uuid", "uvicorn.protocols.websockets.auto"))
    report["seed_built"] = server.state.seed._rest is not None
    from bonjoro_tui.sandbox import api
    report["route_regexes"] = api._regex.cache_info().currsize
    status, body = get("/.well-known/oauth-authorization-server", {})
    report["metadata"] = [status, "token_endpoint" in json.loads(body)]
    report["oauth_after_metadata"] = "bonjoro_tui.sandbox.oauth" in sys.modules
finally:
    server.stop()
print(json.dumps(report))
"""

UVICORN_AS_EVER = r"""
import json, sys
import bonjoro_tui.plumbing.serving as serving
report = {"cli_before": "uvicorn.main" in sys.modules or "click" in sys.modules}
import uvicorn
import uvicorn.config, uvicorn.server
report["config"] = uvicorn.Config is uvicorn.config.Config is serving.Config
report["server"] = uvicorn.Server is uvicorn.server.Server is serving.Server
report["version"] = isinstance(uvicorn.__version__, str)
report["run"] = callable(uvicorn.run) and callable(uvicorn.main)
from uvicorn import main, run
from uvicorn.main import run as main_run
report["same_run"] = run is main_run and "Config" in uvicorn.__all__
try:
    uvicorn.no_such_name
except AttributeError:
    report["missing"] = True
print(json.dumps(report))
"""


def _run(code: str, *args: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BONJORO")}
    done = subprocess.run([sys.executable, "-c", code, *args], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_one_api_request_loads_neither_uvicorns_command_line_nor_the_oauth_pages(tmp_path):
    report = _run(ONE_REQUEST, str(tmp_path / "state.json"))
    assert report["me"] == [200, "Alex Sandbox"]
    assert report["loaded"] == []
    assert report["seed_built"] is False  # the users only: profiles, templates, campaigns on first use
    assert report["route_regexes"] == 1  # GET /me's, the first hand-written route
    # The OAuth side is there when asked for.
    assert report["metadata"] == [200, True] and report["oauth_after_metadata"] is True


def test_uvicorn_is_whole_for_anyone_who_asks_for_it():
    """serving.py imports uvicorn's server and config without its __init__'s command line; any
    name of the package asked for afterwards finishes that __init__, so uvicorn looks as ever."""
    report = _run(UVICORN_AS_EVER)
    assert report == {"cli_before": False, "config": True, "server": True, "version": True, "run": True,
                      "same_run": True, "missing": True}


def test_a_start_that_changes_nothing_rewrites_no_state_file(tmp_path):
    from bonjoro_tui.sandbox.state import SandboxState

    path = tmp_path / "state.json"
    first = SandboxState(path, auto_approve=False)
    assert path.exists()  # a fresh state (its signing key) is saved at once
    key = first._doc["signing_key"]

    def signature():
        st = path.stat()
        return st.st_ino, st.st_mtime_ns, st.st_size

    before = signature()
    again = SandboxState(path, auto_approve=False)
    assert again._doc["signing_key"] == key and signature() == before  # same state, file untouched
    SandboxState(path, auto_approve=True)  # a start-up knob the file does not hold: saved
    assert signature() != before and SandboxState(path)._doc["knobs"]["auto_approve"] is True
    SandboxState(path, auto_approve=False)  # and set back
    assert SandboxState(path).knobs["auto_approve"] is False

    path.write_text("not json")  # an unusable file is set aside and a fresh state saved
    fresh = SandboxState(path)
    assert path.exists() and fresh._doc["signing_key"] != key
    assert list(tmp_path.glob("state.json.corrupt-*"))


def test_the_seeds_ids_are_the_uuids_they_always_were():
    import random
    import uuid

    from bonjoro_tui.sandbox.seed import _uuid

    for n in range(2000):
        assert _uuid(random.Random(n)) == str(uuid.UUID(int=random.Random(n).getrandbits(128), version=4))


def test_the_seed_built_on_first_use_is_the_seed_built_at_once():
    """Profiles, templates and campaigns come next in the same random sequence as the users, so
    building them later gives the same records (the published ids of every run)."""
    import random

    from bonjoro_tui.sandbox.seed import SEED, TEMPLATES, SeedData

    seed = SeedData()
    rng = random.Random(SEED)
    rng.getrandbits(128)  # the team id
    for user in seed.users:
        assert user["id"] == str(__import__("uuid").UUID(int=rng.getrandbits(128), version=4))
    assert len(seed.profiles) == 60 and len(seed.templates) == len(TEMPLATES) and seed.campaigns
    assert seed.profiles is seed.profiles  # built once
    again = SeedData()
    assert again.campaigns == seed.campaigns and again.profiles == seed.profiles


def test_a_sandbox_that_cannot_serve_says_why_without_waiting_out_its_timeout(tmp_path, monkeypatch):
    """start() waits on the server's start-up being over, not on a poll: a failure wakes it too
    (its wait returns True: the event was set, not timed out), and what failed is the message
    (not 'timeout')."""
    import socket
    import threading

    import pytest

    waits: list[tuple[float | None, bool]] = []
    real_wait = threading.Event.wait

    def wait(self, timeout=None):  # type: ignore[no-untyped-def]
        woken = real_wait(self, timeout)
        waits.append((timeout, woken))
        return woken

    monkeypatch.setattr(threading.Event, "wait", wait)

    from bonjoro_tui.sandbox.binding import SandboxServerError
    from bonjoro_tui.sandbox.server import SandboxServer

    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # asyncio serves streams only
    sock.bind(("127.0.0.1", 0))
    server = SandboxServer(sock=sock, state_file=tmp_path / "state.json")
    with pytest.raises(SandboxServerError, match="the sandbox did not start: ") as failed:
        server.start(timeout=60)
    assert "timeout" not in str(failed.value)
    assert (60, True) in waits  # start()'s wait was woken by the failure, not by its 60 s timeout


def test_requests_responses_and_principals_keep_their_shape():
    """Requests and responses are plain classes now (a dataclass cost ~1 ms each to build at
    every start): same fields, defaults, equality where there was one; a Principal stays
    immutable and hashable."""
    import dataclasses

    import pytest

    from bonjoro_tui.sandbox.grants import Principal
    from bonjoro_tui.sandbox.web import Request, Response, json_response

    req = Request("GET", "/me", "", {"host": "127.0.0.1"}, b"", "127.0.0.1")
    assert req.scheme == "http" and req.state == {} and req.origin == "http://127.0.0.1"
    assert Request("GET", "/", "", {}, b"", None).state is not req.state
    assert Response(204) == Response(204, b"", {}) != Response(200)
    assert Response(200).headers is not Response(200).headers
    assert json_response({"a": 1}) == Response(200, b'{"a":1}', {"content-type": "application/json"})
    p = Principal("u", None, "*", "api-key", "api_key", None)
    assert p == Principal("u", None, "*", "api-key", "api_key", None) and len({p, Principal(*dataclasses.astuple(p))}) == 1
    with pytest.raises(AttributeError):
        p.user_id = "someone else"
    assert "user_id='u'" in repr(p)

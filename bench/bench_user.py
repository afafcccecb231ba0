"""Where the user is: the default (built-in sandbox) configuration, in a real terminal and on the CLI.

Figures 9–11 (issue 16):

* **9. Real terminal** (tmux, 120×36): from just before ``tmux respawn-pane`` starts the program
  to the first ``tmux capture-pane -p`` that shows the first screen's marker string: ``not signed
  in`` (the status screen, signed out), the user's name (``Alex Sandbox``, signed in: the name
  comes from ``GET /me``) and the bare Textual app's ``Hello from a bare Textual app`` (Header,
  Static, Footer; ``bench/bare_app.py``). Ours and the bare app alternate; the default target
  (no client configured: the in-process sandbox of the data directory); the program then gets
  ``q`` and must end. Both sides pay the same tmux round trips (each poll is one ``tmux`` client
  process, a few ms: the figure's resolution). No tmux: the rows say "skipped: no tmux".
* **10. One-shot commands** against the default sandbox, signed in, vs ``python -c "import
  httpx"``: ``api GET /me`` with no sandbox running (the command starts one and stops it), the
  same with the data directory's sandbox running (``bonjoro-tui sandbox``: it is reused), and
  ``token`` with a fresh token stored (no HTTP stack at all).
"""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import subprocess
import time
from pathlib import Path

from bench.common import PYTHON, QUICK, ROOT, Env, Row, interleave, reps, stop, time_ratio_row

SIGNED_OUT_TARGET = 1.25
SIGNED_IN_TARGET = 1.6
API_TARGET = 1.5
TOKEN_TARGET = 0.8

SIGNED_OUT_MARKER = "not signed in"
SIGNED_IN_MARKER = "Alex Sandbox"  # the sandbox's user (sandbox/seed.py TEAM[0]), shown from /me
BARE_MARKER = "Hello from a bare Textual app"  # bench/bare_app.py


def _script() -> list[str]:
    script = Path(PYTHON).parent / "bonjoro-tui"
    return [str(script)] if script.exists() else [PYTHON, "-m", "bonjoro_tui"]


def default_env(env: Env, name: str) -> dict[str, str]:
    """A child environment of data dir ``name`` with nothing configured: the default sandbox."""
    return env.env(name, live=False)


def sign_in_default(env: Env, name: str) -> dict[str, str]:
    """``bonjoro-tui login --approve`` in data dir ``name``: signed in to its own sandbox."""
    child = default_env(env, name)
    done = subprocess.run(_script() + ["login", "--approve"], env=child, cwd=env.root, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"login --approve failed ({done.returncode}): {done.stderr.strip()[-500:]}")
    return child


# --------------------------------------------------------------------------- 9. tmux


class Tmux:
    """A tmux server of our own (``-L`` socket), one 120×36 pane the programs are respawned in."""

    def __init__(self, env: dict[str, str]) -> None:
        self.name = f"bonjoro-bench-{os.getpid()}"
        self.env = env
        self.target = "bench:0.0"
        self.tmux("-f", "/dev/null", "new-session", "-d", "-s", "bench", "-x", "120", "-y", "36", "sleep 100000")
        self.tmux("set-option", "-g", "remain-on-exit", "on")
        self.tmux("set-option", "-g", "default-size", "120x36")

    def tmux(self, *args: str) -> str:
        done = subprocess.run(["tmux", "-L", self.name, *args], env=self.env, capture_output=True, text=True, timeout=30)
        if done.returncode != 0:
            raise RuntimeError(f"tmux {' '.join(args[:2])} failed: {done.stderr.strip()}")
        return done.stdout

    def first_paint(self, argv: list[str], child_env: dict[str, str], marker: str, timeout: float = 30.0) -> float:
        """Seconds from starting ``argv`` in the pane to the first capture showing ``marker``."""
        command = "cd " + shlex.quote(str(ROOT)) + " && exec env " + " ".join(
            shlex.quote(f"{k}={v}") for k, v in child_env.items() if k.startswith(("BONJORO", "PYTHONPATH", "NO_PROXY", "BROWSER"))
        ) + " " + " ".join(shlex.quote(a) for a in argv)
        started = time.perf_counter()
        self.tmux("respawn-pane", "-k", "-t", self.target, command)
        screen = ""
        while time.perf_counter() - started < timeout:
            screen = self.tmux("capture-pane", "-p", "-t", self.target)
            if marker in screen:
                elapsed = time.perf_counter() - started
                self.quit()
                return elapsed
        self.quit()
        raise RuntimeError(f"{marker!r} never shown by {' '.join(argv)}; the pane showed:\n{screen[-1500:]}")

    def quit(self) -> None:
        """``q``, then wait for the program to end (respawn -k would SIGHUP it otherwise)."""
        self.tmux("send-keys", "-t", self.target, "q")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.tmux("display-message", "-p", "-t", self.target, "#{pane_dead}").strip() == "1":
                return
            time.sleep(0.02)

    def close(self) -> None:
        socket_path = ""
        with contextlib.suppress(RuntimeError, subprocess.SubprocessError):
            socket_path = self.tmux("display-message", "-p", "#{socket_path}").strip()
        subprocess.run(["tmux", "-L", self.name, "kill-server"], env=self.env, capture_output=True)
        if socket_path.endswith(self.name):  # tmux leaves its socket file behind when killed
            with contextlib.suppress(OSError):
                os.unlink(socket_path)


def terminal(env: Env) -> list[Row]:
    names = (
        "9a. real terminal (tmux 120×36), default sandbox, signed out: first screen",
        "9b. real terminal, default sandbox, signed in: user's name shown",
    )
    targets = (SIGNED_OUT_TARGET, SIGNED_IN_TARGET)
    if shutil.which("tmux") is None:
        return [Row(n, "skipped: no tmux", "skipped: no tmux", "—", f"≤ {t}", False, "not measured") for n, t in zip(names, targets)]
    signed_out = default_env(env, "tmux-out")
    signed_in = sign_in_default(env, "default-in")
    bare_env = default_env(env, "tmux-bare")
    tmux = Tmux(signed_out)
    try:
        ours = _script()
        bare = [PYTHON, "-m", "bench.bare_app"]
        n, w = reps(7, 1), reps(1, 0)
        out = interleave(lambda: tmux.first_paint(ours, signed_out, SIGNED_OUT_MARKER),
                         lambda: tmux.first_paint(bare, bare_env, BARE_MARKER), n, warmup=w)
        inn = interleave(lambda: tmux.first_paint(ours, signed_in, SIGNED_IN_MARKER),
                         lambda: tmux.first_paint(bare, bare_env, BARE_MARKER), n, warmup=w)
    finally:
        tmux.close()
    return [
        time_ratio_row(names[0], out, "bare Textual, first screen", SIGNED_OUT_TARGET),
        time_ratio_row(names[1], inn, "bare Textual, first screen", SIGNED_IN_TARGET),
    ]


# --------------------------------------------------------------------------- 10. one-shot commands


def _timed(argv: list[str], child_env: dict[str, str], cwd: Path, expect: str | None) -> float:
    started = time.perf_counter()
    done = subprocess.run(argv, env=child_env, cwd=cwd, capture_output=True, text=True, timeout=60)
    elapsed = time.perf_counter() - started
    if done.returncode != 0 or (expect is not None and expect not in done.stdout):
        raise RuntimeError(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr.strip()[:300]} {done.stdout[:200]}")
    return elapsed


def one_shot(env: Env) -> list[Row]:
    child = default_env(env, "default-in")  # signed in by terminal() (run first), else now
    if not (env.root / "default-in" / "data" / "tokens.toml").exists():
        child = sign_in_default(env, "default-in")
    base = [PYTHON, "-c", "import httpx"]
    api = _script() + ["api", "GET", "/me"]
    token = _script() + ["token"]
    n, w = reps(15, 1), reps(1, 0)

    def httpx_import() -> float:
        return _timed(base, child, env.root, None)

    cold = interleave(lambda: _timed(api, child, env.root, SIGNED_IN_MARKER.split()[0]), httpx_import, n, warmup=w)
    tok = interleave(lambda: _timed(token, child, env.root, None), httpx_import, n, warmup=w)
    # The data directory's own sandbox, running (what a user with a dashboard open has).
    proc = subprocess.Popen(_script() + ["sandbox"], env=child, cwd=env.root, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        first = proc.stdout.readline() if proc.stdout else ""
        if "listening on" not in first:
            raise RuntimeError(f"bonjoro-tui sandbox did not start: {first!r}")
        time.sleep(0.3 if QUICK else 1.0)  # announced just after the line
        warm = interleave(lambda: _timed(api, child, env.root, SIGNED_IN_MARKER.split()[0]), httpx_import, n, warmup=w)
    finally:
        stop(proc)
    return [
        time_ratio_row("10a. `api GET /me`, default sandbox, none running (starts its own)", cold, "import httpx", API_TARGET),
        time_ratio_row("10b. `api GET /me`, default sandbox, the data dir's sandbox running", warm, "import httpx", API_TARGET),
        time_ratio_row("10c. `token`, fresh token stored", tok, "import httpx", TOKEN_TARGET),
    ]

"""Figure 2: ``bonjoro-tui status --json`` wall time vs ``python -c "import httpx"``.

Both are fresh processes (interpreter start-up and imports count), run alternately; the
status command reads a real signed-in store from a temporary data directory.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from bench.common import PYTHON, Env, Row, interleave, reps, time_ratio_row

TARGET = 1.2


def _script() -> list[str]:
    script = Path(PYTHON).parent / "bonjoro-tui"
    return [str(script)] if script.exists() else [PYTHON, "-m", "bonjoro_tui"]


def run(env: Env) -> list[Row]:
    child_env = env.env("run")
    cmd = _script() + ["status", "--json"]
    base = [PYTHON, "-c", "import httpx"]

    def timed(argv: list[str], check_output: bool) -> float:
        started = time.perf_counter()
        done = subprocess.run(argv, env=child_env, cwd=env.root, capture_output=True, text=True)
        elapsed = time.perf_counter() - started
        if done.returncode != 0 or (check_output and '"signed_in":true' not in done.stdout):
            raise RuntimeError(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr.strip()[:300]}")
        return elapsed

    sample = interleave(lambda: timed(cmd, True), lambda: timed(base, False), reps(30, 4), warmup=2)
    return [time_ratio_row("2. `status --json` wall time", sample, "import httpx", TARGET)]

"""``python -m bench.phases [RUNS]``: where figure 1's start-up goes, phase by phase (docs/PERFORMANCE.md).

Runs ``bench.tui_child``'s two apps (ours signed in, and the bare one) RUNS times each (default
5), each in a fresh process with ``BENCH_PHASES=1``: the child stamps ``time.perf_counter`` at the
end of each phase and sums the wall time spent inside a few Textual internals until the first
painted frame (CSS parsing per source, styling, layout, rendering). No profiler runs, so the
times are the real ones; the table shows the medians. This explains the figure; it measures
nothing the table of ``python -m bench`` relies on.
"""

from __future__ import annotations

import asyncio
import compileall
import json
import statistics
import subprocess
import sys
from collections import defaultdict

from bench.common import PYTHON, ROOT, environment


def run(env, kind: str) -> dict[str, float]:  # type: ignore[no-untyped-def]
    e = env.env("run")
    e["BENCH_PHASES"] = "1"
    done = subprocess.run(
        [PYTHON, "-m", "bench.tui_child", kind, "startup"], env=e, cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith('{"phases"')]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"child failed ({done.returncode}): {done.stderr[-800:]}")
    return json.loads(lines[-1])["phases"]


def main(argv: list[str]) -> int:
    runs = int(argv[0]) if argv else 5
    compileall.compile_dir(str(ROOT / "bonjoro_tui"), quiet=1)
    results: dict[str, dict[str, list[float]]] = {"ours": defaultdict(list), "bare": defaultdict(list)}
    with environment() as env:
        asyncio.run(env.sign_in("run"))
        for _ in range(runs):
            for kind in ("ours", "bare"):
                for name, ms in run(env, kind).items():
                    results[kind][name].append(ms)
    names = list(results["ours"]) + [n for n in results["bare"] if n not in results["ours"]]
    width = max(len(n) for n in names)
    print(f"median of {runs} runs, ms {'':{width - 18}} ours      bare")
    for name in names:
        cells = []
        for kind in ("ours", "bare"):
            values = results[kind].get(name)
            cells.append(f"{statistics.median(values):8.1f}" if values else f"{'—':>8}")
        print(f"{name:{width}}  {cells[0]}  {cells[1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

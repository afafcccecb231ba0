"""``python -m bench [FIGURE ...]``: run the benchmarks and print the table (see bench/__init__.py)."""

from __future__ import annotations

import asyncio
import compileall
import sys
import time

from bench import bench_cli, bench_data, bench_http, bench_tui, bench_user
from bench.common import QUICK, ROOT, environment, machine, render_table

FIGURES = {
    "1": lambda env: [bench_tui.startup(env)],
    "2": bench_cli.run,
    "3": lambda env: asyncio.run(bench_http.signin(env)),
    "4": lambda env: asyncio.run(bench_http.refresh(env)),
    "5": lambda env: asyncio.run(bench_http.concurrent_me(env)),
    "6+8": bench_tui.idle,
    "7+11": bench_tui.explorer,
    "9": bench_user.terminal,
    "10": bench_user.one_shot,
    "12": bench_data.run,
}


def main(argv: list[str]) -> int:
    wanted = argv or list(FIGURES)
    # Measure the tool as installed: pip compiles an installed package's bytecode, not an
    # editable project's, and PYTHONDONTWRITEBYTECODE may keep imports from caching it.
    compileall.compile_dir(str(ROOT / "bonjoro_tui"), quiet=1)
    started = time.perf_counter()
    print(f"bonjoro-tui benchmarks{' (quick mode: few repetitions)' if QUICK else ''}", flush=True)
    print(machine(), flush=True)
    rows = []
    with environment() as env:
        asyncio.run(env.sign_in("run"))
        for key in wanted:
            t = time.perf_counter()
            print(f"… figure {key}", file=sys.stderr, flush=True)
            rows += FIGURES[key](env)
            print(f"  figure {key} took {time.perf_counter() - t:.1f} s", file=sys.stderr, flush=True)
    rows.sort(key=lambda r: (int(r.figure.split(".")[0].rstrip("abcdefgh")), r.figure.split(".")[0]))
    print()
    print(render_table(rows))
    print()
    print(
        "Ratios are ours / baseline, measured side by side in this run (alternating runs, median of "
        f"the per-pair ratios); [a–b] is the interquartile range (min–max below 4 runs). Took {time.perf_counter() - started:.0f} s."
    )
    return 0  # a missed target is reported in the table, not as a failure


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

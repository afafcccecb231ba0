"""``python -m bench.sandbox_start [RUNS]``: the in-process sandbox's time to first answer.

Each run is a fresh Python process (so imports count, as they do for the app): it imports
``bonjoro_tui.sandbox``, starts ``SandboxServer`` with a state file in a temporary directory
and times, with ``time.perf_counter``, (a) ``SandboxServer.__enter__`` (listening), (b) the
first ``GET /api/v2/me`` answered, (c) the first answer of an operation the generic engine
serves (``GET /api/v2/automations``), each from the start of the import. Median and
interquartile range over RUNS (default 15) runs. docs/PERFORMANCE.md keeps the figures.

``--before TREE``: a checkout of an earlier commit (``git worktree add /tmp/before COMMIT``)
measured alternately with this one, run for run, so the load of a shared machine hits both
alike. Byte-code is written and warmed first (the figures are not about compiling).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys

CHILD = r"""
import json, os, sys, tempfile, time, http.client
tree = os.environ.get("BENCH_TREE")
if tree:  # an earlier checkout, not the editable install
    sys.meta_path[:] = [f for f in sys.meta_path if "editable" not in repr(f) and "editable" not in type(f).__module__]
    sys.path.insert(0, tree)
t0 = time.perf_counter()
from bonjoro_tui.sandbox import SandboxServer
with tempfile.TemporaryDirectory() as d:
    with SandboxServer(state_file=d + "/state.json") as server:
        listening = time.perf_counter() - t0
        host, port = server.url.split("//")[1].split(":")
        def get(path):
            c = http.client.HTTPConnection(host, int(port))
            c.request("GET", path, headers={"Authorization": "Bearer sandbox-api-key"})
            r = c.getresponse(); r.read(); c.close()
            return r.status
        get("/api/v2/me"); me = time.perf_counter() - t0
        status = get("/api/v2/automations"); engine = time.perf_counter() - t0
print(json.dumps({"listening": listening, "me": me, "engine": engine, "engine_status": status}))
"""


def _run(tree: str | None) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    if tree:
        env["BENCH_TREE"] = tree
    out = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, check=True, timeout=60, env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _report(label: str, results: list[dict]) -> None:
    for key in ("listening", "me", "engine"):
        values = sorted(r[key] * 1000 for r in results)
        q = statistics.quantiles(values, n=4) if len(values) >= 4 else [values[0], 0, values[-1]]
        print(f"{label:>7} {key:>10}: median {statistics.median(values):6.1f} ms [{q[0]:.1f}–{q[2]:.1f}]")
    print(f"{label:>7} engine status: {sorted({r['engine_status'] for r in results})}")


def main(runs: int, before: str | None) -> None:
    sides = [None] + ([before] if before else [])
    for side in sides:  # warm-up: byte-code written, files in the page cache
        _run(side)
        _run(side)
    results: dict[str | None, list[dict]] = {side: [] for side in sides}
    for _ in range(runs):
        for side in sides:
            results[side].append(_run(side))
    if before:
        _report("before", results[before])
    _report("now", results[None])


if __name__ == "__main__":
    args = sys.argv[1:]
    tree = None
    if "--before" in args:
        i = args.index("--before")
        tree = args[i + 1]
        del args[i : i + 2]
    main(int(args[0]) if args else 15, tree)

"""Figure 12 (issue 16): costs as the data grows — the sandbox with 1k, 10k and 100k greets.

A sandbox process per size (``bonjoro-tui sandbox``, its ``greet_count`` knob set), requests
alternating between them round by round, so each 100k figure has a 1k figure taken beside it:
the ratio is the median of those pairs. Each round first writes one greet (``PUT``) and times the
read just after it (the listing is built again after a change: the row's note), then the same
read again (what the next request of a user costs: the row's figure).

* **page read**: ``GET /greets?page=N&limit=15``, N the second-to-last page (a persistent httpx
  client; the wall time of the request).
* **filtered search**: ``GET /greets?status=open&search=ava&limit=15&page=2``.
* **explorer first paint**: ``bench.tui_child`` (the dashboard against this sandbox) sending
  ``GET /greets?limit=1200&page=K`` (K the last full page; 1k greets: the 1,000 there are) — time
  from the send to the first frame with the tree.
* **paginate**: ``bonjoro-tui api --paginate /greets -F limit=500`` over every page (fresh
  process, stdout discarded) vs a fresh ``python`` running a plain httpx loop over the same
  pages (follows ``next_page_url``, writes each body to stdout): throughput ratio, higher is
  better.

BENCH_QUICK: sizes 1k and 2k, a few repetitions.
"""

from __future__ import annotations

import contextlib
import math
import statistics
import subprocess
import time

import httpx

from bench.common import PYTHON, QUICK, ROOT, Env, Row, Sample, environment_for, fmt_spread_ms, median, miss, reps

FLAT_TARGET = 1.5
PAGINATE_TARGET = 0.9
SIZES = (1_000, 2_000) if QUICK else (1_000, 10_000, 100_000)
HEADERS = {"Authorization": "Bearer sandbox-api-key"}

_PLAIN_LOOP = r"""
import sys, httpx
url, token = sys.argv[1], sys.argv[2]
out = sys.stdout.buffer
with httpx.Client(headers={"Authorization": "Bearer " + token}, timeout=60, trust_env=False) as c:
    while url:
        r = c.get(url)
        r.raise_for_status()
        out.write(r.content + b"\n")
        url = r.json().get("next_page_url")
"""


def _label(n: int) -> str:
    return f"{n // 1000}k"


def run(_: Env) -> list[Row]:
    with contextlib.ExitStack() as stack:
        envs = {n: stack.enter_context(environment_for(greet_count=n)) for n in SIZES}
        for env in envs.values():
            asyncio_sign_in(env)
        return _sizes(envs)


def asyncio_sign_in(env: Env) -> None:
    import asyncio

    asyncio.run(env.sign_in("data"))


def _sizes(envs: dict[int, Env]) -> list[Row]:
    """One sandbox process per size, requests alternating between them: each keeps its own
    listing, as a user's sandbox does between two requests. Each round also writes one greet
    (``PUT /greets/{id}``) first and times the read right after it: the cost of a change."""
    page_times: dict[int, list[float]] = {n: [] for n in SIZES}
    search_times: dict[int, list[float]] = {n: [] for n in SIZES}
    after_write: dict[int, list[float]] = {n: [] for n in SIZES}
    clients = {n: httpx.Client(base_url=e.sandbox_url + "/api/v2", headers=HEADERS, timeout=120, trust_env=False)
               for n, e in envs.items()}
    search = {"status": "open", "search": "ava", "limit": 15, "page": 2}
    try:
        ids = {}
        for n, client in clients.items():  # warm: greets built, the body validator imported
            ids[n] = client.get("/greets", params={"limit": 1}).json()["data"][0]["id"]
            client.put(f"/greets/{ids[n]}", json={"note": "bench"}).raise_for_status()
        for i in range(1 + reps(25, 3)):
            for n, client in clients.items():
                near_end = {"page": max(1, math.ceil(n / 15) - 1), "limit": 15}
                client.put(f"/greets/{ids[n]}", json={"note": f"bench {i}"}).raise_for_status()
                t = time.perf_counter()
                client.get("/greets", params=near_end).raise_for_status()
                first = time.perf_counter() - t
                t = time.perf_counter()
                client.get("/greets", params=near_end).raise_for_status()
                page = time.perf_counter() - t
                client.get("/greets", params=search).raise_for_status()  # the filter's first pass
                t = time.perf_counter()
                client.get("/greets", params=search).raise_for_status()
                found = time.perf_counter() - t
                if i:
                    page_times[n].append(page)
                    search_times[n].append(found)
                    after_write[n].append(first)
    finally:
        for client in clients.values():
            client.close()
    small, big = SIZES[0], SIZES[-1]
    write_ratio = statistics.median(b / s for b, s in zip(after_write[big], after_write[small]))
    write_note = (f"first read after a write: {median(after_write[big]) * 1000:.1f} ms at {_label(big)} vs "
                  f"{median(after_write[small]) * 1000:.1f} at {_label(small)}, {write_ratio:.2f}×")
    page_row = _flat_row("12a. page read `GET /greets?page=N&limit=15` (N near the end)", page_times, small, big)
    page_row.note = "; ".join(x for x in (page_row.note, write_note) if x)
    return [
        page_row,
        _flat_row("12b. filtered search `GET /greets?status=open&search=ava&limit=15&page=2`", search_times, small, big),
        _explorer_row(envs),
        _paginate_row(envs[SIZES[1]], SIZES[1]),
    ]


def _flat_row(name: str, times: dict[int, list[float]], small: int, big: int) -> Row:
    sample = Sample(times[big], times[small])
    ratio = sample.ratio
    sizes = " · ".join(f"{_label(n)} {median(v) * 1000:.1f}" for n, v in times.items())
    return Row(
        f"{name}, at {_label(big)} vs {_label(small)} greets",
        f"{fmt_spread_ms(times[big])} at {_label(big)} (ms: {sizes})",
        f"{fmt_spread_ms(times[small])} at {_label(small)}",
        f"{ratio:.2f}",
        f"≤ {FLAT_TARGET}",
        ratio <= FLAT_TARGET,
        miss(ratio, FLAT_TARGET),
    )


def _explorer_row(envs: dict[int, Env]) -> Row:
    from bench.bench_tui import _collect

    paints: dict[int, list[float]] = {n: [] for n in SIZES}
    for _ in range(reps(2, 1)):
        for n in (SIZES[0], SIZES[-1]) if QUICK else SIZES:
            env = envs[n]
            child = env.env("data")
            child["BENCH_QUERY"] = f"limit=1200&page={max(1, n // 1200)}"
            proc = subprocess.Popen([PYTHON, "-m", "bench.tui_child", "ours", "explorer", "1200"], stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True, env=child, cwd=ROOT)
            data, _ = _collect(proc, timeout=180)
            if data.get("status") != 200:
                raise RuntimeError(f"explorer at {n} greets: status {data.get('status')}")
            paints[n].append(data["first_paint"])
    small, big = SIZES[0], SIZES[-1]
    ratio = statistics.median(b / s for b, s in zip(paints[big], paints[small]))
    sizes = " · ".join(f"{_label(n)} {median(v) * 1000:.0f}" for n, v in paints.items() if v)
    return Row(
        f"12c. explorer first paint of a 1,200-item page, at {_label(big)} vs {_label(small)} greets",
        f"{median(paints[big]) * 1000:.0f} ms at {_label(big)} (ms: {sizes})",
        f"{median(paints[small]) * 1000:.0f} ms at {_label(small)} (1,000 items)",
        f"{ratio:.2f}",
        f"≤ {FLAT_TARGET}",
        ratio <= FLAT_TARGET,
        miss(ratio, FLAT_TARGET),
    )


def _paginate_row(env: Env, n: int) -> Row:
    """Over the middle size (10k greets: 20 pages of 500, ~42 MB; 100k would be ~0.4 GB a run)."""
    from bench.bench_cli import _script

    child = env.env("data")
    token = env.settings("data")
    from bonjoro_tui.store import TokenStore

    access = TokenStore(token.store_path).load(token.profile).tokens.access_token  # type: ignore[union-attr]
    ours_argv = _script() + ["api", "--paginate", "/greets", "-F", "limit=500"]
    base_argv = [PYTHON, "-c", _PLAIN_LOOP, f"{env.sandbox_url}/api/v2/greets?limit=500", access]

    def timed(argv: list[str]) -> float:
        t = time.perf_counter()
        done = subprocess.run(argv, env=child, cwd=env.root, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=300)
        elapsed = time.perf_counter() - t
        if done.returncode != 0:
            raise RuntimeError(f"{argv[:4]} failed: {done.stderr.decode(errors='replace')[-300:]}")
        return elapsed

    sample = Sample()
    warmup = reps(1, 0)
    for i in range(warmup + reps(3, 1)):
        a, b = timed(ours_argv), timed(base_argv)
        if i >= warmup:
            sample.add(a, b)
    throughput = 1 / sample.ratio
    pages = math.ceil(n / 500)
    return Row(
        f"12d. `api --paginate /greets -F limit=500` over {pages} pages ({_label(n)} greets), throughput",
        f"{fmt_spread_ms(sample.ours)}",
        f"{fmt_spread_ms(sample.base)} (plain httpx loop, fresh process)",
        f"{throughput:.2f}",
        f"≥ {PAGINATE_TARGET}",
        throughput >= PAGINATE_TARGET,
        miss(throughput, PAGINATE_TARGET, higher_is_better=True),
    )

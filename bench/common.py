"""What every benchmark shares: repetitions, statistics, the isolated environment, the table.

Nothing here touches the user's files: the data, config and log directories are temporary,
and the sandbox runs as its own process (``bonjoro-tui sandbox``) so its CPU never competes
with the client under test for the GIL.
"""

from __future__ import annotations

import contextlib
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

QUICK = os.environ.get("BENCH_QUICK", "") not in ("", "0")
ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def reps(full: int, quick: int) -> int:
    return quick if QUICK else full


# --------------------------------------------------------------------------- statistics


@dataclass
class Sample:
    """Paired measurements: ``ours[i]`` and ``base[i]`` were taken back to back."""

    ours: list[float] = field(default_factory=list)
    base: list[float] = field(default_factory=list)

    def add(self, ours: float, base: float) -> None:
        self.ours.append(ours)
        self.base.append(base)

    @property
    def ratio(self) -> float:
        """Median of the per-pair ratios: drift between pairs cancels out."""
        return statistics.median(o / b for o, b in zip(self.ours, self.base) if b > 0)


def median(values: list[float]) -> float:
    return statistics.median(values)


def spread(values: list[float]) -> tuple[float, float]:
    """(25th, 75th) percentile; (min, max) below 4 values."""
    if len(values) < 4:
        return min(values), max(values)
    q = statistics.quantiles(values, n=4)
    return q[0], q[2]


def interleave(ours: Callable[[], float], base: Callable[[], float], n: int, warmup: int = 1) -> Sample:
    """Run ours, baseline, ours, baseline … ``n`` times each (after ``warmup`` discarded pairs)."""
    sample = Sample()
    for i in range(warmup + n):
        a = ours()
        b = base()
        if i >= warmup:
            sample.add(a, b)
    return sample


# --------------------------------------------------------------------------- the table


@dataclass
class Row:
    figure: str
    ours: str
    baseline: str
    ratio: str
    target: str
    met: bool
    note: str = ""


def fmt_spread_ms(values: list[float]) -> str:
    lo, hi = spread(values)
    return f"{median(values) * 1000:.1f} ms [{lo * 1000:.1f}–{hi * 1000:.1f}]"


def miss(ratio: float, limit: float, higher_is_better: bool = False) -> str:
    """'' when met, else by how much the target is missed."""
    if higher_is_better:
        return "" if ratio >= limit else f"missed by {(limit - ratio) / limit:.1%}"
    over = ratio / limit - 1
    return "" if ratio <= limit else f"missed by {over:.0%}" if over >= 0.01 else f"missed by {over:.1%}"


def time_ratio_row(figure: str, sample: "Sample", baseline: str, target: float) -> Row:
    """The row of a wall-time figure: medians with spread, ours ÷ baseline, lower is better."""
    ratio = sample.ratio
    return Row(
        figure,
        fmt_spread_ms(sample.ours),
        f"{fmt_spread_ms(sample.base)} ({baseline})",
        f"{ratio:.2f}",
        f"≤ {target}",
        ratio <= target,
        miss(ratio, target),
    )


def render_table(rows: list[Row]) -> str:
    header = ("figure", "ours", "baseline", "ratio", "target", "met?")
    body = [(r.figure, r.ours, r.baseline, r.ratio, r.target, ("yes" if r.met else "NO") + (f" ({r.note})" if r.note else "")) for r in rows]
    widths = [max(len(str(x[i])) for x in [header, *body]) for i in range(len(header))]
    line = lambda cells: "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths)) + " |"  # noqa: E731
    out = [line(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    out += [line(b) for b in body]
    return "\n".join(out)


def machine() -> str:
    model = platform.processor() or "?"
    with contextlib.suppress(OSError):
        for text in Path("/proc/cpuinfo").read_text().splitlines():
            if text.startswith("model name"):
                model = text.split(":", 1)[1].strip()
                break
    return (
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} · nproc {os.cpu_count()} · {model} · "
        f"Python {platform.python_version()} · {platform.system()} {platform.release()}"
    )


# --------------------------------------------------------------------------- environment


@dataclass
class Env:
    """Temporary directories, a sandbox process, and a profile signed in to it."""

    root: Path
    sandbox_url: str
    proc: subprocess.Popen

    def env(self, name: str = "run", *, live: bool = True) -> dict[str, str]:
        """Environment for a child process: its own data/config/log dirs under ``root/name``.

        ``live``: a client configured against the sandbox process (as a user of live Bonjoro
        would be) so the app does not start a sandbox of its own.
        """
        base = self.root / name
        e = {k: v for k, v in os.environ.items() if not k.startswith("BONJORO")}
        e.update(
            BONJORO_TUI_DATA_DIR=str(base / "data"),
            BONJORO_TUI_CONFIG_DIR=str(base / "config"),
            BONJORO_TUI_LOG_DIR=str(base / "log"),
            NO_PROXY="127.0.0.1,localhost",
            BROWSER="true",
            PYTHONPATH=str(ROOT),
        )
        for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
            e.pop(var, None)
        if live:
            e.update(BONJORO_CLIENT_ID="sandbox-public", BONJORO_BASE_URL=self.sandbox_url)
        return e

    def settings(self, name: str = "run"):
        from bonjoro_tui.settings import load_settings

        return load_settings(env=self.env(name), cwd=self.root)

    def knobs(self, **knobs: object) -> None:
        import httpx

        r = httpx.post(f"{self.sandbox_url}/_sandbox/knobs", json=knobs, trust_env=False)
        r.raise_for_status()

    async def sign_in(self, name: str = "run") -> None:
        """A real code + PKCE sign-in for directory ``name`` (the store the children read)."""
        import httpx

        from bonjoro_tui.sandbox.browser import approve
        from bonjoro_tui.store import TokenStore

        settings = self.settings(name)
        async with httpx.AsyncClient(trust_env=False) as http:
            await run_code_login(settings, TokenStore(settings.store_path), http, approve)


async def run_code_login(settings, store, http, approve):
    """CodeLogin with the sandbox browser approving the URL as soon as it is shown."""
    import asyncio

    from bonjoro_tui.auth.login import CodeLogin

    login = CodeLogin(settings, store, http)
    tasks: list[asyncio.Task] = []

    def open_browser(url: str) -> bool:
        tasks.append(asyncio.get_running_loop().create_task(approve(url)))
        return True

    profile = await login.run(open_browser=open_browser, timeout=30)
    await asyncio.gather(*tasks)
    return profile


@contextlib.contextmanager
def environment() -> Iterator[Env]:
    with environment_for(greet_count=5000) as env:
        yield env


@contextlib.contextmanager
def environment_for(*, greet_count: int) -> Iterator[Env]:
    """A sandbox process with ``greet_count`` greets (built before the first figure)."""
    with tempfile.TemporaryDirectory(prefix="bonjoro-bench-") as tmp:
        root = Path(tmp)
        state = root / "sandbox"
        state.mkdir(mode=0o700)
        env = {k: v for k, v in os.environ.items() if not k.startswith("BONJORO")}
        env.update(BONJORO_TUI_DATA_DIR=str(state), BONJORO_TUI_CONFIG_DIR=str(state), BONJORO_TUI_LOG_DIR=str(state))
        if os.environ.get("BENCH_SANDBOX_TREE"):  # the sandbox of another checkout (a before/after of the sandbox)
            env["PYTHONPATH"] = os.environ["BENCH_SANDBOX_TREE"]
        proc = subprocess.Popen(
            [PYTHON, "-m", "bonjoro_tui", "sandbox", "--port", "0", "--auto-approve"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=root,
        )
        try:
            first = proc.stdout.readline() if proc.stdout else ""
            if "listening on" not in first:
                raise RuntimeError(f"the sandbox did not start: {first!r} {proc.stderr.read() if proc.stderr else ''}")
            url = first.rsplit(" ", 1)[1].strip()
            e = Env(root, url, proc)
            # A high rate limit (the benchmarks send thousands of requests) and the greets.
            e.knobs(rate_limit=1_000_000, greet_count=greet_count)
            # The sandbox builds its greets on first use (~0.5 s for 5000): now, not inside a figure.
            import httpx

            httpx.get(f"{url}/api/v2/greets?limit=5&page=2", headers={"Authorization": "Bearer sandbox-api-key"}, trust_env=False, timeout=120).raise_for_status()
            yield e
        finally:
            stop(proc)


def stop(proc: subprocess.Popen) -> None:
    """End a child we started: SIGTERM, then SIGKILL after 10 s."""
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()

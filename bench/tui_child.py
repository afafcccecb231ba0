"""One headless run of a Textual app, in a fresh process: ``python -m bench.tui_child KIND MODE [ARG]``.

KIND ``ours`` starts the dashboard the way ``bonjoro-tui`` does (CLI parser, settings, session,
``BonjoroApp``), signed in; KIND ``bare`` is the floor: a Textual app with Header, Footer and one
Static; KIND ``bare-tick`` is that app with its Static given new text each second (a reference
for the idle figure: the least any live countdown costs). Both run ``App.run(headless=True, size=(120, 36))``.

**First painted frame**: the first time the compositor hands a finished frame of a screen that
has its Footer mounted to ``App._display`` (the headless driver then skips only the terminal
write). The same hook serves both kinds. The child prints one JSON line per event on stdout:

* ``startup``: ``{"painted": <time.time()>}`` then exits.
* ``idle SECONDS``: after the first paint, stays idle SECONDS and reports the CPU time it used
  in that window (``resource.getrusage``, all threads) and its peak RSS (VmHWM), then exits.
* ``explorer``: (ours only) opens the API explorer, sends ``GET /greets?limit=N`` (default 1200: about 5 MB) and reports
  time to the first frame showing the JSON tree, the longest event-loop stall while it loads
  (a probe task sleeping 5 ms at a time) and the memory growth.
"""

from __future__ import annotations

import json
import sys
import time

T0 = time.perf_counter()
KIND, MODE = sys.argv[1], sys.argv[2]
#: BENCH_PHASES=1 (``python -m bench.phases``): report where the start-up went, phase by phase.
PHASES = bool(__import__("os").environ.get("BENCH_PHASES"))
#: BENCH_PROFILE=FILE: cProfile the measured window (idle, explorer) into FILE (pstats format).
PROFILE = __import__("os").environ.get("BENCH_PROFILE")
ARG = float(sys.argv[3]) if len(sys.argv) > 3 else 0.0
#: BENCH_SLOW=1: in the explorer run, the main thread's CPU time of each event-loop callback (not
#: wall time: on a loaded machine the wall clock also counts time the process was not scheduled);
#: the longest ones are reported, named, as ``slow``. A profiling aid, not a figure.
SLOW = bool(__import__("os").environ.get("BENCH_SLOW"))
slow_callbacks: list[tuple[float, str]] = []
#: BENCH_SLOW's timeline of frames and collections (see watch_frames), and when the send was.
timeline: list[tuple[int, str]] = []
T_SEND = [time.perf_counter()]


def watch_callbacks() -> None:
    import asyncio.events

    run = asyncio.events.Handle._run

    def where(handle) -> str:  # type: ignore[no-untyped-def]
        """The task a callback resumes, and the innermost coroutine frame it was suspended in."""
        task = getattr(getattr(handle, "_callback", None), "__self__", None)
        if not isinstance(task, asyncio.Task):
            return repr(handle)[:200]
        coro, frames = task.get_coro(), []
        while coro is not None and getattr(coro, "cr_frame", None) is not None:
            code = coro.cr_frame.f_code
            frames.append(f"{code.co_qualname}:{coro.cr_frame.f_lineno}")
            timer = coro.cr_frame.f_locals.get("self") if code.co_qualname.startswith("Timer.") else None
            if timer is not None:  # a Timer: name what it calls (a frame, a countdown, …)
                callback = getattr(timer, "_callback", None)
                frames.append(f"[{timer.name}: {getattr(callback, '__qualname__', callback)}]")
            coro = getattr(coro, "cr_await", None)
        return " > ".join(frames[-3:]) or repr(task)[:200]

    def timed(handle):  # type: ignore[no-untyped-def]
        before = where(handle)
        started, wall = time.thread_time(), time.perf_counter()
        try:
            return run(handle)
        finally:
            spent, waited = time.thread_time() - started, time.perf_counter() - wall
            if spent > 0.010 or waited > 0.030:
                slow_callbacks.append((spent, f"wall {waited * 1000:.0f} ms: {before}"))

    asyncio.events.Handle._run = timed  # type: ignore[method-assign]
    watch_frames()


def watch_frames() -> None:
    """BENCH_SLOW's timeline (``timeline`` in the output, ms since the send): each layout of the
    screen with its CPU time, its reflow's, how many widgets it rendered and which changed; who
    asked for it (the widget, and our innermost frame); each collection of the older generations
    with its CPU time. Textual's compositor renders one rectangle around all changed regions: a
    layout that renders ~85 widgets had two changes far apart (issue 16, session 6)."""
    import gc
    import sys as _sys
    from collections import Counter

    from textual._compositor import Compositor
    from textual._styles_cache import StylesCache
    from textual.screen import Screen
    from textual.widget import Widget

    def at() -> int:
        return round((time.perf_counter() - T_SEND[0]) * 1000)

    collecting = [0.0]

    def on_gc(phase, info):  # type: ignore[no-untyped-def]
        if phase == "start":
            collecting[0] = time.thread_time()
        elif info["generation"] >= 1:
            timeline.append((at(), f"GC gen{info['generation']} {(time.thread_time() - collecting[0]) * 1000:.1f} ms, "
                                   f"{info['collected']} collected"))

    gc.callbacks.append(on_gc)

    refresh, relayout, reflow, render_widget = (
        Widget.refresh, Screen._refresh_layout, Compositor.reflow, StylesCache.render_widget)
    frame_counts: dict = {"reflow": 0.0, "rendered": [], "changed": None}

    def logged_refresh(self, *regions, layout=False, **kw):  # type: ignore[no-untyped-def]
        if layout and not self._layout_required:
            frame, caller = _sys._getframe(1), "Textual"
            while frame is not None:
                if "bonjoro_tui" in frame.f_code.co_filename:
                    caller = f"{frame.f_code.co_qualname}:{frame.f_lineno}"
                    break
                frame = frame.f_back
            timeline.append((at(), f"layout asked: {type(self).__name__}#{self.id} by {caller}"))
        return refresh(self, *regions, layout=layout, **kw)

    def timed_reflow(self, *args, **kw):  # type: ignore[no-untyped-def]
        started = time.thread_time()
        result = reflow(self, *args, **kw)
        frame_counts["reflow"] += time.thread_time() - started
        hidden, shown, resized = result
        frame_counts["changed"] = sorted(f"{type(w).__name__}#{w.id}" for w in resized | shown | hidden)[:8]
        return result

    def counted_render(self, widget, crop):  # type: ignore[no-untyped-def]
        frame_counts["rendered"].append(type(widget).__name__)
        return render_widget(self, widget, crop)

    def timed_layout(self, *args, **kw):  # type: ignore[no-untyped-def]
        started = time.thread_time()
        frame_counts.update(reflow=0.0, rendered=[], changed=None)
        try:
            return relayout(self, *args, **kw)
        finally:
            rendered = frame_counts["rendered"]
            timeline.append((at(), f"LAYOUT {(time.thread_time() - started) * 1000:.0f} ms (reflow "
                                   f"{frame_counts['reflow'] * 1000:.0f}; rendered {len(rendered)}: "
                                   f"{Counter(rendered).most_common(4)}; changed {frame_counts['changed']})"))

    Widget.refresh = logged_refresh  # type: ignore[method-assign]
    Screen._refresh_layout = timed_layout  # type: ignore[method-assign]
    Compositor.reflow = timed_reflow  # type: ignore[method-assign]
    StylesCache.render_widget = counted_render  # type: ignore[method-assign]


def emit(**data: object) -> None:
    sys.stdout.write(json.dumps(data) + "\n")
    sys.stdout.flush()


def make_app():
    if KIND in ("bare", "bare-tick"):
        from textual.app import App, ComposeResult
        from textual.widgets import Footer, Header, Static

        class Bare(App):
            def compose(self) -> ComposeResult:
                yield Header()
                yield Static("Hello from a bare Textual app")
                yield Footer()

            def on_mount(self) -> None:
                if KIND == "bare-tick":  # the least a live countdown costs: one label, new text each second
                    self.set_interval(1.0, self.tick)

            def tick(self) -> None:
                self.query_one(Static).update(f"expires in {int(3600 - time.time() % 3600)} s")

        return Bare(), None

    # As `bonjoro-tui` with no command does: its module first (cli/main.py, which decides what the
    # process loads), no subcommand parsers, the collector's start-up settings, then what
    # tui/launch.py's run_tui does before it runs the app.
    import bonjoro_tui.cli.main  # noqa: F401
    from bonjoro_tui.startup import freeze_when_started, pause_collector

    freeze_when_started()
    pause_collector()
    from bonjoro_tui.account.session import open_session
    from bonjoro_tui.settings import load_settings

    settings = load_settings(flags={})
    session = open_session(settings, keep_unsaved_tokens=True, announce=True, defer_sandbox=True)
    from bonjoro_tui.tui.app import BonjoroApp

    return BonjoroApp(session), session


def rss_kb(field: str = "VmRSS") -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def start_profile():  # type: ignore[no-untyped-def]
    if not PROFILE:
        return None
    import cProfile

    profiler = cProfile.Profile()
    profiler.enable()
    return profiler


def stop_profile(profiler) -> None:  # type: ignore[no-untyped-def]
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(PROFILE)


class Phases:
    """Wall time of each start-up phase, and inside a few Textual internals until the first frame."""

    def __init__(self) -> None:
        self.marks: list[tuple[str, float]] = []
        self.inside: dict[str, float] = {}
        self.stopped = False  # set at the first painted frame: what comes after is not start-up

    def mark(self, name: str) -> None:
        self.marks.append((name, time.perf_counter()))

    def add(self, name: str, seconds: float) -> None:
        if not self.stopped:
            self.inside[name] = self.inside.get(name, 0.0) + seconds

    def wrap(self, cls: type, method: str, name: str | None = None, by_source: bool = False) -> None:
        original = getattr(cls, method)
        phases = self

        def timed(*args, **kwargs):  # type: ignore[no-untyped-def]
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                label = name or method
                if by_source:  # Stylesheet._parse_rules(css, read_from, ...): read_from is (path, class attr)
                    path, attr = kwargs.get("read_from", args[2] if len(args) > 2 else ("", ""))
                    label = f"{label} {attr or str(path).rsplit('/', 1)[-1]}"
                phases.add(label, time.perf_counter() - started)

        setattr(cls, method, timed)

    def install(self) -> None:
        from textual._compositor import Compositor
        from textual.css.stylesheet import Stylesheet

        self.wrap(Stylesheet, "_parse_rules", "   CSS parse:", by_source=True)
        self.wrap(Stylesheet, "apply", "   styling: Stylesheet.apply (with the parses it triggers)")
        self.wrap(Stylesheet, "update_nodes", "   styling: Stylesheet.update_nodes")
        self.wrap(Compositor, "reflow", "   layout: Compositor.reflow")
        self.wrap(Compositor, "render_update", "   render: Compositor.render_update")

    def report(self) -> dict[str, float]:
        out: dict[str, float] = {}
        previous = T0
        for name, at in self.marks:
            out[name] = (at - previous) * 1000
            previous = at
        parses = {k: v for k, v in self.inside.items() if k.startswith("   CSS parse:")}
        out["   CSS parse: all sources"] = sum(parses.values()) * 1000
        for name, seconds in sorted(parses.items(), key=lambda kv: -kv[1])[:5]:
            out[name] = seconds * 1000
        for name, seconds in self.inside.items():
            if not name.startswith("   CSS parse:"):
                out[name] = seconds * 1000
        return out


def main() -> None:
    import resource

    phases = Phases()
    from textual.app import App

    if PHASES:
        from textual.widgets import Footer, Header, Static  # noqa: F401  (both kinds use them)

        phases.mark("1 import textual.app, Header, Footer, Static")
        phases.install()
    app, session = make_app()
    phases.mark("2 build the app (ours: CLI, settings, session, BonjoroApp)")
    painted: list[float] = []
    original = App._display

    def display(self, screen, renderable):  # type: ignore[no-untyped-def]
        original(self, screen, renderable)
        if not painted and renderable is not None and screen.query("Footer"):
            painted.append(time.time())
            if PHASES:
                phases.mark("3 App.run to the first painted frame")
                phases.stopped = True
                emit(phases=phases.report())
            on_first_paint(self)

    App._display = display  # type: ignore[method-assign]

    def cpu() -> float:
        r = resource.getrusage(resource.RUSAGE_SELF)
        return r.ru_utime + r.ru_stime

    def on_first_paint(app) -> None:  # type: ignore[no-untyped-def]
        if MODE == "startup":
            emit(painted=painted[0])
            # Not exit() here: the first frame of the status screen is painted while the app
            # is still composing (it is the default mode's screen), and an app that exits
            # inside its own compose fails to mount what it composes.
            app.call_after_refresh(app.exit)
        elif MODE == "idle":
            # Let the start-up settle (workers, the first /me) before the window opens.
            app.set_timer(1.0, lambda: start_idle(app))
        elif MODE == "explorer":
            app.call_later(lambda: app.run_worker(explore(app)))

    def start_idle(app) -> None:  # type: ignore[no-untyped-def]
        c0, t0 = cpu(), time.perf_counter()
        profiler = start_profile()

        def done() -> None:
            stop_profile(profiler)
            emit(cpu=cpu() - c0, wall=time.perf_counter() - t0, painted=painted[0], peak_kb=rss_kb("VmHWM"))
            app.exit()

        app.set_timer(ARG, done)

    async def explore(app) -> None:  # type: ignore[no-untyped-def]
        import asyncio

        from textual.widgets import Input

        from bonjoro_tui.tui.widgets.json_tree import JsonTree

        shown: dict[str, float] = {}
        show = JsonTree.show_document

        def show_document(tree, document, label="response"):  # type: ignore[no-untyped-def]
            show(tree, document, label)
            if "greets" in label:
                shown["document"] = time.perf_counter()
                tree.call_after_refresh(lambda: shown.setdefault("painted", time.perf_counter()))

        JsonTree.show_document = show_document  # type: ignore[method-assign]
        app.switch_mode("explorer")
        screen = app.screen
        while not getattr(screen, "history", None):  # the explorer sends GET /me when first opened
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.3)
        lags: list[float] = []
        at: list[float] = []
        stop = False

        async def probe() -> None:
            while not stop:
                t = time.perf_counter()
                await asyncio.sleep(0.005)
                lags.append(time.perf_counter() - t - 0.005)
                at.append(t)

        screen.query_one("#path", Input).value = "/greets"
        # BENCH_QUERY: another query (bench/bench_data.py: a 1,200-item page near the end).
        screen.query_one("#query", Input).value = __import__("os").environ.get("BENCH_QUERY") or f"limit={int(ARG) or 1200}"
        # As a user does: the path typed, its parameter fields built (Selects for /greets' enums:
        # a layout of their own), then Send. The figure is the response's cost, not the form's:
        # the probes start once the form is built.
        await asyncio.sleep(0.3)
        while screen._params_lock.locked():
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.2)
        rss0 = rss_kb()
        try:  # reset the peak (VmHWM) so that it measures this load alone (Linux >= 4.0)
            with open("/proc/self/clear_refs", "w") as f:
                f.write("5")
        except OSError:
            pass
        probe_task = asyncio.create_task(probe())
        # A Textual timer ticking every 10 ms inside the app: the longest gap between two ticks,
        # from the send until the contract check's verdict, is that figure's stall.
        ticks: list[float] = []
        ticker = app.set_interval(0.01, lambda: ticks.append(time.perf_counter()))
        await asyncio.sleep(0.05)
        profiler = start_profile()
        if SLOW:
            watch_callbacks()
        t0 = T_SEND[0] = time.perf_counter()
        screen.action_send()
        while "painted" not in shown:
            await asyncio.sleep(0.005)
            if time.perf_counter() - t0 > 30:
                break
        await asyncio.sleep(0.5)  # anything the first frame set off
        stop_profile(profiler)
        stop = True
        await probe_task
        # Then until the contract check (in a thread, after the tree) has its verdict.
        from bonjoro_tui.tui.widgets.response import ResponseView

        view = screen.query_one(ResponseView)
        while view.contract is None and time.perf_counter() - t0 < 120:
            await asyncio.sleep(0.01)
        checked = time.perf_counter()
        # and a while after it: the collector's full pass held back while a large body is shown
        # runs once its verdict's frame is drawn (bonjoro_tui.startup.hold_full_passes)
        await asyncio.sleep(0.3)
        ticker.stop()
        exchange = screen.history[-1]
        emit(
            first_paint=shown.get("painted", float("nan")) - t0,
            parsed=shown.get("document", float("nan")) - t0,
            stall=max(lags),
            worst=sorted(((round(lag * 1000), round((a - t0) * 1000)) for lag, a in zip(lags, at)), reverse=True)[:4],
            request=exchange.elapsed,
            rss_growth_kb=rss_kb() - rss0,
            peak_growth_kb=rss_kb("VmHWM") - rss0,
            bytes=len(exchange.content),
            status=exchange.status,
            contract_done=checked - t0,
            contract_checked=view.contract is not None,
            # after the tree's first frame (figure 7 covers the send to that frame): the Raw
            # tab's pretty text, then the contract check, both in threads, until the verdict
            contract_stall=max((b - a for a, b in zip(ticks, ticks[1:]) if a >= shown.get("painted", t0)),
                               default=float("nan")) - 0.01,
            stall_from_send=max((b - a for a, b in zip(ticks, ticks[1:]) if b > t0), default=float("nan")) - 0.01,
            **({"slow": [(round(cpu * 1000), what) for cpu, what in sorted(slow_callbacks, reverse=True)[:12]],
                "timeline": [entry for entry in timeline if 0 <= entry[0] < 2500],
                "visible": __import__("collections").Counter(
                    type(w).__name__ for w in screen._compositor.visible_widgets).most_common()}
               if SLOW else {}),
        )
        app.exit()

    try:
        app.run(headless=True, size=(120, 36))
    finally:
        if session is not None:
            session.close()


if __name__ == "__main__":
    main()

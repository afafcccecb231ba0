"""The ``bonjoro-tui`` entry point.

With no subcommand it launches the Textual dashboard; subcommands are headless and never
import Textual (a test checks this), so ``bonjoro-tui status --json`` starts fast.
Exit codes (``cli/exitcodes.py``): 0 success, 1 failure (one line on stderr), 2 usage error,
4 not signed in.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Sequence

# This module is the program (the console script and ``python -m bonjoro_tui`` start here), so
# it may decide what the process loads. httpx's package imports its own command-line tool
# (``httpx._main``) whenever click, rich and pygments are installed — and they are: uvicorn
# needs click, Textual needs rich. That tool costs ~20 ms and ~3.4 MiB and is never called
# here. A ``None`` in ``sys.modules`` makes that one import raise ImportError, which httpx
# catches (it then defines a ``main`` that asks for ``httpx[cli]``); nothing else of httpx
# changes. ``setdefault``: if httpx's tool is already loaded (an embedding program), keep it.
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]

from bonjoro_tui.cli.parser import UsageExit, build_parser  # noqa: E402 - after the line above, on purpose


def main(argv: Sequence[str] | None = None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    parser = None
    if not words:
        # `bonjoro-tui` alone: the dashboard, with what parse_args([]) gives (a test holds the two
        # equal), without building the parsers of the fifteen subcommands first (~5 ms).
        args = argparse.Namespace(command=None)
    else:
        parser = build_parser()
        try:
            args = parser.parse_args(words)
        except UsageExit as exc:  # argparse has printed the usage and the message (exit 2)
            options = words[: words.index("--")] if "--" in words else words  # not exec's command's own
            return _usage_error(exc, json_wanted="--json" in options)
        except SystemExit as exc:  # argparse exits 0 on --help/--version
            return int(exc.code or 0)
    for name in ("profile", "debug"):
        if not hasattr(args, name):
            setattr(args, name, None)

    if args.command == "sandbox":
        from bonjoro_tui.sandbox.cli import run_sandbox_command

        return run_sandbox_command(_of_the_data_dir(args))
    if args.command == "completion":
        from bonjoro_tui.cli.completion import print_completion

        assert parser is not None  # a subcommand was named
        return print_completion(parser, args.shell)
    if args.command is None:
        # The dashboard's start-up (its imports included) runs without full passes of the garbage
        # collector; the app resumes them once started (bonjoro_tui.startup).
        from bonjoro_tui.startup import freeze_when_started, pause_collector, resume_collector

        freeze_when_started()
        pause_collector()
        try:
            from bonjoro_tui.tui.launch import run_tui

            return run_tui(args)
        finally:
            resume_collector()  # (already resumed, unless the app never started)
    from bonjoro_tui.cli.commands import run_command

    return run_command(args)


def _of_the_data_dir(args: argparse.Namespace) -> argparse.Namespace:
    """``bonjoro-tui sandbox`` is the data directory's sandbox: its state file by default, and
    announced there (``sandbox/running.json``) so the commands and dashboards of that data
    directory use it. With ``--state-file`` naming another file it is a sandbox of its own."""
    from bonjoro_tui import locations
    from bonjoro_tui.settings import best_effort_dirs  # the data dir never comes from a .env

    data_dir = best_effort_dirs()["data_dir"]
    own = locations.sandbox_state_file(data_dir)
    if args.state_file is None:
        args.state_file = str(own)
    args.announce = args.preferred_port = None
    if Path(args.state_file).absolute() == own.absolute():
        args.announce = locations.sandbox_announce_file(data_dir)
        from bonjoro_tui.account.sandbox import find_running, read_port

        args.preferred_port = read_port(locations.sandbox_port_file(data_dir))

        running = find_running(args.announce)
        if running is not None:
            print(f"bonjoro-tui sandbox: a sandbox already runs for this data directory at {running.url} "
                  f"(pid {running.pid}); commands started from now on use this new one", file=sys.stderr)
    return args


def _usage_error(exc: UsageExit, *, json_wanted: bool) -> int:
    """With ``--json`` on the command line, the usage error as JSON on stdout too."""
    from bonjoro_tui.cli.exitcodes import EXIT_USAGE

    if json_wanted:
        from bonjoro_tui.safetext import safe_json_dumps

        print(safe_json_dumps({"error": {"message": exc.message, "hint": f"see `{exc.prog} --help`",
                                         "exit_code": EXIT_USAGE, "type": "UsageError"}}))
    return EXIT_USAGE


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

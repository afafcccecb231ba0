#!/usr/bin/env python3
"""Save an SVG of each screen of the dashboard, driven against the real core and the sandbox.

    make screenshots            # or: .venv/bin/python scripts/screenshots.py [--size 120x36] [--text]

Uses the same scripted walks as the snapshot tests (tests/tui/scenes.py): a fixed clock, fixed
ports and fixed PKCE values, so the files change only when the UI does. Writes screenshots/NAME.svg
and refuses to keep a file that shows a token or secret.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

#: Which scenes make the README's pictures, in order.
SHOTS = [
    "status_signed_in",
    "login_choose",
    "login_waiting",
    "login_done",
    "login_denied",
    "explorer_me",
    "explorer_catalog",
    "explorer_network_error",
    "explorer_request_builder",
    "explorer_body_check",
    "explorer_contract_differences",
    "token_inspector",
    "profiles",
    "help",
]


def _isolate() -> None:
    """Nothing from the user's own config, tokens or browser takes part."""
    for key in list(os.environ):
        if key.startswith("BONJORO_") or key in {"REDIRECT_URI", "BROWSER"}:
            del os.environ[key]
    home = Path(tempfile.mkdtemp(prefix="bonjoro-shots-"))
    os.environ["BONJORO_TUI_CONFIG_DIR"] = str(home / "config")
    os.environ["BONJORO_TUI_LOG_DIR"] = str(home / "logs")
    os.chdir(home)


async def _shoot(name: str, size: tuple[int, int], out: Path, text: bool) -> None:
    from tui.conftest import start_session
    from tui.fakes import Clock
    from tui.scenes import CALLBACK_PORT, DATA_DIR, SANDBOX_PORT, SCENES, build_app
    from tui.screen import screen_text
    from tui.secrets_scan import assert_no_secrets, issued_secrets

    shutil.rmtree(Path(DATA_DIR).parent, ignore_errors=True)
    os.environ["BONJORO_TUI_DATA_DIR"] = DATA_DIR
    clock = Clock()
    session = start_session(clock, sandbox_port=SANDBOX_PORT, callback_port=CALLBACK_PORT)
    try:
        app = build_app(session, clock)
        async with app.run_test(size=size) as pilot:
            await SCENES[name](pilot)
            svg = app.export_screenshot(title=f"bonjoro-tui — {name.replace('_', ' ')}")
            assert_no_secrets(svg, issued_secrets(session))
            if text:
                print(f"== {name}\n{screen_text(app)}")
        (out / f"{name}.svg").write_text(svg, encoding="utf-8")
    finally:
        await session.http.aclose()
        session.close()
        shutil.rmtree(Path(DATA_DIR).parent, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="120x36", help="terminal size, WIDTHxHEIGHT (default 120x36)")
    parser.add_argument("--out", default=str(ROOT / "screenshots"), help="folder for the SVGs")
    parser.add_argument("--text", action="store_true", help="also print each screen as plain text")
    parser.add_argument("scenes", nargs="*", default=SHOTS, help="which scenes (default: all)")
    args = parser.parse_args(argv)
    width, height = (int(n) for n in args.size.lower().split("x"))
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    _isolate()
    from tui.scenes import demo_lock, fixed_randomness

    for name in args.scenes:
        with demo_lock(), fixed_randomness():  # the same sequence for each scene, whichever ran before
            asyncio.run(_shoot(name, (width, height), out, args.text))
        print(f"saved {out / (name + '.svg')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The command line: a thin front end over the application layer (``bonjoro_tui.account``).

- ``main.py``: the entry point (``bonjoro-tui``, ``python -m bonjoro_tui``); the dashboard with no
  subcommand.
- ``parser.py``: the argparse parser.
- ``commands.py``: the subcommands, rendering the application layer's results as text or JSON.
- ``exitcodes.py``: 0 ok, 1 failure, 2 usage, 4 not signed in.
"""

from bonjoro_tui.cli.main import main

__all__ = ["main"]

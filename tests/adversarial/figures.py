"""The suite's figures, printed by the terminal-summary hook in conftest.py (and pasted into
docs/SECURITY.md). Tests record what they measured; nothing here is hard-coded."""

from __future__ import annotations

from collections import OrderedDict

FIGURES: "OrderedDict[str, object]" = OrderedDict()


def add(name: str, n: int = 1) -> None:
    FIGURES[name] = int(FIGURES.get(name, 0)) + n  # type: ignore[arg-type]


def put(name: str, value: object) -> None:
    FIGURES[name] = value


def keep_max(name: str, value: int) -> None:
    FIGURES[name] = max(int(FIGURES.get(name, value)), value)  # type: ignore[arg-type]

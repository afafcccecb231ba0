"""``--jq EXPR``: the jq language itself (the ``jq`` package, bindings to libjq), imported only
when a filter is asked for."""

from __future__ import annotations

from typing import Any

from bonjoro_tui.errors import BonjoroError


class JqError(BonjoroError):
    """A jq expression that does not compile (``usage``: the command line is wrong), or that
    failed on its input."""

    usage = False


class JqFilter:
    def __init__(self, expression: str) -> None:
        import jq  # type: ignore[import-not-found]  # no type information shipped; lazy: libjq loads only to filter

        self.expression = expression
        try:
            self._program = jq.compile(expression)
        except ValueError as exc:
            error = JqError(f"--jq {expression!r}: {_first_line(exc)}")
            error.usage = True
            raise error from None

    def apply(self, value: Any) -> list[Any]:
        """Every output of the filter for ``value`` (a parsed JSON document)."""
        try:
            return list(self._program.input_value(value).all())
        except ValueError as exc:
            raise JqError(f"--jq {self.expression!r} failed: {_first_line(exc)}") from None


def _first_line(exc: Exception) -> str:
    """libjq's first line, without its "jq: error: " prefix and the colon that introduced the
    source excerpt on the next lines ("… at <top-level>, line 1, column 7:"), which is not shown."""
    lines = str(exc).strip().splitlines()
    if not lines:
        return type(exc).__name__
    line = lines[0].strip()
    if line.startswith("jq: error: "):
        line = line[len("jq: error: "):]
    line = line.replace(" at <top-level>, ", " at ")
    return line[:-1] if line.endswith(":") else line

"""Scrolling widgets that repaint their scrollbars only when a size has changed.

Textual (8.2.8, pinned) calls ``ScrollView._size_updated`` on every layout of the screen with
the widget's *viewport* as ``virtual_size``; ``ScrollView`` compares that with its own virtual
size (its content's), which differs whenever the content overflows, so every layout of the screen
repaints the scrollbars of every scrolled tree. That alone is cheap, but the compositor repaints
one rectangle around all of a frame's changed regions: the catalog's full-height scrollbar on the
left and the response below made that rectangle the whole request pane, ~85 widgets and 20–35 ms
of CPU per frame while a large response was being shown (docs/PERFORMANCE.md, session 6).

``SteadyScrollbars`` passes the call on only when the widget's size, its content's size or its
container's size differs from the last one it passed on. A change of content size is handled by
Textual anyway (``virtual_size`` is reactive and updates the scrollbars when it is set).
"""

from __future__ import annotations

from typing import Any

from textual.geometry import Size


class SteadyScrollbars:
    """Mix in before a ``ScrollView`` subclass (e.g. ``class T(SteadyScrollbars, Tree)``)."""

    _steady_sizes: tuple[Size, Size, Size] | None = None

    def _size_updated(self, size: Size, virtual_size: Size, container_size: Size, layout: bool = True) -> bool:
        sizes = (size, self.virtual_size, container_size)  # type: ignore[attr-defined]
        if sizes == self._steady_sizes:
            return False  # what ScrollView answers when neither size nor container changed
        self._steady_sizes = sizes
        resized: Any = super()._size_updated(size, virtual_size, container_size, layout)  # type: ignore[misc]
        return bool(resized)

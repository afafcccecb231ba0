"""Server text on screen: the TUI's one call for any string that did not come from this code.

:func:`plain` escapes the value with :func:`bonjoro_tui.safetext.safe_text` (control characters,
escape sequences and bidi overrides shown visibly) and wraps it in a Textual ``Content`` built
directly from the string, so nothing in it is ever parsed as markup: ``[@click=…]`` or ``[/x]``
in a user name is just those characters, cannot run an action and cannot raise ``MarkupError``.

:func:`template` mixes our own markup with server values: the template is markup written in
this code base, every ``$name`` variable is substituted as literal text (Textual's content
template variables are never parsed), after going through :func:`safe_text` too.

:func:`rich_plain` is the same for Rich renderables (tables, ``Text`` built piece by piece):
a ``rich.text.Text`` of the escaped value (``Text`` never parses markup; a ``str`` table cell would).

:func:`notice` is the string to hand to ``notify(..., markup=False)``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypedDict

from rich.style import Style
from rich.text import Text
from textual.content import Content

from bonjoro_tui.safetext import safe_text

if TYPE_CHECKING:
    from typing import Unpack

    from rich.console import JustifyMethod, OverflowMethod
    from rich.text import Span


class TextOptions(TypedDict, total=False):
    """The keyword arguments of ``rich.text.Text`` after ``style``."""

    justify: JustifyMethod | None
    overflow: OverflowMethod | None
    no_wrap: bool | None
    end: str
    tab_size: int | None
    spans: list[Span] | None

__all__ = ["notice", "plain", "rich_plain", "template"]


def plain(value: object, *, multiline: bool = False, limit: int | None = None) -> Content:
    """``value`` as ``Content`` with no markup parsed and every unsafe character escaped.

    A ``Content`` passed in is returned as it is (it was built by this code, e.g. by
    :func:`plain` or :func:`template`), so widgets can call ``plain`` on whatever they get.
    """
    if isinstance(value, Content):
        return value
    return Content(safe_text(value, multiline=multiline, limit=limit))


def template(markup: str, /, **values: object) -> Content:
    """Our own ``markup`` with each ``$name`` replaced by ``values[name]`` as plain, safe text.

    ``markup`` must be a literal of this code base; never pass server text as ``markup``.
    """
    values = {name: plain(value) for name, value in values.items()}
    return Content.from_markup(markup, **values)  # safe-text: the lint checks every template() call's markup


def rich_plain(
    value: object,
    style: str | Style = "",
    *,
    multiline: bool = False,
    limit: int | None = None,
    **kwargs: Unpack[TextOptions],
) -> Text:
    """``value`` as a Rich ``Text`` (no markup, unsafe characters escaped) in ``style``.

    A ``Text`` passed in is returned as it is (built by this code). ``kwargs`` go to ``Text``
    (``overflow``, ``no_wrap``, ...).
    """
    if isinstance(value, Text):
        return value
    return Text(safe_text(value, multiline=multiline, limit=limit), style=style, **kwargs)


def notice(value: object, *, limit: int | None = None) -> str:
    """``value`` for a notification: escaped; pass it with ``markup=False``."""
    return safe_text(value, multiline=True, limit=limit)

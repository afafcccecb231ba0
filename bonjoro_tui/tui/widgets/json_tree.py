"""A JSON document as a collapsible tree whose children are built only when a node is expanded.

A container node holds its value in ``node.data``; expanding it adds at most ``CHUNK`` children
and, when more remain, a "… N more" node that adds the next chunk when selected. A response of
many megabytes therefore costs a handful of nodes until the user digs into it.

Keys and values come from a server: every label is a Rich ``Text`` built from plain strings
(the Tree parses a ``str`` label as markup, so none is ever given one), with keys escaped by
:func:`~bonjoro_tui.safetext.safe_text` and string values written by
:func:`~bonjoro_tui.safetext.safe_json_dumps`: control characters, escape sequences and bidi
overrides appear as visible escapes, ``[@click=…]`` as those characters.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from bonjoro_tui.safetext import safe_json_dumps, safe_text
from bonjoro_tui.tui.widgets.steady import SteadyScrollbars

CHUNK = 200
PREVIEW = 60
#: An object in an array is previewed by its id and the first of the other fields found here.
ID_FIELDS: tuple[str, ...] = ("id", "uuid")
PREVIEW_FIELDS: tuple[str, ...] = ("name", "title", "email", "subject", "first_name", "address", "status", "type", "key", "slug")
#: A previewed value is cut to this many characters.
FIELD_PREVIEW = 40  # a UUID whole
#: A key longer than this is cut (a label is one line; a megabyte key would still be laid out).
KEY_LIMIT = 200


@dataclass(repr=False)
class Lazy:
    """What a node stands for: a container (loaded or not), a scalar, or a 'more' placeholder."""

    value: Any
    loaded: bool = False
    more_from: int | None = None  # set on a "… N more" node: the index to continue from
    parent_value: Any = None
    key: str | int | None = None  # where it sits in its parent (None: the root, or a scalar body)


def _scalar(value: Any) -> Text:
    if isinstance(value, str):
        shown = value if len(value) <= PREVIEW else value[:PREVIEW] + "…"
        return Text(safe_json_dumps(shown), style="green")
    if value is None or isinstance(value, bool):
        return Text(safe_json_dumps(value), style="magenta italic")
    return Text(str(value), style="cyan")


def _summary(value: Any) -> Text:
    if isinstance(value, dict):
        return Text(f"{{}} {len(value)} key{'s' if len(value) != 1 else ''}", style="dim")
    return Text(f"[] {len(value)} item{'s' if len(value) != 1 else ''}", style="dim")


def _preview(item: dict[str, Any]) -> Text:
    """What tells one item of a list from the others: its id and a name-like field."""
    text = Text()
    fields = [name for name in ID_FIELDS if name in item][:1] + [name for name in PREVIEW_FIELDS if name in item][:1]
    for name in fields:
        value = item[name]
        if isinstance(value, (dict, list)):
            continue
        if isinstance(value, str) and len(value) > FIELD_PREVIEW:
            value = value[:FIELD_PREVIEW] + "…"
        text.append("  " + safe_text(name) + " ", style="dim")
        text.append(safe_json_dumps(value), style="dim italic")
    return text


def _label(key: str | int | None, value: Any) -> Text:
    text = Text()
    if key is not None:
        text.append(safe_text(key, limit=KEY_LIMIT) if isinstance(key, str) else f"[{key}]", style="bold")
        text.append(": ")
    text.append_text(_summary(value) if isinstance(value, (dict, list)) else _scalar(value))
    if isinstance(key, int) and isinstance(value, dict):
        text.append_text(_preview(value))
    return text


class JsonTree(SteadyScrollbars, Tree[Lazy]):
    DEFAULT_CSS = """
    JsonTree { background: $surface; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(Text("(no response yet)", style="dim"), Lazy(None, loaded=True), **kwargs)
        self.show_root = True

    def show_document(self, document: Any, label: str = "response") -> None:
        """Replace the tree with ``document`` (already parsed); only the root level is built."""
        self.clear()
        self.root.set_label(_label(label, document) if isinstance(document, (dict, list)) else Text(safe_text(label)))
        self.root.data = Lazy(document)
        if isinstance(document, (dict, list)):
            self.root.allow_expand = True
            self._load(self.root)
            self.root.expand()
        else:
            self.root.allow_expand = False
            self.root.add_leaf(_scalar(document), Lazy(document, loaded=True))
            self.root.expand()

    def expand_key(self, key: str) -> None:
        """Expand the root's child for ``key`` (e.g. the "error" object of an error response)."""
        document = self.root.data.value if self.root.data else None
        if not isinstance(document, dict) or key not in document:
            return
        for child in self.root.children:
            if child.data is not None and child.data.value is document[key] and child.allow_expand:
                child.expand()
                return

    def value_at_cursor(self) -> tuple[str, Any] | None:
        """(where, value) of the node under the cursor — ``data[3].name`` — or None when the
        cursor is on no value (a message, a "… more" node)."""
        node = self.cursor_node
        if node is None or node.data is None or node.data.more_from is not None:
            return None
        if node is self.root and node.data.value is None and not node.allow_expand:
            return None  # a message, or a body that was not a tree
        value = node.data.value
        parts: list[str] = []
        while node is not None and node.data is not None:
            key = node.data.key
            if key is not None:
                parts.append(f"[{key}]" if isinstance(key, int) else f".{key}")
            node = node.parent
        return "".join(reversed(parts)).lstrip(".") or "(body)", value

    def show_message(self, message: str, style: str = "dim") -> None:
        self.clear()
        self.root.set_label(Text(safe_text(message, limit=300), style=style))
        self.root.data = Lazy(None, loaded=True)

    def _load(self, node: TreeNode[Lazy], start: int = 0) -> None:
        lazy = node.data
        if lazy is None or lazy.loaded and start == 0:
            return
        value = lazy.value
        items = list(value.items()) if isinstance(value, dict) else list(enumerate(value))
        end = min(len(items), start + CHUNK)
        for key, child in items[start:end]:
            if isinstance(child, (dict, list)) and child:
                node.add(_label(key, child), Lazy(child, key=key), allow_expand=True)
            else:
                node.add_leaf(_label(key, child), Lazy(child, loaded=True, key=key))
        if end < len(items):
            more = Text(f"… {len(items) - end} more (select to show)", style="italic dim")
            node.add_leaf(more, Lazy(None, loaded=True, more_from=end, parent_value=value))
        lazy.loaded = True

    def on_tree_node_expanded(self, event: Tree.NodeExpanded[Lazy]) -> None:
        if event.node.data is not None and not event.node.data.loaded:
            self._load(event.node)

    def on_tree_node_selected(self, event: Tree.NodeSelected[Lazy]) -> None:
        lazy = event.node.data
        if lazy is None or lazy.more_from is None or event.node.parent is None:
            return
        parent = event.node.parent
        start, lazy.more_from = lazy.more_from, None  # a second select of the same node does nothing
        event.node.remove()
        self._load(parent, start=start)


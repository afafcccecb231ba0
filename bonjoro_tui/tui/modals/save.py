"""Save a response body to a file: a path prompt, and a second press to overwrite.

The file is written the way bonjoro-tui writes its own (``files.py``): a new file is created
``O_CREAT | O_EXCL | O_NOFOLLOW`` with mode 0600, so an existing name — a symbolic link
included — is never written through; the user is asked first, and an overwrite replaces the
file atomically (``write_private_atomic``), refusing a symbolic link, anything but a regular
file and a file of another user. This is the way out for bodies too big for the terminal's
clipboard.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from bonjoro_tui import files
from bonjoro_tui.account.format import size
from bonjoro_tui.tui.text import rich_plain
from bonjoro_tui.tui.widgets.fields import TextField


def write_body(path: Path, data: bytes, *, overwrite: bool) -> None:
    """Write ``data`` to ``path`` (0600, no link followed); ``FileExistsError`` when the name is
    taken and ``overwrite`` is false."""
    if overwrite:
        files.write_private_atomic(path, data, label="file")
        return
    fd = files.open_private(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, label="file")
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def resolve(value: str) -> Path:
    """The path the user typed: ``~`` expanded, relative to the working directory."""
    path = Path(os.path.expanduser(value.strip()))
    return path if path.is_absolute() else Path.cwd() / path


class SaveBodyScreen(ModalScreen["Path | None"]):
    """Asks where to save; dismisses with the path written, or None when cancelled."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="save.cancel")]
    DEFAULT_CSS = """
    SaveBodyScreen { align: center middle; }
    #save-dialog { width: 76; max-width: 95%; height: auto; border: round $accent;
                   border-title-color: $text-accent; background: $surface; padding: 0 1; }
    #save-path { margin: 1 0 0 0; }
    #save-note { margin: 1 0; height: auto; }
    #save-buttons { height: 1; }
    #save-buttons Button { margin: 0 1 0 0; width: auto; min-width: 0; padding: 0 1; }
    """

    def __init__(self, data: bytes, suggested: str) -> None:
        super().__init__()
        self.data = data
        self.suggested = suggested
        #: The path the user agreed to overwrite (a second Save on the same name).
        self._overwrite: Path | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="save-dialog"):
            yield Static(Text(f"Save the body ({size(len(self.data))}) to a file, readable by you only (0600)."),
                         id="save-title")
            yield TextField(value=self.suggested, id="save-path", compact=True)
            yield Static(Text("A relative path is relative to the directory bonjoro-tui was started in.", style="dim"),
                         id="save-note")
            with Horizontal(id="save-buttons"):
                yield Button("Save", id="save-ok", variant="primary", compact=True)
                yield Button("Cancel", id="save-cancel", compact=True)

    def on_mount(self) -> None:
        self.query_one("#save-dialog").border_title = "Save body"
        field = self.query_one("#save-path", Input)
        field.focus()
        field.cursor_position = len(field.value)

    @on(Input.Changed, "#save-path")
    def _path_changed(self, event: Input.Changed) -> None:
        if self._overwrite is not None:
            self._overwrite = None
            self._label("Save")
            self._note(Text("A relative path is relative to the directory bonjoro-tui was started in.", style="dim"))

    @on(Input.Submitted, "#save-path")
    async def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        await self.save()

    @on(Button.Pressed, "#save-ok")
    async def _save_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        await self.save()

    @on(Button.Pressed, "#save-cancel")
    def _cancel_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_cancel()

    def action_cancel(self) -> None:
        self.dismiss(None)

    def _label(self, label: str) -> None:
        """The Save button's label; its width follows (a Button's label does not re-lay it out:
        "Overwrite" was cut to the width of "Save")."""
        button = self.query_one("#save-ok", Button)
        button.label = rich_plain(label)
        button.refresh(layout=True)

    def _note(self, text: Text) -> None:
        self.query_one("#save-note", Static).update(text)

    async def save(self) -> None:
        value = self.query_one("#save-path", Input).value
        if not value.strip():
            self._note(Text("Type a file name first.", style="yellow"))
            return
        path = resolve(value)
        overwrite = self._overwrite == path
        try:
            await asyncio.to_thread(write_body, path, self.data, overwrite=overwrite)
        except FileExistsError:
            self._overwrite = path
            self._label("Overwrite")
            note = Text()
            note.append_text(rich_plain(str(path), "bold"))
            note.append(" exists. Press Overwrite to replace it, or change the name.", style="yellow")
            self._note(note)
            return
        except IsADirectoryError:
            self._note(rich_plain(f"{path} is a directory: add a file name.", "red"))
            return
        except OSError as exc:  # UnsafePathError (a link, not ours), permissions, a missing directory
            reason = str(exc) if isinstance(exc, files.UnsafePathError) else (exc.strerror or str(exc))
            self._note(rich_plain(f"Not saved: {path}: {reason}", "red"))
            self._overwrite = None
            self._label("Save")
            return
        self.dismiss(path)

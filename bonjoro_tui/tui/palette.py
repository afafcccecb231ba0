"""Command-palette provider: the app's actions (filtered by what makes sense right now), every
explorer action, every endpoint of the catalog ("GET /users/{user_id}": opens it in the explorer's
request builder) and every saved request (sends it again).

The catalog and the explorer are imported when the palette is first searched, never at start-up.
"""

from __future__ import annotations

from functools import partial
from typing import Any, Callable, Iterator

from textual.command import DiscoveryHit, Hit, Hits, Provider

#: (name, help, callback) of one palette entry.
Command = tuple[str, str, Callable[[], Any]]


def _explorer(app: Any) -> Any:
    """The explorer screen when it is the one shown, else None."""
    screen = app.screen
    return screen if type(screen).__name__ == "ExplorerScreen" else None


def _in_explorer(app: Any, do: Callable[[Any], Any]) -> None:
    """Run ``do(explorer)`` on the explorer, switching to it first when another screen is shown."""
    screen = _explorer(app)
    if screen is not None:
        result = do(screen)
        if hasattr(result, "__await__"):
            screen.run_worker(result, group="palette")
        return
    app.switch_mode("explorer")

    def later() -> None:
        shown = _explorer(app)
        if shown is not None:
            outcome = do(shown)
            if hasattr(outcome, "__await__"):
                shown.run_worker(outcome, group="palette")

    app.call_after_refresh(later)


def _method(name: str) -> Callable[[Any], Any]:
    return lambda screen: getattr(screen, name)()


class BonjoroCommands(Provider):
    _saved_names: list[tuple[str, str]] = []

    async def startup(self) -> None:
        """When the palette opens: the saved requests (from the explorer, else from the file)."""
        explorer = _explorer(self.app)
        workspace = getattr(explorer, "workspace", None)
        if workspace is None and hasattr(self.app, "settings"):
            import asyncio

            from bonjoro_tui.account.history import History

            workspace = History(self.app.settings.data_dir)
            await asyncio.to_thread(workspace.load)
        self._saved_names = [(e.name or "", f"{e.method} {e.path}") for e in (workspace.saved if workspace else [])]

    def _commands(self) -> Iterator[Command]:
        app = self.app
        commands = getattr(app, "palette_commands", None)
        for name, help_text, action in commands() if commands else []:
            yield name, help_text, partial(app.run_action, action)
        # The explorer's own actions (its module is imported only once it has been shown).
        for name, help_text, method in EXPLORER_ACTIONS:
            yield f"Explorer: {name}", help_text, partial(_in_explorer, app, _method(method))
        for saved, request in self._saved_names:
            yield f"Saved: {saved} — {request}", "Send this saved request again", partial(_in_explorer, app, _saved(saved))
        try:
            from bonjoro_tui.api.catalog import load_catalog

            endpoints = load_catalog()
        except Exception:  # the explorer says why the catalog is missing
            endpoints = []
        for ep in endpoints:
            yield (f"{ep.method} {ep.path}", f"Open in the request builder: {ep.summary}"[:100],
                   partial(_in_explorer, app, _open(ep)))

    async def discover(self) -> Hits:
        for name, help_text, callback in self._commands():
            if not name.startswith(("GET ", "POST ", "PUT ", "PATCH ", "DELETE ")):  # 130 endpoints: search them
                yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, callback in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)


def _open(ep: Any) -> Callable[[Any], Any]:
    return lambda screen: screen.open_endpoint(ep)


def _saved(name: str) -> Callable[[Any], Any]:
    return lambda screen: screen.run_saved(name)


#: Every explorer action: (name, help, the ExplorerScreen method that does it).
EXPLORER_ACTIONS: list[tuple[str, str, str]] = [
    ("Send request", "Send the request built in the explorer", "action_send"),
    ("Re-run from history", "Send the highlighted history entry again", "action_rerun"),
    ("Save request", "Name the highlighted history entry (a saved request)", "action_save_request"),
    ("Show history", "Search the history and saved requests", "action_show_history"),
    ("Example body", "Build the example body again from the request schema", "action_example_body"),
    ("Check body", "Check the body against the request schema", "action_check_body"),
    ("Edit body in $EDITOR", "Open the body in your editor", "action_edit_body"),
    ("Larger body editor", "Give the request tabs most of the screen (again: back)", "action_toggle_large"),
    ("Toggle retries", "Retry 429/503 answers, or show them as they come", "toggle_retry"),
    ("Copy body", "Copy the response body", "action_copy_body"),
    ("Copy as curl", "Copy the request as a curl command", "action_copy_curl"),
    ("Filter endpoints", "Search the catalog", "action_focus_filter"),
]

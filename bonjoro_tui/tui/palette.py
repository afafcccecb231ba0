"""Command-palette provider: the app's actions, filtered by what makes sense right now."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider


class BonjoroCommands(Provider):
    def _commands(self) -> list[tuple[str, str, str]]:
        commands = getattr(self.app, "palette_commands", None)
        return commands() if commands else []

    async def discover(self) -> Hits:
        for name, help_text, action in self._commands():
            yield DiscoveryHit(name, partial(self.app.run_action, action), help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, action in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), partial(self.app.run_action, action), help=help_text)

"""The builder's keys as command-palette entries (ctrl+p): what the footer has no room for at 80
columns can be found by name ("dropout", "save", "move up") and run from there."""

from __future__ import annotations

from functools import partial
from typing import Iterator

from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.dom import DOMNode

from ..widgets.layers import LayerTable


class BuilderCommands(Provider):
    """A palette command for each named key of the builder screen and its layer table."""

    def _commands(self) -> Iterator[tuple[str, str, partial]]:
        screen = self.screen
        nodes: list[DOMNode] = [*screen.query(LayerTable), screen]
        for node in nodes:
            for binding in type(node).BINDINGS:
                if not isinstance(binding, Binding) or not binding.description or binding.key == "escape":
                    continue
                key = binding.key_display or binding.key.split(",")[0]
                help_text = f"{binding.tooltip or binding.description} (key {key}, in the builder)"
                yield binding.description, help_text, partial(self.app.run_action, binding.action, node)

    async def discover(self) -> Hits:
        for name, help_text, run in self._commands():
            yield DiscoveryHit(name, run, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, run in self._commands():
            score = max(matcher.match(name), matcher.match(help_text) * 0.5)
            if score > 0:
                yield Hit(score, matcher.highlight(name), run, help=help_text)

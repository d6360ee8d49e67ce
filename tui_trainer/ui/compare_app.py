"""``tui-trainer compare a b ...``: a small app that shows only the compare screen."""

from __future__ import annotations

from typing import Optional, Sequence

from textual.app import App
from textual.binding import Binding
from textual.screen import Screen

from ..compare import ComparedRun
from .base import screenshot_folder
from .screens.compare import CompareScreen


class CompareApp(App):
    """Show :class:`CompareScreen` for ``runs`` (as :func:`tui_trainer.compare.load_runs` returns them).

    The screen is the app's default screen, so ``q`` quits (there is nothing to go back to).
    """

    TITLE = "tui-trainer"
    BINDINGS = [Binding("q", "quit", "Quit")]

    def __init__(self, runs: Sequence[ComparedRun], metric: str = "val_loss", reading: str = "",
                 facts: Sequence = ()) -> None:
        super().__init__()
        self.runs = list(runs)
        self.metric = metric
        self.reading = reading
        self.facts = tuple(facts)

    def get_default_screen(self) -> Screen:
        return CompareScreen(self.runs, self.metric, reading=self.reading, facts=self.facts)

    def deliver_screenshot(self, filename: Optional[str] = None, path: Optional[str] = None,
                           time_format: Optional[str] = None) -> Optional[str]:
        """The palette's screenshot where the monitor's goes: ``~/Downloads``, else the default runs folder,
        else the current one (Textual alone fails where ``~/Downloads`` is missing, usual over SSH)."""
        return super().deliver_screenshot(filename, path or str(screenshot_folder(self)), time_format)

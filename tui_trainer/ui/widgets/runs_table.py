"""The workspace's table of runs: the columns that fit, a screenful of rows first, rows updated in place."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Optional, Sequence

from textual.widgets import DataTable

from ...runs import RunInfo
from .runs_pane import COLUMNS, column_widths, columns_for, mark_cell, row_cells

FIRST_ROWS = 60  # rows added before the first draw: more than a screenful on any terminal

ColorOf = Callable[[Path], Optional[str]]  # a run's overlay colour, None when it is not selected


class RunsTable(DataTable):
    """Runs, one a row keyed by its folder, in the columns :func:`columns_for` picks for the width.

    Args:
        color_of: A run's overlay colour (the mark column draws its check in it), None if not selected.
    """

    def __init__(self, color_of: ColorOf, **kwargs) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self.color_of = color_of
        self.keys: list[str] = []
        """The keys of the columns shown."""
        self.widths: dict[str, int] = column_widths([])
        self.infos: list[RunInfo] = []
        self._fills = 0  # each fill of the table: rows of an older one are not added

    def fill(self, infos: list[RunInfo], widths: Optional[dict[str, int]] = None,
             current: Optional[Path] = None) -> None:
        """Show ``infos`` (in order), the cursor back on ``current``; ``widths``: :func:`column_widths`."""
        self.infos = infos
        self.widths = widths or column_widths(infos)
        self._rebuild(current, columns_for(self.size.width or self.app.size.width, self.widths))

    def _rebuild(self, current: Optional[Path], keys: list[str]) -> None:
        if keys != self.keys:
            self.clear(columns=True)
            self.keys = keys
            for key, title in COLUMNS:
                if key in keys:
                    self.add_column(title, key=key)
        self.clear()
        # A screenful first, the rest after it is drawn: 500 rows at once kept the screen blank for 0.1 s more.
        self._fills += 1
        self._add_rows(self.infos[:FIRST_ROWS], self._fills, current)
        if len(self.infos) > FIRST_ROWS:
            self.call_after_refresh(self._add_rows, self.infos[FIRST_ROWS:], self._fills, current)

    def _add_rows(self, infos: Sequence[RunInfo], fill: int, current: Optional[Path]) -> None:
        """Add rows, unless a newer fill has started; then put the cursor back on ``current``."""
        if fill != self._fills or not self.is_attached:
            return
        for info in infos:
            self.add_row(*row_cells(info, self.keys, self.color_of(info.path)), key=str(info.path))
        if current is not None and any(info.path == current for info in infos):
            self.move_cursor(row=self.get_row_index(str(current)))

    def fit(self, width: int) -> None:
        """Pick the columns again for a new width (the rows again only when they change)."""
        keys = columns_for(width, self.widths)
        if keys != self.keys and self.infos:
            self._rebuild(self.current_path(), keys)

    def update_run(self, info: RunInfo) -> None:
        """A run's row, with its new cells."""
        if str(info.path) in self.rows:
            for key, cell in zip(self.keys, row_cells(info, self.keys, self.color_of(info.path))):
                self.update_cell(str(info.path), key, cell)
        self.infos = [info if i.path == info.path else i for i in self.infos]

    def set_mark(self, path: Path) -> None:
        """Draw a run's mark again (selected or not)."""
        if "mark" in self.keys and str(path) in self.rows:
            self.update_cell(str(path), "mark", mark_cell(self.color_of(path)))

    def current_path(self) -> Optional[Path]:
        """The run folder under the cursor, or None when the table is empty."""
        if self.row_count == 0:
            return None
        row_key, _ = self.coordinate_to_cell_key(self.cursor_coordinate)
        return Path(row_key.value) if row_key.value is not None else None

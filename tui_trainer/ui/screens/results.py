"""The results screen: what a finished run got right and wrong, and what its first layer learned.

Left: the confusion matrix as a heatmap, per-class precision and recall, the most
confused pairs in words. Right: the misclassified test images (``n``/``p`` page
through them), or, after ``f``, the first layer's learned features as images.
The run folder is read in a worker thread: an older run's results are recomputed
from its model.keras there, so keras never loads on the UI thread.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional, Sequence

import numpy as np
from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Static
from textual.worker import Worker, WorkerState

from ...results import Results, ResultsError, first_layer_features, load_results
from ...verdict import num, percent
from ..widgets.image import FEATURE_GAMMA, diverging_rgb, fit, gray_rgb, half_blocks, robust_vmax

__all__ = ["ResultsScreen", "heatmap", "tile_pages"]


def _cell_style(count: int, top: int, diagonal: bool) -> str:
    """A cell shaded by its count: ``top`` (the largest count of its kind, right or wrong) is the brightest;
    the darkest shade of a non-zero count still stands out from the empty cells."""
    if not count:
        return "dim"
    frac = min(1.0, count / top) if top else 1.0
    if diagonal:
        return f"bold #ffffff on rgb(20,{int(50 + 170 * frac)},50)"
    return f"bold #ffffff on rgb({int(80 + 175 * frac)},30,30)"


def heatmap(res: Results, cell: int = 4) -> Text:
    """The confusion matrix as text with coloured cells: right answers green, mistakes red, each the
    brighter the more of them (the most common mistake brightest)."""
    m = res.confusion()
    right = int(np.diag(m).max(initial=0))
    wrong = int((m - np.diag(np.diag(m))).max(initial=0))
    names = [res.name(k) for k in range(len(m))]
    cell = max(cell, len(str(int(m.max(initial=0)))) + 1)
    label_w = min(7, max(len(n) for n in names))  # 7 + 10 classes of 4: the left pane's 48 columns
    out = Text(no_wrap=True, overflow="crop")
    out.append("true ↓ / predicted →\n", style="bold")
    out.append(" " * (label_w + 1))
    for n in names:
        out.append(n[: cell - 1].rjust(cell - 1) + " ", style="bold")
    for i, name in enumerate(names):
        out.append("\n" + name[:label_w].ljust(label_w) + " ", style="bold")
        for j in range(len(m)):
            count = int(m[i, j])
            style = _cell_style(count, right if i == j else wrong, i == j)
            out.append((str(count) if count else "·").rjust(cell - 1) + " ", style=style)
    return out


def per_class_table(res: Results) -> Table:
    table = Table(box=None, pad_edge=False, padding=(0, 1), header_style="bold")
    for title in ("class", "precision", "recall", "support"):
        table.add_column(title, justify="left" if title == "class" else "right")
    for name, p, r, _f, support in res.per_class():
        table.add_row(name[:12], f"{p:.3f}", f"{r:.3f}", str(support))
    return table


NEEDS = ("Results are the test split's predictions (predictions.npz in the run folder): the confusion matrix, "
         "the misclassified images and the first layer's features come from them. A run trained from a preset "
         "(t in the builder, or `tui-trainer train PRESET`) saves them when it ends. A script's fit "
         "(`tui-trainer run`, Monitor()) uses data tui-trainer never sees, so it has none: to get them, "
         "train the same model from a preset (`tui-trainer presets list` lists them).")
"""What the results view says under "No results: why", so a run without them says how to get them."""


def tile_pages(count: int, per_page: int) -> int:
    """How many pages ``count`` tiles take at ``per_page`` a page (at least 1)."""
    return max(1, -(-count // max(1, per_page)))


class ResultsScreen(Screen):
    """The results of one run folder, or of several (a comparison's: ``]`` and ``[`` go from one to the next).

    Args:
        run_dir: the run folder, or the run folders to go through (the first is shown first).
    """

    DEFAULT_CSS = """
    ResultsScreen #results-title { height: auto; max-height: 6; padding: 0 1; text-style: bold; color: $text-muted; }
    ResultsScreen #results-left { width: 52; padding: 0 1; }
    ResultsScreen #results-right { width: 1fr; padding: 0 1; border-left: solid $primary-muted; }
    ResultsScreen #results-pane-title { height: auto; max-height: 5; }
    ResultsScreen #results-tiles { height: 1fr; }
    ResultsScreen .results-block { height: auto; margin-bottom: 1; }
    """

    BINDINGS = [
        Binding("n", "page(1)", "Next"),
        Binding("p", "page(-1)", "Previous"),
        Binding("f", "toggle_features", "Features/errors"),
        Binding("right_square_bracket", "other_run(1)", "Next run"),
        Binding("left_square_bracket", "other_run(-1)", "Prev run", show=False),
        Binding("escape", "close", "Back"),
        Binding("q", "close", "Back", show=False),
    ]

    def __init__(self, run_dir: Path | Sequence[Path], *, name: Optional[str] = None,
                 id: Optional[str] = None) -> None:  # noqa: A002
        super().__init__(name=name, id=id)
        self.run_dirs = [Path(run_dir)] if isinstance(run_dir, (str, Path)) else [Path(d) for d in run_dir]
        self.run_dir = self.run_dirs[0]
        self.results: Optional[Results] = None
        self.error: Optional[str] = None
        self.showing = "errors"  # or "features"
        self.page = {"errors": 0, "features": 0}
        self._features: list[np.ndarray] = []

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(f"Results of {self.run_dir.name}: loading…", id="results-title")
        with Horizontal():
            with VerticalScroll(id="results-left"):
                yield Static("", id="results-matrix", classes="results-block")
                yield Static("", id="results-classes", classes="results-block")
                yield Static("", id="results-pairs", classes="results-block")
            with Vertical(id="results-right"):
                yield Static("", id="results-pane-title")
                yield Static("", id="results-tiles")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "results"
        self._load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="results")
    def _load(self) -> Results:
        # Thread: an older run's results come from keras.models.load_model, which must not block the UI.
        # read-only (serve --read-only): what the run saved, never recomputed (that loads its model and data)
        return load_results(self.run_dir, recompute=not getattr(self.app, "read_only", False))

    def action_other_run(self, step: int) -> None:
        """Show the next (1) or previous (-1) run's results."""
        i = (self.run_dirs.index(self.run_dir) + step) % len(self.run_dirs)
        self.run_dir, self.results, self.error = self.run_dirs[i], None, None
        self.page = {"errors": 0, "features": 0}
        self.query_one("#results-title", Static).update(f"Results of {self.run_dir.name}: loading…")
        for pane in ("#results-matrix", "#results-classes", "#results-pairs", "#results-pane-title", "#results-tiles"):
            self.query_one(pane, Static).update("")  # nothing of the previous run under the new title
        self.refresh_bindings()
        self._load()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "results":
            return
        if event.state == WorkerState.SUCCESS:
            if event.worker.result.run_dir != self.run_dir:
                return  # a run the user has already moved past
            self.show(event.worker.result)
            self.refresh_bindings()
        elif event.state == WorkerState.ERROR:
            err = event.worker.error
            self.error = str(err) if isinstance(err, ResultsError) else f"{type(err).__name__}: {err}"
            self.query_one("#results-title", Static).update(Text(f"No results: {self.error}", style="bold red"))
            # In the left pane, the wider one (the right is 26 columns at 80x24: this would be cut there).
            self.query_one("#results-matrix", Static).update(Text.assemble(("What results need\n", "bold"),
                                                                           (NEEDS, "italic")))

    # -- drawing ----------------------------------------------------------------------------------------

    def show(self, res: Results) -> None:
        """Draw a run's results (the worker calls this; tests may too)."""
        self.results = res
        self._features = first_layer_features(res)
        metrics = "  ".join(f"{k} {percent(v) if k.endswith('accuracy') else num(v)}"
                            for k, v in sorted(res.test_metrics.items(), key=lambda kv: (kv[0] != "loss", kv[0])))
        how = " (recomputed from model.keras)" if res.recomputed else ""
        which = f"[{self.run_dirs.index(self.run_dir) + 1}/{len(self.run_dirs)}] " if len(self.run_dirs) > 1 else ""
        self.query_one("#results-title", Static).update(
            Text(f"{which}{self.run_dir.name} · {res.n_test} test samples{how} · {metrics}"))
        self.query_one("#results-matrix", Static).update(heatmap(res))
        self.query_one("#results-classes", Static).update(per_class_table(res))
        pairs = res.confused_pairs()
        lines = Text("Most confused\n", style="bold") if pairs else Text("No mistakes on the test split.")
        for p in pairs:
            lines.append(f"{res.pair_sentence(p)}\n", style="")
        self.query_one("#results-pairs", Static).update(lines)
        self.draw_pane()

    def on_resize(self) -> None:
        if self.results is not None:
            self.draw_pane()

    def _tile_width(self) -> int:
        """How wide an image may be drawn: three to a row in the pane (digits' 8x8 twice as big, MNIST halved)."""
        width = self.query_one("#results-tiles", Static).size.width or 56
        return max(8, (width + 1) // 3 - 1)

    def _tiles_per_page(self, tile_w: int, tile_h: int) -> tuple[int, int]:
        pane = self.query_one("#results-tiles", Static)
        width = pane.size.width or 56
        height = pane.size.height or 24
        return max(1, (width + 1) // (tile_w + 1)), max(1, height // tile_h)

    def draw_pane(self) -> None:
        """Draw the current page of misclassified images or of first-layer features."""
        res = self.results
        if res is None:
            return
        title = self.query_one("#results-pane-title", Static)
        tiles = self.query_one("#results-tiles", Static)
        if self.showing == "features":
            self._draw_features(res, title, tiles)
        else:
            self._draw_errors(res, title, tiles)

    def _draw_features(self, res: Results, title: Static, tiles: Static) -> None:
        items = self._features
        if not items:
            title.update(_pane_title("First layer's features", "f: errors"))
            tiles.update(Text(_no_features(res), style="italic"))
            return
        vmax = robust_vmax(items)
        max_w = self._tile_width()
        sample, scale = fit(items[0], max_w)
        h, w = sample.shape[:2]
        cols, rows = self._tiles_per_page(max(w * scale, 8), -(-h * scale // 2) + 1)
        per = cols * rows
        page = self._clamp("features", len(items), per)
        shown = range(page * per, min(len(items), (page + 1) * per))
        grid = self._grid(cols, [(half_blocks(diverging_rgb(fit(items[u], max_w)[0], vmax, FEATURE_GAMMA), scale),
                                  f"unit {u + 1}") for u in shown])
        layer = f"{res.first_layer}: " if res.first_layer else ""
        title.update(_pane_title(f"First layer {layer}{len(items)} features, {_range(shown, len(items))}",
                                 "blue −, red + · n/p: page · f: errors"))
        tiles.update(grid)

    def _draw_errors(self, res: Results, title: Static, tiles: Static) -> None:
        wrong = res.wrong_index if res.wrong_index is not None else np.array([], dtype=int)
        n_wrong = int((res.y_pred != res.y_true).sum())
        if res.wrong_images is None:
            title.update(_pane_title(f"Misclassified: {n_wrong} of {res.n_test}", "f: first layer"))
            tiles.update(Text("The inputs are not images; the per-class numbers say where the mistakes are.",
                              style="italic"))
            return
        imgs = res.wrong_images
        max_w = self._tile_width()
        sample, scale = fit(imgs[0].astype(np.float32) / 255.0, max_w) if len(imgs) else (imgs, 1)
        h, w = sample.shape[:2] if len(imgs) else (0, 0)
        cols, rows = self._tiles_per_page(max(w * scale, 16), -(-h * scale // 2) + 2)
        per = cols * rows
        page = self._clamp("errors", len(imgs), per)
        shown = range(page * per, min(len(imgs), (page + 1) * per))
        cells = []
        for k in shown:
            i = int(wrong[k])
            true, pred = int(res.y_true[i]), int(res.y_pred[i])
            conf = float(res.probs[i, pred])
            cells.append((half_blocks(gray_rgb(fit(imgs[k].astype(np.float32) / 255.0, max_w)[0]), scale),
                          f"true {res.name(true)[:7]}\npred {res.name(pred)[:7]} {100 * conf:.0f}%"))
        kept = f" (the first {len(imgs)} kept)" if len(imgs) < n_wrong else ""
        title.update(_pane_title(f"Misclassified: {n_wrong} of {res.n_test}{kept}, {_range(shown, len(imgs))}",
                                 "n/p: page · f: features"))
        tiles.update(self._grid(cols, cells) if cells else Text("No mistakes to show.", style="italic"))

    @staticmethod
    def _grid(cols: int, cells: list[tuple[Text, str]]) -> Table:
        grid = Table.grid(padding=(0, 1))
        for _ in range(cols):
            grid.add_column()
        for start in range(0, len(cells), cols):
            row = [Group(img, Text(caption, style="dim", no_wrap=True)) for img, caption in cells[start:start + cols]]
            grid.add_row(*row)
        return grid

    def _clamp(self, pane: str, count: int, per: int) -> int:
        pages = tile_pages(count, per)
        self.page[pane] = max(0, min(self.page[pane], pages - 1))
        return self.page[pane]

    # -- actions --------------------------------------------------------------------------------------

    def action_page(self, step: int) -> None:
        """Next (1) or previous (-1) page of the pane shown."""
        self.page[self.showing] += step
        self.draw_pane()

    def action_toggle_features(self) -> None:
        """Switch the right pane between the misclassified images and the first layer's features."""
        self.showing = "features" if self.showing == "errors" else "errors"
        self.draw_pane()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> Optional[bool]:
        if action == "close":
            return len(self.app.screen_stack) > 1 and self.app.screen is self
        if action in ("page", "toggle_features"):
            return self.results is not None
        if action == "other_run":
            return len(self.run_dirs) > 1
        return True

    def action_close(self) -> None:
        self.dismiss()


def _pane_title(what: str, keys: str) -> Text:
    """The right pane's title: what it shows, then its keys on a line of their own (never cut off: at
    80 columns the pane is 26 wide)."""
    out = Text(what, style="bold")
    out.append("\n" + keys, style="not bold dim")
    return out


def _range(shown: range, total: int) -> str:
    return f"{shown.start + 1}–{shown.stop} of {total}" if len(shown) else f"0 of {total}"


def _no_features(res: Results) -> str:
    if res.first_kernel is None:
        return "The first layer's weights were not saved with this run."
    return ("The first layer is a Dense layer on inputs that are not images: its weights have no picture. "
            "The text summary is in `tui-trainer results`.")

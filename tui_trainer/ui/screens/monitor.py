"""The monitor screen: live (or replayed) charts, progress and the early-stopping verdict."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.css.query import NoMatches
from textual.screen import Screen
from textual.widgets import Footer, Header

from ...runstate import RunState
from ..widgets.status import EarlyStopBanner, ErrorPanel, Line, ProgressLine, TelemetryLine


class MonitorScreen(Screen):
    """Draws one RunState; the app feeds it events, live or from a log.

    Args:
        defer_charts: leave the charts out until :meth:`mount_charts` is called. A replay draws
            its verdict first and its charts right after: they need numpy and plotext, whose
            imports alone take longer than the rest of the screen.
    """

    BINDINGS = [("z", "zoom", "Zoom"), Binding("v", "results", "Results")]

    def __init__(self, defer_charts: bool = False) -> None:
        super().__init__(id="monitor")
        self._defer_charts = defer_charts
        self._charts_ready = False
        self._charts_mounting = False
        self.state = RunState()
        self.error: str | None = None  # why the last run could not start or failed
        self.note = ""
        self.phase = ""  # what a start is doing before the run's first event ("loading data")
        self._drawn_version = -1
        self.run_dir: Optional[Path] = None  # the run folder, when known better than RunStarted's (moved runs)
        self._ended = False

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="monitor-body"):
            yield Line("", id="run-title")
            yield ProgressLine(id="progress")
            yield TelemetryLine(id="telemetry")
            yield EarlyStopBanner(id="banner")
            yield ErrorPanel(id="error")
            # With defer_charts, empty until mount_charts fills it.
            yield Horizontal(*([] if self._defer_charts else self._chart_widgets()), id="charts")
        self._charts_ready = not self._defer_charts
        yield Footer()

    @property
    def charts_ready(self) -> bool:
        """Whether the charts are in the screen (with ``defer_charts``: once :meth:`mount_charts` has run)."""
        return self._charts_ready

    @staticmethod
    def _chart_widgets() -> list:
        from ..widgets.charts import BatchChart, EpochChart, MetricChart
        from ..widgets.gradients import GradientsPanel

        side = Vertical(BatchChart(id="batch-chart"), MetricChart(id="metric-chart"), GradientsPanel(id="gradients"),
                        id="side-charts")
        return [EpochChart(id="epoch-chart"), side]

    def mount_charts(self) -> None:
        """Put the charts in, when ``defer_charts`` left them out (once; later calls do nothing)."""
        if self._charts_ready or self._charts_mounting or not self.is_mounted:
            return
        self._charts_mounting = True
        self.run_worker(self._mount_charts(), group="monitor-charts")

    async def _mount_charts(self) -> None:
        await self.query_one("#charts", Horizontal).mount_all(self._chart_widgets())
        self._charts_ready = True
        self._widgets = None  # looked up again, with the charts
        self.refresh_view(force=True)

    def reset(self) -> None:
        """Start over for a new run."""
        self.state = RunState()
        self.error = None
        self.note = ""
        self.phase = ""
        self._drawn_version = -1
        self.run_dir = None
        self.refresh_view(force=True)

    def on_mount(self) -> None:
        # Events may have arrived before the screen was first shown (a recorded run, a fast start).
        self.call_after_refresh(self.refresh_view, True)

    def action_zoom(self) -> None:
        """Toggle the epoch charts' scale between every epoch and the epochs after the first drop."""
        for chart in self._parts().get("epoch_charts", ()):
            chart.zoom = not chart.zoom
            chart.replot()

    def action_results(self) -> None:
        """Open the results (confusion matrix, misclassified images, first layer) of the run shown."""
        s = self.state
        if s.started is None or s.finished is None or s.finished.status == "failed":
            self.notify("Results come once a run has ended (a failed run has none).", severity="warning")
            return
        from .results import ResultsScreen

        # The folder as opened (replay and watch know it; a copied run's RunStarted names where it was made).
        where = self.run_dir or getattr(self.app, "run_dir", None) or Path(s.started.run_dir)
        self.app.push_screen(ResultsScreen(Path(where)))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> Optional[bool]:
        if action == "results":  # shown in the footer once the run has ended with a model to look at
            return self.state.finished is not None and self.state.finished.status != "failed"
        return True

    def set_note(self, note: str) -> None:
        """A word on where the events come from (replay, watch), after the run's name."""
        self.note = note
        self.refresh_view(force=True)

    def set_phase(self, phase: str) -> None:
        """What the start is doing (``"loading data"``) until the run's first event; ``""``: not starting."""
        self.phase = phase
        self.refresh_view(force=True)

    def show_error(self, message: str) -> None:
        self.error = message
        self.refresh_view(force=True)

    def refresh_view(self, force: bool = False) -> None:
        """Redraw everything from the state, if it changed since the last draw."""
        state = self.state
        if not self.is_mounted or (state.version == self._drawn_version and not force and not state.running):
            return
        try:
            self._draw(state)
        except NoMatches:  # the app is shutting down (quit right after a run): nothing left to draw on
            pass

    def _parts(self) -> dict:
        """The widgets a draw updates, looked up once: a DOM query each, five times a second, adds up."""
        if self._widgets is None:
            self._widgets = {
                "title": self.query_one("#run-title", Line), "progress": self.query_one(ProgressLine),
                "telemetry": self.query_one(TelemetryLine), "banner": self.query_one(EarlyStopBanner),
                "error": self.query_one(ErrorPanel),
            }
            if self._charts_ready:
                from ..widgets.charts import BatchChart, EpochChart
                from ..widgets.gradients import GradientsPanel

                self._widgets.update({
                    "epoch_charts": list(self.query(EpochChart)), "batch_chart": self.query_one(BatchChart),
                    "gradients": self.query_one(GradientsPanel), "metric_chart": self.query_one("#metric-chart"),
                })
        return self._widgets

    _widgets: "dict | None" = None

    def _draw(self, state: RunState) -> None:
        self._drawn_version = state.version
        if self._ended != (state.finished is not None):
            self._ended = state.finished is not None
            self.refresh_bindings()  # v (results) shows once the run has ended
        w = self._parts()
        with self.app.batch_update():
            s = state.started
            starting = f"Starting… {self.phase}" if self.phase and s is None and self.error is None else ""
            title = f"{s.preset_name}  ·  {s.run_id}" if s else (starting or "No run yet")
            if self.note:
                title += f"  ·  {self.note}"
            w["title"].show(title)
            # Starting: the title says it, the progress line stays empty rather than say it twice.
            w["progress"].update_from(state, "" if starting else getattr(self.app, "IDLE", ""))
            w["telemetry"].update_from(state)
            w["banner"].update_from(state)
            error = self.error or (_failure_help(state.failure.error) if state.failure else None)
            panel = w["error"]
            if error:
                panel.show_error(error)
            else:
                panel.clear()
            if "batch_chart" not in w:  # the charts are not in yet (mount_charts)
                return
            for chart in w["epoch_charts"]:  # MetricChart is an EpochChart too
                chart.update_from(state)
            w["batch_chart"].update_from(state)
            w["gradients"].update_from(state)
            # On a short terminal the gradient bars (the lesson) matter more than accuracy.
            has_gradients = bool(state.grad_initial)
            metric_chart = w["metric_chart"]
            show_metric = not (has_gradients and self.size.height < 40)
            if metric_chart.display != show_metric:
                metric_chart.display = show_metric


def _failure_help(error: str) -> str:
    """What to try next, under the verdict that already says what happened."""
    if "NaN" in error or "infinite" in error:
        return (f"{error}. The weights blew up: try a smaller learning rate (e.g. a tenth), keep data.scale on, "
                "and check the inputs for NaN or huge values.")
    return f"{error}. Native messages, if any, are in the run folder's stderr.log."

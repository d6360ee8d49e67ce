"""Reading the user's data file for the builder, in a thread worker, to learn its input shape.

The registry knows the shape of the built-in data sets; a user's npz/csv file has to be read. The
read waits until the path has stopped changing (:data:`PROBE_DELAY_S`), runs in a thread, and is
kept under its :func:`~.builder_data.probe_key`, so each file is read once per set of options.
"""

from __future__ import annotations

from typing import Mapping, Optional

from pydantic import ValidationError
from textual.dom import DOMNode
from textual.message import Message
from textual.timer import Timer

from ...layers import Shape
from ...spec import DataSpec
from .builder_data import DataView, Probe

PROBE_DELAY_S = 0.4  # wait for the user to stop typing a path before reading the file


class FileRead(Message):
    """A data file was read in the worker: its input shape and classes, or why it can't be read."""

    def __init__(self, key: tuple, shape: Optional[Shape], classes: Optional[int], error: Optional[str]) -> None:
        super().__init__()
        self.key = key
        self.shape = shape
        self.classes = classes
        self.error = error


class FileProber:
    """Reads of the user's files on behalf of ``node`` (the builder), which gets a :class:`FileRead` for each.

    Args:
        node: runs the timer and the worker, and receives the messages.
    """

    def __init__(self, node: DOMNode) -> None:
        self._node = node
        self.probes: dict[tuple, Probe] = {}
        """probe key -> (input shape, number of classes, error) of the user's file."""
        self._timer: Optional[Timer] = None
        self._pending: Optional[DataView] = None

    def view(self, data: Mapping) -> DataView:
        """The data a preset names, with what the reads so far tell of it."""
        return DataView.of(data, self.probes)

    def keep(self, message: FileRead) -> None:
        """Remember what a read found."""
        self.probes[message.key] = (message.shape, message.classes, message.error)

    def schedule(self, view: DataView) -> None:
        """Read ``view``'s file once it has stopped changing, unless it has been read already."""
        if view.key is None or view.key in self.probes:
            return
        self._pending = view  # every edit reschedules: the timer reads the data as it stands
        if self._timer is not None:
            self._timer.stop()
        self._timer = self._node.set_timer(PROBE_DELAY_S, self._start)

    def _start(self) -> None:
        view = self._pending
        if view is None or view.key is None or view.key in self.probes:
            return
        try:
            spec = DataSpec.model_validate(view.data)
        except ValidationError:
            return
        self._node.run_worker(lambda: self._read(spec, view.key), thread=True, exclusive=True,
                              group="builder-probe", exit_on_error=False)

    def _read(self, spec: DataSpec, key: tuple) -> None:
        # Deferred import: numpy and the readers are not needed for the first frame.
        from ...datasets import load_dataset

        try:
            dataset = load_dataset(spec)
        except Exception as exc:  # DataError, or anything a strange file raises: shown, never fatal
            self._node.post_message(FileRead(key, None, None, str(exc)))
            return
        self._node.post_message(FileRead(key, tuple(dataset.input_shape), dataset.num_classes, None))

"""Our runs out to TensorBoard: event files written without TensorFlow, laid out as Keras's
TensorBoard callback lays them out (``<run>/train`` and ``<run>/validation``, ``epoch_*`` tags with
the 0-based epoch as step, ``batch_loss`` by global step), so TensorBoard overlays loss and
val_loss on one chart exactly as it does for a Keras user. Early stopping's facts go in as text.
"""

from __future__ import annotations

import math
import os
import socket
import struct
import time
from pathlib import Path
from typing import Optional

from .tbread import masked_crc32c

_DT_STRING = 7


def _varint(n: int) -> bytes:
    if n < 0:
        n += 1 << 64
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _ld(num: int, payload: bytes) -> bytes:
    return _varint(num << 3 | 2) + _varint(len(payload)) + payload


def _event(step: int, wall: float, summary: bytes = b"", file_version: str = "") -> bytes:
    body = b"\x09" + struct.pack("<d", wall) + b"\x10" + _varint(step)
    if file_version:
        body += _ld(3, file_version.encode())
    if summary:
        body += _ld(5, summary)
    return body


def scalar_summary(tag: str, value: float) -> bytes:
    """A ``Summary`` holding one ``simple_value``."""
    return _ld(1, _ld(1, tag.encode()) + b"\x15" + struct.pack("<f", value))


def text_summary(tag: str, text: str) -> bytes:
    """A ``Summary`` holding a 0-d string tensor tagged for TensorBoard's text plugin."""
    metadata = _ld(1, _ld(1, b"text"))
    tensor = b"\x08" + _varint(_DT_STRING) + _ld(2, b"") + _ld(8, text.encode())
    return _ld(1, _ld(1, tag.encode()) + _ld(9, metadata) + _ld(8, tensor))


def frame(record: bytes) -> bytes:
    """One TFRecord: length, its checksum, the data, its checksum."""
    header = struct.pack("<Q", len(record))
    return header + struct.pack("<I", masked_crc32c(header)) + record + struct.pack("<I", masked_crc32c(record))


class EventWriter:
    """Appends events to a new event file in ``folder`` (created; a link in its place is refused).

    Args:
        folder: where the file goes.
        flush_every: records buffered before a write (1 for a live sink a reader follows).
    """

    def __init__(self, folder: Path, flush_every: int = 1000):
        folder = Path(folder)
        if folder.is_symlink():
            raise OSError(f"{folder}: is a link; not followed")
        folder.mkdir(parents=True, exist_ok=True)
        name = f"events.out.tfevents.{int(time.time())}.{socket.gethostname()}.{os.getpid()}.{id(self) & 0xFFFF}"
        self.path = folder / name
        self._fh = open(self.path, "xb")
        self._buf: list[bytes] = []
        self.flush_every = flush_every
        self._add(_event(0, time.time(), file_version="brain.Event:2"))

    def _add(self, record: bytes) -> None:
        self._buf.append(frame(record))
        if len(self._buf) >= self.flush_every:
            self.flush()

    def scalar(self, tag: str, value: Optional[float], step: int, wall: Optional[float] = None) -> None:
        """One scalar (None is written as NaN, which TensorBoard shows as a gap)."""
        v = math.nan if value is None else float(value)
        self._add(_event(step, time.time() if wall is None else wall, scalar_summary(tag, v)))

    def text(self, tag: str, text: str, step: int = 0) -> None:
        """A text entry (TensorBoard's Text tab)."""
        self._add(_event(step, time.time(), text_summary(tag, text)))

    def flush(self) -> None:
        if self._buf:
            self._fh.write(b"".join(self._buf))
            self._fh.flush()
            self._buf.clear()

    def close(self) -> None:
        self.flush()
        self._fh.close()

    def __enter__(self) -> "EventWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class TensorBoardSink:
    """An event sink that writes a run to TensorBoard as it trains (``Monitor(tensorboard=...)``,
    ``[logging] tensorboard = true``): the layout of :func:`tui_trainer.export.to_tensorboard`, flushed
    every epoch so a ``tensorboard`` (or a ``tui-trainer watch``) reading the folder follows along.

    Args:
        folder: the run's TensorBoard folder (``train/`` and ``validation/`` are made in it).
    """

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self._train = EventWriter(self.folder / "train", flush_every=10_000)
        self._val = EventWriter(self.folder / "validation", flush_every=10_000)
        self._step = 0
        self._closed = False

    def __call__(self, event) -> None:
        from .events import BatchLosses, EarlyStoppingResult, EpochEnded, RunFinished

        if self._closed:
            return
        if isinstance(event, BatchLosses):
            for loss in event.losses:
                self._train.scalar("batch_loss", loss, self._step)
                self._step += 1
        elif isinstance(event, EpochEnded):
            for name, value in event.metrics.items():
                writer, base = (self._val, name[4:]) if name.startswith("val_") else (self._train, name)
                writer.scalar(f"epoch_{base}", value, event.epoch - 1)
            self._val.flush()
            self._train.flush()
        elif isinstance(event, EarlyStoppingResult):
            self._train.text("early_stopping", f"{event.monitor}: best epoch {event.best_epoch}, stopped at epoch "
                                               f"{event.stopped_epoch}, restored epoch {event.restored_epoch}")
        elif isinstance(event, RunFinished):
            self.close()

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._train.close()
            self._val.close()


def guarded_sink(folder: Path):
    """A :class:`TensorBoardSink` for ``[logging] tensorboard = true`` that never stops training: a
    folder that can't be made gives None, and a failed write (a full disk, a removed folder) turns
    only this writer off; the run log goes on."""
    try:
        tb = TensorBoardSink(folder)
    except OSError:
        return None
    state = {"tb": tb}

    def sink(event) -> None:
        if state["tb"] is not None:
            try:
                state["tb"](event)
            except Exception:  # noqa: BLE001
                state["tb"] = None
    return sink

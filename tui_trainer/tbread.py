"""TensorBoard event files read without TensorFlow or tensorboard: TFRecord framing and the few
protobuf fields of ``Event`` / ``Summary`` that carry a scalar.

An event file is a sequence of records, each ``uint64 length, uint32 masked crc32c(length),
bytes data, uint32 masked crc32c(data)``; each ``data`` is an ``Event`` protobuf. A scalar comes
either as ``Summary.Value.simple_value`` (TF1, tensorboardX, PyTorch's SummaryWriter) or as a 0-d
``Summary.Value.tensor`` (tf.summary v2, Keras's TensorBoard callback). Histograms, images, text
and graphs are skipped. The length's checksum is always checked (it is what tells garbage from an
event file); the data's only with ``verify=True`` (pure-Python crc32c costs more than the parse).
"""

from __future__ import annotations

import os
import struct
from pathlib import Path
from typing import NamedTuple, Optional

EVENT_FILE_MARK = "tfevents"  # events.out.tfevents.<time>.<host>[.<pid>.<n>][.suffix]
MAX_RECORD = 1 << 28  # no scalar event comes near this; a bigger length is garbage, not a record


class TBFormatError(ValueError):
    """A file is not a TensorBoard event file; ``str()`` is one line naming it."""


class Scalar(NamedTuple):
    """One scalar value of one tag at one step."""

    tag: str
    step: int
    wall_time: float
    value: float


# --- crc32c (Castagnoli), masked as TFRecord does ------------------------------------------------


def _crc_table() -> list[int]:
    table = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


_TABLE = _crc_table()


def crc32c(data: bytes) -> int:
    """The CRC-32C of ``data``."""
    crc, table = 0xFFFFFFFF, _TABLE
    for b in data:
        crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def masked_crc32c(data: bytes) -> int:
    """TFRecord's masked checksum: rotated and offset so a CRC of CRCs is not trivially zero."""
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


_HEADER_CRC: dict[bytes, int] = {}  # most records of a log share a handful of lengths


def header_crc(header: bytes) -> int:
    """:func:`masked_crc32c` of an 8-byte length header, cached."""
    crc = _HEADER_CRC.get(header)
    if crc is None:
        crc = _HEADER_CRC[header] = masked_crc32c(header)
    return crc


# --- protobuf wire format, the few fields we need ---------------------------------------------


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7


def _fields(buf: bytes):
    """(field number, wire type, value) for each field of a message; value is an int, or bytes for
    length-delimited fields, or the raw 4/8 bytes for fixed ones."""
    pos, end = 0, len(buf)
    while pos < end:
        key, pos = _varint(buf, pos)
        num, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(buf, pos)
        elif wire == 2:
            n, pos = _varint(buf, pos)
            value, pos = buf[pos:pos + n], pos + n
        elif wire == 1:
            value, pos = buf[pos:pos + 8], pos + 8
        elif wire == 5:
            value, pos = buf[pos:pos + 4], pos + 4
        else:
            raise ValueError(f"wire type {wire}")
        if pos > end:
            raise ValueError("field runs past the message")
        yield num, wire, value


# TensorProto dtypes that hold a number, and how tensor_content packs one
_DTYPES = {1: "<f", 2: "<d", 3: "<i", 9: "<q", 4: "<B", 5: "<h", 6: "<b", 10: "<?", 17: "<H", 22: "<I", 23: "<Q"}
_DT_HALF, _DT_BFLOAT16 = 19, 14


def _tensor_scalar(buf: bytes) -> Optional[float]:
    """The value of a 0-d numeric TensorProto; None for anything else (a histogram, a string)."""
    dtype, content, packed = 0, None, None
    for num, wire, value in _fields(buf):
        if num == 1:
            dtype = value
        elif num == 2 and value:  # a shape with dims: not a scalar
            if any(n == 2 for n, _, _ in _fields(value)):
                return None
        elif num == 4:
            content = value
        elif num in (5, 6, 7, 10, 11, 13) and packed is None:
            packed = (num, wire, value)
    if content:
        if dtype == _DT_HALF and len(content) >= 2:
            return struct.unpack("<e", content[:2])[0]
        if dtype == _DT_BFLOAT16 and len(content) >= 2:
            return struct.unpack("<f", b"\0\0" + content[:2])[0]
        fmt = _DTYPES.get(dtype)
        return float(struct.unpack_from(fmt, content)[0]) if fmt and len(content) >= struct.calcsize(fmt) else None
    if packed is None:
        return None
    num, wire, value = packed
    if num == 5:  # float_val
        return struct.unpack("<f", value[:4] if wire == 2 else value)[0]
    if num == 6:  # double_val
        return struct.unpack("<d", value[:8] if wire == 2 else value)[0]
    raw = _varint(value, 0)[0] if wire == 2 else value
    if num == 13:  # half_val: the 16 bits in an int32
        return struct.unpack("<e", struct.pack("<H", raw & 0xFFFF))[0]
    if raw >= 1 << 63:
        raw -= 1 << 64
    return float(raw)


def _plugin_name(metadata: bytes) -> str:
    for num, _, value in _fields(metadata):
        if num == 1:  # plugin_data
            for n, _, v in _fields(value):
                if n == 1:
                    return bytes(v).decode("utf-8", "replace")
    return ""


def _summary_scalars(buf: bytes, step: int, wall: float, out: list[Scalar]) -> None:
    for num, _, value in _fields(buf):
        if num != 1:
            continue
        tag, simple, tensor, plugin = "", None, None, ""
        for n, _, v in _fields(value):
            if n == 1:
                tag = bytes(v).decode("utf-8", "replace")
            elif n == 2:
                simple = struct.unpack("<f", v)[0]
            elif n == 8:
                tensor = v
            elif n == 9:
                plugin = _plugin_name(v)
        if simple is None and tensor is not None and plugin in ("scalars", ""):
            simple = _tensor_scalar(tensor)
        if simple is not None and tag:
            out.append(Scalar(tag, step, wall, simple))


_WALL = struct.Struct("<d").unpack_from
_FLOAT = struct.Struct("<f").unpack_from


def _simple_fast(data: bytes, out: list[Scalar]) -> bool:
    """The shape nearly every record of a long log has (wall time, step, one ``simple_value`` with
    short lengths), decoded without the generic field walk; False for any other shape."""
    if len(data) < 20 or data[0] != 0x09 or data[9] != 0x10:
        return False
    pos, step, shift = 10, 0, 0
    while True:
        b = data[pos]
        pos += 1
        step |= (b & 0x7F) << shift
        if not b & 0x80:
            break
        shift += 7
        if shift > 63:
            return False
    # summary (5) > value (1) > tag (1) + simple_value (2), each length a single byte
    if pos + 6 > len(data) or data[pos] != 0x2A or data[pos + 2] != 0x0A or data[pos + 4] != 0x0A:
        return False
    n_tag = data[pos + 5]
    end = pos + 6 + n_tag
    if data[pos + 1] != n_tag + 9 or data[pos + 3] != n_tag + 7 or n_tag > 127 or end + 5 != len(data) or data[end] != 0x15:
        return False
    tag = data[pos + 6:end].decode("utf-8", "replace")
    out.append(Scalar(tag, step if step < 1 << 63 else step - (1 << 64), _WALL(data, 1)[0], _FLOAT(data, end + 1)[0]))
    return True


def parse_event(data: bytes, out: list[Scalar]) -> None:
    """Append the scalars of one serialized ``Event`` to ``out``.

    Raises:
        ValueError: the bytes are not a protobuf message.
    """
    if _simple_fast(data, out):
        return
    step, wall, summary = 0, 0.0, None
    for num, _, value in _fields(data):
        if num == 2:
            step = value if value < 1 << 63 else value - (1 << 64)
        elif num == 1:
            wall = struct.unpack("<d", value)[0]
        elif num == 5:
            summary = value
    if summary is not None:
        _summary_scalars(summary, step, wall, out)


# --- files --------------------------------------------------------------------------------------


def is_event_file(path: Path) -> bool:
    """Whether a file is named as TensorBoard names its event files."""
    return EVENT_FILE_MARK in path.name and path.name.startswith("events.out.")


class EventFileReader:
    """Reads the scalars of one event file, the records completed since the last call.

    A record cut at the end of the file is a write in progress: it is read on a later call.
    ``problems`` collects the one-line notes on a file broken in the middle.
    """

    def __init__(self, path: Path, *, verify: bool = False):
        self.path = Path(path)
        self.offset = 0
        self.verify = verify
        self.broken = False  # a bad record header mid-file: nothing after it can be framed
        self.problems: list[str] = []

    def read(self) -> list[Scalar]:
        """The scalars of the records completed since the last call.

        Raises:
            TBFormatError: the file's very first record is not a TFRecord (the file is not an event file).
        """
        if self.broken:
            return []
        with open(self.path, "rb") as fh:
            fh.seek(self.offset)
            data = fh.read()
        out: list[Scalar] = []
        pos, end = 0, len(data)
        unpack_q, unpack_i = struct.Struct("<Q").unpack_from, struct.Struct("<I").unpack_from
        while pos + 12 <= end:
            header = data[pos:pos + 8]
            length = unpack_q(header)[0]
            if header_crc(header) != unpack_i(data, pos + 8)[0] or length > MAX_RECORD:
                self._bad(pos, "bad record header")
                break
            stop = pos + 12 + length + 4
            if stop > end:
                break  # still being written
            record = data[pos + 12:stop - 4]
            if self.verify and masked_crc32c(record) != unpack_i(data, stop - 4)[0]:
                self.problems.append(f"{self.path}: record at byte {self.offset + pos} skipped (checksum)")
            else:
                try:
                    parse_event(record, out)
                except (ValueError, IndexError, struct.error) as exc:
                    if self.offset + pos == 0:
                        raise TBFormatError(f"{self.path}: not a TensorBoard event file ({exc})") from None
                    self.problems.append(f"{self.path}: record at byte {self.offset + pos} skipped ({exc})")
            pos = stop
        self.offset += pos
        return out

    def _bad(self, pos: int, why: str) -> None:
        at = self.offset + pos
        if at == 0:
            raise TBFormatError(f"{self.path}: not a TensorBoard event file ({why} at byte 0)")
        self.broken = True
        self.problems.append(f"{self.path}: {why} at byte {at}; the rest of the file is skipped")


def read_scalars(path: Path) -> list[Scalar]:
    """Every scalar of one event file (see :class:`EventFileReader`)."""
    return EventFileReader(path).read()


def event_files(folder: Path) -> list[Path]:
    """The event files directly in ``folder`` (not below it), oldest name first; links are not followed."""
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError:
        return []
    return [Path(e.path) for e in entries if is_event_file(Path(e.name)) and e.is_file(follow_symlinks=False)]

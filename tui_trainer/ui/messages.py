"""App-wide messages."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:  # the builder's first frame needs no events module
    from ..events import Event


@dataclass
class TrainingEvent(Message):
    """One engine event, posted from the training thread (``post_message`` is thread-safe).

    Never replaced in the queue: every batch chunk carries losses the charts keep.
    The engine already sends batch losses at most about ten times a second.
    """

    event: Event
    run_token: int  # which run it belongs to, so a late event of an old run can't leak into a new one

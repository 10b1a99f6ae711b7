"""Progress reporting and cancellation for long ``core`` work (loading, extraction)."""

from __future__ import annotations

import threading
from collections.abc import Callable

from core.errors import Cancelled

#: ``progress(stage, done, total)``: ``stage`` is a short human label ("Extracting",
#: "Reading event logs"), ``done``/``total`` are in the stage's own unit (bytes, files).
ProgressFn = Callable[[str, int, int], None]


def no_progress(stage: str, done: int, total: int) -> None:
    """A :data:`ProgressFn` that ignores everything."""


class CancelToken:
    """Thread-safe flag a worker polls; the GUI (or a test) sets it."""

    __slots__ = ("_event",)

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def check(self) -> None:
        """Raise :class:`core.errors.Cancelled` if cancellation was requested."""
        if self._event.is_set():
            raise Cancelled("cancelled")

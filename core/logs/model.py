"""Decoded log lines."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.perf import lean_init


@lean_init  # made by the hundred thousand (core.perf)
@dataclass(frozen=True, slots=True)
class LogLine:
    """One (possibly multi-line) log message.

    ``time`` is UTC (tz-aware), or ``None`` when the line carried no usable time.
    ``type`` is the CMTrace severity: 1 info, 2 warning, 3 error (0 unknown).
    ``origin`` is ``<file name>:<first line number>``.
    """

    time: datetime | None
    message: str
    component: str
    thread: str
    type: int
    file: str
    line: int

    @property
    def origin(self) -> str:
        return f"{self.file}:{self.line}"

"""Decoded event-log records."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from core.perf import lean_init

#: Windows event levels as the Event Viewer names them.
LEVEL_NAMES: dict[int, str] = {
    0: "LogAlways",
    1: "Critical",
    2: "Error",
    3: "Warning",
    4: "Information",
    5: "Verbose",
}


def level_name(level: int) -> str:
    return LEVEL_NAMES.get(level, f"Level{level}")


@lean_init  # made by the hundred thousand (core.perf)
@dataclass(frozen=True, slots=True)
class EventRecord:
    """One event.

    ``data`` holds the named EventData / UserData fields as strings (the way the Event
    Viewer's XML shows them). ``origin`` is ``<file name>#<record id>``. ``xml`` renders the
    full record XML on demand (costly; only call it when a user opens the record).
    """

    time: datetime  # UTC, tz-aware
    channel: str
    provider: str
    event_id: int
    level: int
    record_id: int
    computer: str
    data: dict[str, str]
    file: str
    _render_xml: Callable[[], str] | None = field(default=None, repr=False, compare=False)

    @property
    def origin(self) -> str:
        return f"{self.file}#{self.record_id}"

    @property
    def level_name(self) -> str:
        return level_name(self.level)

    def xml(self) -> str:
        if self._render_xml is None:
            return ""
        return self._render_xml()

"""Work done in the loading thread after analysis, so the GUI thread only attaches models:
indexes from provenance strings to records, timeline levels, problem and file lists."""

from __future__ import annotations

from dataclasses import dataclass, field

from core.esp.model import EspReport
from core.events.model import EventRecord
from core.evidence import Evidence
from core.problems import Problem
from gui.models import TimelineRow

LOG_LEVELS = {1: "Information", 2: "Warning", 3: "Error"}
TIME_ZONE_KEY = r"HKLM\SYSTEM\CurrentControlSet\Control\TimeZoneInformation"


@dataclass
class Loaded:
    """A loaded capture, ready to show."""

    evidence: Evidence | None
    report: EspReport
    events: dict[str, EventRecord] = field(default_factory=dict)  # origin → record
    timeline: list[TimelineRow] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    device_offset_minutes: int | None = None
    live: bool = False

    def event(self, origin: str) -> EventRecord | None:
        return self.events.get(origin)


def device_offset(evidence: Evidence | None) -> int | None:
    """The device's UTC offset in minutes from ``TimeZoneInformation\\ActiveTimeBias``, if read."""
    if evidence is None:
        return None
    key = evidence.registry.key(TIME_ZONE_KEY)
    value = key.value("ActiveTimeBias") if key is not None else None
    if value is None or not isinstance(value.data, int):
        return None
    bias = value.data - (1 << 32) if value.data >= 1 << 31 else value.data  # signed DWORD
    return -bias  # UTC = local + bias


def prepare(evidence: Evidence | None, report: EspReport, *, live: bool = False) -> Loaded:
    events = {e.origin: e for e in evidence.events} if evidence is not None else {}
    logs = {line.origin: line for line in evidence.logs} if evidence is not None else {}
    titles = {s.id: f"{p.title} › {s.title}" for p in report.phases for s in p.steps}
    rows: list[TimelineRow] = []
    for entry in report.timeline:
        level = ""
        if entry.kind == "event":
            record = events.get(entry.origin)
            level = record.level_name if record is not None else ""
        elif entry.kind == "log":
            line = logs.get(entry.origin)
            level = LOG_LEVELS.get(line.type, "") if line is not None else ""
        title = titles.get(entry.step or "", "")
        haystack = "\n".join((entry.summary, entry.origin, entry.kind, level, title,
                              entry.step or "")).casefold()
        rows.append(TimelineRow(entry, level, title, haystack))
    problems = list(report.source.problems)
    if evidence is not None:
        seen = set(problems)
        problems.extend(p for p in evidence.problems if p not in seen)
    return Loaded(evidence, report, events, rows, problems, device_offset(evidence), live)

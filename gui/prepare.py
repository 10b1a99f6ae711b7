"""Work done in the loading thread after analysis, so the GUI thread only attaches models:
indexes from provenance strings to records, timeline levels, problem and file lists.

Provenance strings (``file#record``, ``file:line``, key paths) are matched against the
origins the readers gave; nothing here opens or parses a file.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any

from core.esp.model import EspReport, RegistryRef, Step
from core.events.model import EventRecord
from core.evidence import Evidence
from core.logs.model import LogLine
from core.problems import Problem
from gui.models import (
    EventsModel,
    FilesModel,
    ItemsModel,
    LogRefModel,
    ProblemsModel,
    TimelineRow,
    file_rows,
    table_keys,
)

LOG_LEVELS = {1: "Information", 2: "Warning", 3: "Error"}
_HIVES = ("HKLM\\", "HKCU\\", "HKU\\", "HKCR\\", "HKCC\\", "HKEY_")


_line_number = attrgetter("line")

@dataclass(frozen=True)
class Target:
    """What a provenance string points at: an event, a log line or a registry key.

    ``origin`` is the matched provenance; ``key_path`` the key for registry targets; ``ref``
    the report's snapshot of that key when the report holds one (its values as analysed).
    """

    kind: str  # "event" | "log" | "registry"
    origin: str
    event: EventRecord | None = None
    line: LogLine | None = None
    key_path: str = ""
    ref: RegistryRef | None = None


@dataclass
class Loaded:
    """A loaded capture, ready to show."""

    evidence: Evidence | None
    report: EspReport
    events: dict[str, EventRecord] = field(default_factory=dict)  # origin → record
    timeline: list[TimelineRow] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    live: bool = False
    logs: dict[str, LogLine] = field(default_factory=dict)  # origin → line
    log_files: dict[str, list[LogLine]] = field(default_factory=dict)  # file → lines by number
    registry_refs: dict[str, RegistryRef] = field(default_factory=dict)  # origin/path → ref
    # Per-step slices of ``timeline`` and its distinct levels, so selecting a step or filling
    # the timeline's filters never walks the whole timeline on the GUI thread.
    timeline_by_step: dict[str, list[TimelineRow]] = field(default_factory=dict)
    timeline_levels: list[str] = field(default_factory=list)
    # Sort keys of the tables ("items:<step id>", "events:…", "logs:…", "problems",
    # "files"), built here so sorting them on the GUI thread runs no Python per row.
    keys: dict[str, list[tuple[Any, ...]]] = field(default_factory=dict)
    files: list[tuple[str, int]] = field(default_factory=list)  # the Files table's rows
    telling_items: dict[str, int] = field(default_factory=dict)  # step id → telling_item

    def keys_of(self, table: str) -> list[tuple[Any, ...]] | None:
        return self.keys.get(table)

    def step_timeline(self, step_id: str) -> list[TimelineRow]:
        return self.timeline_by_step.get(step_id, [])

    def event(self, origin: str) -> EventRecord | None:
        return self.events.get(origin)

    def neighbours(self, line: LogLine, around: int = 6) -> list[LogLine]:
        """The lines of ``line``'s file around it (itself included), in file order."""
        lines = self.log_files.get(line.file, [])
        at = bisect_left(lines, line.line, key=_line_number)  # no list of numbers per click
        return lines[max(0, at - around): at + around + 1]

    def resolve(self, text: str) -> Target | None:
        """The event, log line or key a provenance string (or an evidence line starting with
        one, such as ``file#12: summary``) cites, or None when it cites nothing loaded."""
        text = text.strip()
        candidates = [text]
        head, sep, _rest = text.partition(": ")
        if sep:
            candidates.append(head)
        for origin in candidates:
            if origin in self.events:
                return Target("event", origin, event=self.events[origin])
            if origin in self.logs:
                return Target("log", origin, line=self.logs[origin])
            ref = self.registry_refs.get(origin) or self.registry_refs.get(origin.casefold())
            if ref is not None:
                return Target("registry", origin, key_path=ref.path, ref=ref)
            if origin.upper().startswith(_HIVES):
                return Target("registry", origin, key_path=origin)
        return None


def telling_item(step: Step) -> int:
    """The row of the item that explains the step: the first failed one, else the first
    with a history, else the first."""
    failed = next((i for i, item in enumerate(step.items) if item.status in {"failed", "error"}),
                  None)
    if failed is not None:
        return failed
    return next((i for i, item in enumerate(step.items) if item.history), 0)


def prepare(evidence: Evidence | None, report: EspReport, *, live: bool = False) -> Loaded:
    events = {e.origin: e for e in evidence.events} if evidence is not None else {}
    logs = {line.origin: line for line in evidence.logs} if evidence is not None else {}
    log_files: dict[str, list[LogLine]] = defaultdict(list)
    for line in logs.values():
        log_files[line.file].append(line)
    for lines in log_files.values():
        lines.sort(key=lambda entry: entry.line)
    refs: dict[str, RegistryRef] = {}
    for step in report.steps:
        for ref in step.registry:
            refs.setdefault(ref.origin, ref)
            refs.setdefault(ref.path.casefold(), ref)
    titles = {s.id: f"{p.title} › {s.title}" for p in report.phases for s in p.steps}
    rows: list[TimelineRow] = []
    for entry in report.timeline:
        level = ""
        if entry.kind == "event":
            record = events.get(entry.origin)
            level = record.level_name if record is not None else ""
        elif entry.kind == "log":
            log_line = logs.get(entry.origin)
            level = LOG_LEVELS.get(log_line.type, "") if log_line is not None else ""
        title = titles.get(entry.step or "", "")
        haystack = "\n".join((entry.summary, entry.origin, entry.kind, level, title,
                              entry.step or "")).casefold()
        rows.append(TimelineRow(entry, level, title, haystack))
    by_step: dict[str, list[TimelineRow]] = defaultdict(list)
    for row in rows:
        if row.entry.step:
            by_step[row.entry.step].append(row)
    levels = sorted({row.level for row in rows if row.level})
    problems = list(report.source.problems)
    if evidence is not None:
        seen = set(problems)
        problems.extend(p for p in evidence.problems if p not in seen)
    files = file_rows(evidence.source.files if evidence is not None else report.source.files,
                      problems)
    keys = {"problems": table_keys(ProblemsModel.columns, problems),
            "files": table_keys(FilesModel.columns, files)}
    for step in report.steps:
        keys[f"items:{step.id}"] = table_keys(ItemsModel.columns, step.items)
        keys[f"events:{step.id}"] = table_keys(EventsModel.columns, step.events)
        keys[f"logs:{step.id}"] = table_keys(LogRefModel.columns, step.logs)
    telling = {step.id: telling_item(step) for step in report.steps if step.items}
    return Loaded(evidence, report, events, rows, problems, live, logs, dict(log_files), refs,
                  dict(by_step), levels, keys, files, telling)

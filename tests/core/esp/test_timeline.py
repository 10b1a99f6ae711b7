"""The timeline's order: by time, stable, with naive times read as UTC."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from core.esp.evidence_links import EventLinks, LogLinks
from core.esp.timeline import build_timeline
from core.events.model import EventRecord
from core.logs.model import LogLine

_FACTS: Any = SimpleNamespace(user_first_sync=[])  # the one part of DeviceFacts read here


def _event(when: datetime, record: int) -> EventRecord:
    return EventRecord(when, "Application", "Provider", 100, 4, record, "pc", {}, "a.evtx")


def _line(when: datetime | None, number: int, message: str = "hello") -> LogLine:
    return LogLine(when, message, "Comp", "1", 1, "b.log", number)


def _timeline(events: list[EventRecord], logs: list[LogLine]) -> list[tuple[str, str]]:
    links = EventLinks(summaries=["said"] * len(events), step_of=[None] * len(events))
    log_links = LogLinks([None] * len(logs), [None] * len(logs))
    entries = build_timeline(events, links, [], logs, _FACTS, log_links)
    return [(entry.origin, entry.summary) for entry in entries]


def test_entries_sort_by_time_and_keep_their_order_on_ties() -> None:
    t = datetime(2026, 1, 2, 10, 0, tzinfo=UTC)
    later = t.replace(minute=5)
    events = [_event(t, 1), _event(later, 2)]
    logs = [_line(later, 1), _line(None, 2), _line(t, 3, "other"), _line(later, 4)]
    assert _timeline(events, logs) == [
        ("a.evtx#1", "100 said"),
        ("b.log:3", "Comp: other"),
        ("a.evtx#2", "100 said"),
        ("b.log:1", "Comp: hello"),
        ("b.log:4", "Comp: hello"),
    ]


def test_naive_times_among_aware_ones_are_read_as_utc() -> None:
    aware = datetime(2026, 1, 2, 10, 0, tzinfo=UTC)
    naive = datetime(2026, 1, 2, 9, 0)
    events = [_event(naive, 1), _event(aware.replace(hour=11), 2)]
    logs = [_line(aware, 1), _line(aware.replace(hour=8), 2)]
    assert [origin for origin, _ in _timeline(events, logs)] == [
        "b.log:2", "a.evtx#1", "b.log:1", "a.evtx#2"]


def test_one_message_from_two_components_is_summarised_for_each() -> None:
    t = datetime(2026, 1, 2, 10, 0, tzinfo=UTC)
    logs = [_line(t, 1), LogLine(t, "hello", "Other", "1", 1, "b.log", 2), _line(t, 3)]
    assert [summary for _, summary in _timeline([], logs)] == [
        "Comp: hello", "Other: hello", "Comp: hello"]

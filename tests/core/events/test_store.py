"""EventStore: time order, case-insensitive channels, event-id lookups."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.events.model import EventRecord
from core.events.store import EventStore

T0 = datetime(2024, 4, 2, 12, 0, tzinfo=UTC)


def rec(minutes: int, channel: str, event_id: int, record_id: int = 1) -> EventRecord:
    return EventRecord(
        time=T0 + timedelta(minutes=minutes),
        channel=channel,
        provider="P",
        event_id=event_id,
        level=4,
        record_id=record_id,
        computer="PC",
        data={},
        file="f.evtx",
    )


ADMIN = "Microsoft-Windows-Provisioning-Diagnostics-Provider/Admin"


def test_sorted_and_case_insensitive_channels() -> None:
    store = EventStore(
        [
            rec(5, ADMIN.lower(), 20, 3),
            rec(1, ADMIN, 10, 1),
            rec(3, "Microsoft-Windows-AAD/Operational", 1098, 2),
        ]
    )
    assert [r.record_id for r in store] == [1, 2, 3]
    assert len(store) == 3
    assert [r.event_id for r in store.by_channel(ADMIN.upper())] == [10, 20]
    assert store.channels() == ["Microsoft-Windows-AAD/Operational", ADMIN]
    assert store.by_event_id(1098)[0].record_id == 2
    assert store.by_channel("nope") == []


def test_find_combines_criteria() -> None:
    store = EventStore([rec(i, ADMIN if i % 2 else "Other/Op", 100 + i % 3, i) for i in range(30)])
    hits = store.find(ADMIN.lower(), [100, 101], start=T0 + timedelta(minutes=10))
    assert hits
    assert all(r.channel == ADMIN and r.event_id in (100, 101) for r in hits)
    assert all(r.time >= T0 + timedelta(minutes=10) for r in hits)
    assert [r.record_id for r in store.find(event_ids=100)] == list(range(0, 30, 3))
    window = store.between(T0 + timedelta(minutes=2), T0 + timedelta(minutes=4))
    assert [r.record_id for r in window] == [2, 3, 4]
    assert len(store.find()) == 30

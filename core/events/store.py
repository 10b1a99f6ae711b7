"""All events of an evidence set, sorted by time, with lookups by channel and event id.

Channel names compare case-insensitively: real captures mix the case of one channel within
one file (``microsoft-windows-provisioning-diagnostics-provider/admin`` next to the
mixed-case spelling).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator
from datetime import datetime

from core.events.model import EventRecord


def channel_key(channel: str) -> str:
    """The form in which two channel names are compared."""
    return channel.strip().casefold()


def _sort_key(rec: EventRecord) -> tuple[datetime, str, int]:
    return (rec.time, rec.file, rec.record_id)


class EventStore:
    """Read-only collection of events in time order."""

    __slots__ = ("_by_channel", "_by_id", "_channel_names", "_records", "_times")

    def __init__(self, records: Iterable[EventRecord]) -> None:
        self._records: tuple[EventRecord, ...] = tuple(sorted(records, key=_sort_key))
        self._times = [r.time for r in self._records]
        self._by_channel: dict[str, list[EventRecord]] = {}
        self._by_id: dict[int, list[EventRecord]] = {}
        self._channel_names: dict[str, str] = {}
        for rec in self._records:
            key = channel_key(rec.channel)
            self._by_channel.setdefault(key, []).append(rec)
            self._channel_names.setdefault(key, rec.channel)
            self._by_id.setdefault(rec.event_id, []).append(rec)

    def __len__(self) -> int:
        return len(self._records)

    def __iter__(self) -> Iterator[EventRecord]:
        return iter(self._records)

    @property
    def records(self) -> tuple[EventRecord, ...]:
        return self._records

    def channels(self) -> list[str]:
        """Distinct channels (first spelling seen), sorted case-insensitively."""
        return sorted(self._channel_names.values(), key=channel_key)

    def by_channel(self, channel: str) -> list[EventRecord]:
        return list(self._by_channel.get(channel_key(channel), ()))

    def by_event_id(self, event_id: int) -> list[EventRecord]:
        return list(self._by_id.get(event_id, ()))

    def between(self, start: datetime | None, end: datetime | None) -> list[EventRecord]:
        """Events with ``start <= time <= end`` (either bound may be open)."""
        lo = 0 if start is None else bisect_left(self._times, start)
        hi = len(self._times) if end is None else bisect_right(self._times, end)
        return list(self._records[lo:hi])

    def find(
        self,
        channel: str | None = None,
        event_ids: Iterable[int] | int | None = None,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> list[EventRecord]:
        """Events matching every given criterion, in time order."""
        if channel is not None:
            pool: Iterable[EventRecord] = self._by_channel.get(channel_key(channel), ())
        elif isinstance(event_ids, int):
            pool = self._by_id.get(event_ids, ())
        else:
            pool = self._records
        ids: set[int] | None
        if event_ids is None:
            ids = None
        elif isinstance(event_ids, int):
            ids = {event_ids}
        else:
            ids = set(event_ids)
        return [
            r
            for r in pool
            if (ids is None or r.event_id in ids)
            and (start is None or r.time >= start)
            and (end is None or r.time <= end)
        ]

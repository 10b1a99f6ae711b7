"""One UTC timeline of every event, registry snapshot and log line, tagged with its step.

Retries are kept (every snapshot and every event is its own entry). Summaries are cheap: events
reuse the summaries computed while linking, log lines are clipped to their first line.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from operator import attrgetter

from core.codes import annotate_codes
from core.esp.device import DeviceFacts
from core.esp.evidence_links import EventLinks, LogLinks
from core.esp.items import ItemInfo
from core.esp.model import TimelineEntry
from core.events.model import EventRecord
from core.logs.model import LogLine
from core.perf import draft_of

MAX_LOG_CHARS = 240
_ENTRY_DRAFT = draft_of(TimelineEntry)
_time = attrgetter("time")


def _log_summary(component: str, message: str) -> str:
    end = message.find("\n")  # not split(): that would copy the rest of a long message
    first = (message if end < 0 else message[:end]).strip()
    if len(first) > MAX_LOG_CHARS:
        first = first[: MAX_LOG_CHARS - 1] + "…"
    first = annotate_codes(first)
    return f"{component}: {first}" if component else first


def _event_summary(event_id: int, summary: str, why_unplaced: str | None) -> str:
    text = f"{event_id} {summary}"
    return f"{text} [no ESP step: {why_unplaced}]" if why_unplaced else text


def build_timeline(
    events: list[EventRecord],
    links: EventLinks,
    items: list[ItemInfo],
    logs: list[LogLine],
    facts: DeviceFacts,
    log_links: LogLinks,
    proven: Mapping[str, str] | None = None,
) -> tuple[TimelineEntry, ...]:
    """Every event, item snapshot, FirstSync time and timed log line, in time order.

    A log line carries the step ``log_links`` ties it to, else the step whose facts it proves
    (``proven``: origin → step, e.g. the IME lines behind a step's app states)."""
    proven = proven or {}
    # An entry per event (thousands), made as the log lines' below are.
    draft, timeline_entry = _ENTRY_DRAFT, TimelineEntry
    entries: list[TimelineEntry] = []
    append, unplaced = entries.append, links.unplaced
    for position, (event, step, said) in enumerate(
        zip(events, links.step_of, links.summaries, strict=True)
    ):
        made = draft(
            event.time,
            "event",
            step,
            _event_summary(event.event_id, said, unplaced.get(position)),
            event.origin,
        )
        made.__class__ = timeline_entry  # a TimelineEntry from here on (core.perf.draft_of)
        append(made)
    seen_snapshots: set[tuple[str, str]] = set()
    for item in items:
        for entry in item.history:
            key = (item.id, entry.time.isoformat())
            if key in seen_snapshots:
                continue
            seen_snapshots.add(key)
            origin = next((k.origin or k.path for k in item.keys), "registry")
            entries.append(
                TimelineEntry(
                    entry.time,
                    "registry",
                    item.step,
                    f"{item.kind} {item.name or item.id}: {entry.status}",
                    origin,
                )
            )
    for user in facts.user_first_sync:
        if user.timestamp is not None:
            durations = ", ".join(f"{k}={v}s" for k, v in user.durations.items())
            entries.append(
                TimelineEntry(
                    user.timestamp,
                    "registry",
                    None,
                    f"FirstSync timestamp for a user ({durations})",
                    user.key.origin or user.key.path,
                )
            )
    # IME repeats itself: a real log of 34,000 lines holds about 2,000 distinct messages, so
    # each (component, message) is summarised once. A message nearly always comes from one
    # component: the memo is looked up by the message alone (its hash is cached in the text;
    # a (component, message) key would be a new tuple to hash per line), with the component
    # it was summarised for; another component falls back to the pair. An entry per line:
    # each is made as a writable draft that then becomes a TimelineEntry (core.perf.draft_of).
    by_message: dict[str, tuple[str, str]] = {}  # message → (component, summary)
    by_pair: dict[tuple[str, str], str] = {}
    for line, linked in zip(logs, log_links.step_of, strict=True):
        when = line.time
        if when is None:
            continue
        message, component = line.message, line.component
        known = by_message.get(message)
        if known is None or known[0] != component:
            key = (component, message)
            summary = by_pair.get(key)
            if summary is None:
                summary = by_pair[key] = _log_summary(component, message)
            known = (component, summary)
            by_message.setdefault(message, known)
        origin = line.origin
        step = linked if linked is not None else proven.get(origin)
        made = draft(when, "log", step, known[1], origin)
        made.__class__ = timeline_entry  # a TimelineEntry from here on (core.perf.draft_of)
        append(made)
    try:
        # Aware times (all of them, in practice) compare as they are; sorted() leaves
        # ``entries`` whole when a comparison fails, for the second try.
        ordered = sorted(entries, key=_time)
    except TypeError:
        # Naive and aware times mixed: a correct sort compares every pair of neighbours in
        # its result, so it raised; the naive ones are read as UTC. (Either way the order is
        # the same as this key's alone: sorting is stable, aware times compare as instants.)
        ordered = sorted(entries, key=_utc_time)
    return tuple(ordered)


def _utc_time(entry: TimelineEntry) -> datetime:
    when = entry.time
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)

"""A step shows everything that explains it.

Every event, log line and registry key a finding cites as evidence is attached to the step the
finding is about — in the step's events / logs / registry and, for events and log lines, in the
timeline (the entry carries the step id). Findings cite evidence as ``origin: text`` strings
(``file#record``, ``file:line``, a key's origin or path, ``ESP status: …`` for the ESP's own
record); this module resolves them back to the evidence.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import compress, count
from operator import attrgetter

from core.esp.device import DeviceFacts
from core.esp.evidence_links import (
    MAX_LOGS_PER_STEP,
    EventLinks,
    LogLinks,
    log_ref,
    registry_ref,
)
from core.esp.items import ItemInfo
from core.esp.model import Finding, LogRef, RegistryRef
from core.esp.status import AUTOPILOT_SETTINGS
from core.events.model import EventRecord
from core.evidence import Evidence
from core.logs.model import LogLine
from core.registry.model import RegKey

#: Where the ESP keeps its own status record ("ESP status: …" evidence points there).
RECORD_KEY = AUTOPILOT_SETTINGS
RECORD_PREFIX = "ESP status:"


@dataclass(slots=True)
class Cited:
    """Evidence findings cite for one step (event / log positions, registry keys)."""

    events: list[int] = field(default_factory=list)
    logs: list[int] = field(default_factory=list)
    keys: list[RegistryRef] = field(default_factory=list)


_TRAILING_ORIGIN = re.compile(r"\(([^()\s]+(?:#\d+|:\d+))\)\s*$")
_PLACE = re.compile(r"(?:#\d+|:\d+)$")


def evidence_origin(text: str) -> str:
    """The origin of an evidence string: ``origin: text``, or ``text (origin)``."""
    head = text.split(": ", 1)[0].strip()
    if _PLACE.search(head) or head.upper().startswith("HK"):
        return head
    trailing = _TRAILING_ORIGIN.search(text)
    return trailing.group(1) if trailing else head


def is_placed(origin: str) -> bool:
    """Whether an origin names an event (``file#record``), a line of a log or dump
    (``file:line``) or a registry key (``HKLM\\…``): evidence a step can list."""
    return bool(_PLACE.search(origin)) or origin.upper().startswith("HK")


def _known_keys(items: list[ItemInfo], facts: DeviceFacts) -> Iterable[RegKey]:
    for item in items:
        yield from item.keys
    for user in facts.user_first_sync:
        yield user.key
    for key in (facts.enrollment, facts.first_sync):
        if key is not None:
            yield key


def attach_cited(
    findings: list[Finding],
    evidence: Evidence,
    links: EventLinks,
    log_links: LogLinks,
    items: list[ItemInfo],
    facts: DeviceFacts,
) -> dict[str, Cited]:
    """Resolve what step findings cite and tie it to their step (updates ``links`` and
    ``log_links`` in place so the timeline and the step's events agree)."""
    about_steps = [f for f in findings if f.step is not None and f.evidence]
    cited: dict[str, Cited] = {}
    if not about_steps:
        return cited
    origins = {evidence_origin(t) for f in about_steps for t in f.evidence}
    events = _positions(origins, evidence.events, map(_record_id, evidence.events), "#")
    lines = _positions(origins, evidence.logs, map(_line, evidence.logs), ":")
    keys: dict[str, RegKey] = {}
    for known in _known_keys(items, facts):
        if known.origin:
            keys.setdefault(known.origin, known)
        keys.setdefault(known.path.casefold(), known)
    for finding in about_steps:
        step = finding.step
        assert step is not None
        bucket = cited.setdefault(step, Cited())
        for text in finding.evidence:
            origin = evidence_origin(text)
            if text.startswith(RECORD_PREFIX):
                origin = RECORD_KEY
            position = events.get(origin)
            if position is not None:
                _tie_event(links, position, step)
                bucket.events.append(position)
                continue
            position = lines.get(origin)
            if position is not None:
                log_links.place(position, step)
                bucket.logs.append(position)
                continue
            key: RegKey | None = keys.get(origin) or keys.get(origin.casefold())
            if key is None and origin.upper().startswith("HK"):
                key = evidence.registry.key(origin)
            if key is not None and all(k.path != key.path for k in bucket.keys):
                bucket.keys.append(registry_ref(key))
    return cited


_record_id, _line = attrgetter("record_id"), attrgetter("line")


def _positions(
    origins: set[str],
    records: Sequence[EventRecord | LogLine],
    numbers: Iterable[int],
    separator: str,
) -> dict[str, int]:
    """Position of each cited ``file<separator>number`` origin among ``records`` (whose
    ``numbers`` are given in order) — without formatting an origin string for every event or
    line of a large capture. Records are looked up by their number alone, at C level (an int
    hashes at no cost; a (file, number) pair per record would be a tuple to make and hash),
    and only the few whose number is cited come back here to have their file checked."""
    wanted: dict[int, dict[str, str]] = {}  # number → file → origin
    for origin in origins:
        file, sep, number = origin.rpartition(separator)
        if sep and number.isdigit():
            wanted.setdefault(int(number), {})[file] = origin
    found: dict[str, int] = {}
    if wanted:
        hits = list(map(wanted.get, numbers))
        for position in compress(count(), hits):
            files = hits[position]
            assert files is not None  # compress() kept the records whose number is cited
            cited = files.get(records[position].file)
            if cited is not None:
                found.setdefault(cited, position)
    return found


def _tie_event(links: EventLinks, position: int, step: str) -> None:
    if links.step_of[position] is None:
        links.step_of[position] = step
    listed = links.by_step.setdefault(step, [])
    if position not in listed:
        listed.append(position)
        listed.sort()


def step_logs(
    lines: list[LogLine], log_links: LogLinks, step_id: str, cited: list[int]
) -> tuple[LogRef, ...]:
    """The step's log lines: the last ones tied to it (capped) plus every cited one."""
    tied = log_links.by_step.get(step_id, [])
    chosen = sorted(set(tied[-MAX_LOGS_PER_STEP:]) | set(cited))
    return tuple(log_ref(lines[n], log_links.item_of[n]) for n in chosen)

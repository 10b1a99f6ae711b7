"""Evidence per step: the registry keys behind it and the events that belong to it.

Events attach by channel + event id (catalogue in ``events.toml``), by the item ids they carry
(app GUIDs, MSI product codes) and, when the catalogue names several steps, by the phase's
time window. Every event gets a one-line summary: its message in our own words
(:mod:`core.events.messages`), else the catalogue text; unknown events get ``<provider> <id>:
k=v, …`` with codes decoded.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from core.esp.hresult import find_hresult, from_number
from core.esp.knowledge import EventDef, Knowledge, RegPattern
from core.esp.model import EventRef, RegistryRef, RegistryValueRef
from core.events.messages import clip, render_message
from core.events.model import EventRecord
from core.registry.model import RegistryView, RegKey

MAX_KEYS_PER_STEP = 200
_PLACEHOLDER = re.compile(r"%(\d+)|\{(\w+)\}")
_ID_TOKEN = re.compile(
    r"\{?[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\}?"
)
_USER_SID = re.compile(r"S-1-(?:12|5-21)-[\d-]+")
_DEVICE_SID = "S-0-0-00-0000000000-0000000000-000000000-000"
_DEVICE_URI = re.compile(r"\./Device/", re.IGNORECASE)
_USER_URI = re.compile(r"\./User/", re.IGNORECASE)


def summarize(event: EventRecord, definition: EventDef | None) -> str:
    """One line: the event's message template (``messages.toml``), else the catalogue text with
    its placeholders filled, else the generic ``<provider> <id>: Field=value`` line."""
    message, templated = render_message(event)
    if templated or definition is None:
        return message
    values = list(event.data.values())

    def fill(match: re.Match[str]) -> str:
        if match.group(1) is not None:
            index = int(match.group(1)) - 1
            return clip(values[index]) if 0 <= index < len(values) else "?"
        return clip(event.data.get(match.group(2), "?"))

    return _PLACEHOLDER.sub(fill, definition.text)


_ERROR_CODE = re.compile(r'"errorCode"\s*:\s*"?(-?\d+|0x[0-9A-Fa-f]+)')


def event_code(event: EventRecord) -> int | None:
    """The failure HRESULT an event carries: Shell-Core's JSON ``errorCode``, a ``0x…`` text
    or a (signed / unsigned) decimal field."""
    for value in event.data.values():
        m = _ERROR_CODE.search(value)
        if m is not None:
            found = from_number(m.group(1))
            if found is not None:
                return found
    for value in event.data.values():
        found = find_hresult(value) if "0x" in value.lower() else from_number(value)
        if found is not None:
            return found
    return None


def event_ref(event: EventRecord, summary: str) -> EventRef:
    return EventRef(
        time=event.time,
        channel=event.channel,
        event_id=event.event_id,
        level=event.level_name,
        record_id=event.record_id,
        summary=summary,
        origin=event.origin,
    )


# -- registry ---------------------------------------------------------------------------------


def expand(registry: RegistryView, pattern: str, users: Iterable[str]) -> list[RegKey]:
    """Keys matching a catalogue pattern (``*``, ``{user}``, trailing ``\\**``)."""
    patterns = (
        [pattern.replace("{user}", sid) for sid in users] if "{user}" in pattern else [pattern]
    )
    found: list[RegKey] = []
    for raw in patterns:
        subtree = raw.endswith("\\**")
        parts = (raw[:-3] if subtree else raw).split("\\")
        wild = next((i for i, part in enumerate(parts) if part == "*"), len(parts))
        base = registry.key("\\".join(parts[:wild]))
        frontier = [base] if base is not None else []
        for part in parts[wild:]:
            nxt: list[RegKey] = []
            for key in frontier:
                if part == "*":
                    nxt.extend(key.subkeys())
                else:
                    child = key.subkey(part)
                    if child is not None:
                        nxt.append(child)
            frontier = nxt
        for key in frontier:
            if subtree:
                for below in key.walk():
                    found.append(below)
                    if len(found) >= MAX_KEYS_PER_STEP:
                        return found
            else:
                found.append(key)
    return found


def registry_ref(key: RegKey, only: tuple[str, ...] = ()) -> RegistryRef:
    wanted = {name.casefold() for name in only}
    values = tuple(
        RegistryValueRef(v.name, v.type, v.data)
        for v in key.values()
        if not wanted or v.name.casefold() in wanted
    )
    return RegistryRef(path=key.path, last_write=key.last_write, values=values, origin=key.origin)


def step_registry(
    registry: RegistryView,
    patterns: tuple[RegPattern, ...],
    extra_keys: Iterable[RegKey],
    users: list[str],
) -> tuple[RegistryRef, ...]:
    refs: dict[str, RegistryRef] = {}
    for pattern in patterns:
        for key in expand(registry, pattern.path, users):
            folded = key.path.casefold()
            if folded not in refs and len(refs) < MAX_KEYS_PER_STEP:
                ref = registry_ref(key, pattern.values)
                if pattern.values and not ref.values:
                    continue
                refs[folded] = ref
    for key in extra_keys:
        folded = key.path.casefold()
        if folded not in refs and len(refs) < MAX_KEYS_PER_STEP:
            refs[folded] = registry_ref(key)
    return tuple(refs.values())


# -- events -----------------------------------------------------------------------------------


@dataclass(slots=True)
class EventLinks:
    """Which events belong to which step, with summaries computed once."""

    summaries: list[str] = field(default_factory=list)
    definitions: list[EventDef | None] = field(default_factory=list)
    step_of: list[str | None] = field(default_factory=list)
    #: start | success | failure | reboot | info, per event (Shell-Core: from the Name).
    outcomes: list[str] = field(default_factory=list)
    #: whether the event is ESP-specific evidence that may decide its step's status.
    decides: list[bool] = field(default_factory=list)
    by_step: dict[str, list[int]] = field(default_factory=dict)
    index: dict[tuple[str, int], list[int]] = field(default_factory=dict)  # (alias, id) → indexes


def _shell_core_name(event: EventRecord) -> str:
    return event.data.get("Name") or next(iter(event.data.values()), "")


def _shell_core_step(event: EventRecord, knowledge: Knowledge) -> str | None:
    name = _shell_core_name(event)
    for pattern, step in knowledge.shell_core_names:
        if pattern.search(name):
            return step
    return None


_SHELL_OUTCOMES = (
    (
        re.compile(r"_(Failed|Failure|TimedOut|Timeout|Abort|Error)$|Error$", re.IGNORECASE),
        "failure",
    ),
    (re.compile(r"_(Succeeded|Success|Complete|Skipped)$", re.IGNORECASE), "success"),
    (re.compile(r"_(Started|Wait|Incomplete)$", re.IGNORECASE), "start"),
)


def shell_core_outcome(event: EventRecord) -> str:
    """Outcome of a CloudExperienceHost breadcrumb from its Name's suffix."""
    name = _shell_core_name(event)
    for pattern, outcome in _SHELL_OUTCOMES:
        if pattern.search(name):
            return outcome
    return "info"


def _ids_in(event: EventRecord) -> list[str]:
    found: list[str] = []
    for value in event.data.values():
        if len(value) >= 36:
            found.extend(m.group(0).strip("{}").casefold() for m in _ID_TOKEN.finditer(value))
    return found


def _by_scope(event: EventRecord, candidates: tuple[str, ...]) -> str | None:
    """Device SID / user SID in the data picks the Device- or Account-setup candidate."""
    text = " ".join(event.data.values())
    if _DEVICE_SID in text or _DEVICE_URI.search(text):
        for step in candidates:
            if not step.startswith("AccountSetup"):
                return step
    if _USER_SID.search(text) or _USER_URI.search(text):
        for step in candidates:
            if step.startswith("AccountSetup"):
                return step
    return None


def link_events(
    events: list[EventRecord],
    knowledge: Knowledge,
    item_steps: dict[str, str],
    windows: dict[str, tuple[datetime | None, datetime | None]],
    inactive_phases: frozenset[str] = frozenset(),
) -> EventLinks:
    """Assign each event to at most one step.

    ``item_steps`` maps item ids (casefolded) to their step; ``windows`` maps phase ids to
    their (start, end) as far as known before events are considered. ``inactive_phases`` are
    phases the ESP's own record says never started: generic MDM events are not pinned on
    their steps (the record is not contradicted by noise), and a generic event named by
    several steps is linked only when an item id, a SID / LocURI scope or a time window
    places it — never by a default guess.
    """
    links = EventLinks()
    for position, event in enumerate(events):
        alias = knowledge.alias_of(event.channel)
        definition = knowledge.events.get((alias, event.event_id)) if alias is not None else None
        links.definitions.append(definition)
        links.summaries.append(summarize(event, definition))
        if alias is not None:
            links.index.setdefault((alias, event.event_id), []).append(position)
        step: str | None = None
        esp = alias == "shell_core" or (definition is not None and definition.esp)
        if alias == "shell_core":
            step = _shell_core_step(event, knowledge)
            outcome = shell_core_outcome(event) if step is not None else "info"
        else:
            outcome = definition.outcome if definition is not None else "info"
            if definition is not None and definition.steps:
                candidates = tuple(
                    c for c in definition.steps if esp or c.split(".", 1)[0] not in inactive_phases
                )
                if len(candidates) == 1 and (esp or len(definition.steps) == 1):
                    step = candidates[0]
                elif candidates:
                    step = _choose(event, candidates, item_steps, windows, guess=esp)
        if step is None and event.data:
            for token in _ids_in(event):
                step = item_steps.get(token)
                if step is not None:
                    break
        links.step_of.append(step)
        links.outcomes.append(outcome)
        links.decides.append(esp and step is not None)
        if step is not None:
            links.by_step.setdefault(step, []).append(position)
    return links


def _choose(
    event: EventRecord,
    candidates: tuple[str, ...],
    item_steps: dict[str, str],
    windows: dict[str, tuple[datetime | None, datetime | None]],
    *,
    guess: bool = True,
) -> str | None:
    for token in _ids_in(event):
        step = item_steps.get(token)
        if step in candidates:
            return step
    scoped = _by_scope(event, candidates)
    if scoped is not None:
        return scoped
    for step in candidates:
        start, end = windows.get(step.split(".", 1)[0], (None, None))
        if start is not None and event.time >= start and (end is None or event.time <= end):
            return step
    if not guess:
        return None
    # No clue: the IME's own MSI matched by id above, so an MSI event is most likely an app.
    if len(candidates) > 1 and candidates[0].startswith("DevicePreparation"):
        return candidates[1]
    return candidates[0]

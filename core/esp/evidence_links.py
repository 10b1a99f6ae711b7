"""Evidence per step: the registry keys behind it and the events that belong to it.

Events attach by channel + event id (catalogue in ``events.toml``), by the item ids they carry
(app GUIDs, MSI product codes) and, when the catalogue names several steps, by the phase's
time window. Every event gets a one-line summary: its message in our own words
(:mod:`core.events.messages`, the one home of event texts); events without a template get
``<provider> <id>: k=v, …`` with codes decoded.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from itertools import compress, count
from operator import attrgetter

from core.esp.hresult import find_hresult, from_number
from core.esp.knowledge import EventDef, Knowledge, RegPattern
from core.esp.model import EventRef, LogRef, RegistryRef, RegistryValueRef, Severity
from core.esp.values import display
from core.events.messages import MessageTemplate, message_template, render_with
from core.events.model import EventRecord
from core.logs.model import LogLine
from core.registry.model import RegistryView, RegKey

MAX_KEYS_PER_STEP = 200
_ID_TOKEN = re.compile(
    r"\{?[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\}?"
)
_USER_SID = re.compile(r"S-1-(?:12|5-21)-[\d-]+")
_DEVICE_SID = "S-0-0-00-0000000000-0000000000-000000000-000"
_DEVICE_URI = re.compile(r"\./Device/", re.IGNORECASE)
_USER_URI = re.compile(r"\./User/", re.IGNORECASE)


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
        RegistryValueRef(v.name, v.type, v.data, display(key.path, v.name, v.data))
        for v in key.values()
        if not wanted or v.name.casefold() in wanted
    )
    return RegistryRef(path=key.path, last_write=key.last_write, values=values, origin=key.origin)


def step_registry(
    registry: RegistryView,
    patterns: tuple[RegPattern, ...],
    extra_keys: Iterable[RegKey],
    users: list[str],
    cited: Iterable[RegistryRef] = (),
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
    for ref in cited:  # what a finding cites is always shown, whatever the cap
        refs.setdefault(ref.path.casefold(), ref)
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
    #: why an ESP-relevant event is tied to no step (position → plain words)
    unplaced: dict[int, str] = field(default_factory=dict)


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


_LOC_URI = re.compile(r"\./(?:Device|User|Vendor)/[^\s,;\"']+", re.IGNORECASE)
#: CSP nodes whose next path segment names the tracked item (its profile / package id).
_NODE_MARKERS = (
    "scep", "pfxcertinstall", "wifi/profile", "vpnv2", "msi", "installation", "appstore",
    "nonstore", "tracking/sidecar", "tracking/configmgr",
)


def item_tokens(item_id: str) -> list[str]:
    """Every form in which evidence may name an item: the id itself, a bare GUID for any
    decorated form (``Win32App_<guid>_<rev>``, ``{guid}``, ``<guid>_<rev>``), and for a LocURI
    the profile / package node it ends in (``…/SCEP/<id>/…`` → ``<id>``)."""
    folded = item_id.casefold()
    tokens = [folded.strip("{}")]
    if folded.startswith("./"):
        # Not the GUIDs inside a LocURI: a SCEP node embeds its CA's id, which every
        # certificate check of any profile of that CA names.
        tokens.append(_uri_core(folded))
        node = uri_node(folded)
        if node is not None:
            tokens.append(node)
    else:
        tokens.extend(m.group(0).strip("{}").casefold() for m in _ID_TOKEN.finditer(item_id))
    return list(dict.fromkeys(t for t in tokens if len(t) >= 6))


def _uri_core(uri: str) -> str:
    """A LocURI without its ``./Device`` / ``./User`` / ``./Vendor`` prefix, casefolded."""
    folded = uri.casefold()
    for prefix in ("./device/", "./user/", "./"):
        if folded.startswith(prefix):
            return folded[len(prefix):].rstrip("/")
    return folded


def uri_node(uri: str) -> str | None:
    """The node naming the item in a CSP LocURI (``…/SCEP/<id>/Install/…`` → ``<id>``)."""
    folded = uri.casefold()
    for marker in _NODE_MARKERS:
        index = folded.find(f"/{marker}/")
        if index >= 0:
            rest = folded[index + len(marker) + 2 :]
            node = rest.split("/", 1)[0]
            return node or None
    return None


def _value_ids(value: str, bare: bool) -> list[str]:
    """The names one event value carries: GUIDs in any decoration, LocURIs and their item
    node and, with ``bare``, the whole value when it is short (a SCEP profile id or package
    name on its own)."""
    found = _line_tokens(value) if len(value) >= 36 or "./" in value else []
    if bare and 6 <= len(value) <= 200 and " " not in value:
        found.append(value.casefold())
    return found


def _ids_in(event: EventRecord, bare: bool = True) -> Iterator[str]:
    """The names an event carries (:func:`_value_ids`), lazily: callers stop at the first
    tracked one."""
    for value in event.data.values():
        yield from _value_ids(value, bare)


def _step_named(value: str, item_steps: dict[str, str], bare: bool) -> str | None:
    """The step of the first tracked name one event value carries."""
    return next((s for s in map(item_steps.get, _value_ids(value, bare)) if s is not None), None)


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


_UNSEEN = "\0unseen"


@dataclass(frozen=True, slots=True)
class _Kind:
    """What :func:`link_events` decides from an event's channel, provider and id alone: a
    capture's thousands of events are of a few hundred kinds."""

    definition: EventDef | None
    #: ``EventLinks.index`` entry the event's position goes to (None without an alias).
    positions: list[int] | None
    esp: bool
    shell_core: bool
    outcome: str
    #: The step when the catalogue decides it alone, else None.
    step: str | None
    #: Steps to choose from per event (by its ids, scope or time), else empty.
    candidates: tuple[str, ...]
    template: MessageTemplate | None


def _kind(
    event: EventRecord,
    alias: str | None,
    knowledge: Knowledge,
    links: EventLinks,
    inactive_phases: frozenset[str],
) -> _Kind:
    event_id = event.event_id
    definition = knowledge.events.get((alias, event_id)) if alias is not None else None
    positions = links.index.setdefault((alias, event_id), []) if alias is not None else None
    template = message_template(event.provider, event_id)
    if alias == "shell_core":
        return _Kind(definition, positions, True, True, "info", None, (), template)
    esp = definition is not None and definition.esp
    outcome = definition.outcome if definition is not None else "info"
    step: str | None = None
    candidates: tuple[str, ...] = ()
    if definition is not None and definition.steps:
        candidates = tuple(
            c for c in definition.steps if esp or c.split(".", 1)[0] not in inactive_phases
        )
        if len(candidates) == 1 and (esp or len(definition.steps) == 1):
            step, candidates = candidates[0], ()
    return _Kind(definition, positions, esp, False, outcome, step, candidates, template)


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
    # Whole values are compared only when some item is named by a bare node (not a GUID).
    bare = any(not _ID_TOKEN.fullmatch(token) and "/" not in token for token in item_steps)
    aliases: dict[str, str | None] = {}  # a capture has a dozen channels, thousands of events
    kinds: dict[tuple[str, str, int], _Kind] = {}
    named_by: dict[tuple[str, ...], str | None] = {}
    value_steps: dict[str, str | None] = {}  # a tenth of the values are distinct
    summaries, definitions, step_of = links.summaries, links.definitions, links.step_of
    outcomes, decides = links.outcomes, links.decides
    for position, event in enumerate(events):
        channel = event.channel
        kind = kinds.get((channel, event.provider, event.event_id))
        if kind is None:
            alias = aliases.get(channel, "")
            if alias == "":
                alias = aliases[channel] = knowledge.alias_of(channel)
            kind = kinds[(channel, event.provider, event.event_id)] = _kind(
                event, alias, knowledge, links, inactive_phases
            )
        definitions.append(kind.definition)
        summaries.append(render_with(kind.template, event)[0])
        if kind.positions is not None:
            kind.positions.append(position)
        step = kind.step
        outcome = kind.outcome
        if kind.shell_core:
            step = _shell_core_step(event, knowledge)
            outcome = shell_core_outcome(event) if step is not None else "info"
        elif kind.candidates:
            step = _choose(event, kind.candidates, item_steps, windows, guess=kind.esp)
        if step is None and event.data and item_steps:
            # What the values name depends on them alone; a capture's thousands of events
            # carry a few thousand distinct sets of values.
            values = tuple(event.data.values())
            named = named_by.get(values, _UNSEEN)
            if named is _UNSEEN:
                # The first tracked name in value order: the first value that names a step.
                named = None
                for value in values:
                    found = value_steps.get(value, _UNSEEN)
                    if found is _UNSEEN:
                        found = value_steps[value] = _step_named(value, item_steps, bare)
                    if found is not None:
                        named = found
                        break
                named_by[values] = named
            step = named
        step_of.append(step)
        outcomes.append(outcome)
        decides.append(kind.esp and step is not None)
    _pair_by_code(events, links)
    for position, step in enumerate(links.step_of):
        if step is not None:
            links.by_step.setdefault(step, []).append(position)
    _explain_unplaced(events, knowledge, links, inactive_phases)
    return links


def _explain_unplaced(
    events: list[EventRecord],
    knowledge: Knowledge,
    links: EventLinks,
    inactive_phases: frozenset[str],
) -> None:
    """Say why an event the catalogue ties to ESP steps, or a DeviceManagement error or
    warning, is tied to none (shown with its timeline entry)."""
    for position, step in enumerate(links.step_of):
        if step is not None:
            continue
        definition = links.definitions[position]
        event = events[position]
        if definition is not None and definition.steps:
            phases = {c.split(".", 1)[0] for c in definition.steps}
            if phases <= inactive_phases:
                titles = ", ".join(p.title for p in knowledge.phases if p.id in phases)
                links.unplaced[position] = (
                    f"the ESP's record says {titles} did not run, and the event names no "
                    "tracked item"
                )
            else:
                links.unplaced[position] = (
                    "it could belong to several steps and names no tracked item, user or "
                    "device scope, nor falls in a phase's time window"
                )
        elif event.level in (1, 2, 3) and (knowledge.alias_of(event.channel) or "").startswith(
            "dm_"
        ):
            links.unplaced[position] = "a generic MDM event that names no item the ESP tracks"


PAIR_WINDOW_SECONDS = 2.0


def _pair_by_code(events: list[EventRecord], links: EventLinks) -> None:
    """An event that names nothing but a code (DeviceManagement 32 "SCEP enrollment failed
    (0x800B0101)") belongs with the event of the same file written in the same moment with the
    same code that does name an item (309, carrying the SCEP profile id)."""
    placed: dict[tuple[str, int], list[int]] = {}
    for position, step in enumerate(links.step_of):
        if step is not None:
            code = event_code(events[position])
            if code is not None:
                placed.setdefault((events[position].file, code), []).append(position)
    if not placed:
        return
    files = {file for file, _ in placed}
    for position, step in enumerate(links.step_of):
        if step is not None:
            continue
        event = events[position]
        if event.level not in (1, 2, 3) or event.file not in files:  # failures / warnings only
            continue
        code = event_code(event)
        if code is None:
            continue
        for other in placed.get((event.file, code), ()):
            gap = abs((events[other].time - event.time).total_seconds())
            if gap <= PAIR_WINDOW_SECONDS:
                links.step_of[position] = links.step_of[other]
                break


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


# -- log lines --------------------------------------------------------------------------------

MAX_LOGS_PER_STEP = 300
_LOG_SEVERITY: dict[int, Severity] = {3: "error", 2: "warning"}


@dataclass(slots=True)
class LogLinks:
    """Which log lines belong to which step and item (parallel to the lines)."""

    step_of: list[str | None] = field(default_factory=list)
    item_of: list[str | None] = field(default_factory=list)
    by_step: dict[str, list[int]] = field(default_factory=dict)

    def place(self, position: int, step: str, item: str | None = None) -> None:
        """Tie one more line to a step (log readers that know better, e.g. IME phase lines)."""
        if self.step_of[position] is None:
            self.by_step.setdefault(step, []).append(position)
        elif self.step_of[position] != step:
            return
        self.step_of[position] = step
        if item is not None and self.item_of[position] is None:
            self.item_of[position] = item


#: The part of a GUID after its first eight digits. It begins with a literal dash, which the
#: regex engine looks for with a fast string search; a pattern that begins with a character
#: class (as :data:`_ID_TOKEN` does) is tried at every offset, twenty times slower on logs.
_GUID_TAIL = re.compile(r"-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_HEX8 = re.compile(r"[0-9a-fA-F]{8}")


def _guid_tokens(text: str) -> list[str]:
    """The GUIDs in ``text``, bare and case-folded: exactly
    ``[m.group(0).strip("{}").casefold() for m in _ID_TOKEN.finditer(text)]``, found faster.

    A GUID is a tail (:data:`_GUID_TAIL`) after eight hex digits. Matches do not overlap, as
    with ``finditer``: a GUID starts at or after the end of the one before (a brace after it
    is no hex digit, so it changes nothing). No dash inside a tail can be a GUID's first dash
    (the eight characters before it hold a dash), so the tails the search steps over hide none.
    """
    found: list[str] = []
    last = 0
    for m in _GUID_TAIL.finditer(text):
        dash = m.start()
        start = dash - 8
        if start >= last and _HEX8.fullmatch(text, start, dash):
            found.append(text[start : m.end()].casefold())
            last = m.end()
    return found


def _line_tokens(message: str, guids: bool = True) -> list[str]:
    found: list[str] = []
    if guids and "-" in message:
        found.extend(_guid_tokens(message))
    if "./" in message:
        for m in _LOC_URI.finditer(message):
            found.append(_uri_core(m.group(0)))
            node = uri_node(m.group(0))
            if node is not None:
                found.append(node)
    return found


def link_log_lines(
    lines: list[LogLine], item_steps: dict[str, str], item_ids: dict[str, str]
) -> LogLinks:
    """Tie each log line to the step (and item) it names: an app GUID in any decorated form,
    an MSI product code or a LocURI of a tracked item. ``item_steps`` / ``item_ids`` map the
    tokens of :func:`item_tokens` to the item's step and id."""
    # Only look for the kinds of names the tracked items have (a GUID scan of every line
    # costs when no item is named by a GUID).
    guids = any(_ID_TOKEN.fullmatch(token) for token in item_steps)
    uris = any("/" in token for token in item_steps)
    # What a line names depends on its text alone, and logs repeat themselves (a real IME log
    # of 34,000 lines holds about 2,000 distinct messages): each text is looked at once, and
    # only the texts that name something are kept, so the per-line lists are C-level
    # look-ups (``dict.get`` gives None for the rest).
    messages = list(map(attrgetter("message"), lines))
    step_by: dict[str, str] = {}
    item_by: dict[str, str | None] = {}
    if guids or uris:
        for message in dict.fromkeys(messages):
            if guids or "./" in message:
                for token in _line_tokens(message, guids):
                    step = item_steps.get(token)
                    if step is not None:
                        step_by[message] = step
                        item_by[message] = item_ids.get(token)
                        break
    links = LogLinks(list(map(step_by.get, messages)), list(map(item_by.get, messages)))
    if step_by:
        by_step = links.by_step
        # The positions of the tied lines (a step is a non-empty text), in order.
        for position in compress(count(), links.step_of):
            step = links.step_of[position]
            assert step is not None
            by_step.setdefault(step, []).append(position)
    return links


def log_ref(line: LogLine, item: str | None = None) -> LogRef:
    return LogRef(
        time=line.time,
        severity=_LOG_SEVERITY.get(line.type, "info"),
        component=line.component,
        thread=line.thread,
        message=line.message,
        origin=line.origin,
        item=item,
    )

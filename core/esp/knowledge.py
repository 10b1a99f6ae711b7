"""The knowledge files under ``resources/knowledge`` as typed, read-once data.

``steps.toml`` (phases, steps, channels, status vocabularies), ``events.toml`` (event
catalogue), ``rules.toml`` (finding texts, confidence, source and thresholds) and
``states.toml`` (value maps of state enumerations); error codes, their causes and first
steps come from :mod:`core.codes` (``codes.tsv``, ``errors.toml``, checked strictly there).
Adding a hint or an event id is an edit there, not here.

The loader is strict: a key it does not know (a typo, a leftover) is a
:class:`KnowledgeError`, and so is a rule parameter no registered rule reads (checked by
:func:`core.esp.rules.registry.check`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from core import codes
from core.codes import ErrorDef
from core.esp.model import STATUSES, Confidence, Severity
from core.paths import resource_path
from core.resource_cache import load_toml


class KnowledgeError(ValueError):
    """A knowledge file breaks its own format (a bug in the shipped data, not bad evidence)."""


_SEVERITIES: tuple[Severity, ...] = ("error", "warning", "info")
_CONFIDENCES: tuple[Confidence, ...] = ("high", "medium", "low")
_RULE_FIELDS = frozenset({"severity", "confidence", "title", "text", "hint", "source"})


@dataclass(frozen=True, slots=True)
class PhaseDef:
    """A phase as ``steps.toml`` defines it (its status value and skip flag)."""

    id: str
    title: str
    category_value: str
    skip_flag: str


@dataclass(frozen=True, slots=True)
class RegPattern:
    """A registry key (and values) that ``steps.toml`` shows as evidence for a step."""

    path: str
    values: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class StepDef:
    """A step as ``steps.toml`` defines it."""

    id: str
    phase: str
    title: str
    visible: bool = True
    lists: tuple[str, ...] = ()
    registry: tuple[RegPattern, ...] = ()

    @property
    def flat_key(self) -> str:
        """Name of the step in the flat JSON shape (``CertificatesSubcategory``)."""
        return self.id.split(".", 1)[1]


@dataclass(frozen=True, slots=True)
class EventDef:
    """A catalogued event: its ESP role (outcome, steps). Its readable line is not here: it
    comes from ``messages.toml`` (:mod:`core.events.messages`), the one home of event texts,
    and a ``text`` key in ``events.toml`` is rejected as unknown."""

    alias: str
    id: int
    outcome: str = "info"
    level: str | None = None
    steps: tuple[str, ...] = ()
    #: ESP-specific evidence (the ESP's own Autopilot / Shell-Core breadcrumbs, Windows 11
    #: Enrollment Status Tracking events): only these may decide a step's status. Generic MDM
    #: events (command failures, SCEP, MSI, enrollment) only annotate and produce findings.
    esp: bool = False


@dataclass(frozen=True, slots=True)
class RuleDef:
    """A rule's texts, severity, confidence, source and parameters (``rules.toml``)."""

    id: str
    severity: Severity
    confidence: Confidence
    title: str
    text: str
    hint: str | None
    source: str | None
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Knowledge:
    """The knowledge files, typed and checked (:func:`load`)."""

    channels: dict[str, tuple[str, ...]]
    json_states: dict[str, str]
    text_status: tuple[tuple[re.Pattern[str], str], ...]
    phases: tuple[PhaseDef, ...]
    steps: tuple[StepDef, ...]
    events: dict[tuple[str, int], EventDef]
    shell_core_names: tuple[tuple[re.Pattern[str], str], ...]
    errors: dict[int, tuple[ErrorDef, ...]]
    facilities: dict[int, str]
    rules: dict[str, RuleDef]
    channel_alias: dict[str, str]  # casefolded channel name -> alias
    #: value maps of state enumerations: table name -> value -> word
    states: dict[str, dict[int, str]] = field(default_factory=dict)
    #: names (in event channels / providers, log files / components) only Windows Autopilot
    #: device preparation writes
    device_prep_names: tuple[str, ...] = ()
    #: ``alias:id`` events that mark a pre-provisioning technician flow, and the word its
    #: Shell-Core breadcrumbs carry
    pre_provisioning_events: tuple[str, ...] = ()
    pre_provisioning_breadcrumb: str = ""

    def alias_of(self, channel: str) -> str | None:
        """Alias (``autopilot``, ``dm_admin`` …) of a channel name, case-insensitive."""
        return self.channel_alias.get(channel.casefold())

    def step(self, step_id: str) -> StepDef | None:
        for step in self.steps:
            if step.id == step_id:
                return step
        return None

    def steps_of(self, phase_id: str, *, visible_only: bool = False) -> tuple[StepDef, ...]:
        return tuple(
            s for s in self.steps if s.phase == phase_id and (s.visible or not visible_only)
        )

    def event(self, channel: str, event_id: int) -> EventDef | None:
        alias = self.alias_of(channel)
        return None if alias is None else self.events.get((alias, event_id))

    def error(self, code: int, step_id: str | None = None) -> ErrorDef | None:
        """Our cause / first step for ``code`` specific to ``step_id`` if any, else the
        general one (:func:`core.codes.cause_of`)."""
        return codes.cause_of(code, step_id)

    def rule(self, rule_id: str) -> RuleDef:
        return self.rules[rule_id]

    def state(self, table: str, value: int | None) -> str | None:
        """The word for ``value`` in the ``states.toml`` table ``table``."""
        return None if value is None else self.states[table].get(value)


def parse_code(text: str | int) -> int:
    """``"0x800705B4"`` / ``"-2147023436"`` / ``2147943860`` → unsigned 32-bit int, for codes
    written in the knowledge files (:func:`core.codes.parse_code`; a non-code is an error)."""
    code = codes.parse_code(text)
    if code is None:
        raise KnowledgeError(f"not an error code: {text!r}")
    return code


def _read(name: str) -> dict[str, Any]:
    return load_toml(resource_path("knowledge", name))


def _keys(where: str, entry: Any, allowed: set[str] | frozenset[str]) -> dict[str, Any]:
    """``entry`` as a table whose keys are all in ``allowed``."""
    if not isinstance(entry, dict):
        raise KnowledgeError(f"{where}: expected a table, got {type(entry).__name__}")
    unknown = sorted(set(entry) - set(allowed))
    if unknown:
        raise KnowledgeError(f"{where}: unknown key(s) {', '.join(unknown)}")
    return entry


def _one_of(where: str, value: Any, allowed: tuple[str, ...]) -> Any:
    if value not in allowed:
        raise KnowledgeError(f"{where}: {value!r} is not one of {', '.join(allowed)}")
    return value


def _rule(rule_id: str, entry: Any) -> RuleDef:
    where = f"rules.toml [rule.{rule_id}]"
    if not isinstance(entry, dict):
        raise KnowledgeError(f"{where}: expected a table")
    for required in ("severity", "confidence", "title", "text", "source"):
        if not entry.get(required):
            raise KnowledgeError(f"{where}: {required} is required")
    return RuleDef(
        id=rule_id,
        severity=_one_of(where, entry["severity"], _SEVERITIES),
        confidence=_one_of(where, entry["confidence"], _CONFIDENCES),
        title=entry["title"],
        text=entry["text"],
        hint=entry.get("hint"),
        source=entry["source"],
        params={k: v for k, v in entry.items() if k not in _RULE_FIELDS},
    )


#: What a catalogued event can mean for its step (events.toml ``outcome``).
OUTCOMES = frozenset({"start", "success", "failure", "info", "reboot"})


def _check_values(
    steps_doc: dict[str, Any],
    steps: tuple[StepDef, ...],
    phases: tuple[PhaseDef, ...],
    events: dict[tuple[str, int], EventDef],
    shell_core: tuple[tuple[re.Pattern[str], str], ...],
) -> None:
    """Values the files may only take from a known set: a misspelt word would otherwise load
    and quietly read as ``unknown`` (status words) or tie nothing (step ids)."""
    step_ids = {s.id for s in steps}
    phase_ids = {p.id for p in phases}
    for step in steps:
        if step.phase not in phase_ids:
            raise KnowledgeError(f"steps.toml step {step.id}: unknown phase {step.phase!r}")
    for word, status in steps_doc["json_states"].items():
        if status not in STATUSES:
            raise KnowledgeError(f"steps.toml json_states.{word}: {status!r} is not a status")
    for n, entry in enumerate(steps_doc.get("text_status", [])):
        if entry["status"] not in STATUSES:
            raise KnowledgeError(f"steps.toml text_status {n}: {entry['status']!r} is not a status")
    for (alias, number), event in events.items():
        where = f"events.toml event {alias}:{number}"
        if event.outcome not in OUTCOMES:
            raise KnowledgeError(f"{where}: outcome {event.outcome!r} is not one of "
                                 f"{', '.join(sorted(OUTCOMES))}")
        unknown = sorted(set(event.steps) - step_ids)
        if unknown:
            raise KnowledgeError(f"{where}: unknown step(s) {', '.join(unknown)}")
    for _pattern, step_id in shell_core:
        if step_id not in step_ids:
            raise KnowledgeError(f"events.toml shell_core_name: unknown step {step_id!r}")


def _states(doc: dict[str, Any]) -> dict[str, dict[int, str]]:
    _keys("states.toml", doc, {"schema", "state"})
    tables: dict[str, dict[int, str]] = {}
    for name, table in doc.get("state", {}).items():
        if not isinstance(table, dict):
            raise KnowledgeError(f"states.toml [state.{name}]: expected a table")
        try:
            tables[name] = {int(k): str(v) for k, v in table.items()}
        except ValueError as exc:
            raise KnowledgeError(f"states.toml [state.{name}]: {exc}") from None
    return tables


def _str_tuple(value: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in value) if isinstance(value, list) else ()


@cache
def load() -> Knowledge:
    """Read and type the knowledge files (once per process)."""
    steps_doc = _read("steps.toml")
    events_doc = _read("events.toml")
    rules_doc = _read("rules.toml")
    states_doc = _read("states.toml")
    _keys(
        "steps.toml",
        steps_doc,
        {
            "schema",
            "channels",
            "json_states",
            "text_status",
            "phase",
            "step",
            "device_preparation",
            "pre_provisioning",
        },
    )
    pre_doc = _keys(
        "steps.toml [pre_provisioning]",
        steps_doc.get("pre_provisioning", {}),
        {"events", "breadcrumb"},
    )
    prep_doc = _keys(
        "steps.toml [device_preparation]", steps_doc.get("device_preparation", {}), {"names"}
    )
    _keys("events.toml", events_doc, {"schema", "esp_channels", "event", "shell_core_name"})
    _keys("rules.toml", rules_doc, {"schema", "rule"})
    for n, p in enumerate(steps_doc.get("phase", [])):
        _keys(f"steps.toml phase {n}", p, {"id", "title", "category_value", "skip_flag"})
    for n, s in enumerate(steps_doc.get("step", [])):
        _keys(f"steps.toml step {n}", s, {"id", "phase", "title", "visible", "lists", "registry"})
        for r in s.get("registry", []):
            _keys(f"steps.toml step {s.get('id')} registry", r, {"path", "values"})
    for n, t in enumerate(steps_doc.get("text_status", [])):
        _keys(f"steps.toml text_status {n}", t, {"pattern", "status"})
    for e in events_doc.get("event", []):
        _keys(
            f"events.toml event {e.get('channel')}:{e.get('id')}",
            e,
            {"channel", "id", "outcome", "level", "steps", "esp"},
        )
    for n, e in enumerate(events_doc.get("shell_core_name", [])):
        _keys(f"events.toml shell_core_name {n}", e, {"pattern", "step"})

    channels = {alias: _str_tuple(names) for alias, names in steps_doc["channels"].items()}
    phases = tuple(
        PhaseDef(p["id"], p["title"], p["category_value"], p["skip_flag"])
        for p in steps_doc["phase"]
    )
    steps = tuple(
        StepDef(
            id=s["id"],
            phase=s["phase"],
            title=s["title"],
            visible=bool(s.get("visible", True)),
            lists=_str_tuple(s.get("lists", [])),
            registry=tuple(
                RegPattern(r["path"], _str_tuple(r.get("values", [])))
                for r in s.get("registry", [])
            ),
        )
        for s in steps_doc["step"]
    )
    events: dict[tuple[str, int], EventDef] = {}
    esp_channels = set(_str_tuple(events_doc.get("esp_channels", [])))
    for e in events_doc.get("event", []):
        definition = EventDef(
            alias=e["channel"],
            id=int(e["id"]),
            outcome=e.get("outcome", "info"),
            level=e.get("level"),
            steps=_str_tuple(e.get("steps", [])),
            esp=bool(e.get("esp", e["channel"] in esp_channels)),
        )
        events[(definition.alias, definition.id)] = definition
    shell_core = tuple(
        (re.compile(entry["pattern"]), entry["step"])
        for entry in events_doc.get("shell_core_name", [])
    )
    rules = {rule_id: _rule(rule_id, r) for rule_id, r in rules_doc.get("rule", {}).items()}
    _check_values(steps_doc, steps, phases, events, shell_core)
    for event_def in events.values():
        if event_def.alias not in channels:
            raise KnowledgeError(f"events.toml: unknown channel alias {event_def.alias!r}")
    return Knowledge(
        channels=channels,
        json_states={str(k): str(v) for k, v in steps_doc["json_states"].items()},
        text_status=tuple(
            (re.compile(t["pattern"]), t["status"]) for t in steps_doc.get("text_status", [])
        ),
        phases=phases,
        steps=steps,
        events=events,
        shell_core_names=shell_core,
        errors=codes.causes(),
        facilities=codes.facility_names(),
        rules=rules,
        channel_alias={
            name.casefold(): alias for alias, names in channels.items() for name in names
        },
        states=_states(states_doc),
        device_prep_names=_str_tuple(prep_doc.get("names", [])),
        pre_provisioning_events=_str_tuple(pre_doc.get("events", [])),
        pre_provisioning_breadcrumb=str(pre_doc.get("breadcrumb", "")),
    )

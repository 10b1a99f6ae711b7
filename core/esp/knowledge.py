"""The knowledge files under ``resources/knowledge`` as typed, read-once data.

``steps.toml`` (phases, steps, channels, status vocabularies), ``events.toml`` (event
catalogue) and ``rules.toml`` (finding texts and thresholds); error codes, their causes and
hints come from :mod:`core.codes` (``codes.tsv``, ``errors.toml``). Adding a hint or an event
id is an edit there, not here.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from core import codes
from core.codes import ErrorDef
from core.paths import resource_path


@dataclass(frozen=True, slots=True)
class PhaseDef:
    id: str
    title: str
    category_value: str
    skip_flag: str


@dataclass(frozen=True, slots=True)
class RegPattern:
    path: str
    values: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class StepDef:
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
    alias: str
    id: int
    text: str
    outcome: str = "info"
    level: str | None = None
    steps: tuple[str, ...] = ()
    #: ESP-specific evidence (the ESP's own Autopilot / Shell-Core breadcrumbs, Windows 11
    #: Enrollment Status Tracking events): only these may decide a step's status. Generic MDM
    #: events (command failures, SCEP, MSI, enrollment) only annotate and produce findings.
    esp: bool = False


@dataclass(frozen=True, slots=True)
class RuleDef:
    id: str
    severity: str
    title: str
    text: str
    hint: str | None
    source: str | None
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Knowledge:
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


def _read(name: str) -> dict[str, Any]:
    path: Path = resource_path("knowledge", name)
    with path.open("rb") as handle:
        return tomllib.load(handle)


def _str_tuple(value: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in value) if isinstance(value, list) else ()


@cache
def load() -> Knowledge:
    """Read and type the knowledge files (once per process)."""
    steps_doc = _read("steps.toml")
    events_doc = _read("events.toml")
    rules_doc = _read("rules.toml")

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
            text=e["text"],
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
    rules: dict[str, RuleDef] = {}
    for rule_id, r in rules_doc.get("rule", {}).items():
        known = {"severity", "title", "text", "hint", "source"}
        rules[rule_id] = RuleDef(
            id=rule_id,
            severity=r["severity"],
            title=r["title"],
            text=r["text"],
            hint=r.get("hint"),
            source=r.get("source"),
            params={k: v for k, v in r.items() if k not in known},
        )
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
    )

"""The analysis result: frozen dataclasses mirroring the ``espview.report/1`` JSON contract.

Field names and vocabularies are exactly those of the contract (ARCHITECTURE.md, "The report
model" and "JSON report") so the JSON writer is a plain walk. Every piece keeps its provenance
in ``origin`` / ``evidence`` strings (``file:line``, ``file#record``, key path).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, get_args

from core.perf import lean_init
from core.problems import Problem
from core.registry.model import ValueData

SCHEMA = "espview.report/1"

Status = Literal[
    "not_started",
    "identifying",
    "in_progress",
    "succeeded",
    "failed",
    "skipped",
    "not_required",
    "unknown",
]
STATUSES: tuple[Status, ...] = get_args(Status)
DeploymentMode = Literal[
    "user_driven",
    "hybrid_user_driven",
    "self_deploying",
    "pre_provisioning",
    "device_preparation",
    "not_autopilot",
    "unknown",
]
ItemKind = Literal[
    "win32", "msi", "office", "modern", "policy", "scep", "pfx", "network", "provider",
    "task_sequence", "script",
]
Severity = Literal["error", "warning", "info"]
#: The one severity order (most severe first) every list of findings sorts by.
SEVERITY_ORDER: dict[str, int] = {sev: n for n, sev in enumerate(get_args(Severity))}
Confidence = Literal["high", "medium", "low"]
TimelineKind = Literal["event", "registry", "log"]
PhaseId = Literal["DevicePreparation", "DeviceSetup", "AccountSetup"]
PHASE_IDS: tuple[PhaseId, ...] = get_args(PhaseId)


@dataclass(frozen=True, slots=True)
class SourceSummary:
    """The capture that was read: its kind and path, the files used from it and the
    problems met reading them."""

    kind: str
    path: str
    files: tuple[str, ...] = ()
    problems: tuple[Problem, ...] = ()


@dataclass(frozen=True, slots=True)
class Device:
    """The device as the evidence names it; a field no source gives is None."""

    name: str | None = None
    serial: str | None = None
    os_build: str | None = None
    tenant_domain: str | None = None
    profile_name: str | None = None
    autopilot: bool | None = None
    deployment_mode: DeploymentMode = "unknown"
    # The device's time zone as the evidence names it (Windows or IANA name), None when unknown.
    time_zone: str | None = None


@dataclass(frozen=True, slots=True)
class Settings:
    """The ESP's settings (timeout, skip and retry options) as the device recorded them; None
    where the evidence does not say."""

    timeout_minutes: int | None = None
    skip_device_status_page: bool | None = None
    skip_user_status_page: bool | None = None
    allow_reset: bool | None = None
    allow_try_again: bool | None = None
    allow_continue_anyway: bool | None = None
    allow_collect_logs: bool | None = None


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One state an item was recorded in, and when."""

    time: datetime
    status: str


@dataclass(frozen=True, slots=True)
class Download:
    """An app's content download as its last log reading shows it (IME / AppWorkload)."""

    time: datetime | None
    bytes_done: int | None
    bytes_total: int | None
    percent: float | None
    rate_bytes_per_s: float | None  # stated by the log, else measured between readings
    via: str | None  # "Delivery Optimization", "CDN" …
    complete: bool
    origin: str


@dataclass(frozen=True, slots=True)
class Item:
    """One tracked item of a step (an app, policy, certificate …), its status and history."""

    kind: ItemKind
    id: str
    name: str | None
    scope: Literal["device", "user"]
    status: Status  # the report's vocabulary; the state as the evidence says it is raw_status
    hresult: str | None = None
    history: tuple[HistoryEntry, ...] = ()
    # The decoded raw state behind ``status`` ("completed (InstallationState 3)"), or None.
    raw_status: str | None = None
    download: Download | None = None
    exit_code: int | None = None  # the installer's exit code, when a log gives it


@dataclass(frozen=True, slots=True)
class RegistryValueRef:
    """A value of a :class:`RegistryRef`: its raw data and what the data means."""

    name: str
    type: str
    data: ValueData
    # What the raw data means in words (a decoded time, state name or error code), or None.
    display: str | None = None


@dataclass(frozen=True, slots=True)
class RegistryRef:
    """A registry key shown as evidence for a step."""

    path: str
    last_write: datetime | None
    values: tuple[RegistryValueRef, ...]
    origin: str


@dataclass(frozen=True, slots=True)
class EventRef:
    """An event shown as evidence for a step (``origin`` = ``file#record``)."""

    time: datetime
    channel: str
    event_id: int
    level: str
    record_id: int
    summary: str
    origin: str


@dataclass(frozen=True, slots=True)
class LogRef:
    """A log line shown as evidence for a step (``origin`` = ``file:line``)."""

    time: datetime | None
    severity: Severity
    component: str
    thread: str
    message: str
    origin: str
    item: str | None = None  # the tracked item the line is about, when it names one


@dataclass(frozen=True, slots=True)
class Hint:
    """What to look at next for a step, and where that advice comes from (``source``)."""

    id: str
    title: str
    text: str
    source: str | None = None


@dataclass(frozen=True, slots=True)
class Step:
    """One step (subcategory) of an ESP phase: its status, why, its times, items and evidence."""

    id: str  # the ESP's own subcategory id, e.g. "DevicePreparation.TpmAttestationSubcategory"
    title: str
    status: Status
    status_text: str | None = None
    hresult: str | None = None  # "0x%08X"
    started: datetime | None = None
    ended: datetime | None = None
    items: tuple[Item, ...] = ()
    registry: tuple[RegistryRef, ...] = ()
    events: tuple[EventRef, ...] = ()
    hint: Hint | None = None
    logs: tuple[LogRef, ...] = ()
    # Plain words for why the step has its status (e.g. "the capture holds no ESP record for
    # this phase"), and which source gave its start and end time.
    status_reason: str | None = None
    started_source: str | None = None
    ended_source: str | None = None


@dataclass(frozen=True, slots=True)
class Phase:
    """One of the three ESP phases, its status and its steps."""

    id: PhaseId
    title: str
    status: Status
    status_text: str | None = None
    started: datetime | None = None
    ended: datetime | None = None
    steps: tuple[Step, ...] = ()
    status_reason: str | None = None
    started_source: str | None = None
    ended_source: str | None = None


LogClockBasis = Literal["zone", "device", "event", "unanchored"]


@dataclass(frozen=True, slots=True)
class LogClock:
    """How the zone-less times of the Intune logs were tied to UTC, and by what.

    ``zone``: read in the device zone a side file names; ``device``: read in this device's
    own zone (live); ``event``: shifted by ``offset_minutes`` that lines recording the same
    moment as an event or registry time prove; ``unanchored``: nothing anchors them, the times
    are the device's clock reading.
    """

    basis: LogClockBasis
    offset_minutes: int
    detail: str
    origins: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Finding:
    """What a rule found, with its severity, evidence (origins) and source."""

    id: str
    severity: Severity
    step: str | None
    title: str
    text: str
    evidence: tuple[str, ...] = ()
    source: str | None = None  # where the rule (or its hint) comes from: a URL
    confidence: Confidence | None = None


@dataclass(frozen=True, slots=True)
class DevicePrepPhase:
    """One stage of Windows Autopilot device preparation (its own page, not the classic ESP)."""

    id: str  # enrollment | agent | scripts | apps
    title: str
    status: Status
    status_reason: str | None = None
    started: datetime | None = None
    ended: datetime | None = None
    items: tuple[Item, ...] = ()


@dataclass(frozen=True, slots=True)
class DevicePreparation:
    """Windows Autopilot device preparation as the device recorded it (the DevicePreparation
    CSP mirror, the IME's provisioning progress and script results)."""

    status: Status
    status_reason: str | None = None
    page_status: str | None = None  # the PageStatus word (disabled … failed)
    error_code: str | None = None  # "0x%08X"
    error_phase: str | None = None
    error_details: str | None = None
    timeout_minutes: int | None = None
    agent_timeout_minutes: int | None = None
    allow_skip: bool | None = None
    allow_diagnostics: bool | None = None
    phases: tuple[DevicePrepPhase, ...] = ()
    evidence: tuple[str, ...] = ()  # registry keys it was read from


@lean_init  # made by the hundred thousand (core.perf)
@dataclass(frozen=True, slots=True)
class TimelineEntry:
    """One event, registry time or log line on the capture's timeline."""

    time: datetime
    kind: TimelineKind
    step: str | None
    summary: str
    origin: str


@dataclass(frozen=True, slots=True)
class Redaction:
    """Set on a report whose identifiers were replaced by pseudonyms (``core.fleet.redact``)."""

    counts: tuple[tuple[str, int], ...] = ()  # (kind, distinct identifiers replaced)


@dataclass(frozen=True, slots=True)
class EspReport:
    """Everything ESPView says about one capture; what every report and view shows."""

    source: SourceSummary
    device: Device
    settings: Settings
    phases: tuple[Phase, Phase, Phase]
    findings: tuple[Finding, ...] = ()
    timeline: tuple[TimelineEntry, ...] = field(default=())
    # Windows Autopilot device preparation, when the capture is one (the classic phases are
    # then skipped with a status_reason); None otherwise.
    device_preparation: DevicePreparation | None = None
    redaction: Redaction | None = None
    log_clock: LogClock | None = None  # None when the evidence holds no Intune logs

    @property
    def steps(self) -> tuple[Step, ...]:
        return tuple(step for phase in self.phases for step in phase.steps)

    def step(self, step_id: str) -> Step | None:
        for step in self.steps:
            if step.id == step_id:
                return step
        return None

    @property
    def first_failed_step(self) -> Step | None:
        for step in self.steps:
            if step.status == "failed":
                return step
        return None

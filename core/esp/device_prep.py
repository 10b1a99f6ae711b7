"""Windows Autopilot device preparation: the newer flow without the classic ESP.

Recognised by its own registry (:func:`core.esp.device.device_preparation_markers`). What it
did is read from:

* ``Provisioning\\AutopilotSettings\\DevicePreparation`` — the DevicePreparation CSP mirror:
  ``PageStatus`` (0 disabled … 4 failed), ``PageSettings`` (JSON: page and agent-download
  timeouts in seconds, skip on failure, diagnostics), ``PageErrorPhase`` / ``PageErrorCode`` /
  ``PageErrorDetails``, ``MdmAgentInstalled``; ``BootstrapperAgent\\ExecutionContext`` holds the
  policy's orchestration.
* ``IntuneManagementExtension\\Win32Apps\\ProvisioningProgress`` — JSON ``Workloads`` with each
  app's ``FriendlyName``, ``WorkloadState``, ``StartTime`` / ``EndTime`` and ``ErrorCode``.
* ``IntuneManagementExtension\\Policies\\<device user>\\<script id>`` — platform script
  ``Result`` (Success / Failed) and ``LastUpdatedTimeUtc``.
* ``EnterpriseDesktopAppManagement`` — the management agent's MSI (IntuneWindowsAgent.msi).

Sources: the DevicePreparation CSP reference; Get-AutopilotDiagnostics 6.x (device
preparation support); the device preparation overview on Microsoft Learn.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from core.esp.device import DEVICE_PREP, DeviceFacts
from core.esp.hresult import fmt
from core.esp.items import failure_code, parse_time
from core.esp.knowledge import Knowledge
from core.esp.model import DevicePreparation, DevicePrepPhase, Item, Status
from core.esp.values import state, state_word
from core.registry.model import RegistryView, RegKey
from core.registry.values import as_flag, as_int, str_of, value_of

IME = r"HKLM\SOFTWARE\Microsoft\IntuneManagementExtension"
PROGRESS = IME + r"\Win32Apps\ProvisioningProgress"
SCRIPTS = IME + r"\Policies\00000000-0000-0000-0000-000000000000"
EDAM_DEVICE = (
    r"HKLM\SOFTWARE\Microsoft\EnterpriseDesktopAppManagement"
    r"\S-0-0-00-0000000000-0000000000-000000000-000\MSI"
)
_DOTNET_DATE = re.compile(r"/Date\((-?\d+)(?:[+-]\d{4})?\)/")
_MAX_WORKLOADS = 500

@dataclass(frozen=True, slots=True)
class DevicePrepFacts:
    """What the device preparation analysis found, for its rules."""

    status: Status
    page_status: int | None
    error_code: int | None
    error_phase: str | None
    error_details: str | None
    timeout_minutes: int | None
    elapsed_minutes: int | None
    failed_apps: tuple[tuple[str, int | None, str], ...] = ()  # (name, code, evidence)
    failed_scripts: tuple[tuple[str, str], ...] = ()  # (name, evidence)
    evidence: tuple[str, ...] = ()


#: PageStatus / WorkloadState words (states.toml) → report status
_PAGE_STATUS: dict[str, Status] = {
    "disabled": "skipped",
    "enabled": "not_started",
    "in_progress": "in_progress",
    "succeeded": "succeeded",
    "failed": "failed",
}
_WORKLOAD_STATUS: dict[str, Status] = {
    "not_started": "not_started",
    "completed": "succeeded",
    "skipped": "skipped",
    "uninstalled": "not_required",
    "failed": "failed",
    "in_progress": "in_progress",
    "reboot_required": "in_progress",
    "cancelled": "failed",
}


def json_date(value: object) -> datetime | None:
    """``"/Date(1745871176634)/"`` (.NET JSON, milliseconds since 1970) or ISO text, as UTC."""
    if not isinstance(value, str):
        return None
    match = _DOTNET_DATE.search(value)
    if match is None:
        return parse_time(value)
    try:
        return datetime.fromtimestamp(int(match.group(1)) / 1000, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _json(text: str | None) -> Any:
    if not text:
        return None
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return None


@dataclass(slots=True)
class _Stage:
    """One device preparation stage while its items and times are gathered."""

    id: str
    title: str
    items: list[Item] = field(default_factory=list)
    times: list[datetime] = field(default_factory=list)
    status: Status = "unknown"
    reason: str | None = None

    def freeze(self) -> DevicePrepPhase:
        return DevicePrepPhase(
            id=self.id,
            title=self.title,
            status=self.status,
            status_reason=self.reason,
            started=min(self.times) if self.times else None,
            ended=max(self.times) if self.times and self.status != "in_progress" else None,
            items=tuple(self.items),
        )


def _aggregate(items: list[Item]) -> Status:
    statuses = [i.status for i in items]  # already report status words
    if not statuses:
        return "unknown"
    if "failed" in statuses:
        return "failed"
    if "in_progress" in statuses or "not_started" in statuses:
        return "in_progress"
    if all(s in ("succeeded", "skipped", "not_required") for s in statuses):
        return "succeeded"
    return "unknown"


def _apps(
    registry: RegistryView, knowledge: Knowledge, stage: _Stage
) -> list[tuple[str, int | None, str]]:
    key = registry.key(PROGRESS)
    doc = _json(str_of(key, "ProvisioningProgress"))
    workloads = doc.get("Workloads") if isinstance(doc, dict) else None
    failed: list[tuple[str, int | None, str]] = []
    if not isinstance(workloads, list) or key is None:
        return failed
    origin = key.origin or key.path
    for workload in workloads[:_MAX_WORKLOADS]:
        if not isinstance(workload, dict):
            continue
        app_id = str(workload.get("WorkloadId") or "?")
        name = workload.get("FriendlyName")
        state = as_int(workload.get("WorkloadState"))
        word = knowledge.state("device_prep_workload", state) or f"state {state}"
        raw_code = workload.get("ErrorCode")
        code = failure_code(raw_code)
        for stamp in ("StartTime", "EndTime"):
            when = json_date(workload.get(stamp))
            if when is not None:
                stage.times.append(when)
        stage.items.append(
            Item(
                kind="win32",
                id=app_id,
                name=name if isinstance(name, str) else None,
                scope="device",
                status=_WORKLOAD_STATUS.get(word, "unknown"),
                hresult=fmt(code) if code is not None else None,
                raw_status=f"{word.replace('_', ' ')} (WorkloadState {state})",
            )
        )
        if _WORKLOAD_STATUS.get(word) == "failed":
            failed.append((name if isinstance(name, str) else app_id, code, origin))
    stage.status = _aggregate(stage.items)
    return failed


def _scripts(registry: RegistryView, stage: _Stage) -> list[tuple[str, str]]:
    root = registry.key(SCRIPTS)
    failed: list[tuple[str, str]] = []
    if root is None:
        return failed
    words: dict[str, Status] = {"success": "succeeded", "failed": "failed"}
    for key in root.subkeys()[:_MAX_WORKLOADS]:
        result = (str_of(key, "Result") or "unknown").casefold()
        when = parse_time(str_of(key, "LastUpdatedTimeUtc") or "")
        if when is not None:
            stage.times.append(when)
        stage.items.append(
            Item(
                kind="script",
                id=key.name,
                name=None,
                scope="device",
                status=words.get(result, "unknown"),
                raw_status=f"{result} (Result)",
            )
        )
        if result == "failed":
            failed.append((key.name, key.origin or key.path))
    stage.status = _aggregate(stage.items)
    return failed


def _agent(registry: RegistryView, prep: RegKey | None, stage: _Stage) -> None:
    installed = as_flag(value_of(prep, "MdmAgentInstalled"))
    root = registry.key(EDAM_DEVICE)
    for key in root.subkeys() if root is not None else []:
        if "intunewindowsagent.msi" not in (str_of(key, "CurrentDownloadUrl") or "").casefold():
            continue
        status = as_int(value_of(key, "Status"))
        stage.items.append(
            Item(
                kind="msi",
                id=key.name,
                name="Intune Management Extension (IntuneWindowsAgent.msi)",
                scope="device",
                status=meaning.status if (meaning := state("msi_status", status)) else "unknown",
                raw_status=f"{state_word('msi_status', status)} (Status {status})",
            )
        )
        if status == 70:
            installed = True if installed is None else installed
        elif status in (30, 60):
            stage.status, stage.reason = "failed", f"the agent's MSI is at status {status}"
            return
    if installed:
        stage.status = "succeeded"
    elif installed is False:
        stage.status, stage.reason = "in_progress", "MdmAgentInstalled is not set yet"


def analyze_device_prep(
    registry: RegistryView, facts: DeviceFacts, knowledge: Knowledge
) -> tuple[DevicePreparation | None, DevicePrepFacts | None]:
    """The device preparation section and its facts for the rules; ``(None, None)`` when the
    capture is not a device preparation deployment."""
    if not facts.device_preparation_markers:
        return None, None
    prep = registry.key(DEVICE_PREP)
    doc = _json(str_of(prep, "PageSettings"))
    settings: dict[str, Any] = doc if isinstance(doc, dict) else {}
    page = as_int(value_of(prep, "PageStatus"))
    word = knowledge.state("device_prep_page", page)
    status: Status = _PAGE_STATUS.get(word or "", "unknown")
    raw_error = value_of(prep, "PageErrorCode")
    error = failure_code(raw_error)
    phase_value = value_of(prep, "PageErrorPhase")
    timeout_s = as_int(settings.get("PageTimeoutSeconds"))
    agent_s = as_int(settings.get("AgentDownloadTimeoutSeconds"))

    enrollment = _Stage("enrollment", "Joining Microsoft Entra and enrolling in Intune")
    enrollment.status = "succeeded" if facts.enrollment is not None else "unknown"
    if facts.enrollment is None:
        enrollment.reason = "the capture holds no Intune enrollment"
    agent = _Stage("agent", "Installing the management agent")
    _agent(registry, prep, agent)
    scripts = _Stage("scripts", "Running scripts")
    failed_scripts = _scripts(registry, scripts)
    apps = _Stage("apps", "Installing apps")
    failed_apps = _apps(registry, knowledge, apps)
    stages = [enrollment, agent, scripts, apps]
    for stage in stages:
        if stage.status == "unknown" and not stage.items and stage.reason is None:
            stage.reason = "nothing recorded for this stage"
    if agent.status == "unknown" and (scripts.items or apps.items):
        agent.status, agent.reason = "succeeded", "scripts or apps ran, so the agent was installed"

    times = [t for stage in stages for t in stage.times]
    elapsed = int((max(times) - min(times)).total_seconds() // 60) if len(times) > 1 else None
    evidence = tuple(
        key.origin or key.path
        for key in (prep, registry.key(PROGRESS), registry.key(SCRIPTS))
        if key is not None
    ) or tuple(facts.device_preparation_markers)
    section = DevicePreparation(
        status=status,
        status_reason=f"PageStatus = {page} ({word})" if word else "no PageStatus recorded",
        page_status=word,
        error_code=fmt(error) if error is not None else None,
        error_phase=str(phase_value).strip() or None if phase_value is not None else None,
        error_details=str_of(prep, "PageErrorDetails"),
        timeout_minutes=timeout_s // 60 if timeout_s is not None else None,
        agent_timeout_minutes=agent_s // 60 if agent_s is not None else None,
        allow_skip=as_flag(settings.get("AllowSkipOnFailure")),
        allow_diagnostics=as_flag(settings.get("AllowDiagnostics")),
        phases=tuple(stage.freeze() for stage in stages),
        evidence=evidence,
    )
    rule_facts = DevicePrepFacts(
        status=status,
        page_status=page,
        error_code=error,
        error_phase=section.error_phase,
        error_details=section.error_details,
        timeout_minutes=section.timeout_minutes,
        elapsed_minutes=elapsed,
        failed_apps=tuple(failed_apps),
        failed_scripts=tuple(failed_scripts),
        evidence=evidence,
    )
    return section, rule_facts

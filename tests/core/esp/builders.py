"""Small builders for hand-made ESP evidence (registry dicts, events, log lines)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from core.events.model import EventRecord
from core.evidence import Evidence, SourceInfo
from core.logs.model import LogLine
from core.registry.memory import MemoryView
from core.registry.model import ValueData
from tests.builders.capture import esp_status_json  # noqa: F401 - re-exported: the nested shape is written in one place

SETTINGS = r"HKLM\SOFTWARE\Microsoft\Provisioning\AutopilotSettings"
DIAG = r"HKLM\SOFTWARE\Microsoft\Provisioning\Diagnostics\Autopilot"
EST = r"HKLM\SOFTWARE\Microsoft\Windows\Autopilot\EnrollmentStatusTracking"
ENROLL = r"HKLM\SOFTWARE\Microsoft\Enrollments\11111111-2222-3333-4444-555555555555"
USER_SID = "S-1-12-1-1-2-3-4"
T0 = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
CHANNELS = {
    "autopilot": "Microsoft-Windows-ModernDeployment-Diagnostics-Provider/Autopilot",
    "mgmtsvc": "Microsoft-Windows-ModernDeployment-Diagnostics-Provider/ManagementService",
    "dm_admin": "Microsoft-Windows-DeviceManagement-Enterprise-Diagnostics-Provider/Admin",
    "udr_admin": "Microsoft-Windows-User Device Registration/Admin",
    "shell_core": "Microsoft-Windows-Shell-Core/Operational",
}

Keys = dict[str, dict[str, tuple[str, ValueData]]]


def esp_status_flat(steps: Mapping[str, str], succeeded: bool | None = None) -> str:
    doc: dict[str, object] = dict(steps)
    if succeeded is not None:
        doc["categorySucceeded"] = succeeded
    return json.dumps(doc)


def autopilot_keys(
    tenant: str = "contoso.example", oobe: int = 0x11C, profile: str = "Test profile"
) -> Keys:
    return {
        DIAG: {
            "CloudAssignedTenantId": (
                "REG_SZ",
                "00000000-aaaa-bbbb-cccc-000000000001" if tenant else "",
            ),
            "CloudAssignedTenantDomain": ("REG_SZ", tenant),
            "CloudAssignedOobeConfig": ("REG_DWORD", oobe),
            "DeploymentProfileName": ("REG_SZ", profile),
        }
    }


def first_sync(
    timeout: int = 60, skip_device: int = 0, skip_user: int = 0, block: int = 6, logs: int = 1
) -> Keys:
    return {
        ENROLL: {"ProviderID": ("REG_SZ", "MS DM Server")},
        ENROLL + r"\FirstSync": {
            "SyncFailureTimeout": ("REG_DWORD", timeout),
            "SkipDeviceStatusPage": ("REG_DWORD", skip_device),
            "SkipUserStatusPage": ("REG_DWORD", skip_user),
            "BlockInStatusPage": ("REG_DWORD", block),
            "AllowCollectLogsButton": ("REG_DWORD", logs),
        },
    }


def status_record(**phases: str) -> Keys:
    return {SETTINGS: {f"{name}Category.Status": ("REG_SZ", raw) for name, raw in phases.items()}}


def merge(*parts: Keys) -> Keys:
    out: Keys = {}
    for part in parts:
        for path, values in part.items():
            out.setdefault(path, {}).update(values)
    return out


_record_ids = iter(range(1, 1_000_000))


def event(
    alias: str, event_id: int, *values: str, minutes: float = 0, level: int = 4, **named: str
) -> EventRecord:
    data = {f"Data{i}": v for i, v in enumerate(values, 1)}
    data.update(named)
    channel = CHANNELS.get(alias, alias)
    return EventRecord(
        time=T0 + timedelta(minutes=minutes),
        channel=channel,
        provider=channel.split("/")[0],
        event_id=event_id,
        level=level,
        record_id=next(_record_ids),
        computer="PC1.example",
        data=data,
        file=channel.replace("/", "-").lower() + ".evtx",
    )


def log_line(message: str, minutes: float = 0, line: int = 1) -> LogLine:
    return LogLine(
        T0 + timedelta(minutes=minutes),
        message,
        "IntuneManagementExtension",
        "1",
        1,
        "IntuneManagementExtension.log",
        line,
    )


def evidence(
    keys: Keys | None = None,
    events: list[EventRecord] | None = None,
    logs: list[LogLine] | None = None,
    side_files: object = None,
) -> Evidence:
    view = MemoryView.from_dict(keys or {}, origin="test.reg")
    return Evidence(
        SourceInfo("reg", "test.reg"),
        registry=view,
        events=sorted(events or [], key=lambda e: e.time),
        logs=logs or [],
        side_files=side_files,
    )

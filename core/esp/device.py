"""Device facts, ESP settings and the deployment mode.

Sources: ``Provisioning\\Diagnostics\\Autopilot`` (tenant, profile name, CloudAssignedOobeConfig),
``AutopilotPolicyCache`` and the ZTD profile file (domain-join method, Autopilot mode),
``Enrollments\\{GUID}\\FirstSync`` (ESP settings), pre-provisioning markers (ManagementService
509, ``SaveWhiteGloveSuccessResult``). FirstSync values: the DMClient CSP
(https://learn.microsoft.com/windows/client-management/mdm/dmclient-csp); Autopilot values: the
troubleshooting FAQ (https://learn.microsoft.com/autopilot/troubleshooting-faq).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from operator import attrgetter
from typing import Any, TypeVar

from core.esp.knowledge import Knowledge
from core.esp.model import DeploymentMode, Device, Settings
from core.esp.status import AUTOPILOT_SETTINGS, RecordPhase
from core.events.model import EventRecord
from core.logs.model import LogLine
from core.logs.zones import zone_of
from core.registry.model import RegistryView, RegKey
from core.registry.values import as_flag, as_int, filetime, str_of, value_of
from core.sidefiles import SideFiles, TpmInfo, is_self_deploying

AUTOPILOT_DIAG = r"HKLM\SOFTWARE\Microsoft\Provisioning\Diagnostics\Autopilot"
POLICY_CACHE = r"HKLM\SOFTWARE\Microsoft\Provisioning\AutopilotPolicyCache"
ENROLLMENTS = r"HKLM\SOFTWARE\Microsoft\Enrollments"
CURRENT_VERSION = r"HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion"
COMPUTER_NAME = r"HKLM\SYSTEM\CurrentControlSet\Control\ComputerName\ComputerName"
BIOS = r"HKLM\HARDWARE\DESCRIPTION\System\BIOS"
TIME_ZONE = r"HKLM\SYSTEM\CurrentControlSet\Control\TimeZoneInformation"

DEVICE_PREP = AUTOPILOT_SETTINGS + r"\DevicePreparation"

SKIPPED = 0xFFFFFFFF


def block_flags(value: int) -> tuple[bool, bool, bool]:
    """BlockInStatusPage → (allow reset, allow try again, allow continue anyway)."""
    return bool(value & 1), bool(value & 2), bool(value & 4)


def loose_json(text: str) -> dict[str, Any]:
    """Parse JSON that may have lost its inner escaping; ``{}`` when hopeless."""
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: nested deeper than json recurses
        doc = None
    if isinstance(doc, dict):
        return doc
    # Fallback: pick "Name":value pairs with scalar values.
    found: dict[str, Any] = {}
    for m in re.finditer(r'\\?"(\w+)\\?"\s*:\s*(\\?"([^"\\]*)\\?"|-?\d+|true|false)', text):
        raw = m.group(2)
        if m.group(3) is not None:
            found.setdefault(m.group(1), m.group(3))
        elif raw in ("true", "false"):
            found.setdefault(m.group(1), raw == "true")
        else:
            found.setdefault(m.group(1), int(raw))
    return found


def flatten_profile(doc: dict[str, Any]) -> dict[str, Any]:
    """The ZTD profile / policy cache with ``CloudAssignedAadServerData`` opened up."""
    flat = dict(doc)
    inner = doc.get("CloudAssignedAadServerData")
    if isinstance(inner, str):
        inner_doc = loose_json(inner)
        zero = inner_doc.get("ZeroTouchConfig", inner_doc)
        if isinstance(zero, dict):
            for k, v in zero.items():
                flat.setdefault(k, v)
    return flat


def ztd_profile(side_files: SideFiles | None) -> dict[str, Any]:
    """The ZTD profile file's keys, opened up; ``{}`` without the file."""
    ztd = side_files.ztd if side_files is not None else None
    return flatten_profile(dict(ztd.raw)) if ztd is not None else {}


@dataclass(slots=True)
class UserFirstSync:
    """A user's first-sync key: its time and the durations it records."""

    sid: str
    key: RegKey
    timestamp: datetime | None
    durations: dict[str, int]  # seconds, by value name


@dataclass(slots=True)
class DeviceFacts:
    """What the registry and side files say about the device, for the analysis."""

    device: Device
    settings: Settings
    tenant_id: str | None = None
    #: Diagnostics\Autopilot TenantMatched: whether the user's tenant is the registration's
    tenant_matched: bool | None = None
    #: AutopilotPolicyCache ProfileAvailable (0 = a blank profile was cached)
    profile_available: bool | None = None
    #: Autopilot for existing devices: a tenant from the JSON file but no deployment profile name
    existing_device: bool = False
    #: TpmHliInfo_Output.txt, when the capture has it
    tpm: TpmInfo | None = None
    oobe_config: int | None = None
    join_method: int | None = None
    autopilot_mode: int | None = None
    pre_provisioning_markers: list[str] = field(default_factory=list)
    #: why the capture is a Windows Autopilot device preparation deployment (empty if not)
    device_preparation_markers: list[str] = field(default_factory=list)
    enrollment: RegKey | None = None
    first_sync: RegKey | None = None
    user_first_sync: list[UserFirstSync] = field(default_factory=list)
    profile: dict[str, Any] = field(default_factory=dict)

    @property
    def user_sids(self) -> list[str]:
        return [u.sid for u in self.user_first_sync]


def _pick_enrollment(registry: RegistryView) -> tuple[RegKey | None, RegKey | None]:
    """The Intune enrollment (``MS DM Server``), preferring one with ``FirstSync`` (the ESP's
    settings); device preparation enrolls without one."""
    root = registry.key(ENROLLMENTS)
    if root is None:
        return None, None
    best: tuple[int, RegKey, RegKey | None] | None = None
    for key in root.subkeys():
        first_sync = key.subkey("FirstSync")
        intune = str_of(key, "ProviderID") == "MS DM Server"
        if first_sync is None and not intune:
            continue
        score = 2 * (first_sync is not None) + intune
        if best is None or score > best[0]:
            best = (score, key, first_sync)
    return (None, None) if best is None else (best[1], best[2])


def _settings(first_sync: RegKey | None) -> Settings:
    if first_sync is None:
        return Settings()
    timeout = as_int(value_of(first_sync, "SyncFailureTimeout"))
    block = as_int(value_of(first_sync, "BlockInStatusPage"))
    reset, again, cont = block_flags(block) if block is not None else (None, None, None)
    return Settings(
        timeout_minutes=timeout,
        skip_device_status_page=as_flag(value_of(first_sync, "SkipDeviceStatusPage")),
        skip_user_status_page=as_flag(value_of(first_sync, "SkipUserStatusPage")),
        allow_reset=reset,
        allow_try_again=again,
        allow_continue_anyway=cont,
        allow_collect_logs=as_flag(value_of(first_sync, "AllowCollectLogsButton")),
    )


def _user_first_sync(first_sync: RegKey | None) -> list[UserFirstSync]:
    users: list[UserFirstSync] = []
    if first_sync is None:
        return users
    for key in first_sync.subkeys():
        if not key.name.upper().startswith("S-1-"):
            continue
        durations = {
            v.name: v.data
            for v in key.values()
            if v.name.endswith("Duration") and isinstance(v.data, int)
        }
        users.append(UserFirstSync(key.name, key, filetime(value_of(key, "Timestamp")), durations))
    return users


def _os_build(registry: RegistryView, side_files: SideFiles | None) -> str | None:
    cv = registry.key(CURRENT_VERSION)
    build = str_of(cv, "CurrentBuild") or str_of(cv, "CurrentBuildNumber")
    if build:
        ubr = as_int(value_of(cv, "UBR"))
        return f"{build}.{ubr}" if ubr is not None else build
    if side_files is None:
        return None
    if side_files.metadata is not None and side_files.metadata.os_build:
        return side_files.metadata.os_build
    diagnostics = side_files.diagnostics
    return diagnostics.os_build if diagnostics is not None else None


def _serial(
    registry: RegistryView, side_files: SideFiles | None, profile: dict[str, Any]
) -> str | None:
    bios = str_of(registry.key(BIOS), "SystemSerialNumber")
    if bios:
        return bios
    if side_files is not None:
        for row in side_files.device_hashes:
            if row.serial.strip():
                return row.serial.strip()
        diagnostics = side_files.diagnostics
        if diagnostics is not None and diagnostics.serial and diagnostics.serial.strip():
            return diagnostics.serial.strip()
    serial = profile.get("SerialNumber")
    return serial if isinstance(serial, str) and serial else None


def _time_zone(registry: RegistryView, side_files: SideFiles | None) -> str | None:
    """The device's zone: its Windows name from the registry or the diagnostics side file,
    else the fixed offset the registry's ``ActiveTimeBias`` gives (``UTC+01:00``)."""
    key = registry.key(TIME_ZONE)
    name = str_of(key, "TimeZoneKeyName")
    if name:
        return name.strip()
    diagnostics = side_files.diagnostics if side_files is not None else None
    found = diagnostics.time_zone if diagnostics is not None else None
    if found and found.strip():
        return found.strip()
    bias = as_int(value_of(key, "ActiveTimeBias"))
    if bias is None:
        return None
    bias = bias - (1 << 32) if bias >= 1 << 31 else bias  # a signed DWORD; UTC = local + bias
    offset = -bias
    sign = "+" if offset >= 0 else "-"
    return f"UTC{sign}{abs(offset) // 60:02d}:{abs(offset) % 60:02d}"


def device_tz(device: Device) -> tzinfo | None:
    """``tzinfo`` of :attr:`Device.time_zone` (a Windows or IANA name, or ``UTC±hh:mm``)."""
    return zone_of(device.time_zone)


def _name(registry: RegistryView, events: list[EventRecord], profile: dict[str, Any]) -> str | None:
    name = str_of(registry.key(COMPUTER_NAME), "ComputerName")
    if name:
        return name
    for event in events:
        if event.computer:
            return event.computer.split(".", 1)[0]
    device_name = profile.get("CloudAssignedDeviceName")
    return device_name if isinstance(device_name, str) and device_name else None


def pre_provisioning_markers(
    events: Sequence[EventRecord], record: dict[str, RecordPhase], knowledge: Knowledge
) -> list[str]:
    """Why the capture is a pre-provisioning technician flow: the events and Shell-Core
    breadcrumb named in steps.toml [pre_provisioning], or the ESP's white-glove result step."""
    markers: list[str] = []
    # A capture has a dozen channels and thousands of events: each channel's alias once.
    aliases = {channel: knowledge.alias_of(channel) for channel in {e.channel for e in events}}
    # "alias:id" as (alias, id): an id that is no number names no event.
    wanted = {
        (alias, int(number))
        for alias, _, number in (w.partition(":") for w in knowledge.pre_provisioning_events)
        if number.isdigit()
    }
    for event in events:
        if (aliases[event.channel], event.event_id) in wanted:
            markers.append(f"{event.channel} event {event.event_id} ({event.origin})")
            break
    breadcrumb = knowledge.pre_provisioning_breadcrumb
    shell_core = {channel for channel, alias in aliases.items() if alias == "shell_core"}
    for event in events:
        if (
            breadcrumb
            and event.channel in shell_core
            and any(breadcrumb in v for v in event.data.values())
        ):
            markers.append(f"Shell-Core pre-provisioning breadcrumb ({event.origin})")
            break
    setup = record.get("DeviceSetup")
    if setup is not None:
        white_glove = setup.steps.get("DeviceSetup.SaveWhiteGloveSuccessResult")
        if white_glove is not None and white_glove.status not in ("not_started", "unknown"):
            markers.append(f"DeviceSetup.SaveWhiteGloveSuccessResult is {white_glove.state}")
    return markers


_Named = TypeVar("_Named", EventRecord, LogLine)


def _first_named(things: Sequence[_Named], names: list[str], *labels: str) -> _Named | None:
    """The first of ``things`` whose two ``labels`` (attribute names) together name one of
    ``names`` (casefolded). Each distinct pair of labels is looked at once: tens of
    thousands of lines share a few."""
    label = attrgetter(*labels)
    pairs = {pair for pair in set(map(label, things))
             if any(n in f"{pair[0]} {pair[1]}".casefold() for n in names)}
    return next((t for t in things if label(t) in pairs), None) if pairs else None


def device_preparation_markers(
    registry: RegistryView,
    events: Sequence[EventRecord] = (),
    logs: Sequence[LogLine] = (),
    knowledge: Knowledge | None = None,
) -> list[str]:
    """Device preparation's own registry — the DevicePreparation CSP mirror with a bootstrapper
    ExecutionContext (its policy orchestration), a PageStatus past "disabled", the
    AutopilotDevicePrepHint value (as Get-AutopilotDiagnostics 6.x reads it,
    https://www.powershellgallery.com/packages/Get-AutopilotDiagnostics) — and the
    bootstrapper agent's own events and log lines (names in steps.toml [device_preparation])."""
    markers: list[str] = []
    names = [m.casefold() for m in (knowledge.device_prep_names if knowledge else ())]
    if names:
        event = _first_named(events, names, "channel", "provider")
        if event is not None:
            markers.append(f"bootstrapper agent event {event.event_id} ({event.origin})")
        line = _first_named(logs, names, "file", "component")
        if line is not None:
            markers.append(f"bootstrapper agent log ({line.origin})")
    prep = registry.key(DEVICE_PREP)
    agent = prep.subkey("BootstrapperAgent") if prep is not None else None
    if str_of(agent, "ExecutionContext"):
        markers.append(f"{DEVICE_PREP}\\BootstrapperAgent has an ExecutionContext")
    page = as_int(value_of(prep, "PageStatus"))
    if page:
        markers.append(f"{DEVICE_PREP}: PageStatus = {page}")
    if value_of(registry.key(AUTOPILOT_SETTINGS), "AutopilotDevicePrepHint") is not None:
        markers.append(f"{AUTOPILOT_SETTINGS}: AutopilotDevicePrepHint is set")
    return markers


def analyze_device(
    registry: RegistryView,
    events: list[EventRecord],
    side_files: SideFiles | None,
    record: dict[str, RecordPhase],
    knowledge: Knowledge,
    logs: Sequence[LogLine] = (),
) -> DeviceFacts:
    diag = registry.key(AUTOPILOT_DIAG)
    cache_key = registry.key(POLICY_CACHE)
    profile: dict[str, Any] = {}
    cache_json = str_of(cache_key, "PolicyJsonCache")
    if cache_json:
        profile.update(flatten_profile(loose_json(cache_json)))
    ztd = ztd_profile(side_files)
    for k, v in ztd.items():  # the downloaded file is the primary copy of the profile
        if v not in (None, ""):
            profile[k] = v

    tenant_id = str_of(diag, "CloudAssignedTenantId") or _nonempty(profile, "CloudAssignedTenantId")
    tenant_domain = str_of(diag, "CloudAssignedTenantDomain") or _nonempty(
        profile, "CloudAssignedTenantDomain"
    )
    profile_name = str_of(diag, "DeploymentProfileName") or _nonempty(
        profile, "DeploymentProfileName"
    )
    oobe = as_int(value_of(diag, "CloudAssignedOobeConfig"))
    if not oobe:
        oobe = _int_field(profile, "CloudAssignedOobeConfig") or oobe
    join = _int_field(profile, "CloudAssignedDomainJoinMethod")
    if join is None:
        join = as_int(value_of(cache_key, "CloudAssignedDomainJoinMethod"))
    mode_value = _int_field(profile, "AutopilotMode")

    markers = pre_provisioning_markers(events, record, knowledge)
    device_prep = device_preparation_markers(registry, events, logs, knowledge)
    autopilot: bool | None
    mode: DeploymentMode
    if device_prep and not (tenant_id or tenant_domain):
        # Device preparation gets its policy after enrollment, not from a registration: the
        # ZTD file says "not registered" (807) and the tenant values stay blank.
        autopilot = True
        mode = "device_preparation"
    elif tenant_id or tenant_domain:
        autopilot = True
        if markers:
            mode = "pre_provisioning"
        elif is_self_deploying(oobe):
            mode = "self_deploying"
        elif join == 1:
            mode = "hybrid_user_driven"
        else:
            mode = "user_driven"
    elif diag is not None or ztd:
        autopilot = False
        mode = "not_autopilot"
    else:
        autopilot = None
        mode = "unknown"

    enrollment, first_sync = _pick_enrollment(registry)
    device = Device(
        name=_name(registry, events, profile),
        serial=_serial(registry, side_files, profile),
        os_build=_os_build(registry, side_files),
        tenant_domain=tenant_domain,
        profile_name=profile_name,
        autopilot=autopilot,
        deployment_mode=mode,
        time_zone=_time_zone(registry, side_files),
    )
    return DeviceFacts(
        device=device,
        settings=_settings(first_sync),
        tenant_id=tenant_id,
        tenant_matched=as_flag(value_of(diag, "TenantMatched")),
        profile_available=as_flag(value_of(cache_key, "ProfileAvailable")),
        tpm=side_files.tpm if side_files is not None else None,
        existing_device=bool(tenant_id)
        and not profile_name
        and bool(profile.get("Comment_File") or profile.get("ZtdCorrelationId")),
        oobe_config=oobe,
        join_method=join,
        autopilot_mode=mode_value,
        pre_provisioning_markers=markers,
        device_preparation_markers=device_prep,
        enrollment=enrollment,
        first_sync=first_sync,
        user_first_sync=_user_first_sync(first_sync),
        profile=profile,
    )


def _nonempty(doc: dict[str, Any], name: str) -> str | None:
    value = doc.get(name)
    return value.strip() if isinstance(value, str) and value.strip() else None


def _int_field(doc: dict[str, Any], name: str) -> int | None:
    value = doc.get(name)
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        return as_int(value)
    return None

"""A small declarative builder of synthetic mdmdiagnosticstool captures (scenario cabs).

A :class:`Capture` collects registry keys (in the layout of a real
``MdmDiagReport_RegistryDump.reg``), event records per channel, IME log lines and the ZTD
profile file, then :meth:`Capture.write_cab` packs them into a cab named and laid out like the
real ones::

    cap = Capture().autopilot("user_driven").first_sync(timeout=60)
    cap.record("DeviceSetup", "failed", {"AppsSubcategory": ("failed", "Apps (0x87d1041c)")})
    cap.win32_app(APP, "Contoso VPN", enforcement=5000, error=0x87D1041C, tracked_state=4)
    cab = cap.write_cab(tmp_path / "capture.cab")

Every identifier is made up (tenant ``contoso.example``, GUIDs built from a number, SIDs with
repeated digits): nothing comes from a real capture. Times are fixed (``T0`` + minutes) so a
capture is byte-for-byte reproducible.
"""

from __future__ import annotations

import codecs
import json
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from core.registry.model import ValueData
from tests.builders.cab import Folder, build_cab
from tests.builders.evtx import hex32, write_evtx  # noqa: F401 - re-exported for scenarios
from tests.builders.logs import DEVICE_USER, cmtrace_line, write_cmtrace
from tests.builders.reg import dump_reg_text

#: Start of every scenario's story (OOBE begins here).
T0 = datetime(2025, 3, 10, 8, 0, 0, tzinfo=UTC)

HKLM = "HKLM\\SOFTWARE\\Microsoft"
EST = HKLM + r"\Windows\Autopilot\EnrollmentStatusTracking"
DIAG = EST + r"\ESPTrackingInfo\Diagnostics"
AP_DIAG = HKLM + r"\Provisioning\Diagnostics\Autopilot"
AP_SETTINGS = HKLM + r"\Provisioning\AutopilotSettings"
IME_ROOT = HKLM + r"\IntuneManagementExtension"
IME = IME_ROOT + r"\Win32Apps"
EDAM = HKLM + r"\EnterpriseDesktopAppManagement"
DEVICE_SID = "S-0-0-00-0000000000-0000000000-000000000-000"
USER_SID = "S-1-12-1-1111111111-2222222222-3333333333-4444444444"
USER_OID = "11111111-2222-3333-4444-555555555555"
ENROLLMENT = "{0E5C6B2A-1D4F-4A8B-9C3E-7F6A5B4C3D2E}".strip("{}")
TENANT_ID = "00c0ffee-0000-4000-8000-000000000001"
TENANT = "contoso.example"

CHANNELS: dict[str, tuple[str, str, str]] = {
    # alias: (channel, provider, evtx file name in the cab)
    "autopilot": (
        "Microsoft-Windows-ModernDeployment-Diagnostics-Provider/Autopilot",
        "Microsoft-Windows-ModernDeployment-Diagnostics-Provider",
        "microsoft-windows-moderndeployment-diagnostics-provider-autopilot.evtx",
    ),
    "mgmtsvc": (
        "Microsoft-Windows-ModernDeployment-Diagnostics-Provider/ManagementService",
        "Microsoft-Windows-ModernDeployment-Diagnostics-Provider",
        "microsoft-windows-moderndeployment-diagnostics-provider-managementservice.evtx",
    ),
    "dm_admin": (
        "Microsoft-Windows-DeviceManagement-Enterprise-Diagnostics-Provider/Admin",
        "Microsoft-Windows-DeviceManagement-Enterprise-Diagnostics-Provider",
        "microsoft-windows-devicemanagement-enterprise-diagnostics-provider-admin.evtx",
    ),
    "shell_core": (
        "Microsoft-Windows-Shell-Core/Operational",
        "Microsoft-Windows-Shell-Core",
        "microsoft-windows-shell-core-operational.evtx",
    ),
    "udr_admin": (
        "Microsoft-Windows-User Device Registration/Admin",
        "Microsoft-Windows-User Device Registration",
        "microsoft-windows-user device registration-admin.evtx",
    ),
}

#: Every subcategory of each phase, visible and silent, in the order the ESP writes them.
SUBCATEGORIES: dict[str, tuple[str, ...]] = {
    "DevicePreparation": (
        "TpmAttestationSubcategory",
        "AadjSubcategory",
        "MdmEnrollmentSubcategory",
        "EspProviderInstallationSubcategory",
        "InitiateSyncSessions",
        "SetContinueAnywayButtonVisibility",
    ),
    "DeviceSetup": (
        "SecurityPoliciesSubcategory",
        "CertificatesSubcategory",
        "NetworkConnectionsSubcategory",
        "AppsSubcategory",
        "RebootCoalescing",
        "SendResultsToMdmServer",
        "SaveWhiteGloveSuccessResult",
    ),
    "AccountSetup": (
        "WaitingForAadRegistrationSubcategory",
        "PrepareMultifactorAuth",
        "SecurityPoliciesSubcategory",
        "CertificatesSubcategory",
        "NetworkConnectionsSubcategory",
        "AppsSubcategory",
        "SendResultsToMdmServer",
    ),
}

#: The texts a phase that ran to the end shows, per visible step.
DONE_TEXT: dict[str, str] = {
    "TpmAttestationSubcategory": "Securing your hardware (Complete)",
    "AadjSubcategory": "Joining your organization's network (Complete)",
    "MdmEnrollmentSubcategory": "Registering your device for mobile management (Complete)",
    "EspProviderInstallationSubcategory": "Preparing your device for mobile management (Complete)",
    "WaitingForAadRegistrationSubcategory": "Joining your organization's network (Completed)",
    "SecurityPoliciesSubcategory": "Security policies (1 of 1 applied)",
    "CertificatesSubcategory": "Certificates (No setup needed)",
    "NetworkConnectionsSubcategory": "Network connections (No setup needed)",
    "AppsSubcategory": "Apps (No setup needed)",
}

Step = tuple[str, str | None]  # (subcategoryState, subcategoryStatusText)


def guid(number: int) -> str:
    """A made-up, stable GUID for ``number`` (``guid(7)`` → ``a0000007-0007-4007-8000-…07``)."""
    return (
        f"{0xA0000000 + number:08x}-{number % 0xFFFF:04x}-4{number % 0xFFF:03x}-8000-{number:012x}"
    )


def at(minutes: float) -> datetime:
    """``T0`` plus ``minutes``."""
    return T0 + timedelta(minutes=minutes)


def _filetime(when: datetime) -> bytes:
    ticks = int((when - datetime(1601, 1, 1, tzinfo=UTC)).total_seconds() * 10_000_000)
    return ticks.to_bytes(8, "little")


def snapshot_name(when: datetime) -> str:
    """ESPTrackingInfo snapshot key name (ISO 8601 UTC with fraction and ``Z``)."""
    return when.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def esp_status_json(
    phase: str, state: str, steps: Mapping[str, Step], text: str | None = None
) -> str:
    """A ``<Phase>Category.Status`` value in the ESP's nested shape, compact like the dump;
    ``steps`` maps short names (``CertificatesSubcategory``) to (state, text), in order."""
    doc: dict[str, Any] = {"categoryState": state}
    for name, (sub_state, sub_text) in steps.items():
        entry: dict[str, str] = {"subcategoryState": sub_state}
        if sub_text is not None:
            entry["subcategoryStatusText"] = sub_text
        doc[f"{phase}.{name}"] = entry
    if text is not None:
        doc["categoryStatusText"] = text
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False)


@dataclass
class Capture:
    """Everything one synthetic capture holds; methods add to it and return ``self``."""

    keys: dict[str, dict[str, tuple[str, ValueData]]] = field(default_factory=dict)
    events: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    logs: list[str] = field(default_factory=list)
    ztd: dict[str, Any] | None = None
    device_name: str = "CONTOSO-LT-0042"
    #: other side files mdmdiagnosticstool writes (name -> text), e.g. TpmHliInfo_Output.txt
    side_files: dict[str, str] = field(default_factory=dict)
    #: Windows Autopilot device preparation: the IME's ProvisioningProgress workloads
    workloads: list[dict[str, Any]] = field(default_factory=list)

    # -- raw pieces --------------------------------------------------------------------------

    def key(self, path: str, **values: tuple[str, ValueData]) -> Capture:
        self.keys.setdefault(path, {}).update(values)
        return self

    def value(self, path: str, name: str, type_: str, data: ValueData) -> Capture:
        self.keys.setdefault(path, {})[name] = (type_, data)
        return self

    def event(
        self,
        alias: str,
        event_id: int,
        when: datetime,
        data: Mapping[str, Any] | None = None,
        level: int = 4,
    ) -> Capture:
        channel, provider, _ = CHANNELS[alias]
        self.events.setdefault(alias, []).append(
            {
                "time": when,
                "channel": channel,
                "provider": provider,
                "event_id": event_id,
                "level": level,
                "computer": self.device_name,
                "data": dict(data or {}),
            }
        )
        return self

    def shell_core(self, when: datetime, name: str, error: int | None = None) -> Capture:
        """A CloudExperienceHost breadcrumb (62407 with a JSON Value, else 62406)."""
        if error is None:
            return self.event("shell_core", 62406, when, {"Name": name})
        value = json.dumps({"message": f"BootstrapStatus: {name}", "errorCode": error})
        return self.event("shell_core", 62407, when, {"Name": name, "Value": value})

    def ime(self, when: datetime, message: str, type_: int = 1) -> Capture:
        self.logs.append(cmtrace_line(when, message, thread=7, type_=type_))
        return self

    # -- device and profile ------------------------------------------------------------------

    def autopilot(
        self,
        mode: str = "user_driven",
        profile: str = "Contoso standard",
        oobe: int | None = None,
    ) -> Capture:
        """Autopilot registration for ``mode`` (user_driven, hybrid_user_driven,
        self_deploying, pre_provisioning) or ``not_autopilot``."""
        if mode == "not_autopilot":
            return self.key(
                AP_DIAG,
                CloudAssignedTenantDomain=("REG_SZ", ""),
                CloudAssignedTenantId=("REG_SZ", ""),
                IsAutoPilotDisabled=("REG_DWORD", 1),
            )
        self_deploying = mode in ("self_deploying", "pre_provisioning")
        config = oobe if oobe is not None else (1310 | 32 | 64 if self_deploying else 1310)
        join = 1 if mode == "hybrid_user_driven" else 0
        self.key(
            AP_DIAG,
            CloudAssignedTenantDomain=("REG_SZ", TENANT),
            CloudAssignedTenantId=("REG_SZ", TENANT_ID),
            CloudAssignedOobeConfig=("REG_DWORD", config),
            DeploymentProfileName=("REG_SZ", profile),
            IsAutoPilotDisabled=("REG_DWORD", 0),
            TenantMatched=("REG_DWORD", 1),
        )
        self.key(
            AP_DIAG + r"\EstablishedCorrelations",
            ZTDRegistrationID=("REG_SZ", guid(900)),
            EntDMID=("REG_SZ", guid(901)),
        )
        self.ztd = {
            "PolicyDownloadDate": "2025-03-10T07:58:41Z",
            "CloudAssignedTenantId": TENANT_ID,
            "CloudAssignedTenantDomain": TENANT,
            "DeploymentProfileName": profile,
            "CloudAssignedOobeConfig": config,
            "CloudAssignedDomainJoinMethod": join,
            "ZtdCorrelationId": guid(902),
            "CloudAssignedAadServerData": json.dumps(
                {"ZeroTouchConfig": {"CloudAssignedTenantDomain": TENANT, "ForcedEnrollment": 1}}
            ),
        }
        self.key(
            HKLM + r"\Provisioning\AutopilotPolicyCache",
            ProfileAvailable=("REG_DWORD", 1),
            CloudAssignedDomainJoinMethod=("REG_DWORD", join),
        )
        if mode == "pre_provisioning":
            self.event("mgmtsvc", 509, at(1), {"Value": 1})
        return self

    def first_sync(
        self,
        timeout: int = 60,
        block: int = 0b110,
        skip_device: bool = False,
        skip_user: bool = False,
        users: Mapping[str, Mapping[str, int]] | None = None,
        user_started: datetime | None = None,
    ) -> Capture:
        """The Intune enrollment with its FirstSync ESP settings; ``users`` maps a SID to
        its ``*Duration`` values (seconds)."""
        enrollment = rf"{HKLM}\Enrollments\{ENROLLMENT}"
        self.key(
            enrollment,
            ProviderID=("REG_SZ", "MS DM Server"),
            EnrollmentState=("REG_DWORD", 1),
            EnrollmentType=("REG_DWORD", 6),
            UPN=("REG_SZ", f"megan.b@{TENANT}"),
            AADTenantID=("REG_SZ", TENANT_ID),
        )
        self.key(
            enrollment + r"\FirstSync",
            SyncFailureTimeout=("REG_DWORD", timeout),
            BlockInStatusPage=("REG_DWORD", block),
            SkipDeviceStatusPage=("REG_DWORD", 0xFFFFFFFF if skip_device else 0),
            SkipUserStatusPage=("REG_DWORD", 0xFFFFFFFF if skip_user else 0),
            AllowCollectLogsButton=("REG_DWORD", 0xFFFFFFFF),
            IsServerProvisioningDone=("REG_DWORD", 1),
        )
        for sid, durations in (users or {}).items():
            values: dict[str, tuple[str, ValueData]] = {
                name: ("REG_DWORD", seconds) for name, seconds in durations.items()
            }
            values["Timestamp"] = ("REG_BINARY", _filetime(user_started or at(40)))
            values["IsSyncDone"] = ("REG_DWORD", 1)
            self.keys[rf"{enrollment}\FirstSync\{sid}"] = values
        return self

    # -- the ESP's own record ----------------------------------------------------------------

    def record(
        self,
        phase: str,
        state: str,
        steps: Mapping[str, Step] | None = None,
        text: str | None = None,
    ) -> Capture:
        """``<phase>Category.Status`` as the ESP writes it. Steps not named in ``steps``: before
        the first failed / running one they succeeded (with the usual text), after it they
        never started; a failed phase's SendResultsToMdmServer shows "Previous step failed".
        The pre-provisioning marker step stays ``notStarted`` unless named."""
        steps = dict(steps or {})
        stop = next(
            (n for n in SUBCATEGORIES[phase] if steps.get(n, ("",))[0] in ("failed", "inProgress")),
            None,
        )
        filled: dict[str, Step] = {}
        reached = False
        for name in SUBCATEGORIES[phase]:
            if name in steps:
                filled[name] = steps[name]
            elif name == "SaveWhiteGloveSuccessResult" or state == "notStarted":
                filled[name] = ("notStarted", None)
            elif name == "SendResultsToMdmServer" and state == "failed":
                filled[name] = (
                    "failedFromPreviousSubcategory",
                    f"{phase}.SendResultsToMdmServer (Previous step failed)",
                )
            elif reached:
                filled[name] = ("notStarted", None)
            else:
                filled[name] = ("succeeded", DONE_TEXT.get(name, "succeeded"))
            if name == stop:
                reached = True
        if text is None and state == "failed":
            text = "Error"
        data = esp_status_json(phase, state, filled, text)
        return self.value(AP_SETTINGS, f"{phase}Category.Status", "REG_SZ", data)

    def record_all_succeeded(self, *phases: str) -> Capture:
        for phase in phases:
            self.record(phase, "succeeded")
        return self

    # -- EnrollmentStatusTracking ------------------------------------------------------------

    def provider(self, name: str, state: int, last_error: int | None = None) -> Capture:
        path = rf"{EST}\Device\DevicePreparation\PolicyProviders\{name}"
        self.key(path, InstallationState=("REG_DWORD", state), Timeout=("REG_DWORD", 15))
        if last_error is not None:
            self.value(path, "LastError", "REG_DWORD", last_error)
        return self.key(path + r"\TrackedResourceTypes", Apps=("REG_DWORD", 1))

    def tracking(
        self,
        owner: str = "Device",
        created: bool = True,
        apps: Mapping[str, int] | None = None,
        provider: str = "Sidecar",
        completed: bool | None = None,
    ) -> Capture:
        """``<owner>\\Setup\\Apps``: the provider's TrackingPoliciesCreated and per-app
        InstallationState (1 not installed, 2 in progress, 3 completed, 4 error)."""
        setup = rf"{EST}\{owner}\Setup"
        if completed is not None:
            self.value(setup, "HasProvisioningCompleted", "REG_DWORD", 0xFFFFFFFF * completed)
        self.key(
            setup + rf"\Apps\PolicyProviders\{provider}",
            TrackingPoliciesCreated=("REG_DWORD", int(created)),
        )
        for app_id, state in (apps or {}).items():
            self.key(
                setup + rf"\Apps\Tracking\{provider}\Win32App_{app_id}_1",
                InstallationState=("REG_DWORD", state),
                RebootRequired=("REG_DWORD", 1),
            )
        return self

    def snapshots(
        self,
        list_name: str,
        history: Iterable[tuple[datetime, Mapping[str, int]]],
        user: str | None = None,
    ) -> Capture:
        """ESPTrackingInfo\\Diagnostics\\[<user>\\]<list>\\<timestamp>: LocURI → state."""
        base = rf"{DIAG}\{user}\{list_name}" if user else rf"{DIAG}\{list_name}"
        for when, values in history:
            self.keys[rf"{base}\{snapshot_name(when)}"] = {
                uri: ("REG_DWORD", state) for uri, state in values.items()
            }
        return self

    # -- app evidence ------------------------------------------------------------------------

    def win32_app(
        self,
        app_id: str,
        name: str,
        *,
        enforcement: int,
        error: int = 0,
        user: str = DEVICE_USER,
        when: datetime | None = None,
        detected: bool | None = None,
    ) -> Capture:
        """IME Win32Apps\\<user>\\<app>_1 with its Enforcement/ComplianceStateMessage, and the
        IME log line that names the app."""
        signed = error - 2**32 if error & 0x80000000 else error
        path = rf"{IME}\{user}\{app_id}_1"
        stamp = (when or at(30)).strftime("%m/%d/%Y %H:%M:%S")
        self.key(
            path,
            Intent=("REG_DWORD", 3),
            ExitCode=("REG_DWORD", 0),
            LastUpdatedTimeUtc=("REG_SZ", stamp),
        )
        enforcement_doc = {
            "EnforcementState": enforcement,
            "ErrorCode": signed if error else None,
            "TargetingMethod": 0,
        }
        self.key(
            path + r"\EnforcementStateMessage",
            EnforcementStateMessage=("REG_SZ", json.dumps(enforcement_doc)),
        )
        if detected is not None or error:
            compliance = {
                "Applicability": 0,
                "ComplianceState": 1 if detected else 2,
                "DesiredState": 2,
                "ErrorCode": signed if error else None,
            }
            self.key(
                path + r"\ComplianceStateMessage",
                ComplianceStateMessage=("REG_SZ", json.dumps(compliance)),
            )
        self.ime(
            (when or at(30)) - timedelta(minutes=5),
            f"[Win32App][EspManager] App {app_id} has been registered for ESP tracking. "
            f"App name: {name}, intent: RequiredInstall",
        )
        return self

    def msi(
        self,
        product_code: str,
        status: int,
        last_error: int | None = None,
        sid: str = DEVICE_SID,
        url: str = "https://contoso.example/apps/line-of-business.msi",
    ) -> Capture:
        path = rf"{EDAM}\{sid}\MSI\{product_code}"
        self.key(
            path,
            Status=("REG_DWORD", status),
            ProductCode=("REG_SZ", product_code),
            CurrentDownloadUrl=("REG_SZ", url),
        )
        if last_error is not None:
            self.value(path, "LastError", "REG_DWORD", last_error)
        return self

    def office(self, office_id: str, final_status: int) -> Capture:
        return self.key(
            rf"{HKLM}\OfficeCSP\{office_id}",
            FinalStatus=("REG_DWORD", final_status),
            Status=("REG_DWORD", final_status),
        )

    def side_file(self, name: str, text: str) -> Capture:
        self.side_files[name] = text
        return self

    # -- Windows Autopilot device preparation ------------------------------------------------

    def device_preparation(
        self,
        page_status: int,
        *,
        error: int | None = None,
        phase: str | None = None,
        details: str | None = None,
        timeout_seconds: int = 3600,
    ) -> Capture:
        """The DevicePreparation CSP mirror (PageStatus 0 disabled … 4 failed), the bootstrapper
        ExecutionContext, the Intune enrollment without FirstSync, and the ZTD file saying the
        device is not registered (device preparation has no Autopilot registration)."""
        prep = AP_SETTINGS + r"\DevicePreparation"
        settings = {
            "AgentDownloadTimeoutSeconds": 1800,
            "PageTimeoutSeconds": timeout_seconds,
            "ErrorMessage": "Contact your support person.",
            "AllowSkipOnFailure": False,
            "AllowDiagnostics": True,
        }
        self.key(
            prep,
            PageEnabled=("REG_DWORD", 1),
            PageStatus=("REG_DWORD", page_status),
            PageSettings=("REG_SZ", json.dumps(settings)),
            MdmAgentInstalled=("REG_DWORD", 1),
        )
        if error is not None:
            self.value(prep, "PageErrorCode", "REG_DWORD", error)
        if phase is not None:
            self.value(prep, "PageErrorPhase", "REG_SZ", phase)
        if details is not None:
            self.value(prep, "PageErrorDetails", "REG_SZ", details)
        self.key(
            prep + r"\BootstrapperAgent",
            ExecutionContext=("REG_SZ", json.dumps({"policyId": guid(950), "providers": []})),
        )
        self.key(AP_SETTINGS, AutopilotDevicePrepHint=("REG_DWORD", 0))
        self.key(
            rf"{HKLM}\Enrollments\{ENROLLMENT}",
            ProviderID=("REG_SZ", "MS DM Server"),
            EnrollmentState=("REG_DWORD", 1),
            AADTenantID=("REG_SZ", TENANT_ID),
        )
        self.ztd = {"ErrorCode": 807, "ErrorReason": "ZtdDeviceIsNotRegistered"}
        return self

    def prep_app(
        self, number: int, name: str, state: int, start: datetime, end: datetime,
        error: int | None = None,
    ) -> Capture:
        """A device preparation app (WorkloadState 1 completed, 4 failed, 5 in progress …)."""
        self.workloads.append(
            {
                "WorkloadId": guid(number),
                "FriendlyName": name,
                "WorkloadState": state,
                "StartTime": f"/Date({int(start.timestamp() * 1000)})/",
                "EndTime": f"/Date({int(end.timestamp() * 1000)})/",
                "ErrorCode": error - 2**32 if error is not None and error & 0x80000000 else error,
            }
        )
        return self.key(
            IME_ROOT + r"\Win32Apps\ProvisioningProgress",
            ProvisioningProgress=("REG_SZ", json.dumps({"Workloads": self.workloads})),
        )

    def prep_script(self, number: int, result: str, when: datetime) -> Capture:
        return self.key(
            rf"{IME_ROOT}\Policies\{DEVICE_USER}\{guid(number)}",
            Result=("REG_SZ", result),
            LastUpdatedTimeUtc=("REG_SZ", when.strftime("%m/%d/%Y %H:%M:%S")),
        )

    # -- output ------------------------------------------------------------------------------

    def files(self) -> list[tuple[str, bytes]]:
        """The capture's members (name, bytes), in a fixed order."""
        members: list[tuple[str, bytes]] = [
            ("MdmDiagReport_RegistryDump.reg", dump_reg_text(self.keys).encode("utf-8"))
        ]
        with tempfile.TemporaryDirectory(prefix="espview-capture-") as tmp:
            for alias in CHANNELS:
                records = sorted(self.events.get(alias, []), key=lambda r: r["time"])
                if not records:
                    continue
                name = CHANNELS[alias][2]
                path = write_evtx(Path(tmp) / "x.evtx", records)
                members.append((name, path.read_bytes()))
            if self.logs:
                path = write_cmtrace(Path(tmp) / "ime.log", sorted(self.logs, key=_log_time))
                members.append(("IntuneManagementExtension.log", path.read_bytes()))
        for name, text in self.side_files.items():
            members.append((name, text.encode("utf-8")))
        if self.ztd is not None:
            text = json.dumps(self.ztd, indent=2)
            members.append(
                ("AutopilotDDSZTDFile.json", codecs.BOM_UTF16_LE + text.encode("utf-16-le"))
            )
        return members

    def cab_bytes(self, compression: str = "mszip") -> bytes:
        return build_cab([Folder(self.files(), compression=compression)])

    def write_cab(self, path: Path, compression: str = "mszip") -> Path:
        path.write_bytes(self.cab_bytes(compression))
        return path


def _log_time(line: str) -> tuple[str, str]:
    # lines are built in story order per helper; sort by the date and clock they carry
    date = line.split('date="', 1)[1].split('"', 1)[0]
    month, day, year = (int(x) for x in date.split("-"))
    clock = line.split('time="', 1)[1].split('"', 1)[0]
    return (f"{year:04d}{month:02d}{day:02d}", clock)

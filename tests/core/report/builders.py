"""Sample :class:`EspReport` objects for the report writers' tests (built directly, no analysis).

* :func:`full_report` — every field populated: a user-driven deployment that failed in
  Device setup › Apps on a Win32 app (0x80070643), Account setup never started.
* :func:`minimal_report` — nothing known: every phase and step ``unknown``, every field None.
* :func:`hostile_report` — evidence strings that try to break out of HTML and terminals.

All identifiers are invented.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from core.esp.model import (
    PHASE_IDS,
    Device,
    EspReport,
    EventRef,
    Finding,
    Hint,
    HistoryEntry,
    Item,
    Phase,
    RegistryRef,
    RegistryValueRef,
    Settings,
    SourceSummary,
    Status,
    Step,
    TimelineEntry,
)
from core.problems import Problem

START = datetime(2024, 4, 2, 16, 0, 0, tzinfo=UTC)
DUMP = "MdmDiagReport_RegistryDump.reg"
ADMIN = "Microsoft-Windows-DeviceManagement-Enterprise-Diagnostics-Provider/Admin"
APPS = "DeviceSetup.AppsSubcategory"

PHASE_TITLES = {
    "DevicePreparation": "Device preparation",
    "DeviceSetup": "Device setup",
    "AccountSetup": "Account setup",
}
#: The visible steps in ESP order: (id suffix, title) per phase.
STEPS: dict[str, tuple[tuple[str, str], ...]] = {
    "DevicePreparation": (
        ("TpmAttestationSubcategory", "Securing your hardware"),
        ("AadjSubcategory", "Joining your organization's network"),
        ("MdmEnrollmentSubcategory", "Registering your device for mobile management"),
        ("EspProviderInstallationSubcategory", "Preparing your device for mobile management"),
    ),
    "DeviceSetup": (
        ("SecurityPoliciesSubcategory", "Security policies"),
        ("CertificatesSubcategory", "Certificates"),
        ("NetworkConnectionsSubcategory", "Network connections"),
        ("AppsSubcategory", "Apps"),
    ),
    "AccountSetup": (
        ("WaitingForAadRegistrationSubcategory", "Joining your organization's network"),
        ("SecurityPoliciesSubcategory", "Security policies"),
        ("CertificatesSubcategory", "Certificates"),
        ("NetworkConnectionsSubcategory", "Network connections"),
        ("AppsSubcategory", "Apps"),
    ),
}
STEP_COUNT = sum(len(steps) for steps in STEPS.values())


def at(minutes: float) -> datetime:
    return START + timedelta(minutes=minutes)


def skeleton(status: Status = "unknown") -> tuple[Phase, Phase, Phase]:
    """The three phases with every visible step, all in ``status`` and nothing else known."""
    phases = tuple(
        Phase(
            pid,
            PHASE_TITLES[pid],
            status,
            steps=tuple(Step(f"{pid}.{suffix}", title, status) for suffix, title in STEPS[pid]),
        )
        for pid in PHASE_IDS
    )
    assert len(phases) == 3
    return phases[0], phases[1], phases[2]


def minimal_report() -> EspReport:
    return EspReport(SourceSummary("reg", "empty.reg"), Device(), Settings(), skeleton())


def _apps_step() -> Step:
    win32 = Item(
        "win32", "6c1b0e2a-0000-4000-8000-00000000a001", "Contoso VPN client", "device",
        "failed", "0x80070643",
        (HistoryEntry(at(21), "downloading"), HistoryEntry(at(24), "installing"),
         HistoryEntry(at(27), "failed")),
    )
    items = (
        Item("msi", "{00000000-0000-4000-8000-00000000b002}", "Intune Management Extension",
             "device", "succeeded", raw_status="enforcement completed (Status 70)"),
        win32,
        Item("office", "O365ProPlusRetail", None, "device", "in_progress", None),
    )
    registry = (
        RegistryRef(
            r"HKLM\SOFTWARE\Microsoft\Windows\Autopilot\EnrollmentStatusTracking\Device\Setup"
            r"\Apps\Tracking\Sidecar\Win32App_6c1b0e2a-0000-4000-8000-00000000a001_1",
            at(27),
            (RegistryValueRef("InstallationState", "REG_DWORD", 4),
             RegistryValueRef("RebootRequired", "REG_QWORD", 1),
             RegistryValueRef("Blob", "REG_BINARY", b"\x00\xffZ"),
             RegistryValueRef("Dependencies", "REG_MULTI_SZ", ["a", "b"]),
             RegistryValueRef("Empty", "REG_NONE", None)),
            f"{DUMP}:4120",
        ),
        RegistryRef(r"HKLM\SOFTWARE\Microsoft\Provisioning\AutopilotSettings", None,
                    (RegistryValueRef("DeviceSetupCategory.Status", "REG_SZ",
                                      '{"categoryState":"failed"}'),),
                    f"{DUMP}:880"),
    )
    events = (
        EventRef(at(21), ADMIN, 1900, "Information", 5120, "Win32 app download started",
                 "DeviceManagement-Admin.evtx#5120"),
        EventRef(at(27), ADMIN, 1920, "Error", 5133,
                 "Win32 app Contoso VPN client failed: exit code 1603 (0x80070643)",
                 "DeviceManagement-Admin.evtx#5133"),
    )
    hint = Hint("hr-0x80070643", "The app's installer returned a fatal error",
                "Run the installer by hand on a test device with logging (msiexec /l*v) and "
                "check its detection rule.",
                "https://learn.microsoft.com/troubleshoot/mem/intune/app-management/"
                "app-install-error-codes")
    return Step(APPS, "Apps", "failed", "Apps (1 of 3 installed)", "0x80070643", at(20), at(27),
                items, registry, events, hint)


def full_report() -> EspReport:
    """A failed user-driven deployment with every field of the contract populated."""
    prep, setup, account = skeleton("succeeded")
    prep = replace(prep, status_text="Complete", started=at(0), ended=at(12), steps=tuple(
        replace(s, status_text="Complete", started=at(3 * i), ended=at(3 * i + 3))
        for i, s in enumerate(prep.steps)))
    setup_steps = list(setup.steps)
    setup_steps[0] = replace(setup_steps[0], status_text="(1 of 1) completed",
                             started=at(12), ended=at(14))
    setup_steps[1] = replace(setup_steps[1], status="not_required",
                             status_text="No setup needed")
    setup_steps[2] = replace(setup_steps[2], status="skipped")
    setup_steps[3] = _apps_step()
    setup = replace(setup, status="failed", status_text="Failed", started=at(12), ended=at(27),
                    steps=tuple(setup_steps))
    account = replace(account, status="not_started", steps=tuple(
        replace(s, status="not_started") for s in account.steps))
    findings = (
        Finding("step-failed", "error", APPS, "Win32 app Contoso VPN client failed (0x80070643)",
                "The installer returned 1603. Device setup stopped at Apps.",
                ("DeviceManagement-Admin.evtx#5133", f"{DUMP}:4120"),
                source="https://learn.microsoft.com/troubleshoot/mem/intune/app-management/",
                confidence="high"),
        Finding("office-slow", "warning", APPS, "Microsoft 365 Apps still installing",
                "Office was still downloading when the ESP failed.", (),
                "https://learn.microsoft.com/windows/client-management/mdm/office-csp", "medium"),
        Finding("no-ime-log", "info", None, "No IME log in the capture", "Details come from the "
                "registry only.", (), "https://learn.microsoft.com/intune/", "low"),
    )
    timeline = tuple(
        TimelineEntry(at(i), ("event", "registry", "log")[i % 3],
                      APPS if i > 20 else None, f"entry {i}", f"{DUMP}:{100 + i}")
        for i in range(30)
    )
    return EspReport(
        SourceSummary("cab", "/captures/MDMDiagReport.cab",
                      (DUMP, "DeviceManagement-Admin.evtx", "IntuneManagementExtension.log"),
                      (Problem("DeviceManagement-Admin.evtx", "chunk 3", "bad chunk checksum"),)),
        Device("DESKTOP-TEST01", "SN-0000-TEST", "10.0.22631.3296", "contoso.example",
               "Contoso user-driven", True, "user_driven"),
        Settings(60, False, True, True, True, False, True),
        (prep, setup, account),
        findings,
        timeline,
    )


HOSTILE = '<script>alert("x")</script>&amp;\x1b[31m\x07'


def hostile_report() -> EspReport:
    """Evidence strings with markup, entities and terminal escapes in every free-text slot."""
    base = full_report()
    setup = base.phases[1]
    apps = setup.steps[3]
    assert apps.hint is not None
    evil_apps = replace(
        apps,
        status_text=HOSTILE,
        items=(*apps.items, Item("win32", HOSTILE, HOSTILE, "user", "unknown", raw_status=HOSTILE)),
        registry=(RegistryRef(HOSTILE, None, (RegistryValueRef(HOSTILE, "REG_SZ", HOSTILE),),
                              HOSTILE),),
        events=(EventRef(at(30), HOSTILE, 1, HOSTILE, 2, HOSTILE, HOSTILE),),
        hint=replace(apps.hint, text=HOSTILE, source="javascript:alert(1)"),
    )
    setup = replace(setup, steps=(*setup.steps[:3], evil_apps))
    return replace(
        base,
        device=replace(base.device, name=HOSTILE, profile_name=HOSTILE),
        phases=(base.phases[0], setup, base.phases[2]),
        findings=(Finding("evil", "error", APPS, HOSTILE, HOSTILE, (HOSTILE,), HOSTILE, "low"),),
        timeline=(TimelineEntry(at(1), "log", None, HOSTILE, HOSTILE),),
    )


def big_report(entries: int) -> EspReport:
    """:func:`full_report` with a timeline of ``entries`` entries."""
    timeline = tuple(
        TimelineEntry(START + timedelta(seconds=i), "event", None, f"event {i}", f"x.evtx#{i}")
        for i in range(entries)
    )
    return replace(full_report(), timeline=timeline)

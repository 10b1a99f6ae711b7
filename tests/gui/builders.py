"""Reports and evidence built by hand for the GUI tests: a realistic failed ESP run.

Device setup succeeded; Account setup › Certificates failed with 0x87D1041C on a SCEP
profile; Apps never started. Every identifier here is invented.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.esp.model import (
    Device,
    EspReport,
    EventRef,
    Finding,
    Hint,
    HistoryEntry,
    Item,
    LogRef,
    Phase,
    RegistryRef,
    RegistryValueRef,
    Settings,
    SourceSummary,
    Step,
    TimelineEntry,
)
from core.events.model import EventRecord
from core.evidence import Evidence, SourceInfo
from core.logs.model import LogLine
from core.problems import Problem
from core.registry.memory import MemoryView

T0 = datetime(2024, 5, 6, 9, 0, 0, tzinfo=UTC)
EST = r"HKLM\SOFTWARE\Microsoft\Windows\Autopilot\EnrollmentStatusTracking"
USER_SID = "S-1-12-1-1111111111-2222222222-3333333333-4444444444"
CERT_STEP = "AccountSetup.CertificatesSubcategory"
EVTX = "microsoft-windows-devicemanagement-enterprise-diagnostics-provider-admin.evtx"
DUMP = "MdmDiagReport_RegistryDump.reg"
CSP = "./User/Vendor/MSFT/ClientCertificateInstall"
IME = "IntuneManagementExtension.log"
SETTINGS_KEY = r"HKLM\SOFTWARE\Microsoft\Windows\Autopilot\AutopilotSettings"
LEARN = "https://learn.microsoft.com/intune/intune-service/enrollment/windows-enrollment-status"


def t(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def _ok(step_id: str, title: str, start: float, end: float, text: str = "Complete") -> Step:
    return Step(step_id, title, "succeeded", text, None, t(start), t(end))


def _cert_step() -> Step:
    items = (
        Item("scep", "SCEP-CorpWifi", "Corp Wi-Fi user certificate", "user", "failed",
             "0x87D1041C",
             (HistoryEntry(t(41), "not_processed"), HistoryEntry(t(44), "in_progress"),
              HistoryEntry(t(52), "failed"))),
        Item("pfx", "PFX-Signing", "Document signing", "user", "succeeded", None,
             (HistoryEntry(t(41), "not_processed"), HistoryEntry(t(43), "installed"))),
        Item("scep", "SCEP-VPN", "VPN user certificate", "user", "not_started"),
    )
    registry = (
        RegistryRef(
            rf"{EST}\ESPTrackingInfo\Diagnostics\{USER_SID}\ExpectedSCEPCerts\2024-05-06T09:52:00.000Z",
            t(52),
            (RegistryValueRef(f"{CSP}/SCEP/CorpWifi", "REG_DWORD", 0, "not installed"),
             RegistryValueRef(f"{CSP}/PFX/Signing", "REG_DWORD", 1, "installed")),
            f"{DUMP}:1204",
        ),
        RegistryRef(
            SETTINGS_KEY,
            None,
            (RegistryValueRef("AccountSetupCategory.Status", "REG_SZ",
                              '{"categoryState":"failed","CertificatesSubcategory":"Failed"}'),
             RegistryValueRef("Blob", "REG_BINARY", b"\x01\x02\xfe"),
             RegistryValueRef("Names", "REG_MULTI_SZ", ["one", "two"])),
            f"{DUMP}:880",
        ),
    )
    events = (
        EventRef(t(44), "Microsoft-Windows-DeviceManagement-Enterprise-Diagnostics-Provider/Admin",
                 306, "Information", 4101, "SCEP: CspExecute started for CorpWifi", f"{EVTX}#4101"),
        EventRef(t(52), "Microsoft-Windows-DeviceManagement-Enterprise-Diagnostics-Provider/Admin",
                 32, "Error", 4120, "SCEP: Certificate request failed (0x87D1041C)",
                 f"{EVTX}#4120"),
        EventRef(t(52.5), "Microsoft-Windows-Shell-Core/Operational", 62407, "Information", 77,
                 "CloudExperienceHost: AccountSetup.CertificatesSubcategory failed",
                 "microsoft-windows-shell-core-operational.evtx#77"),
    )
    hint = Hint("scep-0x87D1041C", "The SCEP certificate could not be installed",
                "Check that the trusted root certificate profile targets the same group as the "
                "SCEP profile, and that the NDES connector is reachable from the device.",
                "https://learn.microsoft.com/troubleshoot/mem/intune/certificates/troubleshoot-scep-certificate-profiles")
    logs = (
        LogRef(t(44.2), "info", "CertificateManager", "12", "Requesting SCEP-CorpWifi from NDES",
               f"{IME}:812", "SCEP-CorpWifi"),
        LogRef(t(51.9), "error", "CertificateManager", "12",
               "SCEP-CorpWifi failed: 0x87D1041C\nretry 3 of 3 exhausted", f"{IME}:814",
               "SCEP-CorpWifi"),
    )
    return Step(CERT_STEP, "Certificates", "failed", "Failed: 0x87D1041C", "0x87D1041C",
                t(41), t(52), items, registry, events, hint, logs,
                "the ESP record says Failed and the SCEP profile reports 0x87D1041C",
                "ESP tracking snapshot", "event 32")


def failed_report(source_path: str = "/captures/MDMDiagReport.cab") -> EspReport:
    """Device preparation and Device setup done, Account setup failed on Certificates."""
    prep = Phase("DevicePreparation", "Device preparation", "succeeded", "Complete", t(0), t(12), (
        _ok("DevicePreparation.TpmAttestationSubcategory", "Securing your hardware", 0, 2),
        _ok("DevicePreparation.AadjSubcategory", "Joining your organization's network", 2, 5),
        _ok("DevicePreparation.MdmEnrollmentSubcategory",
            "Registering your device for mobile management", 5, 8),
        _ok("DevicePreparation.EspProviderInstallationSubcategory",
            "Preparing your device for mobile management", 8, 12),
    ))
    apps = Step("DeviceSetup.AppsSubcategory", "Apps", "succeeded", "Apps (3 of 3 installed)", None,
                t(20), t(35), (
                    Item("win32", "Win32App_6f1c0000-0000-4000-8000-000000000001", "Company Portal",
                         "device", "succeeded", None,
                         (HistoryEntry(t(21), "in_progress"), HistoryEntry(t(30), "installed"))),
                    Item("msi", "{0A1B2C3D-0000-4000-8000-000000000002}",
                         "Intune Management Extension",
                         "device", "succeeded"),
                    Item("office", "O365ProPlus", "Microsoft 365 Apps", "device", "succeeded"),
                ))
    setup = Phase("DeviceSetup", "Device setup", "succeeded", "Complete", t(12), t(35), (
        _ok("DeviceSetup.SecurityPoliciesSubcategory", "Security policies", 12, 15,
            "Complete (4 of 4 applied)"),
        _ok("DeviceSetup.CertificatesSubcategory", "Certificates", 15, 17, "No setup needed"),
        _ok("DeviceSetup.NetworkConnectionsSubcategory", "Network connections", 17, 20,
            "No setup needed"),
        apps,
    ))
    account = Phase("AccountSetup", "Account setup", "failed", "Failed", t(36), t(52), (
        _ok("AccountSetup.WaitingForAadRegistrationSubcategory",
            "Joining your organization's network", 36, 38),
        _ok("AccountSetup.SecurityPoliciesSubcategory", "Security policies", 38, 41,
            "Complete (2 of 2 applied)"),
        _cert_step(),
        Step("AccountSetup.NetworkConnectionsSubcategory", "Network connections", "not_started",
             "Waiting for certificates"),
        Step("AccountSetup.AppsSubcategory", "Apps", "identifying", "Identifying"),
    ))
    findings = (
        Finding("step-failed", "error", CERT_STEP,
                "Account setup › Certificates failed (0x87D1041C)",
                "The SCEP profile 'Corp Wi-Fi user certificate' failed to install, which stopped "
                "the account phase.",
                (f"{EVTX}#4120: SCEP: Certificate request failed (0x87D1041C)", f"{DUMP}:1204",
                 f"{IME}:814", SETTINGS_KEY, "ESP status: Certificates (Error)"),
                source=LEARN, confidence="high"),
        Finding("apps-identifying", "warning", "AccountSetup.AppsSubcategory",
                "Account setup › Apps never left Identifying", "No tracking list was created.", (),
                LEARN, "medium"),
        Finding("no-ime-log", "info", None, "No Intune Management Extension log in the capture",
                "Win32 app details come from the registry only.", (), LEARN, "low"),
    )
    timeline = tuple(sorted((
        TimelineEntry(t(0), "event", "DevicePreparation.TpmAttestationSubcategory",
                      "TPM attestation started", "tpm.evtx#10"),
        TimelineEntry(t(5), "registry", "DevicePreparation.MdmEnrollmentSubcategory",
                      "Enrollment created", f"{DUMP}:120"),
        TimelineEntry(t(21), "log", "DeviceSetup.AppsSubcategory",
                      "Company Portal download started", "IntuneManagementExtension.log:812"),
        TimelineEntry(t(44), "event", CERT_STEP, "SCEP: CspExecute started for CorpWifi",
                      f"{EVTX}#4101"),
        TimelineEntry(t(52), "event", CERT_STEP, "SCEP: Certificate request failed (0x87D1041C)",
                      f"{EVTX}#4120"),
        TimelineEntry(t(52), "registry", CERT_STEP, "ExpectedSCEPCerts snapshot", f"{DUMP}:1204"),
        TimelineEntry(t(53), "log", None, "Sync session ended",
                      "IntuneManagementExtension.log:990"),
    ), key=lambda e: e.time))
    source = SourceSummary("cab", source_path,
                           (DUMP, EVTX, "microsoft-windows-shell-core-operational.evtx",
                            "AutopilotDDSZTDFile.json", "IntuneManagementExtension.log"),
                           (Problem(EVTX, "chunk 3", "checksum mismatch; 12 records skipped"),
                            Problem(DUMP, "line 4410", "value data is not valid hex")))
    device = Device("DESKTOP-TEST01", "SN-0000-TEST", "10.0.22631.3296", "contoso.example",
                    "Corp user-driven", True, "user_driven", "W. Europe Standard Time")
    settings = Settings(60, False, False, True, True, False, True)
    return EspReport(source, device, settings, (prep, setup, account), findings, timeline)


def _record(minutes: float, event_id: int, level: int, record_id: int, file: str, channel: str,
            data: dict[str, str]) -> EventRecord:
    xml = (f"<Event><System><EventID>{event_id}</EventID><EventRecordID>{record_id}"
           f"</EventRecordID></System><EventData>"
           + "".join(f'<Data Name="{k}">{v}</Data>' for k, v in data.items())
           + "</EventData></Event>")
    return EventRecord(t(minutes), channel, "Microsoft-Windows-Test", event_id, level, record_id,
                       "DESKTOP-TEST01", data, file, lambda: xml)


def evidence(source_path: str = "/captures/MDMDiagReport.cab") -> Evidence:
    """Evidence matching :func:`failed_report`: a small registry and the three events."""
    report = failed_report(source_path)
    registry = MemoryView.from_dict({
        r"HKLM\SOFTWARE\Microsoft\Windows\Autopilot\AutopilotSettings": {
            "AccountSetupCategory.Status": ("REG_SZ", '{"categoryState":"failed"}'),
            "DevicePreparationCategory.Status": ("REG_SZ", '{"categoryState":"succeeded"}'),
        },
        rf"{EST}\Device\Setup": {"HasProvisioningCompleted": ("REG_DWORD", 0xFFFFFFFF)},
        rf"{EST}\{USER_SID}\Setup\Apps\PolicyProviders\Sidecar": {
            "TrackingPoliciesCreated": ("REG_DWORD", 0)},
        r"HKLM\SOFTWARE\Microsoft\Enrollments\{11111111-2222-3333-4444-555555555555}\FirstSync": {
            "SkipUserStatusPage": ("REG_DWORD", 0), "Blob": ("REG_BINARY", b"\x00\x10")},
    }, origin=f"{DUMP}:1")
    admin = "Microsoft-Windows-DeviceManagement-Enterprise-Diagnostics-Provider/Admin"
    events = [
        _record(44, 306, 4, 4101, EVTX, admin, {"ProfileName": "CorpWifi", "Stage": "CspExecute"}),
        _record(52, 32, 2, 4120, EVTX, admin, {"ProfileName": "CorpWifi", "HResult": "0x87D1041C"}),
        _record(52.5, 62407, 4, 77, "microsoft-windows-shell-core-operational.evtx",
                "Microsoft-Windows-Shell-Core/Operational", {"Value": "CertificatesSubcategory"}),
    ]
    return Evidence(SourceInfo("cab", source_path, report.source.files), registry, events,
                    log_lines(), None, list(report.source.problems))


def log_lines() -> list[LogLine]:
    """IME lines around the SCEP failure (an info, a warning, an error) plus a late one."""
    rows = [(810, 44.0, 1, "Sync session started"),
            (811, 44.1, 1, "Processing policy CorpWifi"),
            (812, 44.2, 1, "Requesting SCEP-CorpWifi from NDES"),
            (813, 48.0, 2, "NDES slow to answer, retrying"),
            (814, 51.9, 3, "SCEP-CorpWifi failed: 0x87D1041C\nretry 3 of 3 exhausted"),
            (990, 53.0, 1, "Sync session ended")]
    return [LogLine(t(minutes), message, "CertificateManager", "12", kind, IME, number)
            for number, minutes, kind, message in rows]


def markup_strings(sentinel: str) -> tuple[str, ...]:
    """Strings a hostile capture could carry: an image fetch, a file link, styled HTML."""
    return (f'<img src="{sentinel}">',
            f'<a href="file://{sentinel}">click</a>',
            '<b style="color:red;font-size:40px">FAKE</b><table><tr><td>x</td></tr></table>')


def hostile_capture(sentinel: str, source_path: str = "/captures/MDMDiagReport.cab"
                    ) -> tuple[Evidence, EspReport]:
    """:func:`failed_report` and its evidence with markup in every string a view shows."""
    from dataclasses import replace

    img, link, styled = markup_strings(sentinel)
    mark = f"{img}{link}{styled}"
    report = failed_report(source_path)

    def step(s: Step) -> Step:
        return replace(
            s, title=s.title + img, status_text=(s.status_text or "") + link,
            status_reason=styled,
            items=tuple(replace(i, name=(i.name or "") + mark, id=i.id + img,
                                history=tuple(replace(h, status=h.status + link)
                                              for h in i.history)) for i in s.items),
            registry=tuple(replace(r, path=r.path + "\\" + img, origin=r.origin + link,
                                   values=tuple(replace(v, name=v.name + img, data=mark,
                                                        display=styled) for v in r.values))
                           for r in s.registry),
            events=tuple(replace(e, summary=e.summary + mark, channel=e.channel + img)
                         for e in s.events),
            logs=tuple(replace(x, message=mark, component=img) for x in s.logs),
            hint=replace(s.hint, title=s.hint.title + img, text=mark) if s.hint else None,
            started_source=link)

    phases = tuple(replace(p, title=p.title + img, steps=tuple(step(s) for s in p.steps),
                           status_reason=styled) for p in report.phases)
    findings = tuple(replace(f, title=f.title + img, text=mark,
                             evidence=(*f.evidence, mark)) for f in report.findings)
    timeline = tuple(replace(e, summary=e.summary + mark) for e in report.timeline)
    device = replace(report.device, name=img, serial=link, profile_name=styled,
                     tenant_domain=img, os_build=link)
    source = replace(report.source, files=(*report.source.files, mark),
                     problems=(*report.source.problems, Problem(mark, img, styled)))
    hostile = replace(report, device=device, phases=phases, findings=findings,  # type: ignore[arg-type]  # three phases
                      timeline=timeline, source=source)
    ev = evidence(source_path)
    ev.events = [replace(e, data={k: v + mark for k, v in e.data.items()},
                         _render_xml=lambda m=mark: m) for e in ev.events]
    ev.logs = [replace(x, message=x.message + mark, component=img) for x in ev.logs]
    ev.problems = list(source.problems)
    ev.source = replace(ev.source, files=source.files)
    return ev, hostile


def large_capture(rows: int, source_path: str = "/captures/MDMDiagReport.cab"
                  ) -> tuple[Evidence, EspReport]:
    """:func:`failed_report` grown to ``rows`` items, events and log lines on the failed step,
    ``rows`` registry keys and problems, and ``10 * rows`` timeline entries spread over the
    steps (a busy device whose capture keeps every retry)."""
    from dataclasses import replace

    report = failed_report(source_path)
    admin = "Microsoft-Windows-DeviceManagement-Enterprise-Diagnostics-Provider/Admin"
    items = tuple(Item("win32", f"Win32App_{n:08x}-0000-4000-8000-000000000000",
                       f"Line-of-business app {n}", "user", "failed" if n % 7 == 0 else "installed",
                       "0x87D1041C" if n % 7 == 0 else None,
                       (HistoryEntry(t(41 + n / rows), "in_progress"),))
                  for n in range(rows))
    events = tuple(EventRef(t(44 + 8 * n / rows), admin, 306 + n % 3, "Information",
                            10_000 + n, f"SCEP: CspExecute attempt {n} for CorpWifi",
                            f"{EVTX}#{10_000 + n}") for n in range(rows))
    logs = tuple(LogRef(t(44 + 8 * n / rows), "warning" if n % 5 == 0 else "info",
                        "CertificateManager", "12", f"Polling NDES, attempt {n}",
                        f"{IME}:{2_000 + n}", "SCEP-CorpWifi") for n in range(rows))
    registry = tuple(RegistryRef(rf"{EST}\Sidecar\Win32App_{n:08x}", t(41),
                                 (RegistryValueRef("ComplianceStateMessage", "REG_SZ", "{}"),),
                                 f"{DUMP}:{5_000 + n}") for n in range(rows))
    steps = [s.id for s in report.steps]
    kinds = ("event", "log", "registry")
    timeline = tuple(TimelineEntry(t(60 * n / (10 * rows)), kinds[n % 3], steps[n % len(steps)],
                                   f"entry {n}", f"{EVTX}#{100_000 + n}")
                     for n in range(10 * rows))
    phases = tuple(replace(phase, steps=tuple(
        replace(step, items=items, events=events, logs=logs, registry=step.registry + registry)
        if step.id == CERT_STEP else step for step in phase.steps)) for phase in report.phases)
    problems = tuple(Problem(f"member-{n}.evtx", f"chunk {n}", "checksum mismatch")
                     for n in range(rows))
    source = replace(report.source, problems=report.source.problems + problems)
    report = replace(report, phases=phases, timeline=timeline, source=source)  # type: ignore[arg-type]  # three phases, as built
    base = evidence(source_path)
    return replace(base, source=replace(base.source, files=base.source.files + tuple(
        f"member-{n}.evtx" for n in range(rows)))), report

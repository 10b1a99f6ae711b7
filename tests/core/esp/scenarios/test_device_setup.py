"""Scenarios that fail (or warn) in Device setup: Win32, MSI, LOB+Win32, Office, certificates,
an unknown code, and the device-phase reboot that makes the user sign in twice."""

from __future__ import annotations

from datetime import datetime

from tests.builders.capture import DEVICE_SID, USER_SID, Capture, at, guid, hex32
from tests.core.esp.scenarios.conftest import (
    Run,
    errors_only_on,
    failed_step,
    finding_ids,
    setup_failed,
    top_finding_on,
)

APPS = "DeviceSetup.AppsSubcategory"
CERTS = "DeviceSetup.CertificatesSubcategory"
MSI_URI = "./Device/Vendor/MSFT/EnterpriseDesktopAppManagement/MSI/{}/Status"
SIDECAR_URI = (
    "./Device/Vendor/MSFT/EnrollmentStatusTracking/Setup/Apps/Tracking/Sidecar/"
    "Win32App_{}_1/InstallationState"
)


def _msi_failed_event(cap: Capture, when: datetime, product: str, code: int, log: str) -> None:
    """DeviceManagement 1924: the MSI install failed (log path, command, product, SID, code)."""
    data = {"LogPath": log, "CommandLine": "/quiet", "ProductCode": product, "SID": DEVICE_SID}
    cap.event("dm_admin", 1924, when, {**data, "HRESULT": hex32(code)}, level=2)


def _device_apps_failed(text: str, mode: str = "user_driven") -> Capture:
    return setup_failed("AppsSubcategory", text, mode)


def test_win32_app_not_detected_87d1041c(run: Run) -> None:
    vpn, notes = guid(11), guid(12)
    cap = _device_apps_failed("Apps (0x87d1041c)")
    cap.tracking("Device", apps={vpn: 4, notes: 3})
    cap.snapshots(
        "Sidecar",
        [
            (
                at(20),
                {SIDECAR_URI.format(vpn): 2},
            ),
            (
                at(31),
                {SIDECAR_URI.format(vpn): 4},
            ),
        ],
    )
    cap.win32_app(
        vpn, "Contoso VPN", enforcement=5000, error=0x87D1041C, detected=False, when=at(31)
    )
    cap.win32_app(notes, "Contoso Notes", enforcement=1000, detected=True, when=at(25))
    report = run(cap)

    step = failed_step(report, APPS, "Apps (0x87d1041c)", "0x87D1041C")
    items = {i.id: i for i in step.items if i.kind == "win32"}
    assert items[vpn].name == "Contoso VPN"
    assert (items[vpn].scope, items[vpn].status, items[vpn].hresult) == (
        "device",
        "failed",
        "0x87D1041C",
    )
    assert [h.status for h in items[vpn].history][:2] == ["in_progress", "error"]
    assert items[notes].hresult is None
    assert items[notes].status == "succeeded"
    assert {"win32_failed", "known_error"} <= finding_ids(report)
    assert step.hint is not None
    assert "detection" in step.hint.text.lower()
    top_finding_on(report, APPS)
    errors_only_on(report, APPS)


def test_lob_msi_failed_1924(run: Run) -> None:
    product = "{" + guid(21).upper() + "}"
    cap = _device_apps_failed("Apps (Failed: 0x80070643)")
    cap.snapshots("ExpectedMSIAppPackages", [(at(22), {MSI_URI.format(product): 60})])
    cap.msi(product, 60, last_error=0x80070643)
    cap.event("dm_admin", 1920, at(21), {"ProductCode": product, "SID": DEVICE_SID})
    _msi_failed_event(cap, at(22), product, 0x80070643, r"C:\Windows\Temp\MSI-contoso.log")
    report = run(cap)

    step = failed_step(report, APPS, "Apps (Failed: 0x80070643)", "0x80070643")
    msi = [i for i in step.items if i.kind == "msi"]
    assert [(i.id.upper(), i.scope, i.status, i.hresult) for i in msi] == [
        (product, "device", "failed", "0x80070643")
    ]
    assert any(e.event_id == 1924 for e in step.events)
    assert {"msi_failed", "known_error"} <= finding_ids(report)
    errors_only_on(report, APPS)


def test_lob_and_win32_mixed_another_install_in_progress(run: Run) -> None:
    product = "{" + guid(31).upper() + "}"
    app = guid(32)
    cap = _device_apps_failed("Apps (Failed: 0x80070652)")
    cap.tracking("Device", apps={app: 3})
    cap.win32_app(app, "Contoso Agent", enforcement=1000, detected=True, when=at(24))
    cap.snapshots("ExpectedMSIAppPackages", [(at(25), {MSI_URI.format(product): 60})])
    cap.msi(product, 60, last_error=0x80070652)
    _msi_failed_event(
        cap,
        at(25),
        product,
        0x80070652,
        "Another installation is in progress, please try again later (1618)",
    )
    report = run(cap)

    step = failed_step(report, APPS, "Apps (Failed: 0x80070652)", "0x80070652")
    assert {i.kind for i in step.items} >= {"msi", "win32"}
    assert {"lob_win32_mixed", "msi_failed"} <= finding_ids(report)
    mixed = next(f for f in report.findings if f.id == "lob_win32_mixed")
    assert mixed.severity == "warning"
    assert "another installation" in mixed.text.lower()
    errors_only_on(report, APPS)


def test_office_click_to_run_failed(run: Run) -> None:
    office = guid(41).upper()
    cap = _device_apps_failed("Apps (Error)")
    uri = f"./Device/Vendor/MSFT/Office/Installation/{office}/Status"
    cap.snapshots("ExpectedMSIAppPackages", [(at(30), {uri: 0})])
    cap.office(office, 17002)
    report = run(cap)

    step = failed_step(report, APPS, "Apps (Error)", None)
    office_items = [i for i in step.items if i.kind == "office"]
    assert [(i.scope, i.status) for i in office_items] == [("device", "failed")]
    assert office_items[0].raw_status == "process not completed (FinalStatus 17002)"
    assert "office_failed" in finding_ids(report)
    top_finding_on(report, APPS)
    errors_only_on(report, APPS)


def test_device_certificate_profile_not_applied_hybrid(run: Run) -> None:
    scep = f"./Device/Vendor/MSFT/ClientCertificateInstall/SCEP/{guid(51)}/Install/Enroll"
    cap = Capture().autopilot("hybrid_user_driven").first_sync()
    cap.record("DevicePreparation", "succeeded")
    cap.record(
        "DeviceSetup", "failed", {"CertificatesSubcategory": ("failed", "Certificates (Error)")}
    )
    cap.record("AccountSetup", "notStarted")
    cap.snapshots("ExpectedSCEPCerts", [(at(15), {scep: 0}), (at(45), {scep: 0})])
    cap.event(
        "dm_admin", 36, at(15), {"EKU": "1.3.6.1.5.5.7.3.2", "Url": "https://ndes.contoso.example"}
    )
    cap.event("dm_admin", 32, at(16), {"HRESULT": hex32(0x80072EE2)}, level=2)
    report = run(cap)

    step = failed_step(report, CERTS, "Certificates (Error)", None)
    assert [(i.kind, i.scope, i.status) for i in step.items] == [
        ("scep", "device", "not_started")
    ]
    assert len(step.items[0].history) == 2
    assert report.device.deployment_mode == "hybrid_user_driven"
    assert report.phases[2].status == "not_started"
    assert "cert_not_applied" in finding_ids(report)
    top_finding_on(report, CERTS)
    errors_only_on(report, CERTS)


def test_unknown_hresult_is_decoded(run: Run) -> None:
    app = guid(61)
    cap = _device_apps_failed("Apps (Failed: 0x8007139f)")
    cap.tracking("Device", apps={app: 4})
    cap.win32_app(app, "Contoso Legacy Tool", enforcement=5000, error=0x8007139F, when=at(33))
    report = run(cap)

    step = failed_step(report, APPS, "Apps (Failed: 0x8007139f)", "0x8007139F")
    assert [(i.kind, i.status, i.hresult) for i in step.items if i.kind == "win32"] == [
        ("win32", "failed", "0x8007139F")
    ]
    unknown = next(f for f in report.findings if f.id == "unknown_hresult")
    assert unknown.step == APPS
    assert "Windows error 5023" in unknown.text
    assert "WIN32" in unknown.title
    errors_only_on(report, APPS)


def test_device_phase_reboot_second_sign_in(run: Run) -> None:
    cap = Capture().autopilot("user_driven")
    cap.first_sync(users={USER_SID: {"PolicyDuration": 30, "ApplicationsDuration": 240}})
    cap.record_all_succeeded("DevicePreparation", "DeviceSetup", "AccountSetup")
    for n, uri in enumerate(
        [
            "./Device/Vendor/MSFT/Policy/Config/DeviceLock/MinDevicePasswordLength",
            "./Device/Vendor/MSFT/Policy/Config/Update/AllowAutoUpdate",
        ]
    ):
        cap.event("dm_admin", 2800, at(18 + n), {"URI": uri})
    report = run(cap)

    assert report.first_failed_step is None
    assert all(s.status == "succeeded" for s in report.steps)
    reboot = next(f for f in report.findings if f.id == "reboot_second_signin")
    assert reboot.severity == "warning"
    assert "2 policies" in reboot.text
    errors_only_on(report)

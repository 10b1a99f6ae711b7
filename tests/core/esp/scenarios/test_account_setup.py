"""Scenarios of the user phase: Identifying forever, Wi-Fi, timeout with per-category
durations, hybrid join waiting for Entra Connect, Store apps behind Conditional Access,
"Continue anyway" hiding a failure, and a skipped phase."""

from __future__ import annotations

from tests.builders.capture import USER_OID, USER_SID, Capture, at, guid, hex32
from tests.core.esp.scenarios.conftest import (
    Run,
    errors_only_on,
    failed_step,
    finding_ids,
    top_finding_on,
)

USER_APPS = "AccountSetup.AppsSubcategory"
USER_NET = "AccountSetup.NetworkConnectionsSubcategory"
USER_JOIN = "AccountSetup.WaitingForAadRegistrationSubcategory"


def _account(mode: str = "user_driven", **durations: int) -> Capture:
    cap = (
        Capture().autopilot(mode).first_sync(users={USER_SID: durations or {"PolicyDuration": 20}})
    )
    cap.record_all_succeeded("DevicePreparation", "DeviceSetup")
    cap.tracking("Device", apps={}, completed=True)
    return cap


def test_account_apps_identifying_forever(run: Run) -> None:
    cap = _account()
    cap.record(
        "AccountSetup", "inProgress", {"AppsSubcategory": ("inProgress", "Apps (Identifying)")}
    )
    cap.tracking(USER_SID, created=False)
    report = run(cap)

    assert report.first_failed_step is None
    step = report.step(USER_APPS)
    assert step is not None
    assert (step.status, step.status_text) == ("identifying", "Apps (Identifying)")
    assert [(i.kind, i.id, i.scope, i.status, i.raw_status) for i in step.items] == [
        (
            "provider",
            "Sidecar",
            "user",
            "identifying",
            "tracking policies not created (TrackingPoliciesCreated 0)",
        )
    ]
    assert report.phases[2].status == "in_progress"
    assert "tracking_not_created" in finding_ids(report)
    assert step.hint is not None
    assert "license" in step.hint.text
    errors_only_on(report)


def test_user_wifi_profile_not_applied(run: Run) -> None:
    wifi = "./User/Vendor/MSFT/WiFi/Profile/ContosoCorp/WlanXml"
    cap = _account(NetworkingDuration=300)
    cap.record(
        "AccountSetup",
        "failed",
        {"NetworkConnectionsSubcategory": ("failed", "Network connections (Error)")},
    )
    cap.snapshots(
        "ExpectedNetworkProfiles", [(at(42), {wifi: 0}), (at(47), {wifi: 0})], user=USER_SID
    )
    cap.event("dm_admin", 1507, at(43), {"SID": USER_SID, "HRESULT": hex32(0x80070057)}, level=2)
    report = run(cap)

    step = failed_step(report, USER_NET, "Network connections (Error)", None)
    assert [(i.kind, i.scope, i.status) for i in step.items] == [
        ("network", "user", "not_started")
    ]
    assert any(e.event_id == 1507 for e in step.events)
    network = next(f for f in report.findings if f.id == "network_not_applied")
    assert network.severity == "error"
    assert network.step == USER_NET
    top_finding_on(report, USER_NET)
    errors_only_on(report, USER_NET)


def test_esp_timeout_against_sync_failure_timeout(run: Run) -> None:
    app = guid(71)
    cap = _account(PolicyDuration=40, CertificatesDuration=5, ApplicationsDuration=3720)
    cap.record(
        "AccountSetup", "failed", {"AppsSubcategory": ("failed", "Apps (Failed: 0x800705b4)")}
    )
    cap.tracking(USER_SID, apps={app: 2})
    cap.win32_app(app, "Contoso CAD Suite", enforcement=2000, user=USER_OID, when=at(100))
    report = run(cap)

    step = failed_step(report, USER_APPS, "Apps (Failed: 0x800705b4)", "0x800705B4")
    assert [(i.kind, i.name, i.scope, i.status) for i in step.items if i.kind == "win32"] == [
        ("win32", "Contoso CAD Suite", "user", "in_progress")
    ]
    timeout = next(f for f in report.findings if f.id == "esp_timeout")
    assert timeout.step == USER_APPS
    assert "62 minutes" in timeout.text
    assert "ApplicationsDuration 62 min" in timeout.text
    assert report.settings.timeout_minutes == 60
    known = next(f for f in report.findings if f.id == "known_error")
    assert known.title == "The ESP timed out while items were still being installed"
    errors_only_on(report, USER_APPS)


def test_hybrid_join_waiting_for_entra_connect(run: Run) -> None:
    text = "Joining your organization's network (Failed: 0x800705b4)"
    cap = _account("hybrid_user_driven")
    cap.record("AccountSetup", "failed", {"WaitingForAadRegistrationSubcategory": ("failed", text)})
    cap.shell_core(at(41), "CommercialOOBE_ESPAccountSetup_AadRegistration_Wait")
    cap.event("udr_admin", 334, at(42), {"Reason": "No domain controller reachable"}, level=3)
    cap.event("udr_admin", 304, at(46), {"ExitCode": hex32(0x801C03F3)}, level=2)
    cap.event("udr_admin", 305, at(50), {"ExitCode": hex32(0x80072EE7)}, level=2)
    cap.shell_core(at(101), "CommercialOOBE_ESPAccountSetup_AadRegistration_TimedOut", 0x800705B4)
    report = run(cap)

    step = failed_step(report, USER_JOIN, text, "0x800705B4")
    assert report.device.deployment_mode == "hybrid_user_driven"
    assert {e.event_id for e in step.events} >= {304, 305, 334}
    assert {"hybrid_join_wait", "known_error"} <= finding_ids(report)
    known = next(f for f in report.findings if f.id == "known_error")
    assert known.title.startswith("Hybrid join")
    apps = report.step(USER_APPS)
    assert apps is not None
    assert apps.status == "not_started"
    top_finding_on(report, USER_JOIN)
    errors_only_on(report, USER_JOIN)


def test_store_app_blocked_by_conditional_access(run: Run) -> None:
    store = (
        "./User/Vendor/MSFT/EnterpriseModernAppManagement/AppManagement/AppStore/"
        "Contoso.Companion_8wekyb3d8bbwe/AppInstallation"
    )
    cap = _account(ApplicationsDuration=3700)
    cap.record(
        "AccountSetup", "failed", {"AppsSubcategory": ("failed", "Apps (Failed: 0x800705b4)")}
    )
    cap.snapshots(
        "ExpectedModernAppPackages", [(at(45), {store: 0}), (at(100), {store: 0})], user=USER_SID
    )
    report = run(cap)

    step = failed_step(report, USER_APPS, "Apps (Failed: 0x800705b4)", "0x800705B4")
    assert [(i.kind, i.id, i.scope, i.status) for i in step.items] == [
        ("modern", "Contoso.Companion_8wekyb3d8bbwe", "user", "not_started")
    ]
    blocked = next(f for f in report.findings if f.id == "store_app_blocked")
    assert blocked.severity == "warning"
    assert "Conditional Access" in blocked.title
    errors_only_on(report, USER_APPS)


def test_continue_anyway_masks_a_device_failure(run: Run) -> None:
    app = guid(81)
    cap = (
        Capture()
        .autopilot("user_driven")
        .first_sync(block=0b111, users={USER_SID: {"PolicyDuration": 20}})
    )
    cap.record("DevicePreparation", "succeeded")
    cap.record("DeviceSetup", "failed", {"AppsSubcategory": ("failed", "Apps (0x80070001)")})
    cap.record("AccountSetup", "succeeded")
    cap.tracking("Device", apps={app: 4})
    cap.win32_app(app, "Contoso Backup", enforcement=5000, error=0x80070001, when=at(30))
    cap.shell_core(at(35), "CommercialOOBE_ESPDeviceSetup_MDMPollingTasks_Started")
    report = run(cap)

    step = failed_step(report, "DeviceSetup.AppsSubcategory", "Apps (0x80070001)", "0x80070001")
    assert report.phases[2].status == "succeeded"
    assert report.settings.allow_continue_anyway is True
    assert {"continue_anyway", "win32_failed"} <= finding_ids(report)
    masked = next(f for f in report.findings if f.id == "continue_anyway")
    assert "Device setup failed" in masked.text
    assert step.items[-1].hresult == "0x80070001" or any(i.hresult for i in step.items)
    errors_only_on(report, "DeviceSetup.AppsSubcategory")


def test_user_phase_skipped(run: Run) -> None:
    cap = Capture().autopilot("user_driven").first_sync(skip_user=True)
    cap.record_all_succeeded("DevicePreparation", "DeviceSetup")
    report = run(cap)

    assert report.settings.skip_user_status_page is True
    assert report.phases[2].status == "skipped"
    assert all(s.status == "skipped" for s in report.phases[2].steps)
    assert all(s.status == "succeeded" for p in report.phases[:2] for s in p.steps)
    skipped = next(f for f in report.findings if f.id == "skipped_phase")
    assert skipped.severity == "info"
    assert "SkipUserStatusPage" in skipped.text
    errors_only_on(report)

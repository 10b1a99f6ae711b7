"""Steps explain themselves — linking by what evidence names, decoded values and
times, honest states, retries kept. (Every scenario also runs the shared invariant check.)"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from core.esp.analyze import analyze
from core.evidence import load_evidence
from tests.builders.capture import USER_SID, Capture, at, guid, hex32
from tests.builders.logs import ImeLog
from tests.core.esp.scenarios.conftest import Run, failed_step, setup_failed

CERTS = "AccountSetup.CertificatesSubcategory"
APPS = "DeviceSetup.AppsSubcategory"
SIDECAR_URI = (
    "./Device/Vendor/MSFT/EnrollmentStatusTracking/Setup/Apps/Tracking/Sidecar/"
    "Win32App_{}_1/InstallationState"
)


def _account_certs_failed() -> tuple[Capture, str]:
    profile = f"ModelName_AC_{guid(71)}_LogicalName_{guid(72).replace('-', '_')}"
    uri = f"./User/Vendor/MSFT/ClientCertificateInstall/SCEP/{profile}/Install/Enroll"
    cap = Capture().autopilot("user_driven").first_sync()
    cap.record("DevicePreparation", "succeeded")
    cap.record("DeviceSetup", "succeeded")
    cap.record(
        "AccountSetup", "failed", {"CertificatesSubcategory": ("failed", "Certificates (Error)")}
    )
    cap.snapshots("ExpectedSCEPCerts", [(at(40), {uri: 0})])
    for minute in (41, 50, 59):
        # 32 names only the code; 309, written in the same moment, names the SCEP profile node
        cap.event("dm_admin", 32, at(minute), {"HRESULT": hex32(0x800B0101)}, level=2)
        cap.event(
            "dm_admin",
            309,
            at(minute),
            {"Message1": guid(73), "Message2": profile, "HexInt3": hex32(0x800B0101)},
        )
    return cap, profile


def test_scep_failures_are_tied_to_the_certificate_step_by_profile_node(run: Run) -> None:
    cap, _ = _account_certs_failed()
    report = run(cap)

    step = failed_step(report, CERTS, "Certificates (Error)", None)
    assert sorted(e.event_id for e in step.events) == [32, 32, 32, 309, 309, 309]
    tied = [e for e in report.timeline if e.kind == "event" and e.step == CERTS]
    assert len(tied) == 6
    assert step.started == at(40)
    assert step.started_source is not None
    assert step.status_reason is not None
    assert "record" in step.status_reason


def test_ime_lines_naming_an_app_are_the_steps_log(run: Run) -> None:
    app = guid(81)
    cap = setup_failed("AppsSubcategory", "Apps (0x87d1041c)")
    cap.tracking("Device", apps={app: 4})
    cap.win32_app(app, "Contoso Tool", enforcement=5000, error=0x87D1041C, when=at(30))
    cap.ime(at(28), f"[Win32App] Processing app Win32App_{app}_1 detection", type_=1)
    cap.ime(at(29), f"[Win32App] app {{{app.upper()}}} not detected after install", type_=3)
    cap.ime(at(29.5), "[Win32App] unrelated housekeeping line", type_=1)
    report = run(cap)

    step = failed_step(report, APPS, "Apps (0x87d1041c)", "0x87D1041C")
    messages = [g.message for g in step.logs]
    assert any("Processing app" in m for m in messages)
    assert any("not detected" in m for m in messages)
    assert not any("housekeeping" in m for m in messages)
    assert {g.item for g in step.logs} == {app}
    assert "error" in {g.severity for g in step.logs}
    item = next(i for i in step.items if i.id == app)
    assert item.status == "failed"
    assert item.raw_status == "failed (EnforcementState 5000)"


def test_registry_values_show_decoded_times_durations_and_codes(run: Run) -> None:
    cap, _ = _account_certs_failed()
    report = run(cap)
    shown = {
        v.name: v.display
        for s in report.steps
        for ref in s.registry
        for v in ref.values
        if v.display is not None
    }
    assert shown["EnrollmentState"] == "enrolled"
    assert shown["EnrollmentType"].startswith("MDM enrollment")


def test_unknown_step_says_what_its_own_evidence_suggests(run: Run) -> None:
    cap = Capture().autopilot("user_driven")
    cap.event("dm_admin", 52, at(5), {"Message1": "NULL", "HRESULT": hex32(0x80180018)}, level=2)
    report = run(cap)

    step = report.step("DevicePreparation.MdmEnrollmentSubcategory")
    assert step is not None
    assert step.status == "unknown"
    assert step.status_reason is not None
    assert "no ESP record" in step.status_reason
    assert "0x80180018" in step.status_reason
    quiet = report.step("DevicePreparation.TpmAttestationSubcategory")
    assert quiet is not None
    assert quiet.status_reason is not None
    assert "no ESP record" in quiet.status_reason
    assert report.phases[0].status_reason is not None


def test_not_started_phase_before_a_phase_that_ran_says_why(run: Run) -> None:
    cap, _ = _account_certs_failed()
    cap.record("DevicePreparation", "notStarted")
    cap.record("DeviceSetup", "notStarted")
    report = run(cap)

    for phase in report.phases[:2]:
        assert phase.status == "not_started"
        assert phase.status_reason is not None
        assert "later phase ran" in phase.status_reason


def test_a_failure_a_retry_recovered_stays_visible(run: Run) -> None:
    app = guid(91)
    cap = Capture().autopilot("user_driven").first_sync()
    cap.record("DevicePreparation", "succeeded")
    cap.record("DeviceSetup", "succeeded", {"AppsSubcategory": ("succeeded", "Apps (1 of 1)")})
    cap.record("AccountSetup", "notStarted")
    cap.tracking("Device", apps={app: 3})
    cap.snapshots(
        "Sidecar",
        [
            (at(20), {SIDECAR_URI.format(app): 2}),
            (at(30), {SIDECAR_URI.format(app): 4}),  # first attempt failed
            (at(45), {SIDECAR_URI.format(app): 3}),  # Try again: completed
        ],
    )
    report = run(cap)

    step = report.step(APPS)
    assert step is not None
    assert step.status == "succeeded"
    item = next(i for i in step.items if i.history)
    assert [h.status for h in item.history] == ["in_progress", "error", "completed"]
    assert step.status_reason is not None
    assert "recovered" in step.status_reason


def test_an_esp_relevant_event_that_cannot_be_placed_says_why(run: Run) -> None:
    cap, _ = _account_certs_failed()
    cap.record("DevicePreparation", "notStarted")
    cap.record("DeviceSetup", "notStarted")
    policy = "./Device/Vendor/MSFT/Policy/Config/Contoso/Setting"
    data = {
        "Message1": guid(74),
        "Message2": "MDMDeviceWithAAD",
        "Message3": "Policy",
        "InternalCmdType": "1",
        "Message5": policy,
        "HexInt1": hex32(0x80070002),
    }
    cap.event("dm_admin", 404, at(10), data, level=2)
    report = run(cap)

    entry = next(e for e in report.timeline if e.kind == "event" and policy in e.summary)
    assert entry.step is None
    assert "[no ESP step:" in entry.summary


def test_first_sync_timestamp_and_duration_time_a_category(run: Run) -> None:
    cap = Capture().autopilot("user_driven")
    cap.first_sync(users={USER_SID: {"CertificatesDuration": 600}}, user_started=at(50))
    cap.record("DevicePreparation", "succeeded")
    cap.record("DeviceSetup", "succeeded")
    cap.record(
        "AccountSetup",
        "succeeded",
        {"CertificatesSubcategory": ("succeeded", "Certificates (1 of 1 applied)")},
    )
    report = run(cap)

    step = report.step(CERTS)
    assert step is not None
    assert (step.started, step.ended) == (at(50), at(60))
    assert step.started_source == "FirstSync Timestamp and CertificatesDuration"
    assert step.status_reason is not None
    assert "600 s (10 min)" in step.status_reason


def test_several_users_first_syncs_do_not_start_the_account_phase(run: Run) -> None:
    """Two users signed in at different times: which sign-in the ESP showed is unknown, so
    neither FirstSync Timestamp starts Account setup (the older one may be days before)."""
    cap, _ = _account_certs_failed()
    other_sid = USER_SID[:-4] + "4242"
    cap.first_sync(users={USER_SID: {}, other_sid: {}}, user_started=at(-3000))
    report = run(cap)

    account = report.phases[2]
    assert account.started is not None
    assert account.started >= at(40)


def test_an_unknown_step_with_linked_lines_says_they_do_not_tell(tmp_path: Path) -> None:
    """A lone IME log that saw Account setup and then left the ESP: the Account setup steps it
    names stay unknown, and their reason says the lines they list don't tell how they ended
    (not that nothing names them)."""
    start = at(0)
    log = ImeLog()
    log.esp_check(start, "DeviceSetup")
    log.device_done(start + timedelta(minutes=10))
    log.esp_check(start + timedelta(minutes=10), "AccountSetup")
    log.esp_check(start + timedelta(minutes=300), "NotInEsp")
    report = analyze(load_evidence(log.write(tmp_path / "IntuneManagementExtension.log")))

    told = [s for s in report.phases[2].steps if s.status == "unknown" and s.logs]
    assert told
    for step in told:
        assert "do not say how it ended" in (step.status_reason or "")
    silent = [s for s in report.steps if s.status == "unknown" and not (s.logs or s.events)]
    for step in silent:
        assert "no other evidence in the capture names this step" in (step.status_reason or "")

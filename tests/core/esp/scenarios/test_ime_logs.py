"""The IME log as evidence, alone or with the rest: what a technician has after copying
``C:\\ProgramData\\Microsoft\\IntuneManagementExtension\\Logs`` from Shift+F10, and captures
whose registry has no Win32Apps keys. Logs come from the builders (made-up ids and names)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from core.esp.analyze import analyze
from core.esp.model import EspReport, Step
from core.evidence import load_evidence
from core.report.json_report import report_to_dict
from core.report.text_report import render_text
from tests.builders.capture import Capture, at
from tests.builders.logs import ImeLog
from tests.core.esp.scenarios.conftest import Run, assert_layout, finding_ids

VPN = "c2d3e4f5-0000-4000-8000-00000000b001"
NOTES = "c2d3e4f5-0000-4000-8000-00000000b002"
USER_APP = "c2d3e4f5-0000-4000-8000-00000000b003"
T = datetime(2025, 6, 2, 7, 0, 0, tzinfo=UTC)
MB = 1024 * 1024


def t(minutes: float) -> datetime:
    return T + timedelta(minutes=minutes)


def report_of(path: Path) -> EspReport:
    report = analyze(load_evidence(path))
    assert_layout(report)
    report_to_dict(report)  # validated against the schema in the test run
    return report


def apps(report: EspReport, step_id: str) -> dict[str, str]:
    step = report.step(step_id)
    assert step is not None
    return {i.id: i.status for i in step.items if i.kind != "provider"}


def shift_f10_story() -> ImeLog:
    """Device setup with two tracked apps, then Account setup still running."""
    log = ImeLog()
    log.provider_first_seen(t(0))
    log.esp_check(t(0), "DeviceSetup")
    log.processing(t(1), VPN, "Contoso VPN Client")
    log.downloading(t(2), VPN, "Contoso VPN Client", 0, 80 * MB)
    log.downloading(t(3), VPN, "Contoso VPN Client", 80 * MB, 80 * MB)
    log.exit_code(t(4), 0, success=True)
    log.enforcement(t(4.1), VPN, "InProgress", "Success")
    log.tracked(t(5), VPN, 2, rev=2)
    log.tracked(t(5), NOTES, 2, rev=1)
    log.esp_check(t(5), "DeviceSetup")
    log.device_done(t(12))
    log.esp_check(t(12), "AccountSetup")
    log.tracked(t(13), USER_APP, 2, scope="USER")
    log.esp_check(t(14), "AccountSetup")
    return log


def test_lone_ime_log_reads_like_the_esp(tmp_path: Path) -> None:
    report = report_of(shift_f10_story().write(tmp_path / "IntuneManagementExtension.log"))
    phases = {p.id: p for p in report.phases}
    assert phases["DevicePreparation"].status == "succeeded"
    assert phases["DeviceSetup"].status == "succeeded"
    assert phases["DeviceSetup"].started == t(0)
    assert phases["DeviceSetup"].ended == t(12)
    assert (phases["DeviceSetup"].ended_source or "").startswith("IME log")
    assert "no ESP record" in (phases["DeviceSetup"].status_reason or "")
    assert phases["AccountSetup"].status == "in_progress"
    assert apps(report, "DeviceSetup.AppsSubcategory") == {VPN: "succeeded", NOTES: "succeeded"}
    assert apps(report, "AccountSetup.AppsSubcategory") == {USER_APP: "in_progress"}

    step = report.step("DeviceSetup.AppsSubcategory")
    assert step is not None
    assert step.status == "succeeded"
    vpn = next(i for i in step.items if i.id == VPN)
    assert vpn.name == "Contoso VPN Client"
    assert vpn.exit_code == 0
    assert vpn.download is not None
    assert vpn.download.complete
    assert vpn.download.bytes_total == 80 * MB
    assert vpn.download.via == "Delivery Optimization"
    assert [h.status for h in vpn.history][-1] == "completed"
    # every app line the step shows names its item; the phase lines name none
    assert {ref.item for ref in step.logs} >= {VPN, NOTES, None}
    assert all(ref.origin.startswith("IntuneManagementExtension.log:") for ref in step.logs)
    # the lines the step shows are tied to a step that shows them in the timeline too (a
    # phase line can prove two steps: the end of one phase and the start of the next)
    on_timeline = {e.origin: e.step for e in report.timeline if e.kind == "log"}
    shown_by = {ref.origin: {s.id for s in report.steps if ref in s.logs} for ref in step.logs}
    assert all(on_timeline[origin] in steps for origin, steps in shown_by.items())
    provider = report.step("DevicePreparation.EspProviderInstallationSubcategory")
    assert provider is not None
    assert provider.status == "succeeded"
    assert [i.id for i in provider.items] == ["Sidecar"]

    # the times carry no zone and nothing anchors them: the report says so, never "UTC"
    assert report.log_clock is not None
    assert report.log_clock.basis == "unanchored"
    assert any("anchors them to UTC" in p.message for p in report.source.problems)
    text = render_text(report)
    assert "UNKNOWN" not in text.splitlines()[0]
    assert "(device clock)" in text
    assert "Contoso VPN Client" in text
    assert "Log times (unanchored)" in text


def test_ime_log_folder_with_appworkload_and_rotated_files(tmp_path: Path) -> None:
    folder = tmp_path / "Logs"
    folder.mkdir()
    old = ImeLog()
    old.provider_first_seen(t(0))
    old.esp_check(t(0), "DeviceSetup")
    old.write(folder / "IntuneManagementExtension-20250602-071500.log")
    current = ImeLog()
    current.tracked(t(20), VPN, 2)
    current.esp_check(t(20), "DeviceSetup")
    current.write(folder / "IntuneManagementExtension.log")
    work = ImeLog("AppWorkload")
    work.processing(t(21), VPN, "Contoso VPN Client")
    work.downloading(t(22), VPN, "Contoso VPN Client", 10 * MB, 90 * MB)
    work.write(folder / "AppWorkload.log")
    report = report_of(folder)
    assert {f for f in report.source.files if f.endswith(".log")} == {
        "IntuneManagementExtension-20250602-071500.log", "IntuneManagementExtension.log",
        "AppWorkload.log",
    }
    phase = report.phases[1]
    assert phase.status == "in_progress"
    assert phase.started == t(0)
    step = report.step("DeviceSetup.AppsSubcategory")
    assert step is not None
    assert step.status == "in_progress"
    vpn = next(i for i in step.items if i.id == VPN)
    assert vpn.name == "Contoso VPN Client"  # from AppWorkload.log
    assert vpn.download is not None
    assert vpn.download.percent == 11.1
    assert report.phases[2].status == "not_started"
    assert "still in Device setup" in (report.phases[2].status_reason or "")


def test_ime_log_ended_without_an_outcome_is_not_in_progress(tmp_path: Path) -> None:
    log = ImeLog()
    log.esp_check(t(0), "DeviceSetup")
    log.tracked(t(5), VPN, 2)
    log.esp_check(t(5), "DeviceSetup")
    log.esp_check(t(600), "NotInEsp")  # ten hours later the ESP is over; how, the log won't say
    report = report_of(log.write(tmp_path / "IntuneManagementExtension.log"))
    assert report.phases[1].status == "unknown"
    assert "does not say how Device setup ended" in (report.phases[1].status_reason or "")
    step = report.step("DeviceSetup.AppsSubcategory")
    assert step is not None
    assert step.status == "unknown"
    assert (step.status_reason or "").startswith("Last seen in progress")


def anchored_capture(local_ahead_hours: int) -> Capture:
    """No ESP record, no Win32Apps keys; IME writes a clock ``local_ahead_hours`` ahead."""
    ahead = timedelta(hours=local_ahead_hours)
    cap = Capture().autopilot("user_driven").first_sync()
    cap.event("autopilot", 288, at(1), {"ResourceType": "Apps", "PolicyProvider": "Sidecar"})
    log = ImeLog()
    log.provider_first_seen(at(1) + ahead)
    log.esp_check(at(1) + ahead, "DeviceSetup")
    log.tracked(at(6) + ahead, VPN, 2)
    log.device_done(at(15) + ahead)
    log.esp_check(at(15) + ahead, "AccountSetup")
    cap.logs.extend(log.lines)
    return cap


def test_ime_times_anchored_to_utc_by_an_event_of_the_same_moment(run: Run) -> None:
    report = run(anchored_capture(local_ahead_hours=3))
    clock = report.log_clock
    assert clock is not None
    assert clock.basis == "event"
    assert clock.offset_minutes == -180
    assert any("#" in origin for origin in clock.origins)  # names the event it matched
    device = report.phases[1]
    assert device.status == "succeeded"
    assert device.started == at(1)
    assert device.ended == at(15)
    step = report.step("DeviceSetup.AppsSubcategory")
    assert step is not None
    assert step.started == at(6)
    assert all(r.time is None or r.time < at(30) for r in step.logs)
    assert not any("anchors them" in p.message for p in report.source.problems)


def test_registry_wins_where_both_speak(run: Run) -> None:
    cap = Capture().autopilot("user_driven").first_sync()
    cap.record("DevicePreparation", "succeeded")
    cap.record("DeviceSetup", "inProgress")
    cap.tracking("Device", apps={VPN: 3})
    log = ImeLog()
    log.esp_check(at(2), "DeviceSetup")
    log.processing(at(3), VPN, "Contoso VPN Client")
    log.tracked(at(4), VPN, 2)  # older than the registry's final state
    cap.logs.extend(log.lines)
    report = run(cap)
    step = report.step("DeviceSetup.AppsSubcategory")
    assert step is not None
    vpn = next(i for i in step.items if i.id == VPN)
    assert vpn.status == "succeeded"
    assert vpn.raw_status == "completed (InstallationState 3)"  # the tracking key's value
    assert vpn.name == "Contoso VPN Client"  # the log fills what the registry lacks
    assert any(ref.item == VPN for ref in step.logs)


def slow_download(minutes_in: float, done: int, total: int) -> ImeLog:
    log = ImeLog()
    log.esp_check(t(0), "DeviceSetup")
    log.tracked(t(1), VPN, 2)
    log.processing(t(1), VPN, "Contoso Design Suite")
    log.downloading(t(2), VPN, "Contoso Design Suite", 0, total)
    log.downloading(t(2 + minutes_in), VPN, "Contoso Design Suite", done, total)
    return log


def test_download_that_cannot_finish_before_the_timeout(tmp_path: Path) -> None:
    # 5 GB at 1 MB/s: 300 MB after 5 minutes; the other 4.7 GB need 80 more minutes, which
    # ends 87 minutes into Device setup, past the 60-minute default timeout
    report = report_of(slow_download(5, 300 * MB, 5 * 1024 * MB).write(
        tmp_path / "IntuneManagementExtension.log"))
    assert "download_cannot_finish" in finding_ids(report)
    finding = next(f for f in report.findings if f.id == "download_cannot_finish")
    assert finding.step == "DeviceSetup.AppsSubcategory"
    assert finding.severity == "error"
    assert "Contoso Design Suite" in finding.text
    assert "Delivery Optimization" in finding.text
    assert finding.evidence
    assert finding.evidence[0].startswith("IntuneManagementExtension.log:")
    step: Step | None = report.step("DeviceSetup.AppsSubcategory")
    assert step is not None
    assert step.hint is not None


def test_download_in_time_raises_nothing(tmp_path: Path) -> None:
    # 300 MB at 10 MB/s: done in well under the timeout
    report = report_of(slow_download(0.25, 150 * MB, 300 * MB).write(
        tmp_path / "IntuneManagementExtension.log"))
    assert "download_cannot_finish" not in finding_ids(report)


def test_real_ime_logs_alone(real_dir: Path) -> None:
    """Each real IME log names the ESP phase and a tracked app: the report shows both, ties
    the proving lines to the step, and says the times are the device's clock reading."""
    logs = sorted(real_dir.glob("ime-logs/*/IntuneManagementExtension.log"))
    if not logs:
        pytest.skip("no real IME logs")
    for path in logs:
        report = report_of(path)
        device = report.phases[1]
        assert device.status != "unknown" or device.status_reason, path.parent.name
        assert device.started is not None
        assert (device.started_source or "").startswith("IME")
        assert report.phases[0].status == "succeeded"
        step = report.step("DeviceSetup.AppsSubcategory")
        assert step is not None
        tracked = [i for i in step.items if i.kind == "win32"]
        assert len(tracked) >= 1, path.parent.name
        assert any(ref.item == tracked[0].id for ref in step.logs)
        assert report.log_clock is not None
        assert report.log_clock.basis == "unanchored"
        assert "UNKNOWN" not in render_text(report).splitlines()[0]


def test_do_jobs_of_tracked_and_other_apps(tmp_path: Path) -> None:
    """IME fetches every required app's content during the ESP; only the tracked one blocks
    it and is an item; the others' lines stay in the step's log."""
    log = ImeLog()
    log.esp_check(t(0), "DeviceSetup")
    log.tracked(t(1), VPN, 2)
    log.do_job(t(2), VPN, seconds=30)
    log.do_job(t(3), NOTES, seconds=12)
    report = report_of(log.write(tmp_path / "IntuneManagementExtension.log"))
    step = report.step("DeviceSetup.AppsSubcategory")
    assert step is not None
    by_id = {i.id: i for i in step.items}
    vpn = by_id[VPN]
    assert NOTES not in by_id
    assert [h.status for h in vpn.history] == ["in_progress", "downloading", "downloaded"]
    assert vpn.download is not None
    assert vpn.download.complete
    assert vpn.download.via == "Delivery Optimization"
    assert vpn.download.time == t(2.5)
    assert any(NOTES in ref.message and ref.item is None for ref in step.logs)
    assert step.status == "in_progress"

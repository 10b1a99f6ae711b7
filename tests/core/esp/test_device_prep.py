"""Windows Autopilot device preparation: recognised from its own registry, shown with its own
stages instead of three empty classic phases."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from core.esp.analyze import analyze
from core.esp.device_prep import json_date
from core.esp.model import EspReport
from core.evidence import load_evidence
from core.report.json_report import report_to_dict
from tests.builders.capture import Capture, at


def _run(tmp_path: Path, cap: Capture) -> EspReport:
    report = analyze(load_evidence(cap.write_cab(tmp_path / "MDMDiagReport.cab")))
    report_to_dict(report)  # validated against the schema
    return report


def test_successful_deployment(tmp_path: Path) -> None:
    cap = Capture().device_preparation(3)
    cap.prep_script(60, "Success", at(4))
    cap.prep_app(61, "Contoso Agent", 1, at(5), at(9))
    cap.prep_app(62, "Contoso Notes", 2, at(9), at(10))
    report = _run(tmp_path, cap)

    assert report.device.deployment_mode == "device_preparation"
    assert report.device.autopilot is True
    for phase in report.phases:  # the contract keeps the classic phases, marked not applicable
        assert phase.status == "skipped"
        assert phase.status_reason is not None
        assert "device preparation" in phase.status_reason
    prep = report.device_preparation
    assert prep is not None
    assert (prep.status, prep.page_status, prep.timeout_minutes) == ("succeeded", "succeeded", 60)
    assert prep.agent_timeout_minutes == 30
    assert [(p.id, p.status) for p in prep.phases] == [
        ("enrollment", "succeeded"),
        ("agent", "succeeded"),
        ("scripts", "succeeded"),
        ("apps", "succeeded"),
    ]
    apps = prep.phases[3]
    assert [(i.kind, i.name, i.status, i.raw_status) for i in apps.items] == [
        ("win32", "Contoso Agent", "succeeded", "completed (WorkloadState 1)"),
        ("win32", "Contoso Notes", "skipped", "skipped (WorkloadState 2)"),
    ]
    assert (apps.started, apps.ended) == (at(5), at(10))
    assert [(i.kind, i.status) for i in prep.phases[2].items] == [("script", "succeeded")]
    # device preparation has no registration: the ZTD file's 807 and the missing ESP record
    # are expected, not findings
    assert not report.findings, [(f.id, f.title) for f in report.findings]
    assert report_to_dict(report)["device_preparation"]["phases"][3]["items"][0]["kind"] == "win32"


def test_failed_deployment_names_the_app(tmp_path: Path) -> None:
    cap = Capture().device_preparation(4, error=0x80070643, phase="Apps", details="App failed")
    cap.prep_app(61, "Contoso Agent", 4, at(5), at(9), error=0x80070643)
    report = _run(tmp_path, cap)

    prep = report.device_preparation
    assert prep is not None
    assert (prep.status, prep.error_code, prep.error_phase) == ("failed", "0x80070643", "Apps")
    assert prep.phases[3].status == "failed"
    assert prep.phases[3].items[0].hresult == "0x80070643"
    ids = [f.id for f in report.findings]
    assert ids[:2] == ["device_prep_failed", "device_prep_app_failed"]
    app = next(f for f in report.findings if f.id == "device_prep_app_failed")
    assert "Contoso Agent" in app.text
    assert "0x80070643" in app.text


def test_running_deployment_without_progress(tmp_path: Path) -> None:
    report = _run(tmp_path, Capture().device_preparation(2))
    prep = report.device_preparation
    assert prep is not None
    assert prep.status == "in_progress"
    assert prep.phases[2].status == "unknown"
    assert prep.phases[2].status_reason == "nothing recorded for this stage"


def test_classic_capture_has_no_device_preparation(tmp_path: Path) -> None:
    cap = Capture().autopilot("user_driven").first_sync().record_all_succeeded("DevicePreparation")
    report = _run(tmp_path, cap)
    assert report.device_preparation is None
    assert report.device.deployment_mode == "user_driven"
    assert report_to_dict(report)["device_preparation"] is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/Date(1745871176634)/", datetime(2025, 4, 28, 20, 12, 56, 634000, tzinfo=UTC)),
        ("2025-04-28T20:12:56Z", datetime(2025, 4, 28, 20, 12, 56, tzinfo=UTC)),
        ("/Date(99999999999999999999)/", None),
        (None, None),
    ],
)
def test_json_dates(text: str | None, expected: datetime | None) -> None:
    assert json_date(text) == expected


def test_recognised_from_the_bootstrapper_agent_event_alone() -> None:
    from tests.core.esp.builders import event, evidence

    channel = "Microsoft-Windows-Autopilot-BootstrapperAgent/Operational"
    report = analyze(evidence({}, events=[event(channel, 142, "started")]))
    assert report.device.deployment_mode == "device_preparation"
    prep = report.device_preparation
    assert prep is not None
    assert prep.status == "unknown"  # no page status recorded: never success without evidence
    assert prep.evidence[0].startswith("bootstrapper agent event 142")

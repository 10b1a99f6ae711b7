"""The analysis on the three real mdmdiagnosticstool registry dumps (structure only: no
identifier from the captures appears here)."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.esp.analyze import analyze
from core.esp.model import EspReport
from core.evidence import Evidence, SourceInfo, load_evidence
from core.registry.dump import parse_dump
from core.report.json_report import report_to_dict

pytestmark = pytest.mark.real

BUNDLES = ["mdmdiag-itziktdk-MyRes", "mdmdiag-joopjaeng-jaeng", "mdmdiag-shahzadssd-logfile"]


def _evidence(real_dir: Path, bundle: str) -> Evidence:
    path = real_dir / bundle / "extracted" / "MdmDiagReport_RegistryDump.reg"
    return Evidence(SourceInfo("reg", str(path)), registry=parse_dump(path))


@pytest.mark.parametrize("bundle", BUNDLES)
def test_real_devices_are_not_autopilot(real_dir: Path, bundle: str) -> None:
    report = analyze(_evidence(real_dir, bundle))
    assert report.device.deployment_mode == "not_autopilot"
    assert report.device.autopilot is False
    assert [p.id for p in report.phases] == ["DevicePreparation", "DeviceSetup", "AccountSetup"]
    assert [len(p.steps) for p in report.phases] == [4, 4, 5]


def test_real_account_setup_certificates_failure(real_dir: Path) -> None:
    report = analyze(_evidence(real_dir, "mdmdiag-itziktdk-MyRes"))
    account = report.phases[2]
    assert account.status == "failed"
    failed = report.first_failed_step
    assert failed is not None
    assert failed.id == "AccountSetup.CertificatesSubcategory"
    assert failed.title == "Certificates"
    assert failed.status_text == "Certificates (Error)"  # the ESP's own words
    assert failed.hint is not None
    assert failed.hint.source is not None
    assert failed.registry  # the keys behind it
    others = [s.status for s in account.steps if s.id != failed.id]
    assert others == ["succeeded"] * 4
    # device phases: the record says they never started, and nothing contradicts it
    assert report.phases[0].status == "not_started"
    assert report.phases[1].status == "not_started"
    assert report.settings.timeout_minutes == 60
    assert any(f.id == "esp_timeout" and f.step == failed.id for f in report.findings)


@pytest.mark.parametrize("bundle", BUNDLES[1:])
def test_real_without_record_is_unknown_not_success(real_dir: Path, bundle: str) -> None:
    report = analyze(_evidence(real_dir, bundle))
    assert all(s.status != "succeeded" for s in report.steps)
    assert any(f.id == "record_problem" for f in report.findings)


# -- the whole pipeline on the cabs (events and logs included) ------------------------------


def _cab_report(real_dir: Path, bundle: str) -> EspReport:
    report = analyze(load_evidence(real_dir / bundle / "MDMDiagReport.cab"))
    report_to_dict(report)  # schema-validated in the test session
    return report


def test_real_cab_certificates_failure_as_the_esp_recorded(real_dir: Path) -> None:
    """Generic MDM command errors (DM Admin 404/454) must not override the ESP's own record."""
    report = _cab_report(real_dir, "mdmdiag-itziktdk-MyRes")
    failed = report.first_failed_step
    assert failed is not None
    assert failed.id == "AccountSetup.CertificatesSubcategory"
    assert failed.status_text == "Certificates (Error)"
    assert failed.hint is not None
    assert [s.id for s in report.steps if s.status == "failed"] == [failed.id]
    # The stale record says the device phases never started; the cab's IME log shows the ESP
    # in Device setup and then in Account setup, so both completed - and each says why.
    for phase in report.phases[:2]:
        assert phase.status == "succeeded"
        assert "IME" in (phase.status_reason or "")
        assert "not started" in (phase.status_reason or "")
    assert report.log_clock is not None
    assert report.log_clock.basis == "zone"  # DiagnosticsFrameworkData.json names the zone
    # the top finding explains the failed step; errors only on that step
    assert report.findings[0].step == failed.id
    assert report.findings[0].severity == "error"
    assert {f.step for f in report.findings if f.severity == "error"} == {failed.id}
    # the MDM command noise is still reported, grouped with counts, below
    noise = [f for f in report.findings if f.id == "mdm_errors"]
    assert noise
    assert all(f.severity in ("info", "warning") for f in noise)
    assert len({f.title for f in noise}) == len(noise)


def test_real_cab_without_record_does_not_guess(real_dir: Path) -> None:
    """No ESP record on a non-Autopilot device: an enrollment-refused event is a finding."""
    report = _cab_report(real_dir, "mdmdiag-joopjaeng-jaeng")
    assert report.first_failed_step is None
    assert all(s.status == "unknown" for s in report.steps)
    enrollment = [f for f in report.findings if f.id == "mdm_errors"]
    assert enrollment
    assert enrollment[0].severity == "warning"
    step = report.step("DevicePreparation.MdmEnrollmentSubcategory")
    assert step is not None
    assert step.events  # the event is still shown as the step's evidence
    assert not [f for f in report.findings if f.severity == "error"]

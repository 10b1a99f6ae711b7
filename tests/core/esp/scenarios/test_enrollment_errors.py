"""Enrollment and join errors that stop a device before or at the start of the ESP
(0x80180018, 0x8018002B, 0x80070774, 0x801C03F3)."""

from __future__ import annotations

from tests.builders.capture import Capture, at, hex32
from tests.core.esp.scenarios.conftest import (
    Run,
    errors_only_on,
    failed_step,
    finding_ids,
    prep_failed,
)

JOIN = "DevicePreparation.AadjSubcategory"
MDM = "DevicePreparation.MdmEnrollmentSubcategory"


def test_enrollment_refused_80180018_before_the_esp(run: Run) -> None:
    """User-driven: OOBE enrollment refused (no license); the ESP never ran, no record."""
    cap = Capture().autopilot("user_driven")
    cap.event("dm_admin", 52, at(3), {"Fault": "LicenseNotFound", "Reason": "No license"}, level=2)
    cap.event("dm_admin", 71, at(3.1), {"HRESULT": hex32(0x80180018)}, level=2)
    report = run(cap)

    assert report.device.deployment_mode == "user_driven"
    assert report.first_failed_step is None  # no ESP-specific evidence: not guessed
    assert all(s.status == "unknown" for s in report.steps)
    step = report.step(MDM)
    assert step is not None
    assert {e.event_id for e in step.events} == {52, 71}
    licence = next(f for f in report.findings if f.id == "mdm_no_license")
    assert licence.severity == "warning"  # seen only in generic MDM events, not the ESP's
    assert licence.confidence == "high"
    assert "license" in licence.title.lower()
    assert "0x80180018" in licence.text
    # the coded event is explained, not repeated as a generic MDM group
    assert not [f for f in report.findings if f.id == "mdm_errors" and "0x80180018" in f.title]
    assert report.findings[0].severity == "warning"
    errors_only_on(report)


def test_auto_enrollment_failed_8018002b_hybrid(run: Run) -> None:
    cap = Capture().autopilot("hybrid_user_driven")
    cap.event(
        "dm_admin", 76, at(2), {"DeviceCredential": "0", "HRESULT": hex32(0x8018002B)}, level=2
    )
    report = run(cap)

    assert report.device.deployment_mode == "hybrid_user_driven"
    assert report.first_failed_step is None
    upn = next(f for f in report.findings if f.id == "mdm_upn_suffix")
    assert "0x8018002B" in upn.text
    assert upn.severity == "warning"
    assert "UPN" in upn.text
    assert "record_problem" in finding_ids(report)
    errors_only_on(report)


def test_hybrid_domain_join_80070774(run: Run) -> None:
    text = "Joining your organization's network (Failed: 0x80070774)"
    cap = prep_failed("hybrid_user_driven", "AadjSubcategory", text)
    cap.record("AccountSetup", "notStarted")
    report = run(cap)

    failed_step(report, JOIN, text, "0x80070774")
    known = next(f for f in report.findings if f.id == "known_error")
    assert "connector" in known.text.lower()
    assert [p.status for p in report.phases] == ["failed", "not_started", "not_started"]
    errors_only_on(report, JOIN)


def test_entra_object_missing_801c03f3_pre_provisioning(run: Run) -> None:
    text = "Registering your device for mobile management (Failed: 0x801c03f3)"
    cap = prep_failed("pre_provisioning", "MdmEnrollmentSubcategory", text)
    cap.shell_core(
        at(6),
        "CommercialOOBE_ESPDevicePreparation_DeviceEnrollment_WhiteGloveAadJoinError",
        0x801C03F3,
    )
    report = run(cap)

    step = failed_step(report, MDM, text, "0x801C03F3")
    assert report.device.deployment_mode == "pre_provisioning"
    assert any(e.event_id == 62407 for e in step.events)
    known = next(f for f in report.findings if f.id == "known_error")
    assert "hardware hash" in known.text
    assert report.phases[2].status == "skipped"
    errors_only_on(report, MDM)

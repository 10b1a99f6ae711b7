"""Scenarios that fail in Device preparation: TPM attestation, Entra join, MDM enrollment,
policy providers, and the Autopilot profile problems that stop everything before the ESP."""

from __future__ import annotations

from tests.builders.capture import DEVICE_SID, Capture, at, guid, hex32
from tests.core.esp.scenarios.conftest import (
    Run,
    errors_only_on,
    failed_step,
    finding_ids,
    prep_failed,
    top_finding_on,
)

TPM = "DevicePreparation.TpmAttestationSubcategory"
JOIN = "DevicePreparation.AadjSubcategory"
MDM = "DevicePreparation.MdmEnrollmentSubcategory"
PROVIDERS = "DevicePreparation.EspProviderInstallationSubcategory"


def test_tpm_attestation_timeout_self_deploying(run: Run) -> None:
    cap = prep_failed(
        "self_deploying", "TpmAttestationSubcategory", "Securing your hardware (Failed: 0x800705b4)"
    )
    cap.event("autopilot", 177, at(1), {"Attempt": 1, "Max": 3})
    cap.event("autopilot", 209, at(1.5), level=3)
    cap.event("autopilot", 171, at(8), {"HRESULT": hex32(0x800705B4)}, level=2)
    cap.event("autopilot", 172, at(8.1), {"HRESULT": hex32(0x800705B4)}, level=2)
    report = run(cap)

    step = failed_step(report, TPM, "Securing your hardware (Failed: 0x800705b4)", "0x800705B4")
    assert report.device.deployment_mode == "self_deploying"
    assert {e.event_id for e in step.events} >= {171, 172, 209}
    assert step.hint is not None
    assert "TPM" in step.hint.text
    assert {"tpm_attestation", "known_error"} <= finding_ids(report)
    known = next(f for f in report.findings if f.id == "known_error")
    assert known.title == "TPM attestation timed out"
    assert report.phases[2].status == "skipped"  # self-deploying has no user phase
    top_finding_on(report, TPM)
    errors_only_on(report, TPM)


def test_tpm_capability_check_pre_provisioning(run: Run) -> None:
    cap = prep_failed(
        "pre_provisioning",
        "TpmAttestationSubcategory",
        "Securing your hardware (Failed: 0x81039024)",
    )
    cap.event("autopilot", 156, at(2), level=2)
    cap.event("autopilot", 211, at(2.2), {"HRESULT": hex32(0x81039024)}, level=2)
    cap.shell_core(at(2.5), "CommercialOOBE_ESPProgress_WhiteGlove_Failed", 0x81039024)
    report = run(cap)

    failed_step(report, TPM, "Securing your hardware (Failed: 0x81039024)", "0x81039024")
    assert report.device.deployment_mode == "pre_provisioning"
    known = next(f for f in report.findings if f.id == "known_error")
    assert "firmware" in known.text.lower()
    assert "tpm_attestation" in finding_ids(report)
    errors_only_on(report, TPM)


def test_entra_join_failed_801c0003(run: Run) -> None:
    cap = prep_failed(
        "self_deploying",
        "AadjSubcategory",
        "Joining your organization's network (Failed: 0x801c0003)",
    )
    cap.event("autopilot", 169, at(3))
    cap.event(
        "udr_admin",
        204,
        at(4),
        {"ExitCode": hex32(0x801C0003), "ServerError": '{"code":"MsaTicketTpmValidationFailed"}'},
        level=2,
    )
    report = run(cap)

    step = failed_step(
        report, JOIN, "Joining your organization's network (Failed: 0x801c0003)", "0x801C0003"
    )
    tpm = report.step(TPM)
    assert tpm is not None
    assert tpm.status == "succeeded"
    assert any(e.event_id == 204 for e in step.events)
    known = next(f for f in report.findings if f.id == "known_error" and f.step == JOIN)
    assert known.title == "Entra join failed"
    errors_only_on(report, JOIN)


def test_enrollment_blocked_80180014_reused_device(run: Run) -> None:
    text = "Registering your device for mobile management (Failed: 0x80180014)"
    cap = prep_failed("self_deploying", "MdmEnrollmentSubcategory", text)
    cap.event("autopilot", 179, at(4), {"Stage": "MDMEnrolling"})
    cap.event(
        "dm_admin",
        52,
        at(4.5),
        {
            "Fault": "DeviceNotSupported",
            "Reason": "Enrollment blocked for AP device by SDM One Time Limit Check",
        },
        level=2,
    )
    cap.event(
        "autopilot", 302, at(4.6), {"Stage": "MDMEnrolling", "HRESULT": hex32(0x80180014)}, level=2
    )
    report = run(cap)

    step = failed_step(report, MDM, text, "0x80180014")
    assert {e.event_id for e in step.events} >= {52, 302}
    known = next(f for f in report.findings if f.id == "known_error" and f.step == MDM)
    assert "Unblock" in known.text
    top_finding_on(report, MDM)
    errors_only_on(report, MDM)


def test_multiple_mdm_configurations_81036501(run: Run) -> None:
    text = "Registering your device for mobile management (Failed: 0x81036501)"
    cap = prep_failed("self_deploying", "MdmEnrollmentSubcategory", text)
    cap.event("autopilot", 115, at(4), {"HRESULT": hex32(0x81036501)}, level=2)
    report = run(cap)

    step = failed_step(report, MDM, text, "0x81036501")
    assert any(e.event_id == 115 for e in step.events)
    known = next(f for f in report.findings if f.id == "known_error")
    assert "MDM" in known.title
    errors_only_on(report, MDM)


def test_policy_provider_never_finished(run: Run) -> None:
    """IME (Sidecar) never installed: InstallationState 1, its MSI stuck downloading."""
    text = "Preparing your device for mobile management (Failed: 0x800705b4)"
    cap = prep_failed("user_driven", "EspProviderInstallationSubcategory", text)
    cap.provider("Sidecar", 1)
    ime_msi = "{" + guid(40).upper() + "}"
    cap.msi(
        ime_msi,
        20,
        url="https://contoso.example/IntuneWindowsAgent.msi",
        sid=DEVICE_SID,
    )
    cap.event("dm_admin", 1905, at(5), {"ProductCode": ime_msi, "SID": DEVICE_SID})
    cap.shell_core(
        at(20),
        "CommercialOOBE_ESPDevicePreparation_PolicyProvidersInstallation_TimedOut",
        0x800705B4,
    )
    report = run(cap)

    step = failed_step(report, PROVIDERS, text, "0x800705B4")
    kinds = {(i.kind, i.id, i.status) for i in step.items}
    assert ("provider", "Sidecar", "not_started") in kinds
    assert any(
        i.kind == "msi" and i.raw_status == "download in progress (Status 20)" for i in step.items
    )
    assert {"provider_stall", "known_error"} <= finding_ids(report)
    known = next(f for f in report.findings if f.id == "known_error")
    assert known.title == "A policy provider never finished installing"
    errors_only_on(report, PROVIDERS)


def test_device_not_registered_and_hash_mismatch(run: Run) -> None:
    """807 / 908: the device is not (or no longer) an Autopilot device; no ESP ran."""
    cap = Capture().autopilot("not_autopilot")
    cap.ztd = {
        "PolicyDownloadDate": "2025-03-10T07:58:41Z",
        "ErrorCode": 908,
        "ErrorReason": "HardwareMarkerMismatch, SerialNumberMismatch",
    }
    cap.event("autopilot", 807, at(0.5), {"Reason": "ZtdDeviceIsNotRegistered"}, level=2)
    cap.event("autopilot", 908, at(0.6), {"Reason": "SerialNumberMismatch"}, level=2)
    cap.event("autopilot", 809, at(0.7), {"Reason": "ZtdDeviceHasNoAssignedProfile"}, level=2)
    cap.event("autopilot", 815, at(0.8), {"Reason": "ZtdDeviceHasNoAssignedProfile"}, level=2)
    report = run(cap)

    assert report.device.deployment_mode == "not_autopilot"
    assert report.first_failed_step is None
    assert all(s.status == "unknown" for s in report.steps)
    assert {"profile_problem", "not_autopilot", "record_problem"} <= finding_ids(report)
    problem = next(f for f in report.findings if f.id == "profile_problem")
    assert "908" in problem.text
    assert report.findings[0].id == "profile_problem"
    errors_only_on(report, None)

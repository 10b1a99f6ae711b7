"""Each finding rule fires on its signature and stays quiet on a clean run."""

from __future__ import annotations

import json

import pytest

from core.esp.analyze import analyze
from core.esp.knowledge import load
from core.esp.model import EspReport
from core.sidefiles import SideFiles, ZtdProfile
from tests.core.esp.builders import (
    ENROLL,
    EST,
    USER_SID,
    Keys,
    autopilot_keys,
    esp_status_json,
    event,
    evidence,
    first_sync,
    merge,
    status_record,
)

APP = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
IME = (
    r"HKLM\SOFTWARE\Microsoft\IntuneManagementExtension\Win32Apps"
    r"\00000000-0000-0000-0000-000000000000"
)
EDAM = (
    r"HKLM\SOFTWARE\Microsoft\EnterpriseDesktopAppManagement"
    r"\S-0-0-00-0000000000-0000000000-000000000-000\MSI"
)
STORE_URI = (
    "./Device/Vendor/MSFT/EnterpriseModernAppManagement/AppManagement/AppStore/"
    "Contoso.App_abc/Status"
)
DIAG = EST + r"\ESPTrackingInfo\Diagnostics"


def clean_keys() -> Keys:
    ok = {
        "DevicePreparation": esp_status_json(
            "DevicePreparation",
            "succeeded",
            {
                "TpmAttestationSubcategory": ("succeeded", None),
                "AadjSubcategory": ("succeeded", None),
                "MdmEnrollmentSubcategory": ("succeeded", None),
                "EspProviderInstallationSubcategory": ("succeeded", None),
            },
        ),
        "DeviceSetup": esp_status_json(
            "DeviceSetup",
            "succeeded",
            {
                "SecurityPoliciesSubcategory": ("succeeded", None),
                "CertificatesSubcategory": ("succeeded", None),
                "NetworkConnectionsSubcategory": ("succeeded", None),
                "AppsSubcategory": ("succeeded", None),
            },
        ),
        "AccountSetup": esp_status_json(
            "AccountSetup",
            "succeeded",
            {
                "WaitingForAadRegistrationSubcategory": ("succeeded", None),
                "SecurityPoliciesSubcategory": ("succeeded", None),
                "CertificatesSubcategory": ("succeeded", None),
                "NetworkConnectionsSubcategory": ("succeeded", None),
                "AppsSubcategory": ("succeeded", None),
            },
        ),
    }
    return merge(
        autopilot_keys(),
        first_sync(),
        status_record(**ok),
        {
            EST + r"\Device\DevicePreparation\PolicyProviders\Sidecar": {
                "InstallationState": ("REG_DWORD", 3)
            },
            EST + r"\Device\Setup\Apps\PolicyProviders\Sidecar": {
                "TrackingPoliciesCreated": ("REG_DWORD", 1)
            },
            EST + rf"\Device\Setup\Apps\Tracking\Sidecar\Win32App_{APP}_1": {
                "InstallationState": ("REG_DWORD", 3)
            },
        },
    )


def ids(report: EspReport) -> set[str]:
    return {f.id for f in report.findings}


def test_clean_run_has_no_problem_findings() -> None:
    report = analyze(evidence(clean_keys(), events=[event("autopilot", 303, "Completed")]))
    assert all(f.severity == "info" for f in report.findings), report.findings
    assert all(s.status == "succeeded" for s in report.steps)
    assert all(s.hint is None for s in report.steps)


def test_every_error_entry_has_hint_and_source() -> None:
    for entries in load().errors.values():
        for entry in entries:
            assert entry.hint
            assert entry.source
            assert entry.source.startswith("https://")


def record_failure(phase: str, step: str, text: str) -> Keys:
    return status_record(**{phase: esp_status_json(phase, "failed", {step: ("failed", text)})})


def test_tpm_attestation() -> None:
    report = analyze(
        evidence(
            merge(
                autopilot_keys(oobe=96),
                record_failure(
                    "DevicePreparation",
                    "TpmAttestationSubcategory",
                    "Securing your hardware (Failed: 0x800705b4)",
                ),
            ),
            events=[event("autopilot", 171, "0x800705B4")],
        )
    )
    assert "tpm_attestation" in ids(report)
    step = report.step("DevicePreparation.TpmAttestationSubcategory")
    assert step is not None
    assert step.hresult == "0x800705B4"
    assert step.hint is not None
    known = [f for f in report.findings if f.id == "known_error"]
    assert known
    assert "TPM attestation timed out" in known[0].title


@pytest.mark.parametrize(
    "code",
    [
        "0x801C0003",
        "0x801C03F3",
        "0x81036501",
        "0x80180014",
        "0x80180018",
        "0x8018002B",
        "0x80070774",
    ],
)
def test_enrollment_error_codes(code: str) -> None:
    report = analyze(
        evidence(autopilot_keys(), events=[event("autopilot", 302, "MDMEnrolling", code)])
    )
    found = [f for f in report.findings if f.id == "known_error"]
    assert found
    assert code in found[0].text
    assert found[0].source


@pytest.mark.parametrize("event_id", [807, 809, 815, 908])
def test_profile_events(event_id: int) -> None:
    assert "profile_problem" in ids(
        analyze(evidence(autopilot_keys(), events=[event("autopilot", event_id)]))
    )


def test_profile_error_in_ztd_file() -> None:
    side = SideFiles(
        ztd=ZtdProfile("z.json", {"ErrorCode": 908, "ErrorReason": "SerialNumberMismatch"})
    )
    assert "profile_problem" in ids(analyze(evidence(autopilot_keys(), side_files=side)))


def test_provider_stall() -> None:
    keys = merge(
        autopilot_keys(),
        {
            EST + r"\Device\DevicePreparation\PolicyProviders\Sidecar": {
                "InstallationState": ("REG_DWORD", 1)
            }
        },
    )
    report = analyze(evidence(keys))
    assert "provider_stall" in ids(report)


def test_win32_failed_with_error_code() -> None:
    keys = merge(
        autopilot_keys(),
        {
            EST + rf"\Device\Setup\Apps\Tracking\Sidecar\Win32App_{APP}_1": {
                "InstallationState": ("REG_DWORD", 4)
            },
            IME + rf"\{APP}_1": {
                "EnforcementStateMessage": (
                    "REG_SZ",
                    json.dumps({"EnforcementState": 5000, "ErrorCode": -2016345060}),
                )
            },
        },
    )
    report = analyze(evidence(keys))
    apps = report.step("DeviceSetup.AppsSubcategory")
    assert apps is not None
    assert apps.status == "failed"
    assert apps.items[0].hresult == "0x87D1041C"
    found = [f for f in report.findings if f.id == "win32_failed"]
    assert found
    assert "not detected" in found[0].text.lower()
    assert apps.hint is not None


def test_msi_failed_and_mixed_with_win32() -> None:
    product = "{12345678-1234-1234-1234-123456789ABC}"
    keys = merge(
        autopilot_keys(),
        {
            EST + rf"\Device\Setup\Apps\Tracking\Sidecar\Win32App_{APP}_1": {
                "InstallationState": ("REG_DWORD", 3)
            },
            EST + r"\ESPTrackingInfo\Diagnostics\ExpectedMSIAppPackages\2024-05-01T08:00:00Z": {
                f"./Device/Vendor/MSFT/EnterpriseDesktopAppManagement/MSI/{product}/Status": (
                    "REG_DWORD",
                    60,
                )
            },
            EDAM + "\\" + product: {
                "Status": ("REG_DWORD", 60),
                "LastError": ("REG_DWORD", 0x80070652),
            },
        },
    )
    report = analyze(evidence(keys))
    assert {"msi_failed", "lob_win32_mixed"} <= ids(report)


def test_office_failed() -> None:
    keys = merge(
        autopilot_keys(),
        {r"HKLM\SOFTWARE\Microsoft\OfficeCSP\abc": {"FinalStatus": ("REG_DWORD", 17002)}},
    )
    assert "office_failed" in ids(analyze(evidence(keys)))


def test_cert_and_network_not_applied() -> None:
    keys = merge(
        autopilot_keys(),
        record_failure("DeviceSetup", "CertificatesSubcategory", "Certificates (Error)"),
    )
    report = analyze(evidence(keys, events=[event("dm_admin", 1507, "0x80070005")]))
    assert {"cert_not_applied", "network_not_applied"} <= ids(report)
    # a generic WLAN failure event is a finding, never the step's status
    network = next(f for f in report.findings if f.id == "network_not_applied")
    assert network.severity == "warning"
    step = report.step(network.step or "")
    assert step is not None
    assert step.status != "failed"
    certs = report.step("DeviceSetup.CertificatesSubcategory")
    assert certs is not None
    assert certs.hint is not None
    assert certs.status_text == "Certificates (Error)"


def test_esp_timeout_from_durations() -> None:
    keys = merge(
        autopilot_keys(),
        first_sync(timeout=30),
        {
            ENROLL + rf"\FirstSync\{USER_SID}": {
                "ApplicationsDuration": ("REG_DWORD", 1900),
                "CertificatesDuration": ("REG_DWORD", 10),
            }
        },
    )
    found = [f for f in analyze(evidence(keys)).findings if f.id == "esp_timeout"]
    assert len(found) == 1
    assert found[0].step == "AccountSetup.AppsSubcategory"
    assert "31 minutes" in found[0].text


def test_hybrid_join_wait() -> None:
    side = SideFiles(ztd=ZtdProfile("z.json", {"CloudAssignedDomainJoinMethod": 1}))
    keys = merge(
        autopilot_keys(),
        record_failure(
            "AccountSetup",
            "WaitingForAadRegistrationSubcategory",
            "Joining your organization's network (Failed: 0x800705b4)",
        ),
    )
    report = analyze(
        evidence(keys, events=[event("udr_admin", 304, "0x801c03f2")], side_files=side)
    )
    assert "hybrid_join_wait" in ids(report)
    step = report.step("AccountSetup.WaitingForAadRegistrationSubcategory")
    assert step is not None
    assert step.hint is not None
    assert "Entra" in step.hint.text


def test_continue_anyway_masking() -> None:
    keys = merge(
        autopilot_keys(),
        first_sync(block=4),
        record_failure("DeviceSetup", "AppsSubcategory", "Apps (Error)"),
        status_record(
            AccountSetup=esp_status_json(
                "AccountSetup", "inProgress", {"AppsSubcategory": ("inProgress", None)}
            )
        ),
    )
    assert "continue_anyway" in ids(analyze(evidence(keys)))


def test_store_app_blocked() -> None:
    keys = merge(
        autopilot_keys(),
        record_failure("DeviceSetup", "AppsSubcategory", "Apps (Failed: 0x800705b4)"),
        {
            EST + r"\ESPTrackingInfo\Diagnostics\ExpectedModernAppPackages\2024-05-01T08:00:00Z": {
                STORE_URI: (
                    "REG_DWORD",
                    0,
                )
            }
        },
    )
    assert "store_app_blocked" in ids(analyze(evidence(keys)))


def test_reboot_second_signin() -> None:
    keys = merge(
        autopilot_keys(),
        status_record(
            AccountSetup=esp_status_json(
                "AccountSetup", "inProgress", {"AppsSubcategory": ("inProgress", None)}
            )
        ),
        {
            DIAG + rf"\{USER_SID}\ExpectedPolicies\2024-05-01T09:00:00Z": {
                "./User/Vendor/MSFT/Policy/x": ("REG_DWORD", 1)
            }
        },
    )
    report = analyze(
        evidence(
            keys,
            events=[
                event("dm_admin", 2800, "./Device/Vendor/MSFT/Policy/Config/Update/X", minutes=10)
            ],
        )
    )
    assert "reboot_second_signin" in ids(report)


def test_unknown_hresult_decoded() -> None:
    keys = merge(
        autopilot_keys(), record_failure("DeviceSetup", "AppsSubcategory", "Apps (0x8007ABCD)")
    )
    found = [f for f in analyze(evidence(keys)).findings if f.id == "unknown_hresult"]
    assert found
    assert "WIN32" in found[0].title
    assert str(0xABCD) in found[0].text

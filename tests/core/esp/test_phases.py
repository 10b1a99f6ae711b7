"""Phases and steps: order, record vs derived, skipped, unknown, times, items and events."""

from __future__ import annotations

from core.esp.analyze import analyze
from core.esp.knowledge import load
from tests.core.esp.builders import (
    EST,
    USER_SID,
    autopilot_keys,
    esp_status_json,
    event,
    evidence,
    first_sync,
    log_line,
    merge,
    status_record,
)

K = load()
APP = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"


def test_three_phases_visible_steps_in_order_even_without_evidence() -> None:
    report = analyze(evidence({}))
    assert [p.id for p in report.phases] == ["DevicePreparation", "DeviceSetup", "AccountSetup"]
    expected = [s.id for s in K.steps if s.visible]
    assert [s.id for s in report.steps] == expected
    assert len(expected) == 13
    assert all(s.status == "unknown" for s in report.steps)  # never success without evidence
    assert "SaveWhiteGloveSuccessResult" not in " ".join(s.id for s in report.steps)


def test_record_drives_status() -> None:
    keys = merge(
        autopilot_keys(),
        status_record(
            DeviceSetup=esp_status_json(
                "DeviceSetup",
                "succeeded",
                {
                    "SecurityPoliciesSubcategory": (
                        "succeeded",
                        "Security policies (1 of 1 applied)",
                    ),
                    "CertificatesSubcategory": ("succeeded", None),
                    "NetworkConnectionsSubcategory": ("succeeded", None),
                    "AppsSubcategory": ("succeeded", "Apps (3 of 3 installed)"),
                },
            ),
        ),
    )
    report = analyze(evidence(keys))
    setup = report.phases[1]
    assert setup.status == "succeeded"
    assert setup.steps[3].status_text == "Apps (3 of 3 installed)"
    assert report.phases[0].status == "unknown"  # no record, no evidence


def test_skipped_user_phase() -> None:
    report = analyze(evidence(merge(autopilot_keys(), first_sync(skip_user=0xFFFFFFFF))))
    account = report.phases[2]
    assert account.status == "skipped"
    assert all(s.status == "skipped" for s in account.steps)
    assert any(f.id == "skipped_phase" for f in report.findings)


def test_skipped_device_phases() -> None:
    report = analyze(evidence(merge(autopilot_keys(), first_sync(skip_device=0xFFFFFFFF))))
    assert report.phases[0].status == report.phases[1].status == "skipped"


def test_self_deploying_has_no_user_phase() -> None:
    report = analyze(evidence(autopilot_keys(oobe=96)))
    assert report.phases[2].status == "skipped"


def test_record_that_ran_beats_skip_flag() -> None:
    keys = merge(
        autopilot_keys(),
        first_sync(skip_user=0xFFFFFFFF),
        status_record(
            AccountSetup=esp_status_json(
                "AccountSetup",
                "failed",
                {"CertificatesSubcategory": ("failed", "Certificates (Error)")},
            ),
        ),
    )
    account = analyze(evidence(keys)).phases[2]
    assert account.status == "failed"
    assert account.steps[2].status == "failed"


def test_derived_from_tracking_when_record_missing() -> None:
    keys = merge(
        autopilot_keys(),
        {
            EST + r"\Device\DevicePreparation\PolicyProviders\Sidecar": {
                "InstallationState": ("REG_DWORD", 3)
            },
            EST + r"\Device\Setup\Apps\PolicyProviders\Sidecar": {
                "TrackingPoliciesCreated": ("REG_DWORD", 1)
            },
            EST + rf"\Device\Setup\Apps\Tracking\Sidecar\Win32App_{APP}_1": {
                "InstallationState": ("REG_DWORD", 2)
            },
        },
    )
    report = analyze(evidence(keys))
    prep = report.step("DevicePreparation.EspProviderInstallationSubcategory")
    apps = report.step("DeviceSetup.AppsSubcategory")
    assert prep is not None
    assert prep.status == "succeeded"
    assert apps is not None
    assert apps.status == "in_progress"
    assert {i.kind for i in apps.items} == {"provider", "win32"}
    assert any(r.path.endswith(f"Win32App_{APP}_1") for r in apps.registry)
    assert any(f.id == "record_problem" for f in report.findings)


def test_identifying_when_tracking_never_created() -> None:
    keys = merge(
        autopilot_keys(),
        {
            EST + r"\Device\Setup\Apps\PolicyProviders\Sidecar": {
                "TrackingPoliciesCreated": ("REG_DWORD", 0)
            },
        },
    )
    report = analyze(evidence(keys))
    apps = report.step("DeviceSetup.AppsSubcategory")
    assert apps is not None
    assert apps.status == "identifying"
    assert apps.hint is not None
    assert apps.hint.id == "tracking_not_created"


def test_user_scope_kept_apart() -> None:
    keys = merge(
        autopilot_keys(),
        {
            EST + rf"\{USER_SID}\Setup\Apps\Tracking\Sidecar\Win32App_{APP}": {
                "InstallationState": ("REG_DWORD", 3)
            },
        },
    )
    report = analyze(evidence(keys))
    user_apps = report.step("AccountSetup.AppsSubcategory")
    device_apps = report.step("DeviceSetup.AppsSubcategory")
    assert user_apps is not None
    assert device_apps is not None
    assert [i.scope for i in user_apps.items] == ["user"]
    assert not device_apps.items
    assert user_apps.status == "succeeded"


def test_snapshot_history_and_times() -> None:
    diag = EST + r"\ESPTrackingInfo\Diagnostics\ExpectedPolicies"
    uri = "./Vendor/MSFT/DMClient/Provider/MS DM Server/EntDMID"
    keys = merge(
        autopilot_keys(),
        {
            diag + r"\2024-05-01T08:10:00.000Z": {uri: ("REG_DWORD", 0)},
            diag + r"\2024-05-01T08:12:30.1234567Z": {uri: ("REG_DWORD", 1)},
        },
    )
    report = analyze(evidence(keys))
    step = report.step("DeviceSetup.SecurityPoliciesSubcategory")
    assert step is not None
    assert step.status == "succeeded"
    item = step.items[0]
    assert [h.status for h in item.history] == ["not processed", "processed"]
    assert step.started is not None
    assert step.ended is not None
    assert step.started < step.ended
    assert sum(1 for t in report.timeline if t.kind == "registry") == 2


def test_app_names_from_ime_log() -> None:
    keys = merge(
        autopilot_keys(),
        {
            EST + rf"\Device\Setup\Apps\Tracking\Sidecar\Win32App_{APP}_1": {
                "InstallationState": ("REG_DWORD", 3)
            },
        },
    )
    logs = [log_line(f'[Win32App] Got policy {{"Id":"{APP}","Name":"Contoso VPN","Version":1}}')]
    apps = analyze(evidence(keys, logs=logs)).step("DeviceSetup.AppsSubcategory")
    assert apps is not None
    assert apps.items[0].name == "Contoso VPN"


def test_events_attach_by_catalogue_and_by_item_id() -> None:
    product = "{12345678-1234-1234-1234-123456789ABC}"
    keys = merge(
        autopilot_keys(),
        {
            r"HKLM\SOFTWARE\Microsoft\EnterpriseDesktopAppManagement\S-0-0-00-0000000000-0000000000-000000000-000\MSI"
            + "\\"
            + product: {"Status": ("REG_DWORD", 60), "LastError": ("REG_DWORD", 0x80070643)},
        },
    )
    events = [
        event("autopilot", 171, "0x800705B4", minutes=1),
        event(
            "dm_admin",
            1924,
            "C:\\log.txt",
            "msiexec",
            product,
            "S-0-0-00-0000000000-0000000000-000000000-000",
            "0x80070643",
            minutes=5,
        ),
        event("dm_admin", 99999, "nothing", minutes=6),
    ]
    report = analyze(evidence(keys, events=events))
    tpm = report.step("DevicePreparation.TpmAttestationSubcategory")
    apps = report.step("DeviceSetup.AppsSubcategory")
    assert tpm is not None
    assert [e.event_id for e in tpm.events] == [171]
    assert "0x800705B4" in tpm.events[0].summary
    assert apps is not None
    assert [e.event_id for e in apps.events] == [1924]
    unknown = [t for t in report.timeline if "99999" in t.summary]
    assert unknown
    assert unknown[0].step is None
    assert "Data1=nothing" in unknown[0].summary
    assert len(report.timeline) == 3


def test_event_derived_step_failure_when_record_missing() -> None:
    report = analyze(
        evidence(autopilot_keys(), events=[event("autopilot", 302, "MDMEnrolling", "0x80180014")])
    )
    step = report.step("DevicePreparation.MdmEnrollmentSubcategory")
    assert step is not None
    assert step.status == "failed"
    assert step.hint is not None
    # user-driven: the enrollment restriction, not the self-deploying one-enrollment limit
    assert step.hint.id == "mdm_enrollment_restriction"
    assert "restriction" in step.hint.text


def test_event_retry_success_wins() -> None:
    events = [
        event("autopilot", 302, "MDMEnrolling", "0x80180014", minutes=1),
        event("autopilot", 303, "Completed", minutes=3),
    ]
    step = analyze(evidence(autopilot_keys(), events=events)).step(
        "DevicePreparation.MdmEnrollmentSubcategory"
    )
    assert step is not None
    assert step.status == "succeeded"

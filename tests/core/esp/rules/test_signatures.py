"""Every registered rule, fired by a scenario capture and quiet on healthy captures.

Each scenario is a synthetic mdmdiagnosticstool cab (:mod:`tests.builders.capture`) that shows
the evidence the rule's signature names, read through the real pipeline. The healthy captures
(one per deployment mode) must fire no rule at warning or error level, and none of the rules
listed here at all.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from core.esp.knowledge import load
from core.esp.model import EspReport
from core.esp.rules.registry import SUMMARY_RULES, check, emitted_ids, units
from tests.builders.capture import USER_SID, Capture, at, guid, hex32
from tests.builders.logs import ImeLog
from tests.core.esp.scenarios.conftest import Run, prep_failed, setup_failed

APP = guid(31)
STORE = (
    "./Device/Vendor/MSFT/EnterpriseModernAppManagement/AppManagement/AppStore/"
    "Microsoft.CompanyPortal_8wekyb3d8bbwe/AppInstallation"
)
PFX = "./Device/Vendor/MSFT/ClientCertificateInstall/PFXCertInstall/Corp-PKCS/Status"
VPN = "./Device/Vendor/MSFT/VPNv2/Corp-VPN/ProfileXML"
PRODUCT = "{A0000031-0031-4031-8000-000000000031}"
TPM_NOT_READY = (
    "TpmHLI GetVersion result: 0x0\nTpmHLI Version: 2.0\nManufacturer: IFX\n"
    "TpmHLI IsReady Attestation result: 0x0\nReady: False\n"
    "- NoValidEkCert: No valid EK cert found\n"
)


def healthy(mode: str = "user_driven") -> Capture:
    """A deployment that went right: every phase succeeded, the IME installed, one Win32 app."""
    cap = Capture().autopilot(mode).first_sync(
        users={} if mode in ("self_deploying", "pre_provisioning") else {USER_SID: {
            "PolicyDuration": 30, "ApplicationsDuration": 300}}
    )
    phases = ["DevicePreparation", "DeviceSetup"]
    if mode not in ("self_deploying", "pre_provisioning"):
        phases.append("AccountSetup")
    cap.record_all_succeeded(*phases)
    if mode == "pre_provisioning":
        cap.record(
            "DeviceSetup", "succeeded", {"SaveWhiteGloveSuccessResult": ("succeeded", None)}
        )
    cap.provider("Sidecar", 3)
    cap.tracking(apps={APP: 3}, completed=True)
    cap.win32_app(APP, "Contoso Agent", enforcement=1000, detected=True)
    cap.event("autopilot", 303, at(5), {"Stage": "Completed"})
    return cap


def healthy_device_prep() -> Capture:
    cap = Capture().device_preparation(3)
    cap.prep_script(60, "Success", at(4))
    return cap.prep_app(61, "Contoso Agent", 1, at(5), at(9))


def apps_failed(code: int = 0x800705B4) -> Capture:
    return setup_failed("AppsSubcategory", f"Apps (Failed: 0x{code:08x})")


def slow_download() -> Capture:
    """Device setup waits for one app whose 5 GB download runs at 1 MB/s (IME log)."""
    cap = Capture().autopilot().first_sync(timeout=60)
    cap.record_all_succeeded("DevicePreparation")
    cap.record("DeviceSetup", "inProgress", {"AppsSubcategory": ("inProgress", None)})
    cap.provider("Sidecar", 3)
    cap.tracking(apps={APP: 2})
    log = ImeLog()
    log.esp_check(at(1), "DeviceSetup")
    log.processing(at(1), APP, "Contoso Design Suite")
    log.downloading(at(2), APP, "Contoso Design Suite", 0, 5 * 1024**3)
    log.downloading(at(7), APP, "Contoso Design Suite", 300 * 1024**2, 5 * 1024**3)
    cap.logs.extend(log.lines)
    return cap


def mdm_event(code: int, mode: str = "user_driven") -> Capture:
    """Enrollment refused before the ESP: only DeviceManagement 71 carries the code."""
    return Capture().autopilot(mode).event("dm_admin", 71, at(3), {"HRESULT": hex32(code)}, level=2)


def prep_code(sub: str, code: int, mode: str = "user_driven") -> Capture:
    return prep_failed(mode, sub, f"Step (Failed: 0x{code:08x})")


def win32(enforcement: int, error: int = 0) -> Capture:
    cap = apps_failed()
    cap.provider("Sidecar", 3)
    cap.tracking(apps={APP: 4 if enforcement >= 5000 else 2})
    return cap.win32_app(APP, "Contoso VPN", enforcement=enforcement, error=error)


def hybrid_waiting() -> Capture:
    cap = Capture().autopilot("hybrid_user_driven").first_sync()
    cap.record_all_succeeded("DevicePreparation", "DeviceSetup")
    return cap.record(
        "AccountSetup",
        "failed",
        {"WaitingForAadRegistrationSubcategory": ("failed", "Joining (Failed: 0x800705b4)")},
    )


def cert_failed(code: int) -> Capture:
    cap = setup_failed("CertificatesSubcategory", "Certificates (Failed: 0x80004005)")
    return cap.event("dm_admin", 32, at(20), {"HRESULT": hex32(code)}, level=2)


def whfb() -> Capture:
    cap = healthy()
    data = {"NgcPolicyEnabled": "Yes", "DeviceIsJoined": "Yes", "AADPrt": "No"}
    return cap.event("udr_admin", 360, at(50), data, level=3)


def odj_timeout() -> Capture:
    cap = Capture().autopilot("hybrid_user_driven")
    cap.event("dm_admin", 111, at(2), {"Value": "1"})
    return cap.event("dm_admin", 110, at(27), {"Value": "3"}, level=2)


def preprov_reseal() -> Capture:
    cap = Capture().autopilot("pre_provisioning").first_sync()
    return cap.record_all_succeeded("DevicePreparation", "DeviceSetup")


def preprov_users() -> Capture:
    cap = Capture().autopilot("pre_provisioning").first_sync()
    cap.record_all_succeeded("DevicePreparation", "DeviceSetup")
    cap.record("DeviceSetup", "succeeded", {"SaveWhiteGloveSuccessResult": ("succeeded", None)})
    return cap.tracking(owner=USER_SID, apps={APP: 1})


def sd_users() -> Capture:
    cap = Capture().autopilot("self_deploying").first_sync()
    cap.record_all_succeeded("DevicePreparation", "DeviceSetup")
    return cap.tracking(owner=USER_SID, apps={APP: 1})


def office(status: int) -> Capture:
    return apps_failed().office("{A0000040-0040-4040-8000-000000000040}", status)


def company_portal() -> Capture:
    cap = setup_failed("AppsSubcategory", "Apps (Failed: 0x800705b4)")
    return cap.snapshots("ExpectedModernAppPackages", [(at(20), {STORE: 0})])


def mixed() -> Capture:
    cap = apps_failed(0x80070652)
    cap.msi(PRODUCT, 60, last_error=0x80070652)
    cap.tracking(apps={APP: 3})
    return cap.win32_app(APP, "Contoso Agent", enforcement=1000, detected=True)


def provider_stalled(name: str, state: int) -> Capture:
    cap = prep_failed(
        "user_driven",
        "EspProviderInstallationSubcategory",
        "Preparing your device for mobile management (Failed: 0x800705b4)",
    )
    return cap.provider(name, state)


def ime_failed() -> Capture:
    cap = provider_stalled("Sidecar", 1)
    return cap.msi(
        "{A0000050-0050-4050-8000-000000000050}",
        60,
        last_error=0x80070643,
        url="https://contoso.example/IntuneWindowsAgent.msi",
    )


def cm_only() -> Capture:
    cap = Capture().autopilot("user_driven").first_sync()
    cap.record_all_succeeded("DevicePreparation")
    identifying = {"AppsSubcategory": ("inProgress", "Apps (Identifying)")}
    cap.record("DeviceSetup", "inProgress", identifying)
    cap.provider("ConfigMgr", 3)
    return cap.tracking(provider="ConfigMgr", apps={})


def task_sequence() -> Capture:
    cap = apps_failed()
    cap.provider("ConfigMgr", 3)
    return cap.key(
        r"HKLM\SOFTWARE\Microsoft\Windows\Autopilot\EnrollmentStatusTracking\Device\Setup"
        r"\Apps\Tracking\ConfigMgr\Provisioning_TS",
        InstallationState=("REG_DWORD", 4),
    )


def tenant_other() -> Capture:
    cap = healthy()
    return cap.value(
        r"HKLM\SOFTWARE\Microsoft\Provisioning\Diagnostics\Autopilot", "TenantMatched",
        "REG_DWORD", 0,
    )


def enrolled_elsewhere() -> Capture:
    cap = healthy()
    return cap.value(
        r"HKLM\SOFTWARE\Microsoft\Enrollments\0E5C6B2A-1D4F-4A8B-9C3E-7F6A5B4C3D2E",
        "AADTenantID", "REG_SZ", "00c0ffee-0000-4000-8000-0000000000ff",
    )


def classic_and_prep() -> Capture:
    cap = healthy()
    return cap.key(
        r"HKLM\SOFTWARE\Microsoft\Provisioning\AutopilotSettings\DevicePreparation",
        PageStatus=("REG_DWORD", 1),
    )


def prep_slow() -> Capture:
    cap = Capture().device_preparation(2, timeout_seconds=900)
    return cap.prep_app(61, "Contoso Agent", 5, at(1), at(40))


def pfx() -> Capture:
    cap = setup_failed("CertificatesSubcategory", "Certificates (Failed: 0x80004005)")
    return cap.snapshots("ExpectedPFXCerts", [(at(20), {PFX: 0})])


def vpn() -> Capture:
    cap = setup_failed("NetworkConnectionsSubcategory", "Network connections (Failed: 0x80004005)")
    return cap.snapshots("ExpectedNetworkProfiles", [(at(20), {VPN: 0})])


def offline_profile() -> Capture:
    return Capture().autopilot("user_driven").event("autopilot", 165, at(1))


def reboot_pending() -> Capture:
    return win32(2008)


def mfa() -> Capture:
    cap = Capture().autopilot("user_driven").first_sync()
    cap.record_all_succeeded("DevicePreparation", "DeviceSetup")
    return cap.record(
        "AccountSetup", "failed", {"PrepareMultifactorAuth": ("failed", "Failed: 0x80004005")}
    )


def second_signin() -> Capture:
    cap = healthy()
    return cap.event(
        "dm_admin", 2800, at(18), {"URI": "./Device/Vendor/MSFT/Policy/Config/Update/X"}
    )


def reboot_coalescing() -> Capture:
    return setup_failed("RebootCoalescing", "Failed: 0x80004005")


def masked() -> Capture:
    cap = Capture().autopilot("user_driven").first_sync()
    cap.record(
        "DevicePreparation",
        "failed",
        {"MdmEnrollmentSubcategory": ("failed", "Registering (Failed: 0x80070774)")},
    )
    return cap.record_all_succeeded("DeviceSetup", "AccountSetup")


def timed_out_user() -> Capture:
    cap = Capture().autopilot("user_driven").first_sync(
        users={USER_SID: {"ApplicationsDuration": 4000}}
    )
    cap.record_all_succeeded("DevicePreparation", "DeviceSetup")
    return cap.record(
        "AccountSetup", "failed", {"AppsSubcategory": ("failed", "Apps (Failed: 0x800705b4)")}
    )


def store_waiting() -> Capture:
    uri = STORE.replace("Microsoft.CompanyPortal_8wekyb3d8bbwe", "Contoso.Notes_8wekyb3d8bbwe")
    cap = setup_failed("AppsSubcategory", "Apps (Failed: 0x800705b4)")
    return cap.snapshots("ExpectedModernAppPackages", [(at(20), {uri: 0})])


def store_failed() -> Capture:
    uri = STORE.replace("Microsoft.CompanyPortal_8wekyb3d8bbwe", "Contoso.Notes_8wekyb3d8bbwe")
    cap = setup_failed("AppsSubcategory", "Apps (Failed: 0x800705b4)")
    cap.snapshots("ExpectedModernAppPackages", [(at(20), {uri: 0})])
    return cap.event(
        "dm_admin", 1309, at(21), {"Type": "Modern", "Name": "Contoso.Notes_8wekyb3d8bbwe"}
    )


#: rule id -> a scenario capture that must fire it
SCENARIOS: dict[str, Callable[[], Capture]] = {
    # profile and registration
    "profile_problem": lambda: Capture().autopilot().event("autopilot", 807, at(1), level=2),
    "profile_download_failed": lambda: Capture()
    .autopilot()
    .event("autopilot", 706, at(1), {"HRESULT": hex32(0x80072EE7), "Url": "ztd"}, level=2),
    "profile_not_downloaded_offline": offline_profile,
    "profile_empty": lambda: Capture().autopilot().event("autopilot", 704, at(1), {"Id": "x"}),
    "multiple_mdm": lambda: prep_code("MdmEnrollmentSubcategory", 0xC1036501, "self_deploying"),
    "not_autopilot": lambda: Capture().autopilot("not_autopilot"),
    "tenant_mismatch": tenant_other,
    "enrollment_tenant_mismatch": enrolled_elsewhere,
    # TPM, join, enrollment
    "tpm_attestation": lambda: prep_code("TpmAttestationSubcategory", 0x81039001, "self_deploying")
    .event("autopilot", 171, at(2), {"HRESULT": hex32(0x81039001)}, level=2),
    "tpm_not_ready": lambda: healthy("self_deploying").side_file(
        "TpmHliInfo_Output.txt", TPM_NOT_READY
    ),
    "tpm_max_retry": lambda: prep_code("TpmAttestationSubcategory", 0x81039001, "self_deploying"),
    "tpm_firmware_vulnerable": lambda: prep_code(
        "TpmAttestationSubcategory", 0x81039024, "pre_provisioning"
    ),
    "tpm_amd_ftpm": lambda: prep_code("TpmAttestationSubcategory", 0x80070490, "self_deploying"),
    "tpm_attestation_join": lambda: prep_code(
        "MdmEnrollmentSubcategory", 0x801C03EA, "self_deploying"
    ),
    "entra_join_failed": lambda: prep_code("AadjSubcategory", 0x801C0003, "self_deploying"),
    "entra_device_missing": lambda: prep_code(
        "MdmEnrollmentSubcategory", 0x801C03F3, "pre_provisioning"
    ),
    "odj_blob_not_received": odj_timeout,
    "mdm_no_license": lambda: mdm_event(0x80180018),
    "mdm_device_cap": lambda: mdm_event(0x80180013),
    "mdm_enrollment_restriction": lambda: prep_code("MdmEnrollmentSubcategory", 0x80180014),
    "sd_device_reused": lambda: prep_code(
        "MdmEnrollmentSubcategory", 0x80180014, "self_deploying"
    ),
    "mdm_unsupported_edition": lambda: mdm_event(0x80180022),
    "mdm_upn_suffix": lambda: Capture()
    .autopilot("hybrid_user_driven")
    .event("dm_admin", 76, at(2), {"HRESULT": hex32(0x8018002B)}, level=2),
    "mdm_not_configured": lambda: mdm_event(0x80180031),
    "known_error": lambda: prep_code("MdmEnrollmentSubcategory", 0x80180018),
    "unknown_hresult": lambda: apps_failed(0x80041234),
    # providers and co-management
    "provider_stall": lambda: provider_stalled("Sidecar", 1),
    "ime_agent_failed": ime_failed,
    "configmgr_client_failed": lambda: provider_stalled("ConfigMgr", 4),
    "configmgr_without_sidecar": cm_only,
    "cm_task_sequence_failed": task_sequence,
    "tracking_not_created": lambda: Capture()
    .autopilot()
    .first_sync()
    .record_all_succeeded("DevicePreparation")
    .record("DeviceSetup", "inProgress", {"AppsSubcategory": ("inProgress", "Apps (Identifying)")})
    .tracking(created=False),
    # apps
    "win32_failed": lambda: win32(5000, 0x80070643),
    "win32_download_failed": lambda: win32(5003, 0x80072EE2),
    "win32_dependency_failed": lambda: win32(6001),
    "win32_requirements_not_met": lambda: win32(3000),
    "win32_not_detected": lambda: win32(5000, 0x87D1041C),
    "download_cannot_finish": slow_download,
    "app_reboot_pending": reboot_pending,
    "msi_failed": lambda: apps_failed().msi(PRODUCT, 60, last_error=0x80070643),
    "msi_download_failed": lambda: apps_failed().msi(PRODUCT, 30),
    "lob_win32_mixed": mixed,
    "office_failed": lambda: office(17002),
    "office_still_installing": lambda: office(997),
    "store_app_blocked": store_waiting,
    "store_app_failed": store_failed,
    "company_portal_device_phase": company_portal,
    # certificates and network
    "cert_not_applied": lambda: setup_failed(
        "CertificatesSubcategory", "Certificates (Failed: 0x80004005)"
    ),
    "scep_server_unreachable": lambda: cert_failed(0x80072EE7),
    "trusted_root_missing": lambda: cert_failed(0x800B0109),
    "pfx_cert_failed": pfx,
    "network_not_applied": lambda: setup_failed(
        "NetworkConnectionsSubcategory", "Network connections (Failed: 0x80004005)"
    ),
    "vpn_profile_failed": vpn,
    # hybrid join, sign-in, Hello
    "hybrid_join_wait": hybrid_waiting,
    "dc_unreachable": lambda: hybrid_waiting().event("udr_admin", 334, at(45), level=2),
    "mfa_interrupted": mfa,
    "whfb_prerequisites_failed": whfb,
    # the ESP as a whole
    "esp_timeout": timed_out_user,
    "device_phase_timeout": apps_failed,
    "reboot_second_signin": second_signin,
    "reboot_coalescing_failed": reboot_coalescing,
    "continue_anyway": masked,
    "skipped_phase": lambda: Capture()
    .autopilot()
    .first_sync(skip_user=True)
    .record_all_succeeded("DevicePreparation", "DeviceSetup"),
    "record_problem": lambda: Capture().autopilot(),
    "mdm_errors": lambda: healthy().event(
        "dm_admin", 404, at(30), {"HRESULT": hex32(0x86000002)}, level=2
    ),
    "preprov_failed": lambda: prep_code(
        "TpmAttestationSubcategory", 0x81039001, "pre_provisioning"
    ),
    "preprov_not_resealed": preprov_reseal,
    "preprov_user_targeted_only": preprov_users,
    "self_deploying_user_targeted": sd_users,
    # Windows Autopilot device preparation
    "device_prep_failed": lambda: Capture().device_preparation(
        4, error=0x80070643, phase="Apps", details="An app failed"
    ),
    "device_prep_app_failed": lambda: Capture()
    .device_preparation(4)
    .prep_app(61, "Contoso Agent", 4, at(1), at(9), error=0x80070643),
    "device_prep_script_failed": lambda: Capture()
    .device_preparation(4)
    .prep_script(60, "Failed", at(3)),
    "device_prep_timeout": prep_slow,
    "device_prep_classic_profile": classic_and_prep,
}

HEALTHY: dict[str, Callable[[], Capture]] = {
    "user_driven": healthy,
    "hybrid_user_driven": lambda: healthy("hybrid_user_driven"),
    "self_deploying": lambda: healthy("self_deploying"),
    "pre_provisioning": lambda: healthy("pre_provisioning"),
    "device_preparation": healthy_device_prep,
}


def test_registry_matches_the_knowledge_and_counts() -> None:
    knowledge = load()
    check(knowledge)  # every rule has an entry, every entry a rule, no unused key
    ids = emitted_ids()
    assert len(ids) >= 50
    assert len(units()) >= 50
    assert SUMMARY_RULES[-1].name == "mdm_errors"  # runs last, reads everything before it
    for rule_id in ids:
        definition = knowledge.rule(rule_id)
        assert definition.confidence in ("high", "medium", "low"), rule_id
        assert definition.source is not None
        assert definition.source.startswith("https://"), rule_id


def test_every_rule_has_a_scenario() -> None:
    assert sorted(SCENARIOS) == sorted(emitted_ids())


@pytest.mark.parametrize("rule_id", sorted(SCENARIOS))
def test_rule_fires_in_its_scenario(run: Run, rule_id: str) -> None:
    report = run(SCENARIOS[rule_id]())
    fired = [f for f in report.findings if f.id == rule_id]
    assert fired, (rule_id, [(f.id, f.title) for f in report.findings])
    for finding in fired:
        assert finding.confidence in ("high", "medium", "low")
        assert finding.source
        assert finding.source.startswith("https://")


@pytest.fixture(scope="module")
def healthy_reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, EspReport]:
    from core.esp.analyze import analyze
    from core.evidence import load_evidence

    reports: dict[str, EspReport] = {}
    for mode, build in HEALTHY.items():
        cab = build().write_cab(tmp_path_factory.mktemp(mode) / "MDMDiagReport.cab")
        reports[mode] = analyze(load_evidence(cab))
    return reports


@pytest.mark.parametrize("mode", sorted(HEALTHY))
def test_healthy_captures_have_no_problem(healthy_reports: dict[str, EspReport], mode: str) -> None:
    report = healthy_reports[mode]
    assert report.device.deployment_mode == mode
    problems = [(f.id, f.title) for f in report.findings if f.severity != "info"]
    assert not problems, problems


@pytest.mark.parametrize("rule_id", sorted(SCENARIOS))
def test_rule_quiet_on_healthy_captures(
    healthy_reports: dict[str, EspReport], rule_id: str
) -> None:
    for mode, report in healthy_reports.items():
        assert rule_id not in {f.id for f in report.findings}, (rule_id, mode)


def test_win32_item_failure_named_once(run: Run) -> None:
    """A download failure is explained by its specific rule, not repeated as win32_failed."""
    ids = [f.id for f in run(win32(5003, 0x80072EE2)).findings]
    assert "win32_download_failed" in ids
    assert "win32_failed" not in ids


def test_code_signature_in_generic_events_is_a_warning(run: Run) -> None:
    report = run(mdm_event(0x80180013))
    cap = next(f for f in report.findings if f.id == "mdm_device_cap")
    assert cap.severity == "warning"
    assert not [f for f in report.findings if f.id == "mdm_errors" and "0x80180013" in f.title]


def test_enrollment_restriction_depends_on_the_mode(run: Run) -> None:
    report = run(prep_code("MdmEnrollmentSubcategory", 0x80180014, "self_deploying"))
    ids = {f.id for f in report.findings}
    assert "sd_device_reused" in ids
    assert "mdm_enrollment_restriction" not in ids

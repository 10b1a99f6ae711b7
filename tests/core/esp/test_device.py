"""Device facts, ESP settings and deployment mode."""

from __future__ import annotations

from typing import Any

from core.esp.analyze import analyze
from core.esp.device import block_flags
from core.sidefiles import SideFiles, ZtdProfile, is_self_deploying, oobe_flags
from tests.core.esp.builders import (
    DIAG,
    autopilot_keys,
    event,
    evidence,
    first_sync,
    merge,
)


def test_oobe_bits() -> None:
    assert list(oobe_flags(0x11C)) == [
        "SkipExpressSettings",
        "SkipOemRegistration",
        "SkipEula",
        "SkipWindowsUpgradeUx",
    ]
    assert "TpmAttestation" in oobe_flags(96)
    assert "AadDeviceAuth" in oobe_flags(96)


def test_block_bits() -> None:
    assert block_flags(0) == (False, False, False)
    assert block_flags(6) == (False, True, True)
    assert block_flags(7) == (True, True, True)


def ztd(**raw: Any) -> SideFiles:
    return SideFiles(ztd=ZtdProfile("AutopilotDDSZTDFile.json", raw))


def test_self_deploying_bits_one_helper() -> None:
    assert is_self_deploying(0x11C | 96) is True
    assert is_self_deploying(0x11C | 32) is False
    assert is_self_deploying(None) is None
    assert ZtdProfile("z.json", {"CloudAssignedOobeConfig": 96}).self_deploying is True


def test_settings_from_first_sync() -> None:
    report = analyze(
        evidence(
            merge(autopilot_keys(), first_sync(timeout=90, skip_user=0xFFFFFFFF, block=5, logs=0))
        )
    )
    s = report.settings
    assert s.timeout_minutes == 90
    assert s.skip_device_status_page is False
    assert s.skip_user_status_page is True
    assert (s.allow_reset, s.allow_try_again, s.allow_continue_anyway) == (True, False, True)
    assert s.allow_collect_logs is False


def test_no_first_sync_is_none() -> None:
    assert analyze(evidence(autopilot_keys())).settings.timeout_minutes is None


def test_user_driven() -> None:
    report = analyze(evidence(autopilot_keys()))
    assert report.device.deployment_mode == "user_driven"
    assert report.device.autopilot is True
    assert report.device.tenant_domain == "contoso.example"
    assert report.device.profile_name == "Test profile"


def test_self_deploying_from_oobe_bits() -> None:
    assert (
        analyze(evidence(autopilot_keys(oobe=0x11C | 96))).device.deployment_mode
        == "self_deploying"
    )


def test_hybrid_from_ztd_file() -> None:
    side = ztd(CloudAssignedDomainJoinMethod=1)
    report = analyze(evidence(autopilot_keys(), side_files=side))
    assert report.device.deployment_mode == "hybrid_user_driven"


def test_hybrid_from_policy_cache() -> None:
    keys = merge(
        autopilot_keys(),
        {
            r"HKLM\SOFTWARE\Microsoft\Provisioning\AutopilotPolicyCache": {
                "PolicyJsonCache": (
                    "REG_SZ",
                    '{"CloudAssignedDomainJoinMethod":1,"AutopilotMode":0}',
                )
            }
        },
    )
    assert analyze(evidence(keys)).device.deployment_mode == "hybrid_user_driven"


def test_pre_provisioning_from_event_509() -> None:
    report = analyze(evidence(autopilot_keys(), events=[event("mgmtsvc", 509, "1")]))
    assert report.device.deployment_mode == "pre_provisioning"


def test_not_autopilot_when_no_tenant() -> None:
    report = analyze(evidence(autopilot_keys(tenant="")))
    assert report.device.deployment_mode == "not_autopilot"
    assert report.device.autopilot is False
    assert any(f.id == "not_autopilot" for f in report.findings)


def test_unknown_without_evidence() -> None:
    report = analyze(evidence({}))
    assert report.device.deployment_mode == "unknown"
    assert report.device.autopilot is None


def test_ztd_tenant_when_registry_blank() -> None:
    side = ztd(CloudAssignedTenantDomain="fabrikam.example")
    report = analyze(evidence({DIAG: {"CloudAssignedTenantId": ("REG_SZ", "")}}, side_files=side))
    assert report.device.tenant_domain == "fabrikam.example"
    assert report.device.deployment_mode == "user_driven"

"""The Autopilot profile and registration: download, assignment, hardware-hash matching, the
tenant the device enrolled into, and devices that are not Autopilot devices at all."""

from __future__ import annotations

from core.esp.device import POLICY_CACHE
from core.esp.rules.base import Context, Found, make, rule
from core.registry.values import str_of


@rule(
    "profile_problem",
    reads={"knowledge", "facts", "events", "links"},
    params=["events", "ztd_error_codes"],
)
def profile_problem(ctx: Context) -> list[Found]:
    if ctx.facts.device.deployment_mode == "device_preparation":
        return []  # device preparation has no registration: 807 in the ZTD file is expected
    positions = ctx.find_events(ctx.param("profile_problem", "events"))
    details = [ctx.links.summaries[p] for p in positions[:3]]
    evidence = [ctx.event_line(p) for p in positions[:10]]
    code = ctx.facts.profile.get("ErrorCode")
    codes = {str(c) for c in ctx.param("profile_problem", "ztd_error_codes")}
    if isinstance(code, (int, str)) and str(code).strip() in codes:
        reason = ctx.facts.profile.get("ErrorReason") or ""
        details.append(f"the downloaded Autopilot profile carries error {code} {reason}".strip())
        evidence.append("AutopilotDDSZTDFile.json: ErrorCode")
    if not details:
        return []
    return [
        make(ctx, "profile_problem", None, evidence, cites=positions, detail="; ".join(details))
    ]


@rule("profile_download_failed", reads={"knowledge", "events", "links"}, params=["events"])
def profile_download_failed(ctx: Context) -> list[Found]:
    """Autopilot 706 / 112: the profile could not be downloaded or read (network, proxy,
    firewall); the device then runs a plain OOBE or an empty profile."""
    positions = ctx.find_events(ctx.param("profile_download_failed", "events"))
    if not positions:
        return []
    return [
        make(
            ctx,
            "profile_download_failed",
            None,
            [ctx.event_line(p) for p in positions[:10]],
            cites=positions,
            example=ctx.links.summaries[positions[0]],
        )
    ]


@rule(
    "profile_not_downloaded_offline",
    reads={"knowledge", "events", "links"},
    params=["offline_events", "downloaded_events"],
)
def profile_not_downloaded_offline(ctx: Context) -> list[Found]:
    """Autopilot 165 (no internet, download queued) and no later profile download (161/170):
    OOBE went on without the profile."""
    offline = ctx.find_events(ctx.param("profile_not_downloaded_offline", "offline_events"))
    if not offline:
        return []
    downloaded = ctx.find_events(ctx.param("profile_not_downloaded_offline", "downloaded_events"))
    last_offline = ctx.events[offline[-1]].time
    if any(ctx.events[p].time >= last_offline for p in downloaded):
        return []
    return [
        make(
            ctx,
            "profile_not_downloaded_offline",
            None,
            [ctx.event_line(p) for p in offline[:5]],
            cites=offline,
        )
    ]


@rule("profile_empty", reads={"knowledge", "facts", "events", "links"}, params=["events"])
def profile_empty(ctx: Context) -> list[Found]:
    """Autopilot 704: the profile downloaded for the device is empty (the service knows the
    device but gave it no settings), or the policy cache says no profile is available."""
    if ctx.facts.device.deployment_mode in ("device_preparation", "not_autopilot"):
        return []  # no registration: an empty profile is what such a device gets
    positions = ctx.find_events(ctx.param("profile_empty", "events"))
    evidence = [ctx.event_line(p) for p in positions[:5]]
    if ctx.facts.profile_available is False and ctx.facts.device.autopilot:
        evidence.append(rf"{POLICY_CACHE}: ProfileAvailable = 0")
    if not evidence:
        return []
    return [make(ctx, "profile_empty", None, evidence, cites=positions)]


@rule("not_autopilot", reads={"knowledge", "facts"})
def not_autopilot(ctx: Context) -> list[Found]:
    if ctx.facts.device.deployment_mode != "not_autopilot":
        return []
    return [
        make(
            ctx,
            "not_autopilot",
            None,
            [r"HKLM\SOFTWARE\Microsoft\Provisioning\Diagnostics\Autopilot"],
        )
    ]


@rule("enrollment_tenant_mismatch", reads={"knowledge", "facts"})
def enrollment_tenant_mismatch(ctx: Context) -> list[Found]:
    """The MDM enrollment's AADTenantID differs from the tenant the Autopilot profile names —
    typical for Autopilot for existing devices with a JSON file exported from another tenant,
    or a device registered in one tenant and joined to another."""
    profile_tenant = ctx.facts.tenant_id
    enrolled = str_of(ctx.facts.enrollment, "AADTenantID")
    if not profile_tenant or not enrolled:
        return []
    if profile_tenant.strip("{}").casefold() == enrolled.strip("{}").casefold():
        return []
    origin = ctx.facts.enrollment.origin if ctx.facts.enrollment is not None else ""
    return [
        make(
            ctx,
            "enrollment_tenant_mismatch",
            "DevicePreparation.MdmEnrollmentSubcategory",
            [f"{origin}: AADTenantID", "Autopilot profile: CloudAssignedTenantId"],
            existing=" (Autopilot for existing devices)" if ctx.facts.existing_device else "",
        )
    ]

"""Joining: Entra join and device registration, hybrid join (the ODJ connector, domain
controller reachability, the ESP's wait for Entra registration), sign-in and Windows Hello."""

from __future__ import annotations

from core.esp.model import Severity
from core.esp.rules.base import Context, Found, make, rule

HYBRID_STEP = "AccountSetup.WaitingForAadRegistrationSubcategory"


@rule(
    "hybrid_join_wait",
    reads={"knowledge", "facts", "steps", "events", "links"},
    params=["events"],
)
def hybrid_join_wait(ctx: Context) -> list[Found]:
    step = ctx.steps[HYBRID_STEP]
    positions = ctx.find_events(ctx.param("hybrid_join_wait", "events"))
    hybrid = ctx.facts.device.deployment_mode == "hybrid_user_driven"
    stuck = step.status in ("failed", "in_progress", "identifying")
    if not ((hybrid and (stuck or positions)) or (positions and stuck)):
        return []
    # Registration attempts often fail until Entra Connect has synced: once the step is
    # done those failures are history, not a problem.
    severity: Severity | None = None if stuck else "info"
    details = []
    if stuck:
        details.append(f"Account setup is {step.status.replace('_', ' ')} at joining the network")
    details += [ctx.links.summaries[p] for p in positions[:3]]
    return [
        make(
            ctx,
            "hybrid_join_wait",
            HYBRID_STEP,
            [ctx.event_line(p) for p in positions[:10]],
            severity=severity,
            cites=positions,
            detail="; ".join(details),
        )
    ]


def _event_rule(ctx: Context, rule_id: str, step: str | None = None) -> list[Found]:
    """Fires on the rule's ``events`` (``alias:id``); evidence and cites are those events."""
    positions = ctx.find_events(ctx.param(rule_id, "events"))
    if not positions:
        return []
    return [
        make(
            ctx,
            rule_id,
            step if step is not None else ctx.links.step_of[positions[0]],
            [ctx.event_line(p) for p in positions[:10]],
            cites=positions,
            count=len(positions),
            example=ctx.links.summaries[positions[0]],
        )
    ]


@rule("dc_unreachable", reads={"knowledge", "events", "links"}, params=["events"])
def dc_unreachable(ctx: Context) -> list[Found]:
    """No domain controller (UDR 334) or the registration service point could not be read
    from Active Directory (UDR 307): hybrid registration cannot start."""
    return _event_rule(ctx, "dc_unreachable", HYBRID_STEP)


@rule(
    "odj_blob_not_received",
    reads={"knowledge", "facts", "events", "links"},
    params=["events", "connectivity_events", "timed_out"],
)
def odj_blob_not_received(ctx: Context) -> list[Found]:
    """Hybrid: DeviceManagement 109/110 report the offline-domain-join wait timed out, or
    100 says connectivity to a domain controller could not be established."""
    timed_out = {str(v) for v in ctx.param("odj_blob_not_received", "timed_out")}
    waits = [
        p
        for p in ctx.find_events(ctx.param("odj_blob_not_received", "events"))
        if next(iter(ctx.events[p].data.values()), "").strip() in timed_out
    ]
    unreachable = ctx.find_events(ctx.param("odj_blob_not_received", "connectivity_events"))
    positions = sorted(waits + unreachable)
    if not positions:
        return []
    return [
        make(
            ctx,
            "odj_blob_not_received",
            "DevicePreparation.AadjSubcategory",
            [ctx.event_line(p) for p in positions[:10]],
            cites=positions,
            count=len(positions),
            example=ctx.links.summaries[positions[0]],
        )
    ]


@rule(
    "whfb_prerequisites_failed",
    reads={"knowledge", "events", "links"},
    params=["events", "enabled", "prerequisites"],
)
def whfb_prerequisites_failed(ctx: Context) -> list[Found]:
    """User Device Registration 360 with Windows Hello for Business enabled by policy and a
    prerequisite answered "No": Hello will not be provisioned after the ESP. The event is also
    logged on devices without Hello policy (then the policy field is "No" or "Not Tested")."""
    enabled = str(ctx.param("whfb_prerequisites_failed", "enabled"))
    fields = [str(f) for f in ctx.param("whfb_prerequisites_failed", "prerequisites")]
    positions: list[int] = []
    missing: list[str] = []
    for p in ctx.find_events(ctx.param("whfb_prerequisites_failed", "events")):
        data = ctx.events[p].data
        if data.get(enabled, "").strip().casefold() != "yes":
            continue
        failed = [f for f in fields if data.get(f, "").strip().casefold() == "no"]
        if failed:
            positions.append(p)
            missing.extend(f for f in failed if f not in missing)
    if not positions:
        return []
    return [
        make(
            ctx,
            "whfb_prerequisites_failed",
            None,
            [ctx.event_line(p) for p in positions[:10]],
            cites=positions,
            count=len(positions),
            missing=", ".join(missing),
        )
    ]


@rule("mfa_interrupted", reads={"knowledge", "steps", "events", "links"})
def mfa_interrupted(ctx: Context) -> list[Found]:
    """Account setup's silent PrepareMultifactorAuth step failed (a sign-in / MFA prompt was
    interrupted or refused during OOBE), from the ESP record or its Shell-Core breadcrumb."""
    step = ctx.steps.get("AccountSetup.PrepareMultifactorAuth")
    positions = [
        p
        for p in ctx.links.by_step.get("AccountSetup.PrepareMultifactorAuth", [])
        if ctx.links.outcomes[p] == "failure"
    ]
    failed = step is not None and step.status == "failed"
    if not failed and not positions:
        return []
    evidence = [f"ESP status: {step.text}"] if failed and step is not None and step.text else []
    evidence += [ctx.event_line(p) for p in positions[:10]]
    return [
        make(
            ctx,
            "mfa_interrupted",
            "AccountSetup.PrepareMultifactorAuth",
            evidence,
            cites=positions,
            explains=[(step.hresult, step.definition.id)]
            if failed and step is not None and step.hresult is not None
            else [],
        )
    ]


@rule("tenant_mismatch", reads={"knowledge", "facts"})
def tenant_mismatch(ctx: Context) -> list[Found]:
    """Diagnostics\\Autopilot TenantMatched = 0: the user signed in to another tenant than the
    device is registered to ("that username looks like it belongs to another organization")."""
    if ctx.facts.tenant_matched is not False:
        return []
    return [
        make(
            ctx,
            "tenant_mismatch",
            "DevicePreparation.AadjSubcategory",
            [r"HKLM\SOFTWARE\Microsoft\Provisioning\Diagnostics\Autopilot: TenantMatched = 0"],
        )
    ]

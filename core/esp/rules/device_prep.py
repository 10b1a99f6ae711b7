"""Windows Autopilot device preparation (the flow without the classic ESP): its page failed,
an app or script it tracks failed, it ran out of time, or a classic profile took over."""

from __future__ import annotations

from core.esp.hresult import fmt
from core.esp.knowledge import parse_code
from core.esp.rules.base import Context, Found, make, rule


@rule("device_prep_failed", reads={"knowledge", "device_prep"})
def device_prep_failed(ctx: Context) -> list[Found]:
    prep = ctx.device_prep
    if prep is None or prep.status != "failed":
        return []
    parts = [f"phase {prep.error_phase}"] if prep.error_phase else []
    if prep.error_code is not None:
        parts.append(f"error {fmt(prep.error_code)}")
    if prep.error_details:
        parts.append(prep.error_details)
    return [
        make(
            ctx,
            "device_prep_failed",
            None,
            list(prep.evidence),
            detail="; ".join(parts) or "no error details recorded",
        )
    ]


@rule("device_prep_app_failed", reads={"knowledge", "device_prep"})
def device_prep_app_failed(ctx: Context) -> list[Found]:
    prep = ctx.device_prep
    if prep is None:
        return []
    return [
        make(
            ctx,
            "device_prep_app_failed",
            None,
            [origin],
            name=name,
            error=f" with error {fmt(code)}" if code is not None else "",
        )
        for name, code, origin in prep.failed_apps
    ]


@rule("device_prep_script_failed", reads={"knowledge", "device_prep"})
def device_prep_script_failed(ctx: Context) -> list[Found]:
    prep = ctx.device_prep
    if prep is None:
        return []
    return [
        make(ctx, "device_prep_script_failed", None, [origin], name=name)
        for name, origin in prep.failed_scripts
    ]


@rule("device_prep_timeout", reads={"knowledge", "device_prep"}, params=["codes"])
def device_prep_timeout(ctx: Context) -> list[Found]:
    """The page's own timeout ("Minutes allowed before showing installation error", 15–720)
    was reached: an ERROR_TIMEOUT error code, or the page ran longer than its setting."""
    prep = ctx.device_prep
    if prep is None or prep.timeout_minutes is None:
        return []
    codes = {parse_code(c) for c in ctx.param("device_prep_timeout", "codes")}
    timed_out = prep.error_code in codes
    overran = (
        prep.status in ("failed", "in_progress")
        and prep.elapsed_minutes is not None
        and prep.elapsed_minutes >= prep.timeout_minutes
    )
    if not (timed_out or overran):
        return []
    return [
        make(
            ctx,
            "device_prep_timeout",
            None,
            list(prep.evidence),
            timeout=prep.timeout_minutes,
            elapsed=prep.elapsed_minutes if prep.elapsed_minutes is not None else "?",
        )
    ]


@rule("device_prep_classic_profile", reads={"knowledge", "facts", "device_prep"})
def device_prep_classic_profile(ctx: Context) -> list[Found]:
    """Device preparation policy present on a device that is also registered for classic
    Autopilot with a profile: the classic profile wins and the device preparation policy is
    not applied."""
    facts = ctx.facts
    if not facts.device_preparation_markers or facts.device.deployment_mode == "device_preparation":
        return []
    if not facts.device.profile_name:
        return []
    return [
        make(
            ctx,
            "device_prep_classic_profile",
            None,
            list(facts.device_preparation_markers),
            profile=facts.device.profile_name,
        )
    ]

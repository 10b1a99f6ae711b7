"""The ESP as a whole: timeouts per category, reboots, "Continue anyway", skipped phases,
the deployment modes without a user (self-deploying, pre-provisioning), the record itself."""

from __future__ import annotations

from core.esp.hresult import fmt
from core.esp.knowledge import parse_code
from core.esp.rules.base import Context, Found, item_evidence, make, rule

NO_USER_MODES = ("self_deploying", "pre_provisioning")


@rule(
    "esp_timeout",
    reads={"knowledge", "facts", "steps", "phases"},
    params=["default_timeout_minutes", "durations"],
)
def esp_timeout(ctx: Context) -> list[Found]:
    """Account setup categories whose FirstSync\\<SID> *Duration reached the ESP timeout."""
    timeout = ctx.facts.settings.timeout_minutes or int(
        ctx.param("esp_timeout", "default_timeout_minutes")
    )
    step_of: dict[str, str] = ctx.param("esp_timeout", "durations")
    results: list[Found] = []
    done: set[str] = set()
    for user in ctx.facts.user_first_sync:
        durations = ", ".join(f"{k} {v // 60} min" for k, v in user.durations.items())
        for name, seconds in user.durations.items():
            if name not in step_of or seconds < timeout * 60:
                continue
            step_id = f"AccountSetup.{step_of[name]}"
            if step_id in done:
                continue
            done.add(step_id)
            results.append(
                make(
                    ctx,
                    "esp_timeout",
                    step_id,
                    [user.key.origin or user.key.path],
                    where=ctx.step_title(step_id),
                    minutes=seconds // 60,
                    timeout=timeout,
                    durations=durations,
                )
            )
    return results


@rule(
    "device_phase_timeout",
    reads={"knowledge", "facts", "steps", "phases"},
    params=["codes", "default_timeout_minutes"],
)
def device_phase_timeout(ctx: Context) -> list[Found]:
    """A Device preparation / Device setup category failed with ERROR_TIMEOUT: the device
    phase has no per-category durations, so the failed step names the category."""
    codes = {parse_code(c) for c in ctx.param("device_phase_timeout", "codes")}
    timeout = ctx.facts.settings.timeout_minutes or int(
        ctx.param("device_phase_timeout", "default_timeout_minutes")
    )
    results: list[Found] = []
    for step_id, step in ctx.steps.items():
        if step.definition.phase == "AccountSetup" or step.status != "failed":
            continue
        if step.hresult not in codes:
            continue
        results.append(
            make(
                ctx,
                "device_phase_timeout",
                step_id,
                [f"ESP status: {step.text}"] if step.text else [],
                where=ctx.step_title(step_id),
                code=fmt(step.hresult) if step.hresult is not None else "?",
                timeout=timeout,
            )
        )
    return results


@rule(
    "continue_anyway",
    reads={"knowledge", "facts", "phases", "events", "links"},
    params=["events", "shell_core_markers"],
)
def continue_anyway(ctx: Context) -> list[Found]:
    markers = ctx.param("continue_anyway", "shell_core_markers")
    positions = [
        p
        for p in ctx.find_events(ctx.param("continue_anyway", "events"))
        if any(m in ctx.links.summaries[p] for m in markers)
    ]
    order = [p.id for p in ctx.phases.values()]
    masked = None
    for index, phase_id in enumerate(order[:-1]):
        if ctx.phases[phase_id].status == "failed" and any(
            ctx.phases[later].status not in ("not_started", "skipped", "unknown")
            for later in order[index + 1 :]
        ):
            masked = phase_id
            break
    if masked is None and not positions:
        return []
    if masked is None and ctx.facts.settings.allow_continue_anyway is False:
        return []
    detail = (
        f"{ctx.phases[masked].title} failed but a later phase ran"
        if masked
        else "the ESP started background syncs after the user chose Continue anyway"
    )
    return [
        make(
            ctx,
            "continue_anyway",
            None,
            [ctx.event_line(p) for p in positions[:5]],
            cites=positions,
            detail=detail,
        )
    ]


@rule("reboot_second_signin", reads={"knowledge", "phases", "events", "links"}, params=["events"])
def reboot_second_signin(ctx: Context) -> list[Found]:
    positions = ctx.find_events(ctx.param("reboot_second_signin", "events"))
    if not positions:
        return []
    limit = ctx.phases["AccountSetup"].started or ctx.phases["DeviceSetup"].ended
    if limit is None:
        return []
    early = [p for p in positions if ctx.events[p].time <= limit]
    if not early:
        return []
    uri = next(iter(ctx.events[early[0]].data.values()), "?")
    return [
        make(
            ctx,
            "reboot_second_signin",
            "DeviceSetup.RebootCoalescing",
            [ctx.event_line(p) for p in early[:10]],
            cites=early,
            count=len(early),
            uri=uri,
        )
    ]


@rule("reboot_coalescing_failed", reads={"knowledge", "steps", "links", "events"})
def reboot_coalescing_failed(ctx: Context) -> list[Found]:
    """The silent DeviceSetup.RebootCoalescing step failed: the reboot the device phase asked
    for (apps, reboot-requiring policies) did not happen as the ESP expected."""
    step_id = "DeviceSetup.RebootCoalescing"
    step = ctx.steps.get(step_id)
    positions = [
        p for p in ctx.links.by_step.get(step_id, []) if ctx.links.outcomes[p] == "failure"
    ]
    if (step is None or step.status != "failed") and not positions:
        return []
    evidence = [f"ESP status: {step.text}"] if step is not None and step.text else []
    evidence += [ctx.event_line(p) for p in positions[:5]]
    return [make(ctx, "reboot_coalescing_failed", step_id, evidence, cites=positions)]


@rule("skipped_phase", reads={"knowledge", "facts", "phases"})
def skipped_phase(ctx: Context) -> list[Found]:
    mode = ctx.facts.device.deployment_mode
    if mode == "device_preparation":
        return []  # the classic phases do not apply; the report shows device preparation
    results: list[Found] = []
    for phase in ctx.phases.values():
        if phase.status != "skipped":
            continue
        if (
            phase.id == "AccountSetup"
            and mode in NO_USER_MODES
            and not ctx.facts.settings.skip_user_status_page
        ):
            continue  # no user phase is how the mode works, not a setting worth a finding
        results.append(
            make(ctx, "skipped_phase", None, [], phase=phase.title, reason=phase.skip_reason or "?")
        )
    return results


@rule("record_problem", reads={"knowledge", "notes"})
def record_problem(ctx: Context) -> list[Found]:
    return [make(ctx, "record_problem", None, [], detail=note) for note in ctx.notes]


@rule("preprov_failed", reads={"knowledge", "facts", "phases", "steps"})
def preprov_failed(ctx: Context) -> list[Found]:
    """Pre-provisioning technician flow ended on the red screen (a device phase failed): what
    to do before the retry (the step's own findings say why it failed)."""
    if ctx.facts.device.deployment_mode != "pre_provisioning":
        return []
    failed = [
        p.title
        for p in ctx.phases.values()
        if p.id in ("DevicePreparation", "DeviceSetup") and p.status == "failed"
    ]
    if not failed:
        return []
    step = next(
        (
            s.definition.id
            for s in ctx.steps.values()
            if s.status == "failed"
            and s.definition.phase in ("DevicePreparation", "DeviceSetup")
            and s.state != "failedFromPreviousSubcategory"
        ),
        None,
    )
    return [
        make(
            ctx,
            "preprov_failed",
            step,
            list(ctx.facts.pre_provisioning_markers),
            phase=" and ".join(failed),
        )
    ]


@rule("preprov_not_resealed", reads={"knowledge", "facts", "phases", "steps"})
def preprov_not_resealed(ctx: Context) -> list[Found]:
    """Pre-provisioning: Device setup succeeded but SaveWhiteGloveSuccessResult never recorded
    success, so the technician flow did not reach the Reseal screen."""
    if ctx.facts.device.deployment_mode != "pre_provisioning":
        return []
    if ctx.phases["DeviceSetup"].status != "succeeded":
        return []
    save = ctx.steps.get("DeviceSetup.SaveWhiteGloveSuccessResult")
    if save is None or save.status == "succeeded":
        return []
    return [
        make(
            ctx,
            "preprov_not_resealed",
            "DeviceSetup.SaveWhiteGloveSuccessResult",
            list(ctx.facts.pre_provisioning_markers),
            state=save.state or save.status,
        )
    ]


@rule("preprov_user_targeted_only", reads={"knowledge", "facts", "items"})
def preprov_user_targeted_only(ctx: Context) -> list[Found]:
    """Pre-provisioning tracks only device-targeted items in the technician flow: apps assigned
    to users only wait until the user phase (or install after the ESP)."""
    if ctx.facts.device.deployment_mode != "pre_provisioning":
        return []
    users = [i for i in ctx.items if i.scope == "user" and i.kind != "provider"]
    device_apps = [
        i
        for i in ctx.items
        if i.scope == "device" and i.kind in ("win32", "msi", "modern", "office")
    ]
    if not users or device_apps:
        return []
    return [
        make(
            ctx,
            "preprov_user_targeted_only",
            "DeviceSetup.AppsSubcategory",
            [e for i in users[:5] for e in item_evidence(i)[:1]],
            count=len(users),
        )
    ]


@rule("self_deploying_user_targeted", reads={"knowledge", "facts", "items"})
def self_deploying_user_targeted(ctx: Context) -> list[Found]:
    """Self-deploying has no user: user-targeted apps, certificates and profiles never install
    during (or blocking) the ESP."""
    if ctx.facts.device.deployment_mode != "self_deploying":
        return []
    users = [i for i in ctx.items if i.scope == "user" and i.kind != "provider"]
    if not users:
        return []
    return [
        make(
            ctx,
            "self_deploying_user_targeted",
            None,
            [e for i in users[:5] for e in item_evidence(i)[:1]],
            count=len(users),
        )
    ]


@rule("tpm_not_ready", reads={"knowledge", "facts"})
def tpm_not_ready(ctx: Context) -> list[Found]:
    """Self-deploying / pre-provisioning need TPM 2.0 attestation: TpmHliInfo_Output.txt says
    the TPM is not ready for attestation or lacks a valid EK certificate."""
    tpm = ctx.facts.tpm
    if tpm is None or ctx.facts.device.deployment_mode not in NO_USER_MODES:
        return []
    problems = [flag for flag in tpm.flags if "ek" in flag.casefold()]
    if tpm.ready is not False and not problems:
        return []
    if tpm.ready is False:
        problems.insert(0, f"TPM not ready for attestation (version {tpm.version or '?'})")
    return [
        make(
            ctx,
            "tpm_not_ready",
            "DevicePreparation.TpmAttestationSubcategory",
            [tpm.origin],
            detail="; ".join(problems),
        )
    ]

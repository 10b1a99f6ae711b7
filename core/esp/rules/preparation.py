"""Device preparation (classic ESP): TPM attestation, the policy providers the ESP waits for,
and the app tracking list they create."""

from __future__ import annotations

from core.esp.items import ItemInfo
from core.esp.model import Severity
from core.esp.rules.base import Context, Found, item_evidence, make, rule

TPM_STEP = "DevicePreparation.TpmAttestationSubcategory"
PROVIDER_STEP = "DevicePreparation.EspProviderInstallationSubcategory"
APPS_STEPS = ("DeviceSetup.AppsSubcategory", "AccountSetup.AppsSubcategory")


def _stuck(ctx: Context, item: ItemInfo) -> bool:
    """A provider that failed, or is still pending while its step did not finish."""
    status = ctx.steps[PROVIDER_STEP].status
    return item.outcome == "failed" or (
        item.outcome == "pending" and status in ("failed", "in_progress", "unknown")
    )


@rule("tpm_attestation", reads={"knowledge", "steps", "events", "links"}, params=["events"])
def tpm_attestation(ctx: Context) -> list[Found]:
    positions = ctx.find_events(ctx.param("tpm_attestation", "events"))
    step = ctx.steps[TPM_STEP]
    if not positions and step.status != "failed":
        return []
    details = [ctx.links.summaries[p] for p in positions[:3]]
    if step.status == "failed":
        details.insert(0, f"the ESP shows {step.text or 'failed'}")
    evidence = [ctx.event_line(p) for p in positions[:10]]
    # attestation retried and the ESP moved on: worth knowing, not the problem
    severity: Severity | None = "info" if step.status in ("succeeded", "not_required") else None
    return [
        make(
            ctx,
            "tpm_attestation",
            TPM_STEP,
            evidence,
            severity=severity,
            cites=positions,
            detail="; ".join(details),
        )
    ]


@rule("provider_stall", reads={"knowledge", "steps", "items", "events", "links"}, params=["events"])
def provider_stall(ctx: Context) -> list[Found]:
    results: list[Found] = []
    by_word = {word: n for n, word in ctx.knowledge.states["provider_installation"].items()}
    for item in ctx.items:
        if item.kind != "provider" or item.step != PROVIDER_STEP:
            continue
        if item.id.casefold() == "configmgr":
            continue  # the co-management rule names the ConfigMgr client's own causes
        if _stuck(ctx, item):
            results.append(
                make(
                    ctx,
                    "provider_stall",
                    PROVIDER_STEP,
                    item_evidence(item),
                    provider=item.id,
                    state=by_word.get(item.status, "?"),
                    state_name=item.status,
                )
            )
    positions = ctx.find_events(ctx.param("provider_stall", "events"))
    if positions and not results:
        results.append(
            make(
                ctx,
                "provider_stall",
                PROVIDER_STEP,
                [ctx.event_line(p) for p in positions[:10]],
                cites=positions,
                provider="(from events)",
                state="?",
                state_name=ctx.links.summaries[positions[0]],
            )
        )
    return results


@rule("tracking_not_created", reads={"knowledge", "steps", "phases", "items"})
def tracking_not_created(ctx: Context) -> list[Found]:
    results: list[Found] = []
    for step_id in APPS_STEPS:
        step = ctx.steps[step_id]
        providers = [i for i in ctx.items if i.kind == "provider" and i.step == step_id]
        pending = [p for p in providers if p.outcome == "pending"]
        detail = ""
        if step.status == "identifying":
            detail = "the ESP still shows Identifying"
        elif pending and step.status not in ("succeeded", "not_started", "skipped"):
            detail = (
                "provider(s) "
                + ", ".join(p.id for p in pending)
                + " never set TrackingPoliciesCreated"
            )
        elif (
            providers
            and not any(p.id.casefold() == "sidecar" for p in providers)
            and step.status != "succeeded"
        ):
            detail = "no Sidecar (Intune Management Extension) provider is registered"
        if detail:
            evidence = [e for p in providers for e in item_evidence(p)]
            results.append(
                make(
                    ctx,
                    "tracking_not_created",
                    step_id,
                    evidence,
                    where=ctx.step_title(step_id),
                    detail=detail,
                )
            )
    return results


@rule("ime_agent_failed", reads={"knowledge", "items", "events", "links"}, params=["events"])
def ime_agent_failed(ctx: Context) -> list[Found]:
    """The Intune Management Extension (IntuneWindowsAgent.msi) — the Sidecar provider's own
    installer — failed to download or install, so no Win32 app can be tracked."""
    agent = [i for i in ctx.items if i.kind == "msi" and i.step == PROVIDER_STEP]
    failed = [i for i in agent if i.outcome == "failed"]
    positions = [
        p
        for p in ctx.find_events(ctx.param("ime_agent_failed", "events"))
        if ctx.links.step_of[p] == PROVIDER_STEP
    ]
    if not failed and not positions:
        return []
    status = failed[0].status.replace("_", " ") if failed else ctx.links.summaries[positions[0]]
    evidence = [e for i in failed for e in item_evidence(i)] + [
        ctx.event_line(p) for p in positions[:10]
    ]
    return [
        make(
            ctx,
            "ime_agent_failed",
            PROVIDER_STEP,
            evidence,
            cites=positions,
            explains=[(i.code, i.step) for i in failed if i.code is not None],
            status=status,
        )
    ]


@rule("configmgr_client_failed", reads={"knowledge", "items", "steps"})
def configmgr_client_failed(ctx: Context) -> list[Found]:
    """Autopilot into co-management: the ConfigMgr provider is at 1 (ccmsetup never ran) or
    4 (error) while Device preparation did not finish."""
    results: list[Found] = []
    for item in ctx.items:
        if item.kind != "provider" or item.step != PROVIDER_STEP:
            continue
        if item.id.casefold() != "configmgr":
            continue
        if _stuck(ctx, item):
            results.append(
                make(
                    ctx,
                    "configmgr_client_failed",
                    PROVIDER_STEP,
                    item_evidence(item),
                    explains=[(item.code, PROVIDER_STEP)] if item.code is not None else [],
                    state_name=item.status.replace("_", " "),
                )
            )
    return results


@rule("configmgr_without_sidecar", reads={"knowledge", "items", "steps", "phases"})
def configmgr_without_sidecar(ctx: Context) -> list[Found]:
    """Co-management: ConfigMgr registered as the only app-tracking provider of an Apps step
    that did not finish — the ESP waits for Sidecar by name (community observation,
    https://github.com/okieselbach/AutopilotMonitor)."""
    results: list[Found] = []
    for step_id in APPS_STEPS:
        providers = [i for i in ctx.items if i.kind == "provider" and i.step == step_id]
        ids = {p.id.casefold() for p in providers}
        if "configmgr" not in ids or "sidecar" in ids:
            continue
        if ctx.steps[step_id].status in ("succeeded", "not_required", "skipped"):
            continue
        results.append(
            make(
                ctx,
                "configmgr_without_sidecar",
                step_id,
                [e for p in providers for e in item_evidence(p)],
                where=ctx.step_title(step_id),
            )
        )
    return results

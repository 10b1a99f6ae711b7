"""Certificates (SCEP / PKCS / trusted root) and network profiles (Wi-Fi / VPN)."""

from __future__ import annotations

from core.esp.evidence_links import event_code
from core.esp.hresult import fmt
from core.esp.knowledge import parse_code
from core.esp.rules.base import Context, Found, Rule, item_evidence, item_ref, make, rule

ORDER = ("DeviceSetup", "AccountSetup")


def _step_rule(ctx: Context, rule_id: str, suffix: str) -> list[Found]:
    """Certificates / Network connections: the ESP's record or tracked items decide; generic
    DeviceManagement failures of that kind are attached as related evidence — to the failed
    step, else to a step whose outcome is unknown (then only as a warning)."""
    results: list[Found] = []
    all_positions = ctx.find_events(ctx.param(rule_id, "events"))
    unplaced = [p for p in all_positions if ctx.links.step_of[p] is None]
    failed_phase = next(
        (ph for ph in ORDER if ctx.steps[f"{ph}.{suffix}"].status == "failed"), None
    )
    open_phase = next(
        (
            ph
            for ph in ORDER
            if ctx.steps[f"{ph}.{suffix}"].status in ("unknown", "in_progress", "identifying")
        ),
        None,
    )
    unplaced_to = failed_phase or open_phase
    for phase in ORDER:
        step_id = f"{phase}.{suffix}"
        step = ctx.steps[step_id]
        if step.state == "failedFromPreviousSubcategory":
            continue
        failed_items = [i for i in ctx.items if i.step == step_id and i.outcome == "failed"]
        if step.status in ("not_started", "skipped", "succeeded", "not_required") and (
            not failed_items
        ):
            continue  # the ESP's record wins over generic MDM noise
        related = [p for p in all_positions if ctx.links.step_of[p] == step_id]
        if phase == unplaced_to:
            related += unplaced
        if step.status != "failed" and not related and not failed_items:
            continue
        evidence = [f"ESP status: {step.text}"] if step.text else []
        evidence += [ctx.event_line(p) for p in related[:10]]
        evidence += [e for i in failed_items for e in item_evidence(i)]
        detail = f" (the ESP shows \"{step.text}\")" if step.text else ""
        if related:
            codes = sorted({fmt(c) for p in related if (c := event_code(ctx.events[p]))})
            detail += f"; DeviceManagement logged {len(related)} related failure(s)" + (
                f" ({', '.join(codes[:3])})" if codes else ""
            )
            for number in codes[:1]:
                entry = ctx.knowledge.error(int(number, 16), step_id)
                if entry is not None:
                    detail += f": {entry.title}"
        failed = step.status == "failed" or bool(failed_items)
        results.append(
            make(
                ctx,
                rule_id,
                step_id,
                evidence,
                severity=None if failed else "warning",
                cites=related,
                where=ctx.step_title(step_id),
                status=step.status if step.status == "failed" else "not applied",
                detail=detail,
            )
        )
    return results


@rule(
    "cert_not_applied",
    reads={"knowledge", "steps", "phases", "items", "events", "links"},
    params=["events"],
)
def cert_not_applied(ctx: Context) -> list[Found]:
    return _step_rule(ctx, "cert_not_applied", "CertificatesSubcategory")


@rule(
    "network_not_applied",
    reads={"knowledge", "steps", "phases", "items", "events", "links"},
    params=["events"],
)
def network_not_applied(ctx: Context) -> list[Found]:
    return _step_rule(ctx, "network_not_applied", "NetworkConnectionsSubcategory")


def _coded_events(ctx: Context, rule_id: str) -> list[int]:
    """Events of the rule's ``events`` that carry one of its ``codes``."""
    codes = {parse_code(c) for c in ctx.param(rule_id, "codes")}
    return [
        p
        for p in ctx.find_events(ctx.param(rule_id, "events"))
        if event_code(ctx.events[p]) in codes
    ]


def coded_event_rule(rule_id: str) -> Rule:
    """A registered rule for the ``rules.toml`` entry ``rule_id``: fires on its ``events``
    that carry one of its ``codes``."""

    def check(ctx: Context) -> list[Found]:
        positions = _coded_events(ctx, rule_id)
        if not positions:
            return []
        code = event_code(ctx.events[positions[0]])
        return [
            make(
                ctx,
                rule_id,
                ctx.links.step_of[positions[0]],
                [ctx.event_line(p) for p in positions[:10]],
                cites=positions,
                code=fmt(code) if code is not None else "?",
                count=len(positions),
            )
        ]

    check.__name__ = rule_id
    return Rule(
        rule_id,
        (rule_id,),
        frozenset({"knowledge", "events", "links"}),
        check,
        ("events", "codes"),
    )


@rule("pfx_cert_failed", reads={"knowledge", "items", "steps"})
def pfx_cert_failed(ctx: Context) -> list[Found]:
    """A PKCS (PFXCertInstall) profile the ESP tracked was not processed and its
    Certificates step failed."""
    failed = [
        i
        for i in ctx.items
        if i.kind == "pfx"
        and i.outcome != "done"
        and (i.outcome == "failed" or ctx.steps[i.step].status == "failed")
    ]
    return [
        make(
            ctx,
            "pfx_cert_failed",
            item.step,
            item_evidence(item),
            about=[item_ref(item)],
            name=item.name or item.id,
            status=item.status.replace("_", " "),
        )
        for item in failed
    ]


@rule("vpn_profile_failed", reads={"knowledge", "items", "steps"}, params=["markers"])
def vpn_profile_failed(ctx: Context) -> list[Found]:
    """A tracked network profile whose LocURI is a VPN profile did not apply."""
    markers = [str(m).casefold() for m in ctx.param("vpn_profile_failed", "markers")]
    results: list[Found] = []
    for item in ctx.items:
        if item.kind != "network" or item.outcome == "done":
            continue
        if not any(m in item.id.casefold() for m in markers):
            continue
        step = ctx.steps.get(item.step)
        if item.outcome != "failed" and (step is None or step.status != "failed"):
            continue
        results.append(
            make(
                ctx,
                "vpn_profile_failed",
                item.step,
                item_evidence(item),
                about=[item_ref(item)],
                name=item.name or item.id,
                status=item.status.replace("_", " "),
            )
        )
    return results

"""Failure codes: the code a failed step or an ESP failure event carries, named from
``errors.toml`` (``known_error``) or decoded (``unknown_hresult``); and code signatures — a
failure code that, in its context (deployment mode, step), points at one specific cause."""

from __future__ import annotations

from collections.abc import Sequence

from core.esp.evidence_links import event_code
from core.esp.hresult import decode, fmt
from core.esp.knowledge import parse_code
from core.esp.model import Finding, Severity
from core.esp.rules.base import DONE, Context, Found, Rule, make, summary_rule
from core.esp.values import code_text

#: (code, step, where, evidence, event positions) from step results and ESP failure events
Failure = tuple[int, str | None, str, list[str], tuple[int, ...]]


def step_failures(ctx: Context) -> list[Failure]:
    """Codes of failed steps and of ESP-specific failure events the ESP did not get past.

    Generic MDM failures (command errors, SCEP, MSI, enrollment faults) are left to the MDM
    error groups: they do not say what the ESP showed.
    """
    cached: list[Failure] | None = ctx.memo.get("step_failures")
    if cached is None:
        cached = ctx.memo["step_failures"] = _step_failures(ctx)
    return list(cached)


def _step_failures(ctx: Context) -> list[Failure]:
    found: list[Failure] = []
    for step_id, state in ctx.steps.items():
        if state.hresult is not None and state.status == "failed":
            evidence = [f"ESP status: {state.text}"] if state.text else []
            found.append((state.hresult, step_id, ctx.step_title(step_id), evidence, ()))
    for position, step in enumerate(ctx.links.step_of):
        if not ctx.links.decides[position] or ctx.links.outcomes[position] != "failure":
            continue
        if step is not None and ctx.steps[step].status in DONE:
            continue  # a failure the ESP got past (a retry succeeded): not the problem
        code = event_code(ctx.events[position])
        if code is not None:
            where = ctx.step_title(step) if step else ctx.events[position].channel
            found.append((code, step, where, [ctx.event_line(position)], (position,)))
    return found


def any_failures(ctx: Context) -> list[Failure]:
    """:func:`step_failures` plus generic failure events and failed tracked items: where a
    code signature may find its code."""
    cached: list[Failure] | None = ctx.memo.get("any_failures")
    if cached is None:
        cached = ctx.memo["any_failures"] = _any_failures(ctx)
    return list(cached)


def _any_failures(ctx: Context) -> list[Failure]:
    found = step_failures(ctx)
    for position, definition in enumerate(ctx.links.definitions):
        if definition is None or definition.esp or definition.outcome != "failure":
            continue
        code = event_code(ctx.events[position])
        if code is not None:
            step = ctx.links.step_of[position]
            where = ctx.step_title(step) if step else ctx.events[position].channel
            found.append((code, step, where, [ctx.event_line(position)], (position,)))
    for item in ctx.items:
        if item.outcome == "failed" and item.code is not None:
            origin = [key.origin or key.path for key in item.keys[:2]]
            found.append((item.code, item.step, ctx.step_title(item.step), origin, ()))
    return found


def unknown_code(
    ctx: Context, code: int, step: str | None, where: str, evidence: list[str]
) -> Found:
    parts = decode(code)
    facility = ctx.knowledge.facilities.get(parts.facility, "unknown facility")
    win32 = f" (Windows error {parts.win32})" if parts.win32 is not None else ""
    return make(
        ctx,
        "unknown_hresult",
        step,
        evidence,
        code=code_text(code),
        facility=facility,
        facility_number=parts.facility,
        number=parts.number,
        win32=win32,
        where=where,
    )


@summary_rule(
    "known_error", "unknown_hresult", reads={"knowledge", "steps", "phases", "events", "links"}
)
def known_errors(ctx: Context, earlier: Sequence[Found]) -> list[Found]:
    """Each failure code once per step, unless a signature already explained it."""
    explained = {pair for found in earlier for pair in found.explains}
    results: list[Found] = []
    seen: dict[tuple[int, str | None], int] = {}
    for code, step, where, evidence, positions in step_failures(ctx):
        key = (code, step)
        if key in explained:
            continue
        if key in seen:
            merged = results[seen[key]]
            old = merged.finding
            more = tuple(dict.fromkeys(old.evidence + tuple(evidence)))[:20]
            results[seen[key]] = Found(
                Finding(
                    old.id,
                    old.severity,
                    old.step,
                    old.title,
                    old.text,
                    more,
                    old.source,
                    old.confidence,
                ),
                merged.hint,
                merged.cites + positions,
            )
            continue
        seen[key] = len(results)
        entry = ctx.knowledge.error(code, step)
        if entry is not None:
            results.append(
                make(
                    ctx,
                    "known_error",
                    step,
                    evidence,
                    hint=entry.hint,
                    source=entry.source,
                    cites=positions,
                    title=entry.title,
                    code=fmt(code),
                    where=where,
                    cause=entry.cause,
                )
            )
        else:
            results.append(unknown_code(ctx, code, step, where, evidence))
    return results


def code_signature(rule_id: str) -> Rule:
    """A registered rule for the ``rules.toml`` entry ``rule_id``: fires when one of its
    ``codes`` shows up as a failure (a failed step, an ESP or MDM failure event, a failed
    item), in one of its deployment ``modes`` and ``steps`` when those are listed.

    The code's general meaning stays with ``known_error``; the signature adds the cause the
    context points at, and takes the events it cites out of the generic MDM groups."""

    def check(ctx: Context) -> list[Found]:
        params = ctx.knowledge.rule(rule_id).params
        codes = {parse_code(c) for c in params["codes"]}
        modes = set(params.get("modes", ()))
        steps = set(params.get("steps", ()))
        if modes and ctx.facts.device.deployment_mode not in modes:
            return []
        esp = step_failures(ctx)
        hits = [
            f
            for f in any_failures(ctx)
            if f[0] in codes and (not steps or (f[1] is not None and f[1] in steps))
        ]
        if not hits:
            return []
        # Seen only in generic MDM evidence (not what the ESP showed): a warning, like the
        # generic MDM error groups it replaces.
        severity: Severity | None = None if any(h in esp for h in hits) else "warning"
        code, step, where = hits[0][0], hits[0][1], hits[0][2]
        evidence = list(dict.fromkeys(e for hit in hits for e in hit[3]))[:10]
        return [
            make(
                ctx,
                rule_id,
                step,
                evidence,
                severity=severity,
                cites=tuple(p for hit in hits for p in hit[4]),
                code=fmt(code),
                where=where,
                count=len(hits),
            )
        ]

    check.__name__ = rule_id
    return Rule(
        rule_id,
        (rule_id,),
        frozenset({"knowledge", "facts", "steps", "phases", "items", "events", "links"}),
        check,
        ("codes", "modes", "steps"),
    )

"""Generic MDM / registration failures nobody else explained, grouped by event and code."""

from __future__ import annotations

from collections.abc import Sequence

from core.codes import format_code
from core.esp.evidence_links import event_code
from core.esp.rules.base import Context, Found, make, summary_rule


@summary_rule(
    "mdm_errors",
    reads={"knowledge", "events", "links", "steps", "phases"},
    params=["warning_events"],
)
def mdm_errors(ctx: Context, earlier: Sequence[Found]) -> list[Found]:
    """Failures of catalogued non-ESP events, minus those an earlier finding cites or shows.

    They never change a step's status (see :mod:`core.esp.analyze`); they are reported so a
    technician sees them, at warning level for enrollment, certificate, network and app
    failures and at info level for everything else (policy command noise).
    """
    warn = {str(r) for r in ctx.param("mdm_errors", "warning_events")}
    cited = {p for found in earlier for p in found.cites}
    shown = {line for found in earlier for line in found.finding.evidence}
    groups: dict[tuple[str, int, int | None], list[int]] = {}
    for position, definition in enumerate(ctx.links.definitions):
        if definition is None or definition.esp or definition.outcome != "failure":
            continue
        if position in cited or ctx.event_line(position) in shown:
            continue
        code = event_code(ctx.events[position])
        groups.setdefault((definition.alias, definition.id, code), []).append(position)
    results: list[Found] = []
    for (alias, event_id, code), positions in sorted(
        groups.items(), key=lambda kv: (f"{kv[0][0]}:{kv[0][1]}" not in warn, -len(kv[1]))
    ):
        first, last = ctx.events[positions[0]], ctx.events[positions[-1]]
        steps = sorted({s for p in positions if (s := ctx.links.step_of[p]) is not None})
        where = ", ".join(ctx.step_title(s) for s in steps) or "no ESP step"
        meaning = ""
        important = f"{alias}:{event_id}" in warn
        entry = ctx.knowledge.error(code) if code is not None and important else None
        if code is not None:
            known = f"; {entry.title}" if entry is not None else ""
            meaning = f" {format_code(code)}{known}"
        results.append(
            make(
                ctx,
                "mdm_errors",
                steps[0] if len(steps) == 1 else None,
                [ctx.event_line(p) for p in positions[:10]],
                hint=f"{entry.cause} {entry.hint}" if entry is not None else None,
                source=entry.source if entry is not None else None,
                severity="warning" if important else "info",
                cites=positions,
                count=len(positions),
                event=event_id,
                code=meaning,
                example=ctx.links.summaries[positions[0]],
                first=first.time.strftime("%Y-%m-%d %H:%M:%SZ"),
                last=last.time.strftime("%Y-%m-%d %H:%M:%SZ"),
                where=where,
            )
        )
    return results

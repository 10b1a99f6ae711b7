"""The step summary a technician pastes into a ticket (the GUI's *Copy summary*, the text
report): status, code with its name, what the evidence suggests, the cause and hint, and every
piece of evidence the findings about the step cite."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import datetime

from core.esp.hresult import find_hresult
from core.esp.model import EspReport, Step
from core.esp.values import code_text
from core.report.common import (
    display_time,
    item_state_text,
    phase_of,
    setting_note,
    status_words,
    value_shown,
)

MAX_LISTED = 20


def step_facts(
    step: Step,
    fmt_time: Callable[[datetime | None], str] = display_time,
    time_label: str = "UTC",
) -> list[str]:
    """Why the step has its status, its code and the codes of its error events (with their
    names) and its times with their sources — shared by the summary and the text report."""
    lines = [f"Why: {step.status_reason}"] if step.status_reason else []
    if step.hresult:
        lines.append(f"Error: {code_text(int(step.hresult, 16))}")
    codes = Counter(
        code
        for e in step.events
        if e.level in ("Error", "Critical") and (code := find_hresult(e.summary)) is not None
    )
    if codes:
        lines.append(
            "Codes in its error events: "
            + ", ".join(f"{code_text(code)} ({n}×)" for code, n in codes.most_common(3))
        )
    if step.started or step.ended:
        start = fmt_time(step.started) if step.started else "?"
        end = fmt_time(step.ended) if step.ended else "?"
        source = "; ".join(
            f"{what} from {src}"
            for what, src in (("start", step.started_source), ("end", step.ended_source))
            if src
        )
        lines.append(f"Time ({time_label}): {start} → {end}" + (f" ({source})" if source else ""))
    return lines


def step_summary(
    report: EspReport,
    step: Step,
    fmt_time: Callable[[datetime | None], str] = display_time,
    time_label: str = "UTC",
) -> str:
    phase = phase_of(report, step.id)
    status = status_words(step.title, step.status, step.status_text)  # the ESP's own words
    lines = [f"{phase.title + ' › ' if phase else ''}{step.title}: {status}"]
    note = setting_note(report.settings, step)
    if note:
        lines.append(note)
    lines.extend(step_facts(step, fmt_time, time_label))
    device = report.device
    if device.name or device.serial:
        lines.append(f"Device: {device.name or '?'} (serial {device.serial or '?'})")
    if step.hint is not None:
        lines.append(f"Hint: {step.hint.title} — {step.hint.text}")
        if step.hint.source:
            lines.append(f"Read: {step.hint.source}")
    findings = [f for f in report.findings if f.step == step.id]
    for finding in findings:
        lines.append(f"Finding [{finding.severity}]: {finding.title}")
        lines.append(f"  {finding.text}")
        lines.extend(f"  Evidence: {e}" for e in finding.evidence)
    if step.items:
        lines.append("Items:")
        lines.extend(
            f"  - {i.name or i.id} [{i.kind}, {i.scope}]: {item_state_text(i)}"
            f"{' ' + i.hresult if i.hresult else ''}"
            for i in step.items
        )
    if step.events:
        lines.append(f"Events ({len(step.events)}):")
        lines.extend(
            f"  - {fmt_time(e.time)} {e.level} {e.event_id}: {e.summary} ({e.origin})"
            for e in step.events[:MAX_LISTED]
        )
        if len(step.events) > MAX_LISTED:
            lines.append(f"  … and {len(step.events) - MAX_LISTED} more")
    if step.logs:
        lines.append(f"Log lines ({len(step.logs)}):")
        shown = [g for g in step.logs if g.severity != "info"][:MAX_LISTED] or list(
            step.logs[:MAX_LISTED]
        )
        lines.extend(
            f"  - {fmt_time(g.time) if g.time else '?'} {g.severity} "
            f"{(g.message.splitlines() or [''])[0][:200]} ({g.origin})"
            for g in shown
        )
    if step.registry:
        lines.append("Registry:")
        for ref in step.registry:
            lines.append(f"  {ref.path}  ({ref.origin})")
            lines.extend(f"    {v.name or '(Default)'} = {value_shown(v)}" for v in ref.values)
    lines.append(f"Source: {report.source.path}")
    return "\n".join(lines) + "\n"

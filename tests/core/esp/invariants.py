"""One reusable check: a step shows everything that explains it.

For every finding about a step, each piece of evidence it cites that has a place (an event,
a log or dump line, a registry key) is listed in that step's events / logs / registry;
cited events and log lines sit in the timeline tied to a step that lists them; and the
step's summary text carries the status, the code and all the cited evidence.
Used by every scenario test (through the scenario ``run`` fixture) and by the real captures.
"""

from __future__ import annotations

from core.esp.citations import RECORD_KEY, RECORD_PREFIX, evidence_origin, is_placed
from core.esp.model import EspReport, Step
from core.report.summary import step_summary


def _listed(step: Step, origin: str) -> str | None:
    """Which view of the step lists ``origin`` (events, logs, registry), if any."""
    if any(e.origin == origin for e in step.events):
        return "events"
    if any(g.origin == origin for g in step.logs):
        return "logs"
    folded = origin.casefold()
    if any(r.origin == origin or r.path.casefold() == folded for r in step.registry):
        return "registry"
    return None


def assert_steps_explain_themselves(report: EspReport) -> None:
    timeline = {entry.origin: entry for entry in report.timeline if entry.kind != "registry"}
    problems: list[str] = []
    for finding in report.findings:
        if finding.step is None:
            continue
        step = report.step(finding.step)
        if step is None:  # a silent step (not shown): nothing to list it in
            continue
        summary = step_summary(report, step)
        if step.hresult and step.hresult not in summary:
            problems.append(f"{step.id}: summary lacks its code {step.hresult}")
        for text in finding.evidence:
            if text not in summary:
                problems.append(f"{step.id}: summary lacks cited evidence {text[:80]!r}")
            origin = RECORD_KEY if text.startswith(RECORD_PREFIX) else evidence_origin(text)
            if not is_placed(origin):
                continue  # a side file or the profile: named in the summary, no step view
            view = _listed(step, origin)
            if view is None:
                problems.append(f"{step.id}: {finding.id} cites {origin!r}, the step lists none")
                continue
            if view in ("events", "logs"):
                entry = timeline.get(origin)
                if entry is None and view == "events":
                    problems.append(f"{step.id}: cited {origin} is not in the timeline")
                elif entry is not None:
                    owner = report.step(entry.step) if entry.step else None
                    if owner is None or _listed(owner, origin) is None:
                        problems.append(f"{step.id}: timeline entry {origin} has no step")
    assert not problems, "\n".join(problems[:20])

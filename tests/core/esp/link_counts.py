"""How much of a capture's ESP-relevant evidence the analysis ties to a step.

``python -m tests.core.esp.link_counts CAPTURE…`` prints, per capture: ESP-relevant events
tied to a step / all ESP-relevant events, IME log lines tied / all IME lines, and timeline
entries with a step. An event is ESP-relevant when the event catalogue ties it to an ESP step,
it is a Shell-Core breadcrumb named after an ESP step, or it is a DeviceManagement error or
warning: what a technician wants placed.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from core.esp.analyze import analyze
from core.esp.knowledge import load
from core.esp.model import EspReport
from core.evidence import Evidence, load_evidence


@dataclass(frozen=True)
class LinkCounts:
    relevant_events: int
    tied_events: int
    ime_lines: int
    tied_ime_lines: int
    timeline: int
    tied_timeline: int


def _relevant(evidence: Evidence) -> set[str]:
    knowledge = load()
    origins: set[str] = set()
    for event in evidence.events:
        alias = knowledge.alias_of(event.channel)
        if alias is None:
            continue
        definition = knowledge.events.get((alias, event.event_id))
        shell = alias == "shell_core" and any(
            p.search(event.data.get("Name", "")) for p, _ in knowledge.shell_core_names
        )
        dm_problem = alias.startswith("dm_") and event.level in (1, 2, 3)
        catalogued = alias != "shell_core" and definition is not None
        if shell or dm_problem or (catalogued and definition is not None and definition.steps):
            origins.add(event.origin)
    return origins


def link_counts(evidence: Evidence, report: EspReport) -> LinkCounts:
    relevant = _relevant(evidence)
    tied = {e.origin for e in report.timeline if e.kind == "event" and e.step is not None}
    ime = {
        line.origin
        for line in evidence.logs
        if "intunemanagementextension" in line.file.casefold()
        or "appworkload" in line.file.casefold()
    }
    tied_logs = {g.origin for s in report.steps for g in s.logs} | {
        e.origin for e in report.timeline if e.kind == "log" and e.step is not None
    }
    return LinkCounts(
        relevant_events=len(relevant),
        tied_events=len(relevant & tied),
        ime_lines=len(ime),
        tied_ime_lines=len(ime & tied_logs),
        timeline=len(report.timeline),
        tied_timeline=sum(1 for e in report.timeline if e.step is not None),
    )


def main(paths: list[str]) -> None:
    for path in paths:
        evidence = load_evidence(Path(path))
        c = link_counts(evidence, analyze(evidence))
        print(
            f"{Path(path).parent.name}: ESP-relevant events tied {c.tied_events}/"
            f"{c.relevant_events}; IME lines tied {c.tied_ime_lines}/{c.ime_lines}; "
            f"timeline entries with a step {c.tied_timeline}/{c.timeline}"
        )


if __name__ == "__main__":
    main(sys.argv[1:])

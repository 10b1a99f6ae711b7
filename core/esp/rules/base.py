"""What every rule shares: the read-only analysis context, the :class:`Rule` unit, and
:func:`make`, which turns a rule's values into a :class:`Finding` with the texts, severity,
confidence and source from ``resources/knowledge/rules.toml``.

A rule is a function of the context that returns findings. It declares which parts of the
context it reads (``reads``) and which ``rules.toml`` parameters it uses (``params``); the
registry (:mod:`core.esp.rules.registry`) checks both against the knowledge files and a test
checks ``reads`` against the function's code. Rules never change the context; a rule that needs
other rules' results is a :class:`SummaryRule` and receives them as an argument.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from core.esp.device import DeviceFacts
from core.esp.device_prep import DevicePrepFacts
from core.esp.evidence_links import EventLinks
from core.esp.items import ItemInfo
from core.esp.knowledge import Knowledge, RuleDef, StepDef
from core.esp.model import Confidence, Finding, Hint, Severity, Status
from core.esp.status import RecordPhase
from core.events.model import EventRecord
from core.logs.model import LogLine

#: The parts of :class:`Context` a rule may declare in ``reads``.
INPUTS = frozenset(
    {
        "knowledge",
        "facts",
        "record",
        "phases",
        "steps",
        "items",
        "events",
        "links",
        "notes",
        "logs",
        "device_prep",
    }
)


@dataclass(slots=True)
class StepState:
    definition: StepDef
    status: Status = "unknown"
    text: str | None = None
    hresult: int | None = None
    state: str | None = None  # raw word from the ESP record
    started: datetime | None = None
    ended: datetime | None = None
    source: str = "none"  # record | derived | skipped | none


@dataclass(slots=True)
class PhaseState:
    id: str
    title: str
    status: Status = "unknown"
    text: str | None = None
    started: datetime | None = None
    ended: datetime | None = None
    skip_reason: str | None = None


@dataclass(slots=True)
class Context:
    """Everything the rules may read; built once by the analysis, never changed by a rule."""

    knowledge: Knowledge
    facts: DeviceFacts
    record: dict[str, RecordPhase]
    phases: dict[str, PhaseState]
    steps: dict[str, StepState]
    items: list[ItemInfo]
    events: list[EventRecord]
    links: EventLinks
    notes: list[str] = field(default_factory=list)
    logs: list[LogLine] = field(default_factory=list)
    device_prep: DevicePrepFacts | None = None
    #: What helpers derive from the fields above, computed once for all the rules that ask
    #: (e.g. the failure codes every code signature searches); the fields never change.
    memo: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def log_lines(self, item_id: str, limit: int = 4) -> list[str]:
        """IME log lines about an item that say what went wrong (errors, warnings, detection
        results), as ``origin: message`` evidence."""
        folded = item_id.casefold()
        found: list[str] = []
        for line in self.logs:
            message = line.message
            if folded not in message.casefold():
                continue
            if line.type in (2, 3) or "detect" in message.casefold():
                first = " ".join(message.split())
                found.append(f"{line.origin}: {first[:260]}")
        return found[-limit:]

    def find_events(self, refs: Iterable[str]) -> list[int]:
        """Event positions for ``alias:id`` references."""
        found: list[int] = []
        for ref in refs:
            alias, _, number = str(ref).partition(":")
            found.extend(self.links.index.get((alias, int(number)), []))
        return sorted(found)

    def event_line(self, position: int) -> str:
        event = self.events[position]
        return f"{event.origin}: {self.links.summaries[position]}"

    def step_title(self, step_id: str) -> str:
        step = self.steps.get(step_id)
        if step is None:
            return step_id
        phase = self.phases.get(step.definition.phase)
        prefix = f"{phase.title} › " if phase is not None else ""
        return prefix + step.definition.title

    def param(self, rule_id: str, name: str) -> Any:
        """A ``rules.toml`` parameter of ``rule_id`` (the registry checks it exists)."""
        return self.knowledge.rule(rule_id).params[name]


@dataclass(frozen=True, slots=True)
class Found:
    finding: Finding
    hint: Hint | None
    #: event positions this finding explains (kept out of the generic MDM groups)
    cites: tuple[int, ...] = ()
    #: (code, step) pairs this finding explains (kept out of the generic code findings)
    explains: tuple[tuple[int, str | None], ...] = ()
    #: tracked items (``kind:id``) this finding explains (kept out of the generic item findings)
    about: tuple[str, ...] = ()


Check = Callable[[Context], list[Found]]
SummaryCheck = Callable[[Context, Sequence[Found]], list[Found]]


@dataclass(frozen=True, slots=True)
class Rule:
    """One registered rule: the finding ids it emits, what it reads, its check."""

    name: str
    emits: tuple[str, ...]
    reads: frozenset[str]
    check: Check
    params: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SummaryRule:
    """A rule that runs after the others and reads their findings explicitly."""

    name: str
    emits: tuple[str, ...]
    reads: frozenset[str]
    check: SummaryCheck
    params: tuple[str, ...] = ()


def rule(*emits: str, reads: Iterable[str], params: Iterable[str] = ()) -> Callable[[Check], Rule]:
    """Wrap a check function as a :class:`Rule` (registered by name in the registry)."""

    def wrap(check: Check) -> Rule:
        return Rule(check.__name__, emits, frozenset(reads), check, tuple(params))

    return wrap


def summary_rule(
    *emits: str, reads: Iterable[str], params: Iterable[str] = ()
) -> Callable[[SummaryCheck], SummaryRule]:
    def wrap(check: SummaryCheck) -> SummaryRule:
        return SummaryRule(check.__name__, emits, frozenset(reads), check, tuple(params))

    return wrap


class _Fields(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "?"


def _format(template: str, values: dict[str, Any]) -> str:
    return string.Formatter().vformat(template, (), _Fields(values))


def make(
    ctx: Context,
    rule_id: str,
    step: str | None,
    evidence: Iterable[str],
    *,
    hint: str | None = None,
    source: str | None = None,
    severity: Severity | None = None,
    confidence: Confidence | None = None,
    cites: Iterable[int] = (),
    explains: Iterable[tuple[int, str | None]] = (),
    about: Iterable[str] = (),
    **values: Any,
) -> Found:
    """A finding of ``rule_id`` with its ``rules.toml`` texts filled from ``values``."""
    definition: RuleDef = ctx.knowledge.rule(rule_id)
    title = _format(definition.title, values)
    text = _format(definition.text, values)
    hint_text = hint if hint is not None else definition.hint
    hint_source = source if source is not None else definition.source
    full = f"{text} {hint_text}" if hint_text else text
    finding = Finding(
        rule_id,
        severity or definition.severity,
        step,
        title,
        full,
        tuple(evidence),
        hint_source,
        confidence or definition.confidence,
    )
    return Found(
        finding,
        Hint(rule_id, title, hint_text, hint_source) if hint_text else None,
        tuple(cites),
        tuple(explains),
        tuple(about),
    )


def item_evidence(item: ItemInfo) -> list[str]:
    return [key.origin or key.path for key in item.keys[:5]]


def item_ref(item: ItemInfo) -> str:
    return f"{item.kind}:{item.id.casefold()}"


#: Step states after which a failure event is history, not the problem.
DONE: tuple[Status, ...] = ("succeeded", "not_required", "skipped", "not_started")


def names(values: Sequence[str], limit: int = 5) -> str:
    shown = ", ".join(values[:limit])
    return shown + (f" and {len(values) - limit} more" if len(values) > limit else "")

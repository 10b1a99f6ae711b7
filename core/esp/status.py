"""The ESP's own progress record: ``AutopilotSettings\\<Phase>Category.Status``.

Windows does not document this record; two JSON shapes exist (decoded by the community:
https://endpointweekly.com/blog/autopilot-esp-category-status-registry-decoded.html):

* nested — ``{"categoryState": "failed", "categoryStatusText": "Error",
  "AccountSetup.CertificatesSubcategory": {"subcategoryState": "failed",
  "subcategoryStatusText": "Certificates (Error)"}, …}``
* flat — ``{"categorySucceeded": true, "categoryStatusMessage": "…",
  "CertificatesSubcategory": "Certificates (1 of 1 applied)", …}``

Registry dumps may mangle the quoting, so a value that is not valid JSON is read with regular
expressions instead (and a :class:`Problem` says so).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from core.esp.hresult import find_hresult
from core.esp.knowledge import Knowledge, PhaseDef
from core.esp.model import STATUSES, Status
from core.problems import Problem
from core.registry.model import RegistryView

AUTOPILOT_SETTINGS = r"HKLM\SOFTWARE\Microsoft\Provisioning\AutopilotSettings"


@dataclass(frozen=True, slots=True)
class RecordStep:
    """One step as the ESP's progress record gives it."""

    id: str
    state: str | None  # the raw word (``failedFromPreviousSubcategory``) or None (flat shape)
    status: Status
    text: str | None
    hresult: int | None


@dataclass(slots=True)
class RecordPhase:
    """One phase as the ESP's progress record gives it, with its steps."""

    id: str
    shape: str  # nested | flat | regex
    state: str | None
    status: Status
    text: str | None
    steps: dict[str, RecordStep] = field(default_factory=dict)
    origin: str = ""

    @property
    def active(self) -> bool:
        """True when the record shows the phase ran at all (not everything ``not_started``)."""
        if self.status not in ("not_started", "unknown"):
            return True
        return any(s.status not in ("not_started", "unknown") for s in self.steps.values())


def _as_status(value: str) -> Status:
    for status in STATUSES:
        if status == value:
            return status
    return "unknown"


def state_status(state: str | None, knowledge: Knowledge) -> Status:
    if state is None:
        return "unknown"
    mapped = knowledge.json_states.get(state)
    if mapped is None:
        # tolerate case differences (``NotStarted``)
        for word, status in knowledge.json_states.items():
            if word.casefold() == state.casefold():
                mapped = status
                break
    return _as_status(mapped) if mapped is not None else "unknown"


def text_status(text: str | None, knowledge: Knowledge) -> Status:
    """Status implied by a display text (flat shape), ``(n of m …)`` counted."""
    if not text:
        return "unknown"
    for pattern, status in knowledge.text_status:
        if pattern.search(text):
            return _as_status(status)
    counts = re.search(r"\((\d+) of (\d+)", text)
    if counts:
        done, total = int(counts.group(1)), int(counts.group(2))
        return "succeeded" if done >= total else "in_progress"
    return "unknown"


def _full_id(phase_id: str, key: str) -> str:
    return key if "." in key else f"{phase_id}.{key}"


def _aggregate(steps: dict[str, RecordStep]) -> Status:
    statuses = [s.status for s in steps.values()]
    if not statuses:
        return "unknown"
    if "failed" in statuses:
        return "failed"
    if any(s in ("in_progress", "identifying") for s in statuses):
        return "in_progress"
    if all(s in ("succeeded", "not_required") for s in statuses):
        return "succeeded"
    if all(s == "not_started" for s in statuses):
        return "not_started"
    return "unknown"


def _from_object(phase: PhaseDef, doc: dict[str, Any], knowledge: Knowledge) -> RecordPhase:
    steps: dict[str, RecordStep] = {}
    flat = False
    for key, value in doc.items():
        if key.startswith("category"):
            continue
        step_id = _full_id(phase.id, key)
        if isinstance(value, dict):
            state = value.get("subcategoryState")
            raw_text = value.get("subcategoryStatusText")
            text = str(raw_text) if raw_text is not None else None
            state_word = str(state) if state is not None else None
            status = state_status(state_word, knowledge)
            if status == "unknown" or (
                # the ESP keeps a step "inProgress" while its text says Identifying
                status == "in_progress" and text_status(text, knowledge) == "identifying"
            ):
                status = text_status(text, knowledge)
            steps[step_id] = RecordStep(step_id, state_word, status, text, find_hresult(text))
        elif isinstance(value, str):
            flat = True
            steps[step_id] = RecordStep(
                step_id, None, text_status(value, knowledge), value, find_hresult(value)
            )
    state_raw = doc.get("categoryState")
    state = str(state_raw) if state_raw is not None else None
    text_raw = doc.get("categoryStatusText", doc.get("categoryStatusMessage"))
    text = str(text_raw) if text_raw is not None else None
    if state is not None:
        status = state_status(state, knowledge)
    elif doc.get("categorySucceeded") is True:
        status = "succeeded"
    else:
        status = _aggregate(steps)
    if status == "unknown" and text:
        status = text_status(text, knowledge)
    return RecordPhase(phase.id, "flat" if flat else "nested", state, status, text, steps)


@cache  # a record that is not JSON is rare: its patterns are compiled on first need
def _lenient_patterns() -> tuple[re.Pattern[str], ...]:
    """Patterns of the lenient reading: category state, text, succeeded; nested and flat steps."""
    # Texts are captured with a bounded lazy quantifier: ``.*?`` would rescan the rest of the
    # value from every candidate start, quadratic on a long damaged value (fuzzing found one).
    text = r'([^\r\n]{0,512}?)'
    return (
        re.compile(r'"categoryState"\s*:\s*"(\w+)"'),
        re.compile(r'"category(?:StatusText|StatusMessage)"\s*:\s*"' + text + r'"\s*[,}]'),
        re.compile(r'"categorySucceeded"\s*:\s*(true|false)', re.IGNORECASE),
        re.compile(
            r'"([A-Za-z]+(?:\.[A-Za-z]+)?)"\s*:\s*\{\s*"subcategoryState"\s*:\s*"(\w+)"'
            r'(?:\s*,\s*"subcategoryStatusText"\s*:\s*"' + text + r'")?\s*\}'
        ),
        re.compile(r'"([A-Za-z]+(?:\.[A-Za-z]+)?Subcategory)"\s*:\s*"' + text + r'"\s*(?=[,}])'),
    )


#: A real status value is a few KB; the regex fallback reads at most this much of a damaged one.
MAX_REGEX_INPUT = 64 * 1024


def _from_regex(phase: PhaseDef, raw: str, knowledge: Knowledge) -> RecordPhase:
    raw = raw[:MAX_REGEX_INPUT]
    state_rx, text_rx, succeeded_rx, nested_rx, flat_rx = _lenient_patterns()
    doc: dict[str, Any] = {}
    if m := state_rx.search(raw):
        doc["categoryState"] = m.group(1)
    if m := text_rx.search(raw):
        doc["categoryStatusText"] = m.group(1)
    if m := succeeded_rx.search(raw):
        doc["categorySucceeded"] = m.group(1).lower() == "true"
    for m in nested_rx.finditer(raw):
        entry: dict[str, str] = {"subcategoryState": m.group(2)}
        if m.group(3) is not None:
            entry["subcategoryStatusText"] = m.group(3)
        doc[m.group(1)] = entry
    if not any(isinstance(v, dict) for v in doc.values()):
        for m in flat_rx.finditer(raw):
            doc[m.group(1)] = m.group(2)
    record = _from_object(phase, doc, knowledge)
    record.shape = "regex"
    return record


def parse_category(
    phase: PhaseDef, raw: str, knowledge: Knowledge, origin: str = ""
) -> tuple[RecordPhase | None, list[Problem]]:
    """Parse one ``<Phase>Category.Status`` value; ``None`` when nothing usable is in it."""
    problems: list[Problem] = []
    text = raw.strip().strip("\x00")
    record: RecordPhase | None = None
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: nested deeper than json can follow
        doc = None
    if isinstance(doc, dict):
        record = _from_object(phase, doc, knowledge)
    else:
        record = _from_regex(phase, text, knowledge)
        usable = record.state is not None or record.steps
        problems.append(
            Problem(
                origin.split(":", 1)[0] or "registry",
                f"{AUTOPILOT_SETTINGS}\\{phase.category_value}",
                "the ESP status record is not valid JSON; read it leniently"
                if usable
                else "the ESP status record is not valid JSON and holds no recognisable state",
            )
        )
        if not usable:
            return None, problems
    record.origin = origin
    return record, problems


def read_record(
    registry: RegistryView, knowledge: Knowledge
) -> tuple[dict[str, RecordPhase], list[Problem]]:
    """All three phase records that exist in the registry, by phase id."""
    key = registry.key(AUTOPILOT_SETTINGS)
    found: dict[str, RecordPhase] = {}
    problems: list[Problem] = []
    if key is None:
        return found, problems
    for phase in knowledge.phases:
        value = key.value(phase.category_value)
        if value is None or not isinstance(value.data, str) or not value.data.strip():
            continue
        record, issues = parse_category(phase, value.data, knowledge, value.origin)
        problems.extend(issues)
        if record is not None:
            found[phase.id] = record
    return found, problems

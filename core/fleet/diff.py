"""Compare two ESP reports: the same device before and after a fix, or a good and a bad one.

:func:`diff_reports` is a pure function over two :class:`~core.esp.model.EspReport`. Phases
and steps are matched by id, items by ``(kind, id)``, findings by ``(id, step)``. The
comparison walks the dataclasses generically: every scalar field is compared (so fields added
to the model later are compared too), nested dataclasses are compared field by field, and
tuples of objects with an ``id`` are matched by id — except the raw evidence (registry keys,
events, histories, timeline, source files), which differs between any two captures and is not
a difference in the ESP. Absolute times always differ between captures; durations are
compared instead.

A change *matters* (exit code 1) when a status, code, deployment mode or ESP setting
differs, an item was added or removed, or an error/warning finding appeared or went away.
Titles, texts, durations and device facts are shown but do not matter on their own.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, fields, is_dataclass
from datetime import datetime
from typing import Any

from core.esp.model import EspReport, Finding, Phase, Step
from core.report.common import verdict

#: Fields that hold raw evidence or provenance: not compared.
EVIDENCE_FIELDS = frozenset({
    "registry", "events", "logs", "history", "timeline", "source", "origin", "evidence",
    "redaction",
    "steps", "phases", "findings", "items",  # handled by their own matching below
})
#: Field names whose change matters on its own.
MATTERING_FIELDS = frozenset({"status", "hresult", "deployment_mode", "autopilot"})
#: Device fields that say *which* device this is (a difference is a note, not a change).
IDENTITY_FIELDS = ("name", "serial")


@dataclass(frozen=True, slots=True)
class Change:
    """One difference: ``where`` (``step DeviceSetup.AppsSubcategory``), ``what`` (a field or
    ``added``/``removed``/``appeared``/``gone``), the values on each side, whether it matters."""

    where: str
    what: str
    a: Any
    b: Any
    matters: bool


@dataclass(frozen=True, slots=True)
class StepRow:
    """One line of the side-by-side view (a phase or a step)."""

    id: str
    title: str
    level: str  # "phase" or "step"
    a_status: str | None  # None: absent on that side
    b_status: str | None
    a_hresult: str | None
    b_hresult: str | None
    a_seconds: float | None
    b_seconds: float | None
    changed: bool


@dataclass(frozen=True, slots=True)
class ReportDiff:
    a: EspReport
    b: EspReport
    changes: tuple[Change, ...]
    rows: tuple[StepRow, ...]
    notes: tuple[str, ...]

    @property
    def differs(self) -> bool:
        """Something that matters differs (the CLI's exit code 1)."""
        return any(change.matters for change in self.changes)

    @property
    def same_device(self) -> bool | None:
        return _same_device(self.a, self.b)


def _seconds(started: datetime | None, ended: datetime | None) -> float | None:
    if started is None or ended is None or ended < started:
        return None
    return (ended - started).total_seconds()


def _same_device(a: EspReport, b: EspReport) -> bool | None:
    known = [
        (getattr(a.device, name), getattr(b.device, name))
        for name in IDENTITY_FIELDS
        if getattr(a.device, name) and getattr(b.device, name)
    ]
    if not known:
        return None
    return all(str(x).strip().lower() == str(y).strip().lower() for x, y in known)


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def _compare_fields(a: Any, b: Any, where: str, matters_all: bool = False) -> Iterator[Change]:
    """Field-by-field changes of two dataclass instances of the same type."""
    for f in fields(a):
        if f.name in EVIDENCE_FIELDS:
            continue
        va, vb = getattr(a, f.name), getattr(b, f.name)
        if isinstance(va, datetime) or isinstance(vb, datetime):
            continue  # absolute times: compared as durations
        if is_dataclass(va) and is_dataclass(vb) and type(va) is type(vb):
            yield from _compare_fields(va, vb, f"{where} › {f.name}", matters_all)
        elif isinstance(va, tuple) and isinstance(vb, tuple):
            yield from _compare_keyed(va, vb, f"{where} › {f.name}")
        elif (_scalar(va) or is_dataclass(va)) and (_scalar(vb) or is_dataclass(vb)):
            if is_dataclass(va) or is_dataclass(vb):
                va = getattr(va, "id", va) if va is not None else None
                vb = getattr(vb, "id", vb) if vb is not None else None
            if va != vb:
                yield Change(where, f.name, va, vb, matters_all or f.name in MATTERING_FIELDS)


def _key(obj: Any) -> Any:
    return (getattr(obj, "kind", None), obj.id) if hasattr(obj, "id") else None


def _label(obj: Any) -> str:
    name = getattr(obj, "name", None) or getattr(obj, "title", None)
    kind = getattr(obj, "kind", None)
    parts = [str(kind)] if kind else []
    parts.append(f"{name} ({obj.id})" if name and name != obj.id else str(obj.id))
    return " ".join(parts)


def _compare_keyed(a: tuple[Any, ...], b: tuple[Any, ...], where: str) -> Iterator[Change]:
    """Tuples of objects with an ``id``: added, removed, and changed by field."""
    if not all(hasattr(x, "id") and is_dataclass(x) for x in (*a, *b)):
        if a != b and all(_scalar(x) for x in (*a, *b)):
            yield Change(where, "values", list(a), list(b), False)
        return
    left = {_key(x): x for x in a}
    right = {_key(x): x for x in b}
    for key, item in left.items():
        other = right.get(key)
        if other is None:
            yield Change(where, "removed", _label(item), None, True)
        else:
            yield from _compare_fields(item, other, f"{where} › {_label(item)}")
    for key, item in right.items():
        if key not in left:
            yield Change(where, "added", None, _label(item), True)


def _phase_or_step_changes(a: Phase | Step, b: Phase | Step, where: str) -> Iterator[Change]:
    yield from _compare_fields(a, b, where)
    sa, sb = _seconds(a.started, a.ended), _seconds(b.started, b.ended)
    if sa != sb and (sa is not None or sb is not None):
        yield Change(where, "duration_seconds", sa, sb, False)


def _steps(a: EspReport, b: EspReport) -> tuple[list[Change], list[StepRow]]:
    changes: list[Change] = []
    rows: list[StepRow] = []
    phases_b = {p.id: p for p in b.phases}
    order = [p.id for p in a.phases] + [p.id for p in b.phases if p.id not in
                                        {q.id for q in a.phases}]
    phases_a = {p.id: p for p in a.phases}
    for phase_id in order:
        pa, pb = phases_a.get(phase_id), phases_b.get(phase_id)
        where = f"phase {phase_id}"
        if pa is not None and pb is not None:
            found = list(_phase_or_step_changes(pa, pb, where))
        else:
            found = [Change(where, "added" if pa is None else "removed",
                            None if pa is None else phase_id, None if pb is None else phase_id,
                            True)]
        changes.extend(found)
        rows.append(_row(pa, pb, "phase", any(c.matters for c in found)))
        steps_a = {s.id: s for s in pa.steps} if pa is not None else {}
        steps_b = {s.id: s for s in pb.steps} if pb is not None else {}
        for step_id in [*steps_a, *(s for s in steps_b if s not in steps_a)]:
            sa, sb = steps_a.get(step_id), steps_b.get(step_id)
            where = f"step {step_id}"
            if sa is not None and sb is not None:
                found = list(_phase_or_step_changes(sa, sb, where))
                found.extend(_compare_keyed(sa.items, sb.items, f"{where} › items"))
            else:
                found = [Change(where, "added" if sa is None else "removed",
                                None if sa is None else sa.title,
                                None if sb is None else sb.title, True)]
            changes.extend(found)
            rows.append(_row(sa, sb, "step", any(c.matters for c in found)))
    return changes, rows


def _row(a: Phase | Step | None, b: Phase | Step | None, level: str, changed: bool) -> StepRow:
    some = a if a is not None else b
    assert some is not None
    return StepRow(
        id=some.id,
        title=some.title,
        level=level,
        a_status=None if a is None else a.status,
        b_status=None if b is None else b.status,
        a_hresult=getattr(a, "hresult", None),
        b_hresult=getattr(b, "hresult", None),
        a_seconds=None if a is None else _seconds(a.started, a.ended),
        b_seconds=None if b is None else _seconds(b.started, b.ended),
        changed=changed,
    )


def _findings(a: EspReport, b: EspReport) -> Iterator[Change]:
    def key(f: Finding) -> tuple[str, str | None]:
        return f.id, f.step

    left = {key(f): f for f in a.findings}
    right = {key(f): f for f in b.findings}
    for k, f in left.items():
        if k not in right:
            yield Change(_finding_where(f), "gone", f.title, None, f.severity != "info")
    for k, f in right.items():
        if k not in left:
            yield Change(_finding_where(f), "appeared", None, f.title, f.severity != "info")
        else:
            yield from _compare_fields(left[k], f, _finding_where(f))


def _finding_where(finding: Finding) -> str:
    where = f"finding {finding.id} ({finding.severity})"
    return f"{where} at {finding.step}" if finding.step else where


def diff_reports(a: EspReport, b: EspReport) -> ReportDiff:
    """Everything that differs between ``a`` (before / good) and ``b`` (after / bad)."""
    changes: list[Change] = []
    changes.extend(_compare_fields(a.device, b.device, "device"))
    changes = [
        Change(c.where, c.what, c.a, c.b, False) if c.what in IDENTITY_FIELDS else c
        for c in changes
    ]
    changes.extend(_compare_fields(a.settings, b.settings, "settings", matters_all=True))
    step_changes, rows = _steps(a, b)
    changes.extend(step_changes)
    changes.extend(_findings(a, b))
    notes: list[str] = []
    same = _same_device(a, b)
    if same is False:
        notes.append(
            "The captures come from different devices: differences may be the devices', "
            "not a change on one device."
        )
    elif same is None:
        notes.append("Whether both captures come from the same device is not known.")
    va, vb = verdict(a), verdict(b)
    if va.line != vb.line:
        notes.append(f"A: {va.line}")
        notes.append(f"B: {vb.line}")
    return ReportDiff(a, b, tuple(changes), tuple(rows), tuple(notes))

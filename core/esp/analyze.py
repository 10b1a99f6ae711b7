"""The analysis entry point: :func:`analyze` turns :class:`Evidence` into an :class:`EspReport`.

Order of trust for a step's state:

1. the ESP's own record (``AutopilotSettings\\*Category.Status``) when it shows the phase ran;
2. a skipped phase (SkipDeviceStatusPage / SkipUserStatusPage, no user phase in
   self-deploying / pre-provisioning);
3. what the other evidence implies (tracking keys, snapshots, events);
4. the record's ``notStarted`` when nothing contradicts it;
5. ``unknown`` — never success without evidence.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from core.esp.citations import Cited, attach_cited, step_logs
from core.esp.device import DeviceFacts, analyze_device
from core.esp.device_prep import analyze_device_prep
from core.esp.evidence_links import (
    EventLinks,
    event_code,
    event_ref,
    item_tokens,
    link_events,
    link_log_lines,
    step_registry,
)
from core.esp.hresult import fmt
from core.esp.ime import apply_phases, ime_evidence, merge_items, proven_lines, step_times
from core.esp.items import EST, ItemCollector, ItemInfo, app_names
from core.esp.knowledge import Knowledge, load
from core.esp.model import (
    PHASE_IDS,
    SEVERITY_ORDER,
    EspReport,
    Hint,
    Phase,
    PhaseId,
    SourceSummary,
    Status,
    Step,
)
from core.esp.rules import Context, Found, PhaseState, StepState, run_rules
from core.esp.status import RecordPhase, read_record
from core.esp.timeline import build_timeline
from core.esp.values import duration_text
from core.events.model import EventRecord
from core.evidence import Evidence
from core.problems import Problem
from core.registry.values import as_flag, value_of

log = logging.getLogger(__name__)

FINAL: tuple[Status, ...] = ("succeeded", "failed", "not_required", "skipped")


def _aggregate(statuses: list[Status]) -> Status:
    if not statuses:
        return "unknown"
    if all(s == "skipped" for s in statuses):
        return "skipped"
    if "failed" in statuses:
        return "failed"
    if "identifying" in statuses:
        return "identifying" if all(s != "in_progress" for s in statuses) else "in_progress"
    if "in_progress" in statuses:
        return "in_progress"
    if all(s in ("succeeded", "not_required") for s in statuses):
        return "succeeded"
    if all(s == "not_started" for s in statuses):
        return "not_started"
    if any(s in ("succeeded", "not_required") for s in statuses) and all(
        s in ("succeeded", "not_required", "not_started") for s in statuses
    ):
        return "in_progress"
    return "unknown"


def _items_status(all_items: list[ItemInfo]) -> tuple[Status, int | None]:
    items = [i for i in all_items if i.tracked]
    tracked = [i for i in items if i.kind != "provider" or i.step.startswith("DevicePreparation")]
    providers = [
        i for i in items if i.kind == "provider" and not i.step.startswith("DevicePreparation")
    ]
    failed = [i for i in tracked if i.outcome == "failed"]
    if failed:
        return "failed", next((i.code for i in failed if i.code is not None), None)
    if providers and any(p.outcome == "pending" for p in providers) and not tracked:
        return "identifying", None
    if tracked and all(i.outcome == "done" for i in tracked):
        return "succeeded", None
    if any(i.outcome == "pending" for i in tracked):
        return "in_progress", None
    return "unknown", None


def _events_status(
    positions: list[int], events: list[EventRecord], links: EventLinks
) -> tuple[Status, int | None]:
    """Last ESP-specific start/success/failure event of a step decides.

    Generic MDM events (command failures, SCEP, MSI, enrollment faults) never do: they happen
    on every managed device, ESP or not, and only annotate the step.
    """
    status: Status = "unknown"
    code: int | None = None
    for position in positions:
        if not links.decides[position]:
            continue
        outcome = links.outcomes[position]
        if outcome == "failure":  # the last failure or success wins: retries can succeed
            status, code = "failed", event_code(events[position])
        elif outcome == "success":
            status, code = "succeeded", None
        elif outcome == "start" and status in ("unknown", "succeeded"):
            status = "in_progress"
    return status, code


def _completed_flag(evidence: Evidence, owner: str) -> bool | None:
    key = evidence.registry.key(f"{EST}\\{owner}\\Setup")
    return None if key is None else as_flag(value_of(key, "HasProvisioningCompleted"))


def _skip_reason(phase_id: str, facts: DeviceFacts) -> str | None:
    settings = facts.settings
    mode = facts.device.deployment_mode
    if mode == "device_preparation":
        return "Windows Autopilot device preparation does not use the classic ESP phases"
    if phase_id in ("DevicePreparation", "DeviceSetup") and settings.skip_device_status_page:
        return "SkipDeviceStatusPage is set (0xFFFFFFFF)"
    if phase_id == "AccountSetup":
        if settings.skip_user_status_page:
            return "SkipUserStatusPage is set (0xFFFFFFFF)"
        if mode == "self_deploying":
            return "self-deploying mode has no user phase"
        if mode == "pre_provisioning":
            return "pre-provisioning technician flow has no user phase"
    return None


def _decide_steps(
    knowledge: Knowledge,
    record: dict[str, RecordPhase],
    facts: DeviceFacts,
    items: list[ItemInfo],
    evidence: Evidence,
    links: EventLinks,
) -> tuple[dict[str, PhaseState], dict[str, StepState], list[str]]:
    phases: dict[str, PhaseState] = {}
    steps: dict[str, StepState] = {}
    notes: list[str] = []
    items_by_step: dict[str, list[ItemInfo]] = {}
    for item in items:
        items_by_step.setdefault(item.step, []).append(item)
    completed = {"DeviceSetup": _completed_flag(evidence, "Device")}
    for sid in facts.user_sids:
        if _completed_flag(evidence, sid):
            completed["AccountSetup"] = True

    for phase in knowledge.phases:
        state = PhaseState(phase.id, phase.title)
        phases[phase.id] = state
        rec = record.get(phase.id)
        derived: dict[str, tuple[Status, int | None]] = {}
        for step_def in knowledge.steps_of(phase.id):
            status, code = _items_status(items_by_step.get(step_def.id, []))
            if status == "unknown":
                status, code = _events_status(
                    links.by_step.get(step_def.id, []), evidence.events, links
                )
            if status == "unknown" and completed.get(phase.id) and step_def.visible:
                status = "succeeded"
            derived[step_def.id] = (status, code)
        has_derived = any(s != "unknown" for s, _ in derived.values())
        skip = _skip_reason(phase.id, facts)
        use_record = rec is not None and (rec.active or not has_derived)
        if rec is not None and not rec.active and has_derived and skip is None:
            notes.append(
                f"The ESP record says {phase.title} has not started, but other evidence "
                "shows activity; the steps are derived from that evidence."
            )
        if rec is not None and not rec.active and skip is not None:
            use_record = False
        for step_def in knowledge.steps_of(phase.id):
            step = StepState(step_def)
            steps[step_def.id] = step
            rec_step = rec.steps.get(step_def.id) if rec is not None and use_record else None
            if rec_step is not None:
                step.status, step.text, step.state = rec_step.status, rec_step.text, rec_step.state
                step.hresult, step.source = rec_step.hresult, "record"
            elif skip is not None and (rec is None or not rec.active):
                step.status, step.source = "skipped", "skipped"
            elif use_record and rec is not None and rec.active:
                step.status, step.source = "unknown", "none"  # the record is silent on this step
                status, code = derived[step_def.id]
                if status != "unknown":
                    step.status, step.hresult, step.source = status, code, "derived"
            else:
                status, code = derived[step_def.id]
                if status == "unknown" and rec is not None and use_record:
                    status = rec.status if rec.status == "not_started" else "unknown"
                step.status, step.hresult = status, code
                step.source = "derived" if status != "unknown" else "none"
        visible = [steps[s.id].status for s in knowledge.steps_of(phase.id, visible_only=True)]
        if skip is not None and (rec is None or not rec.active):
            state.status, state.skip_reason = "skipped", skip
        elif use_record and rec is not None:
            state.status = rec.status if rec.status != "unknown" else _aggregate(visible)
            state.text = rec.text
        else:
            state.status = _aggregate(visible)
    if not record and facts.device.deployment_mode != "device_preparation":
        notes.append(
            "The ESP's own status record (AutopilotSettings\\*Category.Status) is "
            "missing; step states are derived from other evidence or unknown."
        )
    return phases, steps, notes


_CATEGORY_DURATIONS = {
    "SecurityPoliciesSubcategory": "PolicyDuration",
    "CertificatesSubcategory": "CertificatesDuration",
    "NetworkConnectionsSubcategory": "NetworkingDuration",
    "AppsSubcategory": "ApplicationsDuration",
}


def _times(
    steps: dict[str, StepState],
    phases: dict[str, PhaseState],
    items: list[ItemInfo],
    events_by_step: dict[str, list[int]],
    events: list[EventRecord],
    facts: DeviceFacts,
    log_times: dict[str, list[datetime]],
) -> dict[str, tuple[str | None, str | None]]:
    """Start / end of every step from every source that has them; returns the sources."""
    spans: dict[str, list[tuple[datetime, str]]] = {}
    for item in items:
        spans.setdefault(item.step, []).extend(
            (h.time, "tracked item history (ESPTrackingInfo snapshots / IME registry)")
            for h in item.history
        )
    for step_id, positions in events_by_step.items():
        spans.setdefault(step_id, []).extend((events[p].time, "linked events") for p in positions)
    for step_id, times in log_times.items():
        spans.setdefault(step_id, []).extend((t, "linked log lines") for t in times)
    sources: dict[str, tuple[str | None, str | None]] = {}
    for step_id, found in spans.items():
        step = steps.get(step_id)
        if step is None or not found:
            continue
        first, last = min(found), max(found)
        step.started = first[0]
        ended = last if step.status in FINAL else None
        step.ended = ended[0] if ended else None
        sources[step_id] = (first[1], ended[1] if ended else None)
    for step_id, step in steps.items():
        if step.started is None:
            found_span = _first_sync_span(step_id, facts)
            if found_span is not None:
                step.started, end, name = found_span
                step.ended = end if step.status in FINAL else None
                source = f"FirstSync Timestamp and {name}"
                sources[step_id] = (source, source if step.ended else None)
    for phase_id, phase in phases.items():
        starts = [s.started for s in steps.values() if s.definition.phase == phase_id and s.started]
        ends = [s.ended for s in steps.values() if s.definition.phase == phase_id and s.ended]
        if phase_id == "AccountSetup":
            # Several users' first syncs: which sign-in this ESP showed is not known, and the
            # earliest may be days before it (another user's), so only a single one counts.
            stamped = [u.timestamp for u in facts.user_first_sync if u.timestamp is not None]
            if len(stamped) == 1:
                starts += stamped
        phase.started = min(starts) if starts else None
        if phase.status in FINAL and ends:
            phase.ended = max(ends)
    return sources


def _first_sync_span(step_id: str, facts: DeviceFacts) -> tuple[datetime, datetime, str] | None:
    """Start and end of an Account-setup category from the one user's FirstSync
    ``Timestamp`` and the category's ``*Duration`` (only when a single user has them)."""
    phase, _, sub = step_id.partition(".")
    name = _CATEGORY_DURATIONS.get(sub)
    if phase != "AccountSetup" or name is None:
        return None
    users = [u for u in facts.user_first_sync if u.timestamp and u.durations.get(name)]
    if len(users) != 1 or users[0].timestamp is None:
        return None
    start = users[0].timestamp
    return start, start + timedelta(seconds=users[0].durations[name]), name


def _first_sync_note(step_id: str, facts: DeviceFacts) -> str | None:
    """What FirstSync says about how long an Account-setup category ran."""
    phase, _, sub = step_id.partition(".")
    name = _CATEGORY_DURATIONS.get(sub)
    if phase != "AccountSetup" or name is None:
        return None
    spans = [u.durations[name] for u in facts.user_first_sync if u.durations.get(name)]
    if not spans:
        return None
    return f"FirstSync records {name} {duration_text(max(spans))} for this category"


def _recovered(step_items: list[ItemInfo], positions: list[int], links: EventLinks) -> str | None:
    """A failure a later attempt recovered (retry, Try again, reset, second sign-in)."""
    for item in step_items:
        statuses = [h.status for h in sorted(item.history, key=lambda h: h.time)]
        failed_at = next(
            (n for n, word in enumerate(statuses) if word in ("error", "failed")), None
        )
        if failed_at is not None and item.outcome == "done":
            return (
                f"recovered: {item.name or item.id} failed in an earlier attempt "
                f"({len(statuses)} recorded states) and completed later"
            )
    outcomes = [links.outcomes[p] for p in positions if links.decides[p]]
    if "failure" in outcomes and outcomes and outcomes[-1] == "success":
        return "recovered: an earlier attempt failed and a later one succeeded (ESP events)"
    return None


def _suggestion(
    step_id: str,
    step_items: list[ItemInfo],
    positions: list[int],
    events: list[EventRecord],
    started: datetime | None,
) -> str | None:
    """What a step's own evidence points to when nothing decides its status."""
    errors = [p for p in positions if events[p].level in (1, 2)]
    parts: list[str] = []
    if errors:
        codes = sorted({fmt(c) for p in errors if (c := event_code(events[p])) is not None})
        parts.append(
            f"it failed ({len(errors)} linked error event(s)"
            + (f": {', '.join(codes[:3])}" if codes else "")
            + ")"
        )
    done = [i for i in step_items if i.outcome == "done"]
    failed = [i for i in step_items if i.outcome == "failed"]
    if failed:
        parts.append(f"it failed ({len(failed)} of its items failed)")
    elif done:
        parts.append(f"it progressed ({len(done)} of its {len(step_items)} items completed)")
    if started is not None and not parts:
        parts.append("it ran (its evidence gives a start time)")
    return "; ".join(parts) if parts else None


def _step_reason(
    step: StepState,
    phase: PhaseState,
    record: dict[str, RecordPhase],
    suggestion: str | None,
    first_sync: str | None,
    recovered: str | None,
    linked: str = "",
) -> str:
    phase_id = step.definition.phase
    rec = record.get(phase_id)
    if step.status == "not_started" and rec is not None and not rec.active:
        reason = _not_started_reason(phase_id, record)
    elif step.source == "skipped":
        reason = f"skipped: {phase.skip_reason}" if phase.skip_reason else "skipped"
    elif step.source == "record":
        reason = f"the ESP's own record says {step.state or step.status}"
        if step.state == "failedFromPreviousSubcategory":
            reason = "the ESP's own record says an earlier step of this phase failed"
    elif step.source == "derived":
        reason = "derived from the step's tracked items and ESP events (no ESP record for it)"
    elif rec is None:
        reason = "the capture holds no ESP record for this phase"
    else:
        reason = "the ESP's record is silent on this step"
    if step.status == "unknown":
        if suggestion:
            reason += f"; its evidence suggests: {suggestion}"
        elif linked:
            reason += f"; its {linked} do not say how it ended"
        else:
            reason += "; no other evidence in the capture names this step"
    return "; ".join(part for part in (reason, first_sync, recovered) if part)


def _not_started_reason(phase_id: str, record: dict[str, RecordPhase]) -> str:
    order = {pid: n for n, pid in enumerate(PHASE_IDS)}
    later = [
        pid
        for pid, other in record.items()
        if other.active and order.get(_phase_id(pid), 0) > order.get(_phase_id(phase_id), 0)
    ]
    reason = "the ESP's own record says this phase did not start"
    if later:
        reason += (
            " although a later phase ran: the ESP did not show it in this enrollment (for "
            "example an enrollment after OOBE, where only Account setup runs)"
        )
    return reason


def _phase_reason(phase: PhaseState, record: dict[str, RecordPhase]) -> str:
    rec = record.get(phase.id)
    if phase.skip_reason:
        return f"skipped: {phase.skip_reason}"
    if rec is None:
        if phase.status == "unknown":
            return "the capture holds no ESP record for this phase, and no other evidence places it"
        return "the capture holds no ESP record for this phase; its state comes from its steps"
    if not rec.active:
        return _not_started_reason(phase.id, record)
    return f"the ESP's own record says {rec.status.replace('_', ' ')}"


def _hint_for(step: StepState, found: list[Found], steps: dict[str, StepState]) -> Hint | None:
    if step.status not in ("failed", "in_progress", "identifying"):
        return None
    if step.state == "failedFromPreviousSubcategory":
        earlier = [
            s
            for s in steps.values()
            if s.definition.phase == step.definition.phase
            and s.status == "failed"
            and s.state != "failedFromPreviousSubcategory"
        ]
        if earlier:
            cause = earlier[0].definition.title
            return Hint(
                "previous_step_failed",
                f"Blocked by {cause}",
                f'This step did not run because "{cause}" failed; fix that first.',
            )
    ranked = sorted(
        (f for f in found if f.finding.step == step.definition.id and f.hint is not None),
        key=lambda f: SEVERITY_ORDER[f.finding.severity],
    )
    return ranked[0].hint if ranked else None


def _phase_id(text: str) -> PhaseId:
    for phase_id in PHASE_IDS:
        if phase_id == text:
            return phase_id
    raise ValueError(f"steps.toml names an unknown phase {text!r}")


def analyze(evidence: Evidence) -> EspReport:
    """Rebuild the ESP from ``evidence`` (pure: reads nothing but the knowledge files)."""
    knowledge = load()
    problems: list[Problem] = list(evidence.problems)
    record, record_problems = read_record(evidence.registry, knowledge)
    problems.extend(record_problems)
    account = record.get("AccountSetup")
    facts = analyze_device(
        evidence.registry, evidence.events, evidence.side_files, record, knowledge, evidence.logs
    )

    # The IME log as evidence (core.esp.ime): its clock, its items merged with the registry's,
    # and below, phase states and times where the ESP record is missing.
    ime = ime_evidence(evidence)
    problems.extend(ime.problems)
    collector = ItemCollector(
        evidence.registry,
        knowledge,
        app_names(ime.logs),
        account_active=account is not None and account.active,
    )
    items = collector.collect()
    facts.settings = merge_items(ime, items, facts.settings)
    users = sorted(set(facts.user_sids) | collector.user_sids)
    item_steps: dict[str, str] = {}  # each token of a tracked item → its step, and its id
    item_ids: dict[str, str] = {}
    for i in items:
        if i.kind != "provider":
            for token in item_tokens(i.id):
                item_steps[token], item_ids[token] = i.step, i.id
    log_links = link_log_lines(ime.logs, item_steps, item_ids)

    # First pass: windows from registry history only, to place events named by several steps.
    windows: dict[str, tuple[datetime | None, datetime | None]] = {}
    for item in items:
        if item.history:
            phase_id = item.step.split(".", 1)[0]
            start, end = windows.get(phase_id, (None, None))
            first, last = item.history[0].time, item.history[-1].time
            windows[phase_id] = (
                min(start, first) if start else first,
                max(end, last) if end else last,
            )
    inactive = frozenset(pid for pid, rec in record.items() if not rec.active)
    links = link_events(evidence.events, knowledge, item_steps, windows, inactive)

    phases, steps, notes = _decide_steps(knowledge, record, facts, items, evidence, links)
    log_times: dict[str, list[datetime]] = {
        step_id: [t for p in positions if (t := ime.logs[p].time) is not None]
        for step_id, positions in log_links.by_step.items()
    }
    time_sources = _times(steps, phases, items, links.by_step, evidence.events, facts, log_times)
    apply_phases(ime, {pid: rec.active for pid, rec in record.items()}, phases, steps)
    step_times(ime, steps, phases)

    device_prep, prep_facts = analyze_device_prep(evidence.registry, facts, knowledge)
    ctx = Context(
        knowledge, facts, record, phases, steps, items, evidence.events, links, notes,
        logs=ime.logs, device_prep=prep_facts,
    )
    found = run_rules(ctx)
    citations = attach_cited([f.finding for f in found], evidence, links, log_links, items, facts)

    built_phases: list[Phase] = []
    for phase_def in knowledge.phases:
        phase = phases[phase_def.id]
        built_steps: list[Step] = []
        for step_def in knowledge.steps_of(phase_def.id, visible_only=True):
            step = steps[step_def.id]
            step_items = [i for i in items if i.step == step_def.id]
            cited = citations.get(step_def.id, Cited())
            registry = step_registry(
                evidence.registry,
                step_def.registry,
                (k for i in step_items for k in i.keys),
                users,
                cited.keys,
            )
            event_refs = tuple(
                event_ref(evidence.events[p], links.summaries[p])
                for p in links.by_step.get(step_def.id, [])
            )
            log_refs = step_logs(ime.logs, log_links, step_def.id, cited.logs)
            shown = {r.origin for r in log_refs}
            log_refs += tuple(
                ref for ref in ime.step_logs.get(step_def.id, ()) if ref.origin not in shown
            )
            positions = links.by_step.get(step_def.id, [])
            reason = _step_reason(
                step,
                phase,
                record,
                _suggestion(step_def.id, step_items, positions, evidence.events, step.started),
                _first_sync_note(step_def.id, facts),
                _recovered(step_items, positions, links),
                linked=" and ".join(
                    f"{n} linked {what}"
                    for n, what in ((len(positions), "event(s)"), (len(log_refs), "log line(s)"))
                    if n
                ),
            )
            started_source, ended_source = time_sources.get(step_def.id, (None, None))
            ime_sources = ime.step_sources.get(step_def.id, [None, None])
            built_steps.append(
                Step(
                    id=step_def.id,
                    title=step_def.title,
                    status=step.status,
                    status_text=step.text,
                    hresult=fmt(step.hresult) if step.hresult is not None else None,
                    started=step.started,
                    ended=step.ended,
                    items=tuple(i.freeze() for i in step_items),
                    registry=registry,
                    events=event_refs,
                    hint=_hint_for(step, found, steps),
                    logs=log_refs,
                    status_reason=ime.step_reasons.get(step_def.id) or reason,
                    started_source=(ime_sources[0] or started_source) if step.started else None,
                    ended_source=(ime_sources[1] or ended_source) if step.ended else None,
                )
            )
        built_phases.append(
            Phase(
                id=_phase_id(phase_def.id),
                title=phase.title,
                status=phase.status,
                status_text=phase.text,
                started=phase.started,
                ended=phase.ended,
                steps=tuple(built_steps),
                status_reason=(
                    None if phase.skip_reason else ime.phase_notes.get(phase_def.id, [None])[0]
                ) or _phase_reason(phase, record),
                started_source=ime.phase_notes.get(phase_def.id, [None, None])[1],
                ended_source=ime.phase_notes.get(phase_def.id, [None, None, None])[2],
            )
        )
    timeline = build_timeline(
        evidence.events, links, items, ime.logs, facts, log_links, proven_lines(ime)
    )
    # Lazy backends (hives, the live registry) find damage only when a key is opened, which
    # may have happened during this analysis: collect what they found since loading.
    problems.extend(evidence.late_problems(problems))
    source = SourceSummary(
        kind=evidence.source.kind,
        path=evidence.source.path,
        files=evidence.source.files,
        problems=tuple(problems),
    )
    log.debug(
        "analysed %d events, %d log lines, %d items",
        len(evidence.events),
        len(evidence.logs),
        len(items),
    )
    return EspReport(
        source=source,
        device=facts.device,
        settings=facts.settings,
        phases=(built_phases[0], built_phases[1], built_phases[2]),
        findings=tuple(f.finding for f in found),
        timeline=timeline,
        device_preparation=device_prep,
        log_clock=ime.clock,
    )

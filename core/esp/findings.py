"""Finding rules. Each rule is a function of the analysis context; :data:`RULES` lists them in
priority order (the first error-level finding for a step gives that step its hint). What a rule
says, its severity, source and thresholds live in ``resources/knowledge/rules.toml``.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from core.esp.device import DeviceFacts
from core.esp.evidence_links import EventLinks, event_code
from core.esp.hresult import decode, fmt
from core.esp.items import ItemInfo
from core.esp.knowledge import Knowledge, StepDef
from core.esp.model import Finding, Hint, Severity, Status
from core.esp.status import RecordPhase
from core.events.model import EventRecord
from core.logs.model import LogLine


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
    knowledge: Knowledge
    facts: DeviceFacts
    record: dict[str, RecordPhase]
    phases: dict[str, PhaseState]
    steps: dict[str, StepState]
    items: list[ItemInfo]
    events: list[EventRecord]
    links: EventLinks
    notes: list[str] = field(default_factory=list)
    #: event positions a step finding already explains (kept out of the generic MDM groups)
    cited_events: set[int] = field(default_factory=set)
    logs: list[LogLine] = field(default_factory=list)

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
            alias, _, number = ref.partition(":")
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


@dataclass(frozen=True, slots=True)
class Found:
    finding: Finding
    hint: Hint | None


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
    **values: Any,
) -> Found:
    rule = ctx.knowledge.rule(rule_id)
    title = _format(rule.title, values)
    text = _format(rule.text, values)
    hint_text = hint if hint is not None else rule.hint
    hint_source = source if source is not None else rule.source
    full = f"{text} {hint_text}" if hint_text else text
    chosen: Severity = severity or rule.severity  # type: ignore[assignment]  # validated by tests of rules.toml
    finding = Finding(rule_id, chosen, step, title, full, tuple(evidence), hint_source)
    return Found(finding, Hint(rule_id, title, hint_text, hint_source) if hint_text else None)


def _item_evidence(item: ItemInfo) -> list[str]:
    return [key.origin or key.path for key in item.keys[:5]]


# -- rules ------------------------------------------------------------------------------------


def rule_tpm_attestation(ctx: Context) -> list[Found]:
    step_id = "DevicePreparation.TpmAttestationSubcategory"
    positions = ctx.find_events(ctx.knowledge.rule("tpm_attestation").params.get("events", []))
    step = ctx.steps[step_id]
    if not positions and step.status != "failed":
        return []
    details = [ctx.links.summaries[p] for p in positions[:3]]
    if step.status == "failed":
        details.insert(0, f"the ESP shows {step.text or 'failed'}")
    evidence = [ctx.event_line(p) for p in positions[:10]]
    # attestation retried and the ESP moved on: worth knowing, not the problem
    severity: Severity | None = "info" if step.status in ("succeeded", "not_required") else None
    return [
        make(
            ctx, "tpm_attestation", step_id, evidence, severity=severity, detail="; ".join(details)
        )
    ]


def rule_profile_problem(ctx: Context) -> list[Found]:
    rule = ctx.knowledge.rule("profile_problem")
    positions = ctx.find_events(rule.params.get("events", []))
    details = [ctx.links.summaries[p] for p in positions[:3]]
    evidence = [ctx.event_line(p) for p in positions[:10]]
    code = ctx.facts.profile.get("ErrorCode")
    codes = rule.params.get("ztd_error_codes", [])
    if isinstance(code, (int, str)) and str(code).strip() in {str(c) for c in codes}:
        reason = ctx.facts.profile.get("ErrorReason") or ""
        details.append(f"the downloaded Autopilot profile carries error {code} {reason}".strip())
        evidence.append("AutopilotDDSZTDFile.json: ErrorCode")
    if not details:
        return []
    return [make(ctx, "profile_problem", None, evidence, detail="; ".join(details))]


def _failure_codes(ctx: Context) -> list[tuple[int, str | None, str, list[str]]]:
    """(code, step, where, evidence) from step results and ESP-specific failure events.

    Generic MDM failures (command errors, SCEP, MSI, enrollment faults) are left to
    :func:`rule_mdm_errors`: they do not say what the ESP showed.
    """
    found: list[tuple[int, str | None, str, list[str]]] = []
    for step_id, state in ctx.steps.items():
        if state.hresult is not None and state.status == "failed":
            evidence = [f"ESP status: {state.text}"] if state.text else []
            found.append((state.hresult, step_id, ctx.step_title(step_id), evidence))
    for position, step in enumerate(ctx.links.step_of):
        if not ctx.links.decides[position] or ctx.links.outcomes[position] != "failure":
            continue
        if step is not None and ctx.steps[step].status in _DONE:
            continue  # a failure the ESP got past (a retry succeeded): not the problem
        code = event_code(ctx.events[position])
        if code is not None:
            where = ctx.step_title(step) if step else ctx.events[position].channel
            found.append((code, step, where, [ctx.event_line(position)]))
    return found


def rule_known_errors(ctx: Context) -> list[Found]:
    results: list[Found] = []
    seen: dict[tuple[int, str | None], int] = {}
    for code, step, where, evidence in _failure_codes(ctx):
        key = (code, step)
        if key in seen:
            merged = results[seen[key]]
            more = tuple(dict.fromkeys(merged.finding.evidence + tuple(evidence)))[:20]
            results[seen[key]] = Found(
                Finding(
                    merged.finding.id,
                    merged.finding.severity,
                    merged.finding.step,
                    merged.finding.title,
                    merged.finding.text,
                    more,
                    merged.finding.source,
                ),
                merged.hint,
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
                    title=entry.title,
                    code=fmt(code),
                    where=where,
                    cause=entry.cause,
                )
            )
        else:
            results.append(unknown_code(ctx, code, step, where, evidence))
    return results


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
        code=fmt(code),
        facility=facility,
        facility_number=parts.facility,
        number=parts.number,
        win32=win32,
        where=where,
    )


def rule_esp_timeout(ctx: Context) -> list[Found]:
    rule = ctx.knowledge.rule("esp_timeout")
    timeout = ctx.facts.settings.timeout_minutes or int(
        rule.params.get("default_timeout_minutes", 60)
    )
    step_of = {
        "PolicyDuration": "SecurityPoliciesSubcategory",
        "CertificatesDuration": "CertificatesSubcategory",
        "NetworkingDuration": "NetworkConnectionsSubcategory",
        "ApplicationsDuration": "AppsSubcategory",
    }
    results: list[Found] = []
    done: set[str] = set()
    for user in ctx.facts.user_first_sync:
        durations = ", ".join(f"{k} {v // 60} min" for k, v in user.durations.items())
        for name, seconds in user.durations.items():
            step_id = f"AccountSetup.{step_of.get(name, '')}"
            if seconds < timeout * 60 or name not in step_of or step_id in done:
                continue
            done.add(step_id)
            results.append(
                make(
                    ctx,
                    "esp_timeout",
                    step_id,
                    [user.key.origin or user.key.path],
                    where=ctx.step_title(step_id),
                    minutes=seconds // 60,
                    timeout=timeout,
                    durations=durations,
                )
            )
    return results


def rule_download_cannot_finish(ctx: Context) -> list[Found]:
    """An ESP app whose download, at the pace the log shows, ends after the ESP timeout."""
    rule = ctx.knowledge.rule("download_cannot_finish")
    timeout = ctx.facts.settings.timeout_minutes or int(
        rule.params.get("default_timeout_minutes", 60)
    )
    results: list[Found] = []
    for item in ctx.items:
        download = item.download
        if download is None or download.complete or download.time is None:
            continue
        if not download.bytes_total or download.bytes_done is None:
            continue
        phase = ctx.phases.get(item.step.split(".", 1)[0])
        step = ctx.steps.get(item.step)
        begun = (phase.started if phase is not None else None) or (
            step.started if step is not None else None
        )
        if begun is None or ctx.steps[item.step].status in _DONE:
            continue
        deadline = begun + timedelta(minutes=timeout)
        remaining = max(download.bytes_total - download.bytes_done, 0)
        rate = download.rate_bytes_per_s
        if rate is None:
            if download.time <= deadline:
                continue  # one reading, no pace, still in time: nothing to say
            pace, finish = "the log gives no download rate", "was still running"
        elif rate <= 0:
            pace, finish = "it made no progress between readings", "cannot finish"
        else:
            done_at = download.time + timedelta(seconds=remaining / rate)
            if done_at <= deadline:
                continue
            pace = f"at {_size(rate)}/s the remaining {_size(remaining)} take " \
                   f"{_minutes(remaining / rate)}"
            finish = f"would end at {done_at:%H:%M:%S}"
        results.append(
            make(
                ctx,
                "download_cannot_finish",
                item.step,
                [download.origin],
                app=item.name or item.id,
                where=ctx.step_title(item.step),
                done=_size(download.bytes_done),
                total=_size(download.bytes_total),
                time=f"{download.time:%H:%M:%S}",
                via=f" via {download.via}" if download.via else "",
                pace=pace,
                finish=finish,
                timeout=timeout,
                phase=phase.title if phase is not None else item.step,
                deadline=f"{deadline:%H:%M:%S}",
            )
        )
    return results


def _size(count: float) -> str:
    for unit in ("bytes", "KB", "MB"):
        if count < 1024:
            return f"{count:.0f} {unit}" if unit == "bytes" else f"{count:.1f} {unit}"
        count /= 1024
    return f"{count:.2f} GB"


def _minutes(seconds: float) -> str:
    minutes = seconds / 60
    return f"{minutes:.0f} min" if minutes < 120 else f"{minutes / 60:.1f} h"


def rule_provider_stall(ctx: Context) -> list[Found]:
    step_id = "DevicePreparation.EspProviderInstallationSubcategory"
    step = ctx.steps[step_id]
    results: list[Found] = []
    for item in ctx.items:
        if item.kind != "provider" or item.step != step_id:
            continue
        stuck = item.outcome == "failed" or (
            item.outcome == "pending" and step.status in ("failed", "in_progress", "unknown")
        )
        if stuck:
            state = {"not_installed": 1, "error": 4}.get(item.status, "?")
            results.append(
                make(
                    ctx,
                    "provider_stall",
                    step_id,
                    _item_evidence(item),
                    provider=item.id,
                    state=state,
                    state_name=item.status,
                )
            )
    positions = ctx.find_events(["autopilot:289", "autopilot:290"])
    if positions and not results:
        results.append(
            make(
                ctx,
                "provider_stall",
                step_id,
                [ctx.event_line(p) for p in positions[:10]],
                provider="(from events)",
                state="?",
                state_name=ctx.links.summaries[positions[0]],
            )
        )
    return results


def rule_tracking_not_created(ctx: Context) -> list[Found]:
    results: list[Found] = []
    for step_id in ("DeviceSetup.AppsSubcategory", "AccountSetup.AppsSubcategory"):
        step = ctx.steps[step_id]
        providers = [i for i in ctx.items if i.kind == "provider" and i.step == step_id]
        pending = [p for p in providers if p.outcome == "pending"]
        detail = ""
        if step.status == "identifying":
            detail = "the ESP still shows Identifying"
        elif pending and step.status not in ("succeeded", "not_started", "skipped"):
            detail = (
                "provider(s) "
                + ", ".join(p.id for p in pending)
                + " never set TrackingPoliciesCreated"
            )
        elif (
            providers
            and not any(p.id.casefold() == "sidecar" for p in providers)
            and step.status != "succeeded"
        ):
            detail = "no Sidecar (Intune Management Extension) provider is registered"
        if detail:
            evidence = [e for p in providers for e in _item_evidence(p)]
            results.append(
                make(
                    ctx,
                    "tracking_not_created",
                    step_id,
                    evidence,
                    where=ctx.step_title(step_id),
                    detail=detail,
                )
            )
    return results


def _item_rule(ctx: Context, rule_id: str, kinds: tuple[str, ...]) -> list[Found]:
    results: list[Found] = []
    for item in ctx.items:
        if item.kind not in kinds or item.outcome != "failed":
            continue
        error = ""
        hint = source = None
        if item.code is not None:
            entry = ctx.knowledge.error(item.code, item.step)
            if entry is not None:
                error = f", error {fmt(item.code)}: {entry.title}"
                hint, source = entry.hint, entry.source
            else:
                parts = decode(item.code)
                facility = ctx.knowledge.facilities.get(parts.facility, "unknown facility")
                error = f", error {fmt(item.code)} ({facility}, code {parts.number})"
        results.append(
            make(
                ctx,
                rule_id,
                item.step,
                ctx.log_lines(item.id) + _item_evidence(item),
                hint=hint,
                source=source,
                name=item.name or item.id,
                scope=item.scope,
                status=item.status,
                error=error,
            )
        )
    return results


def rule_win32_failed(ctx: Context) -> list[Found]:
    return _item_rule(ctx, "win32_failed", ("win32", "task_sequence"))


def rule_msi_failed(ctx: Context) -> list[Found]:
    results = _item_rule(ctx, "msi_failed", ("msi",))
    if results:
        return results
    positions = ctx.find_events(["dm_admin:1924", "dm_admin:1907", "dm_admin:1908"])
    for position in positions[:5]:
        step = ctx.links.step_of[position]
        results.append(
            make(
                ctx,
                "msi_failed",
                step,
                [ctx.event_line(position)],
                name=ctx.links.summaries[position],
                scope="from event",
                status="failed",
                error="",
            )
        )
    return results


def rule_office_failed(ctx: Context) -> list[Found]:
    results: list[Found] = []
    for item in ctx.items:
        if item.kind == "office" and item.outcome == "failed":
            number = item.status.removeprefix("status ")
            results.append(
                make(
                    ctx,
                    "office_failed",
                    item.step,
                    _item_evidence(item),
                    id=item.id,
                    status=number,
                    status_name=item.status,
                )
            )
    return results


def _step_rule(ctx: Context, rule_id: str, suffix: str, event_refs: list[str]) -> list[Found]:
    """Certificates / Network connections: the ESP's record or tracked items decide; generic
    DeviceManagement failures of that kind are attached as related evidence — to the failed
    step, else to a step whose outcome is unknown (then only as a warning)."""
    results: list[Found] = []
    all_positions = ctx.find_events(event_refs)
    unplaced = [p for p in all_positions if ctx.links.step_of[p] is None]
    order = ("DeviceSetup", "AccountSetup")
    failed_phase = next(
        (ph for ph in order if ctx.steps[f"{ph}.{suffix}"].status == "failed"), None
    )
    open_phase = next(
        (
            ph
            for ph in order
            if ctx.steps[f"{ph}.{suffix}"].status in ("unknown", "in_progress", "identifying")
        ),
        None,
    )
    unplaced_to = failed_phase or open_phase
    for phase in order:
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
        evidence = []
        if step.text:
            evidence.append(f"ESP status: {step.text}")
        ctx.cited_events.update(related)
        evidence += [ctx.event_line(p) for p in related[:10]]
        evidence += [e for i in failed_items for e in _item_evidence(i)]
        detail = f" ({step.text})" if step.text else ""
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
                where=ctx.step_title(step_id),
                status=step.status if step.status == "failed" else "not applied",
                detail=detail,
            )
        )
    return results


def rule_cert_not_applied(ctx: Context) -> list[Found]:
    return _step_rule(ctx, "cert_not_applied", "CertificatesSubcategory", ["dm_admin:32"])


def rule_network_not_applied(ctx: Context) -> list[Found]:
    return _step_rule(
        ctx,
        "network_not_applied",
        "NetworkConnectionsSubcategory",
        ["dm_admin:1507", "dm_admin:1510"],
    )


def rule_hybrid_join_wait(ctx: Context) -> list[Found]:
    step_id = "AccountSetup.WaitingForAadRegistrationSubcategory"
    step = ctx.steps[step_id]
    positions = ctx.find_events(ctx.knowledge.rule("hybrid_join_wait").params.get("events", []))
    hybrid = ctx.facts.device.deployment_mode == "hybrid_user_driven"
    stuck = step.status in ("failed", "in_progress", "identifying")
    if not ((hybrid and (stuck or positions)) or (positions and stuck)):
        return []
    # Registration attempts often fail until Entra Connect has synced: once the step is
    # done those failures are history, not a problem.
    severity: Severity | None = None if stuck else "info"
    details = []
    if stuck:
        details.append(f"Account setup is {step.status.replace('_', ' ')} at joining the network")
    details += [ctx.links.summaries[p] for p in positions[:3]]
    return [
        make(
            ctx,
            "hybrid_join_wait",
            step_id,
            [ctx.event_line(p) for p in positions[:10]],
            severity=severity,
            detail="; ".join(details),
        )
    ]


def rule_lob_win32_mixed(ctx: Context) -> list[Found]:
    markers = [
        str(m).casefold() for m in ctx.knowledge.rule("lob_win32_mixed").params.get("markers", [])
    ]
    results: list[Found] = []
    for phase in ("DeviceSetup", "AccountSetup"):
        step_id = f"{phase}.AppsSubcategory"
        msi = [i for i in ctx.items if i.step == step_id and i.kind == "msi"]
        win32 = [i for i in ctx.items if i.step == step_id and i.kind == "win32"]
        positions = [
            p
            for p in ctx.links.by_step.get(step_id, [])
            if any(m in ctx.links.summaries[p].casefold() for m in markers)
        ]
        coded = [i for i in msi + win32 if i.code == 0x80070652]
        if not ((msi and win32) or positions or coded):
            continue
        detail = f"{ctx.step_title(step_id)} tracks {len(msi)} LOB MSI and {len(win32)} Win32 apps"
        if positions or coded:
            detail += "; an installer reported another installation in progress"
        evidence = [ctx.event_line(p) for p in positions[:5]]
        evidence += [e for i in (coded or msi[:2] + win32[:2]) for e in _item_evidence(i)[:1]]
        results.append(make(ctx, "lob_win32_mixed", step_id, evidence, detail=detail))
    return results


def rule_store_app_blocked(ctx: Context) -> list[Found]:
    results: list[Found] = []
    for phase in ("DeviceSetup", "AccountSetup"):
        step_id = f"{phase}.AppsSubcategory"
        if ctx.steps[step_id].status not in ("failed", "in_progress"):
            continue
        waiting = [
            i for i in ctx.items if i.step == step_id and i.kind == "modern" and i.outcome != "done"
        ]
        if waiting:
            names = ", ".join(i.name or i.id for i in waiting[:5])
            results.append(
                make(
                    ctx,
                    "store_app_blocked",
                    step_id,
                    [e for i in waiting for e in _item_evidence(i)[:1]],
                    detail=f"{len(waiting)} Store app(s) not installed: {names}",
                )
            )
    return results


def rule_continue_anyway(ctx: Context) -> list[Found]:
    markers = ctx.knowledge.rule("continue_anyway").params.get("shell_core_markers", [])
    positions = [
        p
        for p in ctx.links.index.get(("shell_core", 62407), [])
        + ctx.links.index.get(("shell_core", 62406), [])
        if any(m in ctx.links.summaries[p] for m in markers)
    ]
    order = [p.id for p in ctx.phases.values()]
    masked = None
    for index, phase_id in enumerate(order[:-1]):
        if ctx.phases[phase_id].status == "failed" and any(
            ctx.phases[later].status not in ("not_started", "skipped", "unknown")
            for later in order[index + 1 :]
        ):
            masked = phase_id
            break
    if masked is None and not positions:
        return []
    if masked is None and ctx.facts.settings.allow_continue_anyway is False:
        return []
    detail = (
        f"{ctx.phases[masked].title} failed but a later phase ran"
        if masked
        else "the ESP started background syncs after the user chose Continue anyway"
    )
    return [
        make(
            ctx, "continue_anyway", None, [ctx.event_line(p) for p in positions[:5]], detail=detail
        )
    ]


def rule_reboot_second_signin(ctx: Context) -> list[Found]:
    positions = ctx.find_events(["dm_admin:2800"])
    if not positions:
        return []
    account = ctx.phases["AccountSetup"].started
    device_end = ctx.phases["DeviceSetup"].ended
    limit = account or device_end
    if limit is None:
        return []
    early = [p for p in positions if ctx.events[p].time <= limit]
    if not early:
        return []
    uri = next(iter(ctx.events[early[0]].data.values()), "?")
    return [
        make(
            ctx,
            "reboot_second_signin",
            "DeviceSetup.RebootCoalescing",
            [ctx.event_line(p) for p in early[:10]],
            count=len(early),
            uri=uri,
        )
    ]


def rule_skipped_phase(ctx: Context) -> list[Found]:
    return [
        make(ctx, "skipped_phase", None, [], phase=phase.title, reason=phase.skip_reason or "?")
        for phase in ctx.phases.values()
        if phase.status == "skipped"
    ]


def rule_not_autopilot(ctx: Context) -> list[Found]:
    if ctx.facts.device.deployment_mode != "not_autopilot":
        return []
    return [
        make(
            ctx,
            "not_autopilot",
            None,
            [r"HKLM\SOFTWARE\Microsoft\Provisioning\Diagnostics\Autopilot"],
        )
    ]


def rule_record_problem(ctx: Context) -> list[Found]:
    return [make(ctx, "record_problem", None, [], detail=note) for note in ctx.notes]


def rule_mdm_errors(ctx: Context, cited: set[str]) -> list[Found]:
    """Generic MDM / registration failures, grouped by event and code, with counts.

    They never change a step's status (see :mod:`core.esp.analyze`); they are reported so a
    technician sees them, at warning level for enrollment, certificate, network and app
    failures and at info level for everything else (policy command noise).
    """
    rule = ctx.knowledge.rule("mdm_errors")
    warn = {str(r) for r in rule.params.get("warning_events", [])}
    groups: dict[tuple[str, int, int | None], list[int]] = {}
    for position, definition in enumerate(ctx.links.definitions):
        if definition is None or definition.esp or definition.outcome != "failure":
            continue
        if position in ctx.cited_events or ctx.event_line(position) in cited:
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
            parts = decode(code)
            facility = ctx.knowledge.facilities.get(parts.facility, "unknown facility")
            known = f": {entry.title}" if entry is not None else ""
            meaning = f" {fmt(code)} ({facility}, code {parts.number}){known}"
        results.append(
            make(
                ctx,
                "mdm_errors",
                steps[0] if len(steps) == 1 else None,
                [ctx.event_line(p) for p in positions[:10]],
                hint=f"{entry.cause} {entry.hint}" if entry is not None else None,
                source=entry.source if entry is not None else None,
                severity="warning" if important else "info",
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


_ITEM_RULES = ("win32_failed", "msi_failed", "office_failed")
_DONE = ("succeeded", "not_required", "skipped", "not_started")
_SEVERITY_RANK = {"error": 0, "warning": 1, "info": 2}


def order_findings(found: list[Found], steps: dict[str, StepState]) -> list[Found]:
    """The finding that explains the first failed step first, then the other failed steps',
    then by severity; rule order breaks ties (sorting is stable)."""
    failed = [s.definition.id for s in steps.values() if s.status == "failed"]
    first = next(
        (sid for sid in failed if steps[sid].state != "failedFromPreviousSubcategory"),
        failed[0] if failed else None,
    )

    def rank(item: Found) -> tuple[int, int, int]:
        finding = item.finding
        severity = _SEVERITY_RANK[finding.severity]
        # a finding naming the failed item (which app) before the code's general meaning
        named = 0 if finding.id in _ITEM_RULES else 1
        if finding.step is not None and finding.step == first and severity < 2:
            return (0, severity, named)
        if finding.step in failed and severity < 2:
            return (1, severity, named)
        return (2, severity, 1)

    return sorted(found, key=rank)


Rule = Callable[[Context], list[Found]]

#: Every rule, in priority order.
RULES: tuple[Rule, ...] = (
    rule_tpm_attestation,
    rule_profile_problem,
    rule_known_errors,
    rule_provider_stall,
    rule_tracking_not_created,
    rule_win32_failed,
    rule_msi_failed,
    rule_office_failed,
    rule_cert_not_applied,
    rule_network_not_applied,
    rule_hybrid_join_wait,
    rule_download_cannot_finish,
    rule_esp_timeout,  # after the rules naming a specific cause in the timed-out category
    rule_lob_win32_mixed,
    rule_store_app_blocked,
    rule_continue_anyway,
    rule_reboot_second_signin,
    rule_skipped_phase,
    rule_not_autopilot,
    rule_record_problem,
)


def run_rules(ctx: Context) -> list[Found]:
    found: list[Found] = []
    for rule in RULES:
        found.extend(rule(ctx))
    cited = {line for f in found for line in f.finding.evidence}
    found.extend(rule_mdm_errors(ctx, cited))
    return order_findings(found, ctx.steps)

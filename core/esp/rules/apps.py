"""Apps the ESP tracks: Win32 (IME), LOB MSI, Microsoft 365 Apps (Office CSP), Store apps,
the ConfigMgr task sequence; and what goes wrong between them (Windows Installer collisions,
Store licensing, reboots)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from core.codes import format_code
from core.esp.hresult import fmt
from core.esp.items import ItemInfo
from core.esp.knowledge import parse_code
from core.esp.rules.base import (
    DONE,
    Context,
    Found,
    Rule,
    item_evidence,
    item_ref,
    make,
    names,
    rule,
    summary_rule,
)

APPS_STEPS = ("DeviceSetup.AppsSubcategory", "AccountSetup.AppsSubcategory")
PROVIDER_STEP = "DevicePreparation.EspProviderInstallationSubcategory"


def _error_text(ctx: Context, item: ItemInfo) -> tuple[str, str | None, str | None]:
    """(", error 0x…: title" text, hint, source) for an item's failure code."""
    if item.code is None:
        return "", None, None
    entry = ctx.knowledge.error(item.code, item.step)
    if entry is not None:
        return f", error {fmt(item.code)}: {entry.title}", entry.hint, entry.source
    return f", error {format_code(item.code)}", None, None


def _item_rule(
    ctx: Context, rule_id: str, kinds: tuple[str, ...], earlier: Sequence[Found]
) -> list[Found]:
    explained = {ref for found in earlier for ref in found.about}
    results: list[Found] = []
    for item in ctx.items:
        if item.kind not in kinds or item.outcome != "failed" or item_ref(item) in explained:
            continue
        if item.step == PROVIDER_STEP:
            continue  # the management agent itself: the provider rules name it
        error, hint, source = _error_text(ctx, item)
        results.append(
            _item_finding(
                ctx,
                rule_id,
                item,
                hint=hint,
                source=source,
                name=item.name or item.id,
                scope=item.scope,
                status=item.status,
                error=error,
            )
        )
    return results


def _item_finding(ctx: Context, rule_id: str, item: ItemInfo, **fields: Any) -> Found:
    """A finding about one item: its log lines and registry evidence cited, the item named."""
    return make(
        ctx, rule_id, item.step, ctx.log_lines(item.id) + item_evidence(item),
        about=[item_ref(item)], **fields,
    )


def _status_rule(ctx: Context, rule_id: str, kinds: tuple[str, ...]) -> list[Found]:
    """One finding per item of ``kinds`` whose status word — the item's, or the latest one
    the IME recorded (a tracked app keeps the ESP's word as its status) — is in the rule's
    ``statuses``."""
    statuses = set(ctx.param(rule_id, "statuses"))
    results: list[Found] = []
    for item in ctx.items:
        if item.kind not in kinds:
            continue
        latest = max(item.history, key=lambda h: h.time).status if item.history else None
        word = item.status if item.status in statuses else latest
        if word not in statuses:
            continue
        error, _, _ = _error_text(ctx, item)
        results.append(
            _item_finding(
                ctx,
                rule_id,
                item,
                explains=[(item.code, item.step)] if item.code is not None else [],
                name=item.name or item.id,
                where=ctx.step_title(item.step),
                status=(word or item.status).replace("_", " "),
                error=error,
            )
        )
    return results


def win32_status_rule(rule_id: str) -> Rule:
    """A registered rule for the ``rules.toml`` entry ``rule_id``: one finding per Win32 app
    whose status (EnforcementState word) is in its ``statuses``."""

    def check(ctx: Context) -> list[Found]:
        return _status_rule(ctx, rule_id, ("win32",))

    check.__name__ = rule_id
    return Rule(
        rule_id,
        (rule_id,),
        frozenset({"knowledge", "items", "logs", "steps", "phases"}),
        check,
        ("statuses",),
    )


@rule(
    "app_reboot_pending",
    reads={"knowledge", "items", "logs", "steps", "phases", "events", "links"},
    params=["statuses", "events"],
)
def app_reboot_pending(ctx: Context) -> list[Found]:
    found = _status_rule(ctx, "app_reboot_pending", ("win32",))
    positions = ctx.find_events(ctx.param("app_reboot_pending", "events"))
    if positions and not found:
        found.append(
            make(
                ctx,
                "app_reboot_pending",
                ctx.links.step_of[positions[0]],
                [ctx.event_line(p) for p in positions[:10]],
                cites=positions,
                name=ctx.links.summaries[positions[0]],
                where="the ESP",
                status="reboot required",
                error="",
            )
        )
    return found


@rule("msi_download_failed", reads={"knowledge", "items", "events", "links"}, params=["events"])
def msi_download_failed(ctx: Context) -> list[Found]:
    items = [
        i
        for i in ctx.items
        if i.kind == "msi" and i.status == "download_failed" and i.step != PROVIDER_STEP
    ]
    positions = ctx.find_events(ctx.param("msi_download_failed", "events"))
    positions = [p for p in positions if ctx.links.step_of[p] != PROVIDER_STEP]
    if not items and not positions:
        return []
    labels = [i.name or i.id for i in items] or [ctx.links.summaries[p] for p in positions[:3]]
    evidence = [e for i in items for e in item_evidence(i)] + [
        ctx.event_line(p) for p in positions[:10]
    ]
    step = items[0].step if items else ctx.links.step_of[positions[0]]
    return [
        make(
            ctx,
            "msi_download_failed",
            step,
            evidence,
            cites=positions,
            about=[item_ref(i) for i in items],
            detail=names(labels),
        )
    ]


@summary_rule("win32_failed", reads={"knowledge", "items", "logs"})
def win32_failed(ctx: Context, earlier: Sequence[Found]) -> list[Found]:
    return _item_rule(ctx, "win32_failed", ("win32",), earlier)


@summary_rule(
    "msi_failed", reads={"knowledge", "items", "logs", "events", "links"}, params=["events"]
)
def msi_failed(ctx: Context, earlier: Sequence[Found]) -> list[Found]:
    results = _item_rule(ctx, "msi_failed", ("msi",), earlier)
    if results or any(f.finding.id == "msi_download_failed" for f in earlier):
        return results
    for position in ctx.find_events(ctx.param("msi_failed", "events"))[:5]:
        if ctx.links.step_of[position] == PROVIDER_STEP:
            continue
        results.append(
            make(
                ctx,
                "msi_failed",
                ctx.links.step_of[position],
                [ctx.event_line(position)],
                cites=[position],
                name=ctx.links.summaries[position],
                scope="from event",
                status="failed",
                error="",
            )
        )
    return results


@rule("cm_task_sequence_failed", reads={"knowledge", "items", "logs"})
def cm_task_sequence_failed(ctx: Context) -> list[Found]:
    return _item_rule(ctx, "cm_task_sequence_failed", ("task_sequence",), ())


@rule("office_failed", reads={"knowledge", "items"})
def office_failed(ctx: Context) -> list[Found]:
    results: list[Found] = []
    for item in ctx.items:
        if item.kind == "office" and item.outcome == "failed":
            results.append(
                make(
                    ctx,
                    "office_failed",
                    item.step,
                    item_evidence(item),
                    about=[item_ref(item)],
                    explains=[(item.code, item.step)] if item.code is not None else [],
                    id=item.id,
                    status=item.status.removeprefix("status "),
                    status_name=item.status,
                )
            )
    return results


@rule("office_still_installing", reads={"knowledge", "items", "steps", "phases"})
def office_still_installing(ctx: Context) -> list[Found]:
    """Microsoft 365 Apps still at 997 (in progress) while its Apps step failed or stalls:
    the Office download is what the ESP waited for."""
    results: list[Found] = []
    for item in ctx.items:
        if item.kind != "office" or item.outcome != "pending":
            continue
        step = ctx.steps.get(item.step)
        if step is None or step.status not in ("failed", "in_progress"):
            continue
        results.append(
            make(
                ctx,
                "office_still_installing",
                item.step,
                item_evidence(item),
                about=[item_ref(item)],
                where=ctx.step_title(item.step),
                status=step.status.replace("_", " "),
            )
        )
    return results


@rule(
    "lob_win32_mixed",
    reads={"knowledge", "items", "links", "events", "steps", "phases"},
    params=["markers", "codes"],
)
def lob_win32_mixed(ctx: Context) -> list[Found]:
    markers = [str(m).casefold() for m in ctx.param("lob_win32_mixed", "markers")]
    busy = {parse_code(c) for c in ctx.param("lob_win32_mixed", "codes")}
    results: list[Found] = []
    for step_id in APPS_STEPS:
        msi = [i for i in ctx.items if i.step == step_id and i.kind == "msi"]
        win32 = [i for i in ctx.items if i.step == step_id and i.kind == "win32"]
        positions = [
            p
            for p in ctx.links.by_step.get(step_id, [])
            if any(m in ctx.links.summaries[p].casefold() for m in markers)
        ]
        coded = [i for i in msi + win32 if i.code in busy]
        if not ((msi and win32) or positions or coded):
            continue
        detail = f"{ctx.step_title(step_id)} tracks {len(msi)} LOB MSI and {len(win32)} Win32 apps"
        if positions or coded:
            detail += "; an installer reported another installation in progress"
        evidence = [ctx.event_line(p) for p in positions[:5]]
        evidence += [e for i in (coded or msi[:2] + win32[:2]) for e in item_evidence(i)[:1]]
        results.append(
            make(ctx, "lob_win32_mixed", step_id, evidence, cites=positions, detail=detail)
        )
    return results


@rule("store_app_blocked", reads={"knowledge", "items", "steps"})
def store_app_blocked(ctx: Context) -> list[Found]:
    results: list[Found] = []
    for step_id in APPS_STEPS:
        if ctx.steps[step_id].status not in ("failed", "in_progress"):
            continue
        waiting = [
            i
            for i in ctx.items
            if i.step == step_id and i.kind == "modern" and i.outcome == "pending"
        ]
        if waiting:
            results.append(
                make(
                    ctx,
                    "store_app_blocked",
                    step_id,
                    [e for i in waiting for e in item_evidence(i)[:1]],
                    detail=f"{len(waiting)} Store app(s) not installed: "
                    + names([i.name or i.id for i in waiting]),
                )
            )
    return results


@rule(
    "store_app_failed",
    reads={"knowledge", "items", "logs", "events", "links"},
    params=["events"],
)
def store_app_failed(ctx: Context) -> list[Found]:
    """A Store app the ESP tracks failed: its item failed, or a DeviceManagement ESP-tracking
    event (Windows 11: 1304 could not download, 1309 failed to install) names it."""
    results = _item_rule(ctx, "store_app_failed", ("modern",), ())
    named = {ref for found in results for ref in found.about}
    positions = ctx.find_events(ctx.param("store_app_failed", "events"))
    for item in ctx.items:
        if item.kind != "modern" or item.outcome == "done" or item_ref(item) in named:
            continue
        folded = item.id.casefold()
        about = [
            p
            for p in positions
            if any(folded in value.casefold() for value in ctx.events[p].data.values())
        ]
        if not about:
            continue
        results.append(
            make(
                ctx,
                "store_app_failed",
                item.step,
                [ctx.event_line(p) for p in about[:5]] + item_evidence(item)[:1],
                cites=about,
                about=[item_ref(item)],
                name=item.name or item.id,
                scope=item.scope,
                status=ctx.links.summaries[about[-1]],
                error="",
            )
        )
    return results


@rule(
    "company_portal_device_phase",
    reads={"knowledge", "items", "steps"},
    params=["markers"],
)
def company_portal_device_phase(ctx: Context) -> list[Found]:
    """Company Portal tracked in Device setup but not installed: only the offline-licensed,
    device-context app can install before a user signs in."""
    markers = [str(m).casefold() for m in ctx.param("company_portal_device_phase", "markers")]
    step_id = "DeviceSetup.AppsSubcategory"
    waiting = [
        i
        for i in ctx.items
        if i.step == step_id
        and i.kind == "modern"
        and i.outcome != "done"
        and any(m in f"{i.id} {i.name or ''}".casefold() for m in markers)
    ]
    if not waiting or ctx.steps[step_id].status == "succeeded":
        return []
    return [
        make(
            ctx,
            "company_portal_device_phase",
            step_id,
            [e for i in waiting for e in item_evidence(i)[:2]],
            about=[item_ref(i) for i in waiting],
            status=waiting[0].status.replace("_", " "),
        )
    ]


@rule(
    "download_cannot_finish",
    reads={"knowledge", "facts", "items", "phases", "steps"},
    params=["default_timeout_minutes"],
)
def download_cannot_finish(ctx: Context) -> list[Found]:
    """An app the ESP waits for whose download, at the pace the IME log shows, ends after the
    ESP timeout (or makes no progress)."""
    timeout = ctx.facts.settings.timeout_minutes or int(
        ctx.param("download_cannot_finish", "default_timeout_minutes")
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
        if step is None or step.status in DONE:
            continue
        begun = (phase.started if phase is not None else None) or step.started
        if begun is None:
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
            pace = (f"at {_size(rate)}/s the remaining {_size(remaining)} take "
                    f"{_minutes(remaining / rate)}")
            finish = f"would end at {done_at:%H:%M:%S}"
        results.append(
            make(
                ctx,
                "download_cannot_finish",
                item.step,
                [download.origin],
                about=[item_ref(item)],
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

"""What every report format shares: time and HRESULT formats, status words, the verdict.

The JSON, HTML and text writers all say the same thing in different shapes; keeping the
wording here means a technician who reads the text report and then opens the HTML one sees
the same verdict, the same status words and the same times.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from core.codes import describe_code, format_code
from core.esp.model import (
    SEVERITY_ORDER,
    DevicePreparation,
    Download,
    EspReport,
    Finding,
    Hint,
    Item,
    Phase,
    RegistryValueRef,
    Settings,
    Status,
    Step,
)
from core.registry.model import ValueData

#: Status words as a technician reads them (the JSON keeps the contract's snake_case words).
STATUS_LABELS: dict[Status, str] = {
    "not_started": "Not started",
    "identifying": "Identifying",
    "in_progress": "In progress",
    "succeeded": "Succeeded",
    "failed": "Failed",
    "skipped": "Skipped",
    "not_required": "Not required",
    "unknown": "Unknown",
}

#: Statuses that mean "nothing left to do here".
DONE: frozenset[str] = frozenset({"succeeded", "skipped", "not_required"})
#: Statuses that mean "was still running when the evidence was captured".
RUNNING: frozenset[str] = frozenset({"in_progress", "identifying"})

_HRESULT_TEXT = re.compile(r"^(?:0x)?[0-9a-f]{1,8}$", re.IGNORECASE)
_DECIMAL = re.compile(r"^-?[0-9]+$")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_BREAKS = re.compile(r"[\t\r\n]+")


def iso_time(value: datetime) -> str:
    """The report's one ``TIME`` format: ``2024-04-02T16:13:04.123Z`` (always milliseconds).

    Fixed width so the strings sort like the times they name. A naive datetime is taken to
    be UTC already (every reader in ``core`` produces UTC: FILETIMEs and event times are UTC).
    """
    tz = value.tzinfo
    if tz is not None and tz is not UTC:
        value = value.astimezone(UTC)
    # isoformat() pads the year to four digits and truncates to milliseconds like the format
    # above; the slice drops a "+00:00". It is the C path: a big report has ~40,000 times.
    return value.isoformat(timespec="milliseconds")[:23] + "Z"


def display_time(value: datetime | None) -> str:
    """A time for people: ``2024-04-02 16:13:04Z`` (UTC, seconds), ``—`` for no time."""
    if value is None:
        return "—"
    return iso_time(value)[:19].replace("T", " ") + "Z"


def format_hresult(value: str | int | None) -> str | None:
    """``0x%08X`` for an HRESULT given as an int or as text; None stays None.

    Text is read as hex when it starts with ``0x`` or is exactly eight hex digits (the way
    logs print codes), otherwise as (signed) decimal, the way IME stores them in the
    registry. Text that is not a number at all is returned unchanged: the schema then rejects
    it, which is what should happen to an analysis that put prose where a code belongs.
    """
    if value is None:
        return None
    if isinstance(value, int):
        return f"0x{value & 0xFFFFFFFF:08X}"
    text = value.strip()
    if _HRESULT_TEXT.match(text) and (text.lower().startswith("0x") or len(text) == 8):
        return f"0x{int(text, 16):08X}"
    if _DECIMAL.match(text) and -(2**31) <= int(text) < 2**32:
        return f"0x{int(text) & 0xFFFFFFFF:08X}"
    return value


def hresult_text(value: str | int | None) -> str | None:
    """``0x87D1041C (NAME: meaning)`` for people (:func:`core.codes.format_code`); None stays
    None, text that is not a code is returned unchanged."""
    code = format_hresult(value)
    if code is None or not code.startswith("0x"):
        return code
    return format_code(code) or code


def hresult_short(value: str | int | None) -> str | None:
    """``0x87D1041C NAME`` where a line has no room for the meaning."""
    code = format_hresult(value)
    info = describe_code(code) if code is not None and code.startswith("0x") else None
    if info is None or info.name is None:
        return code
    return f"{info.hex} {info.name}"


VerdictKind = Literal["failed", "in_progress", "succeeded", "incomplete", "unknown"]


@dataclass(frozen=True, slots=True)
class Verdict:
    """The one line that says how the ESP ended, and where."""

    kind: VerdictKind
    phase: Phase | None
    step: Step | None
    line: str


def _where(phase: Phase, step: Step | None) -> str:
    return f"{phase.title} › {step.title}" if step is not None else phase.title


def _detail(step: Step | None, phase: Phase) -> str:
    """``(0x80070005)`` or ``(status text)`` after the place, when there is one."""
    if step is not None and step.hresult:
        return f" ({hresult_short(step.hresult)})"
    if step is not None:
        text = status_words(step.title, step.status, step.status_text)
    else:
        text = status_words(phase.title, phase.status, phase.status_text)
    return f" ({text})" if text else ""


def _letters(text: str) -> str:
    return "".join(c for c in text.lower() if c.isalnum())


def status_words(title: str, status: Status, text: str | None) -> str:
    """The ESP's own status text without the title it repeats ("Certificates (Error)" beside
    the step Certificates reads "Error"), else the status word.

    The record's text sometimes carries a lost apostrophe ("organization?s"), so the title is
    compared on letters and digits only.
    """
    if not text:
        return STATUS_LABELS[status]
    match = re.fullmatch(r"(.+?)\s*\((.+)\)", text.strip())
    if match and _letters(match.group(1)) == _letters(title):
        inner = match.group(2).strip()
        if inner.lower().startswith("0x"):  # "Apps (0x87d1041c)": the word, then the code
            return f"{STATUS_LABELS[status]}: {format_hresult(inner) or inner}"
        return inner
    return text


def with_code(words: str, code: str | None) -> str:
    """``words`` followed by ``code`` unless the words already carry it (in any case)."""
    if code and code.lower() not in words.lower():
        return f"{words} {code}"
    return words


def _first(report: EspReport, statuses: frozenset[str]) -> tuple[Phase, Step | None] | None:
    """First step (or, failing that, phase) in ESP order whose status is in ``statuses``."""
    for phase in report.phases:
        for step in phase.steps:
            if step.status in statuses:
                return phase, step
    for phase in report.phases:
        if phase.status in statuses:
            return phase, None
    return None


def verdict(report: EspReport) -> Verdict:
    """How the ESP ended, in one line a technician reads first.

    Failure wins over everything; then a step still running at capture time; then success
    only if every step *says* so — missing evidence is ``unknown``, never success. A Windows
    Autopilot device preparation deployment has no classic steps: its page status decides.
    """
    prep = report.device_preparation
    if prep is not None:
        return _device_preparation_verdict(prep)
    failed = _first(report, frozenset({"failed"}))
    if failed is not None:
        phase, step = failed
        line = f"FAILED at {_where(phase, step)}{_detail(step, phase)}"
        return Verdict("failed", phase, step, line)
    running = _first(report, RUNNING)
    if running is not None:
        phase, step = running
        label = STATUS_LABELS[step.status if step is not None else phase.status]
        text = (status_words(step.title, step.status, step.status_text) if step is not None
                else status_words(phase.title, phase.status, phase.status_text)) or label
        line = f"IN PROGRESS when captured at {_where(phase, step)} ({text})"
        return Verdict("in_progress", phase, step, line)
    statuses = [s.status for s in report.steps] or [p.status for p in report.phases]
    if all(s in DONE for s in statuses):
        return Verdict("succeeded", None, None, "SUCCEEDED — every step completed")
    if all(s == "unknown" for s in statuses):
        return Verdict(
            "unknown", None, None, "UNKNOWN — the evidence does not show the ESP's state"
        )
    unknown = sum(1 for s in statuses if s == "unknown")
    not_started = _first(report, frozenset({"not_started"}))
    parts = ["NO FAILURE FOUND"]
    if not_started is not None:
        parts.append(f"not started: {_where(*not_started)}")
    if unknown:
        parts.append(f"{unknown} of {len(statuses)} steps unknown")
    return Verdict("incomplete", None, None, " — ".join(parts))


def _device_preparation_verdict(prep: DevicePreparation) -> Verdict:
    stage = next((p for p in prep.phases if p.status == prep.status), None)
    where = f" at {stage.title}" if stage is not None and prep.status != "succeeded" else ""
    code = f" ({prep.error_code})" if prep.error_code else ""
    if prep.status == "failed":
        return Verdict("failed", None, None, f"FAILED — device preparation{where}{code}")
    if prep.status in RUNNING:
        return Verdict(
            "in_progress", None, None, f"IN PROGRESS when captured — device preparation{where}"
        )
    if prep.status == "succeeded":
        return Verdict("succeeded", None, None, "SUCCEEDED — device preparation completed")
    return Verdict(
        "unknown", None, None, "UNKNOWN — the evidence does not show device preparation's state"
    )


def redaction_line(report: EspReport) -> str | None:
    """``Redacted: identifiers replaced by pseudonyms (user 2, device 1)``, or None."""
    if report.redaction is None:
        return None
    counts = ", ".join(f"{kind} {n}" for kind, n in report.redaction.counts) or "none found"
    return f"Redacted: personal and tenant identifiers replaced by pseudonyms ({counts})"


def exit_code_for(report: EspReport) -> int:
    """The CLI exit code for a report that was produced: 0 clean, 1 read with problems.

    (2, unusable input, and 3, internal error, happen before there is a report.)
    """
    return 1 if report.source.problems else 0


def findings_in_order(report: EspReport) -> list[int]:
    """Indexes of the findings, errors first, then warnings, then info (stable within)."""
    return sorted(
        range(len(report.findings)), key=lambda i: SEVERITY_ORDER[report.findings[i].severity]
    )


def phase_of(report: EspReport, step_id: str | None) -> Phase | None:
    """The phase holding step ``step_id`` (None when there is no such step)."""
    for phase in report.phases:
        if any(step.id == step_id for step in phase.steps):
            return phase
    return None


def step_title(report: EspReport, step_id: str | None) -> str | None:
    """``Phase › Step`` for a step id, the id itself when unknown, None for None."""
    if step_id is None:
        return None
    phase = phase_of(report, step_id)
    step = report.step(step_id)
    if phase is None or step is None:
        return step_id
    return _where(phase, step)


_ITEM_FAILED = ("fail", "error", "timeout", "timed out")
_ITEM_NOT_STARTED = ("not_processed", "notprocessed", "not processed", "not_installed",
                     "notinstalled", "not installed", "not_started", "not started", "initialized")
_ITEM_RUNNING = ("progress", "downloading", "installing", "processing", "running", "pending",
                 "wait", "retry", "identifying")
_ITEM_DONE = ("installed", "succe", "complete", "applied", "processed", "not_required",
              "notrequired", "not required", "compliant")


def item_status(status: str) -> Status:
    """A history entry's state word (``installed``, ``in progress``, ``error`` …) as a
    :data:`Status` for its mark; an item's own status is already one (the analysis decided
    it). Anything unrecognised is ``unknown``, never success."""
    word = status.strip().lower()
    if word in STATUS_LABELS:
        return word
    if any(key in word for key in _ITEM_FAILED):
        return "failed"
    if any(key in word for key in _ITEM_NOT_STARTED):
        return "not_started"
    if any(key in word for key in _ITEM_RUNNING):
        return "in_progress"
    if any(key in word for key in _ITEM_DONE):
        return "succeeded"
    return "unknown"


def item_state_text(item: Item) -> str:
    """The item's state as the evidence says it (``completed (InstallationState 3)``), else the
    status word: the analysis decided the status, reports only show it."""
    return item.raw_status or STATUS_LABELS.get(item.status, item.status)


def value_shown(value: RegistryValueRef, limit: int = 160) -> str:
    """Raw data with its meaning next to it: ``3600 (0xE10) = 3600 s (1 h 0 min)``."""
    raw = value_text(value.data, limit)
    return f"{raw}  = {value.display}" if value.display else raw


def setting_note(settings: Settings, step: Step) -> str | None:
    """What a setting changes about ``step``: a skipped status page means the user never saw
    it, whatever it records."""
    phase = step.id.split(".", 1)[0]
    if phase == "AccountSetup" and settings.skip_user_status_page:
        return ("The user never saw this page: SkipUserStatusPage is set, so Account setup ran "
                "without the status page and did not block sign-in.")
    if phase in ("DevicePreparation", "DeviceSetup") and settings.skip_device_status_page:
        return ("The user never saw this page: SkipDeviceStatusPage is set, so the device "
                "phases ran without the status page.")
    return None


def hint_repeats(finding: Finding, hint: Hint) -> bool:
    """Whether ``hint`` only repeats ``finding`` (same title, its text inside the finding's):
    a report then shows it once."""
    return hint.title == finding.title and hint.text in finding.text


def settings_known(report: EspReport) -> bool:
    """Whether the capture holds any ESP setting at all (else the report says so once)."""
    s = report.settings
    return any(v is not None for v in (
        s.timeout_minutes, s.skip_device_status_page, s.skip_user_status_page, s.allow_reset,
        s.allow_try_again, s.allow_continue_anyway, s.allow_collect_logs))


def settings_summary(report: EspReport) -> list[tuple[str, str]]:
    """The ESP settings as (label, value) pairs, ``unknown`` where the evidence is silent."""
    s = report.settings

    def yes_no(value: bool | None) -> str:
        return "unknown" if value is None else ("yes" if value else "no")

    timeout = "unknown" if s.timeout_minutes is None else f"{s.timeout_minutes} min"
    return [
        ("ESP timeout", timeout),
        ("Skip device status page", yes_no(s.skip_device_status_page)),
        ("Skip user status page", yes_no(s.skip_user_status_page)),
        ("Allow reset", yes_no(s.allow_reset)),
        ("Allow try again", yes_no(s.allow_try_again)),
        ("Allow continue anyway", yes_no(s.allow_continue_anyway)),
        ("Allow collect logs", yes_no(s.allow_collect_logs)),
    ]


MODE_LABELS = {
    "user_driven": "User-driven",
    "hybrid_user_driven": "User-driven (hybrid join)",
    "self_deploying": "Self-deploying",
    "pre_provisioning": "Pre-provisioning",
    "device_preparation": "Autopilot device preparation",
    "not_autopilot": "Not Autopilot",
    "unknown": "unknown",
}


def device_summary(report: EspReport) -> list[tuple[str, str]]:
    """The device facts as (label, value) pairs, ``unknown`` where the evidence is silent."""
    d = report.device
    autopilot = "unknown" if d.autopilot is None else ("yes" if d.autopilot else "no")
    return [
        ("Device name", d.name or "unknown"),
        ("Serial number", d.serial or "unknown"),
        ("Deployment mode", MODE_LABELS.get(d.deployment_mode, d.deployment_mode)),
        ("Autopilot", autopilot),
        ("Profile", d.profile_name or "unknown"),
        ("Tenant", d.tenant_domain or "unknown"),
        ("OS build", d.os_build or "unknown"),
    ]


def steps_needing_detail(report: EspReport) -> list[tuple[Phase, Step]]:
    """Steps whose evidence the short reports spell out: failed ones, running ones, then
    unknown ones whose own evidence points somewhere (linked events or log lines)."""
    failed = [(p, s) for p in report.phases for s in p.steps if s.status == "failed"]
    running = [(p, s) for p in report.phases for s in p.steps if s.status in RUNNING]
    open_ = [
        (p, s) for p in report.phases for s in p.steps
        if s.status == "unknown" and (s.events or s.logs)
    ]
    return failed + running + open_


def key_events(step: Step, limit: int) -> tuple[list[int], int]:
    """Indexes of up to ``limit`` events worth reading first (errors and warnings first, then
    the rest, shown in the step's order), and how many were left out."""
    rank = {"critical": 0, "error": 0, "warning": 1}
    order = sorted(range(len(step.events)),
                   key=lambda i: rank.get(step.events[i].level.strip().lower(), 2))
    chosen = sorted(order[:limit])  # back in the step's own (time) order
    return chosen, len(step.events) - len(chosen)


def clean(text: object) -> str:
    """Evidence text made safe to show: one line, control characters as ``\\xNN``.

    A terminal escape in a registry value must not repaint the technician's terminal, and a
    NUL or form feed has no business in an HTML cell either.
    """
    flat = _BREAKS.sub(" ", str(text))
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", flat)


def value_text(data: ValueData, max_bytes: int = 32) -> str:
    """Registry value data for people: hex bytes (shortened), lists in brackets, cleaned text."""
    if isinstance(data, bytes):
        shown = data[:max_bytes].hex(" ")
        return shown + (f" … ({len(data)} bytes)" if len(data) > max_bytes else "")
    if isinstance(data, list):
        return "[" + ", ".join(clean(part) for part in data) + "]"
    if data is None:
        return "(no data)"
    if isinstance(data, int):
        return f"{data} (0x{data:X})" if data > 9 else str(data)
    return clean(data)


def download_text(download: Download, clock_reading: bool = False) -> str:
    """An app download in words: bytes, percent, rate, channel, and the line it came from
    (``clock_reading``: its time is an unanchored log clock reading, not UTC)."""
    parts: list[str] = []
    if download.bytes_done is not None and download.bytes_total:
        parts.append(f"{_size(download.bytes_done)} of {_size(download.bytes_total)}")
    elif download.bytes_total:
        parts.append(f"{_size(download.bytes_total)} to download")
    if download.percent is not None:
        parts.append(f"{download.percent:g} %")
    if download.rate_bytes_per_s:
        parts.append(f"{_size(download.rate_bytes_per_s)}/s")
    if download.via:
        parts.append(f"via {download.via}")
    state = "downloaded" if download.complete else "downloading"
    when = display_time(download.time)
    if clock_reading and download.time is not None:
        when = when.rstrip("Z") + " (device clock)"
    return f"{state}: " + ", ".join(parts) + f" at {when} ({download.origin})"


def _size(count: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if count < 1024 or unit == "GB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    return f"{count:.1f} GB"


def is_clock_reading(report: EspReport, source: str | None) -> bool:
    """Whether a time taken from ``source`` is a log's clock reading that nothing ties to UTC
    (the report's log clock is unanchored and the time came from an Intune log)."""
    clock = report.log_clock
    return (clock is not None and clock.basis == "unanchored" and source is not None
            and source.startswith("IME log"))


def device_preparation_lines(report: EspReport) -> list[tuple[str, str, list[str]]]:
    """Windows Autopilot device preparation as (stage title, status words, item lines); empty
    for classic deployments. Shared by the text and HTML reports."""
    prep = report.device_preparation
    if prep is None:
        return []
    head = STATUS_LABELS[prep.status] + (f" ({prep.status_reason})" if prep.status_reason else "")
    if prep.error_code or prep.error_phase or prep.error_details:
        head += " · error " + " ".join(
            x for x in (prep.error_code, prep.error_phase, prep.error_details) if x
        )
    if prep.timeout_minutes is not None:
        head += f" · limit {prep.timeout_minutes} min"
    rows: list[tuple[str, str, list[str]]] = [("Device preparation page", head, [])]
    for phase in prep.phases:
        status = STATUS_LABELS[phase.status] + (
            f" ({phase.status_reason})" if phase.status_reason else ""
        )
        items = [
            f"{item.kind} {item.name or item.id}: {item.status}"
            + (f" {item.hresult}" if item.hresult else "")
            for item in phase.items
        ]
        rows.append((phase.title, status, items))
    return rows

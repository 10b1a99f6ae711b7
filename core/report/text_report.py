"""The terminal report: what failed, where, and what to do first — then the rest.

Order matters more than completeness here (the JSON and HTML reports have everything): a
one-line verdict, the findings with their hints, the composite ESP view as a tree, device
and settings, the evidence of the failed or stuck steps, and a pointer to ``--json`` /
``--html`` for the rest.

Evidence is hostile input: control characters in it (a terminal escape in a registry value
could repaint the screen) are shown as ``\\xNN`` and never reach the terminal.
"""

from __future__ import annotations

import re
import sys
import textwrap
from collections.abc import Iterable, Sequence

from core.esp.hresult import find_hresult
from core.esp.model import EspReport, Finding, Phase, Status, Step
from core.report.common import (
    STATUS_LABELS,
    clean,
    device_preparation_lines,
    device_summary,
    display_time,
    download_text,
    findings_in_order,
    format_hresult,
    hint_repeats,
    hresult_short,
    is_clock_reading,
    item_state_text,
    key_events,
    redaction_line,
    setting_note,
    settings_known,
    settings_summary,
    status_words,
    step_title,
    steps_needing_detail,
    value_shown,
    verdict,
    with_code,
)
from core.report.summary import step_facts

MARKS: dict[Status, str] = {
    "succeeded": "✔",
    "failed": "✘",
    "in_progress": "…",
    "identifying": "…",
    "unknown": "?",
    "not_started": "–",
    "skipped": "–",
    "not_required": "–",
}
ASCII_MARKS: dict[Status, str] = {
    "succeeded": "+",
    "failed": "X",
    "in_progress": ">",
    "identifying": ">",
    "unknown": "?",
    "not_started": "-",
    "skipped": "-",
    "not_required": "-",
}
SEVERITY_MARKS = {"error": "✘", "warning": "!", "info": "i"}
ASCII_SEVERITY_MARKS = {"error": "X", "warning": "!", "info": "i"}
# Typography the report itself adds, and what it becomes on a terminal that cannot show it.
_ASCII_PUNCTUATION_MAP = {"›": ">", "—": "-", "–": "-", "…": "...", "·": "|", "→": "->", "✔": "+",
                          "✘": "X"}
_ASCII_PUNCTUATION = str.maketrans(_ASCII_PUNCTUATION_MAP)

_COLORS: dict[str, str] = {
    "failed": "\x1b[1;31m",
    "error": "\x1b[1;31m",
    "succeeded": "\x1b[32m",
    "in_progress": "\x1b[33m",
    "identifying": "\x1b[33m",
    "warning": "\x1b[33m",
    "unknown": "\x1b[35m",
    "heading": "\x1b[1m",
    "dim": "\x1b[2m",
}
_RESET = "\x1b[0m"
MAX_ITEMS = 25
MAX_EVENTS = 10
MAX_VALUES = 8
MAX_PROBLEMS = 5
MAX_EVIDENCE = 3
MAX_LOG_LINES = 8


def _can_encode(encoding: str) -> bool:
    try:
        ("".join(MARKS.values()) + "".join(_ASCII_PUNCTUATION_MAP)).encode(encoding)
    except (LookupError, UnicodeEncodeError):
        return False
    return True


class _Writer:
    """Collects lines; knows the width, the marks and whether to colour."""

    def __init__(self, width: int, color: bool, unicode: bool) -> None:
        self.width = max(40, width)
        self.color = color
        self.marks = MARKS if unicode else ASCII_MARKS
        self.severity_marks = SEVERITY_MARKS if unicode else ASCII_SEVERITY_MARKS
        self.lines: list[str] = []

    def paint(self, text: str, style: str) -> str:
        if not self.color or style not in _COLORS:
            return text
        return f"{_COLORS[style]}{text}{_RESET}"

    def mark(self, status: Status) -> str:
        return self.paint(self.marks[status], status)

    def line(self, text: str = "") -> None:
        self.lines.append(text)

    def wrap(self, text: str, indent: int, first: str | None = None) -> None:
        """Wrapped paragraph of evidence ``text`` (cleaned), indented by ``indent`` spaces."""
        pad = " " * indent
        lead = pad if first is None else first
        wrapped = textwrap.wrap(clean(text), self.width, initial_indent=lead,
                                subsequent_indent=pad, break_on_hyphens=False) or [lead.rstrip()]
        self.lines.extend(wrapped)

    def heading(self, text: str) -> None:
        self.line()
        self.line(self.paint(text.upper(), "heading"))

    def pairs(self, pairs: Iterable[tuple[str, str]], indent: int = 2) -> None:
        items = list(pairs)
        width = max((len(label) for label, _ in items), default=0)
        for label, value in items:
            self.wrap(value, indent + width + 2, " " * indent + f"{label:<{width}}  ")


def _step_line(w: _Writer, step: Step, indent: int, title_width: int,
               clock_reading: bool = False) -> str:
    status = with_code(status_words(step.title, step.status, step.status_text),
                       format_hresult(step.hresult))
    times = ""
    if step.started or step.ended:
        times = f"  {display_time(step.started)[11:]}–{display_time(step.ended)[11:]}"
        if clock_reading:  # an IME clock reading nothing ties to UTC: no "Z"
            times = times.replace("Z", "") + " (device clock)"
    title = clean(step.title)
    return (f"{' ' * indent}{w.mark(step.status)} {title:<{title_width}}  "
            f"{w.paint(clean(status), step.status)}{w.paint(times, 'dim')}")


def _composite(w: _Writer, report: EspReport) -> None:
    w.heading("ESP — all phases and steps")
    titles = [len(s.title) for s in report.steps] + [len(p.title) - 4 for p in report.phases]
    title_width = min(max(titles, default=20), 48)
    for phase in report.phases:
        status = status_words(phase.title, phase.status, phase.status_text)
        w.line(f"  {w.mark(phase.status)} {w.paint(clean(phase.title), 'heading')}"
               f"{' ' * max(2, title_width + 6 - len(phase.title))}"
               f"{w.paint(clean(status), phase.status)}")
        if phase.status in ("not_started", "unknown") and phase.status_reason:
            w.wrap(f"why: {phase.status_reason}", 10, "        ")
        if not phase.steps:
            w.line("      (no steps known)")
        for step in phase.steps:
            w.line(_step_line(w, step, 6, title_width,
                              is_clock_reading(report, step.started_source)))
            if step.status == "unknown" and step.status_reason and step.events + step.logs:
                w.wrap(f"why: {step.status_reason}", 12, "          ")


def _same_as(finding: Finding, earlier: list[tuple[int, Finding]]) -> int | None:
    """The number of an earlier finding this one repeats: same step, same code in its words
    (rules that see one failure from different sides); the first says it in full."""
    code = find_hresult(f"{finding.title} {finding.text}")
    if finding.step is None or code is None:
        return None
    for number, other in earlier:
        if other.step == finding.step and find_hresult(f"{other.title} {other.text}") == code:
            return number
    return None


def _finding(w: _Writer, report: EspReport, finding: Finding, number: int,
             same_as: int | None = None) -> None:
    where = step_title(report, finding.step)
    confidence = f", {finding.confidence} confidence" if finding.confidence else ""
    tag = finding.severity + confidence + (f" · {where}" if where else "")
    plain = w.severity_marks[finding.severity]
    start = len(w.lines)
    w.wrap(f"{finding.title}  [{tag}]", 7, f"  {number}. {plain} ")
    # Colour after wrapping: escape codes would upset textwrap's idea of the width.
    w.lines[start] = w.lines[start].replace(plain, w.paint(plain, finding.severity), 1)
    if finding.severity == "info" and finding.confidence == "low":
        return  # background noise: named so it is not hidden, spelled out in JSON/HTML
    w.wrap(finding.text, 7)
    if same_as is not None and finding.evidence:
        # Another rule's view of the same failure: its words may add a hint, its evidence
        # would only repeat the lines above.
        w.wrap(f"Evidence: the same failure as {same_as} (in the JSON/HTML report).", 7)
    elif finding.evidence:
        _evidence(w, finding.evidence, MAX_EVIDENCE, 7)
    if finding.source:
        w.line("       Read: " + clean(finding.source))


# ``file#record`` or ``file:line`` at the start of an evidence line, then ": what it says".
_ORIGIN = re.compile(r"(?P<file>[^\s#]+?)(?P<at>#\d+|:\d+)(?::\s+(?P<text>.*))?", re.DOTALL)


def short_file(path: str) -> str:
    """An origin's file as the report shows it: the member name, with the archive it sits in
    only when that is nested (``a.zip!b.cab!x.evtx``); the Source section names the capture."""
    container, _, name = path.rpartition("!")
    return f"{name} (in {container})" if "!" in container else name


def _evidence(w: _Writer, evidence: Sequence[str], limit: int, indent: int) -> None:
    """Evidence lines one per line, grouped under the file they come from, so a long file name
    is written once and each line starts with what it says, not where it is."""
    pad = " " * indent
    shown = evidence[:limit]
    w.line(f"{pad}Evidence ({len(shown)} of {len(evidence)}):" if len(evidence) > len(shown)
           else f"{pad}Evidence:")
    current: str | None = None
    for line in shown:
        match = _ORIGIN.fullmatch(line.strip())
        text = match.group("text") if match else None
        if match is None or not text:
            current = None  # a bare reference: one line as it is
            w.wrap(line if match is None else short_file(line.strip()), indent + 4, f"{pad}  - ")
            continue
        if match.group("file") != current:
            current = match.group("file")
            w.wrap(short_file(current), indent + 4, f"{pad}  ")
        at = match.group("at")
        at = f"line {at[1:]}" if at.startswith(":") else at
        w.wrap(text, indent + 5 + len(at), f"{pad}    {at} ")
    if len(evidence) > len(shown):
        w.line(f"{pad}  … {len(evidence) - len(shown)} more in the JSON/HTML report")


def _hint(w: _Writer, phase: Phase, step: Step, finding: Finding | None = None) -> None:
    if step.hint is None:
        return
    if finding is not None and hint_repeats(finding, step.hint):
        return  # the finding above already says it, word for word
    w.wrap(f"Hint for {phase.title} › {step.title}: {step.hint.title}", 7, "     → ")
    w.wrap(step.hint.text, 7)
    if step.hint.source:
        w.line("       Read: " + clean(step.hint.source))  # a URL is not wrapped: keep it whole


def _what_to_do(w: _Writer, report: EspReport) -> None:
    order = findings_in_order(report)
    hints = [(p, s) for p, s in steps_needing_detail(report)[:2] if s.hint is not None]
    if not order and not hints:
        return
    w.heading("What to do first")
    shown: list[tuple[int, Finding]] = []
    for number, index in enumerate(order[:5], start=1):
        finding = report.findings[index]
        _finding(w, report, finding, number, _same_as(finding, shown))
        shown.append((number, finding))
        # The hint belongs right under the first finding about its step: that is the action.
        for pair in [h for h in hints if h[1].id == finding.step]:
            _hint(w, *pair, finding)
            hints.remove(pair)
    if len(order) > 5:
        w.line(f"     … {len(order) - 5} more findings in the JSON/HTML report")
    for phase, step in hints:
        _hint(w, phase, step)


def _status_phrase(step: Step) -> str:
    """The status word, and the ESP's own words when they differ from it: ``Failed (the ESP
    showed "Error")``; the code and its meaning follow on the "Error:" line of the facts."""
    words = status_words(step.title, step.status, step.status_text)
    label = STATUS_LABELS[step.status]
    return words if words.lower().startswith(label.lower()) else (
        f"{label} (the ESP showed \"{words}\")")


def _step_detail(w: _Writer, report: EspReport, phase: Phase, step: Step,
                 unanchored: bool = False) -> None:
    w.heading(f"{phase.title} › {step.title}")
    w.wrap(_status_phrase(step)
           + ("" if step.started or step.ended else " · no start or end time in the evidence"), 2)
    note = setting_note(report.settings, step)
    if note:
        w.wrap(note, 4, "  ")
    # The same lines the GUI's Copy summary starts with; a log's clock reading that nothing
    # ties to UTC is shown as such, as in the composite view above.
    clock = is_clock_reading(report, step.started_source) or is_clock_reading(
        report, step.ended_source)
    facts = (step_facts(step, lambda t: display_time(t).rstrip("Z"), "device clock") if clock
             else step_facts(step))
    for fact in facts:
        w.wrap(fact, 4, "  ")
    if step.items:
        w.line(f"  Items ({len(step.items)})")
        width = min(max(len(i.name or i.id) for i in step.items), 44)
        for item in step.items[:MAX_ITEMS]:
            name = clean(item.name or item.id)
            if len(name) > width:  # keep the tail: a LocURI or app id differs at its end
                head = (width - 1) // 2
                name = name[:head] + "…" + name[len(name) - (width - 1 - head):]
            code = hresult_short(item.hresult) or ""
            exit_code = f" exit {item.exit_code}" if item.exit_code is not None else ""
            w.line(f"    {w.mark(item.status)} {item.kind:<13} {name:<{width}}  "
                   f"{clean(item_state_text(item))} {code}{exit_code}".rstrip())
            if item.download is not None:
                w.wrap(download_text(item.download, unanchored), 8, "      ")
        if len(step.items) > MAX_ITEMS:
            w.line(f"    … {len(step.items) - MAX_ITEMS} more items")
    if step.events:
        chosen, left = key_events(step, MAX_EVENTS)
        w.line(f"  Key events ({len(chosen)} of {len(step.events)})")
        current: str | None = None
        for index in chosen:
            e = step.events[index]
            file, _, record = e.origin.rpartition("#")
            if file != current:  # the file once, then each event with its record number
                current = file
                w.wrap(f"from {short_file(file)}", 8, "    ")
            w.wrap(f"{e.level} {e.event_id} {e.summary}  (#{record})", 27,
                   f"      {display_time(e.time)} ")
        if left:
            w.line(f"    … {left} more events")
    if step.registry:
        w.line(f"  Registry ({len(step.registry)} keys)")
        # Keys with values first: the empty parents of a tracking tree say nothing.
        for ref in sorted(step.registry, key=lambda r: not r.values)[:5]:
            where = "; ".join(
                part for part in (
                    f"last write {display_time(ref.last_write)}" if ref.last_write else "",
                    ref.origin,
                ) if part
            )
            w.wrap(f"{ref.path}" + (f"  ({where})" if where else ""), 6, "    ")
            for value in ref.values[:MAX_VALUES]:
                w.wrap(f"{value.name or '(Default)'} = {value_shown(value)}  ({value.type})", 8,
                       "      ")
            if len(ref.values) > MAX_VALUES:
                w.line(f"      … {len(ref.values) - MAX_VALUES} more values")
        if len(step.registry) > 5:
            w.line(f"    … {len(step.registry) - 5} more keys")
    if step.logs:
        w.line(f"  Log lines ({len(step.logs)})")
        # In time order (lines linked for different reasons arrive grouped by reason).
        for log_ref in sorted(step.logs, key=lambda r: (r.time is None, r.time or 0))[
                :MAX_LOG_LINES]:
            when = display_time(log_ref.time)[11:]
            w.wrap(f"{clean(log_ref.message)}  ({log_ref.origin})", 6,
                   f"    {when.rstrip('Z') if unanchored else when} ")
        if len(step.logs) > MAX_LOG_LINES:
            w.line(f"    … {len(step.logs) - MAX_LOG_LINES} more lines")
    if not (step.items or step.events or step.registry or step.logs):
        w.line("  No evidence attached to this step.")


def _source(w: _Writer, report: EspReport) -> None:
    source = report.source
    w.heading("Source")
    w.wrap(f"{source.kind} {source.path} ({len(source.files)} files read)", 2, "  ")
    problems = source.problems
    if problems:
        w.line(f"  {len(problems)} problem(s) reading the evidence:")
        for problem in problems[:MAX_PROBLEMS]:
            w.wrap(str(problem), 6, "    - ")
        if len(problems) > MAX_PROBLEMS:
            w.line(f"    … {len(problems) - MAX_PROBLEMS} more")
    else:
        w.line("  Everything was read without problems.")
    clock = report.log_clock
    if clock is not None:
        said = any(clock.detail in str(problem) for problem in problems)  # not twice
        w.wrap(f"Log times ({clock.basis}): "
               + ("as the problem above says" if said else clean(clock.detail)), 4, "  ")
    w.line(f"  {len(report.timeline)} timeline entries, {len(report.findings)} findings.")
    w.line("  Everything: espview report PATH --json, or --html OUT for a file to mail.")


def render_text(report: EspReport, width: int = 100, color: bool = False,
                encoding: str | None = None) -> str:
    """The report for a terminal, verdict first.

    ``encoding`` is the terminal's (default: ``sys.stdout``'s); when it cannot show the
    status marks (✔ ✘ …) they become ASCII, and any other character it cannot show becomes
    ``?``, so printing the result never raises.
    """
    encoding = encoding or getattr(sys.stdout, "encoding", None) or "utf-8"
    unicode = _can_encode(encoding)
    w = _Writer(width, color, unicode)
    v = verdict(report)
    w.line(w.paint(clean(v.line), v.kind if v.kind != "incomplete" else "warning"))
    if v.step is not None:
        w.wrap(f"{_status_phrase(v.step)} · started {display_time(v.step.started)} · ended "
               f"{display_time(v.step.ended)}", 2)
        note = setting_note(report.settings, v.step)
        if note:  # it changes what the failure meant to the user: say it before anything else
            w.wrap(note, 2)
    mode = dict(device_summary(report))["Deployment mode"]
    w.wrap(" · ".join(part for part in (
        f"Device {report.device.name or 'not named in the evidence'}",
        mode if mode != "unknown" else "",
        f"{len(report.source.problems)} problem(s) reading the evidence"
        if report.source.problems else "evidence read without problems",
    ) if part), 2)
    redacted = redaction_line(report)
    if redacted:
        w.wrap(redacted, 2)
    _what_to_do(w, report)
    prep = device_preparation_lines(report)
    if prep:
        w.heading("Windows Autopilot device preparation")
        for title, status, items in prep:
            w.wrap(f"{title}: {status}", 4, "  ")
            for line in items[:MAX_ITEMS]:
                w.wrap(clean(line), 6, "    ")
    _composite(w, report)
    w.heading("Device")
    facts = device_summary(report)
    if any(value != "unknown" for _, value in facts):
        w.pairs(facts)
    else:  # a lone log: one line, not seven "unknown"s
        w.line("  The capture holds no device facts (name, serial, Autopilot profile, OS build).")
    w.heading("ESP settings")
    if settings_known(report):
        w.pairs(settings_summary(report))
    else:
        w.line("  The capture holds no ESP settings (timeout, skip flags, buttons).")
    detail = steps_needing_detail(report)[:4]
    # Steps the Intune log alone explains (a lone IME log): their apps and downloads.
    detail += [(p, s) for p in report.phases for s in p.steps
               if s.logs and s.items and (p, s) not in detail][: max(0, 5 - len(detail))]
    unanchored = report.log_clock is not None and report.log_clock.basis == "unanchored"
    for phase, step in detail:
        _step_detail(w, report, phase, step, unanchored)
    _source(w, report)
    text = "\n".join(w.lines) + "\n"
    if not unicode:
        text = text.translate(_ASCII_PUNCTUATION)
    return text.encode(encoding, "replace").decode(encoding)

"""The time chart's layout: which rows, which bars, where the ESP timeout falls, the axis.

Pure data (no drawing, no Qt): the HTML report's SVG and the GUI's chart widget draw the same
:class:`Chart`, so "which app ate the hour" reads the same in both.

Bars come only from times the report carries: a phase's or step's ``started``/``ended`` and
an item's ``history`` (every ESP snapshot and IME update, state word + time). Consecutive
history entries give segments (the state of one entry lasts until the next); a terminal state
(done or failed) ends an attempt, and anything after a failure starts a new attempt, drawn as
its own bar. Nothing is invented: a row without times is listed with a note, not drawn, and an
end the evidence does not give is marked *open* (still in that state at the last evidence).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, tzinfo
from itertools import pairwise
from typing import Literal

from core.esp import knowledge
from core.esp.model import EspReport, Item, Phase, Status, Step
from core.report.common import STATUS_LABELS, display_time, format_hresult, item_status

#: What an item was doing during a segment. ``work`` = busy, but the evidence does not say
#: whether downloading or installing (the ESP's own ``in_progress`` covers both).
Activity = Literal["download", "install", "work", "wait", "unknown"]
#: What a state word means for the attempt it belongs to.
Meaning = Literal["download", "install", "work", "wait", "unknown", "done", "failed", "retry"]
SegmentKind = Literal["phase", "step", "download", "install", "work", "wait", "unknown"]
RowLevel = Literal["phase", "step", "item"]

ACTIVITY_LABELS: dict[str, str] = {
    "phase": "phase",
    "step": "step",
    "download": "downloading",
    "install": "installing",
    "work": "in progress (download or install)",
    "wait": "waiting / not started yet",
    "unknown": "state not recognised",
}

# The timeout clock of the ESP runs per phase that tracks apps and policies (Intune's ESP page,
# https://learn.microsoft.com/intune/intune-service/enrollment/windows-enrollment-status);
# Device preparation has its own per-provider timeout instead.
TIMED_PHASES = ("DeviceSetup", "AccountSetup")
#: Steps per second beyond which ticks would crowd: the axis aims at this many ticks at most.
DEFAULT_MAX_TICKS = 8
_NICE_STEPS = (
    1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200,
    86400, 172800, 604800,
)


@dataclass(frozen=True, slots=True)
class Segment:
    """One stretch of one state inside a bar."""

    start: datetime
    end: datetime
    kind: SegmentKind
    state: str  # the evidence's own word (e.g. ``download_in_progress``)


@dataclass(frozen=True, slots=True)
class Bar:
    """One attempt of an item, or the span of a step or phase.

    ``open_start``/``open_end``: the evidence does not give that end; the bar stops at the
    last time known (drawn faded). ``start == end`` is a point: one snapshot, no span.
    """

    start: datetime
    end: datetime
    status: Status
    attempt: int
    segments: tuple[Segment, ...]
    open_start: bool = False
    open_end: bool = False
    outcome: str | None = None  # the state word that ended it (``failed``, ``completed`` …)

    @property
    def is_point(self) -> bool:
        return self.start == self.end


@dataclass(frozen=True, slots=True)
class Marker:
    """A failure at a moment (the end of a failed attempt, step or phase)."""

    time: datetime
    label: str


@dataclass(frozen=True, slots=True)
class Row:
    level: RowLevel
    label: str
    status: Status
    step_id: str | None  # the step the row selects (None for a phase)
    item_id: str | None = None
    kind: str | None = None  # the item's kind (win32, policy …)
    bars: tuple[Bar, ...] = ()
    markers: tuple[Marker, ...] = ()
    note: str | None = None  # why nothing is drawn, or what is odd about what is
    hresult: str | None = None

    @property
    def timed(self) -> bool:
        return bool(self.bars or self.markers)


@dataclass(frozen=True, slots=True)
class TimeoutLine:
    phase_id: str
    phase_title: str
    time: datetime
    minutes: int
    from_settings: bool  # False: the capture does not say, the ESP default is used
    in_range: bool  # False: beyond the chart's end (the phase ended well before it)

    @property
    def label(self) -> str:
        source = "" if self.from_settings else ", default: the capture does not say"
        return f"ESP timeout: {self.minutes} min after {self.phase_title} started{source}"


@dataclass(frozen=True, slots=True)
class Tick:
    time: datetime
    label: str


@dataclass(frozen=True, slots=True)
class AxisBreak:
    """A stretch in which nothing starts, ends or fails (e.g. a device left off overnight),
    drawn narrow so the minutes around it stay readable; it says how long it really was."""

    start: datetime
    end: datetime

    @property
    def label(self) -> str:
        return f"{duration_text((self.end - self.start).total_seconds())} without a change"


#: The share of the axis one break takes, whatever its length.
BREAK_SHARE = 0.05


@dataclass(frozen=True, slots=True)
class Chart:
    rows: tuple[Row, ...]
    start: datetime | None  # None: nothing in the report has a time
    end: datetime | None
    timeouts: tuple[TimeoutLine, ...] = ()
    ticks: tuple[Tick, ...] = ()
    breaks: tuple[AxisBreak, ...] = ()

    @property
    def span_seconds(self) -> float:
        if self.start is None or self.end is None:
            return 0.0
        return (self.end - self.start).total_seconds()

    def fraction(self, when: datetime) -> float:
        """Where ``when`` falls on the axis, 0 at the start and 1 at the end (breaks drawn
        narrow, the rest to scale)."""
        if self.start is None or self.span_seconds <= 0:
            return 0.0
        t = _utc(when)
        shown = self.span_seconds - sum((b.end - b.start).total_seconds() for b in self.breaks)
        scale = (1 - BREAK_SHARE * len(self.breaks)) / shown
        position, cursor = 0.0, self.start
        for br in self.breaks:
            if t <= br.start:
                break
            position += (br.start - cursor).total_seconds() * scale
            if t < br.end:
                return position + BREAK_SHARE * (t - br.start) / (br.end - br.start)
            position += BREAK_SHARE
            cursor = br.end
        return position + (t - cursor).total_seconds() * scale

    def pieces(self) -> list[tuple[datetime, datetime]]:
        """The stretches of the axis drawn to scale (between the breaks)."""
        if self.start is None or self.end is None:
            return []
        edges = [self.start]
        for br in self.breaks:
            edges.extend((br.start, br.end))
        edges.append(self.end)
        return list(zip(edges[::2], edges[1::2], strict=True))


# -- state words -------------------------------------------------------------------------

_RETRY = ("retry",)
_DOWNLOAD_DONE = ("downloaded", "download_completed", "download completed", "downloadcompleted")
_DOWNLOAD = ("download",)
_INSTALL = ("installing", "enforcement_in_progress", "enforcementinprogress",
            "received_install_command", "install_in_progress", "installinprogress")
# Terminal without an install: the app does not apply to this device.
_NOTHING_TO_DO = ("requirements_not_met", "not_applicable", "notapplicable")
_WAIT = ("pending", "waiting", "wait", "not_attempted", "reboot", "dependencies")


def meaning(state: str) -> Meaning:
    """What an item's state word says about its current attempt.

    Download and install are told apart only where the word says so (MSI and IME states);
    everything else goes through :func:`core.report.common.item_status`, the one reading of
    item states the reports share.
    """
    word = state.strip().lower()
    status = item_status(state)
    if any(key in word for key in _RETRY):
        return "retry"
    if status == "failed":
        return "failed"
    if word.startswith("installed") or any(key in word for key in _NOTHING_TO_DO) or (
            status == "succeeded" and "download" not in word):
        return "done"
    if any(key in word for key in _DOWNLOAD_DONE):
        return "wait"  # downloaded, install not started yet
    if any(key in word for key in _DOWNLOAD):
        return "download"
    if any(key in word for key in _INSTALL):
        return "install"
    if status == "not_started" or any(key in word for key in _WAIT):
        return "wait"
    if status == "in_progress":
        return "work"
    return "unknown"


# -- building ----------------------------------------------------------------------------


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC) if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _horizon(report: EspReport) -> datetime | None:
    """The last moment the evidence speaks of: open bars run up to here, no further.

    The timeline is sorted by time (the analysis builds it so), so its last entry is its
    latest: a capture's timeline has tens of thousands of entries, and this runs when a
    capture opens.
    """
    times: list[datetime] = [report.timeline[-1].time] if report.timeline else []
    for phase in report.phases:
        times.extend(t for t in (phase.started, phase.ended) if t is not None)
        for step in phase.steps:
            times.extend(t for t in (step.started, step.ended) if t is not None)
            times.extend(h.time for item in step.items for h in item.history)
    return max((_utc(t) for t in times), default=None)


def _span_bar(status: Status, kind: SegmentKind, started: datetime | None,
              ended: datetime | None, horizon: datetime | None) -> Bar | None:
    """A phase's or step's bar: its own start and end; a running one runs to the horizon."""
    if started is None and ended is None:
        return None
    if started is not None and ended is not None and _utc(ended) >= _utc(started):
        start, end = _utc(started), _utc(ended)
        return Bar(start, end, status, 1, (Segment(start, end, kind, status),))
    if started is not None:  # (an end before the start is not drawn: see _odd_times)
        start = _utc(started)
        end = max(start, horizon) if horizon is not None and status in ("in_progress",
                                                                         "identifying") else start
        return Bar(start, end, status, 1, (Segment(start, end, kind, status),), open_end=True)
    assert ended is not None
    end = _utc(ended)
    return Bar(end, end, status, 1, (Segment(end, end, kind, status),), open_start=True)


def _odd_times(started: datetime | None, ended: datetime | None) -> str | None:
    if started is not None and ended is not None and _utc(ended) < _utc(started):
        return (f"the evidence gives an end ({display_time(ended)}) before the start; "
                "only the start is drawn")
    return None


def _merge(segments: list[Segment]) -> tuple[Segment, ...]:
    """Neighbouring segments of the same kind and word as one (repeated snapshots)."""
    merged: list[Segment] = []
    for seg in segments:
        if merged and merged[-1].kind == seg.kind and merged[-1].state == seg.state \
                and merged[-1].end == seg.start:
            merged[-1] = Segment(merged[-1].start, seg.end, seg.kind, seg.state)
        else:
            merged.append(seg)
    return tuple(merged)


_SEGMENT_KINDS: dict[str, SegmentKind] = {
    "download": "download", "install": "install", "work": "work", "wait": "wait",
}
_OPEN_STATUS: dict[str, Status] = {"wait": "not_started", "unknown": "unknown"}


def item_attempts(item: Item, horizon: datetime | None) -> tuple[tuple[Bar, ...],
                                                                  tuple[Marker, ...]]:
    """The item's attempts as bars, and a failure marker where each failed attempt ended."""
    entries = sorted(item.history, key=lambda h: _utc(h.time))
    bars: list[Bar] = []
    markers: list[Marker] = []
    current: list[tuple[datetime, Meaning, str]] = []
    last_outcome: Meaning | None = None

    def close(end: datetime, status: Status, outcome: str | None, open_end: bool) -> None:
        segments: list[Segment] = []
        for index, (t0, m0, w0) in enumerate(current):
            t1 = current[index + 1][0] if index + 1 < len(current) else end
            segments.append(Segment(t0, t1, _SEGMENT_KINDS.get(m0, "unknown"), w0))
        bars.append(Bar(current[0][0], end, status, len(bars) + 1, _merge(segments),
                        open_end=open_end, outcome=outcome))
        current.clear()

    for entry in entries:
        when, word = _utc(entry.time), entry.status
        m = meaning(word)
        if not current:
            if m in ("done", "failed") and last_outcome == m:
                continue  # the same end seen again in a later snapshot
            if m in ("done", "failed"):
                current.append((when, "unknown", word))
                close(when, "succeeded" if m == "done" else "failed", word, False)
                if m == "failed":
                    markers.append(Marker(when, f"failed: {word}"))
                last_outcome = m
                continue
            current.append((when, "wait" if m == "retry" else m, word))
            last_outcome = None
            continue
        if m == "done":
            close(when, "succeeded", word, False)
            last_outcome = m
        elif m in ("failed", "retry"):
            close(when, "failed", word, False)
            markers.append(Marker(when, f"failed: {word}"))
            last_outcome = "failed"
            if m == "retry":  # the next attempt starts waiting for its retry right away
                current.append((when, "wait", word))
                last_outcome = None
        else:
            current.append((when, m, word))
    if current:
        last_time, last_meaning, _ = current[-1]
        end = max(last_time, horizon) if horizon is not None else last_time
        status = _OPEN_STATUS.get(last_meaning, "in_progress")
        close(end, status, None, True)
    return tuple(bars), tuple(markers)


def _item_label(item: Item) -> str:
    return item.name or item.id


def _failure_marker(status: Status, bar: Bar | None, what: str,
                    hresult: str | None) -> Marker | None:
    """Where a failed step or phase ended — only when the evidence gives that end."""
    if status != "failed" or bar is None or bar.open_end:
        return None
    code = format_hresult(hresult)
    return Marker(bar.end, f"{what} failed" + (f" ({code})" if code else ""))


def _step_rows(phase: Phase, step: Step, horizon: datetime | None) -> list[Row]:
    bar = _span_bar(step.status, "step", step.started, step.ended, horizon)
    marker = _failure_marker(step.status, bar, "step", step.hresult)
    rows = [Row("step", step.title, step.status, step.id,
                bars=(bar,) if bar else (), markers=(marker,) if marker else (),
                note=_odd_times(step.started, step.ended) or (
                    None if bar else "no start or end time in the evidence"),
                hresult=step.hresult)]
    for item in step.items:
        bars, markers = item_attempts(item, horizon)
        rows.append(Row("item", _item_label(item), item.status, step.id,
                        item.id, item.kind, bars, markers,
                        None if bars else "no time in the evidence", item.hresult))
    return rows


def _timeouts(report: EspReport, start: datetime | None, end: datetime | None
              ) -> list[TimeoutLine]:
    minutes = report.settings.timeout_minutes
    from_settings = minutes is not None
    if minutes is None:
        minutes = int(knowledge.load().rule("esp_timeout").params.get(
            "default_timeout_minutes", 60))
    lines = []
    for phase in report.phases:
        if phase.id not in TIMED_PHASES or phase.started is None:
            continue
        when = _utc(phase.started) + timedelta(minutes=minutes)
        lines.append(TimeoutLine(phase.id, phase.title, when, minutes, from_settings,
                                 in_range=start is not None and end is not None
                                 and start <= when <= end))
    return lines


def _wants_timeout(phase: Phase, line: TimeoutLine) -> bool:
    """Stretch the axis to the timeout when it matters: the phase has no end in the evidence
    (it may have run into it), or it lasted at least three quarters of the timeout. A phase
    that ended long before it keeps its own scale; the line is then only noted."""
    if phase.started is None or phase.ended is None:
        return True
    return _utc(phase.ended) - _utc(phase.started) >= timedelta(minutes=line.minutes * 0.75)


def build_chart(report: EspReport, *, max_ticks: int = DEFAULT_MAX_TICKS,
                zone: tzinfo = UTC, collapse_untimed: bool = True) -> Chart:
    """Every phase, step and tracked item as a row, in ESP order.

    ``collapse_untimed``: a phase in which nothing has a time is one row, not one per step.
    """
    horizon = _horizon(report)
    rows: list[Row] = []
    for phase in report.phases:
        bar = _span_bar(phase.status, "phase", phase.started, phase.ended, horizon)
        marker = _failure_marker(phase.status, bar, "phase", None)
        below = [row for step in phase.steps for row in _step_rows(phase, step, horizon)]
        note = _odd_times(phase.started, phase.ended) or (
            None if bar else "no start or end time in the evidence")
        if bar is None and collapse_untimed and not any(row.timed for row in below):
            # Nothing in this phase has a time: one line says so instead of one per step.
            below = []
            note = (f"no time in the evidence for this phase or its {len(phase.steps)} steps"
                    if phase.steps else note)
        rows.append(Row("phase", phase.title, phase.status, None,
                        bars=(bar,) if bar else (), markers=(marker,) if marker else (),
                        note=note))
        rows.extend(below)
    times = [t for row in rows for bar in row.bars for t in (bar.start, bar.end)]
    times.extend(m.time for row in rows for m in row.markers)
    start = min(times, default=None)
    end = max(times, default=None)
    phases: dict[str, Phase] = {p.id: p for p in report.phases}
    for line in _timeouts(report, start, end):
        if _wants_timeout(phases[line.phase_id], line):
            start = min(start, line.time) if start is not None else line.time
            end = max(end, line.time) if end is not None else line.time
    if start is not None and end is not None and start == end:
        end = start + timedelta(minutes=1)  # one moment: still an axis to put it on
    timeouts = tuple(_timeouts(report, start, end))
    moments = [t for row in rows for bar in row.bars for seg in bar.segments
               for t in (seg.start, seg.end)]
    moments.extend(m.time for row in rows for m in row.markers)
    moments.extend(line.time for line in timeouts if line.in_range)
    chart = Chart(tuple(rows), start, end, timeouts, (), axis_breaks(moments))
    return replace(chart, ticks=chart_ticks(chart, max_ticks, zone))


#: A quiet stretch becomes a break when it takes at least this share of the axis …
BREAK_MIN_SHARE = 0.3
#: … and lasts at least this long (minutes of quiet are part of the story).
BREAK_MIN = timedelta(hours=2)
MAX_BREAKS = 3


def axis_breaks(moments: list[datetime]) -> tuple[AxisBreak, ...]:
    """Breaks for the longest quiet stretches between ``moments`` (every start, end, failure
    and timeout drawn), so a capture with a night in the middle still shows its minutes."""
    points = sorted(set(moments))
    if len(points) < 2:
        return ()
    span = points[-1] - points[0]
    gaps = sorted(((b - a, a, b) for a, b in pairwise(points)
                   if b - a >= max(span * BREAK_MIN_SHARE, BREAK_MIN)), reverse=True)
    chosen = sorted(gaps[:MAX_BREAKS], key=lambda g: g[1])
    if not chosen:
        return ()
    busy = span - sum((g[0] for g in chosen), timedelta(0))
    margin = max(busy * 0.04, timedelta(minutes=1))  # room beside the marks at each edge
    return tuple(AxisBreak(a + margin, b - margin) for length, a, b in chosen
                 if length > margin * 4)


def chart_ticks(chart: Chart, max_ticks: int = DEFAULT_MAX_TICKS,
                zone: tzinfo = UTC) -> tuple[Tick, ...]:
    """Round times on the stretches drawn to scale, each with its share of ``max_ticks``."""
    ticks: list[Tick] = []
    for first, last in chart.pieces():
        share = chart.fraction(last) - chart.fraction(first)
        ticks.extend(time_ticks(first, last, max(round(max_ticks * share), 1), zone))
    return tuple(ticks)


# -- axis --------------------------------------------------------------------------------


def nice_step(span_seconds: float, max_ticks: int) -> int:
    """The smallest round step (1 s … 1 week) giving at most ``max_ticks`` ticks."""
    for step in _NICE_STEPS:
        if span_seconds / step <= max(max_ticks, 1):
            return step
    whole_weeks = int(span_seconds // (_NICE_STEPS[-1] * max(max_ticks, 1))) + 1
    return _NICE_STEPS[-1] * whole_weeks


def time_ticks(start: datetime, end: datetime, max_ticks: int = DEFAULT_MAX_TICKS,
               zone: tzinfo = UTC) -> tuple[Tick, ...]:
    """Round times between ``start`` and ``end``, labelled in ``zone``; the date is written
    on the first tick and wherever the day changes."""
    span = (end - start).total_seconds()
    if span <= 0:
        return ()
    step = nice_step(span, max_ticks)
    local = _utc(start).astimezone(zone)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    offset = (local - midnight).total_seconds()
    first = midnight + timedelta(seconds=-(-offset // step) * step) if step < 86400 else \
        midnight + (timedelta(days=1) if offset else timedelta(0))
    ticks: list[Tick] = []
    previous_day = None
    when = first
    while when <= _utc(end).astimezone(zone) and len(ticks) <= max_ticks * 2:
        day = when.date()
        if step >= 86400:
            text = when.strftime("%m-%d")
        else:
            text = when.strftime("%H:%M:%S" if step < 60 else "%H:%M")
            if day != previous_day:
                text = when.strftime("%m-%d ") + text
        ticks.append(Tick(when.astimezone(UTC), text))
        previous_day = day
        when = when + timedelta(seconds=step)
    return tuple(ticks)


# -- words for people --------------------------------------------------------------------


def duration_text(seconds: float) -> str:
    """``45 s``, ``16 min 30 s``, ``2 h 05 min``, ``1 d 03 h``."""
    s = round(seconds)
    if s < 60:
        return f"{s} s"
    if s < 3600:
        minutes, rest = divmod(s, 60)
        return f"{minutes} min" + (f" {rest} s" if rest else "")
    if s < 86400:
        hours, rest = divmod(s, 3600)
        return f"{hours} h {rest // 60:02d} min"
    days, rest = divmod(s, 86400)
    return f"{days} d {rest // 3600:02d} h"


def elide_middle(text: str, most: int) -> str:
    """``text`` cut to ``most`` characters in the middle: a LocURI or key path keeps the tail
    that tells it from its neighbours."""
    if len(text) <= most:
        return text
    most = max(most, 5)
    tail = (most - 1) * 3 // 5
    last = max(text.rfind("/"), text.rfind("\\"))
    if last >= 0 and len(text) - last <= most - 4:
        tail = max(tail, len(text) - last)  # the whole last segment, separator included
    return text[: most - 1 - tail] + "…" + text[len(text) - tail:]


def row_title(row: Row) -> str:
    """The row's name with what it is: ``Contoso VPN (win32)``."""
    return f"{row.label} ({row.kind})" if row.kind else row.label


def bar_description(row: Row, bar: Bar,
                    fmt: Callable[[datetime], str] = display_time) -> str:
    """Plain text for a bar's tooltip / SVG title: what, when, how long, how it ended."""
    lines = [row_title(row)]
    if row.level == "item":
        lines[0] += f" — attempt {bar.attempt}" if len(row.bars) > 1 else ""
    start_text = "?" if bar.open_start else fmt(bar.start)
    if bar.is_point and not bar.open_end:
        lines.append(f"at {fmt(bar.start)}")
    else:
        end_text = fmt(bar.end)
        took = "" if bar.open_start else f" ({duration_text((bar.end - bar.start).total_seconds())}"
        took += ", still running at the last evidence)" if bar.open_end and took else \
            ")" if took else ""
        lines.append(f"{start_text} → {end_text}{took}")
    code = format_hresult(row.hresult)
    outcome = bar.outcome or STATUS_LABELS[bar.status]
    if bar.status == "failed" and code:
        outcome += f" {code}"
    lines.append(f"Outcome: {'open (no end in the evidence)' if bar.open_end else outcome}")
    if row.level == "item":
        for seg in bar.segments:
            if seg.start == seg.end:
                continue
            lines.append(f"  {seg.state}: {fmt(seg.start)} → {fmt(seg.end)} "
                         f"({duration_text((seg.end - seg.start).total_seconds())})")
    return "\n".join(lines)


def timeout_note(chart: Chart, line: TimeoutLine,
                 fmt: Callable[[datetime], str] = display_time) -> str:
    """Words for a timeout line the axis does not reach (the phase ended long before it)."""
    gap = ""
    if chart.end is not None and line.time > chart.end:
        gap = f", {duration_text((line.time - chart.end).total_seconds())} after the last bar"
    return f"{line.label} — would fall at {fmt(line.time)}{gap}; not drawn."


def visible_rows(chart: Chart, max_rows: int) -> list[Row | tuple[str, int]]:
    """At most ``max_rows`` rows for a fixed-size picture: every phase and step row, then item
    rows (failed first, then those with times, then the rest), kept in ESP order; a step's
    hidden items become one ``(step_id, count)`` entry after it."""
    fixed = [i for i, row in enumerate(chart.rows) if row.level != "item"]
    items = [i for i, row in enumerate(chart.rows) if row.level == "item"]
    budget = max(max_rows - len(fixed), 0)

    def rank(i: int) -> tuple[int, int]:
        row = chart.rows[i]
        failed = row.status == "failed" or any(b.status == "failed" for b in row.bars)
        return (0 if failed else 1 if row.timed else 2, i)

    chosen = set(fixed) | set(sorted(items, key=rank)[:budget])
    out: list[Row | tuple[str, int]] = []
    hidden: dict[str, int] = {}
    last_step: str | None = None

    def flush() -> None:
        if last_step is not None and hidden.get(last_step):
            out.append((last_step, hidden.pop(last_step)))

    for i, row in enumerate(chart.rows):
        if row.level != "item":
            flush()
            last_step = row.step_id
        if i in chosen:
            out.append(row)
        elif row.step_id is not None:
            hidden[row.step_id] = hidden.get(row.step_id, 0) + 1
    flush()
    return out

"""The time chart as one inline ``<svg>``: self-contained, readable without scripts.

Colours come from the HTML report's CSS variables (with fallbacks, so the SVG also stands
alone), so dark mode follows the page. Every bar has a ``<title>`` (the browser's tooltip and
what a screen reader reads) and links to its step's section of the report: clicking a bar
"selects" its step without JavaScript. Evidence text is escaped like everywhere else.
"""

from __future__ import annotations

import html
from datetime import datetime

from core.report.common import clean, display_time
from core.report.timechart import (
    ACTIVITY_LABELS,
    Bar,
    Chart,
    Row,
    bar_description,
    duration_text,
    elide_middle,
    row_title,
    timeout_note,
    visible_rows,
)

#: Rows drawn at most; the rest are counted per step ("+N more items").
MAX_ROWS = 60
WIDTH = 1100
LABEL_WIDTH = 350  # every step title fits; long item names elide in the middle
RIGHT_PAD = 28  # room for a failure mark at the very end
AXIS_HEIGHT = 34
ROW_HEIGHT = 20
LEGEND_HEIGHT = 30
BREAK_LABEL_HEIGHT = 16
CHAR_WIDTH = 6.6  # average width of a 12 px sans-serif character, for clipping labels

# The report's palette (html_report ``_CSS``), written out rather than through its CSS
# variables so the SVG also reads right on its own and in renderers without ``var()``.
_LIGHT = {"bg": "#ffffff", "fg": "#1b1f24", "muted": "#5b6470", "line": "#d8dde3",
          "panel": "#f5f7f9",
          "ok": "#1a7f37", "bad": "#cf222e", "run": "#0969da", "warn": "#9a6700",
          "unk": "#8250df", "off": "#8c959f", "dl": "#1f9bd1", "inst": "#3d3fb8"}
_DARK = {"bg": "#0d1117", "fg": "#e6edf3", "muted": "#9198a1", "line": "#30363d",
         "panel": "#161b22",
         "ok": "#3fb950", "bad": "#f85149", "run": "#58a6ff", "warn": "#d29922",
         "unk": "#bc8cff", "off": "#6e7681", "dl": "#39c5f0", "inst": "#8d8ff5"}


def _colours(c: dict[str, str]) -> str:
    return (
        f".tc text{{fill:{c['fg']}}}.tc .muted{{fill:{c['muted']}}}.tc .note{{fill:{c['muted']}}}"
        f".tc .band{{fill:{c['panel']}}}.tc .bg,.tc .brk{{fill:{c['bg']}}}"
        f".tc .brk-edge{{stroke:{c['muted']}}}.tc .grid{{stroke:{c['line']}}}"
        f".tc .s-succeeded,.tc .s-not_required{{fill:{c['ok']}}}.tc .s-failed{{fill:{c['bad']}}}"
        f".tc .s-in_progress,.tc .s-identifying,.tc .k-work{{fill:{c['run']}}}"
        f".tc .s-not_started,.tc .s-skipped,.tc .k-wait{{fill:{c['off']}}}"
        f".tc .s-unknown,.tc .k-unknown{{fill:{c['unk']}}}"
        f".tc .k-download{{fill:{c['dl']}}}.tc .k-install{{fill:{c['inst']}}}"
        f".tc .o-failed,.tc .fail{{stroke:{c['bad']}}}.tc .o-succeeded{{stroke:{c['ok']}}}"
        f".tc .o-open{{stroke:{c['muted']}}}.tc .timeout{{stroke:{c['warn']}}}"
        f".tc .timeout-t{{fill:{c['warn']}}}.tc a:hover rect{{stroke:{c['fg']}}}"
    )


_STYLE = (
    '.tc text{font:12px system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif}'
    ".tc .note{font-style:italic}.tc .ph{font-weight:650}.tc .grid{stroke-width:1}"
    ".tc .k-phase,.tc .k-step{fill-opacity:.85}.tc .k-wait{fill-opacity:.55}"
    ".tc .k-unknown{fill-opacity:.6}"
    ".tc .o-failed,.tc .o-succeeded{fill:none;stroke-width:1.5}"
    ".tc .o-open{fill:none;stroke-width:1;stroke-dasharray:3 2}"
    ".tc .fail{stroke-width:2.2;stroke-linecap:round;fill:none}"
    ".tc .timeout{stroke-width:1.6;stroke-dasharray:6 4}.tc .timeout-t{font-weight:600}"
    ".tc a:hover rect{stroke-width:1}.tc .brk{fill-opacity:.8}"
    ".tc .brk-edge{stroke-width:1;stroke-dasharray:2 3}"
    + _colours(_LIGHT)
    + "@media (prefers-color-scheme:dark){" + _colours(_DARK) + "}"
)


def _x(text: object) -> str:
    """Escaped evidence text, line breaks kept (a ``<title>`` shows them as lines)."""
    return "\n".join(html.escape(clean(line), quote=True) for line in str(text).split("\n"))


def _clip(text: str, width: float) -> str:
    return elide_middle(text, int(width / (CHAR_WIDTH + 0.4)))  # paths: wide %, M, W


def _anchor(step_id: str) -> str:
    return "#step-" + html.escape(step_id, quote=True)


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


class _Plot:
    def __init__(self, chart: Chart) -> None:
        self.chart = chart
        self.left = LABEL_WIDTH
        self.right = WIDTH - RIGHT_PAD

    def x(self, when: datetime) -> float:
        return self.left + self.chart.fraction(when) * (self.right - self.left)


def _bar(plot: _Plot, row: Row, bar: Bar, y: float, out: list[str]) -> None:
    height = 14 if row.level == "phase" else 12
    top = y + (ROW_HEIGHT - height) / 2
    x0, x1 = plot.x(bar.start), plot.x(bar.end)
    title = f"<title>{_x(bar_description(row, bar))}</title>"
    if bar.is_point and not bar.open_end:
        cx, cy, r = x0, y + ROW_HEIGHT / 2, 5
        out.append(f'<g class="bar {row.level}">{title}<path class="s-{bar.status}" '
                   f'd="M{_num(cx)} {_num(cy - r)}'
                   f"l{r} {r} -{r} {r} -{r} -{r}z\"/></g>")
        return
    parts = [title]
    if row.level == "item":
        for seg in bar.segments:
            s0, s1 = plot.x(seg.start), plot.x(seg.end)
            if s1 - s0 < 0.5:
                continue
            parts.append(f'<rect class="k-{seg.kind}" x="{_num(s0)}" y="{_num(top)}" '
                         f'width="{_num(s1 - s0)}" height="{height}"/>')
        outline = "open" if bar.open_end else bar.status
        if outline in ("failed", "succeeded", "open"):
            parts.append(f'<rect class="o-{outline}" x="{_num(x0)}" y="{_num(top)}" '
                         f'width="{_num(max(x1 - x0, 2))}" height="{height}" rx="2"/>')
    else:
        parts.append(f'<rect class="k-{row.level} s-{bar.status}" x="{_num(x0)}" '
                     f'y="{_num(top)}" width="{_num(max(x1 - x0, 2))}" height="{height}" '
                     'rx="2"/>')
    if bar.open_end:  # the evidence stops here: an arrow, not a closed end
        mid = y + ROW_HEIGHT / 2
        parts.append(f'<path class="muted" d="M{_num(x1 + 1)} {_num(mid - 4)}l5 4 -5 4z"/>')
    out.append(f'<g class="bar {row.level}">{"".join(parts)}</g>')


def _row(plot: _Plot, row: Row, y: float, out: list[str]) -> None:
    indent = {"phase": 4, "step": 16, "item": 30}[row.level]
    name = row_title(row)
    css = "ph" if row.level == "phase" else ""
    label = _clip(clean(name), LABEL_WIDTH - indent - 24)  # \xNN counts as shown
    if row.level == "phase":
        out.append(f'<rect class="band" x="0" y="{_num(y)}" width="{WIDTH}" '
                   f'height="{ROW_HEIGHT}"/>')
    out.append(f'<circle class="s-{row.status}" cx="{indent + 4}" cy="{_num(y + 10)}" r="4">'
               f"<title>{_x(row.status)}</title></circle>")
    tip = f"{name}\n{row.note}" if row.note and row.timed else name
    text = (f'<text class="{css}" x="{indent + 13}" y="{_num(y + 14)}"><title>{_x(tip)}</title>'
            f"{_x(label)}</text>")
    out.append(f'<a href="{_anchor(row.step_id)}">{text}</a>' if row.step_id else text)
    if not row.timed:
        note = row.note or "no time in the evidence"
        back = "band" if row.level == "phase" else "bg"  # grid lines pass behind the words
        out.append(f'<rect class="{back}" x="{plot.left + 2}" y="{_num(y + 1)}" '
                   f'width="{_num(len(note) * CHAR_WIDTH + 10)}" height="{ROW_HEIGHT - 2}"/>'
                   f'<text class="note" x="{plot.left + 6}" y="{_num(y + 14)}">{_x(note)}</text>')
        return
    bars: list[str] = []
    for bar in row.bars:
        _bar(plot, row, bar, y, bars)
    for marker in row.markers:
        mx, my = plot.x(marker.time), y + ROW_HEIGHT / 2
        bars.append(f'<g><title>{_x(marker.label)} at {_x(display_time(marker.time))}</title>'
                    f'<path class="fail" d="M{_num(mx - 4)} {_num(my - 4)}l8 8m0 -8l-8 8"/></g>')
    body = "".join(bars)
    out.append(f'<a href="{_anchor(row.step_id)}">{body}</a>' if row.step_id else body)


def _legend(y: float, out: list[str]) -> None:
    x = 8.0
    entries = [("download", "k-download"), ("install", "k-install"), ("work", "k-work"),
               ("wait", "k-wait")]
    for kind, css in entries:
        words = ACTIVITY_LABELS[kind]
        out.append(f'<rect class="{css}" x="{_num(x)}" y="{_num(y + 4)}" width="14" '
                   f'height="10"/><text x="{_num(x + 18)}" y="{_num(y + 13)}">{_x(words)}'
                   "</text>")
        x += 26 + len(words) * CHAR_WIDTH
    out.append(f'<path class="fail" d="M{_num(x)} {_num(y + 5)}l8 8m0 -8l-8 8"/>'
               f'<text x="{_num(x + 13)}" y="{_num(y + 13)}">failed</text>')
    x += 70
    out.append(f'<line class="timeout" x1="{_num(x)}" y1="{_num(y + 2)}" x2="{_num(x)}" '
               f'y2="{_num(y + 16)}"/><text x="{_num(x + 6)}" y="{_num(y + 13)}">ESP timeout'
               "</text>")


def render_svg(chart: Chart, max_rows: int = MAX_ROWS) -> str:
    """The chart as an ``<svg>`` element (no XML prolog: it is meant to sit inside HTML)."""
    plot = _Plot(chart)
    shown = visible_rows(chart, max_rows)
    notes = [t for t in chart.timeouts if not t.in_range]
    below = BREAK_LABEL_HEIGHT if chart.breaks else 0
    height = AXIS_HEIGHT + ROW_HEIGHT * len(shown) + below + LEGEND_HEIGHT + 18 * len(notes) + 6
    out: list[str] = [
        f'<svg class="tc" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
        f'width="100%" role="img" aria-labelledby="tc-title"><title id="tc-title">Time chart: '
        "phases, steps and tracked items over time (UTC)</title>"
        f"<style>{_STYLE}</style>"
    ]
    body_top = AXIS_HEIGHT
    body_bottom = AXIS_HEIGHT + ROW_HEIGHT * len(shown)
    if chart.start is None:
        out.append(f'<text class="note" x="8" y="{AXIS_HEIGHT - 12}">No time in the evidence: '
                   "nothing to draw. Every row is listed below.</text>")
    out.append(f'<text class="muted" x="8" y="{AXIS_HEIGHT - 12}">UTC</text>'
               if chart.start is not None else "")
    for tick in chart.ticks:
        tx = plot.x(tick.time)
        out.append(f'<line class="grid" x1="{_num(tx)}" y1="{AXIS_HEIGHT - 6}" x2="{_num(tx)}" '
                   f'y2="{body_bottom}"/><text class="muted" x="{_num(tx)}" '
                   f'y="{AXIS_HEIGHT - 12}" text-anchor="middle">{_x(tick.label)}</text>')
    y = float(body_top)
    for entry in shown:
        if isinstance(entry, Row):
            _row(plot, entry, y, out)
        else:
            step_id, count = entry
            out.append(f'<a href="{_anchor(step_id)}"><text class="note" x="30" '
                       f'y="{_num(y + 14)}">+{count} more item{"s" if count != 1 else ""} '
                       "(listed in the step's table)</text></a>")
        y += ROW_HEIGHT
    for br in chart.breaks:  # over the bars: what crosses a break fades into it
        b0, b1 = plot.x(br.start), plot.x(br.end)
        out.append(f'<g><title>{_x(br.label)}: {_x(display_time(br.start))} → '
                   f"{_x(display_time(br.end))} (the axis is cut here)</title>"
                   f'<rect class="brk" x="{_num(b0)}" y="{AXIS_HEIGHT - 4}" '
                   f'width="{_num(b1 - b0)}" height="{body_bottom - AXIS_HEIGHT + 4}"/>'
                   f'<line class="brk-edge" x1="{_num(b0)}" y1="{AXIS_HEIGHT - 4}" '
                   f'x2="{_num(b0)}" y2="{body_bottom}"/><line class="brk-edge" x1="{_num(b1)}" '
                   f'y1="{AXIS_HEIGHT - 4}" x2="{_num(b1)}" y2="{body_bottom}"/>'
                   f'<text class="muted" x="{_num((b0 + b1) / 2)}" y="{body_bottom + 13}" '
                   f'text-anchor="middle">{_x(duration_text((br.end - br.start).total_seconds()))}'
                   "</text></g>")
    timed = [i for i, entry in enumerate(shown) if isinstance(entry, Row) and entry.timed]
    for line in chart.timeouts:
        if not line.in_range:
            continue
        lx = plot.x(line.time)
        # Drawn over the rows that have times, not through the "no time" notes.
        spans = "".join(f'<line class="timeout" x1="{_num(lx)}" y1="{body_top + i * ROW_HEIGHT}" '
                        f'x2="{_num(lx)}" y2="{body_top + (i + 1) * ROW_HEIGHT}"/>'
                        for i in timed)
        out.append(f'<g><title>{_x(line.label)}: {_x(display_time(line.time))}</title>'
                   f'<line class="timeout" x1="{_num(lx)}" y1="{AXIS_HEIGHT - 4}" '
                   f'x2="{_num(lx)}" y2="{AXIS_HEIGHT}"/>{spans}</g>')
        anchor = "end" if lx > WIDTH - 200 else "start"
        shift = -4 if anchor == "end" else 4
        out.append(f'<text class="timeout-t" x="{_num(lx + shift)}" y="{AXIS_HEIGHT - 24}" '
                   f'text-anchor="{anchor}">timeout ({_x(line.phase_title)})</text>')
    y = float(body_bottom) + 6 + below
    _legend(y, out)
    y += LEGEND_HEIGHT
    for line in notes:
        out.append(f'<text class="note" x="8" y="{_num(y + 4)}">{_x(timeout_note(chart, line))}'
                   "</text>")
        y += 18
    out.append("</svg>")
    return "".join(out)

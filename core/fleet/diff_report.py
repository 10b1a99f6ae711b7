"""A :class:`~core.fleet.diff.ReportDiff` as JSON (``espview.diff/1``), text and HTML."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from core import __version__
from core.esp.model import EspReport
from core.fleet.diff import Change, ReportDiff, StepRow
from core.report.common import STATUS_LABELS, clean, display_time, redaction_line, verdict

DIFF_SCHEMA = "espview.diff/1"


def _side(report: EspReport) -> dict[str, Any]:
    device = report.device
    return {
        "source": report.source.path,
        "kind": report.source.kind,
        "device": device.name,
        "serial": device.serial,
        "os_build": device.os_build,
        "deployment_mode": device.deployment_mode,
        "verdict": verdict(report).line,
        "redacted": report.redaction is not None,
    }


def _json_value(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, list | tuple):
        return [_json_value(v) for v in value]
    return str(value)


def diff_to_dict(diff: ReportDiff) -> dict[str, Any]:
    """The diff as plain JSON data (``espview.diff/1``)."""
    return {
        "schema": DIFF_SCHEMA,
        "a": _side(diff.a),
        "b": _side(diff.b),
        "same_device": diff.same_device,
        "differs": diff.differs,
        "notes": list(diff.notes),
        "steps": [
            {
                "id": r.id, "title": r.title, "level": r.level,
                "a": {"status": r.a_status, "hresult": r.a_hresult, "seconds": r.a_seconds},
                "b": {"status": r.b_status, "hresult": r.b_hresult, "seconds": r.b_seconds},
                "changed": r.changed,
            }
            for r in diff.rows
        ],
        "changes": [
            {"where": c.where, "what": c.what, "a": _json_value(c.a), "b": _json_value(c.b),
             "matters": c.matters}
            for c in diff.changes
        ],
    }


def diff_json(diff: ReportDiff) -> str:
    return json.dumps(diff_to_dict(diff), indent=2, ensure_ascii=False) + "\n"


def _status(status: str | None) -> str:
    if status is None:
        return "(absent)"
    return STATUS_LABELS.get(status, status)  # type: ignore[call-overload, no-any-return]


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _value(value: Any) -> str:
    if value is None:
        return "—"
    return clean(value) if not isinstance(value, float) else f"{value:g}"


def _cell(row: StepRow, side: str) -> str:
    status = _status(getattr(row, f"{side}_status"))
    code = getattr(row, f"{side}_hresult")
    return f"{status} {code}" if code else status


def diff_text(diff: ReportDiff, width: int = 100) -> str:
    """The two ESPs side by side, then every change; what matters is marked ``!``."""
    lines = [
        "ESPView compare — " + ("SOMETHING THAT MATTERS DIFFERS" if diff.differs
                                else "nothing that matters differs"),
        f"  A: {clean(diff.a.source.path)} · device {clean(diff.a.device.name or 'unknown')}"
        f" · {diff.a.device.deployment_mode}",
        f"  B: {clean(diff.b.source.path)} · device {clean(diff.b.device.name or 'unknown')}"
        f" · {diff.b.device.deployment_mode}",
    ]
    for report in (diff.a, diff.b):
        redacted = redaction_line(report)
        if redacted:
            lines.append(f"  {redacted}")
            break
    lines.extend(f"  Note: {note}" for note in diff.notes)
    lines.append("")
    title_w = min(44, max((len(r.title) + (2 if r.level == "step" else 0) for r in diff.rows),
                          default=10))
    col = max(14, (width - title_w - 6) // 2)
    lines.append(f"  {'':{title_w}} {'A':{col}} B")
    for row in diff.rows:
        title = (row.title if row.level == "phase" else "  " + row.title)[:title_w]
        a = f"{_cell(row, 'a')} {_duration(row.a_seconds)}"
        b = f"{_cell(row, 'b')} {_duration(row.b_seconds)}"
        mark = "!" if row.changed else " "
        lines.append(f"{mark} {clean(title):{title_w}} {a[:col]:{col}} {b}")
    lines.append("")
    matters = [c for c in diff.changes if c.matters]
    others = [c for c in diff.changes if not c.matters]
    lines.append(f"Changes that matter ({len(matters)}):" if matters else
                 "No change that matters.")
    lines.extend(_change_line(c) for c in matters)
    if others:
        lines.append(f"Other differences ({len(others)}):")
        lines.extend(_change_line(c) for c in others)
    return "\n".join(lines) + "\n"


def _change_line(change: Change) -> str:
    if change.what in {"added", "appeared"}:
        return f"  + {clean(change.where)}: {change.what} {_value(change.b)}"
    if change.what in {"removed", "gone"}:
        return f"  - {clean(change.where)}: {change.what} {_value(change.a)}"
    return f"  ~ {clean(change.where)}: {change.what} {_value(change.a)} → {_value(change.b)}"


_CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#1b1b1b;background:#fff}
@media (prefers-color-scheme:dark){body{color:#e6e6e6;background:#1e1e1e}
 tr.changed td{background:#4a3b00!important}td,th{border-color:#444!important}}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;
text-align:left;vertical-align:top}tr.phase td{font-weight:600}tr.changed td{background:#fff3c4}
.s-failed{color:#c50f1f}.s-succeeded{color:#107c10}.mono{font-family:ui-monospace,monospace}
.note{color:#8a6d00}.m{font-weight:700;color:#c50f1f}
"""


def _e(value: object) -> str:
    return html.escape(clean(value) if value is not None else "—")


def diff_html(diff: ReportDiff) -> str:
    """One self-contained HTML page: side-by-side steps, changed rows highlighted."""
    verdict_line = "Something that matters differs" if diff.differs else (
        "Nothing that matters differs")
    out = [
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="color-scheme" content="light dark">'
        f"<title>ESPView compare — {_e(verdict_line)}</title><style>{_CSS}</style></head><body>",
        f"<h1>ESPView compare — {_e(verdict_line)}</h1>",
        "<table><tr><th></th><th>A</th><th>B</th></tr>",
    ]
    sides = (diff.a, diff.b)
    for label, getter in (
        ("Source", lambda r: r.source.path),
        ("Device", lambda r: r.device.name),
        ("Serial", lambda r: r.device.serial),
        ("OS build", lambda r: r.device.os_build),
        ("Deployment mode", lambda r: r.device.deployment_mode),
        ("Verdict", lambda r: verdict(r).line),
        ("First step started", lambda r: display_time(_first_start(r))),
    ):
        out.append(f"<tr><th>{label}</th>" + "".join(
            f'<td class="mono">{_e(getter(r))}</td>' for r in sides) + "</tr>")
    out.append("</table>")
    for report in sides:
        redacted = redaction_line(report)
        if redacted:
            out.append(f'<p class="note">{_e(redacted)}</p>')
            break
    out.extend(f'<p class="note">{_e(note)}</p>' for note in diff.notes)
    out.append("<h2>Step by step</h2><table><tr><th>Phase / step</th><th>A</th><th>A time</th>"
               "<th>B</th><th>B time</th></tr>")
    for row in diff.rows:
        css = " ".join(c for c in (row.level, "changed" if row.changed else "") if c)
        out.append(
            f'<tr class="{css}"><td>{_e(row.title)}<br><span class="mono">{_e(row.id)}</span></td>'
            f'<td class="s-{_e(row.a_status)}">{_e(_cell(row, "a"))}</td>'
            f"<td>{_e(_duration(row.a_seconds))}</td>"
            f'<td class="s-{_e(row.b_status)}">{_e(_cell(row, "b"))}</td>'
            f"<td>{_e(_duration(row.b_seconds))}</td></tr>"
        )
    out.append("</table>")
    out.append(f"<h2>Changes ({len(diff.changes)})</h2>")
    if diff.changes:
        out.append("<table><tr><th></th><th>Where</th><th>What</th><th>A</th><th>B</th></tr>")
        for change in sorted(diff.changes, key=lambda c: not c.matters):
            mark = '<span class="m" title="matters">!</span>' if change.matters else ""
            out.append(
                f"<tr><td>{mark}</td><td>{_e(change.where)}</td><td>{_e(change.what)}</td>"
                f"<td>{_e(_value(change.a))}</td><td>{_e(_value(change.b))}</td></tr>"
            )
        out.append("</table>")
    else:
        out.append("<p>No differences.</p>")
    out.append(f"<footer>ESPView {__version__} · {DIFF_SCHEMA} · times are UTC</footer>"
               "</body></html>\n")
    return "".join(out)


def _first_start(report: EspReport) -> Any:
    starts = [p.started for p in report.phases if p.started is not None]
    return min(starts) if starts else None


def write_diff_html(diff: ReportDiff, out_path: Path) -> None:
    out_path.write_text(diff_html(diff), encoding="utf-8")

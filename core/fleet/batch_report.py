"""Batch outputs: CSV (one row per capture), JSON (rows + summary) and one HTML page."""

from __future__ import annotations

import csv
import html
import io
import json
import os
from dataclasses import asdict
from pathlib import Path
from typing import Any

from core import __version__
from core.fleet.batch import COLUMNS, BatchResult, Row, Summary, summarise
from core.fleet.redact import Redactor
from core.report.common import clean

BATCH_SCHEMA = "espview.batch/1"
#: Row fields that hold identifiers (rewritten by ``--redact``).
_IDENTIFYING = ("source", "device", "serial", "first_finding", "first_problem", "error",
                "verdict", "report_html")


def redact_rows(rows: list[Row], redactor: Redactor | None = None) -> list[Row]:
    """Rows with identifiers replaced; one redactor for the whole batch keeps tokens stable."""
    redactor = redactor or Redactor()
    for row in rows:
        redactor.learn("device", row.device)
        redactor.learn("serial", row.serial)
        for name in _IDENTIFYING:
            value = getattr(row, name)
            if isinstance(value, str):
                redactor.learn_text(value)
    out: list[Row] = []
    for row in rows:
        data = asdict(row)
        for name in _IDENTIFYING:
            if name != "report_html" and isinstance(data[name], str):
                data[name] = redactor.text(data[name])
        data["failed_apps"] = [[redactor.text(x) for x in app] for app in row.failed_apps]
        out.append(Row.from_dict(data))
    return out


def _cell(value: Any) -> str:
    if value is None:
        return ""
    return clean(value) if isinstance(value, str) else str(value)


def rows_csv(rows: list[Row]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow([_csv_safe(_cell(getattr(row, c))) for c in COLUMNS])
    return buffer.getvalue()


def _csv_safe(text: str) -> str:
    # A cell starting with = + - @ is a formula to a spreadsheet: evidence is hostile input.
    return "'" + text if text[:1] in {"=", "+", "-", "@"} and not _number(text) else text


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _summary_dict(summary: Summary) -> dict[str, Any]:
    return {
        "outcomes": dict(summary.outcomes),
        "failing_steps": [{"step": k, "captures": n} for k, n in summary.failing_steps],
        "codes": [{"code": k, "captures": n} for k, n in summary.codes],
        "failing_apps": [{"app": k, "captures": n} for k, n in summary.failing_apps],
        "by_deployment_mode": dict(summary.by_mode),
        "by_os_build": dict(summary.by_os_build),
    }


def batch_to_dict(result: BatchResult, rows: list[Row], redacted: bool) -> dict[str, Any]:
    return {
        "schema": BATCH_SCHEMA,
        "captures": result.total,
        "done": len(rows),
        "interrupted": result.interrupted,
        "redacted": redacted,
        "rows": [
            {**{c: getattr(r, c) for c in COLUMNS},
             "failed_apps": [{"id": a[0], "name": a[1], "status": a[2]} for a in r.failed_apps],
             "report_html": r.report_html, "cached": r.cached}
            for r in rows
        ],
        "summary": _summary_dict(summarise(rows)),
    }


_CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em}
@media (prefers-color-scheme:dark){body{color:#e6e6e6;background:#1e1e1e}
 td,th{border-color:#444!important}}
table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;padding:3px 8px;
text-align:left;vertical-align:top}.o-failed{color:#c50f1f;font-weight:600}
.o-succeeded{color:#107c10}.o-error{color:#8a6d00}.mono{font-family:ui-monospace,monospace}
"""


def _e(value: Any) -> str:
    return html.escape(_cell(value))


def _counts_table(title: str, head: str, pairs: list[tuple[str, int]]) -> str:
    if not pairs:
        return f"<h3>{_e(title)}</h3><p>None.</p>"
    body = "".join(f"<tr><td>{_e(k)}</td><td>{n}</td></tr>" for k, n in pairs)
    return f"<h3>{_e(title)}</h3><table><tr><th>{_e(head)}</th><th>Captures</th></tr>{body}</table>"


def _outcome_table(title: str, head: str, table: list[tuple[str, dict[str, int]]]) -> str:
    outcomes = sorted({o for _, counts in table for o in counts})
    header = "".join(f"<th>{_e(o)}</th>" for o in outcomes)
    body = "".join(
        f"<tr><td>{_e(k)}</td>" + "".join(f"<td>{counts.get(o, 0)}</td>" for o in outcomes)
        + "</tr>"
        for k, counts in table
    )
    return f"<h3>{_e(title)}</h3><table><tr><th>{_e(head)}</th>{header}</tr>{body}</table>"


def batch_html(result: BatchResult, rows: list[Row], out_path: Path, redacted: bool) -> str:
    """The batch as one page; each row links to that capture's own HTML report."""
    summary = summarise(rows)
    state = " (interrupted: rows done so far)" if result.interrupted else ""
    out = [
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="color-scheme" content="light dark">'
        f"<title>ESPView fleet batch — {len(rows)} captures</title><style>{_CSS}</style>"
        "</head><body>",
        f"<h1>ESPView fleet batch — {len(rows)} of {result.total} captures{_e(state)}</h1>",
    ]
    if redacted:
        out.append("<p>Redacted: personal and tenant identifiers replaced by pseudonyms.</p>")
    out.append("<h2>Summary</h2>")
    out.append(_counts_table("Outcomes", "Outcome", summary.outcomes))
    out.append(_counts_table("Steps that fail most", "Step", summary.failing_steps))
    out.append(_counts_table("Error codes", "Code", summary.codes))
    out.append(_counts_table("Apps that fail most", "App (id)", summary.failing_apps))
    out.append(_outcome_table("Outcome by deployment mode", "Deployment mode", summary.by_mode))
    out.append(_outcome_table("Outcome by OS build", "OS build", summary.by_os_build))
    out.append("<h2>Captures</h2><table><tr>" + "".join(f"<th>{_e(c)}</th>" for c in COLUMNS)
               + "</tr>")
    base = out_path.parent
    for row in rows:
        cells = []
        for column in COLUMNS:
            value = _e(getattr(row, column))
            if column == "source" and row.report_html:
                try:
                    href = os.path.relpath(row.report_html, base)
                except ValueError:  # another drive on Windows
                    href = row.report_html
                href = Path(href).as_posix()
                value = f'<a href="{html.escape(href, quote=True)}">{value}</a>'
            css = f' class="o-{_e(row.outcome)}"' if column == "outcome" else ""
            cells.append(f"<td{css}>{value}</td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append(f"</table><footer>ESPView {__version__} · {BATCH_SCHEMA}</footer></body></html>\n")
    return "".join(out)


def rows_text(result: BatchResult, rows: list[Row]) -> str:
    """A short terminal summary: one line per capture, then the top failing step and code."""
    lines = []
    for row in rows:
        what = row.error or row.verdict
        lines.append(f"{row.outcome:11} {_cell(row.device) or '?':20} {_cell(row.source)}  {what}")
    summary = summarise(rows)
    lines.append("")
    lines.append("Outcomes: " + ", ".join(f"{k} {n}" for k, n in summary.outcomes))
    if summary.failing_steps:
        lines.append("Step failing most: " + ", ".join(
            f"{k} ({n})" for k, n in summary.failing_steps[:3]))
    if summary.codes:
        lines.append("Codes: " + ", ".join(f"{k} ({n})" for k, n in summary.codes[:5]))
    if summary.failing_apps:
        lines.append("Apps failing most: " + ", ".join(
            f"{k} ({n})" for k, n in summary.failing_apps[:5]))
    if result.interrupted:
        lines.append(f"Interrupted: {len(rows)} of {result.total} captures done.")
    return "\n".join(clean(line) if line else line for line in lines) + "\n"


def write_outputs(
    result: BatchResult,
    *,
    csv_path: Path | None,
    html_path: Path | None,
    json_path: Path | None,
    redact: bool,
) -> list[Row]:
    """Write the outputs asked for; returns the rows as written (redacted when asked)."""
    rows = redact_rows(result.rows) if redact else result.rows
    if csv_path is not None:
        csv_path.write_text(rows_csv(rows), encoding="utf-8-sig", newline="")
    if json_path is not None:
        json_path.write_text(
            json.dumps(batch_to_dict(result, rows, redact), indent=2, ensure_ascii=False) + "\n",
            encoding="utf-8",
        )
    if html_path is not None:
        html_path.write_text(batch_html(result, rows, html_path, redact), encoding="utf-8")
    return rows

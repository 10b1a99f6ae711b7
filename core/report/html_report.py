"""The HTML report: one self-contained file a technician can mail.

Everything is inline — CSS, SVG status icons — and nothing is fetched: no fonts, scripts or
images, so it reads the same from a mail attachment, offline, or printed. The only links are
the hints' sources (``http``/``https`` only). Light and dark follow ``prefers-color-scheme``.

Every string from the evidence goes through :func:`_e` (control characters shown as
``\\xNN``, then ``html.escape``): evidence is hostile input.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

from core import __version__
from core.esp.model import SCHEMA, EspReport, Finding, Phase, Status, Step
from core.report.common import (
    DONE,
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
    hresult_text,
    item_state_text,
    redaction_line,
    setting_note,
    settings_summary,
    status_words,
    step_title,
    value_shown,
    verdict,
)
from core.report.timechart import build_chart
from core.report.timechart_svg import render_svg

log = logging.getLogger(__name__)

#: Rows of the timeline table at most; the JSON report always has them all.
MAX_TIMELINE_ROWS = 5000


def _e(text: object) -> str:
    return html.escape(clean(text), quote=True)


def _safe_url(url: str | None) -> str | None:
    """The URL if it is a plain web link, else None (a ``javascript:`` hint is not a link)."""
    if url is None:
        return None
    stripped = url.strip()
    if stripped.lower().startswith(("https://", "http://")) and not any(
        ch.isspace() or ord(ch) < 32 for ch in stripped
    ):
        return stripped
    return None


def _link(url: str | None, label: str = "Source") -> str:
    safe = _safe_url(url)
    if safe is None:
        return f"<span class=\"src\">{_e(url)}</span>" if url else ""
    return (f"<a class=\"src\" href=\"{html.escape(safe, quote=True)}\" "
            f"rel=\"noreferrer noopener\">{_e(label)}</a>")


# Icons: 16×16, drawn in currentColor so the status class (and dark mode) colours them.
_ICON_SHAPES: dict[Status, str] = {
    "succeeded": '<circle cx="8" cy="8" r="7"/><path d="M4.5 8.2l2.3 2.3 4.7-4.9" '
    'fill="none" stroke="var(--on-icon)" stroke-width="1.8" stroke-linecap="round" '
    'stroke-linejoin="round"/>',
    "failed": '<circle cx="8" cy="8" r="7"/><path d="M5.3 5.3l5.4 5.4M10.7 5.3l-5.4 5.4" '
    'stroke="var(--on-icon)" stroke-width="1.8" stroke-linecap="round"/>',
    "in_progress": '<circle cx="8" cy="8" r="6.2" fill="none" stroke="currentColor" '
    'stroke-width="1.6" stroke-dasharray="3 2"/><circle cx="8" cy="8" r="2.2"/>',
    "identifying": '<circle cx="8" cy="8" r="6.2" fill="none" stroke="currentColor" '
    'stroke-width="1.6" stroke-dasharray="3 2"/><circle cx="8" cy="8" r="2.2"/>',
    "unknown": '<circle cx="8" cy="8" r="6.2" fill="none" stroke="currentColor" '
    'stroke-width="1.6"/><path d="M6.2 6.3a1.9 1.9 0 1 1 2.6 1.8c-.6.3-.8.6-.8 1.2v.4" '
    'fill="none" stroke="currentColor" stroke-width="1.5" stroke-linecap="round"/>'
    '<circle cx="8" cy="11.6" r=".9"/>',
    "not_started": '<circle cx="8" cy="8" r="6.2" fill="none" stroke="currentColor" '
    'stroke-width="1.6"/>',
    "skipped": '<circle cx="8" cy="8" r="6.2" fill="none" stroke="currentColor" '
    'stroke-width="1.6"/><path d="M5 8h6" stroke="currentColor" stroke-width="1.6" '
    'stroke-linecap="round"/>',
    "not_required": '<circle cx="8" cy="8" r="6.2" fill="none" stroke="currentColor" '
    'stroke-width="1.6"/><path d="M5 8h6" stroke="currentColor" stroke-width="1.6" '
    'stroke-linecap="round"/>',
}
_ICONS: dict[Status, str] = {
    status: (f'<svg class="icon s-{status}" viewBox="0 0 16 16" width="16" height="16" '
             f'role="img" aria-label="{STATUS_LABELS[status]}" fill="currentColor">'
             f"<title>{STATUS_LABELS[status]}</title>{shape}</svg>")
    for status, shape in _ICON_SHAPES.items()
}
_VERDICT_ICONS: dict[str, Status] = {"failed": "failed", "in_progress": "in_progress",
                                     "succeeded": "succeeded"}
_SEVERITY_STATUS: dict[str, Status] = {"error": "failed", "warning": "in_progress",
                                       "info": "unknown"}

_CSS = """
:root{color-scheme:light dark;--bg:#fff;--fg:#1b1f24;--muted:#5b6470;--line:#d8dde3;
--panel:#f5f7f9;--ok:#1a7f37;--bad:#cf222e;--run:#0969da;--warn:#9a6700;--unk:#8250df;
--off:#8c959f;--on-icon:#fff;--bad-bg:#ffebe9;--run-bg:#ddf4ff;--ok-bg:#dafbe1;--unk-bg:#f6f0ff}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--fg:#e6edf3;--muted:#9198a1;
--line:#30363d;--panel:#161b22;--ok:#3fb950;--bad:#f85149;--run:#58a6ff;--warn:#d29922;
--unk:#bc8cff;--off:#6e7681;--on-icon:#0d1117;--bad-bg:#3c1618;--run-bg:#0c2d6b;
--ok-bg:#0f3d1e;--unk-bg:#2b1f47}}
*{box-sizing:border-box}
body{margin:0 auto;max-width:1180px;padding:20px 24px 40px;background:var(--bg);color:var(--fg);
font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif}
h1{font-size:22px;margin:0 0 2px}h2{font-size:18px;margin:28px 0 10px;padding-bottom:4px;
border-bottom:1px solid var(--line)}h3{font-size:15px;margin:14px 0 6px}
code,.mono{font-family:ui-monospace,"Cascadia Mono",Consolas,Menlo,monospace;font-size:12.5px}
.muted{color:var(--muted)}.sub{color:var(--muted);margin:0 0 12px;word-break:break-all}
.icon{width:16px;height:16px;vertical-align:-3px;flex:none}
.s-succeeded{color:var(--ok)}.s-failed{color:var(--bad)}.s-in_progress,.s-identifying{color:var(--run)}
.s-unknown{color:var(--unk)}.s-not_started,.s-skipped,.s-not_required{color:var(--off)}
.verdict{display:flex;gap:10px;align-items:center;font-size:18px;font-weight:650;padding:12px 14px;
border-radius:8px;border:1px solid var(--line);background:var(--panel)}
.verdict .icon{width:22px;height:22px}
.v-failed{background:var(--bad-bg);border-color:var(--bad)}
.v-in_progress{background:var(--run-bg);border-color:var(--run)}
.v-succeeded{background:var(--ok-bg);border-color:var(--ok)}
.v-unknown,.v-incomplete{background:var(--unk-bg);border-color:var(--unk)}
.banner{margin:10px 0 0;padding:10px 14px;border-left:4px solid var(--bad);background:var(--panel);
border-radius:0 8px 8px 0}.banner.sev-warning{border-color:var(--warn)}
.banner.sev-info{border-color:var(--unk)}.banner p{margin:4px 0}
.facts{display:grid;grid-template-columns:repeat(auto-fill,minmax(250px,1fr));gap:4px 18px;
margin:0;padding:0}.facts div{display:flex;gap:8px;min-width:0}
.facts dt{color:var(--muted);flex:none}.facts dd{margin:0;overflow-wrap:anywhere;font-weight:550}
.esp{display:grid;grid-template-columns:repeat(3,minmax(0,1fr));gap:12px}
@media (max-width:900px){.esp{grid-template-columns:1fr}}
.phase{border:1px solid var(--line);border-radius:8px;padding:10px 12px;background:var(--panel)}
.phase.box-failed{border-color:var(--bad)}
.phase-head{display:flex;gap:8px;align-items:center;font-weight:650;color:var(--fg)}
.phase-head .status{margin-left:auto;font-weight:500}
.times{color:var(--muted);font-size:12px}
.steps{list-style:none;margin:8px 0 0;padding:0}
.steps li{display:flex;gap:8px;align-items:flex-start;padding:6px 0;
border-top:1px solid var(--line)}
.steps li>div{min-width:0}.steps a{color:var(--fg);text-decoration:none;font-weight:550}
.steps a:hover{text-decoration:underline}.steps .st{display:block;font-size:12.5px}
.steps .st code{color:inherit}
details.step{border:1px solid var(--line);border-radius:8px;margin:10px 0;padding:0 12px}
details.step.box-failed{border-color:var(--bad)}
details.step .times{font-weight:400}
details.step>summary{cursor:pointer;padding:9px 0;font-weight:650;color:var(--fg)}
details.step>summary .status{font-weight:500;margin-left:6px}
.hint{border-left:4px solid var(--run);background:var(--panel);padding:8px 12px;margin:4px 0 10px;
border-radius:0 6px 6px 0}.hint p{margin:4px 0}
table{border-collapse:collapse;width:100%;margin:4px 0 12px;font-size:12.5px}
th,td{text-align:left;vertical-align:top;padding:4px 8px;border-bottom:1px solid var(--line);
overflow-wrap:anywhere}
th{color:var(--muted);font-weight:600;background:var(--panel)}
td.n{white-space:nowrap;overflow-wrap:normal}
table.values th:first-child{width:32%}table.values th:nth-child(2){width:130px}
.regkey{margin:6px 0 12px}.regkey .path{font-weight:600;overflow-wrap:anywhere}
.lvl-error,.lvl-critical{color:var(--bad);font-weight:600}.lvl-warning{color:var(--warn);font-weight:600}
.finding{padding:8px 12px;margin:8px 0;border:1px solid var(--line);border-left-width:4px;
border-radius:6px}.finding.sev-error{border-left-color:var(--bad)}
.finding.sev-warning{border-left-color:var(--warn)}.finding.sev-info{border-left-color:var(--unk)}
.finding p{margin:4px 0}.finding ul{margin:4px 0;padding-left:20px}
.sev{font-size:11px;text-transform:uppercase;letter-spacing:.04em;font-weight:700}
.sev-error .sev{color:var(--bad)}.sev-warning .sev{color:var(--warn)}
.sev-info .sev{color:var(--unk)}
.note{color:var(--muted);font-style:italic}
.setting{border-left:4px solid var(--warn);background:var(--panel);padding:6px 12px;margin:6px 0}
footer{margin-top:30px;color:var(--muted);font-size:12px}
a{color:var(--run)}
@media print{body{max-width:none;padding:0;font-size:11px}.esp{grid-template-columns:repeat(3,1fr)}
.phase,details.step,.finding,.verdict{break-inside:avoid}h2{break-after:avoid}
table{font-size:10px}a.src::after{content:" (" attr(href) ")";font-size:9px}}
"""


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _icon(status: Status) -> str:
    return _ICONS[status]


def _status_span(status: Status, text: str | None, hresult: str | None = None,
                 title: str = "") -> str:
    """The status beside ``title``: the ESP's own words without the title they repeat."""
    shown = status_words(title, status, text)
    words = _e(shown)
    code = format_hresult(hresult)
    if code and code.lower() not in shown.lower():
        title, short = _e(hresult_text(code) or code), _e(hresult_short(code) or code)
        words += f' <code title="{title}">{short}</code>'
    return f'<span class="status s-{status}">{words}</span>'


def _times(started: datetime | None, ended: datetime | None) -> str:
    if started is None and ended is None:
        return ""
    return (f'<span class="times">{_e(display_time(started))} → '
            f"{_e(display_time(ended))}</span>")


def _step_anchor(step: Step) -> str:
    return "step-" + html.escape(step.id, quote=True)


def _header(report: EspReport, out: list[str]) -> None:
    v = verdict(report)
    icon_status: Status = _VERDICT_ICONS.get(v.kind, "unknown")
    source = report.source
    out.append("<header><h1>ESPView report")
    if report.device.name:
        out.append(f" — {_e(report.device.name)}")
    out.append(f'</h1><p class="sub">{_e(source.kind)} <span class="mono">{_e(source.path)}</span>'
               f" · {_count(len(source.files), 'file')}"
               f" · {_count(len(source.problems), 'problem')} reading them"
               f" · {SCHEMA}</p>")
    redacted = redaction_line(report)
    if redacted:
        out.append(f'<p class="note">{_e(redacted)}</p>')
    out.append(f'<div class="verdict v-{v.kind}">{_icon(icon_status)}<span>{_e(v.line)}</span>'
               "</div>")
    note = setting_note(report.settings, v.step) if v.step is not None else None
    if note:  # it changes what the failure meant to the user
        out.append(f'<p class="setting">{_e(note)}</p>')
    order = findings_in_order(report)
    if order:
        top = report.findings[order[0]]
        out.append(f'<div class="banner sev-{top.severity}"><strong>{_e(top.title)}</strong>'
                   f"<p>{_e(top.text)}</p>")
        hint_step = report.step(top.step) if top.step else v.step
        if (hint_step is not None and hint_step.hint is not None
                and not hint_repeats(top, hint_step.hint)):
            hint = hint_step.hint
            out.append(f"<p><strong>What to do:</strong> {_e(hint.title)} — {_e(hint.text)} "
                       f"{_link(hint.source)}</p>")
        elif top.source:
            out.append(f"<p>{_link(top.source)}</p>")
        out.append("</div>")
    elif v.step is not None and v.step.hint is not None:
        hint = v.step.hint
        out.append(f'<div class="banner"><strong>{_e(hint.title)}</strong><p>{_e(hint.text)} '
                   f"{_link(hint.source)}</p></div>")
    for caption, pairs in (("Device", device_summary(report)),
                           ("ESP settings", settings_summary(report))):
        out.append(f'<h3>{caption}</h3><dl class="facts">')
        out.extend(f"<div><dt>{_e(label)}</dt><dd>{_e(value)}</dd></div>" for label, value in pairs)
        out.append("</dl>")
    out.append("</header>")


def _composite(report: EspReport, out: list[str]) -> None:
    out.append('<section id="esp"><h2>Enrollment Status Page — every phase and step</h2>'
               '<div class="esp">')
    for phase in report.phases:
        out.append(f'<div class="phase box-{phase.status}" id="phase-{_e(phase.id)}">'
                   f'<div class="phase-head">{_icon(phase.status)}<span>{_e(phase.title)}</span>'
                   f"{_status_span(phase.status, phase.status_text, title=phase.title)}</div>"
                   f"{_times(phase.started, phase.ended)}<ol class=\"steps\">")
        if not phase.steps:
            out.append('<li class="note">No steps known for this phase.</li>')
        for step in phase.steps:
            status = _status_span(step.status, step.status_text, step.hresult, step.title)
            out.append(f'<li class="step box-{step.status}">{_icon(step.status)}<div>'
                       f'<a href="#{_step_anchor(step)}">{_e(step.title)}</a>'
                       f'<span class="st">{status}</span>{_times(step.started, step.ended)}'
                       "</div></li>")
        out.append("</ol></div>")
    out.append("</div></section>")


def _table(head: Iterable[str], rows: Iterable[str], css: str = "") -> str:
    cells = "".join(f"<th>{h}</th>" for h in head)
    attr = f' class="{css}"' if css else ""
    return (f"<table{attr}><thead><tr>{cells}</tr></thead><tbody>{''.join(rows)}</tbody>"
            "</table>")


def _step_detail(report: EspReport, phase: Phase, step: Step, out: list[str]) -> None:
    out.append(f'<details open class="step box-{step.status}" id="{_step_anchor(step)}">'
               f"<summary>{_icon(step.status)} {_e(phase.title)} › {_e(step.title)}"
               f"{_status_span(step.status, step.status_text, step.hresult, step.title)} "
               f"{_times(step.started, step.ended)}</summary>")
    out.append(f'<p class="muted mono">{_e(step.id)}</p>')
    # Where it changes the meaning: a step that did not simply complete.
    note = setting_note(report.settings, step) if step.status not in DONE else None
    if note:
        out.append(f'<p class="setting">{_e(note)}</p>')
    if step.status_reason:
        out.append(f"<p><strong>Why:</strong> {_e(step.status_reason)}</p>")
    sources = [f"{what} from {src}" for what, src in (("start", step.started_source),
                                                      ("end", step.ended_source)) if src]
    if sources:
        out.append(f'<p class="muted">Times: {_e("; ".join(sources))}</p>')
    if step.hint is not None:
        hint = step.hint
        out.append(f'<div class="hint"><strong>{_e(hint.title)}</strong><p>{_e(hint.text)}</p>'
                   f"{_link(hint.source)}</div>")
    if step.items:
        out.append(f"<h3>Items ({len(step.items)})</h3>")
        rows = []
        for item in step.items:
            history = "<br>".join(f"{_e(display_time(h.time))} {_e(h.status)}"
                                  for h in item.history)
            extra = (f'<div class="muted">{_e(download_text(item.download))}</div>'
                     if item.download is not None else "")
            if item.exit_code is not None:
                extra += f'<div class="muted">exit code {item.exit_code}</div>'
            rows.append(f"<tr><td>{_icon(item.status)}</td><td>{_e(item.kind)}</td>"
                        f"<td>{_e(item.name or '')}<div class=\"mono muted\">{_e(item.id)}</div>"
                        f"{extra}</td><td>{_e(item.scope)}</td><td>{_e(item_state_text(item))}</td>"
                        f"<td class=\"mono\">{_e(hresult_text(item.hresult) or '')}</td>"
                        f'<td class="n">{history}</td></tr>')
        out.append(_table(["", "Kind", "Name / id", "Scope", "Status", "HRESULT", "History"],
                          rows))
    if step.registry:
        out.append(f"<h3>Registry ({len(step.registry)} keys)</h3>")
        for ref in step.registry:
            written = (f"last write {_e(display_time(ref.last_write))} · "
                       if ref.last_write else "")
            out.append(f'<div class="regkey"><div class="path mono">{_e(ref.path)}</div>'
                       f'<div class="muted">{written}'
                       f'<span class="mono">{_e(ref.origin)}</span></div>')
            rows = [f"<tr><td class=\"mono\">{_e(v.name or '(Default)')}</td>"
                    f"<td class=\"mono n\">{_e(v.type)}</td>"
                    f"<td class=\"mono\">{_e(value_shown(v, 256))}</td></tr>"
                    for v in ref.values]
            if rows:
                out.append(_table(["Name", "Type", "Data"], rows, "values"))
            out.append("</div>")
    if step.events:
        out.append(f"<h3>Events ({len(step.events)})</h3>")
        rows = [f"<tr><td class=\"n\">{_e(display_time(ev.time))}</td>"
                f"<td class=\"n lvl-{_e(ev.level.strip().lower())}\">{_e(ev.level)}</td>"
                f"<td>{_e(ev.channel)}</td><td class=\"n\">{ev.event_id}</td>"
                f"<td>{_e(ev.summary)}</td>"
                f"<td class=\"mono\">{_e(ev.origin)}</td></tr>" for ev in step.events]
        out.append(_table(["Time (UTC)", "Level", "Channel", "Id", "Summary", "Origin"], rows))
    if step.logs:
        out.append(f"<h3>Log lines ({len(step.logs)})</h3>")
        rows = [f"<tr><td class=\"n\">{_e(display_time(g.time))}</td>"
                f"<td class=\"n lvl-{_e(g.severity)}\">{_e(g.severity)}</td>"
                f"<td>{_e(g.component)}</td><td>{_e(g.message[:400])}</td>"
                f"<td class=\"mono\">{_e(g.origin)}</td></tr>" for g in step.logs]
        out.append(_table(["Time (UTC)", "Severity", "Component", "Message", "Origin"], rows))
    if not (step.items or step.registry or step.events or step.logs):
        out.append('<p class="note">No evidence was found for this step.</p>')
    out.append("</details>")


def _finding(report: EspReport, finding: Finding) -> str:
    where = step_title(report, finding.step)
    place = f" · {_e(where)}" if where else ""
    evidence = "".join(f'<li class="mono">{_e(item)}</li>' for item in finding.evidence)
    status = _SEVERITY_STATUS[finding.severity]
    confidence = f", {_e(finding.confidence)} confidence" if finding.confidence else ""
    return (f'<div class="finding sev-{finding.severity}">{_icon(status)} '
            f'<span class="sev">{finding.severity}</span>{confidence}{place}<br>'
            f"<strong>{_e(finding.title)}"
            f"</strong><p>{_e(finding.text)}</p>"
            + (f"<ul>{evidence}</ul>" if evidence else "")
            + (f"<p>{_link(finding.source)}</p>" if finding.source else "")
            + "</div>")


def _timeline(report: EspReport, out: list[str]) -> None:
    total = len(report.timeline)
    out.append(f'<section id="timeline"><h2>Timeline ({total} entries)</h2>')
    if not total:
        out.append('<p class="note">No timeline entries.</p></section>')
        return
    titles: dict[str | None, str] = {}
    rows = []
    for entry in report.timeline[:MAX_TIMELINE_ROWS]:
        if entry.step not in titles:
            titles[entry.step] = _e(step_title(report, entry.step) or "")
        rows.append(f'<tr><td class="n">{_e(display_time(entry.time))}</td>'
                    f"<td>{_e(entry.kind)}</td><td>{titles[entry.step]}</td>"
                    f'<td>{_e(entry.summary)}</td><td class="mono">{_e(entry.origin)}</td></tr>')
    out.append(_table(["Time (UTC)", "Kind", "Step", "Summary", "Origin"], rows))
    if total > MAX_TIMELINE_ROWS:
        out.append(f'<p class="note">{total - MAX_TIMELINE_ROWS} more entries in the JSON '
                   "report (espview report PATH --json).</p>")
    out.append("</section>")


def render_html(report: EspReport) -> str:
    """The whole report as one self-contained HTML document."""
    v = verdict(report)
    out: list[str] = [
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        '<meta name="color-scheme" content="light dark">'
        f"<title>ESPView — {_e(report.device.name or 'unknown device')} — {_e(v.line)}</title>"
        f"<style>{_CSS}</style></head><body>"
    ]
    _header(report, out)
    prep = device_preparation_lines(report)
    if prep:
        out.append('<section id="device-preparation"><h2>Windows Autopilot device preparation</h2>')
        for title, status, items in prep:
            out.append(f"<p><strong>{_e(title)}</strong>: {_e(status)}</p>")
            if items:
                out.append("<ul>" + "".join(f'<li class="mono">{_e(i)}</li>' for i in items)
                           + "</ul>")
        out.append("</section>")
    _composite(report, out)
    out.append('<section id="timechart"><h2>Time chart</h2>'
               f"{render_svg(build_chart(report))}</section>")
    out.append('<section id="steps"><h2>Evidence per step</h2>')
    for phase in report.phases:
        for step in phase.steps:
            _step_detail(report, phase, step, out)
    out.append("</section>")
    out.append(f'<section id="findings"><h2>Findings ({len(report.findings)})</h2>')
    if report.findings:
        out.extend(_finding(report, report.findings[i]) for i in findings_in_order(report))
    else:
        out.append('<p class="note">No findings.</p>')
    out.append("</section>")
    _timeline(report, out)
    problems = report.source.problems
    out.append(f'<section id="problems"><h2>Problems reading the evidence ({len(problems)})</h2>')
    if problems:
        out.append("<ul>" + "".join(
            f'<li><span class="mono">{_e(p.file)}</span> {_e(p.where)}: {_e(p.message)}</li>'
            for p in problems) + "</ul>")
    else:
        out.append('<p class="note">Everything was read without problems.</p>')
    clock = report.log_clock
    times = "times are UTC"
    if clock is not None and clock.basis == "unanchored":
        times += " except Intune log times: the device's clock reading, nothing anchors them"
    elif clock is not None:
        times += f"; Intune log times {clock.detail}"
    out.append(f"</section><footer>ESPView {__version__} · {SCHEMA} · {_e(times)}</footer>"
               "</body></html>\n")
    return "".join(out)


def write_html(report: EspReport, out_path: Path) -> None:
    """Write :func:`render_html` to ``out_path`` (UTF-8), creating nothing else."""
    text = render_html(report)
    out_path.write_text(text, encoding="utf-8")
    log.info("wrote HTML report %s (%d bytes)", out_path, len(text.encode("utf-8")))

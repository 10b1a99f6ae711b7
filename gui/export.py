"""Exports (HTML, JSON via ``core.report``), the step summary text, and the evidence bundle."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from core.esp.model import EspReport, Step
from core.report.common import hresult_short, hresult_text
from gui.models import format_data, status_text
from gui.timefmt import TimeDisplay

if TYPE_CHECKING:
    from core.evidence import Evidence

log = logging.getLogger(__name__)


def export_html(report: EspReport, path: Path) -> None:
    from core.report.html_report import write_html  # noqa: PLC0415 - the report writers load only when exporting

    write_html(report, path)


def export_json(report: EspReport, path: Path) -> None:
    from core.report.json_report import write_json  # noqa: PLC0415 - the report writers load only when exporting

    with path.open("w", encoding="utf-8", newline="\n") as fp:
        write_json(report, fp)


def step_summary(report: EspReport, step: Step, times: TimeDisplay) -> str:
    """Plain text a technician pastes into a ticket: status, error, hint, evidence counts."""
    phase = next((p for p in report.phases if step in p.steps), None)
    lines = [f"{phase.title + ' › ' if phase else ''}{step.title}: "
             f"{status_text(step.status, step.status_text)}"]
    if report.device.name or report.device.serial:
        lines.append(f"Device: {report.device.name or '?'} (serial {report.device.serial or '?'})")
    if step.hresult:
        lines.append(f"Error: {hresult_text(step.hresult)}")
    if step.started or step.ended:
        lines.append(f"Time ({times.label}): {times.fmt(step.started) or '?'} → "
                     f"{times.fmt(step.ended) or '?'}")
    if step.hint is not None:
        lines.append(f"Hint: {step.hint.title} — {step.hint.text}")
        if step.hint.source:
            lines.append(f"Source: {step.hint.source}")
    if step.items:
        lines.append("Items:")
        lines.extend(f"  - {i.name or i.id} [{i.kind}, {i.scope}]: {i.status}"
                     f"{' ' + (hresult_short(i.hresult) or '') if i.hresult else ''}"
                     for i in step.items)
    if step.events:
        lines.append("Events:")
        lines.extend(f"  - {times.fmt(e.time)} {e.level} {e.event_id}: {e.summary} ({e.origin})"
                     for e in step.events[:20])
        if len(step.events) > 20:
            lines.append(f"  … and {len(step.events) - 20} more")
    if step.registry:
        lines.append("Registry:")
        for ref in step.registry:
            lines.append(f"  {ref.path}  ({ref.origin})")
            lines.extend(f"    {v.name or '(Default)'} = {format_data(v.data)}"
                         for v in ref.values)
    lines.append(f"Source: {report.source.path}")
    return "\n".join(lines) + "\n"


def save_bundle(folder: Path, evidence: Evidence | None, report: EspReport, *,
                redact: bool = False) -> list[Path]:
    """Write what was read plus the HTML and JSON report into a new subfolder of ``folder``.

    Returns the files written. Source files are copied only when they exist on disk (live
    exports, an opened folder); the report's registry evidence is saved as text either way.
    ``redact`` writes the redacted report and leaves the source files out (raw evidence
    cannot be redacted).
    """
    from datetime import UTC, datetime  # noqa: PLC0415 - only when saving

    if redact:
        from core.fleet.redact import redact_report  # noqa: PLC0415 - only when saving

        report, evidence = redact_report(report, evidence), None

    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    name = report.device.name or "device"
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in name)[:40]
    target = folder / f"ESPView-{safe}-{stamp}"
    target.mkdir(parents=True, exist_ok=False)
    written: list[Path] = []
    for writer, file_name in ((export_html, "report.html"), (export_json, "report.json")):
        path = target / file_name
        try:
            writer(report, path)
            written.append(path)
        except Exception:
            log.exception("could not write %s", path)
    registry_text = target / "registry-evidence.txt"
    with registry_text.open("w", encoding="utf-8") as fp:
        for step in report.steps:
            for ref in step.registry:
                fp.write(f"[{ref.path}]  ; {step.id}, {ref.origin}\n")
                for value in ref.values:
                    fp.write(f"  {value.name or '@'} ({value.type}) = {format_data(value.data)}\n")
                fp.write("\n")
    written.append(registry_text)
    if evidence is not None:
        base = Path(evidence.source.path)
        files_dir = target / "files"
        for name_in_source in evidence.source.files:
            source = Path(name_in_source)
            if not source.is_absolute():
                source = (base if base.is_dir() else base.parent) / name_in_source
            if not source.is_file():
                continue
            destination = files_dir / Path(name_in_source).name
            destination.parent.mkdir(exist_ok=True)
            shutil.copy2(source, destination)
            written.append(destination)
        problems = target / "problems.txt"
        problems.write_text("".join(f"{p}\n" for p in evidence.problems), encoding="utf-8")
        written.append(problems)
    return written

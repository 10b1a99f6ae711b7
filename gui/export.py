"""Exports (HTML, JSON via ``core.report``), the step summary text, and the evidence bundle."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from core.esp.model import EspReport, Step
from core.report.summary import step_summary as core_step_summary
from gui.models import format_data
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
    """Plain text a technician pastes into a ticket (written by ``core``, shown in the GUI's
    time display)."""
    return core_step_summary(report, step, times.fmt, times.label)


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

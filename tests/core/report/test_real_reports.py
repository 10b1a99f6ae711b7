"""Reports of the real captures: valid against the schema, and every writer copes with them.

Runs once the analysis (``core.esp.analyze``) exists; until then it is skipped. Nothing from
the captures is asserted by value (they hold personal data): only shape and counts.
"""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

import pytest

from core.report import render_html, render_text, report_to_dict, validate_report_dict

CAPTURES = ["mdmdiag-itziktdk-MyRes", "mdmdiag-joopjaeng-jaeng", "mdmdiag-shahzadssd-logfile"]


@pytest.mark.real
@pytest.mark.slow
@pytest.mark.parametrize("capture", CAPTURES)
def test_real_capture_reports_are_valid_in_every_format(real_dir: Path, capture: str) -> None:
    analyze = pytest.importorskip("core.esp.analyze").analyze
    from core.evidence import load_evidence

    cab = real_dir / capture / "MDMDiagReport.cab"
    if not cab.is_file():
        pytest.skip(f"{capture} is not here")
    report = analyze(load_evidence(cab))
    data = report_to_dict(report)
    assert validate_report_dict(data) == []
    assert json.loads(json.dumps(data, ensure_ascii=False)) == data
    assert [p["id"] for p in data["phases"]] == ["DevicePreparation", "DeviceSetup",
                                                 "AccountSetup"]
    page = render_html(report)
    parser = HTMLParser()
    parser.feed(page)
    parser.close()
    assert page.count("<details open") == len(report.steps)
    text = render_text(report, encoding="utf-8")
    first = text.splitlines()[0]
    assert first.split()[0] in {"FAILED", "IN", "SUCCEEDED", "UNKNOWN", "NO"}

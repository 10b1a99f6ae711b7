"""Reports of an :class:`~core.esp.model.EspReport`: JSON (``espview.report/1``), HTML, text.

The writers are pure: they take a report and return a string or a dict (or write to the
stream/file they are given). The CLI picks the writer; the GUI's "Save report" uses the same.

Set ``ESPVIEW_VALIDATE_REPORTS=1`` to have :func:`report_to_dict` check every report against
the JSON Schema (the test suite does, from ``tests/conftest.py``).
"""

from core.report.common import exit_code_for, verdict
from core.report.html_report import render_html, write_html
from core.report.json_report import (
    report_to_dict,
    schema_path,
    validate_report_dict,
    write_json,
)
from core.report.text_report import render_text

__all__ = [
    "exit_code_for",
    "render_html",
    "render_text",
    "report_to_dict",
    "schema_path",
    "validate_report_dict",
    "verdict",
    "write_html",
    "write_json",
]

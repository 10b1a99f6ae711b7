"""Reports of an :class:`~core.esp.model.EspReport`: JSON (``espview.report/1``), HTML, text.

The writers are pure: they take a report and return a string or a dict (or write to the
stream/file they are given). The CLI picks the writer; the GUI's "Save report" uses the same.
"""

from core.report.common import exit_code_for, verdict
from core.report.json_report import (
    report_to_dict,
    schema_path,
    validate_report_dict,
    write_json,
)

__all__ = [
    "exit_code_for",
    "report_to_dict",
    "schema_path",
    "validate_report_dict",
    "verdict",
    "write_json",
]

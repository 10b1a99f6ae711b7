"""Reports of an :class:`~core.esp.model.EspReport`: JSON (``espview.report/1``), HTML, text.

The writers are pure: they take a report and return a string or a dict (or write to the
stream/file they are given). The CLI picks the writer; the GUI's "Save report" uses the same.

Set ``ESPVIEW_VALIDATE_REPORTS=1`` to have :func:`report_to_dict` check every report against
the JSON Schema (the test suite does, from ``tests/conftest.py``).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from core.report.common import exit_code_for, verdict
    from core.report.html_report import render_html, write_html
    from core.report.json_report import (
        report_to_dict,
        schema_path,
        validate_report_dict,
        write_json,
    )
    from core.report.text_report import render_text

#: Where each name lives. They are imported on first use: a ``report --json`` run needs
#: neither the HTML writer nor the time chart, and importing them costs more than writing
#: the JSON of a small capture.
_HOMES = {
    "exit_code_for": "common",
    "verdict": "common",
    "render_html": "html_report",
    "write_html": "html_report",
    "report_to_dict": "json_report",
    "schema_path": "json_report",
    "validate_report_dict": "json_report",
    "write_json": "json_report",
    "render_text": "text_report",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value


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

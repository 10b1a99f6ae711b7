"""SVG icons from ``resources/icons`` (sharp at any device-pixel ratio), cached by name."""

from __future__ import annotations

from functools import cache

from PySide6.QtGui import QIcon

from core.paths import resource_path


@cache
def icon(name: str) -> QIcon:
    """``QIcon`` of ``resources/icons/<name>.svg``; an empty icon when the file is missing."""
    path = resource_path("icons", f"{name}.svg")
    if not path.is_file():
        return QIcon()
    return QIcon(str(path))


def status_icon(status: str) -> QIcon:
    return icon(f"status-{status}")


def severity_icon(severity: str) -> QIcon:
    return icon(f"severity-{severity}")

"""Fonts derived from the application font (which may be sized in pixels, not points)."""

from __future__ import annotations

from PySide6.QtGui import QFont, QGuiApplication


def derived(base: QFont | None = None, *, scale: float = 1.0, bold: bool = False) -> QFont:
    font = QFont(base if base is not None else QGuiApplication.font())
    if scale != 1.0:
        if font.pointSizeF() > 0:
            font.setPointSizeF(font.pointSizeF() * scale)
        elif font.pixelSize() > 0:
            font.setPixelSize(round(font.pixelSize() * scale))
    if bold:
        font.setBold(True)
    return font

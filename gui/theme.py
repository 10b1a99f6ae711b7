"""View › Theme: follow the system, or force light or dark (Fusion with a matching palette)."""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QStyleFactory

THEMES = ("system", "light", "dark")
_original: dict[str, object] = {}


def _dark_palette() -> QPalette:
    palette = QPalette()
    window, base, text = QColor(45, 45, 48), QColor(30, 30, 30), QColor(230, 230, 230)
    role = QPalette.ColorRole
    for r, color in ((role.Window, window), (role.WindowText, text), (role.Base, base),
                     (role.AlternateBase, QColor(40, 40, 43)), (role.Text, text),
                     (role.Button, window), (role.ButtonText, text),
                     (role.ToolTipBase, QColor(60, 60, 64)), (role.ToolTipText, text),
                     (role.BrightText, QColor(255, 255, 255)), (role.Dark, QColor(120, 30, 20)),
                     (role.Highlight, QColor(38, 79, 120)),
                     (role.HighlightedText, QColor(255, 255, 255)),
                     (role.Link, QColor(110, 170, 255)),
                     (role.PlaceholderText, QColor(150, 150, 150))):
        palette.setColor(r, color)
    for r in (role.WindowText, role.Text, role.ButtonText):
        palette.setColor(QPalette.ColorGroup.Disabled, r, QColor(120, 120, 120))
    return palette


def apply_theme(name: str) -> None:
    """Apply ``name`` (one of :data:`THEMES`) to the running application."""
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        return
    if not _original:
        _original["style"] = app.style().name()
        _original["palette"] = QPalette(app.palette())
    if name == "system":
        app.setStyle(QStyleFactory.create(str(_original["style"])))
        app.setPalette(_original["palette"])  # type: ignore[arg-type]  # saved QPalette
        return
    app.setStyle(QStyleFactory.create("Fusion"))
    if name == "dark":
        app.setPalette(_dark_palette())
    else:
        app.setPalette(app.style().standardPalette())

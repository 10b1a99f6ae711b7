"""Evidence is shown as plain text, never as markup.

Qt guesses "rich text" for a ``QLabel``, a tooltip or a message box whose text starts like
HTML, and then fetches ``<img src=…>`` (a local file, or an SMB path on Windows with the
technician's credentials), makes ``<a href=…>`` clickable and lets styled HTML fake the
window. Evidence strings come from the captured device, so every place that shows one goes
through this module: labels are created plain, tooltips are escaped and wrapped so Qt renders
them as literal text, and the middle-eliding of long key paths lives here too.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget

ELLIPSIS = "…"


def plain_label(text: str = "", parent: QWidget | None = None, *, name: str = "",
                selectable: bool = False, wrap: bool = False, elastic: bool = False) -> QLabel:
    """A ``QLabel`` that shows ``text`` literally, whatever it holds.

    ``elastic`` labels (long paths, provenance) never widen the window: they take the width
    they are given and the rest is cut (the full text stays selectable and copyable).
    """
    label = QLabel(parent)
    if elastic:
        label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        label.setMinimumWidth(1)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setText(text)
    if name:
        label.setObjectName(name)
    if selectable:
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setWordWrap(wrap)
    return label


def tooltip(text: str | None) -> str | None:
    """Tooltip markup that renders ``text`` literally (Qt would guess rich text otherwise).

    Line breaks are kept; very long texts are cut so a tooltip never covers the screen.
    """
    if not text:
        return None
    if len(text) > 4000:
        text = text[:4000] + " " + ELLIPSIS
    escaped = html.escape(text, quote=False).replace("\n", "<br>")
    return f"<qt><p style='white-space:pre-wrap'>{escaped}</p></qt>"


def elide_middle(text: str, metrics: QFontMetrics, width: int) -> str:
    """``text`` fitting ``width`` pixels with the middle elided: key paths keep their tail
    (the app id, the SID or the time stamp that tells rows apart) and their hive."""
    if width <= 0 or metrics.horizontalAdvance(text) <= width:
        return text
    return metrics.elidedText(text, Qt.TextElideMode.ElideMiddle, width)

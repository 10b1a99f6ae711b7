"""The one crash dialog: an unexpected exception shows its details with a copy button, and the
app keeps running. Expected problems never come here (they are messages in the window)."""

from __future__ import annotations

import logging
import platform
import sys
import traceback
from types import TracebackType
from typing import Any

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import qVersion
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

log = logging.getLogger(__name__)


def versions() -> str:
    return (f"ESPView on Python {platform.python_version()}, PySide6 {pyside_version}, "
            f"Qt {qVersion()}, {platform.platform()}")


class CrashDialog(QDialog):
    """Shows what went wrong and lets the user copy it into a bug report."""

    def __init__(self, details: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("ESPView — unexpected error")
        self.details = f"{versions()}\n\n{details}"
        layout = QVBoxLayout(self)
        label = QLabel("Something went wrong inside ESPView. The window stays open and "
                       "you can carry on; please copy these details into a bug report.")
        label.setWordWrap(True)
        layout.addWidget(label)
        self.text = QPlainTextEdit(self.details)
        self.text.setReadOnly(True)
        self.text.setMinimumSize(640, 280)
        layout.addWidget(self.text)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.copy_button = QPushButton("&Copy details")
        buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.copy_button.clicked.connect(self.copy)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def copy(self) -> None:
        QGuiApplication.clipboard().setText(self.details)


class CrashHandler:
    """``sys.excepthook`` replacement: one dialog at a time, later crashes only logged."""

    def __init__(self, parent_getter: Any = None, *, modal: bool = True) -> None:
        self._parent_getter = parent_getter
        self._modal = modal
        self.dialog: CrashDialog | None = None
        self._previous = sys.excepthook

    def install(self) -> None:
        sys.excepthook = self

    def uninstall(self) -> None:
        sys.excepthook = self._previous

    def __call__(self, exc_type: type[BaseException], exc: BaseException,
                 tb: TracebackType | None) -> None:
        details = "".join(traceback.format_exception(exc_type, exc, tb))
        self.show(details)

    def show(self, details: str) -> None:
        log.error("unexpected error:\n%s", details)
        if self.dialog is not None and self.dialog.isVisible():
            return  # one dialog; the log has the rest
        parent = self._parent_getter() if self._parent_getter else None
        self.dialog = CrashDialog(details, parent)
        if self._modal:
            self.dialog.exec()
        else:
            self.dialog.show()

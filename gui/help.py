"""Help texts: version, keyboard shortcuts (read from the window's own actions, so the list
cannot drift), and how to collect evidence from a device stuck on the ESP."""

from __future__ import annotations

from importlib import metadata

from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QMainWindow,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from gui.crash import versions

COLLECT_HELP = """\
On a device stuck on the Enrollment Status Page:

1. Press Shift+F10 to open a command prompt (during OOBE), or Ctrl+Shift+Esc → File → Run
   new task → cmd (on the ESP itself).

2. Collect the Autopilot diagnostics cab:
       mdmdiagnosticstool.exe -area "Autopilot;DeviceEnrollment;DeviceProvisioning;TPM"
           -cab C:\\Temp\\MDMDiagReport.cab
   (one line; the areas are the ones the ESP needs)
   If the ESP shows "Collect logs", that button writes the same cab to a USB stick.

3. The Intune Management Extension (IME) logs tell the Win32 app story. Copy the folder
       C:\\ProgramData\\Microsoft\\IntuneManagementExtension\\Logs
   next to the cab (e.g. robocopy it to the USB stick), or zip it: both open here.

4. Copy the cab (and the Logs folder) to a USB stick or a share, and open it in ESPView
   with File › Open (Ctrl+O) or by dropping it on the window. ESPView never changes it.

ESPView can also run on the stuck device itself (from the USB stick): File › Attach to this
device reads the registry, event logs and IME logs read-only.
"""


def version() -> str:
    try:
        return metadata.version("espview")
    except metadata.PackageNotFoundError:  # a frozen build without its metadata
        return "unknown"


def about_text() -> str:
    return (f"ESPView {version()}\n\nESPView rebuilds the Windows Autopilot Enrollment Status "
            f"Page from diagnostics evidence and explains every step.\n\n{versions()}")


def shortcuts_text(window: QMainWindow) -> str:
    """Every window action with a shortcut, as "Keys  Action" lines."""
    rows = []
    for action in window.actions():
        keys = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        if keys and action.isVisible():
            rows.append((keys, action.text().replace("&", "").rstrip("…")))
    rows += [("Ctrl+C", "Copy the selected row (in any list)"),
             ("Ctrl+Enter", "Open a key in the registry browser / a timeline row's step"),
             ("Double-click", "Open a row in its details pane")]
    width = max(len(keys) for keys, _title in rows)
    return "\n".join(f"{keys.ljust(width)}   {title}" for keys, title in rows)


def show_text(parent: QWidget, title: str, text: str) -> QDialog:
    """A non-modal dialog with selectable plain text (never rendered as markup)."""
    dialog = QDialog(parent)
    dialog.setObjectName("textDialog")
    dialog.setWindowTitle(title)
    layout = QVBoxLayout(dialog)
    body = QPlainTextEdit(text)
    body.setReadOnly(True)
    body.setMinimumSize(640, 360)
    layout.addWidget(body)
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
    buttons.rejected.connect(dialog.close)
    layout.addWidget(buttons)
    dialog.show()
    return dialog

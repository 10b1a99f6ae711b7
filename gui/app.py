"""Entry point the CLI calls: :func:`run` builds the app, opens what was asked, and either
runs the event loop or (``--screenshot``) renders the window to a PNG and exits."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

from PySide6.QtCore import (
    QEventLoop,
    QMessageLogContext,
    Qt,
    QTimer,
    QtMsgType,
    qInstallMessageHandler,
)
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication

from core import config
from core.config import Settings
from gui.crash import CrashHandler
from gui.icons import icon
from gui.main_window import MainWindow

log = logging.getLogger(__name__)
qt_log = logging.getLogger("qt")

# Harmless messages of Qt's own platform plugins, printed on every run without a screen.
QT_NOISE = frozenset({"This plugin does not support propagateSizeHints()"})
_QT_LEVELS = {
    QtMsgType.QtDebugMsg: logging.DEBUG,
    QtMsgType.QtInfoMsg: logging.INFO,
    QtMsgType.QtWarningMsg: logging.WARNING,
    QtMsgType.QtCriticalMsg: logging.ERROR,
    QtMsgType.QtFatalMsg: logging.CRITICAL,
}


def _qt_message(mode: QtMsgType, _context: QMessageLogContext, message: str) -> None:
    """Qt's messages go through Python logging (so the CLI's level applies), minus noise."""
    if message not in QT_NOISE:
        qt_log.log(_QT_LEVELS.get(mode, logging.WARNING), "%s", message)

SCREENSHOT_SIZE = (1280, 800)
SCREENSHOT_TIMEOUT_MS = 300_000


def application() -> QApplication:
    """The one ``QApplication`` (created on first call), following the system palette."""
    existing = QApplication.instance()
    if isinstance(existing, QApplication):
        return existing
    qInstallMessageHandler(_qt_message)
    QGuiApplication.setHighDpiScaleFactorRoundingPolicy(
        Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
    app = QApplication(sys.argv[:1])
    app.setApplicationName("ESPView")
    app.setOrganizationName("ESPView")
    app.setWindowIcon(icon("espview"))
    return app


def wait_for_load(window: MainWindow, timeout_ms: int = SCREENSHOT_TIMEOUT_MS) -> str:
    """Run the event loop until the window's current load finishes; returns its outcome."""
    outcome = ["timeout"]
    loop = QEventLoop()

    def done(result: str) -> None:
        outcome[0] = result
        loop.quit()

    window.load_finished.connect(done)
    QTimer.singleShot(timeout_ms, loop.quit)
    if window.loads.busy:
        loop.exec()
    else:
        outcome[0] = "loaded" if window.loaded is not None else "failed"
    window.load_finished.disconnect(done)
    return outcome[0]


def save_screenshot(window: MainWindow, out: Path) -> bool:
    window.resize(*SCREENSHOT_SIZE)
    window.show()
    QApplication.processEvents()
    if window.loaded is not None and window.loaded.report.first_failed_step is not None:
        window.select_step(window.loaded.report.first_failed_step.id)
    QApplication.processEvents()
    out.parent.mkdir(parents=True, exist_ok=True)
    return window.grab().save(str(out), "PNG")


def run(argv_path: str | None, *, sample: bool = False, live: bool = False,
        screenshot: str | None = None, settings: Settings | None = None) -> int:
    """Open the GUI. Returns the process exit code (0 ok; 2 unusable input for --screenshot).

    ``settings``: what the edge read from the environment (core.config); the GUI's loads
    use them. None: read the environment here (the GUI started without the CLI)."""
    config.use(settings if settings is not None else Settings.from_environ(os.environ))
    app = application()
    crash = CrashHandler(QApplication.activeWindow, modal=screenshot is None)
    crash.install()
    window = MainWindow(crash=crash)
    try:
        if live:
            window.open_live()
        elif sample:
            window.open_sample()
        elif argv_path:
            window.open_path(argv_path)
        if screenshot is not None:
            outcome = wait_for_load(window) if (argv_path or sample) else "loaded"
            if not save_screenshot(window, Path(screenshot)):
                print(f"espview: could not write {screenshot}", file=sys.stderr)
                return 3
            return {"loaded": 0, "failed": 2, "cancelled": 2}.get(outcome, 3)
        window.resize(*SCREENSHOT_SIZE)
        window.show()
        return app.exec()
    finally:
        window.shutdown()
        crash.uninstall()

"""Live attach (Windows only): refresh timer, and ``mdmdiagnosticstool`` log collection.

Everything platform-specific is behind :data:`LIVE_SUPPORTED` so the menu entries are hidden
elsewhere; the logic takes injected callables so tests drive it on any OS.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QProcess, QTimer, Signal

from core.esp.model import EspReport

log = logging.getLogger(__name__)

LIVE_SUPPORTED = sys.platform == "win32"
REFRESH_SECONDS = 10
RUNNING = frozenset({"in_progress", "identifying", "not_started"})


def esp_still_running(report: EspReport) -> bool:
    """True while some phase has not finished (so the next refresh may show something new)."""
    if any(p.status == "failed" for p in report.phases):
        return False
    return any(p.status in RUNNING for p in report.phases) or \
        any(s.status in ("in_progress", "identifying") for s in report.steps)


def diagnostics_tool() -> str:
    """Full path of mdmdiagnosticstool.exe (System32), so a hijacked PATH cannot swap it; the
    Windows folder is the one the settings read at start-up (core.config)."""
    from core import config  # noqa: PLC0415 - Windows-only path

    return str(Path(config.current().system_root) / "System32" / "MdmDiagnosticsTool.exe")


def collect_logs_command(folder: Path, program: str | None = None) -> tuple[str, list[str], Path]:
    """``(program, arguments, cab path)`` for ``mdmdiagnosticstool -area Autopilot;TPM -cab``."""
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    cab = folder / f"MDMDiag-Autopilot-{stamp}.cab"
    return program or diagnostics_tool(), ["-area", "Autopilot;TPM", "-cab", str(cab)], cab


class LiveSession(QObject):
    """Drives refreshes while attached: F5 and a timer that runs only while the ESP runs.

    ``reload`` is the window's "load live evidence again" callable; the session never loads
    anything itself.
    """

    refresh_requested = Signal()

    def __init__(self, reload: Callable[[], None], parent: Any = None,
                 interval_s: float = REFRESH_SECONDS) -> None:
        super().__init__(parent)
        self._reload = reload
        self.timer = QTimer(self)
        self.timer.setInterval(int(interval_s * 1000))
        self.timer.setSingleShot(True)
        self.timer.timeout.connect(self.refresh)
        self.active = False

    def start(self) -> None:
        self.active = True
        self.refresh()

    def stop(self) -> None:
        self.active = False
        self.timer.stop()

    def refresh(self) -> None:
        if not self.active:
            return
        self.timer.stop()
        self.refresh_requested.emit()
        self._reload()

    def loaded(self, report: EspReport) -> None:
        """Called after each live load: re-arm the timer only while the ESP still runs."""
        if self.active and esp_still_running(report):
            self.timer.start()


class LogCollector(QObject):
    """Runs the diagnostics tool without blocking the GUI (``QProcess``)."""

    finished = Signal(bool, str)  # ok, message

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.process: QProcess | None = None
        self._cab: Path | None = None

    @property
    def running(self) -> bool:
        return self.process is not None

    def start(self, folder: Path, program: str | None = None,
              arguments: list[str] | None = None) -> Path:
        prog, args, cab = collect_logs_command(folder, program)
        self._cab = cab
        process = QProcess(self)
        process.finished.connect(self._finished)
        process.errorOccurred.connect(self._error)
        self.process = process
        process.start(prog, arguments if arguments is not None else args)
        return cab

    def _done(self, ok: bool, message: str) -> None:
        process, self.process = self.process, None
        if process is not None:
            process.deleteLater()
        self.finished.emit(ok, message)

    def _finished(self, code: int, _status: QProcess.ExitStatus) -> None:
        if self.process is None:
            return
        if code == 0:
            self._done(True, f"Logs saved to {self._cab}")
        else:
            output = bytes(self.process.readAllStandardError().data()).decode(errors="replace")
            self._done(False, f"mdmdiagnosticstool ended with code {code}. {output.strip()}")

    def _error(self, error: QProcess.ProcessError) -> None:
        if self.process is None or error != QProcess.ProcessError.FailedToStart:
            return
        self._done(False, f"Could not start {self.process.program()}: "
                          f"{self.process.errorString()}")

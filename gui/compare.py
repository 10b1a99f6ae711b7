"""*File › Compare with…* and the *Redact identifiers* export option.

Comparing loads the other capture with the same :class:`~gui.worker.LoadThread` the window
uses (off the GUI thread), asks ``core.fleet.diff`` for the comparison and shows core's HTML
rendering of it in a dialog. Redaction is one checkable action shared by every export
(HTML, JSON, evidence bundle); exports go through :func:`for_export`.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QDialog, QFileDialog, QTextBrowser, QVBoxLayout

from core.fleet.diff import diff_reports
from core.fleet.diff_report import diff_html
from gui.worker import LoadThread, path_loader

if TYPE_CHECKING:
    from PySide6.QtWidgets import QMenu

    from core.esp.model import EspReport
    from core.evidence import Evidence

log = logging.getLogger(__name__)


class CompareDialog(QDialog):
    """The two ESPs side by side (core's diff HTML, read-only)."""

    def __init__(self, html_text: str, title: str, parent: Any = None) -> None:
        super().__init__(parent)
        self.setObjectName("compareDialog")
        self.setWindowTitle(title)
        self.resize(1000, 700)
        layout = QVBoxLayout(self)
        self.browser = QTextBrowser(self)
        self.browser.setObjectName("compareBrowser")
        self.browser.setOpenExternalLinks(False)
        self.browser.setHtml(html_text)
        layout.addWidget(self.browser)


class Compare:
    """Owns the two actions and the comparison's load thread for one main window."""

    def __init__(self, window: Any) -> None:
        self.window = window
        self.thread: LoadThread | None = None
        self.dialog: CompareDialog | None = None
        self.act_compare = QAction("&Compare with…", window)
        self.act_compare.setObjectName("actCompare")
        self.act_compare.triggered.connect(lambda _checked=False: self.compare_dialog())
        self.act_redact = QAction("&Redact identifiers in exports", window, checkable=True)
        self.act_redact.setObjectName("actRedact")
        self.act_redact.setToolTip("Replace user names, UPNs, SIDs, device names, serials, "
                                   "tenant ids, addresses… by pseudonyms in every export")

    def install(self, file_menu: QMenu, export_menu: QMenu) -> None:
        file_menu.insertAction(export_menu.menuAction(), self.act_compare)
        export_menu.addSeparator()
        export_menu.addAction(self.act_redact)

    def update(self, has_report: bool, loading: bool) -> None:
        self.act_compare.setEnabled(has_report and not loading and self.thread is None)

    @property
    def redact(self) -> bool:
        return self.act_redact.isChecked()

    def for_export(self, report: EspReport, evidence: Evidence | None) -> EspReport:
        """The report to write: redacted when the option is on."""
        if not self.redact:
            return report
        from core.fleet.redact import redact_report  # noqa: PLC0415 - only when exporting

        return redact_report(report, evidence)

    def compare_dialog(self) -> None:
        if self.window.loaded is None:
            return
        path, _filter = QFileDialog.getOpenFileName(
            self.window, "Compare with…", "",
            "Captures (*.cab *.zip *.reg *.evtx *.dat *.hve);;All files (*)")
        if path:
            self.compare_with(Path(path))

    def compare_with(self, path: Path) -> None:
        """Load ``path`` in a worker thread, then show the comparison."""
        if self.window.loaded is None or self.thread is not None:
            return
        loader_for_path = getattr(self.window, "_loader_for_path", path_loader)
        thread = LoadThread(loader_for_path(path), self.window)
        thread.loaded.connect(self._loaded)
        thread.failed.connect(self._failed)
        thread.crashed.connect(lambda text: self._failed("internal error; see the log"))
        thread.finished.connect(self._finished)
        self.thread = thread
        self.window.statusBar().showMessage(f"Loading {path} to compare…")
        self.act_compare.setEnabled(False)
        thread.start()

    def _loaded(self, other: Any) -> None:
        current = self.window.loaded
        if current is None:
            return
        a, b = current.report, other.report
        if self.redact:
            from core.fleet.redact import redact_reports  # noqa: PLC0415

            evidences = [e for e in (current.evidence, other.evidence) if e is not None]
            a, b = redact_reports([a, b], evidences)
        diff = diff_reports(a, b)
        verdict = ("something that matters differs" if diff.differs
                   else "nothing that matters differs")
        self.window.statusBar().showMessage(f"Compared: {verdict}", 10000)
        self.dialog = CompareDialog(diff_html(diff), f"ESPView compare — {verdict}", self.window)
        self.dialog.show()

    def _failed(self, message: str) -> None:
        self.window.statusBar().showMessage(f"Could not compare: {message}", 15000)

    def _finished(self) -> None:
        thread, self.thread = self.thread, None
        if thread is not None:
            thread.deleteLater()
        self.act_compare.setEnabled(self.window.loaded is not None)

    def shutdown(self) -> None:
        if self.thread is not None:
            self.thread.cancel()
            self.thread.wait(10000)

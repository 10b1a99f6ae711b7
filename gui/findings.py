"""The findings pane: every finding in the report's order, with severity, confidence, step and
evidence; selecting one selects its step, each piece of evidence opens what it cites."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QItemSelection, QModelIndex, Qt, Signal
from PySide6.QtWidgets import QSplitter, QVBoxLayout, QWidget

from core.esp.model import EspReport, Finding
from gui.fonts import derived
from gui.icons import severity_icon
from gui.models import OBJECT_ROLE, Column, RowTableModel, cell
from gui.plain import plain_label
from gui.timefmt import TimeDisplay
from gui.widgets import add_copy_action, row_text, size_columns, table_view

SEVERITY_WORDS = {"error": "Error", "warning": "Warning", "info": "Information"}
KIND_WORDS = {"event": "event", "log": "log line", "registry": "registry key"}


class FindingsModel(RowTableModel):
    """Findings in report order; the step column shows the step's title, not its id."""

    columns = (
        Column("Severity", lambda f: SEVERITY_WORDS.get(f[0].severity, f[0].severity)),
        Column("Confidence", lambda f: f[0].confidence or ""),
        Column("Finding", lambda f: f[0].title),
        Column("Step", lambda f: f[1]),
        Column("Evidence", lambda f: len(f[0].evidence)),
    )
    SEVERITY, CONFIDENCE, TITLE, STEP, EVIDENCE = range(5)

    def set_report(self, report: EspReport | None) -> None:
        if report is None:
            self.set_rows([])
            return
        titles = {s.id: f"{p.title} › {s.title}" for p in report.phases for s in p.steps}
        self.set_rows([(f, titles.get(f.step or "", f.step or "")) for f in report.findings])

    def data(self, index: Any, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == OBJECT_ROLE and index.isValid() and index.row() < self.rowCount():
            return self.row_object(index.row())[0]
        return super().data(index, role)

    def extra_data(self, obj: Any, column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.DecorationRole and column == self.SEVERITY:
            return severity_icon(obj[0].severity)
        return None


class EvidenceModel(RowTableModel):
    """One finding's evidence strings, with what each opens (``(text, kind)`` pairs)."""

    columns = (
        Column("Evidence", lambda e: e[0]),
        Column("Opens", lambda e: KIND_WORDS.get(e[1], "nothing loaded (cited text only)")),
    )

    def data(self, index: Any, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == OBJECT_ROLE and index.isValid() and index.row() < self.rowCount():
            return self.row_object(index.row())[0]
        return super().data(index, role)


class FindingsView(QWidget):
    """``finding_selected(step id or "")`` when the user selects a finding;
    ``evidence_activated(text)`` when they click or press Enter on a piece of evidence.

    ``kind_of(text)`` (set by the window) says what an evidence string opens.
    """

    finding_selected = Signal(str)
    evidence_activated = Signal(str)

    def __init__(self, times: TimeDisplay, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.kind_of: Callable[[str], str] = lambda _text: ""
        self.model = FindingsModel(times, self)
        self.evidence_model = EvidenceModel(times, self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        self.intro = plain_label(wrap=True, name="findingsIntro")
        layout.addWidget(self.intro)
        split = QSplitter(Qt.Orientation.Vertical)
        self.view = table_view(self.model, name="findingsView", sort_column=None)
        self.view.setSortingEnabled(False)  # the report's order is the order of importance
        size_columns(self.view, {0: 14, 1: 12, 2: 60, 3: 40})
        add_copy_action(self.view, lambda: row_text(self.view))
        split.addWidget(self.view)
        below = QWidget()
        box = QVBoxLayout(below)
        box.setContentsMargins(0, 0, 0, 0)
        self.title = plain_label(name="findingTitleText", selectable=True, wrap=True)
        self.title.setFont(derived(self.title.font(), bold=True))
        self.text = plain_label(name="findingText", selectable=True, wrap=True)
        box.addWidget(self.title)
        box.addWidget(self.text)
        self.evidence_view = table_view(self.evidence_model, name="evidenceView",
                                        sort_column=None)
        self.evidence_view.setSortingEnabled(False)
        # Evidence reads "file#record: what it says"; cut at the left, so what it says and the
        # record number stay (the full text is in the tooltip and copies whole).
        self.evidence_view.setTextElideMode(Qt.TextElideMode.ElideLeft)
        size_columns(self.evidence_view, {0: 60})
        add_copy_action(self.evidence_view, lambda: row_text(self.evidence_view).split("\t")[0])
        self.evidence_view.clicked.connect(self._evidence)
        self.evidence_view.activated.connect(self._evidence)
        box.addWidget(self.evidence_view, 1)
        split.addWidget(below)
        split.setSizes([260, 260])
        layout.addWidget(split, 1)
        self.view.selectionModel().selectionChanged.connect(self._selected)
        self.set_report(None)

    def set_report(self, report: EspReport | None) -> None:
        self.model.set_report(report)
        count = len(report.findings) if report is not None else 0
        self.intro.setText(f"{count} finding(s), most important first. Select one to select "
                           "its step; click a piece of evidence to open what it cites."
                           if count else "No findings for this capture.")
        self._show(None)

    def count(self) -> int:
        return self.model.rowCount()

    def select(self, row: int) -> None:
        if 0 <= row < self.model.rowCount():
            self.view.setCurrentIndex(self.model.index(row, 0))

    def current(self) -> Finding | None:
        found = cell(self.view.currentIndex(), OBJECT_ROLE)
        return found if isinstance(found, Finding) else None

    def _selected(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        finding = self.current()
        self._show(finding)
        if finding is not None:
            self.finding_selected.emit(finding.step or "")

    def _show(self, finding: Finding | None) -> None:
        if finding is None:
            self.title.setText("")
            self.text.setText("")
            self.evidence_model.set_rows([])
            return
        self.title.setText(finding.title)
        text = finding.text
        if finding.source:
            text += f"\n\nSource: {finding.source}"
        self.text.setText(text)
        self.evidence_model.set_rows([(e, self.kind_of(e)) for e in finding.evidence])

    def _evidence(self, index: QModelIndex) -> None:
        text = cell(index, OBJECT_ROLE)
        if isinstance(text, str):
            self.evidence_activated.emit(text)

    def activate_evidence(self, row: int) -> None:
        """Open the ``row``-th piece of evidence of the current finding (keyboard, tests)."""
        index = self.evidence_model.index(row, 0)
        if index.isValid():
            self.evidence_view.setCurrentIndex(index)
            self._evidence(index)

"""The details pane every row opens into: an event as Event Viewer's Details tab (fields with
their codes decoded, then the full XML), a log line whole (component, thread, file and line,
with its neighbours highlighted CMTrace-style), a registry snapshot's values."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFontDatabase
from PySide6.QtWidgets import (
    QFormLayout,
    QPlainTextEdit,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from core.codes import format_failure_code
from core.esp.model import LogRef, RegistryRef
from core.events.model import EventRecord
from core.logs.model import LogLine
from core.registry.model import RegKey
from gui.models import (
    OBJECT_ROLE,
    Column,
    RowTableModel,
    cell,
)
from gui.plain import plain_label
from gui.prepare import LOG_LEVELS, Target
from gui.timefmt import TimeDisplay
from gui.widgets import add_copy_action, row_text, size_columns, table_view

#: CMTrace's colours: errors on red, warnings on yellow (dark text on both, whatever the theme).
ERROR_BACKGROUND = QColor(255, 170, 170)
WARNING_BACKGROUND = QColor(255, 240, 150)
HIGHLIGHT_TEXT = QColor(0, 0, 0)


class FieldsModel(RowTableModel):
    """An event's named data fields: ``(name, value)`` pairs, with what a code in them means."""

    columns = (
        Column("Field", lambda f: f[0]),
        Column("Value", lambda f: f[1]),
        Column("Meaning", lambda f: format_failure_code(f[1]) or ""),
    )


def _severity_word(kind: int) -> str:
    return LOG_LEVELS.get(kind, "")


class LogLinesModel(RowTableModel):
    """Log lines (:class:`core.logs.model.LogLine`) as CMTrace lists them, coloured by type."""

    columns = (
        Column("Line", lambda line: line.line),
        Column("Time", lambda line: line.time, time=True),
        Column("Type", lambda line: _severity_word(line.type)),
        Column("Component", lambda line: line.component),
        Column("Thread", lambda line: line.thread),
        Column("Message", lambda line: line.message.split("\n", 1)[0]),
    )

    def __init__(self, times: TimeDisplay, parent: Any = None) -> None:
        super().__init__(times, parent)
        self.current: LogLine | None = None

    def extra_data(self, obj: Any, column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.BackgroundRole:
            if obj.type == 3:
                return ERROR_BACKGROUND
            if obj.type == 2:
                return WARNING_BACKGROUND
        if role == Qt.ItemDataRole.ForegroundRole and obj.type in (2, 3):
            return HIGHLIGHT_TEXT
        if role == Qt.ItemDataRole.FontRole and obj is self.current:
            from gui.fonts import derived  # noqa: PLC0415 - tiny

            return derived(bold=True)
        return None


class SnapshotModel(RowTableModel):
    """A registry key's values: ``(name, type, data, meaning, origin)`` tuples."""

    columns = (
        Column("Name", lambda v: v[0] or "(Default)"),
        Column("Type", lambda v: v[1]),
        Column("Data", lambda v: v[2], data=True),
        Column("Meaning", lambda v: v[3] or ""),
        Column("Origin", lambda v: v[4]),
    )


def _mono(edit: QPlainTextEdit) -> None:
    edit.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))


class DetailsPane(QWidget):
    """Shows one :class:`gui.prepare.Target` (or a step's own :class:`LogRef`).

    ``neighbours_of(line)`` gives the lines around a log line (set by the window once a
    capture is loaded); a double-click on a neighbour opens that line.
    """

    PLACEHOLDER, EVENT, LOG, REGISTRY = range(4)

    def __init__(self, times: TimeDisplay, parent: QWidget | None = None, *,
                 name: str = "details") -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self.times = times
        self.neighbours_of: Callable[[LogLine], list[LogLine]] = lambda line: [line]
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.heading = plain_label(elastic=True, name=f"{name}Heading", selectable=True, wrap=True)
        layout.addWidget(self.heading)
        self.pages = QStackedWidget()
        layout.addWidget(self.pages, 1)
        self.placeholder = plain_label("Select a row to see all of it here.", wrap=True)
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.pages.addWidget(self.placeholder)
        self.pages.addWidget(self._event_page(name))
        self.pages.addWidget(self._log_page(name))
        self.pages.addWidget(self._registry_page(name))
        self.clear()

    # -- pages ----------------------------------------------------------------------------

    def _event_page(self, name: str) -> QWidget:
        split = QSplitter(Qt.Orientation.Horizontal)
        self.fields_model = FieldsModel(self.times, self)
        self.fields_view = table_view(self.fields_model, name=f"{name}Fields", sort_column=None)
        size_columns(self.fields_view, {0: 18, 1: 26})
        add_copy_action(self.fields_view, lambda: row_text(self.fields_view))
        self.xml_view = QPlainTextEdit()
        self.xml_view.setObjectName(f"{name}Xml")
        self.xml_view.setReadOnly(True)
        self.xml_view.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        _mono(self.xml_view)
        split.addWidget(self.fields_view)
        split.addWidget(self.xml_view)
        split.setSizes([420, 420])
        return split

    def _log_page(self, name: str) -> QWidget:
        page = QWidget()
        box = QVBoxLayout(page)
        box.setContentsMargins(0, 0, 0, 0)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.log_fields: dict[str, Any] = {}
        for caption in ("Time", "Type", "Component", "Thread", "File and line", "Item"):
            value = plain_label(selectable=True, elastic=True,
                                name=f"{name}Log{caption.replace(' ', '')}")
            form.addRow(caption, value)
            self.log_fields[caption] = value
        box.addLayout(form)
        split = QSplitter(Qt.Orientation.Vertical)
        self.message_view = QPlainTextEdit()
        self.message_view.setObjectName(f"{name}Message")
        self.message_view.setReadOnly(True)
        _mono(self.message_view)
        self.lines_model = LogLinesModel(self.times, self)
        self.lines_view = table_view(self.lines_model, name=f"{name}Neighbours",
                                     sort_column=None)
        self.lines_view.setSortingEnabled(False)
        size_columns(self.lines_view, {0: 7, 1: 24, 2: 11, 3: 20, 4: 7})
        add_copy_action(self.lines_view, lambda: row_text(self.lines_view))
        self.lines_view.doubleClicked.connect(
            lambda index: self._neighbour(cell(index, OBJECT_ROLE)))
        split.addWidget(self.message_view)
        split.addWidget(self.lines_view)
        split.setSizes([160, 200])
        box.addWidget(split, 1)
        return page

    def _registry_page(self, name: str) -> QWidget:
        self.snapshot_model = SnapshotModel(self.times, self)
        self.snapshot_view = table_view(self.snapshot_model, name=f"{name}Values",
                                        sort_column=None)
        size_columns(self.snapshot_view, {0: 34, 1: 13, 2: 30, 3: 20})
        add_copy_action(self.snapshot_view, lambda: row_text(self.snapshot_view))
        return self.snapshot_view

    # -- content --------------------------------------------------------------------------

    @property
    def page(self) -> int:
        return self.pages.currentIndex()

    def clear(self, message: str = "Select a row to see all of it here.") -> None:
        self.heading.setText("")
        self.heading.hide()
        self.placeholder.setText(message)
        self.pages.setCurrentIndex(self.PLACEHOLDER)

    def _head(self, text: str) -> None:
        self.heading.setText(text)
        self.heading.show()

    def show_target(self, target: Target | None, neighbours: Sequence[LogLine] = (),
                    key: RegKey | None = None) -> None:
        if target is None:
            self.clear("This row cites nothing that is in the loaded evidence.")
        elif target.kind == "event" and target.event is not None:
            self.show_event(target.event)
        elif target.kind == "log" and target.line is not None:
            self.show_log(target.line, neighbours)
        elif target.kind == "registry":
            self.show_registry(target.key_path, target.ref, key, target.origin)
        else:
            self.clear()

    def show_event(self, record: EventRecord) -> None:
        self._head(f"Event {record.event_id} · {record.level_name} · {record.channel} · "
                   f"{self.times.fmt(record.time)} ({self.times.label}) · {record.origin}")
        self.fields_model.set_rows(list(record.data.items()))
        try:
            xml = record.xml()
        except Exception as exc:  # noqa: BLE001 - a damaged record must not crash the view
            xml = f"The XML of {record.origin} could not be rendered: {exc}"
        self.xml_view.setPlainText(xml or "(no XML available for this record)")
        self.pages.setCurrentIndex(self.EVENT)

    def show_missing_event(self, origin: str) -> None:
        self._head(origin)
        self.fields_model.set_rows([])
        self.xml_view.setPlainText(f"The record {origin} is not in the loaded evidence, so its "
                                   "full XML cannot be shown.")
        self.pages.setCurrentIndex(self.EVENT)

    def show_log(self, line: LogLine, neighbours: Sequence[LogLine] = (),
                 item: str | None = None) -> None:
        self._head(f"{line.origin} · {_severity_word(line.type) or 'no type'}")
        self._fill_log(self.times.fmt(line.time) if line.time else "(no time)",
                       _severity_word(line.type), line.component, line.thread, line.origin,
                       item)
        self.message_view.setPlainText(line.message)
        self.lines_model.current = line
        self.lines_model.set_rows(list(neighbours) or [line])
        for row in range(self.lines_model.rowCount()):
            if self.lines_model.row_object(row) is line:
                self.lines_view.setCurrentIndex(self.lines_model.index(row, 0))
                self.lines_view.scrollTo(self.lines_model.index(row, 0))
        self.pages.setCurrentIndex(self.LOG)

    def show_log_ref(self, ref: LogRef, line: LogLine | None,
                     neighbours: Sequence[LogLine] = ()) -> None:
        """A step's log line: the loaded line with its neighbours when the evidence has it,
        else what the report kept of it."""
        if line is not None:
            self.show_log(line, neighbours, ref.item)
            return
        self._head(f"{ref.origin} · {ref.severity}")
        self._fill_log(self.times.fmt(ref.time) if ref.time else "(no time)", ref.severity,
                       ref.component, ref.thread, ref.origin, ref.item)
        self.message_view.setPlainText(ref.message)
        self.lines_model.current = None
        self.lines_model.set_rows([])
        self.pages.setCurrentIndex(self.LOG)

    def _fill_log(self, time: str, kind: str, component: str, thread: str, origin: str,
                  item: str | None) -> None:
        shown = {"Time": f"{time} ({self.times.label})", "Type": kind or "(none)",
                 "Component": component or "(none)", "Thread": thread or "(none)",
                 "File and line": origin, "Item": item or "(none)"}
        for caption, text in shown.items():
            self.log_fields[caption].setText(text)

    def show_registry(self, path: str, ref: RegistryRef | None, key: RegKey | None,
                      origin: str = "") -> None:
        """A key's values: the report's snapshot when it has one, else the loaded key."""
        rows: list[tuple[str, str, object, str | None, str]] = []
        if ref is not None:
            rows = [(v.name, v.type, v.data, v.display, ref.origin) for v in ref.values]
            written = self.times.fmt(ref.last_write) if ref.last_write else "not recorded"
            self._head(f"{ref.path} · last write {written} · {ref.origin}")
        elif key is not None:
            try:
                rows = [(v.name, v.type, v.data, None, v.origin) for v in key.values()]
            except OSError as exc:  # live registry: a key can vanish or deny access
                self._head(f"{key.path}: the values could not be read ({exc})")
            else:
                self._head(f"{key.path} · {origin or key.origin}")
        else:
            self._head(f"{path}: this key is not in the loaded registry")
        self.snapshot_model.set_rows(rows)
        self.pages.setCurrentIndex(self.REGISTRY)

    def _neighbour(self, line: Any) -> None:
        if isinstance(line, LogLine):
            self.show_log(line, self.neighbours_of(line))

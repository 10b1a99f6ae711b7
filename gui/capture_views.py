"""Whole-capture views: Timeline (rows open in a details pane), Problems, the raw Registry
browser, Files in the capture (open a text member, save any member out)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QItemSelection, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from core.errors import EspViewError
from core.esp.model import EspReport
from core.evidence import Evidence
from core.problems import Problem
from core.registry.model import RegistryView
from gui.details import DetailsPane
from gui.models import (
    OBJECT_ROLE,
    FilesModel,
    ProblemsModel,
    RawRegistryModel,
    TimelineModel,
    TimelineRow,
    ValuesModel,
    cell,
    full_data,
)
from gui.plain import plain_label
from gui.prepare import Loaded
from gui.proxies import FilterProxy, filter_timeline
from gui.timefmt import TimeDisplay
from gui.widgets import (
    add_action,
    add_copy_action,
    filter_box,
    row_text,
    size_columns,
    table_view,
    tree_view,
)

ANY = "(any)"
NO_STEP = "(not tied to a step)"


class TimelineView(QWidget):
    """Every dated fact of the capture; filter by step, source and level, search the text.

    Selecting (or double-clicking) a row opens it in the details pane below;
    ``step_requested(step id)`` asks the window to show the row's step.
    """

    step_requested = Signal(str)

    def __init__(self, times: TimeDisplay, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = TimelineModel(times, self)
        self._rows: list[TimelineRow] = []
        self._loaded: Loaded | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        bar = QHBoxLayout()
        self.step_combo = self._combo("timelineStep", "S&tep:", bar)
        self.source_combo = self._combo("timelineSource", "So&urce:", bar)
        self.level_combo = self._combo("timelineLevel", "&Level:", bar)
        self.search = QLineEdit()
        self.search.setObjectName("timelineSearch")
        self.search.setPlaceholderText("Search the timeline…")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self._apply)
        self.search.setMinimumWidth(140)
        bar.addWidget(self.search, 1)
        layout.addLayout(bar)
        split = QSplitter(Qt.Orientation.Vertical)
        self.view = table_view(self.model, name="timelineView", sort_column=None)
        self.view.setSortingEnabled(False)  # chronological by definition (see filter_timeline)
        size_columns(self.view, {0: 24, 1: 8, 2: 11, 3: 30, 4: 50})
        add_copy_action(self.view, lambda: row_text(self.view))
        add_action(self.view, "Show this row's step", self.go_to_step, "Ctrl+Return")
        self.view.doubleClicked.connect(lambda _index: self.show_details())
        split.addWidget(self.view)
        lower = QWidget()
        lower_box = QVBoxLayout(lower)
        lower_box.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        self.count = QLabel()
        self.step_button = QPushButton("Show this row's step")
        self.step_button.setObjectName("timelineGoToStep")
        self.step_button.setToolTip("Select the step this row belongs to (Ctrl+Enter)")
        self.step_button.clicked.connect(self.go_to_step)
        row.addWidget(self.count, 1)
        row.addWidget(self.step_button)
        lower_box.addLayout(row)
        self.details = DetailsPane(times, name="timelineDetails")
        lower_box.addWidget(self.details, 1)
        split.addWidget(lower)
        split.setSizes([300, 260])
        layout.addWidget(split, 1)
        self.view.selectionModel().currentRowChanged.connect(
            lambda _current, _previous: self.show_details())

    def _combo(self, name: str, caption: str, bar: QHBoxLayout) -> QComboBox:
        label = QLabel(caption)
        combo = QComboBox()
        combo.setObjectName(name)
        combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        combo.setMinimumContentsLength(20 if name == "timelineStep" else 8)
        label.setBuddy(combo)
        bar.addWidget(label)
        bar.addWidget(combo)
        combo.currentIndexChanged.connect(self._apply)
        return combo

    @staticmethod
    def _fill(combo: QComboBox, entries: Sequence[tuple[str, str | None]]) -> None:
        combo.blockSignals(True)
        combo.clear()
        combo.addItem(ANY, None)
        for text, value in entries:
            combo.addItem(text, value)
        combo.blockSignals(False)

    def set_loaded(self, loaded: Loaded | None) -> None:
        self._loaded = loaded
        self.details.neighbours_of = loaded.neighbours if loaded else (lambda line: [line])
        self.set_rows(loaded.timeline if loaded else [], loaded.report if loaded else None,
                      loaded.timeline_levels if loaded else None)

    def set_rows(self, rows: list[TimelineRow], report: EspReport | None,
                 levels: list[str] | None = None) -> None:
        """Show ``rows``; ``levels`` are their distinct levels when already known (the
        loading thread collects them, so a long timeline is not walked here)."""
        self._rows = rows
        steps: list[tuple[str, str | None]] = []
        if report is not None:
            steps = [(f"{p.title} › {s.title}", s.id) for p in report.phases for s in p.steps]
        steps.append((NO_STEP, ""))
        self._fill(self.step_combo, steps)
        self._fill(self.source_combo, [(k, k) for k in ("event", "registry", "log")])
        if levels is None:
            levels = sorted({r.level for r in rows if r.level})
        self._fill(self.level_combo, [(level, level) for level in levels])
        self._apply()

    def set_step_filter(self, step_id: str | None) -> None:
        index = self.step_combo.findData(step_id) if step_id is not None else 0
        self.step_combo.setCurrentIndex(max(index, 0))

    def _apply(self) -> None:
        shown = filter_timeline(self._rows, step=self.step_combo.currentData(),
                                source=self.source_combo.currentData(),
                                level=self.level_combo.currentData(), text=self.search.text())
        self.model.set_rows(shown)
        self.count.setText(f"{len(shown):,} of {len(self._rows):,} entries")
        self.show_details()

    def current_row(self) -> TimelineRow | None:
        row = cell(self.view.currentIndex(), OBJECT_ROLE)
        return row if isinstance(row, TimelineRow) else None

    def show_details(self) -> None:
        row = self.current_row()
        self.step_button.setEnabled(row is not None and bool(row.entry.step))
        if row is None:
            self.details.clear("Select a row (or double-click it) to see all of it here.")
            return
        loaded = self._loaded
        target = loaded.resolve(row.entry.origin) if loaded is not None else None
        if target is None:
            self.details.clear(f"{row.entry.origin}: {row.entry.summary}\n\nThe record behind "
                               "this row is not in the loaded evidence.")
            return
        neighbours = loaded.neighbours(target.line) if loaded and target.line else []
        key = None
        if target.kind == "registry" and target.ref is None and loaded is not None \
                and loaded.evidence is not None:
            key = loaded.evidence.registry.key(target.key_path)
        self.details.show_target(target, neighbours, key)

    def select_origin(self, origin: str) -> bool:
        """Select the row with this provenance, clearing filters that hide it."""
        for attempt in range(2):
            for number in range(self.model.rowCount()):
                if self.model.row_object(number).entry.origin == origin:
                    index = self.model.index(number, 0)
                    self.view.setCurrentIndex(index)
                    self.view.scrollTo(index, self.view.ScrollHint.PositionAtCenter)
                    return True
            if attempt == 0:
                self.clear_filters()
        return False

    def clear_filters(self) -> None:
        for combo in (self.step_combo, self.source_combo, self.level_combo):
            combo.blockSignals(True)
            combo.setCurrentIndex(0)
            combo.blockSignals(False)
        self.search.blockSignals(True)
        self.search.clear()
        self.search.blockSignals(False)
        self._apply()

    def go_to_step(self) -> None:
        row = self.current_row()
        if row is not None and row.entry.step:
            self.step_requested.emit(row.entry.step)


class ProblemsView(QWidget):
    """Everything that could not be read, with where."""

    def __init__(self, times: TimeDisplay, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = ProblemsModel(times, self)
        self.proxy = FilterProxy(self)
        self.proxy.setSourceModel(self.model)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        self.intro = QLabel()
        self.intro.setWordWrap(True)
        layout.addWidget(self.intro)
        self.filter = filter_box(self.proxy, "Filter problems…", name="problemsFilter")
        layout.addWidget(self.filter)
        self.view = table_view(self.proxy, name="problemsView")
        self.view.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        size_columns(self.view, {0: 30, 1: 12})
        add_copy_action(self.view, lambda: row_text(self.view))
        layout.addWidget(self.view, 1)

    def set_problems(self, problems: Sequence[Problem],
                     keys: Sequence[tuple[Any, ...]] | None = None) -> None:
        self.model.set_rows(problems, keys)
        if problems:
            self.intro.setText(f"{len(problems)} thing(s) in this capture could not be read. "
                               "Everything else was loaded; steps that depend on these parts "
                               "may show as Unknown.")
        else:
            self.intro.setText("Everything in this capture was read without problems.")


class RegistryBrowser(QWidget):
    """The raw registry of the capture: keys (lazy) on the left, values on the right."""

    def __init__(self, times: TimeDisplay, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = RawRegistryModel(times, self)
        self.values_model = ValuesModel(times, self)
        self.values_proxy = FilterProxy(self)
        self.values_proxy.setSourceModel(self.values_model)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        self.path_edit = QLineEdit()
        self.path_edit.setObjectName("registryPath")
        self.path_edit.setPlaceholderText(r"Go to key, e.g. HKLM\SOFTWARE\Microsoft\Windows"
                                          r"\Autopilot — press Enter")
        self.path_edit.returnPressed.connect(lambda: self.go_to(self.path_edit.text()))
        layout.addWidget(self.path_edit)
        split = QSplitter(Qt.Orientation.Horizontal)
        self.tree = tree_view(self.model, name="rawRegistryTree")
        size_columns(self.tree, {0: 30, 1: 24})
        add_copy_action(self.tree, self.current_path, "Copy &path")
        self.values_view = table_view(self.values_proxy, name="rawValuesView")
        self.values_view.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        size_columns(self.values_view, {0: 24, 1: 11, 2: 30})
        add_copy_action(self.values_view, self.current_value, "Copy &value")
        split.addWidget(self.tree)
        split.addWidget(self.values_view)
        split.setSizes([420, 520])
        layout.addWidget(split, 1)
        self.status = plain_label(elastic=True, name="registryStatus", selectable=True)
        layout.addWidget(self.status)
        self.tree.selectionModel().selectionChanged.connect(self._key_selected)

    def set_registry(self, registry: RegistryView | None) -> None:
        roots = registry.roots() if registry is not None else []
        self.model.set_roots(roots)
        self.values_model.set_rows([])
        self.tree.expandToDepth(0)
        kind = registry.kind if registry is not None else "none"
        self.status.setText(f"Registry source: {kind}; {len(roots)} root key(s)." if roots else
                            "This capture holds no registry.")

    def go_to(self, path: str) -> bool:
        index = self.model.find(path)
        if not index.isValid():
            self.status.setText(f"Key not found in this capture: {path}")
            return False
        self.tree.setCurrentIndex(index)
        self.tree.scrollTo(index)
        self.status.setText(self.model.key(index).path)  # type: ignore[union-attr]  # valid index
        return True

    def current_path(self) -> str:
        key = self.model.key(self.tree.currentIndex())
        return key.path if key is not None else ""

    def current_value(self) -> str:
        index = self.values_view.currentIndex()
        value = cell(index, OBJECT_ROLE) if index.isValid() else None
        return full_data(value.data) if value is not None else ""

    def _key_selected(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        key = self.model.key(self.tree.currentIndex())
        try:
            values = key.values() if key is not None else []
        except OSError as exc:  # live registry: a key can vanish or deny access
            self.status.setText(f"Could not read the values: {exc}")
            values = []
        self.values_model.set_rows(values)


class FilesView(QWidget):
    """The files in the capture with how many problems each produced; a text member opens in
    the viewer beside the list, any member can be saved out (bytes come from core)."""

    def __init__(self, times: TimeDisplay, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = FilesModel(times, self)
        self.proxy = FilterProxy(self)
        self.proxy.setSourceModel(self.model)
        self._evidence: Evidence | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        self.filter = filter_box(self.proxy, "Filter files…", name="filesFilter")
        layout.addWidget(self.filter)
        split = QSplitter(Qt.Orientation.Horizontal)
        left = QWidget()
        left_box = QVBoxLayout(left)
        left_box.setContentsMargins(0, 0, 0, 0)
        self.view = table_view(self.proxy, name="filesView")
        self.view.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        size_columns(self.view, {0: 40})
        add_copy_action(self.view, lambda: self.current_name() or "")
        self.view.doubleClicked.connect(lambda _index: self.open_current())
        left_box.addWidget(self.view, 1)
        buttons = QHBoxLayout()
        self.open_button = QPushButton("&Open in viewer")
        self.open_button.setObjectName("openMember")
        self.open_button.clicked.connect(self.open_current)
        self.save_button = QPushButton("Save a cop&y…")
        self.save_button.setObjectName("saveMember")
        self.save_button.clicked.connect(self.save_current)
        buttons.addWidget(self.open_button)
        buttons.addWidget(self.save_button)
        buttons.addStretch(1)
        left_box.addLayout(buttons)
        split.addWidget(left)
        right = QWidget()
        right_box = QVBoxLayout(right)
        right_box.setContentsMargins(0, 0, 0, 0)
        self.viewer_title = plain_label(elastic=True, name="memberTitle", selectable=True)
        self.viewer = QPlainTextEdit()
        self.viewer.setObjectName("memberViewer")
        self.viewer.setReadOnly(True)
        self.viewer.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.viewer.setPlaceholderText("Double-click a text file (a log, a .reg, a .json) to "
                                       "read it here.")
        right_box.addWidget(self.viewer_title)
        right_box.addWidget(self.viewer, 1)
        split.addWidget(right)
        split.setSizes([420, 520])
        layout.addWidget(split, 1)
        self.status = plain_label(elastic=True, name="filesStatus", selectable=True, wrap=True)
        layout.addWidget(self.status)
        #: ``ask_save(title, name) -> path`` (the window's save dialog; tests replace it).
        self.ask_save: Callable[[str, str], str] = lambda _title, _name: ""

    def set_files(self, files: Sequence[str], rows: Sequence[tuple[str, int]],
                  evidence: Evidence | None = None, *,
                  keys: Sequence[tuple[Any, ...]] | None = None) -> None:
        """Show the capture's files: the table's ``rows`` (:func:`gui.models.file_rows`) and
        sort ``keys``, as the loading thread built them."""
        self._evidence = evidence
        self.model.set_rows(rows, keys)
        self.viewer.clear()
        self.viewer_title.setText("")
        readable = evidence is not None and bool(evidence.members)
        self.open_button.setEnabled(readable)
        self.save_button.setEnabled(readable)
        self.status.setText("" if readable or not files else
                            "The files of this capture are not on disk here; only their names "
                            "are known.")

    def current_name(self) -> str | None:
        row = cell(self.view.currentIndex(), OBJECT_ROLE)
        return row[0] if row else None

    def open_current(self) -> bool:
        name = self.current_name()
        if name is None or self._evidence is None:
            return False
        from core.members import VIEW_LIMIT, member_text  # noqa: PLC0415 - on demand

        try:
            text = member_text(self._evidence, name)
        except (OSError, EspViewError) as exc:
            self.status.setText(f"Cannot open {name}: {getattr(exc, 'strerror', None) or exc}")
            return False
        if text is None:
            self.status.setText(f"{name} is a binary file; save a copy to open it in its own "
                                "tool (Event Viewer, a registry viewer).")
            return False
        self.viewer_title.setText(name)
        self.viewer.setPlainText(text)
        self.status.setText(f"Showing the first {VIEW_LIMIT // (1024 * 1024)} MB of {name}."
                            if len(text) >= VIEW_LIMIT else "")
        return True

    def save_current(self) -> bool:
        name = self.current_name()
        if name is None or self._evidence is None:
            return False
        base = name.replace("!", "/").replace("\\", "/").rsplit("/", 1)[-1]
        path = self.ask_save(f"Save a copy of {base}", base)
        if not path:
            return False
        from core.members import save_member  # noqa: PLC0415 - on demand

        try:
            written = save_member(self._evidence, name, Path(path))
        except (OSError, EspViewError) as exc:
            self.status.setText(f"Could not save {name}: {getattr(exc, 'strerror', None) or exc}")
            return False
        self.status.setText(f"Saved {written:,} bytes to {path}")
        return True

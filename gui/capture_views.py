"""Whole-capture views: Timeline, Problems, raw Registry browser, Files in the capture."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from PySide6.QtCore import QItemSelection, Qt
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from core.esp.model import EspReport
from core.problems import Problem
from core.registry.model import RegistryView
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
from gui.proxies import FilterProxy, filter_timeline
from gui.timefmt import TimeDisplay
from gui.widgets import add_copy_action, filter_box, fit_columns, row_text, table_view, tree_view

ANY = "(any)"
NO_STEP = "(not tied to a step)"


class TimelineView(QWidget):
    """Every dated fact of the capture; filter by step, source and level, search the text."""

    def __init__(self, times: TimeDisplay, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = TimelineModel(times, self)
        self._rows: list[TimelineRow] = []
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
        self.view = table_view(self.model, name="timelineView", sort_column=None)
        self.view.setSortingEnabled(False)  # chronological by definition (see filter_timeline)
        fit_columns(self.view, {0: 26, 1: 9, 2: 13, 3: 40, 4: 60})
        add_copy_action(self.view, lambda: row_text(self.view))
        layout.addWidget(self.view, 1)
        self.count = QLabel()
        layout.addWidget(self.count)

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

    def set_rows(self, rows: list[TimelineRow], report: EspReport | None) -> None:
        self._rows = rows
        steps: list[tuple[str, str | None]] = []
        if report is not None:
            steps = [(f"{p.title} › {s.title}", s.id) for p in report.phases for s in p.steps]
        steps.append((NO_STEP, ""))
        self._fill(self.step_combo, steps)
        self._fill(self.source_combo, [(k, k) for k in ("event", "registry", "log")])
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
        fit_columns(self.view, {0: 50, 1: 18})
        add_copy_action(self.view, lambda: row_text(self.view))
        layout.addWidget(self.view, 1)

    def set_problems(self, problems: Sequence[Problem]) -> None:
        self.model.set_rows(problems)
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
        self.tree.header().resizeSection(0, 300)
        self.tree.header().resizeSection(1, 170)
        add_copy_action(self.tree, self.current_path, "Copy &path")
        self.values_view = table_view(self.values_proxy, name="rawValuesView")
        fit_columns(self.values_view, {0: 28, 1: 14, 2: 40})
        add_copy_action(self.values_view, self.current_value, "Copy &value")
        split.addWidget(self.tree)
        split.addWidget(self.values_view)
        split.setSizes([420, 520])
        layout.addWidget(split, 1)
        self.status = QLabel()
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
    """The files in the capture, with how many problems each produced."""

    def __init__(self, times: TimeDisplay, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = FilesModel(times, self)
        self.proxy = FilterProxy(self)
        self.proxy.setSourceModel(self.model)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        self.filter = filter_box(self.proxy, "Filter files…", name="filesFilter")
        layout.addWidget(self.filter)
        self.view = table_view(self.proxy, name="filesView")
        fit_columns(self.view, {0: 80})
        add_copy_action(self.view, lambda: row_text(self.view).split("\t")[0])
        layout.addWidget(self.view, 1)

    def set_files(self, files: Sequence[str], problems: Sequence[Problem]) -> None:
        counts = Counter(p.file for p in problems)
        rows = [(name, counts.get(name, 0)) for name in files]
        listed = set(files)
        rows.extend((name, count) for name, count in counts.items() if name not in listed)
        self.model.set_rows(rows)

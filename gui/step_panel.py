"""Step drill-down: summary and hint, then Items, Registry, Events and the step's timeline."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QItemSelection, Qt, Signal
from PySide6.QtGui import QGuiApplication, QPalette
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from core.esp.model import EspReport, EventRef, RegistryRef, RegistryValueRef, Step
from core.events.model import EventRecord
from gui.export import step_summary
from gui.fonts import derived
from gui.models import (
    OBJECT_ROLE,
    EventsModel,
    FieldsModel,
    HistoryModel,
    ItemsModel,
    RegistryRefModel,
    TimelineModel,
    TimelineRow,
    cell,
    full_data,
    status_text,
)
from gui.proxies import FilterProxy
from gui.timefmt import TimeDisplay
from gui.widgets import add_copy_action, filter_box, fit_columns, row_text, table_view, tree_view

#: ``lookup(origin) -> EventRecord | None``: the full record behind an event reference.
EventLookup = Callable[[str], "EventRecord | None"]


def _no_event(origin: str) -> EventRecord | None:
    return None


class StepPanel(QWidget):
    """Everything about one step. ``copy_summary`` puts :func:`step_summary` on the clipboard."""

    summary_copied = Signal(str)

    ITEMS, REGISTRY, EVENTS, TIMELINE = range(4)

    def __init__(self, times: TimeDisplay, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.times = times
        self._report: EspReport | None = None
        self._step: Step | None = None
        self._lookup: EventLookup = _no_event
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)

        top = QHBoxLayout()
        self.title = QLabel("Select a step")
        self.title.setObjectName("stepTitle")
        self.title.setFont(derived(self.title.font(), scale=1.3, bold=True))
        top.addWidget(self.title, 1)
        self.copy_button = QPushButton("Cop&y summary")
        self.copy_button.setObjectName("copySummary")
        self.copy_button.setToolTip("Copy this step's summary to the clipboard (Ctrl+Shift+C)")
        self.copy_button.clicked.connect(self.copy_summary)
        top.addWidget(self.copy_button)
        layout.addLayout(top)
        self.meta = QLabel()
        self.meta.setObjectName("stepMeta")
        self.meta.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.meta.setWordWrap(True)
        layout.addWidget(self.meta)

        self.hint = QFrame()
        self.hint.setObjectName("hintBox")
        self.hint.setFrameShape(QFrame.Shape.StyledPanel)
        self.hint.setBackgroundRole(QPalette.ColorRole.AlternateBase)
        self.hint.setAutoFillBackground(True)
        hint_layout = QVBoxLayout(self.hint)
        hint_layout.setContentsMargins(8, 6, 8, 6)
        self.hint_title = QLabel()
        bold = self.hint_title.font()
        bold.setBold(True)
        self.hint_title.setFont(bold)
        self.hint_text = QLabel()
        self.hint_text.setObjectName("hintText")
        self.hint_text.setWordWrap(True)
        self.hint_text.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        self.hint_text.setOpenExternalLinks(True)
        hint_layout.addWidget(self.hint_title)
        hint_layout.addWidget(self.hint_text)
        layout.addWidget(self.hint)

        self.tabs = QTabWidget()
        self.tabs.setObjectName("stepTabs")
        layout.addWidget(self.tabs, 1)
        self._build_items()
        self._build_registry()
        self._build_events()
        self._build_timeline()
        self.set_step(None, None)

    # -- construction ---------------------------------------------------------------------

    def _build_items(self) -> None:
        self.items_model = ItemsModel(self.times, self)
        self.items_proxy = FilterProxy(self)
        self.items_proxy.setSourceModel(self.items_model)
        page = QWidget()
        box = QVBoxLayout(page)
        box.setContentsMargins(0, 4, 0, 0)
        self.items_filter = filter_box(self.items_proxy, "Filter items…", name="itemsFilter")
        box.addWidget(self.items_filter)
        split = QSplitter(Qt.Orientation.Vertical)
        self.items_view = table_view(self.items_proxy, name="itemsView", sort_column=None)
        fit_columns(self.items_view, {0: 22, 1: 9, 2: 8, 3: 19, 4: 16, 5: 24})
        add_copy_action(self.items_view, lambda: row_text(self.items_view))
        self.history_model = HistoryModel(self.times, self)
        self.history_view = table_view(self.history_model, name="historyView")
        fit_columns(self.history_view, {0: 26})
        split.addWidget(self.items_view)
        split.addWidget(self.history_view)
        split.setSizes([300, 120])
        box.addWidget(split, 1)
        self.items_view.selectionModel().selectionChanged.connect(self._item_selected)
        self.tabs.addTab(page, "&Items")

    def _build_registry(self) -> None:
        self.registry_model = RegistryRefModel(self.times, self)
        self.registry_proxy = FilterProxy(self, recursive=True)
        self.registry_proxy.setSourceModel(self.registry_model)
        page = QWidget()
        box = QVBoxLayout(page)
        box.setContentsMargins(0, 4, 0, 0)
        self.registry_filter = filter_box(self.registry_proxy, "Filter keys and values…",
                                          name="registryFilter")
        box.addWidget(self.registry_filter)
        self.registry_view = tree_view(self.registry_proxy, name="registryView")
        self.registry_view.header().resizeSection(0, 420)
        self.registry_view.header().resizeSection(1, 110)
        self.registry_view.header().resizeSection(2, 240)
        self.registry_view.header().resizeSection(3, 190)
        self.registry_proxy.modelReset.connect(self.registry_view.expandAll)
        self.registry_proxy.layoutChanged.connect(self.registry_view.expandAll)
        add_copy_action(self.registry_view, self.selected_registry_path, "Copy &path")
        add_copy_action(self.registry_view, self.selected_registry_value, "Copy &value",
                        "Ctrl+Shift+V")
        box.addWidget(self.registry_view, 1)
        self.tabs.addTab(page, "&Registry")

    def _build_events(self) -> None:
        self.events_model = EventsModel(self.times, self)
        self.events_proxy = FilterProxy(self)
        self.events_proxy.setSourceModel(self.events_model)
        page = QWidget()
        box = QVBoxLayout(page)
        box.setContentsMargins(0, 4, 0, 0)
        self.events_filter = filter_box(self.events_proxy, "Filter events (text, id, level)…",
                                        name="eventsFilter")
        box.addWidget(self.events_filter)
        split = QSplitter(Qt.Orientation.Vertical)
        self.events_view = table_view(self.events_proxy, name="eventsView")
        fit_columns(self.events_view, {0: 26, 1: 13, 2: 36, 3: 7, 4: 50})
        add_copy_action(self.events_view, lambda: row_text(self.events_view))
        split.addWidget(self.events_view)
        details = QSplitter(Qt.Orientation.Horizontal)
        self.fields_model = FieldsModel(self.times, self)
        self.fields_view = table_view(self.fields_model, name="fieldsView", sort_column=None)
        fit_columns(self.fields_view, {0: 18})
        add_copy_action(self.fields_view, lambda: row_text(self.fields_view))
        self.xml_view = QPlainTextEdit()
        self.xml_view.setObjectName("xmlView")
        self.xml_view.setReadOnly(True)
        self.xml_view.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.xml_view.setPlaceholderText("Select an event to see its data fields and full XML.")
        details.addWidget(self.fields_view)
        details.addWidget(self.xml_view)
        details.setSizes([300, 500])
        split.addWidget(details)
        split.setSizes([260, 200])
        box.addWidget(split, 1)
        self.events_view.selectionModel().selectionChanged.connect(self._event_selected)
        self.tabs.addTab(page, "&Events")

    def _build_timeline(self) -> None:
        self.timeline_model = TimelineModel(self.times, self)
        self.timeline_proxy = FilterProxy(self)
        self.timeline_proxy.setSourceModel(self.timeline_model)
        self.timeline_view = table_view(self.timeline_proxy, name="stepTimelineView")
        fit_columns(self.timeline_view, {0: 26, 1: 9, 2: 13, 3: 30, 4: 50})
        self.timeline_view.hideColumn(TimelineModel.STEP)
        add_copy_action(self.timeline_view, lambda: row_text(self.timeline_view))
        self.tabs.addTab(self.timeline_view, "Ti&meline")

    # -- content --------------------------------------------------------------------------

    def set_lookup(self, lookup: EventLookup) -> None:
        self._lookup = lookup

    def set_step(self, report: EspReport | None, step: Step | None,
                 timeline: list[TimelineRow] | None = None) -> None:
        self._report, self._step = report, step
        self.copy_button.setEnabled(step is not None)
        if step is None:
            self.title.setText("Select a step")
            self.meta.setText("Click a step of the ESP on the left (or move to it with the "
                              "arrow keys) to see its items, registry keys, events and timeline.")
            self.hint.hide()
            for model in (self.items_model, self.events_model, self.timeline_model,
                          self.history_model, self.fields_model):
                model.set_rows([])
            self.registry_model.set_refs([])
            self.xml_view.clear()
            self._update_tab_titles()
            return
        phase = next((p for p in report.phases if step in p.steps), None) if report else None
        prefix = f"{phase.title} › " if phase else ""
        self.title.setText(f"{prefix}{step.title}: {status_text(step.status, step.status_text)}")
        self._update_meta()
        if step.hint is not None:
            self.hint_title.setText(f"Hint: {step.hint.title}")
            text = step.hint.text.replace("&", "&amp;").replace("<", "&lt;")
            if step.hint.source:
                text += f' <a href="{step.hint.source}">Source</a>'
            self.hint_text.setText(text)
            self.hint.show()
        else:
            self.hint.hide()
        self.items_model.set_rows(step.items)
        self.history_model.set_rows([])
        self._select_telling_item(step)
        self.registry_model.set_refs(step.registry)
        self.events_model.set_rows(step.events)
        self.fields_model.set_rows([])
        self.xml_view.clear()
        self.timeline_model.set_rows(timeline or [])
        self._update_tab_titles()

    def _update_meta(self) -> None:
        step = self._step
        if step is None:
            return
        parts = [f"<code>{step.id}</code>"]
        if step.hresult:
            parts.append(f"error <b>{step.hresult}</b>")
        if step.started or step.ended:
            parts.append(f"{self.times.fmt(step.started) or '?'} → "
                         f"{self.times.fmt(step.ended) or '?'} ({self.times.label})")
        else:
            parts.append("no start or end time in the evidence")
        self.meta.setText(" · ".join(parts))

    def refresh_times(self) -> None:
        self._update_meta()

    def _update_tab_titles(self) -> None:
        step = self._step
        counts = (len(step.items), len(step.registry), len(step.events),
                  self.timeline_model.rowCount()) if step else (0, 0, 0, 0)
        titles = ("&Items", "&Registry", "&Events", "Ti&meline")
        for i, (title, count) in enumerate(zip(titles, counts, strict=True)):
            self.tabs.setTabText(i, f"{title} ({count})")

    def _select_telling_item(self, step: Step) -> None:
        """Select the item that explains the step (the first failed one, else the first with a
        history) so its history shows at once."""
        if not step.items:
            return
        failed = [i for i, item in enumerate(step.items) if item.status in {"failed", "error"}]
        with_history = [i for i, item in enumerate(step.items) if item.history]
        row = (failed or with_history or [0])[0]
        index = self.items_proxy.mapFromSource(self.items_model.index(row, 0))
        if index.isValid():
            self.items_view.setCurrentIndex(index)

    def select_item(self, item_id: str) -> bool:
        """Show the Items tab with ``item_id`` of the current step selected (history below)."""
        step = self._step
        row = next((i for i, item in enumerate(step.items) if item.id == item_id), None) \
            if step is not None else None
        if row is None:
            return False
        index = self.items_proxy.mapFromSource(self.items_model.index(row, 0))
        if not index.isValid():  # hidden by the filter box: show everything again
            self.items_filter.clear()
            index = self.items_proxy.mapFromSource(self.items_model.index(row, 0))
        self.tabs.setCurrentIndex(0)
        self.items_view.setCurrentIndex(index)
        self.items_view.scrollTo(index)
        return index.isValid()

    # -- selection details ----------------------------------------------------------------

    def _item_selected(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        item = cell(self.items_view.currentIndex(), OBJECT_ROLE)
        self.history_model.set_rows(item.history if item is not None else [])

    def _event_selected(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        ref: EventRef | None = cell(self.events_view.currentIndex(), OBJECT_ROLE)
        self.show_event(ref)

    def show_event(self, ref: EventRef | None) -> None:
        if ref is None:
            self.fields_model.set_rows([])
            self.xml_view.clear()
            return
        record = self._lookup(ref.origin)
        if record is None:
            self.fields_model.set_rows([])
            self.xml_view.setPlainText(f"The record {ref.origin} is not in the loaded evidence, "
                                       "so its full XML cannot be shown.")
            return
        self.fields_model.set_rows(list(record.data.items()))
        try:
            xml = record.xml()
        except Exception as exc:  # noqa: BLE001 - a damaged record must not crash the view
            xml = f"The XML of {ref.origin} could not be rendered: {exc}"
        self.xml_view.setPlainText(xml or "(no XML available for this record)")

    def selected_registry_path(self) -> str:
        obj = cell(self.registry_view.currentIndex(), OBJECT_ROLE)
        if isinstance(obj, RegistryRef):
            return obj.path
        if isinstance(obj, RegistryValueRef):
            parent = cell(self.registry_view.currentIndex().parent(), OBJECT_ROLE)
            return f"{parent.path}\\{obj.name}" if isinstance(parent, RegistryRef) else obj.name
        return ""

    def selected_registry_value(self) -> str:
        obj = cell(self.registry_view.currentIndex(), OBJECT_ROLE)
        if isinstance(obj, RegistryValueRef):
            return full_data(obj.data)
        return ""

    def copy_summary(self) -> None:
        if self._report is None or self._step is None:
            return
        text = step_summary(self._report, self._step, self.times)
        QGuiApplication.clipboard().setText(text)
        self.summary_copied.emit(text)

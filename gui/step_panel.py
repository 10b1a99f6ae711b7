"""Step drill-down: summary, status reason, hint and the settings that change its meaning,
then Items, Registry, Events, Log and the step's timeline, each row opening in a details pane.

The window talks to it through methods and signals only (:meth:`show_page`,
:meth:`focus_filter`, :meth:`select_origin`, ``key_activated``), never through tab indexes."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QEvent, QItemSelection, QModelIndex, Qt, Signal
from PySide6.QtGui import QGuiApplication, QPalette
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from core.esp.model import EspReport, EventRef, Item, LogRef, RegistryRef, RegistryValueRef, Step
from core.report.common import hresult_text, phase_of, setting_note
from gui.details import DetailsPane
from gui.export import step_summary
from gui.fonts import derived
from gui.models import (
    OBJECT_ROLE,
    EventsModel,
    HistoryModel,
    ItemsModel,
    LogRefModel,
    RegistryRefModel,
    TimelineModel,
    TimelineRow,
    cell,
    full_data,
    short_status_text,
)
from gui.plain import plain_label
from gui.prepare import Loaded, telling_item
from gui.proxies import FilterProxy, PredicateProxy
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

PAGES = ("items", "registry", "events", "log", "timeline")


def _list_over_details(view: QWidget, details: QWidget) -> QSplitter:
    """A row list above the details of its selected row; the list gets the room (the details
    pane's tables would otherwise squeeze it to two rows)."""
    split = QSplitter(Qt.Orientation.Vertical)
    split.addWidget(view)
    split.addWidget(details)
    details.setMinimumHeight(80)
    split.setSizes([320, 200])
    split.setStretchFactor(0, 3)
    split.setStretchFactor(1, 2)
    return split


class StepPanel(QWidget):
    """Everything about one step. ``copy_summary`` puts :func:`step_summary` on the clipboard;
    ``key_activated(path)`` asks the window to open a key in the registry browser."""

    summary_copied = Signal(str)
    key_activated = Signal(str)

    ITEMS, REGISTRY, EVENTS, LOG, TIMELINE = range(5)

    def __init__(self, times: TimeDisplay, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.times = times
        self._report: EspReport | None = None
        self._step: Step | None = None
        self._loaded: Loaded | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)

        top = QHBoxLayout()
        self.title = plain_label("Select a step", elastic=True, name="stepTitle",
                                 selectable=True, wrap=True)
        self.title.setFont(derived(self.title.font(), scale=1.3, bold=True))
        top.addWidget(self.title, 1)
        self.copy_button = QPushButton("Cop&y summary")
        self.copy_button.setObjectName("copySummary")
        self.copy_button.setToolTip("Copy this step's summary to the clipboard (Ctrl+Shift+C)")
        self.copy_button.clicked.connect(self.copy_summary)
        top.addWidget(self.copy_button, 0, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(top)
        self.meta = plain_label(elastic=True, name="stepMeta", selectable=True, wrap=True)
        layout.addWidget(self.meta)
        self.reason = plain_label(name="stepReason", selectable=True, wrap=True)
        layout.addWidget(self.reason)
        self.note = plain_label(name="settingNote", selectable=True, wrap=True)
        self.note.setFont(derived(self.note.font(), bold=True))
        layout.addWidget(self.note)

        self.hint = QFrame()
        self.hint.setObjectName("hintBox")
        self.hint.setFrameShape(QFrame.Shape.StyledPanel)
        self.hint.setBackgroundRole(QPalette.ColorRole.AlternateBase)
        self.hint.setAutoFillBackground(True)
        hint_layout = QVBoxLayout(self.hint)
        hint_layout.setContentsMargins(8, 6, 8, 6)
        self.hint_title = plain_label(selectable=True, wrap=True)
        self.hint_title.setFont(derived(self.hint_title.font(), bold=True))
        self.hint_text = plain_label(name="hintText", selectable=True, wrap=True)
        # The hint's source is a knowledge-base URL: the only link the window renders, built
        # from an escaped https address (never from evidence).
        self.hint_source = QLabel()
        self.hint_source.setObjectName("hintSource")
        self.hint_source.setTextFormat(Qt.TextFormat.RichText)
        self.hint_source.setOpenExternalLinks(True)
        self.hint_source.setTextInteractionFlags(Qt.TextInteractionFlag.LinksAccessibleByMouse
                                                 | Qt.TextInteractionFlag.LinksAccessibleByKeyboard)
        hint_layout.addWidget(self.hint_title)
        hint_layout.addWidget(self.hint_text)
        hint_layout.addWidget(self.hint_source)
        layout.addWidget(self.hint)

        self.tabs = QTabWidget()
        self.tabs.setObjectName("stepTabs")
        layout.addWidget(self.tabs, 1)
        self._build_items()
        self._build_registry()
        self._build_events()
        self._build_log()
        self._build_timeline()
        # Hidden tabs are filled when first shown (or first used): a step with thousands of
        # events or log lines costs the GUI thread nothing until its tab opens.
        self._pending: dict[int, Callable[[], None]] = {}
        self._timeline_count = 0
        self.tabs.currentChanged.connect(self._fill)
        self.set_step(None, None)

    # -- construction ---------------------------------------------------------------------

    def _page(self, box_filter: QLineEdit | None = None) -> tuple[QWidget, QVBoxLayout]:
        page = QWidget()
        box = QVBoxLayout(page)
        box.setContentsMargins(0, 4, 0, 0)
        if box_filter is not None:
            box.addWidget(box_filter)
        return page, box

    def _build_items(self) -> None:
        self.items_model = ItemsModel(self.times, self)
        self.items_proxy = FilterProxy(self)
        self.items_proxy.setSourceModel(self.items_model)
        self.items_filter = filter_box(self.items_proxy, "Filter items…", name="itemsFilter")
        page, box = self._page(self.items_filter)
        split = QSplitter(Qt.Orientation.Vertical)
        self.items_view = table_view(self.items_proxy, name="itemsView", sort_column=None)
        size_columns(self.items_view, {0: 22, 1: 7, 2: 7, 3: 12, 4: 11, 5: 24})
        # An item without a name is shown by its id, a LocURI or app id whose distinguishing
        # part is its tail (…/SCEP/<profile id>): cut in the middle.
        self.items_view.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        add_copy_action(self.items_view, lambda: row_text(self.items_view))
        self.items_view.doubleClicked.connect(lambda _index: self.show_item_evidence())
        lower = QWidget()
        lower_box = QVBoxLayout(lower)
        lower_box.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        self.item_caption = plain_label(elastic=True, name="itemCaption")
        self.item_evidence_button = QPushButton("Its events and log lines")
        self.item_evidence_button.setObjectName("itemEvidence")
        self.item_evidence_button.setToolTip("Show the step's events and log lines about the "
                                             "selected item (or double-click the item)")
        self.item_evidence_button.clicked.connect(self.show_item_evidence)
        row.addWidget(self.item_caption, 1)
        row.addWidget(self.item_evidence_button)
        lower_box.addLayout(row)
        self.history_model = HistoryModel(self.times, self)
        self.history_view = table_view(self.history_model, name="historyView")
        size_columns(self.history_view, {0: 26})
        lower_box.addWidget(self.history_view, 1)
        split.addWidget(self.items_view)
        split.addWidget(lower)
        split.setSizes([300, 140])
        box.addWidget(split, 1)
        self.items_view.selectionModel().selectionChanged.connect(self._item_selected)
        self.tabs.addTab(page, "&Items")

    def _build_registry(self) -> None:
        self.registry_model = RegistryRefModel(self.times, self)
        self.registry_proxy = FilterProxy(self, recursive=True)
        self.registry_proxy.setSourceModel(self.registry_model)
        self.registry_filter = filter_box(self.registry_proxy, "Filter keys and values…",
                                          name="registryFilter")
        page, box = self._page(self.registry_filter)
        self.registry_view = tree_view(self.registry_proxy, name="registryView")
        # Key paths share their long head; eliding the middle keeps the app id, SID or time
        # stamp at their end that tells the keys apart.
        self.registry_view.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        size_columns(self.registry_view, {0: 46, 1: 11, 2: 24, 3: 16, 4: 23})
        self.registry_proxy.modelReset.connect(self.registry_view.expandAll)
        self.registry_proxy.layoutChanged.connect(self.registry_view.expandAll)
        self.registry_view.doubleClicked.connect(self._registry_activated)
        # Ctrl+C copies what the row is: a key's full path, a value's complete data.
        add_copy_action(self.registry_view, lambda: self.selected_registry_value() or
                        self.selected_registry_path())
        add_copy_action(self.registry_view, self.selected_registry_path, "Copy &path", None)
        add_copy_action(self.registry_view, self.selected_registry_value, "Copy &value", None)
        add_action(self.registry_view, "&Open in the registry browser",
                   lambda: self._registry_activated(self.registry_view.currentIndex()),
                   "Ctrl+Return")
        box.addWidget(self.registry_view, 1)
        self.tabs.addTab(page, "&Registry")

    def _build_events(self) -> None:
        self.events_model = EventsModel(self.times, self)
        self.events_proxy = PredicateProxy(self)
        self.events_proxy.setSourceModel(self.events_model)
        self.events_filter = filter_box(self.events_proxy, "Filter events (text, id, level)…",
                                        name="eventsFilter")
        page, box = self._page(self.events_filter)
        self.events_view = table_view(self.events_proxy, name="eventsView")
        size_columns(self.events_view, {0: 24, 1: 11, 2: 30, 3: 6, 4: 50})
        add_copy_action(self.events_view, lambda: row_text(self.events_view))
        self.event_details = DetailsPane(self.times, name="eventDetails")
        box.addWidget(_list_over_details(self.events_view, self.event_details), 1)
        self.events_view.selectionModel().selectionChanged.connect(self._event_selected)
        self.tabs.addTab(page, "Event&s")

    def _build_log(self) -> None:
        self.logs_model = LogRefModel(self.times, self)
        self.logs_proxy = PredicateProxy(self)
        self.logs_proxy.setSourceModel(self.logs_model)
        self.logs_filter = filter_box(self.logs_proxy, "Filter log lines…", name="logsFilter")
        page, box = self._page(self.logs_filter)
        self.logs_view = table_view(self.logs_proxy, name="logsView")
        size_columns(self.logs_view, {0: 24, 1: 9, 2: 18, 3: 60})
        add_copy_action(self.logs_view, lambda: row_text(self.logs_view))
        self.log_details = DetailsPane(self.times, name="logDetails")
        box.addWidget(_list_over_details(self.logs_view, self.log_details), 1)
        self.logs_view.selectionModel().selectionChanged.connect(self._log_selected)
        self.tabs.addTab(page, "&Log")

    def _build_timeline(self) -> None:
        self.timeline_model = TimelineModel(self.times, self)
        self.timeline_proxy = FilterProxy(self)
        self.timeline_proxy.setSourceModel(self.timeline_model)
        self.timeline_view = table_view(self.timeline_proxy, name="stepTimelineView")
        size_columns(self.timeline_view, {0: 24, 1: 9, 2: 11, 3: 30, 4: 50})
        self.timeline_view.hideColumn(TimelineModel.STEP)
        add_copy_action(self.timeline_view, lambda: row_text(self.timeline_view))
        self.tabs.addTab(self.timeline_view, "Ti&meline")

    # -- what the window uses -------------------------------------------------------------

    def set_loaded(self, loaded: Loaded | None) -> None:
        """The loaded capture the details panes look rows up in."""
        self._loaded = loaded
        neighbours = loaded.neighbours if loaded is not None else (lambda line: [line])
        for pane in (self.event_details, self.log_details):
            pane.neighbours_of = neighbours

    def show_page(self, name: str) -> None:
        """Bring one of :data:`PAGES` to the front."""
        self.tabs.setCurrentIndex(PAGES.index(name))
        self._fill(PAGES.index(name))

    def _fill(self, *pages: int) -> None:
        """Give these tabs the current step's rows if they still wait for them."""
        for page in pages:
            fill = self._pending.pop(page, None)
            if fill is not None:
                fill()

    def current_page(self) -> str:
        return PAGES[self.tabs.currentIndex()]

    def focus_filter(self) -> None:
        box = {self.ITEMS: self.items_filter, self.REGISTRY: self.registry_filter,
               self.EVENTS: self.events_filter, self.LOG: self.logs_filter}.get(
                   self.tabs.currentIndex())
        if box is not None:
            box.setFocus()
            box.selectAll()

    def select_origin(self, origin: str) -> bool:
        """Select the step's event or log line with this provenance (and show its details)."""
        self._fill(self.EVENTS, self.LOG)
        for page, model, proxy, view in (
                ("events", self.events_model, self.events_proxy, self.events_view),
                ("log", self.logs_model, self.logs_proxy, self.logs_view)):
            for row in range(model.rowCount()):
                if model.row_object(row).origin == origin:
                    self._clear_item_filter()
                    self.show_page(page)
                    index = proxy.mapFromSource(model.index(row, 0))
                    if not index.isValid():  # hidden by the filter text: clear it
                        (self.events_filter if page == "events" else self.logs_filter).clear()
                        index = proxy.mapFromSource(model.index(row, 0))
                    view.setCurrentIndex(index)
                    view.scrollTo(index)
                    return True
        return False

    def select_key(self, path: str) -> bool:
        self._fill(self.REGISTRY)
        index = self.registry_proxy.mapFromSource(self.registry_model.key_index(path))
        if not index.isValid():
            return False
        self.show_page("registry")
        self.registry_view.setCurrentIndex(index)
        self.registry_view.scrollTo(index)
        return True

    # -- content --------------------------------------------------------------------------

    def set_step(self, report: EspReport | None, step: Step | None,
                 timeline: list[TimelineRow] | None = None) -> None:
        self._report, self._step = report, step
        self._pending = {}
        self._timeline_count = len(timeline or [])
        self.copy_button.setEnabled(step is not None)
        self._clear_item_filter()
        if step is None:
            self.title.setText("Select a step")
            self.meta.setText("Click a step of the ESP on the left (or move to it with the "
                              "arrow keys) to see its items, registry keys, events, log lines "
                              "and timeline.")
            self.reason.hide()
            self.note.hide()
            self.hint.hide()
            for model in (self.items_model, self.events_model, self.timeline_model,
                          self.history_model, self.logs_model):
                model.set_rows([])
            self.registry_model.set_refs([])
            self.event_details.clear()
            self.log_details.clear()
            self._update_tab_titles()
            return
        phase = phase_of(report, step.id) if report else None
        prefix = f"{phase.title} › " if phase else ""
        self.title.setText(
            f"{prefix}{step.title}: {short_status_text(step.title, step.status, step.status_text)}"
        )
        self._update_meta()
        reason = step.status_reason or (phase.status_reason if phase is not None else None)
        self.reason.setText(f"Why: {reason}" if reason else "")
        self.reason.setVisible(bool(reason))
        note = setting_note(report.settings, step) if report is not None else None
        self.note.setText(note or "")
        self.note.setVisible(bool(note))
        if step.hint is not None:
            self.hint_title.setText(f"Hint: {step.hint.title}")
            self.hint_text.setText(step.hint.text)
            source = step.hint.source or ""
            if source.startswith("https://"):
                url = html.escape(source, quote=True)
                self.hint_source.setText(f'<a href="{url}">Source: {html.escape(source)}</a>')
                self.hint_source.show()
            else:
                self.hint_source.hide()
            self.hint.show()
        else:
            self.hint.hide()
        self.items_model.set_rows(step.items, self._keys("items", step))
        self.history_model.set_rows([])
        self._select_telling_item(step)
        rows = timeline or []
        self._pending = {
            self.REGISTRY: lambda: self.registry_model.set_refs(step.registry),
            self.EVENTS: lambda: self.events_model.set_rows(step.events,
                                                            self._keys("events", step)),
            self.LOG: lambda: self.logs_model.set_rows(step.logs, self._keys("logs", step)),
            self.TIMELINE: lambda: self.timeline_model.set_rows(rows),
        }
        self.event_details.clear("Select an event to see its data fields and full XML.")
        self.log_details.clear("Select a log line to see all of it and the lines around it.")
        self._fill(self.tabs.currentIndex())
        self._update_tab_titles()

    def _keys(self, table: str, step: Step) -> list[tuple[Any, ...]] | None:
        """The loading thread's sort keys for one of the step's tables (when it is the
        loaded report's step)."""
        return self._loaded.keys_of(f"{table}:{step.id}") if self._loaded is not None else None

    def _update_meta(self) -> None:
        step = self._step
        if step is None:
            return
        parts = [step.id]
        if step.hresult:
            parts.append(f"error {hresult_text(step.hresult) or step.hresult}")
        if step.started or step.ended:
            start = self.times.fmt(step.started) or "?"
            end = self.times.fmt(step.ended) or "?"
            if step.started_source:
                start += f" (from {step.started_source})"
            if step.ended_source:
                end += f" (from {step.ended_source})"
            parts.append(f"{start} → {end} ({self.times.label})")
        else:
            parts.append("no start or end time in the evidence")
        self.meta.setText(" · ".join(parts))

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange):
            # A rich-text link takes its colour when it is set: set it again under the new
            # palette, or a dark theme keeps the light theme's dark blue.
            text = self.hint_source.text()
            self.hint_source.clear()
            self.hint_source.setText(text)

    def refresh_times(self) -> None:
        self._update_meta()

    def _update_tab_titles(self) -> None:
        step = self._step
        counts = (len(step.items), len(step.registry), len(step.events), len(step.logs),
                  self._timeline_count) if step else (0, 0, 0, 0, 0)
        titles = ("&Items", "&Registry", "Event&s", "&Log", "Ti&meline")
        for i, (title, count) in enumerate(zip(titles, counts, strict=True)):
            self.tabs.setTabText(i, f"{title} ({count})")

    def _select_telling_item(self, step: Step) -> None:
        """Select the item that explains the step (the first failed one, else the first with a
        history) so its history shows at once."""
        if not step.items:
            return
        known = self._loaded.telling_items.get(step.id) if self._loaded is not None else None
        row = known if known is not None else telling_item(step)
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
        self.show_page("items")
        self.items_view.setCurrentIndex(index)
        self.items_view.scrollTo(index)
        return index.isValid()

    # -- items → their events and log lines -----------------------------------------------

    def current_item(self) -> Item | None:
        item = cell(self.items_view.currentIndex(), OBJECT_ROLE)
        return item if isinstance(item, Item) else None

    def show_item_evidence(self) -> None:
        """Narrow Events and Log to the rows about the selected item, and show them."""
        item = self.current_item()
        if item is None:
            return
        self._fill(self.EVENTS, self.LOG)
        needles = [n.casefold() for n in (item.id, item.name) if n]
        # Events name a profile by its own name (".../SCEP/CorpWifi", "SCEP-CorpWifi" →
        # "CorpWifi"); the id's last part finds them where the whole id does not.
        tail = re.split(r"[/\\_-]", item.id.strip("{}"))[-1]
        if len(tail) >= 6:
            needles.append(tail.casefold())

        def about(obj: Any) -> bool:
            if isinstance(obj, LogRef) and obj.item is not None:
                return obj.item.casefold() in needles
            text = f"{getattr(obj, 'summary', '')}\n{getattr(obj, 'message', '')}"
            record = self._loaded.event(obj.origin) if isinstance(obj, EventRef) and \
                self._loaded is not None else None
            if record is not None:  # the event's data names the item where its summary won't
                text += "\n" + "\n".join(record.data.values())
            folded = text.casefold()
            return any(n in folded for n in needles)

        self.events_proxy.set_predicate(about)
        self.logs_proxy.set_predicate(about)
        label = item.name or item.id
        for view_filter in (self.events_filter, self.logs_filter):
            view_filter.setPlaceholderText(f"Showing rows about {label} — type to filter, "
                                           "select another step to see all")
        self.show_page("events" if self.events_proxy.rowCount() or
                       not self.logs_proxy.rowCount() else "log")

    def _clear_item_filter(self) -> None:
        self.events_proxy.set_predicate(None)
        self.logs_proxy.set_predicate(None)
        self.events_filter.setPlaceholderText("Filter events (text, id, level)…")
        self.logs_filter.setPlaceholderText("Filter log lines…")

    # -- selection details ----------------------------------------------------------------

    def _item_selected(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        item = self.current_item()
        self.history_model.set_rows(item.history if item is not None else [])
        self.item_caption.setText(f"History of {item.name or item.id}" if item else "")
        self.item_evidence_button.setEnabled(item is not None)

    def _event_selected(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        ref: EventRef | None = cell(self.events_view.currentIndex(), OBJECT_ROLE)
        self.show_event(ref)

    def show_event(self, ref: EventRef | None) -> None:
        if ref is None:
            self.event_details.clear("Select an event to see its data fields and full XML.")
            return
        record = self._loaded.event(ref.origin) if self._loaded is not None else None
        if record is None:
            self.event_details.show_missing_event(ref.origin)
        else:
            self.event_details.show_event(record)

    def _log_selected(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        ref: LogRef | None = cell(self.logs_view.currentIndex(), OBJECT_ROLE)
        if ref is None:
            self.log_details.clear("Select a log line to see all of it and the lines around it.")
            return
        line = self._loaded.logs.get(ref.origin) if self._loaded is not None else None
        neighbours = self._loaded.neighbours(line) if self._loaded and line else []
        self.log_details.show_log_ref(ref, line, neighbours)

    def _registry_activated(self, index: QModelIndex) -> None:
        obj = cell(index, OBJECT_ROLE)
        if isinstance(obj, RegistryRef):
            self.key_activated.emit(obj.path)
        elif isinstance(obj, RegistryValueRef):
            parent = cell(index.parent(), OBJECT_ROLE)
            if isinstance(parent, RegistryRef):
                self.key_activated.emit(parent.path)

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

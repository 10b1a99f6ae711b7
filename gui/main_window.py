"""The main window: open/load/cancel, the composite ESP with its drill-down, capture views,
export, live attach, time zone — every action in a menu with a keyboard shortcut."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings, Qt, QTimer, Signal
from PySide6.QtGui import (
    QAction,
    QActionGroup,
    QCloseEvent,
    QDragEnterEvent,
    QDropEvent,
    QIcon,
    QKeySequence,
    QPalette,
)
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QMainWindow,
    QMenu,
    QProgressBar,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from core.esp.device import device_tz
from core.esp.model import Step
from core.paths import resource_path
from gui import export
from gui.capture_views import FilesView, ProblemsView, RegistryBrowser, TimelineView
from gui.compare import Compare
from gui.controller import LoadController
from gui.crash import CrashHandler
from gui.esp_settings import EspSettingsPanel
from gui.esp_view import DeviceHeader, EspPanel, FindingBanner, top_finding
from gui.findings import FindingsView
from gui.fonts import derived
from gui.help import COLLECT_HELP, about_text, shortcuts_text, show_text
from gui.icons import icon
from gui.live import LIVE_SUPPORTED, LiveSession, LogCollector
from gui.navigation import History
from gui.plain import plain_label
from gui.prepare import Loaded
from gui.settings import RecentFiles, make_settings
from gui.step_panel import StepPanel
from gui.theme import apply_theme
from gui.timechart import TimeChartView
from gui.timefmt import TimeDisplay
from gui.worker import Loader, live_loader, path_loader

log = logging.getLogger(__name__)

OPEN_FILTER = ("Diagnostics (*.cab *.zip *.reg *.evtx *.dat *.hiv *.log *.json);;"
               "Registry hives (*);;All files (*)")
SAMPLE = ("samples", "sample.cab")


class MainWindow(QMainWindow):
    """One capture at a time. ``load_finished`` fires after every load, whatever the outcome."""

    load_finished = Signal(str)  # "loaded" | "failed" | "crashed" | "cancelled"

    MESSAGE, LOADING, REPORT = range(3)

    def __init__(self, *, settings: QSettings | None = None,
                 loader_for_path: Callable[[Path], Loader] | None = None,
                 loader_for_live: Callable[[], Loader] | None = None,
                 crash: CrashHandler | None = None, live_supported: bool = LIVE_SUPPORTED
                 ) -> None:
        super().__init__()
        self.setWindowTitle("ESPView")
        self.setWindowIcon(icon("espview"))
        self.setAcceptDrops(True)
        self.settings = settings if settings is not None else make_settings()
        self.recent = RecentFiles(self.settings)
        self._loader_for_path = loader_for_path or path_loader
        self._loader_for_live = loader_for_live or live_loader
        self.crash = crash if crash is not None else CrashHandler(lambda: self)
        self.live_supported = live_supported
        self.times = TimeDisplay(self)
        self.times.set_utc(self.settings.value("view/utc", True, type=bool))
        self.loaded: Loaded | None = None
        self.loads = LoadController(self)
        self.loads.started.connect(self._load_started)
        self.loads.progressed.connect(self._progressed)
        self.loads.loaded.connect(self._loaded)
        self.loads.failed.connect(self._failed)
        self.loads.crashed.connect(self._crashed)
        self.loads.cancelled.connect(self._cancelled)
        self.history = History()
        self._restoring = False
        self._show_step_page = True
        self._pending_path = ""
        self._current_path = ""
        # Pages of the main tabs still waiting for the capture on screen (see show_loaded),
        # and what runs once they all have it (the end of a load).
        self._fills: dict[str, Callable[[], None]] = {}
        self._after_fills: list[Callable[[], None]] = []
        self._fill_scheduled = False
        self.live_session = LiveSession(self._reload_live, self)
        self.collector = LogCollector(self)
        self.collector.finished.connect(self._logs_collected)

        self.stack = QStackedWidget()
        self.setCentralWidget(self.stack)
        self.stack.addWidget(self._build_message_page())
        self.stack.addWidget(self._build_loading_page())
        self.stack.addWidget(self._build_report_page())
        self._build_actions()
        self._build_menus()
        self.source_label = plain_label(elastic=True, name="sourceLabel")
        self.zone_label = plain_label(name="zoneLabel")
        self.statusBar().addWidget(self.source_label, 1)
        self.statusBar().addPermanentWidget(self.zone_label)
        self.times.changed.connect(self._times_changed)
        self._times_changed()
        self.show_message("Open a capture to begin",
                          "File › Open (Ctrl+O) a cab, an Intune diagnostics zip, a folder, a "
                          ".reg export, a registry hive or an event log — or drop it on this "
                          "window.")
        self._update_actions()

    # -- pages -----------------------------------------------------------------------------

    def _build_message_page(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.addStretch(1)
        self.message_title = plain_label(name="messageTitle", wrap=True)
        self.message_title.setFont(derived(self.message_title.font(), scale=1.6))
        self.message_text = plain_label(name="messageText", selectable=True, wrap=True)
        for label in (self.message_title, self.message_text):
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            layout.addWidget(label)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.open_button = QPushButton("&Open…")
        self.open_button.clicked.connect(self.open_dialog)
        self.sample_button = QPushButton("Open the &sample")
        self.sample_button.clicked.connect(self.open_sample)
        buttons.addWidget(self.open_button)
        buttons.addWidget(self.sample_button)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        layout.addStretch(2)
        return page

    def _build_loading_page(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.addStretch(1)
        self.loading_title = plain_label(name="loadingTitle", wrap=True)
        self.loading_title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.loading_stage = plain_label(name="loadingStage")
        self.loading_stage.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.progress = QProgressBar()
        self.progress.setObjectName("loadingProgress")
        self.progress.setMaximumWidth(520)
        self.progress.setTextVisible(True)
        self.cancel_button = QPushButton("Cancel (Esc)")
        self.cancel_button.setObjectName("cancelLoad")
        self.cancel_button.clicked.connect(self.cancel_load)
        layout.addWidget(self.loading_title)
        layout.addWidget(self.loading_stage)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.progress, 3)
        row.addWidget(self.cancel_button)
        row.addStretch(1)
        layout.addLayout(row)
        layout.addStretch(2)
        return page

    def _build_report_page(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(6, 6, 6, 0)
        self.header = DeviceHeader()
        self.banner = FindingBanner()
        self.banner.go_to_step.connect(self.select_step)
        self.banner.show_all.connect(lambda: self.show_page("findings"))
        self.load_error = plain_label(elastic=True, name="loadError", selectable=True, wrap=True)
        self.load_error.setFrameShape(QFrame.Shape.StyledPanel)
        self.load_error.setForegroundRole(QPalette.ColorRole.BrightText)
        self.load_error.setBackgroundRole(QPalette.ColorRole.Dark)
        self.load_error.setAutoFillBackground(True)
        self.load_error.hide()
        layout.addWidget(self.load_error)
        layout.addWidget(self.header)
        layout.addWidget(self.banner)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        left = QWidget()
        left_box = QVBoxLayout(left)
        left_box.setContentsMargins(0, 0, 0, 0)
        self.esp = EspPanel()
        self.esp.step_selected.connect(self._step_selected)
        self.esp_settings = EspSettingsPanel()
        left_box.addWidget(self.esp, 1)
        left_box.addWidget(self.esp_settings)
        self.tabs = QTabWidget()
        self.tabs.setObjectName("mainTabs")
        self.step_panel = StepPanel(self.times)
        self.step_panel.summary_copied.connect(
            lambda _text: self.statusBar().showMessage("Step summary copied to the clipboard",
                                                       5000))
        self.step_panel.key_activated.connect(self.open_key)
        self.findings = FindingsView(self.times)
        self.findings.finding_selected.connect(self._finding_selected)
        self.findings.evidence_activated.connect(self.open_evidence)
        self.timeline = TimelineView(self.times)
        self.timeline.step_requested.connect(self.select_step)
        self.problems = ProblemsView(self.times)
        self.registry = RegistryBrowser(self.times)
        self.files = FilesView(self.times)
        self.files.ask_save = lambda title, name: self.ask_save_path(title, name, "All files (*)")
        # Main tabs carry no mnemonic: Ctrl+1… reach them, and Alt+letter stays free for
        # the menus and the step's own tabs (one letter, one meaning per window).
        self.pages: dict[str, QWidget] = {}
        for name, widget, title in (("step", self.step_panel, "Step"),
                                    ("findings", self.findings, "Findings"),
                                    ("timeline", self.timeline, "Timeline"),
                                    ("problems", self.problems, "Problems"),
                                    ("registry", self.registry, "Registry"),
                                    ("files", self.files, "Files")):
            self.add_page(name, widget, title)
        self.chart = TimeChartView(self.times)
        self.add_page("chart", self.chart, "Time chart")
        self.chart.step_clicked.connect(self.select_step)
        self.chart.item_clicked.connect(self.select_item)
        self.esp.step_selected.connect(self.chart.show_step)
        self.tabs.currentChanged.connect(lambda _index: self._page_changed())
        # Wide enough for the ESP's longest step title next to its status text.
        left.setMinimumWidth(self.esp.fontMetrics().averageCharWidth() * 78)
        self.splitter.addWidget(left)
        self.splitter.addWidget(self.tabs)
        self.splitter.setStretchFactor(0, 0)  # the ESP keeps its width; details take the rest
        self.splitter.setStretchFactor(1, 1)
        layout.addWidget(self.splitter, 1)
        return page

    def add_page(self, name: str, widget: QWidget, title: str) -> None:
        """Add a named page to the main tabs (other views plug in here, e.g. a chart)."""
        self.pages[name] = widget
        self.tabs.addTab(widget, title)

    # -- actions and menus -----------------------------------------------------------------

    def _action(self, text: str, slot: Callable[[], Any], shortcut: Any = None,
                name: str = "") -> QAction:
        action = QAction(text, self)
        action.setObjectName(name)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(lambda _checked=False: slot())
        self.addAction(action)  # shortcuts work even while the menu bar is hidden
        return action

    def _build_actions(self) -> None:
        self.act_open = self._action("&Open…", self.open_dialog, QKeySequence.StandardKey.Open,
                                     "actOpen")
        self.act_open_folder = self._action("Open &folder…", self.open_folder_dialog,
                                            "Ctrl+Shift+O", "actOpenFolder")
        self.act_sample = self._action("Open the &sample", self.open_sample, None, "actSample")
        self.act_live = self._action("&Attach to this device (read-only)", self.open_live,
                                     "Ctrl+L", "actLive")
        self.act_refresh = self._action("Re&load", self.refresh, "F5", "actRefresh")
        self.act_bundle = self._action("Save evidence &bundle…", self.save_bundle_dialog,
                                       "Ctrl+B", "actBundle")
        self.act_collect = self._action("&Collect standard logs…", self.collect_logs_dialog,
                                        None, "actCollect")
        self.act_html = self._action("Export &HTML report…", self.export_html_dialog, "Ctrl+E",
                                     "actExportHtml")
        self.act_json = self._action("Export &JSON report…", self.export_json_dialog,
                                     "Ctrl+Shift+E", "actExportJson")
        self.act_quit = self._action("E&xit", self.close, QKeySequence.StandardKey.Quit,
                                     "actQuit")
        # Ctrl+C in a view copies its row (the views' own shortcut); the menu entry copies
        # from whatever has focus, so it only shows the key instead of competing for it.
        self.act_copy = self._action("&Copy", self.copy_focused, QKeySequence.StandardKey.Copy,
                                     "actCopy")
        self.act_copy.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        self.act_copy_summary = self._action("Copy step &summary", self.step_panel.copy_summary,
                                             "Ctrl+Shift+C", "actCopySummary")
        self.act_find = self._action("&Find / filter…", self.focus_filter,
                                     QKeySequence.StandardKey.Find, "actFind")
        self.act_cancel = self._action("Cancel loading", self.cancel_load, "Esc", "actCancel")
        self.act_focus_esp = self._action("&ESP steps", self.focus_esp, "Ctrl+0", "actFocusEsp")
        self.act_back = self._action("&Back", self.go_back, "Alt+Left", "actBack")
        self.act_forward = self._action("Forwar&d", self.go_forward, "Alt+Right", "actForward")
        titles = {"step": "&Step details", "findings": "F&indings", "timeline": "&Timeline",
                  "problems": "&Problems", "registry": "&Registry", "files": "Fi&les",
                  "chart": "Time &chart"}
        self.page_actions = [
            self._action(titles[name], lambda n=name: self.show_page(n, focus=True),
                         f"Ctrl+{i + 1}", f"actPage_{name}")
            for i, name in enumerate(self.pages)
        ]
        self.act_utc = QAction("&UTC", self, checkable=True)
        self.act_utc.setObjectName("actUtc")
        self.act_local = QAction("&Device-local time", self, checkable=True)
        self.act_local.setObjectName("actLocal")
        group = QActionGroup(self)
        group.addAction(self.act_utc)
        group.addAction(self.act_local)
        (self.act_utc if self.times.utc else self.act_local).setChecked(True)
        self.act_utc.triggered.connect(lambda: self.set_utc(True))
        self.act_local.triggered.connect(lambda: self.set_utc(False))
        self.act_toggle_zone = self._action("T&oggle UTC / device-local",
                                            lambda: self.set_utc(not self.times.utc), "Ctrl+T",
                                            "actToggleZone")
        self.theme_actions: dict[str, QAction] = {}
        theme_group = QActionGroup(self)
        current = self.settings.value("view/theme", "system", type=str)
        for name, title in (("system", "&System"), ("light", "&Light"), ("dark", "&Dark")):
            action = QAction(title, self, checkable=True)
            action.setObjectName(f"actTheme_{name}")
            action.setChecked(name == current)
            action.triggered.connect(lambda _checked=False, n=name: self.set_theme(n))
            theme_group.addAction(action)
            self.theme_actions[name] = action
        self.act_keys = self._action("&Keyboard shortcuts", self.show_shortcuts,
                                     QKeySequence.StandardKey.HelpContents, "actKeys")
        self.act_collect_help = self._action("&Collecting logs on a stuck device",
                                             self.show_collect_help, None, "actCollectHelp")
        self.act_about = self._action("&About ESPView", self.about, None, "actAbout")
        self.compare = Compare(self)  # File › Compare with…, Export › Redact identifiers
        for action in (self.act_live, self.act_collect):
            action.setVisible(self.live_supported)
            action.setEnabled(self.live_supported)

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        file_menu.setObjectName("fileMenu")
        file_menu.addActions([self.act_open, self.act_open_folder])
        self.recent_menu = QMenu("Open &recent", self)
        self.recent_menu.setObjectName("recentMenu")
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        file_menu.addMenu(self.recent_menu)
        file_menu.addAction(self.act_sample)
        file_menu.addSeparator()
        file_menu.addActions([self.act_live, self.act_refresh, self.act_bundle,
                              self.act_collect])
        file_menu.addSeparator()
        self.export_menu = file_menu.addMenu("&Export")
        self.export_menu.addActions([self.act_html, self.act_json])
        self.compare.install(file_menu, self.export_menu)
        file_menu.addSeparator()
        file_menu.addAction(self.act_quit)
        self.file_menu = file_menu
        edit_menu = bar.addMenu("&Edit")
        edit_menu.addActions([self.act_copy, self.act_copy_summary, self.act_find])
        view_menu = bar.addMenu("&View")
        view_menu.addAction(self.act_focus_esp)
        view_menu.addActions(self.page_actions)
        view_menu.addSeparator()
        view_menu.addActions([self.act_back, self.act_forward])
        view_menu.addSeparator()
        zone_menu = view_menu.addMenu("Time &zone")
        zone_menu.addActions([self.act_utc, self.act_local])
        view_menu.addAction(self.act_toggle_zone)
        theme_menu = view_menu.addMenu("T&heme")
        theme_menu.addActions(list(self.theme_actions.values()))
        help_menu = bar.addMenu("&Help")
        help_menu.addActions([self.act_keys, self.act_collect_help])
        help_menu.addSeparator()
        help_menu.addAction(self.act_about)
        self._fill_recent()

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        paths = self.recent.paths()
        for number, path in enumerate(paths, start=1):
            action = self.recent_menu.addAction(f"&{number} {path}")
            action.triggered.connect(lambda _checked=False, p=path: self.open_path(p))
        if paths:
            self.recent_menu.addSeparator()
            self.recent_menu.addAction("&Clear list", self._clear_recent)
        else:
            self.recent_menu.addAction("(none yet)").setEnabled(False)

    def _clear_recent(self) -> None:
        self.recent.clear()
        self._fill_recent()

    def _update_actions(self) -> None:
        has_report = self.loaded is not None
        loading = self.loads.busy
        for action in (self.act_html, self.act_json, self.act_bundle, self.act_copy_summary):
            action.setEnabled(has_report and not loading)
        self.act_cancel.setEnabled(loading)
        self.compare.update(has_report, loading)
        self.act_refresh.setEnabled(not loading and (self.live_session.active or
                                                     bool(self._current_path)))
        self.act_back.setEnabled(self.history.can_back)
        self.act_forward.setEnabled(self.history.can_forward)

    # -- showing things --------------------------------------------------------------------

    def show_message(self, title: str, text: str) -> None:
        self.message_title.setText(title)
        self.message_text.setText(text)
        self.stack.setCurrentIndex(self.MESSAGE)

    def show_page(self, name: str, *, focus: bool = False) -> None:
        """Bring a named page of the main tabs to the front."""
        widget = self.pages.get(name)
        if widget is not None and self.stack.currentIndex() == self.REPORT:
            self.fill_page(name)
            self.tabs.setCurrentWidget(widget)
            if focus:
                widget.setFocus()

    def current_page(self) -> str:
        current = self.tabs.currentWidget()
        return next((name for name, widget in self.pages.items() if widget is current), "")

    def focus_esp(self) -> None:
        if self.stack.currentIndex() == self.REPORT:
            self.esp.tree.setFocus()

    def focus_filter(self) -> None:
        page = self.tabs.currentWidget()
        if page is self.step_panel:
            self.step_panel.focus_filter()
            return
        box = {self.timeline: self.timeline.search, self.problems: self.problems.filter,
               self.registry: self.registry.path_edit, self.files: self.files.filter}.get(page)
        if box is not None:
            box.setFocus()
            box.selectAll()

    def copy_focused(self) -> None:
        """Edit › Copy: trigger the Ctrl+C action of the focused view (or its parents)."""
        widget = QApplication.focusWidget()
        while widget is not None:
            for action in widget.actions():
                if action.shortcut().matches(QKeySequence(QKeySequence.StandardKey.Copy)) \
                        == QKeySequence.SequenceMatch.ExactMatch and action is not self.act_copy:
                    action.trigger()
                    return
            if hasattr(widget, "copy") and callable(widget.copy):
                widget.copy()
                return
            widget = widget.parentWidget()

    def set_utc(self, utc: bool) -> None:
        self.times.set_utc(utc)
        (self.act_utc if utc else self.act_local).setChecked(True)
        self.settings.setValue("view/utc", utc)

    def set_theme(self, name: str) -> None:
        apply_theme(name)
        self.theme_actions[name].setChecked(True)
        self.settings.setValue("view/theme", name)  # the banner re-tints itself

    def _times_changed(self) -> None:
        self.zone_label.setText(f"Times: {self.times.label}")
        self.step_panel.refresh_times()

    def select_step(self, step_id: str, *, show: bool = True) -> bool:
        self._show_step_page = show
        try:
            if not self.esp.select_step(step_id):
                return False
        finally:
            self._show_step_page = True
        if show:
            self.show_page("step")
        return True

    def select_item(self, step_id: str, item_id: str) -> bool:
        """Select a step and, on its Items tab, one of its items."""
        return self.select_step(step_id) and self.step_panel.select_item(item_id)

    def _step_selected(self, step: Step | None) -> None:
        loaded = self.loaded
        if loaded is None:
            self.step_panel.set_step(None, None)
            return
        rows = loaded.step_timeline(step.id) if step is not None else []
        self.step_panel.set_step(loaded.report, step, rows)
        if step is not None and self._show_step_page:
            self.show_page("step")
        self._note()

    def _finding_selected(self, step_id: str) -> None:
        if step_id:
            self.select_step(step_id, show=False)
        self._note()

    # -- links between views ---------------------------------------------------------------

    def open_key(self, path: str) -> bool:
        """Show a key in the registry browser."""
        self.show_page("registry")
        found = self.registry.go_to(path)
        self._note()
        return found

    def open_evidence(self, text: str) -> bool:
        """Open what a piece of evidence cites: its timeline row (with details), the step's
        event or log line, or the key in the registry browser."""
        loaded = self.loaded
        target = loaded.resolve(text) if loaded is not None else None
        self.fill_page("timeline")
        if target is None:
            self.statusBar().showMessage(f"Cited text only; nothing in the loaded evidence "
                                         f"matches it: {text[:120]}", 8000)
            return False
        if target.kind == "registry":
            step = self.step_panel
            if target.ref is not None and self.esp.current_step() is not None and \
                    step.select_key(target.key_path):
                self.show_page("step")
                self._note()
                return True
            return self.open_key(target.key_path)
        if self.timeline.select_origin(target.origin):
            self.show_page("timeline")
            self.timeline.show_details()
            self._note()
            return True
        if self.step_panel.select_origin(target.origin):
            self.show_page("step")
            self._note()
            return True
        self.show_page("timeline")
        self.timeline.details.show_target(target, loaded.neighbours(target.line)
                                          if target.line is not None else [])
        self._note()
        return True

    # -- back and forward ------------------------------------------------------------------

    def _location(self) -> tuple[str, str]:
        page = self.current_page()
        step = self.esp.current_step()
        detail = step.id if step is not None else ""
        if page == "timeline":
            row = self.timeline.current_row()
            detail = row.entry.origin if row is not None else ""
        elif page == "registry":
            detail = self.registry.current_path()
        elif page == "findings":
            detail = str(self.findings.view.currentIndex().row())
        elif page == "step":
            detail += "|" + self.step_panel.current_page()
        return page, detail

    def _note(self) -> None:
        """Remember where the user is now (after a navigation), for Back/Forward."""
        if self._restoring or self.loaded is None:
            return
        self.history.visit(self._location())
        self._update_actions()

    def go_back(self) -> None:
        self._restore(self.history.back())

    def go_forward(self) -> None:
        self._restore(self.history.forward())

    def _restore(self, location: tuple[str, str] | None) -> None:
        if location is None or self.loaded is None:
            return
        page, detail = location
        self.fill_page(page)
        self._restoring = True
        try:
            if page == "step":
                step_id, _sep, sub = detail.partition("|")
                self.select_step(step_id)
                if sub:
                    self.step_panel.show_page(sub)
            elif page == "timeline" and detail:
                self.timeline.select_origin(detail)
            elif page == "registry" and detail:
                self.registry.go_to(detail)
            elif page == "findings" and detail.lstrip("-").isdigit():
                self.findings.select(int(detail))
            self.show_page(page)
        finally:
            self._restoring = False
        self._update_actions()

    # -- loaded captures -------------------------------------------------------------------

    def show_loaded(self, loaded: Loaded, then: Callable[[], None] | None = None) -> None:
        """Show a freshly loaded capture (GUI thread, after the worker).

        What is on screen (header, banner, the ESP, the selected step) is set here; every
        other page gets the capture when first shown, or in its own later slice of the event
        loop (one page per slice), so no stretch of GUI-thread work grows with the capture.
        ``then`` runs once every page has it.
        """
        previous = self.loaded
        self.loaded = loaded
        if previous is not None and previous.evidence is not None and previous is not loaded:
            previous.evidence.close()  # e.g. a live refresh: drop the old event-log exports
        report = loaded.report
        self._restoring = True
        self.history.clear()
        self.load_error.hide()
        self.times.set_device_zone(device_tz(report.device), report.device.time_zone)
        self.header.set_report(report)
        self.banner.set_finding(top_finding(report), max(len(report.findings) - 1, 0))
        self.step_panel.set_loaded(loaded)
        self.esp.set_report(report)
        self.esp_settings.set_report(report)
        files = loaded.evidence.source.files if loaded.evidence else report.source.files
        self._fills = {
            "findings": lambda: self._fill_findings(loaded),
            "timeline": lambda: self.timeline.set_loaded(loaded),
            "problems": lambda: self.problems.set_problems(loaded.problems,
                                                           loaded.keys_of("problems")),
            "registry": lambda: self.registry.set_registry(
                loaded.evidence.registry if loaded.evidence else None),
            "files": lambda: self.files.set_files(files, loaded.files, loaded.evidence,
                                                  keys=loaded.keys_of("files")),
            "chart": lambda: self.chart.set_report(report),
        }
        count = len(loaded.problems)
        self._set_title("problems", f"Problems ({count})" if count else "Problems",
                        icon("severity-warning") if count else icon(""))
        self._set_title("files", f"Files ({len(files)})")
        self._set_title("timeline", f"Timeline ({len(loaded.timeline):,})")
        self._set_title("findings", f"Findings ({len(report.findings)})")
        kind = "live device" if loaded.live else report.source.kind
        self.source_label.setText(f"{kind}: {report.source.path}"
                                  + (f" — {count} problem(s) reading it" if count else ""))
        self.setWindowTitle(f"ESPView — {report.device.name or Path(report.source.path).name}")
        self.stack.setCurrentIndex(self.REPORT)
        self.fill_page(self.current_page())
        first = report.first_failed_step or next(
            (s for s in report.steps if s.status in ("in_progress", "identifying")), None) or \
            (report.steps[0] if report.steps else None)
        self._restoring = False
        if first is not None:
            self.select_step(first.id)
        self.esp.tree.setFocus()
        self._update_actions()
        if then is not None:
            self._after_fills.append(then)
        self._schedule_fill()

    def _fill_findings(self, loaded: Loaded) -> None:
        self.findings.kind_of = lambda text: (t.kind if (t := loaded.resolve(text)) else "")
        self.findings.set_report(loaded.report)

    def fill_page(self, name: str) -> None:
        """Give a page the capture on screen now, if it still waits for it."""
        fill = self._fills.pop(name, None)
        if fill is not None:
            fill()

    def _page_changed(self) -> None:
        self.fill_page(self.current_page())
        self._note()

    def _schedule_fill(self) -> None:
        if not self._fill_scheduled:
            self._fill_scheduled = True
            QTimer.singleShot(0, self, self._fill_next)  # dropped if the window goes first

    def _fill_next(self) -> None:
        """One waiting page per turn of the event loop; then what waits for them all."""
        self._fill_scheduled = False
        if self._fills:
            self.fill_page(next(iter(self._fills)))
        if self._fills:
            self._schedule_fill()
            return
        after, self._after_fills = self._after_fills, []
        for then in after:
            then()

    def _set_title(self, name: str, title: str, tab_icon: QIcon | None = None) -> None:
        index = self.tabs.indexOf(self.pages[name])
        self.tabs.setTabText(index, title)
        if tab_icon is not None:
            self.tabs.setTabIcon(index, tab_icon)

    # -- loading ---------------------------------------------------------------------------

    def open_dialog(self) -> None:
        path = self.ask_open_path()
        if path:
            self.open_path(path)

    def open_folder_dialog(self) -> None:
        path = self.ask_folder("Open a folder of diagnostics")
        if path:
            self.open_path(path)

    def ask_open_path(self) -> str:
        path, _filter = QFileDialog.getOpenFileName(self, "Open diagnostics", "", OPEN_FILTER)
        return path

    def ask_folder(self, title: str) -> str:
        return QFileDialog.getExistingDirectory(self, title)

    def ask_save_path(self, title: str, name: str, file_filter: str) -> str:
        path, _filter = QFileDialog.getSaveFileName(self, title, name, file_filter)
        return path

    def open_sample(self) -> None:
        sample = resource_path(*SAMPLE)
        if not sample.is_file():
            self._load_failed("The bundled sample is missing",
                              f"This build has no sample capture (looked for {sample}). "
                              "Open a capture of your own with File › Open.")
            self.load_finished.emit("failed")
            return
        self.open_path(str(sample))

    def open_path(self, path: str) -> None:
        target = Path(path)
        if not target.exists():
            self._load_failed("Cannot open this input", f"{path}: no such file or folder.")
            self.load_finished.emit("failed")
            return
        self.live_session.stop()
        self._pending_path = str(target)
        self.start_load(self._loader_for_path(target), str(target))

    def open_live(self) -> None:
        if not self.live_supported:
            self._load_failed("Live attach needs Windows",
                              "Attaching to a device works only when ESPView runs on it.")
            return
        self.live_session.start()

    def _reload_live(self) -> None:
        if not self.loads.busy:
            self._pending_path = ""
            self.start_load(self._loader_for_live(), "this device", live=True)

    def refresh(self) -> None:
        """F5: read the live device again, or reopen the capture on screen."""
        if self.live_session.active:
            self.live_session.refresh()
        elif self._current_path and not self.loads.busy:
            self.open_path(self._current_path)

    def start_load(self, loader: Loader, source: str, *, live: bool = False) -> None:
        self.loads.start(loader, source, live=live)

    def _load_started(self, source: str, live: bool) -> None:
        self._previous_page = self.stack.currentIndex()
        if not live or self.loaded is None:  # live refreshes keep the report on screen
            self.loading_title.setText(f"Opening {source}")
            self.loading_stage.setText("Starting…")
            self.progress.setRange(0, 0)
            self.stack.setCurrentIndex(self.LOADING)
        self.statusBar().showMessage(f"Loading {source}…")
        self._update_actions()

    def cancel_load(self) -> None:
        if self.loads.busy:
            self.loading_stage.setText("Cancelling…")
            self.loads.cancel()

    def _progressed(self, stage: str, done: int, total: int) -> None:
        if total > 0:
            scale = max(1, total // 1_000_000)  # QProgressBar holds an int
            self.progress.setRange(0, total // scale)
            self.progress.setValue(min(done, total) // scale)
            self.loading_stage.setText(f"{stage} ({done:,} of {total:,})")
        else:
            self.progress.setRange(0, 0)
            self.loading_stage.setText(stage)

    def _loaded(self, loaded: Loaded) -> None:
        self.statusBar().clearMessage()
        path, self._pending_path = self._pending_path, ""
        try:
            self.show_loaded(loaded, lambda: self._shown(loaded))
        except BaseException:
            self._shown(loaded)
            raise
        if path and not loaded.live:
            self.recent.add(path)  # only what opened enters Open recent
            self._current_path = path
        elif loaded.live:
            self._current_path = ""

    def _shown(self, loaded: Loaded) -> None:
        """Every page has the capture: the load is over."""
        if loaded.live:
            self.live_session.loaded(loaded.report)
        self._update_actions()
        self.load_finished.emit("loaded")

    def _load_failed(self, title: str, text: str) -> None:
        """A load that failed: the report on screen (if any) stays with its title and status
        bar; the reason shows above it. Without one, the message page says it."""
        self.statusBar().clearMessage()
        if self.loaded is not None:
            self.load_error.setText(f"{title}. {text}\nStill showing the capture opened "
                                    "before.")
            self.load_error.show()
            self.stack.setCurrentIndex(self.REPORT)
            self.statusBar().showMessage(title, 8000)
        else:
            self.show_message(title, text)
        self._update_actions()

    def _failed(self, source: str, message: str) -> None:
        self._pending_path = ""
        self.live_session.stop()
        self._load_failed("Cannot open this input", f"{source}: {message}")
        self.load_finished.emit("failed")

    def _crashed(self, source: str, details: str) -> None:
        self._pending_path = ""
        self.live_session.stop()
        self._load_failed("ESPView hit an internal error",
                          f"Loading {source} failed because of a bug in ESPView. The details "
                          "are in the error dialog.")
        self.load_finished.emit("crashed")
        self.crash.show(details)

    def _cancelled(self) -> None:
        self._pending_path = ""
        self.statusBar().clearMessage()
        if self.loaded is not None:
            self.stack.setCurrentIndex(self.REPORT)
        else:
            self.show_message("Loading cancelled", "Open a capture to begin.")
        self.statusBar().showMessage("Loading cancelled", 5000)
        self._update_actions()
        self.load_finished.emit("cancelled")

    # -- export, bundle, logs --------------------------------------------------------------

    def _default_name(self, suffix: str) -> str:
        if self.loaded is None:
            return f"espview-report{suffix}"
        name = self.loaded.report.device.name or Path(self.loaded.report.source.path).stem
        return f"{name}-esp{suffix}"

    def export_html_dialog(self) -> None:
        self._export("Export HTML report", ".html", "HTML (*.html)", export.export_html)

    def export_json_dialog(self) -> None:
        self._export("Export JSON report", ".json", "JSON (*.json)", export.export_json)

    def _export(self, title: str, suffix: str, file_filter: str,
                writer: Callable[[Any, Path], None]) -> None:
        if self.loaded is None:
            return
        path = self.ask_save_path(title, self._default_name(suffix), file_filter)
        if not path:
            return
        try:
            writer(self.compare.for_export(self.loaded.report, self.loaded.evidence), Path(path))
        except OSError as exc:
            self.statusBar().showMessage(f"Could not write {path}: {exc.strerror or exc}", 15000)
            return
        self.statusBar().showMessage(f"Saved {path}", 8000)

    def save_bundle_dialog(self) -> None:
        if self.loaded is None:
            return
        folder = self.ask_folder("Save evidence bundle to (e.g. the USB stick)")
        if not folder:
            return
        try:
            written = export.save_bundle(Path(folder), self.loaded.evidence, self.loaded.report,
                                         redact=self.compare.redact)
        except OSError as exc:
            self.statusBar().showMessage(f"Could not save the bundle: {exc}", 15000)
            return
        self.statusBar().showMessage(f"Saved {len(written)} file(s) to "
                                     f"{written[0].parent if written else folder}", 10000)

    def collect_logs_dialog(self) -> None:
        if not self.live_supported or self.collector.running:
            return
        folder = self.ask_folder("Save the mdmdiagnosticstool cab to")
        if folder:
            cab = self.collector.start(Path(folder))
            self.statusBar().showMessage(f"Collecting logs into {cab} (this takes a minute)…")

    def _logs_collected(self, ok: bool, message: str) -> None:
        self.statusBar().showMessage(message, 15000)

    def about(self) -> None:
        show_text(self, "About ESPView", about_text())

    def show_shortcuts(self) -> None:
        show_text(self, "Keyboard shortcuts", shortcuts_text(self))

    def show_collect_help(self) -> None:
        show_text(self, "Collecting logs on a stuck device", COLLECT_HELP)

    # -- drag and drop, closing ------------------------------------------------------------

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        urls = event.mimeData().urls()
        if urls and urls[0].isLocalFile():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        urls = event.mimeData().urls()
        if urls and urls[0].isLocalFile():
            event.acceptProposedAction()
            self.open_path(urls[0].toLocalFile())

    def shutdown(self) -> None:
        """Stop timers and threads (closing the window, and test teardown)."""
        self.live_session.stop()
        self.compare.shutdown()
        self.loads.shutdown()
        self._fills.clear()
        self._after_fills.clear()
        if self.collector.process is not None:
            self.collector.process.kill()
            self.collector.process.waitForFinished(2000)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.shutdown()
        super().closeEvent(event)

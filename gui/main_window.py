"""The main window: open/load/cancel, the composite ESP with its drill-down, capture views,
export, live attach, time zone — every action in a menu with a keyboard shortcut."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtGui import (
    QAction,
    QActionGroup,
    QCloseEvent,
    QDragEnterEvent,
    QDropEvent,
    QKeySequence,
)
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
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

from core.esp.model import Step
from core.paths import resource_path
from gui import export
from gui.capture_views import FilesView, ProblemsView, RegistryBrowser, TimelineView
from gui.compare import Compare
from gui.crash import CrashHandler
from gui.esp_view import DeviceHeader, EspPanel, FindingBanner, top_finding
from gui.fonts import derived
from gui.icons import icon
from gui.live import LIVE_SUPPORTED, LiveSession, LogCollector
from gui.prepare import Loaded
from gui.settings import RecentFiles, make_settings
from gui.step_panel import StepPanel
from gui.timefmt import TimeDisplay
from gui.worker import Loader, LoadThread, live_loader, path_loader

log = logging.getLogger(__name__)

OPEN_FILTER = ("Diagnostics (*.cab *.zip *.reg *.evtx *.dat *.hiv *.log *.json);;"
               "Registry hives (*);;All files (*)")
SAMPLE = ("samples", "sample.cab")


class MainWindow(QMainWindow):
    """One capture at a time. ``load_finished`` fires after every load, whatever the outcome."""

    load_finished = Signal(str)  # "loaded" | "failed" | "crashed" | "cancelled"

    MESSAGE, LOADING, REPORT = range(3)
    STEP_TAB, TIMELINE_TAB, PROBLEMS_TAB, REGISTRY_TAB, FILES_TAB = range(5)

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
        self.thread: LoadThread | None = None
        self._retired: list[LoadThread] = []
        self._pending_source = ""
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
        self.source_label = QLabel()
        self.zone_label = QLabel()
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
        self.message_title = QLabel()
        self.message_title.setObjectName("messageTitle")
        self.message_title.setFont(derived(self.message_title.font(), scale=1.6))
        self.message_text = QLabel()
        self.message_text.setObjectName("messageText")
        self.message_text.setWordWrap(True)
        self.message_text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
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
        self.loading_title = QLabel()
        self.loading_title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.loading_stage = QLabel()
        self.loading_stage.setObjectName("loadingStage")
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
        layout.addWidget(self.header)
        layout.addWidget(self.banner)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.esp = EspPanel()
        self.esp.step_selected.connect(self._step_selected)
        self.tabs = QTabWidget()
        self.tabs.setObjectName("mainTabs")
        self.step_panel = StepPanel(self.times)
        self.step_panel.summary_copied.connect(
            lambda _text: self.statusBar().showMessage("Step summary copied to the clipboard",
                                                       5000))
        self.timeline = TimelineView(self.times)
        self.problems = ProblemsView(self.times)
        self.registry = RegistryBrowser(self.times)
        self.files = FilesView(self.times)
        self.tabs.addTab(self.step_panel, "Step")
        self.tabs.addTab(self.timeline, "Timeline")
        self.tabs.addTab(self.problems, "Problems")
        self.tabs.addTab(self.registry, "Registry")
        self.tabs.addTab(self.files, "Files")
        self.splitter.addWidget(self.esp)
        self.splitter.addWidget(self.tabs)
        self.splitter.setStretchFactor(0, 0)  # the ESP keeps its width; details take the rest
        self.splitter.setStretchFactor(1, 1)
        # Wide enough for the ESP's longest step title next to its status text.
        self.esp.setMinimumWidth(self.esp.fontMetrics().averageCharWidth() * 78)
        layout.addWidget(self.splitter, 1)
        return page

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
        self.act_refresh = self._action("&Refresh", self.refresh, "F5", "actRefresh")
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
        self.act_copy_summary = self._action("Copy step &summary", self.step_panel.copy_summary,
                                             "Ctrl+Shift+C", "actCopySummary")
        self.act_find = self._action("&Filter…", self.focus_filter, QKeySequence.StandardKey.Find,
                                     "actFind")
        self.act_cancel = self._action("Cancel loading", self.cancel_load, "Esc", "actCancel")
        self.act_focus_esp = self._action("&ESP steps", self.focus_esp, "Ctrl+0", "actFocusEsp")
        self.tab_actions = [
            self._action(f"&{title}", lambda i=i: self.show_tab(i), f"Ctrl+{i + 1}",
                         f"actTab{i}")
            for i, title in enumerate(("Step details", "Timeline", "Problems", "Registry",
                                       "Files"))
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
        self.act_toggle_zone = self._action("&Toggle UTC / device-local",
                                            lambda: self.set_utc(not self.times.utc), "Ctrl+T",
                                            "actToggleZone")
        self.act_about = self._action("&About ESPView", self.about, None, "actAbout")
        self.compare = Compare(self)  # File › Compare with…, Export › Redact identifiers
        for action in (self.act_live, self.act_refresh, self.act_collect):
            action.setVisible(self.live_supported)
            action.setEnabled(self.live_supported)

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
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
        export_menu = file_menu.addMenu("E&xport")
        export_menu.addActions([self.act_html, self.act_json])
        self.compare.install(file_menu, export_menu)
        file_menu.addSeparator()
        file_menu.addAction(self.act_quit)
        edit_menu = bar.addMenu("&Edit")
        edit_menu.addActions([self.act_copy_summary, self.act_find])
        view_menu = bar.addMenu("&View")
        view_menu.addAction(self.act_focus_esp)
        view_menu.addActions(self.tab_actions)
        view_menu.addSeparator()
        zone_menu = view_menu.addMenu("Time &zone")
        zone_menu.addActions([self.act_utc, self.act_local])
        view_menu.addAction(self.act_toggle_zone)
        help_menu = bar.addMenu("&Help")
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
        loading = self.thread is not None
        for action in (self.act_html, self.act_json, self.act_bundle, self.act_copy_summary):
            action.setEnabled(has_report and not loading)
        self.act_cancel.setEnabled(loading)
        self.compare.update(has_report, loading)
        self.act_refresh.setEnabled(self.live_supported and self.live_session.active
                                    and not loading)

    # -- showing things --------------------------------------------------------------------

    def show_message(self, title: str, text: str) -> None:
        self.message_title.setText(title)
        self.message_text.setText(text)
        self.stack.setCurrentIndex(self.MESSAGE)

    def show_tab(self, index: int) -> None:
        if self.stack.currentIndex() == self.REPORT:
            self.tabs.setCurrentIndex(index)
            self.tabs.currentWidget().setFocus()

    def focus_esp(self) -> None:
        if self.stack.currentIndex() == self.REPORT:
            self.esp.tree.setFocus()

    def focus_filter(self) -> None:
        page = self.tabs.currentWidget()
        if page is self.step_panel:
            tab = self.step_panel.tabs.currentIndex()
            boxes = {0: self.step_panel.items_filter, 1: self.step_panel.registry_filter,
                     2: self.step_panel.events_filter}
            box = boxes.get(tab)
        else:
            box = {self.timeline: self.timeline.search, self.problems: self.problems.filter,
                   self.registry: self.registry.path_edit, self.files: self.files.filter}.get(page)
        if box is not None:
            box.setFocus()
            box.selectAll()

    def set_utc(self, utc: bool) -> None:
        self.times.set_utc(utc)
        (self.act_utc if utc else self.act_local).setChecked(True)
        self.settings.setValue("view/utc", utc)

    def _times_changed(self) -> None:
        self.zone_label.setText(f"Times: {self.times.label}")
        self.step_panel.refresh_times()

    def select_step(self, step_id: str) -> bool:
        if not self.esp.select_step(step_id):
            return False
        self.tabs.setCurrentIndex(self.STEP_TAB)
        return True

    def _step_selected(self, step: Step | None) -> None:
        loaded = self.loaded
        if loaded is None:
            self.step_panel.set_step(None, None)
            return
        rows = [r for r in loaded.timeline if step is not None and r.entry.step == step.id]
        self.step_panel.set_step(loaded.report, step, rows)
        if step is not None:
            self.tabs.setCurrentIndex(self.STEP_TAB)

    def show_loaded(self, loaded: Loaded) -> None:
        """Attach every model to a freshly loaded capture (GUI thread, after the worker)."""
        previous = self.loaded
        self.loaded = loaded
        if previous is not None and previous.evidence is not None and previous is not loaded:
            previous.evidence.close()  # e.g. a live refresh: drop the old event-log exports
        report = loaded.report
        self.times.set_device_offset(loaded.device_offset_minutes)
        self.header.set_report(report)
        finding = top_finding(report)
        self.banner.set_finding(finding, max(len(report.findings) - 1, 0))
        self.step_panel.set_lookup(loaded.event)
        self.esp.set_report(report)
        self.timeline.set_rows(loaded.timeline, report)
        self.problems.set_problems(loaded.problems)
        self.registry.set_registry(loaded.evidence.registry if loaded.evidence else None)
        files = loaded.evidence.source.files if loaded.evidence else report.source.files
        self.files.set_files(files, loaded.problems)
        count = len(loaded.problems)
        self.tabs.setTabText(self.PROBLEMS_TAB, f"Problems ({count})" if count else "Problems")
        self.tabs.setTabIcon(self.PROBLEMS_TAB, icon("severity-warning") if count else icon(""))
        self.tabs.setTabText(self.FILES_TAB, f"Files ({len(files)})")
        self.tabs.setTabText(self.TIMELINE_TAB, f"Timeline ({len(loaded.timeline)})")
        kind = "live device" if loaded.live else report.source.kind
        self.source_label.setText(f"{kind}: {report.source.path}"
                                  + (f" — {count} problem(s) reading it" if count else ""))
        self.setWindowTitle(f"ESPView — {report.device.name or Path(report.source.path).name}")
        self.stack.setCurrentIndex(self.REPORT)
        first = report.first_failed_step or next(
            (s for s in report.steps if s.status in ("in_progress", "identifying")), None) or \
            (report.steps[0] if report.steps else None)
        if first is not None:
            self.select_step(first.id)
        self.esp.tree.setFocus()
        self._update_actions()

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
            self.show_message("The bundled sample is missing",
                              f"This build has no sample capture (looked for {sample}). "
                              "Open a capture of your own with File › Open.")
            self.load_finished.emit("failed")
            return
        self.open_path(str(sample))

    def open_path(self, path: str) -> None:
        target = Path(path)
        if not target.exists():
            self.show_message("Cannot open this input", f"{path}: no such file or folder.")
            self.load_finished.emit("failed")
            return
        self.live_session.stop()
        self.recent.add(str(target))
        self.start_load(self._loader_for_path(target), str(target))

    def open_live(self) -> None:
        if not self.live_supported:
            self.show_message("Live attach needs Windows",
                              "Attaching to a device works only when ESPView runs on it.")
            return
        self.live_session.start()

    def _reload_live(self) -> None:
        if self.thread is None:
            self.start_load(self._loader_for_live(), "this device", live=True)

    def refresh(self) -> None:
        if self.live_session.active:
            self.live_session.refresh()

    def start_load(self, loader: Loader, source: str, *, live: bool = False) -> None:
        self._retire_thread()
        self._pending_source = source
        thread = LoadThread(loader, self, live=live)
        thread.progressed.connect(self._progressed)
        thread.loaded.connect(self._loaded)
        thread.failed.connect(self._failed)
        thread.crashed.connect(self._crashed)
        thread.cancelled.connect(self._cancelled)
        self.thread = thread
        if not live or self.loaded is None:  # live refreshes keep the report on screen
            self.loading_title.setText(f"Opening {source}")
            self.loading_stage.setText("Starting…")
            self.progress.setRange(0, 0)
            self.stack.setCurrentIndex(self.LOADING)
        self.statusBar().showMessage(f"Loading {source}…")
        self._update_actions()
        thread.start()

    def _retire_thread(self) -> None:
        """Cancel a running load and forget its signals; it ends on its own."""
        thread, self.thread = self.thread, None
        if thread is None:
            return
        thread.cancel()
        for signal in (thread.progressed, thread.loaded, thread.failed, thread.crashed,
                       thread.cancelled):
            signal.disconnect()
        self._retired.append(thread)
        thread.finished.connect(lambda t=thread: self._forget(t))

    def _forget(self, thread: LoadThread) -> None:
        if thread in self._retired:
            self._retired.remove(thread)
        thread.deleteLater()

    def _finish_thread(self) -> None:
        thread, self.thread = self.thread, None
        if thread is not None:
            thread.wait(2000)  # it has emitted its last signal; run() is returning
            thread.deleteLater()
        self.statusBar().clearMessage()
        self._update_actions()

    def cancel_load(self) -> None:
        if self.thread is not None:
            self.loading_stage.setText("Cancelling…")
            self.thread.cancel()

    def _progressed(self, stage: str, done: int, total: int) -> None:
        if self.thread is None:
            return
        if total > 0:
            scale = max(1, total // 1_000_000)  # QProgressBar holds an int
            self.progress.setRange(0, total // scale)
            self.progress.setValue(min(done, total) // scale)
            self.loading_stage.setText(f"{stage} ({done:,} of {total:,})")
        else:
            self.progress.setRange(0, 0)
            self.loading_stage.setText(stage)

    def _loaded(self, loaded: Loaded) -> None:
        self._finish_thread()
        try:
            self.show_loaded(loaded)
        finally:
            if loaded.live:
                self.live_session.loaded(loaded.report)
            self.load_finished.emit("loaded")

    def _failed(self, message: str) -> None:
        source = self._pending_source
        self._finish_thread()
        self.live_session.stop()
        self.loaded = None
        self._update_actions()
        self.show_message("Cannot open this input", f"{source}\n\n{message}")
        self.load_finished.emit("failed")

    def _crashed(self, details: str) -> None:
        source = self._pending_source
        self._finish_thread()
        self.live_session.stop()
        self.loaded = None
        self._update_actions()
        self.show_message("ESPView hit an internal error",
                          f"Loading {source} failed because of a bug in ESPView. The details "
                          "are in the error dialog.")
        self.load_finished.emit("crashed")
        self.crash.show(details)

    def _cancelled(self) -> None:
        self._finish_thread()
        if self.loaded is not None:
            self.stack.setCurrentIndex(self.REPORT)
        else:
            self.show_message("Loading cancelled", "Open a capture to begin.")
        self.statusBar().showMessage("Loading cancelled", 5000)
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
        from PySide6.QtWidgets import QMessageBox  # noqa: PLC0415 - rarely used

        from gui.crash import versions  # noqa: PLC0415 - rarely used

        QMessageBox.about(self, "About ESPView",
                          "ESPView rebuilds the Windows Autopilot Enrollment Status Page from "
                          f"diagnostics evidence and explains every step.\n\n{versions()}")

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
        self._retire_thread()
        for thread in list(self._retired):
            thread.wait(10000)
        if self.collector.process is not None:
            self.collector.process.kill()
            self.collector.process.waitForFinished(2000)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.shutdown()
        super().closeEvent(event)

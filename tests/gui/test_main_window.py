"""Interaction tests driving the real widgets: open, select a step, filter, export, copy."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent, QGuiApplication

from core.errors import UnsupportedInput
from gui.models import OBJECT_ROLE
from tests.gui.builders import CERT_STEP


def test_open_shows_the_failed_step(loaded_window):
    win = loaded_window
    assert win.stack.currentIndex() == win.REPORT
    assert win.esp.current_step().id == CERT_STEP
    assert win.step_panel.title.text() == "Account setup › Certificates: Failed: 0x87D1041C"
    assert win.step_panel.hint.isVisible()
    assert win.banner.isVisible()
    assert "0x87D1041C" in win.banner.title.text()
    assert win.header.values["Device"].text() == "DESKTOP-TEST01"
    assert win.header.values["ESP timeout"].text() == "60 min"
    assert win.step_panel.items_view.model().rowCount() == 3
    assert win.problems.view.model().rowCount() == 2
    assert win.files.view.model().rowCount() == 5
    assert win.recent.paths()[0].endswith("MDMDiagReport.cab")
    assert win.act_html.isEnabled()


def test_missing_fields_are_shown_as_missing(loaded_window):
    from dataclasses import replace

    from core.esp.model import Device
    from gui.prepare import prepare
    from tests.gui import builders

    report = replace(builders.failed_report(), device=Device())
    loaded_window.show_loaded(prepare(None, report))
    label = loaded_window.header.values["Serial"]
    assert label.text() == "not in capture"
    assert not label.isEnabled()


def test_keyboard_moves_between_steps(loaded_window, qtbot):
    win = loaded_window
    win.esp.tree.setFocus()
    qtbot.keyClick(win.esp.tree, Qt.Key.Key_Down)
    assert win.esp.current_step().id == "AccountSetup.NetworkConnectionsSubcategory"
    assert win.step_panel.title.text().startswith("Account setup › Network connections")
    qtbot.keyClick(win.esp.tree, Qt.Key.Key_Home)
    assert win.esp.current_step() is None  # a phase row
    assert win.step_panel.title.text() == "Select a step"


def test_click_selects_a_step(loaded_window, qtbot):
    win = loaded_window
    tree = win.esp.tree
    index = win.esp.model.step_index("DeviceSetup.AppsSubcategory")
    rect = tree.visualRect(index)
    qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert win.esp.current_step().id == "DeviceSetup.AppsSubcategory"
    assert win.step_panel.tabs.tabText(0) == "&Items (3)"


def test_banner_goes_to_the_step(loaded_window, qtbot):
    win = loaded_window
    win.select_step("DevicePreparation.AadjSubcategory")
    win.show_page("timeline")
    qtbot.mouseClick(win.banner.button, Qt.MouseButton.LeftButton)
    assert win.esp.current_step().id == CERT_STEP
    assert win.current_page() == "step"


def test_filter_events_and_show_xml(loaded_window, qtbot):
    panel = loaded_window.step_panel
    panel.show_page("events")
    loaded_window.act_find.trigger()
    assert panel.events_filter.hasFocus()
    qtbot.keyClicks(panel.events_filter, "request failed")
    view = panel.events_view
    assert view.model().rowCount() == 1
    view.setFocus()
    view.selectRow(0)
    details = panel.event_details
    assert "<EventID>32</EventID>" in details.xml_view.toPlainText()
    assert details.fields_view.model().rowCount() == 2
    assert details.fields_model.index(1, 1).data() == "0x87D1041C"
    assert details.fields_model.index(1, 2).data().startswith("0x87D1041C (")  # decoded


def test_event_not_in_evidence_says_so(loaded_window):
    panel = loaded_window.step_panel
    loaded_window.loaded.events.clear()
    panel.show_page("events")
    panel.events_view.selectRow(0)
    assert "not in the loaded evidence" in panel.event_details.xml_view.toPlainText()


def test_items_filter_sort_and_history(loaded_window, qtbot):
    panel = loaded_window.step_panel
    qtbot.keyClicks(panel.items_filter, "scep")
    assert panel.items_view.model().rowCount() == 2
    panel.items_filter.clear()
    panel.items_view.sortByColumn(0, Qt.SortOrder.AscendingOrder)
    names = [panel.items_view.model().index(r, 0).data() for r in range(3)]
    assert names == sorted(names)
    row = names.index("Corp Wi-Fi user certificate")
    panel.items_view.selectRow(row)
    assert panel.history_view.model().rowCount() == 3


def test_registry_copy_path_and_value(loaded_window):
    panel = loaded_window.step_panel
    panel.show_page("registry")
    view = panel.registry_view
    model = view.model()
    key = model.index(1, 0)
    view.setCurrentIndex(model.index(2, 0, key))
    assert panel.selected_registry_path().endswith(r"AutopilotSettings\Names")
    assert panel.selected_registry_value() == "one\ntwo"
    copy_value = next(a for a in view.actions() if a.text() == "Copy &value")
    copy_value.trigger()
    assert QGuiApplication.clipboard().text() == "one\ntwo"
    view.setCurrentIndex(key)
    next(a for a in view.actions() if a.text() == "Copy &path").trigger()
    assert QGuiApplication.clipboard().text().endswith("AutopilotSettings")


def test_copy_step_summary(loaded_window):
    loaded_window.act_copy_summary.trigger()
    text = QGuiApplication.clipboard().text()
    assert text.startswith("Account setup › Certificates: Failed: 0x87D1041C")
    assert "Hint: The SCEP certificate could not be installed" in text
    assert "Corp Wi-Fi user certificate [scep, user]: Failed 0x87D1041C" in text


def test_timeline_filters(loaded_window, qtbot):
    win = loaded_window
    win.show_page("timeline")
    timeline = win.timeline
    assert timeline.view.model().rowCount() == 7
    timeline.step_combo.setCurrentIndex(timeline.step_combo.findData(CERT_STEP))
    assert timeline.view.model().rowCount() == 3
    timeline.source_combo.setCurrentIndex(timeline.source_combo.findData("registry"))
    assert timeline.view.model().rowCount() == 1
    timeline.step_combo.setCurrentIndex(0)
    timeline.source_combo.setCurrentIndex(0)
    timeline.level_combo.setCurrentIndex(timeline.level_combo.findData("Error"))
    assert timeline.view.model().rowCount() == 1
    timeline.level_combo.setCurrentIndex(0)
    qtbot.keyClicks(timeline.search, "sync session")
    assert timeline.count.text() == "1 of 7 entries"
    assert timeline.view.model().rowCount() == 1


def test_registry_browser_go_to(loaded_window, qtbot):
    win = loaded_window
    win.show_page("registry")
    browser = win.registry
    browser.path_edit.setFocus()
    qtbot.keyClicks(browser.path_edit,
                    r"HKLM\SOFTWARE\Microsoft\Windows\Autopilot\AutopilotSettings")
    qtbot.keyClick(browser.path_edit, Qt.Key.Key_Return)
    assert browser.current_path().endswith("AutopilotSettings")
    assert browser.values_view.model().rowCount() == 2
    browser.values_view.selectRow(0)
    assert browser.current_value()
    assert not browser.go_to(r"HKLM\NoSuchKey")
    assert "not found" in browser.status.text()


def test_time_zone_toggle(loaded_window):
    win = loaded_window
    assert win.zone_label.text() == "Times: UTC"
    win.act_toggle_zone.trigger()
    assert win.zone_label.text().startswith("Times: device local, W. Europe Standard Time UTC+0")
    assert win.act_local.isChecked()
    assert win.settings.value("view/utc", type=bool) is False
    win.act_utc.trigger()
    assert win.zone_label.text() == "Times: UTC"


def test_export_html_and_json(loaded_window, tmp_path, monkeypatch):
    pytest.importorskip("core.report.json_report")
    win = loaded_window
    out = tmp_path / "out.json"
    monkeypatch.setattr(win, "ask_save_path", lambda *a: str(out))
    win.act_json.trigger()
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["schema"] == "espview.report/1"
    html = tmp_path / "out.html"
    monkeypatch.setattr(win, "ask_save_path", lambda *a: str(html))
    win.act_html.trigger()
    assert "Certificates" in html.read_text(encoding="utf-8")


def test_export_failure_is_a_message(loaded_window, tmp_path, monkeypatch):
    win = loaded_window
    target = tmp_path / "missing-dir" / "x.json"
    monkeypatch.setattr(win, "ask_save_path", lambda *a: str(target))

    def refuse(report, path):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("gui.export.export_json", refuse)
    win.act_json.trigger()
    assert "Could not write" in win.statusBar().currentMessage()


def test_missing_input_is_a_message(window):
    window.open_path("/no/such/capture.cab")
    assert window.stack.currentIndex() == window.MESSAGE
    assert "no such file" in window.message_text.text()


def test_missing_sample_is_a_message(window, monkeypatch, tmp_path):
    monkeypatch.setattr("gui.main_window.resource_path", lambda *p: tmp_path / "nope.cab")
    window.act_sample.trigger()
    assert window.message_title.text() == "The bundled sample is missing"


def test_unusable_input_is_a_message_not_a_dialog(window, qtbot, tmp_path):
    def bad(path):
        def load(progress, cancel):
            raise UnsupportedInput(f"{path.name}: not a cab, zip, .reg, hive or evtx file")

        return load

    window._loader_for_path = bad
    target = tmp_path / "notes.txt"
    target.write_text("hello")
    with qtbot.waitSignal(window.load_finished) as blocker:
        window.open_path(str(target))
    assert blocker.args == ["failed"]
    assert window.message_title.text() == "Cannot open this input"
    assert "not a cab" in window.message_text.text()
    assert window.crash.dialog is None
    assert not window.act_html.isEnabled()


def test_bug_in_core_shows_one_crash_dialog_and_app_keeps_running(window, qtbot, tmp_path):
    def broken(path):
        def load(progress, cancel):
            raise ZeroDivisionError("boom")

        return load

    window._loader_for_path = broken
    target = tmp_path / "x.cab"
    target.write_bytes(b"x")
    with qtbot.waitSignal(window.load_finished) as blocker:
        window.open_path(str(target))
    assert blocker.args == ["crashed"]
    dialog = window.crash.dialog
    assert dialog is not None
    assert dialog.isVisible()
    assert "ZeroDivisionError: boom" in dialog.details
    dialog.copy_button.click()
    assert "ZeroDivisionError" in QGuiApplication.clipboard().text()
    window.crash.show("second crash")  # while one is open: no second dialog
    assert window.crash.dialog is dialog
    dialog.close()
    assert window.isVisible()


def test_cancel_loading(window, qtbot, tmp_path):
    import threading

    release = threading.Event()

    def slow(path):
        def load(progress, cancel):
            while not release.wait(0.01):
                progress("Extracting", 1, 10)
                cancel.check()
            raise AssertionError("not cancelled")

        return load

    window._loader_for_path = slow
    target = tmp_path / "x.cab"
    target.write_bytes(b"x")
    window.open_path(str(target))
    assert window.stack.currentIndex() == window.LOADING
    qtbot.waitUntil(lambda: "Extracting" in window.loading_stage.text())
    with qtbot.waitSignal(window.load_finished) as blocker:
        qtbot.keyClick(window, Qt.Key.Key_Escape)
    release.set()
    assert blocker.args == ["cancelled"]
    assert window.message_title.text() == "Loading cancelled"


def test_drop_a_file_opens_it(window, qtbot, tmp_path):
    target = tmp_path / "dropped.cab"
    target.write_bytes(b"MSCF")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(target))])
    class Enter:  # QDragEnterEvent's only constructor is deprecated; the slot needs two calls
        accepted = False

        def mimeData(self):
            return mime

        def acceptProposedAction(self):
            self.accepted = True

    enter = Enter()
    window.dragEnterEvent(enter)
    assert enter.accepted
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime,
                       Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    with qtbot.waitSignal(window.load_finished):
        window.dropEvent(event)
    assert window.loaded is not None
    assert window.loaded.report.source.path == str(target)


def test_recent_files_menu(loaded_window, qtbot):
    win = loaded_window
    win._fill_recent()
    actions = [a for a in win.recent_menu.actions() if a.text().startswith("&1 ")]
    assert actions
    with qtbot.waitSignal(win.load_finished):
        actions[0].trigger()
    clear = next(a for a in win.recent_menu.actions() if a.text() == "&Clear list")
    clear.trigger()
    assert win.recent.paths() == []


def test_open_dialog_and_tabs_by_keyboard(window, qtbot, monkeypatch, tmp_path):
    target = tmp_path / "k.cab"
    target.write_bytes(b"MSCF")
    monkeypatch.setattr(window, "ask_open_path", lambda: str(target))
    with qtbot.waitSignal(window.load_finished):
        qtbot.keyClick(window, Qt.Key.Key_O, Qt.KeyboardModifier.ControlModifier)
    for number, page in ((3, "timeline"), (4, "problems"), (6, "files"), (1, "step"),
                         (2, "findings"), (5, "registry")):
        qtbot.keyClick(window, Qt.Key(Qt.Key.Key_0 + number), Qt.KeyboardModifier.ControlModifier)
        assert window.current_page() == page
    qtbot.keyClick(window, Qt.Key.Key_0, Qt.KeyboardModifier.ControlModifier)
    assert window.esp.tree.hasFocus()


def test_problem_rows_hold_problems(loaded_window):
    model = loaded_window.problems.view.model()
    problem = model.index(0, 0).data(OBJECT_ROLE)
    assert problem.file.endswith((".evtx", ".reg"))


def test_save_bundle(loaded_window, tmp_path, monkeypatch):
    monkeypatch.setattr(loaded_window, "ask_folder", lambda title: str(tmp_path))
    monkeypatch.setattr("gui.export.export_html", lambda r, p: Path(p).write_text("h"))
    monkeypatch.setattr("gui.export.export_json", lambda r, p: Path(p).write_text("{}"))
    loaded_window.act_bundle.trigger()
    bundles = list(tmp_path.glob("ESPView-*"))
    assert len(bundles) == 1
    names = {p.name for p in bundles[0].iterdir()}
    assert {"report.html", "report.json", "registry-evidence.txt", "problems.txt"} <= names

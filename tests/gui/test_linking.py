"""Rows open (timeline double-click → details), views link (timeline row → step, step key →
registry browser, item → its events and log lines) and Back/Forward walks between them."""

from __future__ import annotations

from PySide6.QtCore import Qt

from tests.gui.builders import CERT_STEP, DUMP, EVTX, IME, SETTINGS_KEY


def _timeline_row(win, origin: str) -> int:
    model = win.timeline.model
    return next(r for r in range(model.rowCount()) if model.row_object(r).entry.origin == origin)


def test_double_click_on_a_timeline_row_shows_its_details(loaded_window, qtbot):
    win = loaded_window
    win.show_page("timeline")
    view = win.timeline.view
    index = win.timeline.model.index(_timeline_row(win, f"{EVTX}#4120"), 4)
    view.scrollTo(index)
    rect = view.visualRect(index)
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    details = win.timeline.details
    assert details.page == details.EVENT
    assert details.fields_model.rowCount() == 2
    assert "HResult" in details.xml_view.toPlainText()


def test_timeline_log_and_registry_rows_open(loaded_window):
    win = loaded_window
    win.show_page("timeline")
    details = win.timeline.details
    win.timeline.view.selectRow(_timeline_row(win, f"{IME}:990"))
    assert details.page == details.LOG
    assert details.message_view.toPlainText() == "Sync session ended"
    win.timeline.view.selectRow(_timeline_row(win, f"{DUMP}:1204"))
    assert details.page == details.REGISTRY
    assert details.snapshot_model.rowCount() == 2
    assert details.snapshot_model.index(0, 3).data() == "not installed"  # decoded display


def test_timeline_row_goes_to_its_step(loaded_window, qtbot):
    win = loaded_window
    win.select_step("DevicePreparation.AadjSubcategory")
    win.show_page("timeline")
    win.timeline.view.selectRow(_timeline_row(win, f"{EVTX}#4101"))
    qtbot.mouseClick(win.timeline.step_button, Qt.MouseButton.LeftButton)
    assert win.esp.current_step().id == CERT_STEP
    assert win.current_page() == "step"


def test_step_key_opens_in_the_registry_browser(loaded_window):
    win = loaded_window
    panel = win.step_panel
    panel.show_page("registry")
    index = panel.registry_view.model().index(1, 0)
    assert index.data() == SETTINGS_KEY
    panel.registry_view.doubleClicked.emit(index)
    assert win.current_page() == "registry"
    assert win.registry.current_path() == SETTINGS_KEY


def test_item_opens_its_events_and_log_lines(loaded_window, qtbot):
    panel = loaded_window.step_panel
    assert panel.current_item().id == "SCEP-CorpWifi"  # the failed item is preselected
    qtbot.mouseClick(panel.item_evidence_button, Qt.MouseButton.LeftButton)
    assert panel.current_page() == "events"
    assert panel.events_view.model().rowCount() == 2  # the CorpWifi events, not Shell-Core's
    assert panel.logs_view.model().rowCount() == 2
    loaded_window.select_step("DeviceSetup.AppsSubcategory")
    loaded_window.select_step(CERT_STEP)
    assert panel.events_view.model().rowCount() == 3  # another step clears the narrowing


def test_back_and_forward(loaded_window, qtbot):
    win = loaded_window
    win.select_step("DevicePreparation.AadjSubcategory")
    win.show_page("timeline")
    win.timeline.view.selectRow(_timeline_row(win, f"{EVTX}#4101"))
    win.timeline.go_to_step()
    assert win.esp.current_step().id == CERT_STEP
    qtbot.keyClick(win, Qt.Key.Key_Left, Qt.KeyboardModifier.AltModifier)
    assert win.current_page() == "timeline"
    qtbot.keyClick(win, Qt.Key.Key_Left, Qt.KeyboardModifier.AltModifier)
    assert win.current_page() == "step"
    assert win.esp.current_step().id == "DevicePreparation.AadjSubcategory"
    qtbot.keyClick(win, Qt.Key.Key_Right, Qt.KeyboardModifier.AltModifier)
    qtbot.keyClick(win, Qt.Key.Key_Right, Qt.KeyboardModifier.AltModifier)
    assert win.current_page() == "step"
    assert win.esp.current_step().id == CERT_STEP
    assert not win.act_forward.isEnabled()

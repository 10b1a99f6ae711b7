"""Findings pane: every finding in report order; selecting selects its step; evidence opens
the exact row it cites; the banner's "All findings" opens the pane."""

from __future__ import annotations

from PySide6.QtCore import Qt

from tests.gui.builders import CERT_STEP, EVTX, IME, SETTINGS_KEY


def test_every_finding_listed_in_report_order(loaded_window, qtbot):
    win = loaded_window
    qtbot.mouseClick(win.banner.more_button, Qt.MouseButton.LeftButton)
    assert win.current_page() == "findings"
    assert win.banner.more_button.text() == "&All findings (+2 more)"
    pane = win.findings
    report = win.loaded.report
    assert pane.count() == len(report.findings) == 3
    titles = [pane.model.index(r, pane.model.TITLE).data() for r in range(pane.count())]
    assert titles == [f.title for f in report.findings]
    assert pane.model.index(0, pane.model.SEVERITY).data() == "Error"
    assert pane.model.index(0, pane.model.CONFIDENCE).data() == "high"
    assert pane.model.index(0, pane.model.STEP).data() == "Account setup › Certificates"
    assert pane.model.index(2, pane.model.STEP).data() == ""


def test_selecting_a_finding_selects_its_step(loaded_window):
    win = loaded_window
    win.show_page("findings")
    win.findings.select(1)
    assert win.esp.current_step().id == "AccountSetup.AppsSubcategory"
    assert win.current_page() == "findings"  # the pane stays; the step is selected beside it
    assert win.findings.evidence_model.rowCount() == 0


def test_evidence_opens_the_event_row_it_cites(loaded_window):
    win = loaded_window
    win.show_page("findings")
    win.findings.select(0)
    model = win.findings.evidence_model
    assert model.index(0, 1).data() == "event"
    assert model.index(1, 1).data() == "registry key"
    assert model.index(2, 1).data() == "log line"
    assert model.index(4, 1).data().startswith("nothing loaded")
    win.timeline.search.setText("company")  # a filter hiding the row is cleared
    win.findings.activate_evidence(0)
    assert win.current_page() == "timeline"
    row = win.timeline.current_row()
    assert row.entry.origin == f"{EVTX}#4120"
    assert win.timeline.details.page == win.timeline.details.EVENT
    assert "<EventID>32</EventID>" in win.timeline.details.xml_view.toPlainText()


def test_evidence_opens_the_log_line_with_its_neighbours(loaded_window):
    win = loaded_window
    win.show_page("findings")
    win.findings.select(0)
    win.findings.activate_evidence(2)  # IME:814 is a step log line, not a timeline row
    assert win.current_page() == "step"
    panel = win.step_panel
    assert panel.current_page() == "log"
    details = panel.log_details
    assert details.page == details.LOG
    assert details.message_view.toPlainText() == ("SCEP-CorpWifi failed: 0x87D1041C\n"
                                                  "retry 3 of 3 exhausted")
    assert details.log_fields["File and line"].text() == f"{IME}:814"
    lines = [details.lines_model.row_object(r).line for r in range(details.lines_model.rowCount())]
    assert lines == [810, 811, 812, 813, 814, 990]
    error_row = lines.index(814)
    assert details.lines_model.index(error_row, 0).data(Qt.ItemDataRole.BackgroundRole) is not None
    assert details.lines_model.index(0, 0).data(Qt.ItemDataRole.BackgroundRole) is None


def test_evidence_opens_the_registry_key(loaded_window):
    win = loaded_window
    win.show_page("findings")
    win.findings.select(0)
    win.findings.activate_evidence(3)
    assert win.current_page() == "step"
    assert win.step_panel.selected_registry_path() == SETTINGS_KEY
    win.show_page("findings")
    win.findings.select(0)
    win.findings.activate_evidence(1)  # dump.reg:1204 is the snapshot key's origin
    assert win.step_panel.selected_registry_path().endswith("2024-05-06T09:52:00.000Z")


def test_cited_text_only_is_a_status_message(loaded_window):
    win = loaded_window
    assert not win.open_evidence("ESP status: Certificates (Error)")
    assert "Cited text only" in win.statusBar().currentMessage()
    assert win.esp.current_step().id == CERT_STEP

"""The Time chart tab: drawn for the sample and a builder-made failing capture, clicks select
the step or item, tooltips are plain text, the picture is not blank (light and dark)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QColor, QImage, QPalette

from core.esp.analyze import analyze
from core.esp.model import EspReport
from core.evidence import load_evidence
from core.paths import resource_path
from gui.timechart import TimeChartView
from tests.builders.capture import Capture, at, guid
from tests.gui.builders import CERT_STEP

URI = ("./Device/Vendor/MSFT/EnrollmentStatusTracking/Setup/Apps/Tracking/Sidecar/"
       "Win32App_{}_1/InstallationState")
BIG, SMALL = guid(201), guid(202)


def timeout_capture(path: Path) -> EspReport:
    """Device setup runs into the ESP timeout: one app fails, retries and is still installing
    an hour later; the other installs in 13 minutes."""
    cap = Capture(device_name="CONTOSO-LT-0099")
    cap.autopilot("user_driven").first_sync(timeout=60)
    cap.record("DevicePreparation", "succeeded")
    cap.record("DeviceSetup", "failed", {"AppsSubcategory": ("failed", "Apps (0x800705b4)")})
    cap.record("AccountSetup", "notStarted")
    cap.shell_core(at(8), "CommercialOOBE_ESPDeviceSetup_PoliciesInstallation_Started")
    cap.shell_core(at(9.5), "CommercialOOBE_ESPDeviceSetup_ApplicationsInstallation_Started")
    cap.tracking("Device", apps={BIG: 2, SMALL: 3})
    states = ((10, 1, 1), (15, 2, 2), (24, 4, 3), (31, 2, 3), (69, 2, 3))
    cap.snapshots("Sidecar", [(at(m), {URI.format(BIG): big, URI.format(SMALL): small})
                              for m, big, small in states])
    cap.win32_app(BIG, "Contoso CAD Suite", enforcement=2000, when=at(69))
    cap.win32_app(SMALL, "Contoso Notes", enforcement=1000, detected=True, when=at(23.5))
    cap.shell_core(at(69.6), "CommercialOOBE_ESPDeviceSetup_ApplicationsInstallation_Failed",
                   0x800705B4)
    return analyze(load_evidence(cap.write_cab(path / "timeout.cab")))


@pytest.fixture
def chart_view(qtbot, window):
    view = TimeChartView(window.times)
    qtbot.addWidget(view)
    view.resize(1100, 700)
    view.show()
    return view


def _distinct_colours(image: QImage, step: int = 3) -> set[int]:
    return {image.pixel(x, y) for x in range(0, image.width(), step)
            for y in range(0, image.height(), step)}


def _not_blank(view: TimeChartView) -> QImage:
    image = view.canvas.grab().toImage()
    assert image.width() > 600
    assert image.height() > 200
    assert len(_distinct_colours(image)) > 20  # text, grid, bars in several colours
    return image


def _row_index(view: TimeChartView, label: str, step_id: str | None = None) -> int:
    assert view.chart is not None
    return next(i for i, row in enumerate(view.chart.rows)
                if row.label == label and step_id in (None, row.step_id))


def _click_bar(qtbot, view: TimeChartView, label: str, bar: int = 0,
               step_id: str | None = None) -> None:
    index = _row_index(view, label, step_id)
    assert view.chart is not None
    rect = view.canvas.bar_rect(index, view.chart.rows[index].bars[bar])
    qtbot.mouseClick(view.canvas, Qt.MouseButton.LeftButton, pos=rect.center().toPoint())


def _chart_action(win):
    """View › Time chart (Ctrl+7), the action a technician uses."""
    return next(a for a in win.page_actions if a.objectName() == "actPage_chart")


def test_sample_renders(chart_view):
    report = analyze(load_evidence(resource_path("samples", "sample.cab")))
    chart_view.set_report(report)
    assert chart_view.chart is not None
    assert any(row.bars for row in chart_view.chart.rows if row.level == "item")
    _not_blank(chart_view)


def test_failing_capture_shows_the_retry_and_the_timeout(chart_view, tmp_path):
    chart_view.set_report(timeout_capture(tmp_path))
    chart = chart_view.chart
    assert chart is not None
    big = chart.rows[_row_index(chart_view, "Contoso CAD Suite")]
    assert [b.status for b in big.bars] == ["failed", "in_progress"]
    assert big.bars[1].open_end
    assert [t.in_range for t in chart.timeouts] == [True]
    image = _not_blank(chart_view)
    # The failure mark is drawn in the app's "failed" red at the end of the first attempt.
    rect = chart_view.canvas.bar_rect(_row_index(chart_view, "Contoso CAD Suite"), big.bars[0])
    red = QColor("#c42b1c").rgb()
    near = {image.pixel(int(rect.right()) + dx, int(rect.center().y()) + dy)
            for dx in range(-3, 4) for dy in range(-3, 4)}
    assert red in near


def test_tooltips_are_plain_text(chart_view, tmp_path):
    chart_view.set_report(timeout_capture(tmp_path))
    index = _row_index(chart_view, "Contoso CAD Suite")
    chart = chart_view.chart
    assert chart is not None
    rect = chart_view.canvas.bar_rect(index, chart.rows[index].bars[1])
    text = chart_view.canvas.hit_text(QPointF(rect.center()))
    assert text is not None
    assert text.startswith("Contoso CAD Suite (win32) — attempt 2")
    assert "still running at the last evidence" in text
    assert "<" not in text


def test_clicking_bars_emits_step_and_item(chart_view, qtbot, loaded_window):
    chart_view.set_report(loaded_window.loaded.report)
    with qtbot.waitSignal(chart_view.step_clicked) as step:
        _click_bar(qtbot, chart_view, "Certificates", step_id=CERT_STEP)
    assert step.args == [CERT_STEP]
    with qtbot.waitSignal(chart_view.item_clicked) as item:
        _click_bar(qtbot, chart_view, "Corp Wi-Fi user certificate")
    assert item.args == [CERT_STEP, "SCEP-CorpWifi"]


def test_main_window_tab_selects_step_and_item(loaded_window, qtbot):
    win = loaded_window
    win.select_step("DeviceSetup.AppsSubcategory")
    _chart_action(win).trigger()
    assert win.tabs.currentWidget() is win.chart
    assert win.tabs.tabText(win.tabs.currentIndex()) == "Time chart"
    _click_bar(qtbot, win.chart, "Corp Wi-Fi user certificate")
    assert win.esp.current_step().id == CERT_STEP
    assert win.current_page() == "step"
    selected = win.step_panel.items_view.currentIndex()
    assert selected.data() is not None
    assert win.step_panel.items_view.model().index(selected.row(), 0).data()
    from gui.models import OBJECT_ROLE

    assert selected.data(OBJECT_ROLE).id == "SCEP-CorpWifi"
    # The keyboard does the same: back to the chart, Up/Down, Enter.
    _chart_action(win).trigger()
    canvas = win.chart.canvas
    canvas.set_current(_row_index(win.chart, "Company Portal") - 1)
    qtbot.keyClick(canvas, Qt.Key.Key_Down)
    qtbot.keyClick(canvas, Qt.Key.Key_Return)
    assert win.esp.current_step().id == "DeviceSetup.AppsSubcategory"
    assert win.step_panel.items_view.currentIndex().data(OBJECT_ROLE).name == "Company Portal"


def test_dark_palette(chart_view, tmp_path):
    palette = chart_view.palette()
    for role, colour in ((QPalette.ColorRole.Base, "#1e1e1e"),
                         (QPalette.ColorRole.Window, "#1e1e1e"),
                         (QPalette.ColorRole.Text, "#f0f0f0"),
                         (QPalette.ColorRole.AlternateBase, "#2a2a2a")):
        palette.setColor(role, QColor(colour))
    chart_view.setPalette(palette)
    chart_view.canvas.setPalette(palette)
    chart_view.set_report(timeout_capture(tmp_path))
    image = _not_blank(chart_view)
    corner = QColor(image.pixel(QPoint(image.width() - 3, image.height() - 3)))
    assert corner.lightness() < 60  # the background follows the palette


def test_empty_report_lists_rows_without_drawing(chart_view):
    from tests.core.report.builders import minimal_report

    chart_view.set_report(minimal_report())
    assert chart_view.chart is not None
    assert chart_view.chart.start is None
    image = chart_view.canvas.grab().toImage()
    assert len(_distinct_colours(image)) > 3  # the rows and their notes are still written
    chart_view.set_report(None)
    assert chart_view.chart is None


def test_laid_out_only_when_shown(qtbot, window):
    """Opening a capture does not pay for the chart until its tab is shown."""
    from tests.gui.builders import failed_report

    view = TimeChartView(window.times)
    qtbot.addWidget(view)
    view.set_report(failed_report())
    assert view.canvas.chart is None
    view.show()
    assert view.canvas.chart is not None


def test_hostile_names_stay_text_in_tooltips():
    from gui.timechart import tooltip_html

    shown = tooltip_html('<b>App</b> & "x"\x1b[31m\nline two')
    assert "<b>App" not in shown
    assert "&lt;b&gt;App&lt;/b&gt; &amp;" in shown
    assert "\x1b" not in shown
    assert shown.count("<br>") == 1


def test_the_step_selected_in_the_esp_is_marked_in_the_chart(loaded_window):
    win = loaded_window
    win.select_step(CERT_STEP)
    _chart_action(win).trigger()  # laid out when first shown, with the step marked
    row = win.chart.canvas.current_row()
    assert row is not None
    assert (row.level, row.step_id) == ("step", CERT_STEP)
    win.select_step("DeviceSetup.AppsSubcategory")  # and follows the ESP from then on
    row = win.chart.canvas.current_row()
    assert row is not None
    assert (row.level, row.step_id) == ("step", "DeviceSetup.AppsSubcategory")


def test_marking_a_step_does_not_lay_out_a_hidden_chart(qtbot, window):
    from tests.gui.builders import failed_report

    report = failed_report()
    view = TimeChartView(window.times)
    qtbot.addWidget(view)
    view.set_report(report)
    view.show_step(report.step(CERT_STEP))
    assert view.canvas.chart is None
    view.show()
    row = view.canvas.current_row()
    assert row is not None
    assert row.step_id == CERT_STEP


def test_axis_labels_never_overlap():
    from gui.timechart import label_lefts

    # A first label with the date is wider than the tick spacing: the next one gives way.
    lefts = label_lefts([100.0, 164.0, 228.0, 292.0], [100, 50, 50, 50], 400, 8)
    assert lefts[0] == 50.0
    assert lefts[1] is None
    assert lefts[2] == 203.0
    assert lefts[3] == 267.0
    # The last label stays whole at the right edge.
    assert label_lefts([395.0], [50], 400, 8) == [348.0]

"""Bad input and state, ESP settings panel, keyboard and menus, layout at 1366×768."""

from __future__ import annotations

import re
from dataclasses import replace

from PySide6.QtWidgets import QAbstractButton, QLabel, QMenu, QTabBar

from core.esp.model import Settings
from core.evidence import load_evidence
from tests.gui import builders
from tests.gui.builders import CERT_STEP


def test_empty_folder_is_refused_and_the_previous_report_stays(tmp_path, qtbot, settings):
    from gui.crash import CrashHandler
    from gui.main_window import MainWindow
    from gui.worker import path_loader

    def loader(path):
        if path.is_dir():
            return path_loader(path)  # the real loader: core refuses the empty folder
        return lambda progress, cancel: (builders.evidence(str(path)),
                                         builders.failed_report(str(path)))

    win = MainWindow(settings=settings, loader_for_path=loader,
                     crash=CrashHandler(modal=False), live_supported=False)
    qtbot.addWidget(win)
    win.show()
    try:
        capture = tmp_path / "good.cab"
        capture.write_bytes(b"MSCF")
        with qtbot.waitSignal(win.load_finished) as blocker:
            win.open_path(str(capture))
        assert blocker.args == ["loaded"]
        title, source = win.windowTitle(), win.source_label.text()
        empty = tmp_path / "empty"
        empty.mkdir()
        with qtbot.waitSignal(win.load_finished, timeout=20000) as blocker:
            win.open_path(str(empty))
        assert blocker.args == ["failed"]
        assert win.stack.currentIndex() == win.REPORT  # the previous report is still shown
        assert win.windowTitle() == title
        assert win.source_label.text() == source
        assert win.load_error.isVisible()
        assert "no diagnostics evidence found" in win.load_error.text()
        assert win.recent.paths() == [str(capture)]  # the failed path is not "recent"
        with qtbot.waitSignal(win.load_finished):
            win.open_path(str(tmp_path / "missing.cab"))
        assert win.recent.paths() == [str(capture)]
        assert win.stack.currentIndex() == win.REPORT
    finally:
        win.shutdown()


def test_core_refuses_a_capture_with_no_evidence(tmp_path):
    import pytest

    from core.errors import UnsupportedInput

    (tmp_path / "notes.txt").write_text("nothing to see", encoding="utf-8")
    with pytest.raises(UnsupportedInput, match="no diagnostics evidence found"):
        load_evidence(tmp_path)


def test_settings_panel_and_the_note_a_setting_adds(loaded_window):
    win = loaded_window
    values = win.esp_settings.values
    assert values["ESP timeout"].text() == "60 min"
    assert values["Skip user status page"].text() == "no"
    assert values["Buttons shown"].text() == "Reset device, Try again, Collect logs"
    assert values["Buttons hidden"].text() == "Continue anyway"
    assert values["Blocking apps"].text().startswith("3: Company Portal")
    assert not win.step_panel.note.isVisible()
    report = win.loaded.report
    skipped = replace(report, settings=replace(report.settings, skip_user_status_page=True))
    win.loaded.report = skipped
    win.esp_settings.set_report(skipped)
    win.esp.set_report(skipped)
    win.select_step(CERT_STEP)
    assert win.step_panel.note.isVisible()
    assert "never saw this page: SkipUserStatusPage" in win.step_panel.note.text()
    assert values["Skip user status page"].text() == "yes"
    win.select_step("DeviceSetup.AppsSubcategory")
    assert not win.step_panel.note.isVisible()
    assert Settings().skip_user_status_page is None


def test_status_reason_and_time_sources_are_shown(loaded_window):
    panel = loaded_window.step_panel
    assert panel.reason.text().startswith("Why: the ESP record says Failed")
    assert "(from ESP tracking snapshot)" in panel.meta.text()
    assert "(from event 32)" in panel.meta.text()
    assert ".000" in panel.meta.text()  # times keep milliseconds


def _mnemonic(text: str) -> str | None:
    found = re.search(r"&([^&])", text.replace("&&", ""))
    return found.group(1).casefold() if found else None


def test_no_mnemonic_clash_in_any_menu_or_tab_bar(loaded_window):
    win = loaded_window
    bar_letters = [_mnemonic(a.text()) for a in win.menuBar().actions()]

    def walk(menu: QMenu) -> None:
        letters = [_mnemonic(a.text()) for a in menu.actions() if a.isVisible()
                   and not a.isSeparator()]
        letters = [x for x in letters if x]
        assert len(letters) == len(set(letters)), (menu.title(), letters)
        for action in menu.actions():
            if action.menu() is not None:
                walk(action.menu())

    for action in win.menuBar().actions():
        walk(action.menu())
    win._fill_recent()
    walk(win.recent_menu)
    for page in ("step", "findings", "timeline", "problems", "registry", "files", "chart"):
        win.show_page(page)
        for sub in ("items", "registry", "events", "log", "timeline"):
            if page == "step":
                win.step_panel.show_page(sub)
            # Everything reachable by Alt+letter right now: menus, tab bars, buttons, labels.
            letters = [x for x in bar_letters if x]
            for tabs in win.findChildren(QTabBar):
                if tabs.isVisible():
                    letters += [_mnemonic(tabs.tabText(i)) for i in range(tabs.count())]
            for widget in win.findChildren(QAbstractButton):
                if widget.isVisible():
                    letters.append(_mnemonic(widget.text()))
            for label in win.findChildren(QLabel):
                if label.isVisible() and label.buddy() is not None:
                    letters.append(_mnemonic(label.text()))
            letters = [x for x in letters if x]
            clashes = {x for x in letters if letters.count(x) > 1}
            assert not clashes, (page, sub, clashes)


def test_standard_shortcuts(loaded_window):
    win = loaded_window
    keys = {a.objectName(): a.shortcut().toString() for a in win.actions()}
    assert keys["actOpen"] == "Ctrl+O"
    assert keys["actFind"] == "Ctrl+F"
    assert keys["actRefresh"] == "F5"
    assert keys["actCopy"] == "Ctrl+C"
    assert keys["actBack"] == "Alt+Left"
    assert keys["actForward"] == "Alt+Right"
    shortcuts = {a.shortcut().toString() for view in win.findChildren(QAbstractButton)
                 for a in view.actions()}
    assert "Ctrl+Shift+V" not in shortcuts | set(keys.values())


def test_help_menu_and_theme(loaded_window, qapp):
    from gui.help import COLLECT_HELP, about_text, shortcuts_text, version

    win = loaded_window
    assert version() in about_text()
    assert version() != "unknown"
    text = shortcuts_text(win)
    assert "Alt+Left" in text
    assert "Ctrl+F" in text
    assert "mdmdiagnosticstool.exe" in COLLECT_HELP
    assert "IntuneManagementExtension" in COLLECT_HELP
    base = qapp.palette().window().color().lightness()
    win.theme_actions["dark"].trigger()
    assert qapp.palette().window().color().lightness() < 80
    assert win.settings.value("view/theme") == "dark"
    # The finding banner is re-tinted from the new theme: dark under light text.
    image = win.banner.grab().toImage()
    assert image.pixelColor(4, image.height() - 3).lightness() < 100
    win.theme_actions["light"].trigger()
    assert qapp.palette().window().color().lightness() > 180
    win.theme_actions["system"].trigger()
    assert qapp.palette().window().color().lightness() == base


def test_every_column_header_visible_at_1366x768(loaded_window, qtbot):
    from PySide6.QtWidgets import QHeaderView

    win = loaded_window
    win.resize(1366, 768)
    qtbot.wait(50)
    for page in ("step", "findings", "timeline", "problems", "registry", "files", "chart"):
        win.show_page(page)
        for sub in ("items", "registry", "events", "log", "timeline"):
            if page == "step":
                win.step_panel.show_page(sub)
            if page == "findings":
                win.findings.select(0)
            qtbot.wait(30)
            for header in win.findChildren(QHeaderView):
                if header.orientation().name != "Horizontal" or not header.isVisible():
                    continue
                width = header.viewport().width()
                for section in range(header.count()):
                    if header.isSectionHidden(section):
                        continue
                    left = header.sectionViewportPosition(section)
                    size = header.sectionSize(section)
                    title = header.model().headerData(section, header.orientation())
                    assert left >= 0, (page, sub, title)
                    assert left + min(size, 40) <= width, (page, sub, title, left, width)
                    needed = header.fontMetrics().horizontalAdvance(str(title))
                    assert size >= needed, (page, sub, title, size, needed)

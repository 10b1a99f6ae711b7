"""Live attach (hidden off Windows; logic with fakes), settings fallback, app entry point."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings

from core.esp.model import Phase
from gui.live import (
    LIVE_SUPPORTED,
    LiveSession,
    LogCollector,
    collect_logs_command,
    esp_still_running,
)
from gui.settings import RecentFiles, fallback_ini, has_user_profile, make_settings
from tests.gui import builders


def test_live_actions_hidden_off_windows(window):
    assert (sys.platform == "win32") == LIVE_SUPPORTED
    for action in (window.act_live, window.act_collect):
        assert not action.isVisible()
    assert not window.act_refresh.isEnabled()  # F5 reloads a capture; none is open yet
    window.open_live()
    assert window.message_title.text() == "Live attach needs Windows"


def running_report():
    report = builders.failed_report()
    account = report.phases[2]
    running = Phase(account.id, account.title, "in_progress", "Working on it", account.started,
                    None, account.steps)
    return replace(report, phases=(report.phases[0], report.phases[1], running))


def test_esp_still_running():
    assert not esp_still_running(builders.failed_report())
    assert esp_still_running(running_report())


def test_live_session_refreshes_while_running(qtbot):
    calls: list[int] = []
    session = LiveSession(lambda: calls.append(1), interval_s=0.05)
    session.start()
    assert calls == [1]
    session.loaded(running_report())
    assert session.timer.isActive()
    qtbot.waitUntil(lambda: len(calls) == 2, timeout=2000)
    session.loaded(builders.failed_report())  # finished: no more automatic refreshes
    assert not session.timer.isActive()
    session.refresh()  # F5 still works
    assert len(calls) == 3
    session.stop()
    session.refresh()
    assert len(calls) == 3


def test_live_window_with_fake_loader(qtbot, settings):
    from gui.crash import CrashHandler
    from gui.main_window import MainWindow

    loads: list[int] = []

    def fake_live():
        def load(progress, cancel):
            loads.append(1)
            return builders.evidence("live"), running_report()

        return load

    win = MainWindow(settings=settings, loader_for_live=fake_live,
                     crash=CrashHandler(modal=False), live_supported=True)
    qtbot.addWidget(win)
    win.show()
    assert win.act_live.isVisible()
    try:
        with qtbot.waitSignal(win.load_finished):
            win.act_live.trigger()
        assert win.loaded is not None
        assert win.loaded.live
        assert win.live_session.timer.isActive()
        assert win.act_refresh.isEnabled()
        with qtbot.waitSignal(win.load_finished):
            win.act_refresh.trigger()  # F5
        assert len(loads) == 2
        assert win.source_label.text().startswith("live device")
    finally:
        win.shutdown()


def test_collect_logs_command(tmp_path):
    program, args, cab = collect_logs_command(tmp_path, "mdmdiagnosticstool.exe")
    assert program == "mdmdiagnosticstool.exe"
    assert args[:3] == ["-area", "Autopilot;TPM", "-cab"]
    assert Path(args[3]) == cab
    assert cab.parent == tmp_path
    assert cab.suffix == ".cab"


def test_log_collector_reports_success_and_failure(qtbot, tmp_path):
    collector = LogCollector()
    with qtbot.waitSignal(collector.finished, timeout=10000) as ok:
        collector.start(tmp_path, sys.executable, ["-c", "pass"])
    assert ok.args[0] is True
    with qtbot.waitSignal(collector.finished, timeout=10000) as bad:
        collector.start(tmp_path, sys.executable, ["-c", "raise SystemExit(3)"])
    assert bad.args[0] is False
    assert "code 3" in bad.args[1]
    with qtbot.waitSignal(collector.finished, timeout=10000) as missing:
        collector.start(tmp_path, str(tmp_path / "no-such-tool.exe"), [])
    assert missing.args[0] is False
    assert not collector.running


def test_settings_fall_back_to_temp_without_profile(tmp_path):
    assert not has_user_profile(tmp_path / "missing-home")
    assert has_user_profile(tmp_path)
    settings = make_settings(tmp_path / "missing-home")
    assert Path(settings.fileName()) == fallback_ini()


def test_recent_files(tmp_path):
    recent = RecentFiles(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    assert recent.paths() == []
    for i in range(12):
        recent.add(f"/c/{i}.cab")
    recent.add("/c/3.cab")
    paths = recent.paths()
    assert paths[0] == "/c/3.cab"
    assert len(paths) == 8
    assert paths.count("/c/3.cab") == 1


def test_crash_handler_as_excepthook(qtbot):
    from gui.crash import CrashHandler

    handler = CrashHandler(modal=False)
    handler.install()
    try:
        assert sys.excepthook is handler
        try:
            raise ValueError("unexpected")
        except ValueError as exc:
            handler(type(exc), exc, exc.__traceback__)
        assert handler.dialog is not None
        assert "ValueError: unexpected" in handler.dialog.text.toPlainText()
        handler.dialog.close()
    finally:
        handler.uninstall()
    assert sys.excepthook is not handler


def test_screenshot_of_missing_sample(tmp_path, monkeypatch):
    from gui import app

    monkeypatch.setattr("gui.main_window.resource_path", lambda *p: tmp_path / "none.cab")
    monkeypatch.setattr("gui.main_window.make_settings",
                        lambda: QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    out = tmp_path / "shot.png"
    assert app.run(None, sample=True, screenshot=str(out)) == 2
    assert out.stat().st_size > 1000


def test_screenshot_of_a_capture(tmp_path, monkeypatch, fake_loader_for_path):
    from gui import app

    monkeypatch.setattr("gui.main_window.path_loader", fake_loader_for_path)
    monkeypatch.setattr("gui.main_window.make_settings",
                        lambda: QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    capture = tmp_path / "c.cab"
    capture.write_bytes(b"MSCF")
    out = tmp_path / "shot.png"
    assert app.run(str(capture), screenshot=str(out)) == 0
    from PySide6.QtGui import QImage

    image = QImage(str(out))
    assert (image.width(), image.height()) == (1280, 800)


@pytest.mark.real
@pytest.mark.slow
def test_screenshot_of_each_real_cab(real_dir, tmp_path, monkeypatch):
    pytest.importorskip("core.esp.analyze")
    from gui import app

    monkeypatch.setattr("gui.main_window.make_settings",
                        lambda: QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    for cab in sorted(real_dir.glob("mdmdiag-*/MDMDiagReport.cab")):
        out = tmp_path / f"{cab.parent.name}.png"
        assert app.run(str(cab), screenshot=str(out)) == 0
        assert out.stat().st_size > 10_000


def test_diagnostics_tool_is_under_the_configured_windows_folder() -> None:
    """The Windows folder comes from the settings read at start-up, not from the environment
    at the moment the button is pressed."""
    from core import config
    from core.config import Settings
    from gui.live import diagnostics_tool

    with config.using(Settings.from_environ({"SYSTEMROOT": "D:\\WinTest"})):
        tool = diagnostics_tool()
    assert tool.startswith("D:\\WinTest")
    assert tool.endswith("MdmDiagnosticsTool.exe")

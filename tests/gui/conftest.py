"""GUI test setup: offscreen platform before any QApplication, Qt warnings fail tests,
settings in a temp INI, and every window shut down (threads joined) in teardown."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings

from tests.gui import builders

# The offscreen platform cannot resize native windows; harmless, and not ours.
QT_IGNORED = ("This plugin does not support propagateSizeHints()",)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Strict Qt logging for the GUI tests only: any Qt warning fails the test."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.path).parents:
            item.add_marker(pytest.mark.qt_log_level_fail("WARNING"))
            item.add_marker(pytest.mark.qt_log_ignore(*QT_IGNORED))


@pytest.fixture
def settings(tmp_path: Path) -> QSettings:
    return QSettings(str(tmp_path / "espview.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def fake_loader_for_path():
    """A path loader that returns the builders' evidence and report at once."""

    def factory(path: Path):
        def load(progress, cancel):
            progress("Reading", 1, 2)
            cancel.check()
            return builders.evidence(str(path)), builders.failed_report(str(path))

        return load

    return factory


@pytest.fixture
def window(qtbot, settings, fake_loader_for_path) -> Iterator:
    from gui.crash import CrashHandler
    from gui.main_window import MainWindow

    win = MainWindow(settings=settings, loader_for_path=fake_loader_for_path,
                     crash=CrashHandler(modal=False), live_supported=False)
    qtbot.addWidget(win)
    win.resize(1280, 800)
    win.show()
    yield win
    win.shutdown()
    if win.crash.dialog is not None:
        win.crash.dialog.close()


@pytest.fixture
def loaded_window(window, qtbot, tmp_path):
    capture = tmp_path / "MDMDiagReport.cab"
    capture.write_bytes(b"MSCF")
    with qtbot.waitSignal(window.load_finished, timeout=10000) as blocker:
        window.open_path(str(capture))
    assert blocker.args == ["loaded"]
    return window


@pytest.fixture(autouse=True)
def _app(qapp):
    """Every GUI test runs with the session-wide QApplication."""
    return qapp

"""Evidence is plain text everywhere: markup from a hostile capture (an image fetch, a file
link, styled HTML) goes through every label, tooltip, header and view, and no file is opened
and nothing renders as markup."""

from __future__ import annotations

import os
import sys
import time

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QAbstractItemView, QLabel, QToolTip, QWidget

from tests.gui import builders

OPENED: list[str] = []
_HOOKED = False


def _audit(event: str, args: tuple) -> None:
    if event == "open" and args and "espview-sentinel" in str(args[0]):
        OPENED.append(str(args[0]))


@pytest.fixture
def sentinel(tmp_path):
    global _HOOKED  # noqa: PLW0603 - audit hooks cannot be removed; install one per session
    if not _HOOKED:
        sys.addaudithook(_audit)
        _HOOKED = True
    path = tmp_path / "espview-sentinel.png"
    path.write_bytes(b"not an image")
    os.utime(path, (0, time.time()))  # atime 0: any read by Qt (C++, unseen by the hook)
    OPENED.clear()
    return path


def _indexes(view: QAbstractItemView):
    model = view.model()
    stack = [None]
    while stack:
        parent = stack.pop()
        from PySide6.QtCore import QModelIndex

        parent_index = parent if parent is not None else QModelIndex()
        for row in range(min(model.rowCount(parent_index), 50)):
            for column in range(model.columnCount(parent_index)):
                index = model.index(row, column, parent_index)
                yield index
                if column == 0 and model.rowCount(index) > 0:
                    stack.append(index)


def _check_widgets(root: QWidget, marker: str) -> int:
    seen = 0
    for label in root.findChildren(QLabel):
        if label.objectName() == "qtooltip_label":  # Qt's own: shows our escaped tooltips
            assert "<img" not in label.text()
            continue
        if marker in label.text() or "<a href=\"file" in label.text():
            seen += 1
            assert label.textFormat() == Qt.TextFormat.PlainText, label.objectName()
    for widget in root.findChildren(QWidget):
        assert "<img" not in widget.toolTip(), widget.objectName()
        assert "<img" not in widget.windowTitle()
    return seen


@pytest.mark.qt_log_ignore("This plugin does not support raise", "This plugin does not support propagateSizeHints")  # noqa: E501 - offscreen tooltips
def test_markup_in_evidence_is_never_rendered(qtbot, settings, sentinel, tmp_path):
    from gui.crash import CrashHandler
    from gui.main_window import MainWindow

    def loader(path):
        return lambda progress, cancel: builders.hostile_capture(str(sentinel), str(path))

    win = MainWindow(settings=settings, loader_for_path=loader,
                     crash=CrashHandler(modal=False), live_supported=False)
    qtbot.addWidget(win)
    win.resize(1366, 768)
    win.show()
    capture = tmp_path / "hostile.cab"
    capture.write_bytes(b"MSCF")
    try:
        with qtbot.waitSignal(win.load_finished) as blocker:
            win.open_path(str(capture))
        assert blocker.args == ["loaded"]
        marker = str(sentinel)
        labels = _check_widgets(win, marker)
        tips = 0
        for page in ("step", "findings", "timeline", "problems", "registry", "files"):
            win.show_page(page)
            for sub in ("items", "registry", "events", "log", "timeline"):
                if page == "step":
                    win.step_panel.show_page(sub)
                for view in win.findChildren(QAbstractItemView):
                    if not view.isVisible():
                        continue
                    for index in _indexes(view):
                        tip = index.data(Qt.ItemDataRole.ToolTipRole)
                        if isinstance(tip, str) and marker in tip:
                            assert "<img" not in tip
                            QToolTip.showText(QPoint(10, 10), tip, view)
                            tips += 1
                        header = view.model().headerData(index.column(),
                                                         Qt.Orientation.Horizontal)
                        assert marker not in str(header)
                    if view.model().rowCount():
                        view.setCurrentIndex(view.model().index(0, 0))  # opens details panes
                win.grab()
                labels += _check_widgets(win, marker)
        win.show_page("findings")
        win.findings.select(0)
        for row in range(win.findings.evidence_model.rowCount()):
            win.findings.activate_evidence(row)
            win.grab()
            labels += _check_widgets(win, marker)
        win.show_page("files")
        win.files.view.setCurrentIndex(win.files.view.model().index(0, 0))
        QToolTip.hideText()
        qtbot.wait(50)
        assert labels > 10  # the markup really reached labels (as text)
        assert tips > 10
        assert "<img src=" in win.step_panel.title.text()  # shown literally, as typed
        assert OPENED == []
        assert os.stat(sentinel).st_atime == 0, "Qt read the file a capture's markup named"
    finally:
        win.shutdown()


def test_the_atime_check_can_fail(qtbot, sentinel):
    """The detector works: a rich-text label with the same markup does read the file."""
    label = QLabel(f'<img src="{sentinel}">')
    qtbot.addWidget(label)
    label.show()
    label.grab()
    if os.stat(sentinel).st_atime == 0:
        pytest.skip("this file system does not record access times")
    assert os.stat(sentinel).st_atime > 0

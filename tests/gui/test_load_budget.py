"""The GUI thread's work after a load is bounded whatever the capture's size.

A capture ten times larger (items, events, log lines, keys and problems on one step, and a
timeline ten times as long) must not make any turn of the GUI thread's event loop longer:
everything proportional to the capture happens in the loading thread, pages off screen
get the capture when shown or one per turn, tables size their columns on a sample of rows.

Two measures per turn of the event loop, from ``open_path`` to the painted window:
Python lines the GUI thread runs (counted by a trace function: deterministic, independent
of the machine's load), and the GUI thread's CPU time (``time.thread_time``: not wall
clock, so other processes on the machine do not count).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

from PySide6.QtCore import QTimer

from tests.gui import builders

SMALL, LARGE = 200, 4_000  # step rows; the timeline holds ten times as many
#: Python lines the large capture may run beyond the small one, in its worst turn and in
#: all (widths of longer texts, event-loop timing). A pass over the rows costs far more:
#: 38 000 more timeline rows, 3 800 more items, keys and problems.
LINE_SLACK = 5_000
#: GUI-thread CPU time of one turn; a quiet machine needs about a third of it.
MAX_TURN_CPU_S = 0.060


class TurnMeter:
    """Python lines and CPU time of the GUI thread per turn of its event loop (a 0 ms timer
    marks the turns)."""

    def __init__(self, *, count_lines: bool) -> None:
        self.count_lines = count_lines
        self.turns: list[tuple[int, float]] = []
        self._lines = 0
        self._cpu = time.thread_time()
        self._timer = QTimer()
        self._timer.setInterval(0)
        self._timer.timeout.connect(self._turn)

    def _trace(self, frame: FrameType, event: str, arg: Any) -> Any:
        if event == "call" and frame.f_code is TurnMeter._turn.__code__:
            return None  # the meter's own ticks are not the window's work
        if event == "line":
            self._lines += 1
        return self._trace

    def _turn(self) -> None:
        now = time.thread_time()
        self.turns.append((self._lines, now - self._cpu))
        self._lines = 0
        self._cpu = time.thread_time()

    @contextmanager
    def running(self) -> Iterator[TurnMeter]:
        previous = sys.gettrace()
        self._timer.start()
        if self.count_lines:
            sys.settrace(self._trace)
        try:
            yield self
        finally:
            sys.settrace(previous)
            self._timer.stop()
            self._turn()

    @property
    def worst_lines(self) -> int:
        return max(lines for lines, _cpu in self.turns)

    @property
    def total_lines(self) -> int:
        return sum(lines for lines, _cpu in self.turns)

    @property
    def worst_cpu(self) -> float:
        return max(cpu for _lines, cpu in self.turns)


def _measure(qtbot: Any, settings: Any, rows: int, *, count_lines: bool) -> TurnMeter:
    from gui.crash import CrashHandler
    from gui.main_window import MainWindow

    evidence, report = builders.large_capture(rows)

    def loader_for_path(_path: Any) -> Any:
        return lambda progress, cancel: (evidence, report)

    window = MainWindow(settings=settings, loader_for_path=loader_for_path,
                        crash=CrashHandler(modal=False), live_supported=False)
    qtbot.addWidget(window)
    window.resize(1280, 800)
    window.show()
    qtbot.waitExposed(window)
    meter = TurnMeter(count_lines=count_lines)
    try:
        with meter.running():
            with qtbot.waitSignal(window.load_finished, timeout=60_000) as blocker:
                window.open_path(__file__)
            qtbot.wait(200)  # the first paints and column sizing count too
    finally:
        window.shutdown()
    assert blocker.args == ["loaded"]
    assert window.timeline.model.rowCount() == 10 * rows  # every page got the capture
    assert window.step_panel.items_view.model().rowCount() == rows
    return meter


def test_gui_thread_lines_per_turn_do_not_grow_with_the_capture(qtbot, settings):
    _measure(qtbot, settings, SMALL, count_lines=False)  # first imports and caches: once
    small = _measure(qtbot, settings, SMALL, count_lines=True)
    large = _measure(qtbot, settings, LARGE, count_lines=True)
    print(f"worst turn: {small.worst_lines} lines ({SMALL} rows), "
          f"{large.worst_lines} lines ({LARGE} rows); in all: {small.total_lines}, "
          f"{large.total_lines}")
    assert large.worst_lines <= small.worst_lines + LINE_SLACK
    # Summed over every turn too: a per-row pass hidden in a turn lighter than the worst
    # one (the first paint) still shows here.
    assert large.total_lines <= small.total_lines + LINE_SLACK


def test_gui_thread_cpu_per_turn_is_bounded_on_a_large_capture(qtbot, settings):
    meter = _measure(qtbot, settings, LARGE, count_lines=False)
    print(f"worst turn: {meter.worst_cpu * 1000:.0f} ms GUI-thread CPU, {len(meter.turns)} turns")
    assert meter.worst_cpu < MAX_TURN_CPU_S

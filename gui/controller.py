"""The one owner of loading: starts a :class:`LoadThread`, forwards its outcome as signals,
retires a thread that a newer load replaced, and joins every thread on shutdown.

The window asks it to load and listens; it never touches a thread itself.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Signal

from gui.prepare import Loaded
from gui.worker import Loader, LoadThread

log = logging.getLogger(__name__)


class LoadController(QObject):
    """Exactly one of ``loaded``, ``failed``, ``crashed``, ``cancelled`` follows each ``started``
    (unless a newer :meth:`start` replaced that load: a replaced load reports nothing)."""

    started = Signal(str, bool)  # source, live
    progressed = Signal(str, int, int)
    loaded = Signal(object)  # Loaded
    failed = Signal(str, str)  # source, one-line message
    crashed = Signal(str, str)  # source, traceback text
    cancelled = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thread: LoadThread | None = None
        self._retired: list[LoadThread] = []
        self.source = ""

    @property
    def busy(self) -> bool:
        return self._thread is not None

    def start(self, loader: Loader, source: str, *, live: bool = False) -> None:
        self._retire()
        self.source = source
        thread = LoadThread(loader, self, live=live)
        thread.progressed.connect(self._progressed)
        thread.loaded.connect(self._loaded)
        thread.failed.connect(self._failed)
        thread.crashed.connect(self._crashed)
        thread.cancelled.connect(self._cancelled)
        self._thread = thread
        self.started.emit(source, live)
        thread.start()

    def cancel(self) -> None:
        if self._thread is not None:
            self._thread.cancel()

    def shutdown(self, timeout_ms: int = 10000) -> None:
        """Cancel the running load and wait for every thread (closing, test teardown)."""
        self._retire()
        for thread in list(self._retired):
            thread.wait(timeout_ms)

    def _retire(self) -> None:
        """Cancel a running load and forget its signals; it ends on its own."""
        thread, self._thread = self._thread, None
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

    def _finish(self) -> None:
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.wait(2000)  # it has emitted its last signal; run() is returning
            thread.deleteLater()

    def _progressed(self, stage: str, done: int, total: int) -> None:
        if self._thread is not None:
            self.progressed.emit(stage, done, total)

    def _loaded(self, loaded: Loaded) -> None:
        self._finish()
        self.loaded.emit(loaded)

    def _failed(self, message: str) -> None:
        self._finish()
        self.failed.emit(self.source, message)

    def _crashed(self, details: str) -> None:
        self._finish()
        self.crashed.emit(self.source, details)

    def _cancelled(self) -> None:
        self._finish()
        self.cancelled.emit()

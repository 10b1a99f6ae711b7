"""Loading off the GUI thread: one :class:`LoadThread` runs ``load_evidence`` + ``analyze``.

The thread only calls pure ``core`` functions; results travel back by queued signals and the
window attaches models only after ``loaded`` fires (never while the worker still runs).
Progress is throttled so a chatty loader cannot flood the GUI thread's event queue.
"""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QThread, Signal

from core.errors import Cancelled, EspViewError
from core.perf import gc_paused
from core.progress import CancelToken, ProgressFn
from gui.prepare import prepare

if TYPE_CHECKING:
    from core.esp.model import EspReport
    from core.evidence import Evidence

log = logging.getLogger(__name__)

#: ``loader(progress, cancel) -> (evidence, report)``; raises EspViewError when unusable.
Loader = Callable[[ProgressFn, CancelToken], "tuple[Evidence, EspReport]"]

PROGRESS_INTERVAL = 0.05  # seconds between progress signals within one stage


def path_loader(path: Path) -> Loader:
    """A loader reading ``path`` with ``core.evidence.load_evidence`` and analysing it."""

    def load(progress: ProgressFn, cancel: CancelToken) -> tuple[Evidence, EspReport]:
        from core.esp.analyze import analyze  # noqa: PLC0415 - heavy; only in the worker
        from core.evidence import load_evidence  # noqa: PLC0415 - heavy; only in the worker

        evidence = load_evidence(path, progress=progress, cancel=cancel)
        cancel.check()
        progress("Analysing", 0, 1)
        return evidence, analyze(evidence)

    return load


def live_loader() -> Loader:
    """A loader reading this device read-only (Windows only)."""

    def load(progress: ProgressFn, cancel: CancelToken) -> tuple[Evidence, EspReport]:
        from core.esp.analyze import analyze  # noqa: PLC0415 - heavy; only in the worker
        from core.evidence import load_live_evidence  # noqa: PLC0415 - heavy; only in the worker

        evidence = load_live_evidence(progress=progress, cancel=cancel)
        cancel.check()
        progress("Analysing", 0, 1)
        return evidence, analyze(evidence)

    return load


class LoadThread(QThread):
    """Runs one loader. Exactly one of ``loaded``, ``failed``, ``crashed``, ``cancelled`` fires."""

    progressed = Signal(str, int, int)
    loaded = Signal(object)  # gui.prepare.Loaded
    failed = Signal(str)  # an expected, one-line message (unsupported or corrupt input)
    crashed = Signal(str)  # a bug: traceback text for the crash dialog
    cancelled = Signal()

    def __init__(self, loader: Loader, parent: Any = None, *, live: bool = False) -> None:
        super().__init__(parent)
        self._loader = loader
        self.live = live
        self.token = CancelToken()
        self._last_stage = ""
        self._last_emit = 0.0

    def cancel(self) -> None:
        self.token.cancel()

    def _progress(self, stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        if stage == self._last_stage and now - self._last_emit < PROGRESS_INTERVAL and \
                done < total:
            return
        self._last_stage, self._last_emit = stage, now
        self.progressed.emit(stage, done, total)
        self.token.check()

    def run(self) -> None:
        try:
            # Full GC passes over the growing evidence would hold the GIL for 100-200 ms at a
            # time and freeze the window; see core.perf.
            with gc_paused(freeze=True):
                evidence, report = self._loader(self._progress, self.token)
                loaded = prepare(evidence, report, live=self.live)
        except Cancelled:
            self.cancelled.emit()
        except EspViewError as exc:
            self.failed.emit(str(exc) or type(exc).__name__)
        except MemoryError:
            self.failed.emit("Not enough memory to load this input.")
        except Exception:
            log.exception("loading failed")
            self.crashed.emit(traceback.format_exc())
        else:
            if self.token.cancelled:
                self.cancelled.emit()
            else:
                self.loaded.emit(loaded)

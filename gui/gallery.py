"""A gallery of screenshots rendered offscreen, one PNG per view, named after it: each main
tab, each step tab, the findings pane, the details panes, dark theme and 1366×768.

``python3 dev.py gallery OUT [CAPTURE...]`` renders the bundled sample plus any capture given;
tests render a builder-made capture the same way. Look at them: they are how the window
really looks, without a screen.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

from gui.app import application, wait_for_load
from gui.crash import CrashHandler
from gui.main_window import MainWindow
from gui.worker import Loader, path_loader

SIZE = (1280, 800)
SMALL = (1366, 768)
STEP_PAGES = ("items", "registry", "events", "log", "timeline")


def _settle(window: MainWindow) -> None:
    for _ in range(3):
        QApplication.processEvents()


def _save(window: MainWindow, out: Path, name: str, written: list[Path]) -> None:
    _settle(window)
    path = out / f"{name}.png"
    if window.grab().save(str(path), "PNG"):
        written.append(path)


def render_capture(out: Path, name: str, loader: Loader) -> list[Path]:
    """Every view of one capture as ``<name>-<view>.png`` files in ``out``."""
    from gui.theme import apply_theme  # noqa: PLC0415

    out.mkdir(parents=True, exist_ok=True)
    settings = QSettings(str(Path(tempfile.mkdtemp(prefix="espview-gallery-")) / "g.ini"),
                         QSettings.Format.IniFormat)
    window = MainWindow(settings=settings, loader_for_path=lambda _path: loader,
                        crash=CrashHandler(modal=False), live_supported=False)
    written: list[Path] = []
    try:
        window.resize(*SIZE)
        window.show()
        window.start_load(loader, name)
        if wait_for_load(window) != "loaded":
            _save(window, out, f"{name}-failed-to-load", written)
            return written
        report = window.loaded.report  # type: ignore[union-attr]  # loaded above
        _save(window, out, f"{name}-step", written)
        for page in STEP_PAGES:
            window.step_panel.show_page(page)
            for view in (window.step_panel.events_view, window.step_panel.logs_view):
                if view.isVisible() and view.model().rowCount():
                    view.selectRow(0)
            _save(window, out, f"{name}-step-{page}", written)
        window.step_panel.show_page("items")
        window.show_page("findings")
        window.findings.select(0)
        _save(window, out, f"{name}-findings", written)
        evidence = window.findings.evidence_model
        opens = [r for r in range(evidence.rowCount()) if evidence.row_object(r)[1]]
        if opens:  # the first piece of evidence that opens something, not a cited text
            window.findings.activate_evidence(opens[0])
            _save(window, out, f"{name}-findings-evidence-opened", written)
        window.show_page("timeline")
        timeline = window.timeline
        for kind in ("event", "log", "registry"):
            rows = timeline.model
            found = next((r for r in range(rows.rowCount())
                          if rows.row_object(r).entry.kind == kind), None)
            if found is not None:
                timeline.view.selectRow(found)
                _save(window, out, f"{name}-timeline-details-{kind}", written)
        for page in ("problems", "registry", "files", "chart"):
            window.show_page(page)
            if page == "registry" and report.steps and report.steps[0].registry:
                window.registry.go_to(report.steps[0].registry[0].path)
            if page == "files" and window.files.model.rowCount():
                window.files.view.selectRow(0)
                window.files.open_current()
            _save(window, out, f"{name}-{page}", written)
        first = report.first_failed_step
        if first is not None:
            window.select_step(first.id)
        apply_theme("dark")
        _save(window, out, f"{name}-dark", written)
        apply_theme("system")
        window.resize(*SMALL)
        window.step_panel.show_page("registry")
        _save(window, out, f"{name}-1366x768", written)
    finally:
        window.shutdown()
        window.close()
        window.deleteLater()
    return written


def render_gallery(out: Path, captures: list[tuple[str, Loader]]) -> list[Path]:
    application()
    written: list[Path] = []
    for name, loader in captures:
        written += render_capture(out, name, loader)
    return written


def main(argv: list[str]) -> int:
    usage = "usage: python -m gui.gallery OUT [CAPTURE...]"
    if argv and argv[0] in ("-h", "--help"):  # not a folder to write screenshots into
        print(usage)
        return 0
    if not argv or argv[0].startswith("-"):
        print(usage, file=sys.stderr)
        return 2
    from core.paths import resource_path  # noqa: PLC0415

    out = Path(argv[0])
    captures: list[tuple[str, Callable[..., object]]] = [
        ("sample", path_loader(resource_path("samples", "sample.cab")))]
    for index, capture in enumerate(argv[1:], start=1):
        captures.append((f"capture{index}", path_loader(Path(capture))))
    written = render_gallery(out, captures)  # type: ignore[arg-type]  # loaders
    for path in written:
        print(path)
    return 0 if written else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""The gallery renders every view offscreen; each PNG is full-size and not blank. Also makes
the README's failing-capture screenshot from the builders (no real identifiers)."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtGui import QImage

from tests.gui import builders

ROOT = Path(__file__).resolve().parents[2]


def _loader(progress, cancel):
    return builders.evidence(), builders.failed_report()


def _distinct_colours(image: QImage) -> int:
    colours = set()
    for y in range(0, image.height(), 23):
        for x in range(0, image.width(), 17):
            colours.add(image.pixel(x, y))
    return len(colours)


def test_gallery_renders_every_view(tmp_path):
    from gui.gallery import render_gallery

    written = render_gallery(tmp_path, [("failing", _loader)])
    names = {p.stem for p in written}
    expected = {"failing-step", "failing-findings", "failing-findings-evidence-opened",
                "failing-timeline-details-event", "failing-timeline-details-log",
                "failing-timeline-details-registry", "failing-problems", "failing-registry",
                "failing-files", "failing-chart", "failing-dark", "failing-1366x768",
                *(f"failing-step-{page}" for page in ("items", "registry", "events", "log",
                                                      "timeline"))}
    assert expected <= names
    for path in written:
        image = QImage(str(path))
        assert path.stat().st_size > 20_000, path.name
        assert image.width() >= 1280, path.name
        assert image.height() >= 768, path.name
        assert _distinct_colours(image) > 12, path.name  # not blank
    small = QImage(str(tmp_path / "failing-1366x768.png"))
    assert (small.width(), small.height()) == (1366, 768)
    dark = QImage(str(tmp_path / "failing-dark.png"))
    assert QImage(str(tmp_path / "failing-step.png")).pixelColor(600, 780).lightness() > \
        dark.pixelColor(600, 780).lightness()
    if os.environ.get("ESPVIEW_README_SCREENSHOT"):  # refresh the README image on request
        target = ROOT / "resources" / "docs" / "screenshot-failing.png"
        target.write_bytes((tmp_path / "failing-step.png").read_bytes())


def test_help_is_not_taken_for_an_output_folder(tmp_path, monkeypatch, capsys):
    from gui.gallery import main

    monkeypatch.chdir(tmp_path)
    assert main(["--help"]) == 0
    assert "usage" in capsys.readouterr().out
    assert main(["-x"]) == 2
    assert list(tmp_path.iterdir()) == []

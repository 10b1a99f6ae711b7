"""File › Compare with… and the Redact identifiers export option."""

from __future__ import annotations

import json

from PySide6.QtWidgets import QApplication

from gui.compare import CompareDialog


def test_compare_with_shows_the_diff(loaded_window, qtbot, tmp_path):
    win = loaded_window
    assert win.compare.act_compare.isEnabled()
    other = tmp_path / "other.cab"
    other.write_bytes(b"MSCF")
    win.compare.compare_with(other)
    qtbot.waitUntil(lambda: win.compare.dialog is not None, timeout=10000)
    dialog = win.compare.dialog
    assert isinstance(dialog, CompareDialog)
    text = dialog.browser.toPlainText()
    assert "ESPView compare" in text
    assert "Nothing that matters differs" in text  # the same story on both sides
    qtbot.waitUntil(lambda: win.compare.thread is None, timeout=10000)
    dialog.close()


def test_redact_option_applies_to_exports(loaded_window, tmp_path, monkeypatch):
    win = loaded_window
    name = win.loaded.report.device.name
    assert name
    win.compare.act_redact.setChecked(True)
    out = tmp_path / "out.json"
    monkeypatch.setattr(win, "ask_save_path", lambda *a: str(out))
    win.act_json.trigger()
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["redaction"]["redacted"] is True
    assert name not in out.read_text(encoding="utf-8")
    monkeypatch.setattr(win, "ask_folder", lambda *a: str(tmp_path))
    win.save_bundle_dialog()
    bundles = [p for p in tmp_path.iterdir() if p.is_dir() and p.name.startswith("ESPView-")]
    assert len(bundles) == 1
    assert not (bundles[0] / "files").exists()  # raw evidence cannot be redacted
    for file in bundles[0].iterdir():
        assert name not in file.read_text(encoding="utf-8")
    QApplication.processEvents()

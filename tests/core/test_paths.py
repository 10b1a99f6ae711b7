"""Resources and the cache folder, frozen or not, with or without a usable profile."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import platformdirs
import pytest

from core import paths
from core.config import Settings


def test_resources_are_found_unfrozen_and_frozen(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert paths.resource_path("schema", "espview.report-1.schema.json").is_file()
    assert paths.resource_path("samples", "sample.cab").is_file()
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    assert paths.resource_path("x", "y") == tmp_path / "resources" / "x" / "y"


def test_cache_falls_back_to_temp_without_a_usable_profile(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Shift+F10 during OOBE: no profile folder to write to. A folder below a *file* cannot be
    created by anybody, root included."""
    blocker = tmp_path / "blocker"
    blocker.write_text("a file, not a folder", encoding="utf-8")
    monkeypatch.setattr(platformdirs, "user_cache_dir", lambda *a, **k: str(blocker / "cache"))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "temp"))
    (tmp_path / "temp").mkdir()
    chosen = paths.cache_dir(Settings())
    assert chosen.parent == tmp_path / "temp"
    assert chosen.name.startswith("ESPView-cache-")
    assert chosen.stat().st_mode & 0o777 == 0o700


def test_cache_override(tmp_path: Path) -> None:
    settings = Settings.from_environ({"ESPVIEW_CACHE_DIR": str(tmp_path / "c")})
    assert paths.cache_dir(settings) == tmp_path / "c"
    assert (tmp_path / "c").stat().st_mode & 0o777 == 0o700

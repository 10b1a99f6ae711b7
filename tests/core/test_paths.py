"""Resources and the cache folder, frozen or not, with or without a usable profile."""

from __future__ import annotations

import os
import stat
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


def _planted(folder: Path) -> None:
    """What another local user plants: a "complete" extraction of somebody's cab."""
    entry = folder / "extract-v2" / ("0" * 64)
    entry.mkdir(parents=True)
    (entry / ".espview-complete.json").write_text('{"bytes": 1, "members": 1}', encoding="utf-8")
    (entry / "MdmDiagReport_RegistryDump.reg").write_text("planted", encoding="utf-8")


def _temp_only(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No profile cache (as in OOBE): the candidates are the shared temp folder's."""
    blocker = tmp_path / "blocker"
    blocker.write_text("a file", encoding="utf-8")
    monkeypatch.setattr(platformdirs, "user_cache_dir", lambda *a, **k: str(blocker / "c"))
    temp = tmp_path / "temp"
    temp.mkdir(mode=0o777)
    temp.chmod(0o1777)  # like /tmp
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    return temp / f"ESPView-cache-{os.getuid()}"


@pytest.mark.skipif(os.name == "nt", reason="POSIX modes and owners")
def test_a_world_writable_temp_cache_is_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    poisoned = _temp_only(monkeypatch, tmp_path)
    poisoned.mkdir()
    poisoned.chmod(0o777)
    _planted(poisoned)
    chosen = paths.cache_dir(Settings())
    assert chosen != poisoned
    assert chosen.parent == tmp_path / "temp"
    assert stat.S_IMODE(chosen.stat().st_mode) == 0o700
    assert not (chosen / "extract-v2").exists()


@pytest.mark.skipif(os.name == "nt" or os.geteuid() != 0, reason="needs chown (root)")
def test_a_temp_cache_owned_by_somebody_else_is_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    poisoned = _temp_only(monkeypatch, tmp_path)
    poisoned.mkdir(mode=0o700)
    _planted(poisoned)
    os.chown(poisoned, 65534, 65534)
    assert paths.cache_dir(Settings()) != poisoned


@pytest.mark.skipif(os.name == "nt", reason="POSIX modes and owners")
def test_a_link_as_cache_is_refused_and_a_readable_own_one_tightened(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    poisoned = _temp_only(monkeypatch, tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir(mode=0o700)
    poisoned.symlink_to(elsewhere)
    assert paths.cache_dir(Settings()) != poisoned
    own = tmp_path / "own"
    own.mkdir(mode=0o755)
    own.chmod(0o755)
    assert paths.cache_dir(Settings(cache_dir=own)) == own
    assert stat.S_IMODE(own.stat().st_mode) == 0o700

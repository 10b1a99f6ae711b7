"""Native extractor: its output is checked against the CFFILE table; failures fall back."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from core.errors import Cancelled, CorruptInput
from core.progress import CancelToken
from core.sources import native
from core.sources.cab import CabFile, extract_cab
from tests.builders.cab import Folder, build_cab

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="fake tools are shell scripts")

FILES = [("a.txt", b"alpha" * 100), ("sub\\b.txt", b"beta")]


def _fake_tool(tmp_path: Path, body: str) -> native.Tool:
    """A 'cabextract' (called as: tool -q -d OUT CAB) running ``body`` with OUT in $3."""
    script = tmp_path / "fake-cabextract"
    script.write_text('#!/bin/sh\nOUT="$3"\n' + body + "\n")
    script.chmod(0o755)
    return native.Tool("cabextract", str(script))


_GOOD = 'printf "%s" "$(python3 -c "print(\'alpha\'*100, end=\'\')")" > "$OUT/a.txt"\n'
_GOOD += 'mkdir -p "$OUT/sub" && printf beta > "$OUT/sub/b.txt"'


@pytest.fixture
def box(tmp_path: Path) -> Path:
    (tmp_path / "box").mkdir()
    (tmp_path / "box" / "t.cab").write_bytes(build_cab([Folder(FILES, "mszip")]))
    return tmp_path / "box"


def _run(box: Path, tool: native.Tool, **kw: Any) -> list[Path]:
    with CabFile(box / "t.cab") as cab:
        return native.extract_native(cab, box / "out", tool, **kw)


def test_good_output_is_moved_into_place(box: Path, tmp_path: Path) -> None:
    paths = _run(box, _fake_tool(tmp_path, _GOOD))
    assert [p.relative_to(box / "out").as_posix() for p in paths] == ["a.txt", "sub/b.txt"]
    assert (box / "out" / "sub" / "b.txt").read_bytes() == b"beta"
    assert sorted(p.name for p in box.iterdir()) == ["out", "t.cab"]  # work folder removed


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (_GOOD + '\nprintf x > "$OUT/extra"', "unexpected file"),
        (_GOOD + '\nprintf xx > "$OUT/sub/b.txt"', "wrong size"),
        ('printf x > "$OUT/a.txt"', "missing"),
        (_GOOD + '\nln -s /etc "$OUT/link"', "link"),
        ("echo 'boom: bad cab' >&2; exit 3", "exited with status 3: boom: bad cab"),
    ],
)
def test_mismatch_is_refused(box: Path, tmp_path: Path, body: str, why: str) -> None:
    with pytest.raises(native.NativeFailed, match=why):
        _run(box, _fake_tool(tmp_path, body))
    assert sorted(p.name for p in box.iterdir()) == ["out", "t.cab"]
    assert list((box / "out").iterdir()) == []


def test_auto_falls_back_native_raises(
    box: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tool = _fake_tool(tmp_path, _GOOD + '\nprintf x > "$OUT/extra"')
    monkeypatch.setattr(native, "find_tool", lambda *_: tool)
    paths = extract_cab(box / "t.cab", box / "out", backend="auto")
    assert [p.read_bytes() for p in paths] == [content for _, content in FILES]
    with pytest.raises(CorruptInput, match=r"^t\.cab: cabextract output does not match"):
        extract_cab(box / "t.cab", box / "out2", backend="native")


def test_timeout_kills(box: Path, tmp_path: Path) -> None:
    with pytest.raises(native.NativeFailed, match="took longer"):
        _run(box, _fake_tool(tmp_path, "exec sleep 30"), timeout=0.3)
    assert sorted(p.name for p in box.iterdir()) == ["out", "t.cab"]


def test_cancel_kills(box: Path, tmp_path: Path) -> None:
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        _run(box, _fake_tool(tmp_path, "exec sleep 30"), cancel=token)
    assert sorted(p.name for p in box.iterdir()) == ["out", "t.cab"]


def test_progress_while_running(box: Path, tmp_path: Path) -> None:
    seen: list[int] = []
    _run(
        box,
        _fake_tool(tmp_path, "sleep 0.7; " + _GOOD),
        progress=lambda _stage, done, _total: seen.append(done),
    )
    assert len(seen) >= 2
    assert seen[-1] == 504


def test_find_tool_prefers_cabextract(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(native.shutil, "which", lambda name: f"/usr/bin/{name}")
    tool = native.find_tool()
    assert tool is not None
    assert tool.kind == "cabextract"
    monkeypatch.setattr(native.shutil, "which", lambda name: None)
    assert native.find_tool() is None


def test_a_relative_destination_works(
    box: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The tool runs inside its output folder: a relative path named another place, and
    the extraction silently fell back to the slow reader."""
    tool = _fake_tool(tmp_path, _GOOD)
    monkeypatch.chdir(box)
    with CabFile(Path("t.cab")) as cab:
        paths = native.extract_native(cab, Path("out"), tool)
    assert [p.as_posix() for p in paths] == ["out/a.txt", "out/sub/b.txt"]
    assert (box / "out" / "sub" / "b.txt").read_bytes() == b"beta"


def test_a_relative_cache_folder_uses_the_native_tool(
    box: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from core.config import Settings
    from core.sources.container import open_source

    tool = _fake_tool(tmp_path, _GOOD)
    monkeypatch.setattr(native, "find_tool", lambda *_: tool)
    failed: list[str] = []
    real_python = CabFile.extract_all
    monkeypatch.setattr(CabFile, "extract_all", lambda *a, **k: failed.append("python")
                        or real_python(*a, **k))  # fmt: skip
    monkeypatch.chdir(box)
    source = open_source(Path("t.cab"), settings=Settings(cache_dir=Path("relative-cache")))
    assert sorted(m.name for m in source.members) == ["t.cab!a.txt", "t.cab!sub/b.txt"]
    assert failed == []  # no fallback: the native tool did it

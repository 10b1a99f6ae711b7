"""Containers: zips, folders, single files, nesting, the extraction cache and its safety."""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import pytest

from core.errors import CorruptInput, LimitExceeded, UnsupportedInput
from core.sources import container
from core.sources.container import extract_archive, open_source, sniff_kind
from core.sources.safety import Limits


def _zip_bytes(members: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _tree(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*")}


def test_intune_zip_layout_with_nested_zip(tmp_path: Path) -> None:
    inner = _zip_bytes({"MdmDiagReport_RegistryDump.reg": b"[HKEY_LOCAL_MACHINE\\x]\r\n"})
    outer = tmp_path / "DiagLogs-PC-20240101.zip"
    outer.write_bytes(
        _zip_bytes(
            {
                "(1) HKLM Software IME/export.reg": b"Windows Registry Editor Version 5.00\r\n",
                "(2) Events Application/Events.evtx": b"ElfFile\x00" + bytes(100),
                "(3) mdmdiagnosticstool/mdmlogs.zip": inner,
            }
        )
    )
    source = open_source(outer)
    names = [m.name for m in source.members]
    assert source.kind == "zip"
    assert "DiagLogs-PC-20240101.zip!(1) HKLM Software IME/export.reg" in names
    assert (
        "DiagLogs-PC-20240101.zip!(3) mdmdiagnosticstool/mdmlogs.zip!MdmDiagReport_RegistryDump.reg"
        in names
    )
    nested = next(m for m in source.members if m.name.endswith("RegistryDump.reg"))
    assert nested.path.read_bytes() == b"[HKEY_LOCAL_MACHINE\\x]\r\n"
    assert nested.basename == "MdmDiagReport_RegistryDump.reg"
    assert source.problems == []


def test_extraction_is_cached_by_content(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    archive = tmp_path / "a.zip"
    archive.write_bytes(_zip_bytes({"x.txt": b"hello"}))
    first = extract_archive(archive, "zip", cache_root=tmp_path / "cache")
    calls: list[Path] = []
    monkeypatch.setattr(container, "extract_zip", lambda *a, **k: calls.append(a[0]))
    copy = tmp_path / "renamed.zip"
    copy.write_bytes(archive.read_bytes())
    second = extract_archive(copy, "zip", cache_root=tmp_path / "cache")
    assert second == first
    assert calls == []  # a cache hit did not extract again
    assert (first / "x.txt").read_bytes() == b"hello"


def test_killed_extraction_never_looks_complete(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = tmp_path / "a.zip"
    archive.write_bytes(_zip_bytes({"x.txt": b"hello", "y.txt": b"world"}))
    real_extract = container.extract_zip

    def dies_midway(path: Path, dest: Path, **kwargs: object) -> list[Path]:
        (dest / "x.txt").write_bytes(b"hel")
        raise KeyboardInterrupt

    monkeypatch.setattr(container, "extract_zip", dies_midway)
    cache = tmp_path / "cache"
    with pytest.raises(KeyboardInterrupt):
        extract_archive(archive, "zip", cache_root=cache)
    leftovers = list((cache / f"extract-v{container.CACHE_VERSION}").iterdir())
    assert leftovers == []  # the private work folder is gone, no final folder exists
    monkeypatch.setattr(container, "extract_zip", real_extract)
    folder = extract_archive(archive, "zip", cache_root=cache)
    assert (folder / "y.txt").read_bytes() == b"world"


@pytest.mark.parametrize(
    "name", ["../evil.txt", "a/../../evil.txt", "/abs/evil.txt", "C:/evil.txt", "sub\\..\\..\\e"]
)
def test_zip_traversal_names_rejected(tmp_path: Path, name: str) -> None:
    archive = tmp_path / "bad.zip"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr(zipfile.ZipInfo("ok.txt"), b"fine")
        info = zipfile.ZipInfo("placeholder")
        info.filename = name  # bypass zipfile's own normalisation, as a hostile tool would
        z.writestr(info, b"evil")
    archive.write_bytes(buffer.getvalue())
    cache = tmp_path / "cache"
    before = _tree(tmp_path)
    with pytest.raises(CorruptInput, match="member name"):
        extract_archive(archive, "zip", cache_root=cache)
    after = {p for p in _tree(tmp_path) if not p.startswith("cache")}
    assert after == {p for p in before if not p.startswith("cache")}
    assert not list(tmp_path.rglob("evil*"))


def test_zip_bomb_ratio_is_capped(tmp_path: Path) -> None:
    archive = tmp_path / "bomb.zip"
    archive.write_bytes(_zip_bytes({"zeros.bin": bytes(64 * 1024 * 1024)}))
    with pytest.raises(LimitExceeded, match="compression ratio"):
        extract_archive(archive, "zip", cache_root=tmp_path / "cache", limits=Limits(max_ratio=100))


def test_zip_member_count_and_total_caps(tmp_path: Path) -> None:
    archive = tmp_path / "many.zip"
    archive.write_bytes(_zip_bytes({f"f{i}.txt": b"x" for i in range(30)}))
    with pytest.raises(LimitExceeded, match="30 members"):
        extract_archive(archive, "zip", cache_root=tmp_path / "c1", limits=Limits(max_members=10))
    with pytest.raises(LimitExceeded, match="over the cap"):
        extract_archive(
            archive, "zip", cache_root=tmp_path / "c2", limits=Limits(max_total_bytes=5)
        )


def test_zip_lying_about_its_size(tmp_path: Path) -> None:
    data = bytearray(_zip_bytes({"a.txt": b"A" * 5000}, zipfile.ZIP_STORED))
    # Shrink the declared size in the central directory and the local header to 10 bytes.
    for magic, offset in ((b"PK\x01\x02", 24), (b"PK\x03\x04", 22)):
        at = data.find(magic)
        data[at + offset : at + offset + 4] = (10).to_bytes(4, "little")
    archive = tmp_path / "liar.zip"
    archive.write_bytes(bytes(data))
    with pytest.raises(CorruptInput):
        extract_archive(archive, "zip", cache_root=tmp_path / "cache")


def test_truncated_zip_is_a_clear_error(tmp_path: Path) -> None:
    archive = tmp_path / "cut.zip"
    archive.write_bytes(_zip_bytes({"a.txt": os.urandom(10000)})[:3000])
    with pytest.raises(CorruptInput, match=r"cut\.zip"):
        open_source(archive)


def test_bad_nested_archive_is_a_problem_not_a_failure(tmp_path: Path) -> None:
    outer = tmp_path / "outer.zip"
    outer.write_bytes(_zip_bytes({"inner.zip": b"PK\x03\x04 this is not a zip", "a.log": b"x"}))
    source = open_source(outer)
    assert [m.name for m in source.members] == ["outer.zip!a.log", "outer.zip!inner.zip"]
    assert len(source.problems) == 1
    assert source.problems[0].file == "outer.zip!inner.zip"


def test_folder_members_are_relative_and_sorted(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "z.evtx").write_bytes(b"ElfFile\x00")
    (tmp_path / "a.reg").write_text("[HKEY_LOCAL_MACHINE\\x]\n", encoding="utf-8")
    source = open_source(tmp_path)
    assert source.kind == "folder"
    assert [m.name for m in source.members] == ["a.reg", "b/z.evtx"]


@pytest.mark.parametrize(
    ("content", "name", "kind"),
    [
        (b"MSCF\x00\x00\x00\x00", "x.bin", "cab"),
        (b"regf" + bytes(60), "SOFTWARE", "hive"),
        (b"ElfFile\x00", "x", "evtx"),
        ("\ufeffWindows Registry Editor Version 5.00".encode("utf-16-le"), "e.reg", "reg"),
        (b"[HKEY_LOCAL_MACHINE\\SOFTWARE]\r\n", "dump.txt", "reg"),
        (b'\xef\xbb\xbf<![LOG[hello]LOG]!><time="1">', "ime.txt", "log"),
        (b"{}", "x.json", "json"),
        (b"nothing here", "x.bin", None),
    ],
)
def test_sniff_kind(tmp_path: Path, content: bytes, name: str, kind: str | None) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    assert sniff_kind(path) == kind


def test_unsupported_and_missing_inputs(tmp_path: Path) -> None:
    junk = tmp_path / "photo.jpg"
    junk.write_bytes(b"\xff\xd8\xff\xe0 not evidence")
    with pytest.raises(UnsupportedInput, match=r"photo\.jpg"):
        open_source(junk)
    with pytest.raises(UnsupportedInput, match="no such file"):
        open_source(tmp_path / "missing.cab")


def test_messages_stay_on_one_line_whatever_the_member_name() -> None:
    from core.problems import printable
    from core.sources.safety import Limits

    assert printable("a\nb\x00c") == "a\\nb\\x00c"
    with pytest.raises(LimitExceeded) as caught:
        Limits(max_member_bytes=1).check_member("evil\nname", 10, "x.cab")
    assert "\n" not in str(caught.value)

"""Hostile containers, round two: nesting budgets, the cache, concurrency, special
and unreadable files, damaged members."""

from __future__ import annotations

import errno
import io
import json
import multiprocessing
import os
import stat
import threading
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from core.errors import CorruptInput, UnsupportedInput
from core.problems import Problem
from core.sources import container
from core.sources.container import extract_archive, open_source, trim_cache
from core.sources.safety import Limits


def _zip(members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _tree_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


# -- finding 2: one budget across nesting levels, the cache trimmed ---------------------------


def test_nested_archives_share_one_extraction_budget(tmp_path: Path) -> None:
    """Three inner zips, each under the cap alone, together over it: the levels add up."""
    inner = [_zip({f"big{i}.bin": bytes([i]) * 400_000}) for i in range(3)]
    outer = tmp_path / "outer.zip"
    outer.write_bytes(_zip({f"inner{i}.zip": data for i, data in enumerate(inner)}))
    cache = tmp_path / "cache"
    limits = Limits(max_total_bytes=1_000_000, max_ratio=10**6)
    from core.config import Settings

    source = open_source(outer, limits=limits, settings=Settings(cache_dir=cache))
    assert _tree_bytes(cache) <= 1_000_000
    opened = [m.name for m in source.members if m.name.endswith(".bin")]
    assert opened == ["outer.zip!inner0.zip!big0.bin", "outer.zip!inner1.zip!big1.bin"]
    assert [p.file for p in source.problems] == ["outer.zip!inner2.zip"]
    assert "extraction budget" in source.problems[0].message
    # A cache hit counts exactly as much: the third inner zip stays refused.
    again = open_source(outer, limits=limits, settings=Settings(cache_dir=cache))
    assert [p.file for p in again.problems] == ["outer.zip!inner2.zip"]


def _entry(root: Path, name: str, size: int, used: float) -> Path:
    folder = root / name
    folder.mkdir(parents=True)
    (folder / "data.bin").write_bytes(bytes(size))
    marker = folder / ".espview-complete.json"
    marker.write_text("{}", encoding="utf-8")
    os.utime(marker, (used, used))
    return folder


def test_cache_is_trimmed_by_age_and_size(tmp_path: Path) -> None:
    now = 1_000_000_000.0
    day = 24 * 3600
    root = tmp_path / "extract-v2"
    old = _entry(root, "old", 10, now - 40 * day)
    lru = _entry(root, "lru", 600, now - 3 * day)
    recent = _entry(root, "recent", 600, now - 2 * day)
    in_use = _entry(root, "in-use", 600, now - 60)
    kept = _entry(root, "kept", 600, now - 20 * day)
    work = root / ".abc-leftover"
    work.mkdir()
    os.utime(work, (now - 2 * day, now - 2 * day))
    freed = trim_cache(root, keep={"kept"}, max_bytes=2000, now=now)
    assert not old.exists()  # unused for over the age cap
    assert not lru.exists()  # the least recently used while over the size cap
    assert recent.exists()
    assert in_use.exists()
    assert kept.exists()
    assert not work.exists()  # a killed run's work folder
    assert freed == 614  # 10 + 600 bytes of data, 2 + 2 of markers


def test_cache_clear_command(tmp_path: Path) -> None:
    from core import cli

    archive = tmp_path / "a.zip"
    archive.write_bytes(_zip({"x.txt": b"hello"}))
    cache = tmp_path / "cache"
    from core.config import Settings

    folder = extract_archive(archive, "zip", settings=Settings(cache_dir=cache))
    assert folder.is_dir()
    out = io.StringIO()
    env = {"ESPVIEW_CACHE_DIR": str(cache)}
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        assert cli.main(["cache"], out=out) == 0
        assert "1 extraction(s)" in out.getvalue()
        assert cli.main(["cache", "--clear"], out=out) == 0
    assert not folder.exists()
    assert "cleared" in out.getvalue()


# -- finding 5: concurrent extraction ------------------------------------------------------------


def test_a_loser_of_the_publish_race_uses_the_winners_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = tmp_path / "a.zip"
    archive.write_bytes(_zip({"x.txt": b"hello", "y.evtx": b"ElfFile\x00"}))
    cache = tmp_path / "cache"
    real = container.extract_zip
    raced: list[Path] = []

    def slow(path: Path, dest: Path, **kwargs: object) -> list[Path]:
        if not raced:  # another process finishes first, while we are still extracting
            monkeypatch.setattr(container, "extract_zip", real)
            raced.append(extract_archive(archive, "zip", cache_root=cache))
            (raced[0] / "winner-was-here").write_bytes(b"")
        return real(path, dest, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(container, "extract_zip", slow)
    folder = extract_archive(archive, "zip", cache_root=cache)
    assert folder == raced[0]
    assert (folder / "winner-was-here").exists()  # the winner's folder was not replaced
    assert (folder / "y.evtx").read_bytes() == b"ElfFile\x00"
    leftovers = [p.name for p in folder.parent.iterdir()]
    assert leftovers == [folder.name]  # the loser's work folder is gone


def _extract_in_child(archive: str, cache: str, queue: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    folder = extract_archive(Path(archive), "zip", cache_root=Path(cache))
    time.sleep(0.2)  # keep reading while the others publish
    names = sorted(p.name for p in folder.iterdir())
    queue.put((str(folder), names))


def test_concurrent_cold_extractions_all_see_every_file(tmp_path: Path) -> None:
    members = {f"log{i}.evtx": os.urandom(200_000) for i in range(6)}
    archive = tmp_path / "capture.zip"
    archive.write_bytes(_zip(members))
    ctx = multiprocessing.get_context("spawn")
    for round_ in range(2):
        cache = tmp_path / f"cache{round_}"
        queue = ctx.Queue()
        procs = [
            ctx.Process(target=_extract_in_child, args=(str(archive), str(cache), queue))
            for _ in range(3)
        ]
        for proc in procs:
            proc.start()
        results = [queue.get(timeout=60) for _ in procs]
        for proc in procs:
            proc.join(30)
            assert proc.exitcode == 0
        expected = sorted([*members, ".espview-complete.json"])
        assert {folder for folder, _ in results} == {results[0][0]}
        assert all(names == expected for _, names in results)


# -- finding 4 and 10: special and unreadable files ----------------------------------------------


def _run_with_timeout(func: Callable[[], object], seconds: float = 20.0) -> Any:
    """``func()`` in a thread: a hang fails the test instead of hanging the suite."""
    result: list[object] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            result.append(func())
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            errors.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), "reading the evidence hung"
    if errors:
        raise errors[0]
    return result[0]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_fifos_and_devices_in_a_folder_are_skipped(tmp_path: Path) -> None:
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    (evidence / "good.log").write_bytes(b"<![LOG[x]LOG]!>")
    names = ["a.evtx", "b.reg", "c.cab", "d.log", "SOFTWARE", "MdmDiagLogMetadata.json"]
    for name in names:
        os.mkfifo(evidence / name)
    try:
        os.mknod(evidence / "dev.zip", stat.S_IFCHR | 0o600, os.makedev(1, 5))  # /dev/zero
        names.append("dev.zip")
    except (PermissionError, AttributeError):
        pass
    from core.evidence import load_evidence

    source = _run_with_timeout(lambda: open_source(evidence))
    assert [m.name for m in source.members] == ["good.log"]
    problems = {p.file: p.message for p in source.problems}
    assert set(problems) == set(names)
    assert "named pipe" in problems["a.evtx"]
    evidence_read = _run_with_timeout(lambda: load_evidence(evidence))
    assert len(evidence_read.problems) >= len(names)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_a_fifo_given_directly_is_refused_without_opening_it(tmp_path: Path) -> None:
    fifo = tmp_path / "MDMDiagReport.cab"
    os.mkfifo(fifo)
    with pytest.raises(UnsupportedInput, match="named pipe"):
        _run_with_timeout(lambda: open_source(fifo))


def _deny(monkeypatch: pytest.MonkeyPatch, denied: set[str]) -> None:
    """Simulate unreadable files and folders (the tests may run as root, who reads all)."""
    real_open, real_scandir = os.open, os.scandir

    def fake_open(path: object, flags: int, *args: object, **kwargs: object) -> int:
        if os.fspath(path) in denied:  # type: ignore[call-overload]
            raise PermissionError(errno.EACCES, "Permission denied", os.fspath(path))  # type: ignore[call-overload]
        return real_open(path, flags, *args, **kwargs)  # type: ignore[arg-type]

    def fake_scandir(path: object = ".") -> object:
        if os.fspath(path) in denied:  # type: ignore[call-overload]
            raise PermissionError(errno.EACCES, "Permission denied", os.fspath(path))  # type: ignore[call-overload]
        return real_scandir(path)  # type: ignore[call-overload]

    monkeypatch.setattr(os, "open", fake_open)
    monkeypatch.setattr(os, "scandir", fake_scandir)


def test_unreadable_files_and_folders_are_problems(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    evidence = tmp_path / "evidence"
    (evidence / "locked").mkdir(parents=True)
    (evidence / "locked" / "x.reg").write_text("[HKEY_LOCAL_MACHINE\\x]\n", encoding="utf-8")
    (evidence / "secret.evtx").write_bytes(b"ElfFile\x00")
    (evidence / "ok.reg").write_text("[HKEY_LOCAL_MACHINE\\x]\n", encoding="utf-8")
    _deny(monkeypatch, {str(evidence / "locked"), str(evidence / "secret.evtx")})
    source = open_source(evidence)
    assert [m.name for m in source.members] == ["ok.reg"]
    problems = {p.file: p.message for p in source.problems}
    assert problems == {
        "locked": "folder not read: Permission denied",
        "secret.evtx": "cannot read: Permission denied",
    }


def test_an_unreadable_top_level_cab_says_permission_denied(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cab = tmp_path / "MDMDiagReport.cab"
    cab.write_bytes(b"MSCF" + bytes(100))
    _deny(monkeypatch, {str(cab)})
    with pytest.raises(UnsupportedInput, match="cannot read: Permission denied"):
        open_source(cab)


@pytest.mark.skipif(os.name == "nt" or os.geteuid() == 0, reason="root reads everything")
def test_unreadable_for_real(tmp_path: Path) -> None:
    cab = tmp_path / "MDMDiagReport.cab"
    cab.write_bytes(b"MSCF" + bytes(100))
    cab.chmod(0)
    with pytest.raises(UnsupportedInput, match="Permission denied"):
        open_source(cab)


# -- finding 7 and 9: damaged members and clashing paths in a zip ----------------------------------


def _damage_crc(data: bytes, name: bytes) -> bytes:
    buf = bytearray(data)
    at = buf.find(b"PK\x03\x04" + buf[4:4])  # first local header
    while at >= 0:
        name_len = int.from_bytes(buf[at + 26 : at + 28], "little")
        extra = int.from_bytes(buf[at + 28 : at + 30], "little")
        if bytes(buf[at + 30 : at + 30 + name_len]) == name:
            buf[at + 30 + name_len + extra] ^= 0xFF  # first byte of the stored data
            return bytes(buf)
        at = buf.find(b"PK\x03\x04", at + 4)
    raise AssertionError("member not found")


def test_a_crc_damaged_and_an_encrypted_member_cost_only_themselves(tmp_path: Path) -> None:
    data = _zip({"good.reg": b"[HKEY_LOCAL_MACHINE\\x]\r\n", "bad.log": b"A" * 1000,
                 "locked.evtx": b"ElfFile\x00", "z.log": b"<![LOG[x]LOG]!>"},
                zipfile.ZIP_STORED)  # fmt: skip
    data = _damage_crc(data, b"bad.log")
    buf = bytearray(data)
    for magic, flag_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):  # mark one as encrypted
        at = buf.find(magic)
        while at >= 0:
            name_at = at + (30 if magic == b"PK\x03\x04" else 46)
            if bytes(buf[name_at : name_at + 11]) == b"locked.evtx":
                buf[at + flag_at] |= 1
            at = buf.find(magic, at + 4)
    archive = tmp_path / "DiagLogs.zip"
    archive.write_bytes(bytes(buf))
    source = open_source(archive)
    assert [m.name for m in source.members] == ["DiagLogs.zip!good.reg", "DiagLogs.zip!z.log"]
    problems = {p.file: p.message for p in source.problems}
    assert set(problems) == {"DiagLogs.zip!bad.log", "DiagLogs.zip!locked.evtx"}
    assert "CRC" in problems["DiagLogs.zip!bad.log"]
    assert "encrypted" in problems["DiagLogs.zip!locked.evtx"]


@pytest.mark.parametrize("order", [("a", "a/b.reg"), ("a/b.reg", "a")])
def test_a_file_and_a_folder_of_the_same_name(tmp_path: Path, order: tuple[str, str]) -> None:
    archive = tmp_path / "clash.zip"
    archive.write_bytes(_zip({order[0]: b"first", order[1]: b"second", "c.log": b"x"}))
    problems: list[Problem] = []
    folder = extract_archive(archive, "zip", cache_root=tmp_path / "cache", problems=problems)
    assert (folder / "c.log").read_bytes() == b"x"
    assert [p.file for p in problems] == [f"clash.zip!{order[1]}"]
    assert "clashes with another member" in problems[0].message


def test_a_300_byte_name_is_a_clear_refusal(tmp_path: Path) -> None:
    archive = tmp_path / "long.zip"
    archive.write_bytes(_zip({"x" * 300 + ".reg": b"a", "ok.reg": b"b"}))
    with pytest.raises(CorruptInput, match=r"^long\.zip: member name .* 304 bytes"):
        open_source(archive)


def test_marker_records_bytes_members_and_damage(tmp_path: Path) -> None:
    archive = tmp_path / "a.zip"
    archive.write_bytes(_zip({"x.txt": b"hello", "a": b"f", "a/b": b"g"}))
    folder = extract_archive(archive, "zip", cache_root=tmp_path / "cache", problems=[])
    marker = json.loads((folder / ".espview-complete.json").read_text(encoding="utf-8"))
    assert marker["bytes"] == 6
    assert marker["members"] == 2
    assert marker["damaged"][0][0] == "a/b"
    assert stat.S_IMODE((tmp_path / "cache" / "extract-v2").stat().st_mode) == 0o700

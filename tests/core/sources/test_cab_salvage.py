"""Damage inside a cab costs only the members it touches."""

from __future__ import annotations

import os
import resource
import struct
from pathlib import Path

import pytest

from core.errors import CorruptInput
from core.problems import Problem
from core.sources.cab import CabFile, extract_cab
from core.sources.container import open_source
from tests.builders.cab import Folder, build_cab


def _members(count: int, size: int) -> list[tuple[str, bytes]]:
    return [(f"dir{i % 3}\\m{i:02d}.txt", bytes([65 + i % 26]) * size) for i in range(count)]


def test_a_cab_cut_at_95_percent_yields_every_member_it_can(tmp_path: Path) -> None:
    files = _members(29, 3000)
    data = build_cab([Folder(files[:15], "mszip", block_size=4096), Folder(files[15:], "none")])
    cab = tmp_path / "cut.cab"
    cab.write_bytes(data[: len(data) * 95 // 100])
    problems: list[Problem] = []
    written = extract_cab(cab, tmp_path / "out", backend="python", problems=problems)
    assert 20 <= len(written) < 29
    for path in written:  # every member given is whole and byte-exact
        name = path.relative_to(tmp_path / "out").as_posix()
        expected = {n.replace("\\", "/"): d for n, d in files}[name]
        assert path.read_bytes() == expected
    assert len(problems) == 29 - len(written)
    assert all(p.file.startswith("cut.cab!dir") for p in problems)
    assert any("truncated" in p.message or "ends early" in p.message for p in problems)
    # The member files of the lost members are not left half-written.
    on_disk = set((tmp_path / "out").rglob("*.txt"))
    assert on_disk == set(written)


def test_a_cut_cab_through_the_loader_is_a_problem_not_a_failure(tmp_path: Path) -> None:
    data = build_cab([Folder(_members(10, 2000), "none", block_size=2000)])
    cab = tmp_path / "MDMDiagReport.cab"
    cab.write_bytes(data[: len(data) * 95 // 100])
    source = open_source(cab)
    assert len(source.members) == 9
    assert [p.file for p in source.problems] == ["MDMDiagReport.cab!dir0\\m09.txt"]
    again = open_source(cab)  # the cached extraction reports the same damage
    assert again.problems == source.problems


def test_without_a_problem_list_the_damage_still_raises(tmp_path: Path) -> None:
    data = build_cab([Folder(_members(4, 2000), "none", block_size=1000)])
    cab = tmp_path / "cut.cab"
    cab.write_bytes(data[:-500])
    with pytest.raises(CorruptInput, match=r"^cut\.cab: member 'dir0\\\\m03\.txt'"):
        extract_cab(cab, tmp_path / "out", backend="python")
    assert (tmp_path / "out" / "dir0" / "m00.txt").is_file()  # salvaged all the same


def _overlapping_cab(count: int) -> bytes:
    """``count`` members that all span the whole (one) folder: CFFILE offsets set to 0."""
    data = bytearray(build_cab([Folder([(f"o{i:05d}", b"xy") for i in range(count)])]))
    files_at = struct.unpack_from("<I", data, 16)[0]
    pos = files_at
    for _ in range(count):
        struct.pack_into("<II", data, pos, 2 * count, 0)  # size: the whole folder, offset 0
        pos = data.index(b"\x00", pos + 16) + 1
    return bytes(data)


def test_overlapping_members_do_not_exhaust_file_handles(tmp_path: Path) -> None:
    """~20,000 overlapping members with the pure-Python backend ran out of open files (the
    default on Windows); here 1,500 under a soft limit of 256 handles."""
    cab = tmp_path / "overlap.cab"
    cab.write_bytes(_overlapping_cab(1500))
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))
    try:
        written = extract_cab(cab, tmp_path / "out", backend="python")
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    assert len(written) == 1500
    whole = b"xy" * 1500
    assert all(p.read_bytes() == whole for p in written[::97])


def test_member_paths_that_clash_are_problems(tmp_path: Path) -> None:
    cab = tmp_path / "clash.cab"
    cab.write_bytes(build_cab([Folder([("a", b"file"), ("a\\b.reg", b"under a"), ("c", b"ok")])]))
    problems: list[Problem] = []
    written = extract_cab(cab, tmp_path / "out", backend="python", problems=problems)
    assert [p.name for p in written] == ["a", "c"]
    assert [p.file for p in problems] == ["clash.cab!a\\b.reg"]
    assert "clashes with another member" in problems[0].message


@pytest.mark.parametrize("name", ["x" * 300, "d\\" + "é" * 200, "COM\u00b9", "lpt\u00b3.txt"])
def test_names_no_file_system_can_hold_are_refused(tmp_path: Path, name: str) -> None:
    cab = tmp_path / "names.cab"
    cab.write_bytes(build_cab([Folder([("ok.txt", b"fine"), (name, b"x")])]))
    with pytest.raises(CorruptInput, match=r"^names\.cab: member name") as caught:
        extract_cab(cab, tmp_path / "out", backend="python")
    assert "\n" not in str(caught.value)
    with CabFile(cab) as parsed:
        assert len(parsed.members) == 2
    assert not os.path.exists(tmp_path / "out" / "ok.txt")

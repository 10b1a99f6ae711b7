"""Hostile cabs: traversal names, truncation, corrupt data, bombs. One clear error each."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from core.errors import CorruptInput, EspViewError, LimitExceeded
from core.sources.cab import CabFile, extract_cab
from core.sources.safety import Limits
from tests.builders.cab import Folder, build_cab


def _files(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*")}


@pytest.fixture
def box(tmp_path: Path) -> Path:
    """A folder holding the cab and the destination; nothing else may appear in it."""
    (tmp_path / "box").mkdir()
    return tmp_path / "box"


@pytest.mark.parametrize("backend", ["python", "auto"])
@pytest.mark.parametrize(
    "name", ["..\\x", "a\\..\\..\\x", "C:\\x", "/etc/x", "\\\\srv\\share\\x", "NUL", "con.txt"]
)
def test_traversal_names_rejected(box: Path, name: str, backend: str) -> None:
    cab = box / "evil.cab"
    cab.write_bytes(build_cab([Folder([("ok.txt", b"fine"), (name, b"evil")], "mszip")]))
    with pytest.raises(CorruptInput, match=r"^evil\.cab: member name") as info:
        extract_cab(cab, box / "out", backend=backend)
    assert "\n" not in str(info.value)
    assert _files(box) == {"evil.cab"}  # nothing written at all, not even the good member


def _lzx_cab() -> bytes:
    text = b"".join(b"record %06d status ok\r\n" % i for i in range(6000))
    return build_cab(
        [Folder([("first.log", text[:70_000]), ("second.evtx", text[70_000:])], "lzx", 16)]
    )


def test_truncated_everywhere(box: Path) -> None:
    data = _lzx_cab()
    for cut in [*range(0, 200, 7), *range(200, len(data), len(data) // 40)]:
        cab = box / "cut.cab"
        cab.write_bytes(data[:cut])
        with pytest.raises(EspViewError) as info:
            extract_cab(cab, box / "out", backend="python")
        message = str(info.value)
        assert "\n" not in message
        assert message.startswith("cut.cab: ")
        assert {f.split("/")[0] for f in _files(box)} <= {"cut.cab", "out"}
        # Only complete members are left behind.
        assert _files(box / "out") <= {"first.log"} if (box / "out").exists() else True
        if (box / "out" / "first.log").exists():
            assert (box / "out" / "first.log").stat().st_size == 70_000


def test_truncation_names_member_and_offset(box: Path) -> None:
    data = _lzx_cab()
    cab = box / "MDMDiagReport.cab"
    cab.write_bytes(data[: len(data) - 100])
    with pytest.raises(CorruptInput, match=r"member 'second\.evtx': CFDATA block \d+ .*truncated"):
        extract_cab(cab, box / "out", backend="python")
    # The member completed before the damage stays; the cut one is removed.
    assert (box / "out" / "first.log").stat().st_size == 70_000
    assert not (box / "out" / "second.evtx").exists()


def test_corrupt_lzx_block(box: Path) -> None:
    data = bytearray(
        build_cab([Folder([("x.evtx", bytes(range(256)) * 600)], "lzx", 16)], checksums=False)
    )
    with CabFile(_write(box, bytes(data))) as reader:
        start = reader.folders[0].data_offset + 8
    for i in range(start + 2, start + 40):
        data[i] ^= 0xFF
    cab = _write(box, bytes(data))
    with pytest.raises(
        CorruptInput,
        match=r"^t\.cab: member 'x\.evtx': LZX block at folder offset 0x[0-9a-f]+ is corrupt: ",
    ):
        extract_cab(cab, box / "out", backend="python")


def _write(box: Path, data: bytes) -> Path:
    (box / "t.cab").write_bytes(data)
    return box / "t.cab"


def _patch_file_entry(
    data: bytes, index: int, size: int | None = None, offset: int | None = None
) -> bytes:
    out = bytearray(data)
    pos = struct.unpack_from("<I", out, 16)[0]
    for _ in range(index):
        pos = out.index(b"\x00", pos + 16) + 1
    if size is not None:
        struct.pack_into("<I", out, pos, size)
    if offset is not None:
        struct.pack_into("<I", out, pos + 4, offset)
    return bytes(out)


def test_huge_declared_member(box: Path) -> None:
    data = _patch_file_entry(build_cab([Folder([("a", b"x" * 100)], "mszip")]), 0, size=2**32 - 1)
    with pytest.raises(LimitExceeded, match="per-member cap"):
        extract_cab(_write(box, data), box / "out", backend="python")
    assert not (box / "out").exists()


def test_ratio_bomb(box: Path) -> None:
    data = _patch_file_entry(build_cab([Folder([("a", b"x" * 100)], "mszip")]), 0, size=500_000_000)
    with pytest.raises(LimitExceeded, match="compression ratio"):
        extract_cab(_write(box, data), box / "out", backend="python")


def test_far_offset_counts_against_the_total(box: Path) -> None:
    data = _patch_file_entry(build_cab([Folder([("a", b"x" * 100)], "mszip")]), 0, offset=2**31)
    with pytest.raises(LimitExceeded):
        extract_cab(_write(box, data), box / "out", backend="python")


def test_member_count_cap(box: Path) -> None:
    files = [(f"f{i}.txt", b"") for i in range(30)]
    cab = _write(box, build_cab([Folder(files)]))
    with pytest.raises(LimitExceeded, match="30 members"):
        extract_cab(cab, box / "out", backend="python", limits=Limits(max_members=10))
    with pytest.raises(LimitExceeded, match="30 members"), CabFile(cab) as reader:
        reader.extract_all(box / "out", limits=Limits(max_members=10))


def test_declared_count_beyond_table(box: Path) -> None:
    data = bytearray(build_cab([Folder([("a", b"x")])]))
    struct.pack_into("<H", data, 28, 5000)  # cFiles
    with pytest.raises(CorruptInput, match=r"CFFILE entry 1 .*past the end"):
        extract_cab(_write(box, bytes(data)), box / "out", backend="python")


def test_cfdata_pointing_past_eof(box: Path) -> None:
    data = bytearray(build_cab([Folder([("a", b"x" * 5000)], "mszip")]))
    struct.pack_into("<I", data, 36, len(data) + 1000)  # coffCabStart of folder 0
    with pytest.raises(CorruptInput, match=r"member 'a': CFDATA block 0 .*past the end"):
        extract_cab(_write(box, bytes(data)), box / "out", backend="python")


def test_member_beyond_folder_data(box: Path) -> None:
    data = _patch_file_entry(build_cab([Folder([("a", b"x" * 5000)], "mszip")]), 0, size=90_000)
    with pytest.raises(CorruptInput, match="holds 5,000 bytes of data, its members need 90,000"):
        extract_cab(_write(box, data), box / "out", backend="python")


def test_lzx_bad_window_declared(box: Path) -> None:
    data = bytearray(build_cab([Folder([("a", b"x" * 50)], "lzx", 16)]))
    data[36 + 7] = 25  # high byte of typeCompress: window bits
    with pytest.raises(CorruptInput, match="LZX window of 2\\^25"):
        extract_cab(_write(box, bytes(data)), box / "out", backend="python")


def test_mszip_garbage(box: Path) -> None:
    data = bytearray(build_cab([Folder([("a.log", b"hello" * 5000)], "mszip")], checksums=False))
    with CabFile(_write(box, bytes(data))) as reader:
        start = reader.folders[0].data_offset + 8
    data[start + 2 : start + 12] = b"\xff" * 10
    with pytest.raises(
        CorruptInput, match=r"member 'a\.log': MSZIP block at folder offset 0x0 is corrupt"
    ):
        extract_cab(_write(box, bytes(data)), box / "out", backend="python")


def test_member_paths_clash(box: Path) -> None:
    cab = _write(box, build_cab([Folder([("a", b"1"), ("a\\b", b"2")])]))
    with pytest.raises(CorruptInput, match="clashes"):
        extract_cab(cab, box / "out", backend="python")


def test_symlink_in_dest_not_followed(box: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (box / "out").mkdir()
    (box / "out" / "link").symlink_to(outside, target_is_directory=True)
    cab = _write(box, build_cab([Folder([("link\\x.txt", b"1")])]))
    with pytest.raises(CorruptInput, match="outside the destination"):
        extract_cab(cab, box / "out", backend="python")
    assert list(outside.iterdir()) == []

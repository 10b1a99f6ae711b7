"""Zip members whose compressed stream is damaged: a CorruptInput naming the member."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from core.errors import CorruptInput
from core.sources.container import extract_zip


def _zip_with_bad_deflate() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("export.reg", b"Windows Registry Editor Version 5.00\r\n" * 200)
    data = bytearray(buf.getvalue())
    start = 30 + len("export.reg")  # the first local header has no extra field
    data[start] = 0xFF  # deflate block type 3 does not exist: zlib.error, not BadZipFile
    data[start + 1 : start + 8] = b"\xff" * 7
    return bytes(data)


def test_bad_deflate_stream_is_corrupt_input(tmp_path: Path) -> None:
    # Fuzz finding (zip): "zlib.error: invalid distance too far back" escaped as a traceback.
    path = tmp_path / "diag.zip"
    path.write_bytes(_zip_with_bad_deflate())
    with pytest.raises(
        CorruptInput, match=r"member 'export.reg' at offset 0x0 cannot be extracted"
    ):
        extract_zip(path, tmp_path / "out")


def test_member_with_an_empty_name_is_corrupt_input(tmp_path: Path) -> None:
    # Fuzz finding (zip): ZipInfo.is_dir() raised IndexError on an empty member name.
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("a", b"hello")
    data = bytearray(buf.getvalue())
    central = data.rfind(b"PK\x01\x02")
    data[central + 28 : central + 30] = b"\x00\x00"  # central directory: name length 0
    path = tmp_path / "diag.zip"
    path.write_bytes(bytes(data))
    with pytest.raises(CorruptInput):
        extract_zip(path, tmp_path / "out")


def test_zip_needing_an_unsupported_version_is_corrupt_input(tmp_path: Path) -> None:
    # Fuzz finding (zip): zipfile.ZipFile() raised NotImplementedError("zip file version 8.0")
    # for a central directory entry that asks for a newer zip spec than zipfile reads.
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("a.txt", b"hello")
    data = bytearray(buf.getvalue())
    central = data.rfind(b"PK\x01\x02")
    data[central + 6] = 80  # "version needed to extract": 8.0
    path = tmp_path / "diag.zip"
    path.write_bytes(bytes(data))
    with pytest.raises(CorruptInput, match="not a readable zip"):
        extract_zip(path, tmp_path / "out")

"""open_registry sniffing and the format_tree renderer."""

from __future__ import annotations

import io
import lzma
from pathlib import Path

import pytest

from core.errors import UnsupportedInput
from core.registry.open import open_registry, sniff
from core.registry.render import format_tree
from tests.builders.reg import write_dump_reg, write_regedit_reg

KEYS = {
    r"HKLM\SOFTWARE\A": {"x": ("REG_DWORD", 1)},
    r"HKLM\SOFTWARE\A\B": {"s": ("REG_SZ", "text"), "": ("REG_BINARY", b"\x01")},
    r"HKLM\SOFTWARE\A\B\C": {},
}


def test_each_kind_is_sniffed(tmp_path: Path, real_dir: Path) -> None:
    dump = open_registry(write_dump_reg(tmp_path / "whatever.txt", KEYS))
    assert dump.kind == "dump"
    regedit = open_registry(write_regedit_reg(tmp_path / "a.dat", KEYS), display_name="zip!x")
    assert regedit.kind == "regedit"
    assert regedit.key(r"HKLM\SOFTWARE\A").value("x").origin == "zip!x:4"  # type: ignore[union-attr]
    hive_path = tmp_path / "NTUSER.DAT"
    hive_path.write_bytes(
        lzma.decompress((real_dir / "registry-hives/mkorman90-regipy/NTUSER.DAT.xz").read_bytes())
    )
    hive = open_registry(hive_path, mount="HKU\\someone")
    assert hive.kind == "hive"
    assert hive.key(r"HKU\someone\Software") is not None


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (b"regf\x00", "hive"),
        (b"\xef\xbb\xbfWindows Registry Editor Version 5.00\r\n", "regedit"),
        ("\ufeffREGEDIT4\r\n".encode("utf-16-le"), "regedit"),
        (b"\r\n[HKEY_LOCAL_MACHINE\\X]\r\n", "dump"),
        (b"PK\x03\x04", None),
        (b"", None),
    ],
)
def test_sniff(head: bytes, kind: str | None) -> None:
    assert sniff(head) == kind


def test_unsupported_input_says_why(tmp_path: Path) -> None:
    other = tmp_path / "notes.txt"
    other.write_text("hello")
    with pytest.raises(UnsupportedInput, match="not a registry file"):
        open_registry(other)
    empty = tmp_path / "empty.reg"
    empty.write_bytes(b"")
    with pytest.raises(UnsupportedInput, match="empty file"):
        open_registry(empty)
    with pytest.raises(UnsupportedInput, match="cannot read"):
        open_registry(tmp_path / "absent.reg")


def test_format_tree(tmp_path: Path) -> None:
    view = open_registry(write_dump_reg(tmp_path / "d.reg", KEYS))
    out = io.StringIO()
    assert format_tree(view, r"HKEY_LOCAL_MACHINE\SOFTWARE\A", out) == 3
    assert out.getvalue().splitlines() == [
        r"[HKLM\SOFTWARE\A]",
        "    x = REG_DWORD: 0x00000001 (1)",
        "  [B]",
        "      s = REG_SZ: 'text'",
        "      @ = REG_BINARY: 01",
        "    [C]",
    ]
    assert format_tree(view, r"HKLM\SOFTWARE\A", io.StringIO(), max_depth=1) == 2
    assert format_tree(view, r"HKLM\Nope", io.StringIO()) == 0
    assert format_tree(view, None, io.StringIO()) == 5  # HKLM, SOFTWARE, A, B, C

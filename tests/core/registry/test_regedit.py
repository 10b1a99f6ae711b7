"""regedit exports: both headers, escapes, continuation lines, deletions, comments."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from core.registry.regedit import parse_regedit, parse_regedit_text

EXPORT = (
    "Windows Registry Editor Version 5.00\r\n"
    "\r\n"
    "; exported for a test\r\n"
    "[HKEY_LOCAL_MACHINE\\SOFTWARE\\K]\r\n"
    '@="default"\r\n'
    '"Json"="{\\"a\\":\\"C:\\\\x\\\\y\\"}"\r\n'
    '"Odd\\"Name"=dword:0000002a\r\n'
    '"Q"=hex(b):01,00,00,00,00,00,00,00\r\n'
    '"E"=hex(2):25,00,53,00,79,00,73,00,\\\r\n'
    "  74,00,65,00,6d,00,25,00,00,00\r\n"
    '"M"=hex(7):61,00,00,00,\\\r\n'
    "  62,00,00,00,00,00\r\n"
    '"B"=hex:de,ad\r\n'
    '"Gone"=-\r\n'
    "\r\n"
    "[-HKEY_LOCAL_MACHINE\\SOFTWARE\\Removed]\r\n"
    '"Ignored"="x"\r\n'
    "\r\n"
    "[HKEY_CURRENT_USER\\Software\\U]\r\n"
    '"Path"="C:\\\\Users\\\\x\\\\"\r\n'
)


def test_values_and_escapes() -> None:
    view = parse_regedit_text(EXPORT, "export.reg")
    key = view.key(r"HKLM\SOFTWARE\K")
    assert key is not None
    got = {v.name: (v.type, v.data) for v in key.values()}
    assert got == {
        "": ("REG_SZ", "default"),
        "Json": ("REG_SZ", '{"a":"C:\\x\\y"}'),
        'Odd"Name': ("REG_DWORD", 42),
        "Q": ("REG_QWORD", 1),
        "E": ("REG_EXPAND_SZ", "%System%"),
        "M": ("REG_MULTI_SZ", ["a", "b"]),
        "B": ("REG_BINARY", b"\xde\xad"),
    }
    assert key.value("E").origin == "export.reg:9"  # type: ignore[union-attr]
    assert key.origin == "export.reg:4"
    assert view.key(r"HKCU\Software\U").value("Path").data == "C:\\Users\\x\\"  # type: ignore[union-attr]
    assert view.key(r"HKLM\SOFTWARE\Removed") is None
    assert view.kind == "regedit"


def test_deletions_are_noted_not_applied() -> None:
    view = parse_regedit_text(EXPORT, "export.reg")
    assert [(p.where, p.message) for p in view.problems] == [
        ("line 14", "deletion of value 'Gone' ignored"),
        ("line 16", "key deletion ignored (a read-only view deletes nothing)"),
    ]


def test_utf16_bom_file_and_bytes(tmp_path: Path) -> None:
    path = tmp_path / "export.reg"
    path.write_bytes(codecs.BOM_UTF16_LE + EXPORT.encode("utf-16-le"))
    for source in (path, path.read_bytes()):
        view = parse_regedit(source, "export.reg")
        assert view.key(r"HKLM\SOFTWARE\K").value("Q").data == 1  # type: ignore[union-attr]


def test_regedit4_strings_are_ansi(tmp_path: Path) -> None:
    text = '[HKEY_LOCAL_MACHINE\\S]\r\n"E"=hex(2):25,41,e9,00\r\n"S"="caf\xe9"\r\n'
    path = tmp_path / "old.reg"
    path.write_bytes(("REGEDIT4\r\n\r\n" + text).encode("cp1252"))
    view = parse_regedit(path)
    key = view.key(r"HKLM\S")
    assert key is not None
    assert key.value("E").data == "%A\xe9"  # type: ignore[union-attr]
    assert key.value("S").data == "caf\xe9"  # type: ignore[union-attr]
    assert view.problems == []


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('"v"=dword:xyz', "dword data"),
        ('"v"=hex(3):zz', "hex data"),
        ('"v"="unclosed', "no closing quote"),
        ('"v"="a" trailing', "after the closing quote"),
        ('"v"=wibble:1', "unknown type"),
        ('"v"', "not a quoted string followed by '='"),
        ("junk", "not a key header or a value"),
    ],
)
def test_bad_lines_are_problems(line: str, message: str) -> None:
    view = parse_regedit_text(f"REGEDIT4\r\n[HKEY_LOCAL_MACHINE\\S]\r\n{line}\r\n", "x.reg")
    assert len(view.problems) == 1
    assert view.problems[0].where == "line 3"
    assert message in view.problems[0].message


def test_missing_header_is_noted_and_read_anyway() -> None:
    view = parse_regedit_text('[HKEY_LOCAL_MACHINE\\S]\r\n"a"="1"\r\n', "x.reg")
    assert [p.where for p in view.problems] == ["line 1"]
    assert view.key(r"HKLM\S").value("a").data == "1"  # type: ignore[union-attr]

"""The mdmdiagnosticstool dump dialect: the three real dumps, then every edge case by hand."""

from __future__ import annotations

import codecs
import json
from collections import Counter
from pathlib import Path

import pytest

from core.registry.dump import parse_dump, parse_dump_text
from core.registry.memory import MemoryView
from core.registry.model import RegKey

DUMP = "MdmDiagReport_RegistryDump.reg"
TAG_TYPES = {
    "DWORD": "REG_DWORD",
    "QWORD": "REG_QWORD",
    "MULTI_SZ": "REG_MULTI_SZ",
    "hex(3)": "REG_BINARY",
    "hex(2)": "REG_EXPAND_SZ",
    '"': "REG_SZ",
}


def real_dumps(real: Path) -> list[Path]:
    dumps = sorted(real.glob(f"mdmdiag-*/extracted/{DUMP}"))
    assert len(dumps) == 3
    return dumps


def all_keys(view: MemoryView) -> list[RegKey]:
    return [key for root in view.roots() for key in root.walk()]


def file_lines(path: Path) -> list[str]:
    return path.read_bytes().decode("utf-8", errors="replace").split("\r\n")


def long_root(path: str) -> str:
    return path.replace("HKLM", "HKEY_LOCAL_MACHINE", 1)


@pytest.fixture(scope="module")
def parsed(real_dir: Path) -> dict[Path, MemoryView]:
    return {path: parse_dump(path) for path in real_dumps(real_dir)}


@pytest.mark.real
def test_real_dumps_parse_without_problems(parsed: dict[Path, MemoryView]) -> None:
    for path, view in parsed.items():
        assert view.problems == [], path.parent.parent.name
        assert view.kind == "dump"


@pytest.mark.real
def test_real_dump_keys_match_the_header_lines(parsed: dict[Path, MemoryView]) -> None:
    for path, view in parsed.items():
        lines = file_lines(path)
        headers = [line[1:-1] for line in lines if line.startswith("[")]
        # Keys read from a header carry its line as origin; parents that only exist as a
        # prefix of another header have none.
        explicit = [key for key in all_keys(view) if key.origin]
        assert len(explicit) == len(headers)
        assert {long_root(key.path).casefold() for key in explicit} == {
            header.casefold() for header in headers
        }
        for key in explicit:
            line_no = int(key.origin.rsplit(":", 1)[1])
            assert lines[line_no - 1][1:-1].casefold() == long_root(key.path).casefold()


@pytest.mark.real
def test_real_dump_values_match_the_value_lines(parsed: dict[Path, MemoryView]) -> None:
    for path, view in parsed.items():
        lines = file_lines(path)
        value_lines = [line for line in lines if line.startswith(('    "', "    @="))]
        tags: Counter[str] = Counter()
        for line in value_lines:
            rest = line[line.index("=") + 1 :] if line.startswith("    @=") else line
            if line.startswith('    "'):
                rest = line[line.index('"=', 5) + 2 :]
            tags[TAG_TYPES['"'] if rest.startswith('"') else TAG_TYPES[rest.split(":")[0]]] += 1
        values = [value for key in all_keys(view) for value in key.values()]
        assert len(values) == len(value_lines)
        assert Counter(value.type for value in values) == tags
        for value in values:
            line = lines[int(value.origin.rsplit(":", 1)[1]) - 1]
            start = "    @=" if value.name == "" else f'    "{value.name}"='
            assert line.startswith(start)


@pytest.mark.real
def test_real_dump_typed_data(parsed: dict[Path, MemoryView]) -> None:
    for view in parsed.values():
        for key in all_keys(view):
            for value in key.values():
                if value.type == "REG_DWORD":
                    assert isinstance(value.data, int)
                    assert 0 <= value.data <= 0xFFFFFFFF
                elif value.type == "REG_QWORD":
                    assert isinstance(value.data, int)
                    assert 0 <= value.data < 2**64
                elif value.type == "REG_MULTI_SZ":
                    assert isinstance(value.data, list)
                    assert all(value.data)
                elif value.type in ("REG_SZ", "REG_EXPAND_SZ"):
                    assert isinstance(value.data, str)
                    assert "\x00" not in value.data
                else:
                    assert isinstance(value.data, bytes)


@pytest.mark.real
def test_category_status_json_is_the_exact_raw_text(parsed: dict[Path, MemoryView]) -> None:
    checked = 0
    for path, view in parsed.items():
        lines = file_lines(path)
        settings = None
        for index, line in enumerate(lines):
            if line.startswith("["):
                settings = line if line.casefold().endswith("\\autopilotsettings]") else None
            elif settings and 'Category.Status"=' in line:
                name = line[5 : line.index('"=', 5)]
                equals = line.index('"=', 5) + 1
                raw = line[line.index('"', equals) + 1 : line.rindex('"')]
                value = view.key(settings[1:-1]).value(name)  # type: ignore[union-attr]
                assert value is not None
                assert value.data == raw
                assert value.origin == f"{DUMP}:{index + 1}"
                assert isinstance(json.loads(raw), dict)
                checked += 1
    assert checked >= 1


@pytest.mark.real
def test_real_multi_line_strings_are_joined_exactly(parsed: dict[Path, MemoryView]) -> None:
    joined = 0
    for path, view in parsed.items():
        lines = file_lines(path)
        for key in all_keys(view):
            for value in key.values():
                if not isinstance(value.data, str) or "\r\n" not in value.data:
                    continue
                first = int(value.origin.rsplit(":", 1)[1]) - 1
                span = lines[first : first + value.data.count("\r\n") + 1]
                text = "\r\n".join(span)
                start = text.index('"=', 5) + 3
                assert value.data == text[start : text.rindex('"')]
                joined += 1
    assert joined >= 1  # one of the real dumps holds XML policies over several lines


# -- the dialect, by hand ------------------------------------------------------------------


def one(text: str, key: str = r"HKLM\S\K") -> tuple[MemoryView, RegKey]:
    view = parse_dump_text(text, "t.reg")
    found = view.key(key)
    assert found is not None
    return view, found


def test_string_data_runs_to_the_last_quote_unescaped() -> None:
    data = r'{"a":"C:\Program Files\x","b":"say \"hi\"","c":{"d":1}}'
    _, key = one(f'[HKEY_LOCAL_MACHINE\\S\\K]\r\n    "X.Status"="{data}"\r\n')
    assert key.value("x.status").data == data  # type: ignore[union-attr]


def test_names_may_hold_equals_and_default_value_is_at() -> None:
    _, key = one('[HKEY_LOCAL_MACHINE\\S\\K]\r\n    "a=b"="1"\r\n    @="dflt"\r\n')
    assert [(v.name, v.data) for v in key.values()] == [("a=b", "1"), ("", "dflt")]


def test_type_tags() -> None:
    text = (
        "[HKEY_LOCAL_MACHINE\\S\\K]\r\n"
        '    "d"=DWORD:0000000a\r\n'
        '    "q"=QWORD:3636e70\r\n'
        '    "m"=MULTI_SZ:"one","two"\r\n'
        '    "m1"=MULTI_SZ:"solo"\r\n'
        '    "m0"=MULTI_SZ:\r\n'
        '    "b"=hex(3):01,ff\r\n'
        '    "e"=hex(2):25,00,41,00,25,00,00,00\r\n'
        '    "q2"=hex(b):01,00,00,00,00,00,00,00\r\n'
        '    "d2"=hex(4):02,00,00,00\r\n'
        '    "be"=hex(5):00,00,00,03\r\n'
        '    "ms"=hex(7):61,00,00,00,62,00,00,00,00,00\r\n'
        '    "n"=hex(0):\r\n'
        '    "s"=""\r\n'
    )
    view, key = one(text)
    assert view.problems == []
    got = {v.name: (v.type, v.data) for v in key.values()}
    assert got == {
        "d": ("REG_DWORD", 10),
        "q": ("REG_QWORD", 0x3636E70),
        "m": ("REG_MULTI_SZ", ["one", "two"]),
        "m1": ("REG_MULTI_SZ", ["solo"]),
        "m0": ("REG_MULTI_SZ", []),
        "b": ("REG_BINARY", b"\x01\xff"),
        "e": ("REG_EXPAND_SZ", "%A%"),
        "q2": ("REG_QWORD", 1),
        "d2": ("REG_DWORD", 2),
        "be": ("REG_DWORD_BIG_ENDIAN", 3),
        "ms": ("REG_MULTI_SZ", ["a", "b"]),
        "n": ("REG_NONE", b""),
        "s": ("REG_SZ", ""),
    }


def test_multi_line_string_keeps_line_breaks_and_blank_lines() -> None:
    text = (
        "[HKEY_LOCAL_MACHINE\\S\\K]\r\n"
        '    "x"="<a b="1">\r\n'
        "\r\n"
        '    <c d="2"/>\r\n'
        '</a>"\r\n'
        '    "y"=DWORD:00000001\r\n'
    )
    view, key = one(text)
    assert view.problems == []
    assert key.value("x").data == '<a b="1">\r\n\r\n    <c d="2"/>\r\n</a>'  # type: ignore[union-attr]
    assert key.value("y").origin == "t.reg:6"  # type: ignore[union-attr]


def test_mangled_characters_are_kept() -> None:
    raw = b'[HKEY_LOCAL_MACHINE\\S\\K]\r\n    "v"="??\x05?\xb0?"\r\n'
    view = parse_dump(raw, "t.reg")
    assert view.problems == []
    assert view.key(r"HKLM\S\K").value("v").data == "??\x05?\ufffd?"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('    "v"=DWORD:zz', "DWORD data"),
        ('    "v"=DWORD:1ffffffff', "DWORD data"),
        ('    "v"=QWORD:', "QWORD data"),
        ('    "v"=hex(3):0g,11', "hex data"),
        ('    "v"=WIBBLE:1', "unknown type tag"),
        ('    "v"=hex(b):01', "needs 8 bytes"),
        ('    "v"=MULTI_SZ:abc', "MULTI_SZ data"),
        ('    "v"=12', "neither"),
    ],
)
def test_unreadable_data_is_kept_as_text_and_reported(line: str, message: str) -> None:
    view, key = one(f"[HKEY_LOCAL_MACHINE\\S\\K]\r\n{line}\r\n")
    value = key.value("v")
    assert value is not None
    assert value.type == "REG_SZ"
    assert value.data == line.split("=", 1)[1]
    assert len(view.problems) == 1
    assert view.problems[0].file == "t.reg"
    assert view.problems[0].where == "line 2"
    assert message in view.problems[0].message


def test_bad_lines_are_problems_with_line_numbers() -> None:
    text = (
        '    "orphan"="1"\r\n'
        "[HKEY_LOCAL_MACHINE\\S\\K]\r\n"
        "garbage here\r\n"
        '    "novalue\r\n'
        '    "open"="never closed\r\n'
        "[NOT_A_ROOT\\X]\r\n"
        "[HKEY_LOCAL_MACHINE\\S\\L\r\n"
        '    "fine"=DWORD:00000001\r\n'
    )
    view = parse_dump_text(text, "t.reg")
    where = [(p.where, p.message.split(";")[0]) for p in view.problems]
    assert [w for w, _ in where] == ["line 1", "line 3", "line 4", "line 5", "line 6", "line 7"]
    assert view.key(r"HKLM\S\K").value("open").data == "never closed"  # type: ignore[union-attr]
    assert view.key(r"HKLM\S\L").value("fine").data == 1  # type: ignore[union-attr]


def test_key_names_may_hold_slashes() -> None:
    text = '[HKEY_LOCAL_MACHINE\\S\\Nodes\\./Device/Vendor/MSFT/Policy]\r\n    "a"="1"\r\n'
    view = parse_dump_text(text, "t.reg")
    nodes = view.key(r"HKLM\S\Nodes")
    assert nodes is not None
    assert [key.name for key in nodes.subkeys()] == ["./Device/Vendor/MSFT/Policy"]


def test_key_lookup_with_slash_in_name() -> None:
    text = "[HKEY_LOCAL_MACHINE\\S\\Nodes\\./Device/Vendor]\r\n"
    assert parse_dump_text(text).key(r"HKLM\S\Nodes\./Device/Vendor") is not None


def test_input_forms(tmp_path: Path) -> None:
    text = '[HKEY_LOCAL_MACHINE\\S\\K]\r\n    "a"="\u00e9"\r\n'
    for name, data in [
        ("utf8.reg", text.encode()),
        ("bom.reg", codecs.BOM_UTF8 + text.encode()),
        ("utf16.reg", codecs.BOM_UTF16_LE + text.encode("utf-16-le")),
        ("lf.reg", text.replace("\r\n", "\n").encode()),
    ]:
        path = tmp_path / name
        path.write_bytes(data)
        for source in (path, data):
            view = parse_dump(source, None if isinstance(source, Path) else name)
            value = view.key(r"HKLM\S\K").value("a")  # type: ignore[union-attr]
            assert value is not None, name
            assert value.data == "\u00e9", name
            assert value.origin == f"{name}:2"


def test_empty_and_missing_input(tmp_path: Path) -> None:
    assert parse_dump(b"").roots() == []
    from core.errors import UnsupportedInput

    with pytest.raises(UnsupportedInput):
        parse_dump(tmp_path / "absent.reg")


def test_problems_are_reported_while_parsing_not_when_a_value_is_read() -> None:
    # Values become RegValues when their key is first read; damage must still be in the
    # problem list right after parsing (load_evidence copies it before analysis reads keys).
    text = (
        "[HKEY_LOCAL_MACHINE\\S\\K]\r\n"
        '    "d"=DWORD:zz\r\n'
        '    "b"=hex(4):01\r\n'
        '    "h"=hex(3):0g,01\r\n'
        '    "ok"=hex(3):0a,01\r\n'
        '    "s"="open\r\n'
        "[HKEY_LOCAL_MACHINE\\S\\L]\r\n"
    )
    view = parse_dump_text(text, "t.reg")
    assert [p.where for p in view.problems] == ["line 2", "line 3", "line 4", "line 6"]
    key = view.key(r"HKLM\S\K")
    assert key is not None
    assert [(v.name, v.type, v.data) for v in key.values()] == [
        ("d", "REG_SZ", "DWORD:zz"), ("b", "REG_SZ", "hex(4):01"), ("h", "REG_SZ", "hex(3):0g,01"),
        ("ok", "REG_BINARY", b"\n\x01"), ("s", "REG_SZ", "open"),
    ]
    assert len(view.problems) == 4


def test_a_key_written_twice_gathers_its_values_and_the_last_of_a_name_wins() -> None:
    text = (
        "[HKEY_LOCAL_MACHINE\\S\\K]\r\n"
        '    "a"="1"\r\n'
        '    "b"=DWORD:00000002\r\n'
        "\r\n"
        "[HKEY_LOCAL_MACHINE\\S\\K\\Sub]\r\n"
        "[hkey_local_machine\\s\\k]\r\n"
        '    "A"="3"\r\n'
        '    "c"=hex(3):ff\r\n'
    )
    view, key = one(text)
    assert view.problems == []
    assert [(v.name, v.data, v.origin) for v in key.values()] == [
        ("A", "3", "t.reg:7"), ("b", 2, "t.reg:3"), ("c", b"\xff", "t.reg:8"),
    ]
    assert key.origin == "t.reg:6"
    assert [sub.name for sub in key.subkeys()] == ["Sub"]

"""Builders → parsers → the same data, for both text formats (tests/builders/reg.py)."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from core.registry.dump import parse_dump
from core.registry.memory import MemoryView
from core.registry.model import RegKey, ValueData
from core.registry.regedit import parse_regedit
from tests.builders.reg import Keys, dump_reg_text, write_dump_reg, write_regedit_reg

SCENARIO: Keys = {
    r"HKLM\SOFTWARE\Microsoft\Provisioning\AutopilotSettings": {
        "DevicePreparationCategory.Status": (
            "REG_SZ",
            r'{"categoryState":"succeeded","x":"C:\Windows\\ \"q\""}',
        ),
        "": ("REG_SZ", "default"),
    },
    r"HKLM\SOFTWARE\Microsoft\Enrollments\X\FirstSync": {
        "SkipUserStatusPage": ("REG_DWORD", 0xFFFFFFFF),
        "Big": ("REG_QWORD", 2**63 + 5),
        "List": ("REG_MULTI_SZ", ["a", "b c", "d\\e"]),
        "Expand": ("REG_EXPAND_SZ", "%ProgramData%\\Microsoft"),
        "Bin": ("REG_BINARY", bytes(range(256))),
        "None": ("REG_NONE", b""),
    },
    r"HKU\S-1-5-21-0\Software\Nodes\./Device/Vendor": {},
}


def lookup(view: MemoryView, path: str) -> RegKey | None:
    """Walk by backslash only (key names may hold '/')."""
    parts = path.split("\\")
    node: RegKey | None = view.key(parts[0])
    for part in parts[1:]:
        node = node.subkey(part) if node is not None else None
    return node


def assert_same(view: MemoryView, keys: Keys) -> None:
    assert view.problems == []
    for path, values in keys.items():
        key = lookup(view, path)
        assert key is not None, path
        assert {v.name: (v.type, v.data) for v in key.values()} == dict(values)


def test_scenario_round_trips_through_all_writers(tmp_path: Path) -> None:
    assert_same(parse_dump(write_dump_reg(tmp_path / "d.reg", SCENARIO)), SCENARIO)
    assert_same(parse_regedit(write_regedit_reg(tmp_path / "r16.reg", SCENARIO)), SCENARIO)
    utf8 = write_regedit_reg(tmp_path / "r8.reg", SCENARIO, utf16=False)
    assert_same(parse_regedit(utf8), SCENARIO)


def test_dump_text_writes_json_unescaped() -> None:
    text = dump_reg_text(SCENARIO)
    assert r'"DevicePreparationCategory.Status"="{"categoryState":"succeeded"' in text
    assert text.startswith("[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Provisioning")


# Text that both formats can carry: no NUL (strings end there), no line breaks, no lone
# surrogates (not encodable).
_TEXT = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\r\n"), max_size=40
)
_NAME = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=12)
_VALUE: st.SearchStrategy[tuple[str, ValueData]] = st.one_of(
    st.tuples(st.just("REG_SZ"), _TEXT),
    st.tuples(st.just("REG_EXPAND_SZ"), _TEXT),
    st.tuples(st.just("REG_DWORD"), st.integers(0, 2**32 - 1)),
    st.tuples(st.just("REG_QWORD"), st.integers(0, 2**64 - 1)),
    st.tuples(st.just("REG_BINARY"), st.binary(max_size=64)),
    st.tuples(
        st.just("REG_MULTI_SZ"),
        st.lists(_TEXT.filter(lambda s: s != "" and '"' not in s), max_size=4),
    ),
)


@st.composite
def key_sets(draw: st.DrawFn) -> dict[str, dict[str, tuple[str, ValueData]]]:
    keys: dict[str, dict[str, tuple[str, ValueData]]] = {}
    for index in range(draw(st.integers(1, 3))):
        names = draw(
            st.lists(
                _NAME.filter(lambda n: '"=' not in n and not n.endswith('"')),
                max_size=5,
                unique_by=str.casefold,
            )
        )
        keys[f"HKLM\\SOFTWARE\\K{index}"] = {name: draw(_VALUE) for name in names}
    return keys


@settings(max_examples=60, deadline=None)
@given(keys=key_sets())
def test_random_data_round_trips(keys: Keys) -> None:
    assert_same(parse_dump(dump_reg_text(keys).encode("utf-8")), keys)
    from tests.builders.reg import regedit_reg_text

    text = regedit_reg_text(keys)
    assert_same(parse_regedit(b"\xff\xfe" + text.encode("utf-16-le")), keys)

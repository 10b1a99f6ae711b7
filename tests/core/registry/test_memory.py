"""The in-memory registry the text parsers build: value order, replacement, deferred values."""

from __future__ import annotations

from core.registry.memory import MemoryKey, MemoryView
from core.registry.model import RegValue


def test_a_later_value_of_the_same_name_replaces_the_earlier_in_its_place() -> None:
    key = MemoryKey(r"HKLM\S")
    key.add_value(RegValue("A", "REG_SZ", "1", "f:1"))
    key.add_value(RegValue("b", "REG_SZ", "2", "f:2"))
    key.add_value(RegValue("a", "REG_DWORD", 3, "f:3"))
    assert [(v.name, v.data, v.origin) for v in key.values()] == [
        ("a", 3, "f:3"), ("b", "2", "f:2"),
    ]
    assert key.value("A") == RegValue("a", "REG_DWORD", 3, "f:3")


def test_pending_values_read_as_values_with_file_and_line_origins() -> None:
    key = MemoryKey(r"HKLM\S")
    key.add_value(RegValue("first", "REG_SZ", "x", "f:1"))
    pending = key.pending()
    pending.append(("Two", "REG_DWORD", 2, "dump.reg", 7))
    pending.append(("FIRST", "REG_SZ", "y", "dump.reg", 9))
    assert key.value("two") == RegValue("Two", "REG_DWORD", 2, "dump.reg:7")
    assert key.values() == [
        RegValue("FIRST", "REG_SZ", "y", "dump.reg:9"),
        RegValue("Two", "REG_DWORD", 2, "dump.reg:7"),
    ]
    # Read once, made once: later reads see the same objects.
    assert key.values()[1] is key.value("TWO")


def test_a_value_added_after_pending_ones_comes_after_them() -> None:
    key = MemoryKey(r"HKLM\S")
    key.pending().append(("p", "REG_SZ", "1", "d.reg", 2))
    key.add_value(RegValue("q", "REG_SZ", "2", "memory"))
    key.pending().append(("r", "REG_SZ", "3", "d.reg", 4))
    assert [(v.name, v.origin) for v in key.values()] == [
        ("p", "d.reg:2"), ("q", "memory"), ("r", "d.reg:4"),
    ]


def test_a_key_without_values() -> None:
    view = MemoryView.from_dict({r"HKLM\S\K": {}})
    key = view.key(r"hklm\s\k")
    assert key is not None
    assert key.values() == []
    assert key.value("") is None

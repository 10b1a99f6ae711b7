"""The in-memory registry the text parsers build: value order, replacement, deferred values."""

from __future__ import annotations

import gc
from collections.abc import Callable

from core.registry.dump import parse_dump_text
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


def _reader(file: str) -> Callable[[int], RegValue]:
    def read(line: int) -> RegValue:
        return RegValue(f"V{line}", "REG_DWORD", line, f"{file}:{line}")

    return read


def test_pending_values_are_made_when_the_key_is_read() -> None:
    key = MemoryKey(r"HKLM\S")
    key.add_value(RegValue("v9", "REG_SZ", "x", "f:1"))
    made: list[int] = []
    read = _reader("dump.reg")

    def counting(line: int) -> RegValue:
        made.append(line)
        return read(line)

    pending = key.pending(counting)
    pending.append(7)
    pending.append(RegValue("Other", "REG_SZ", "y", "dump.reg:8"))
    pending.append(9)
    assert made == []
    assert key.value("v7") == RegValue("V7", "REG_DWORD", 7, "dump.reg:7")
    # V9 replaces the earlier v9 in its place; the rest follow in source order.
    assert key.values() == [
        RegValue("V9", "REG_DWORD", 9, "dump.reg:9"),
        RegValue("V7", "REG_DWORD", 7, "dump.reg:7"),
        RegValue("Other", "REG_SZ", "y", "dump.reg:8"),
    ]
    # Read once, made once: later reads see the same objects.
    assert made == [7, 9]
    assert key.values()[1] is key.value("V7")


def test_a_value_added_after_pending_ones_comes_after_them() -> None:
    key = MemoryKey(r"HKLM\S")
    read = _reader("d.reg")
    key.pending(read).append(2)
    key.add_value(RegValue("q", "REG_SZ", "2", "memory"))
    key.pending(read).append(4)
    key.pending(_reader("other.reg")).append(5)
    assert [(v.name, v.origin) for v in key.values()] == [
        ("V2", "d.reg:2"), ("q", "memory"), ("V4", "d.reg:4"), ("V5", "other.reg:5"),
    ]


def test_a_key_without_values() -> None:
    view = MemoryView.from_dict({r"HKLM\S\K": {}})
    key = view.key(r"hklm\s\k")
    assert key is not None
    assert key.values() == []
    assert key.value("") is None


def test_a_subkey_path_is_its_parents_path_and_its_name_as_created() -> None:
    view = MemoryView()
    deep = view.ensure_key(r"HKLM\Software\A\B")
    sibling = view.ensure_key(r"hklm\software\a\C")
    assert deep.path == r"HKLM\Software\A\B"
    assert sibling.path == r"HKLM\Software\A\C"  # the parents keep their first spelling
    assert (deep.name, sibling.name) == ("B", "C")
    assert [key.path for key in view.roots()[0].walk()] == [
        "HKLM", r"HKLM\Software", r"HKLM\Software\A", r"HKLM\Software\A\B",
        r"HKLM\Software\A\C",
    ]
    key = MemoryKey("x", "f:1", parent=MemoryKey(r"HKLM\S"))
    assert (key.path, key.name, key.origin) == (r"HKLM\S\x", "x", "f:1")
    nested = view.ensure_key("HKLM\\" + "\\".join(f"k{n}" for n in range(1500)))
    assert nested.path.count("\\") == 1500  # deeper than any recursion limit allows


def test_a_parsed_tree_is_freed_without_the_cyclic_collector() -> None:
    # Keys hold no reference to their parent: a capture's registry goes when its last
    # reference goes. (A batch worker's memory grew with every capture when it did not.)
    text = "\n".join(
        [f"[HKEY_LOCAL_MACHINE\\SOFTWARE\\K{n}\\Sub]\n\"V\"=dword:0000000{n}\n" for n in range(5)]
    )
    enabled = gc.isenabled()
    gc.disable()
    try:
        gc.collect()
        view = parse_dump_text(text)
        key = view.key(r"HKLM\SOFTWARE\K3\Sub")
        assert key is not None
        assert key.path.endswith(r"\K3\Sub")
        assert [v.data for v in key.values()] == [3]
        del view, key
        assert gc.collect() == 0
    finally:
        if enabled:
            gc.enable()

"""Value helpers: every form a setting arrives in, and ``None`` when the data does not fit."""

from __future__ import annotations

from datetime import UTC, datetime

from core.registry.memory import MemoryView
from core.registry.values import as_flag, as_int, filetime, str_of, value_of


def test_as_int_forms() -> None:
    assert as_int(5) == 5
    assert as_int(" 0x1F ") == 31
    assert as_int("-3") == -3
    assert as_int(True) == 1
    assert as_int("abc") is None
    assert as_int(b"\x01") is None


def test_as_flag_csp_bools() -> None:
    assert as_flag(0xFFFFFFFF) is True
    assert as_flag(0) is False
    assert as_flag("TRUE") is True
    assert as_flag("false") is False
    assert as_flag(None) is None


def test_value_and_string_of_a_key() -> None:
    view = MemoryView.from_dict(
        {r"HKLM\SOFTWARE\X": {"Name": ("REG_SZ", "  a  "), "Empty": ("REG_SZ", " ")}}
    )
    key = view.key(r"HKLM\SOFTWARE\X")
    assert str_of(key, "Name") == "a"
    assert str_of(key, "Empty") is None
    assert value_of(key, "Missing") is None
    assert value_of(None, "Name") is None


def test_filetime_bytes_and_ticks() -> None:
    moment = filetime(bytes.fromhex("0080d5b3e4a3da01"))
    assert moment is not None
    assert moment.year == 2024
    unix = 1_655_526_400
    # 11,644,473,600 s separate 1601-01-01 from 1970-01-01.
    assert filetime((unix + 11_644_473_600) * 10_000_000 + 7) == datetime.fromtimestamp(unix, UTC)
    assert filetime(0) is None
    assert filetime(b"\x00" * 4) is None
    assert filetime(0x7FFFFFFFFFFFFFFF) is None

"""Reading one value's data as the type an analysis wants: the only home of these helpers.

Registry data arrives typed by :mod:`core.registry.decode`, but the same setting is a DWORD in
one capture, a decimal or ``0x`` string in another and a CSP bool (0 / 1 / 0xFFFFFFFF or
``"true"``) in a third; these helpers accept every form and answer ``None`` when the data does
not fit, never raise.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.registry.model import RegKey, RegValue, ValueData

_FILETIME_EPOCH = datetime(1601, 1, 1, tzinfo=UTC)
_FILETIME_MAX = 0x7FFFFFFFFFFFFFFF


def value_of(key: RegKey | None, name: str) -> ValueData:
    """The data of value ``name`` of ``key``; ``None`` when the key or value is absent."""
    if key is None:
        return None
    found: RegValue | None = key.value(name)
    return None if found is None else found.data


def as_int(data: ValueData) -> int | None:
    """A DWORD / QWORD, or a decimal or ``0x`` string, as an int."""
    if isinstance(data, bool):
        return int(data)
    if isinstance(data, int):
        return data
    if isinstance(data, str):
        text = data.strip()
        try:
            return int(text, 16) if text.lower().startswith("0x") else int(text)
        except ValueError:
            return None
    return None


def as_flag(data: ValueData) -> bool | None:
    """CSP bools: 0 / 1 / 0xFFFFFFFF, or ``"true"`` / ``"false"``."""
    if isinstance(data, str) and data.strip().lower() in ("true", "false"):
        return data.strip().lower() == "true"
    number = as_int(data)
    return None if number is None else number != 0


def str_of(key: RegKey | None, name: str) -> str | None:
    """A string value, stripped; ``None`` when absent, empty or not a string."""
    data = value_of(key, name)
    if isinstance(data, str):
        stripped = data.strip()
        return stripped or None
    return None


def filetime(data: ValueData) -> datetime | None:
    """A FILETIME (100-ns ticks since 1601) as UTC: 8 little-endian bytes (``hex(3):``), a
    QWORD or a tick count; ``None`` for zero, absurd or other data."""
    if isinstance(data, bytes) and len(data) == 8:
        ticks = int.from_bytes(data, "little")
    elif isinstance(data, int) and not isinstance(data, bool):
        ticks = data
    else:
        return None
    if not 0 < ticks < _FILETIME_MAX:
        return None
    try:
        return _FILETIME_EPOCH + timedelta(microseconds=ticks // 10)
    except OverflowError:
        return None

"""HRESULTs in ESP evidence: find failure codes in status texts and event data.

What a code *means* (name, facility, cause, first step) is :mod:`core.codes`, the one home for
code knowledge; this module only picks failure codes out of texts and numbers for the analysis.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.codes import parse_code

_HEX = re.compile(r"0x([0-9A-Fa-f]{8})\b")


def fmt(code: int) -> str:
    """``0x%08X`` of the unsigned 32-bit value."""
    return f"0x{code & 0xFFFFFFFF:08X}"


def find_hresult(text: str | None) -> int | None:
    """The first failure HRESULT written as ``0x????????`` in ``text`` (``"Apps (0x87d1041c)"``,
    ``"(Failed: 0x800705b4)"``, ``"(Failed: 3, 0x801C03EA)"``); success codes are ignored."""
    if not text:
        return None
    for match in _HEX.finditer(text):
        code = int(match.group(1), 16)
        if code & 0x80000000:
            return code
    return None


def from_number(value: str | int | None) -> int | None:
    """A failure HRESULT from a decimal (signed or unsigned) or hex number, else ``None``.

    IME writes ``ErrorCode`` as a signed int (-2016345060), Shell-Core writes ``errorCode`` as
    unsigned decimal (2147943860); both mean the same 32 bits.
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        code: int | None = value & 0xFFFFFFFF
    else:
        text = value.strip()
        found = find_hresult(text)
        if found is not None:
            return found
        code = parse_code(text) if text.removeprefix("-").isdigit() else None
    return code if code is not None and code & 0x80000000 else None


@dataclass(frozen=True, slots=True)
class Decoded:
    """An HRESULT split into its fields."""

    code: int
    failure: bool
    customer: bool
    facility: int
    number: int

    @property
    def win32(self) -> int | None:
        """The Win32 error inside a ``FACILITY_WIN32`` HRESULT (0x8007xxxx)."""
        return self.number if self.facility == 7 and not self.customer else None


def decode(code: int) -> Decoded:
    code &= 0xFFFFFFFF
    return Decoded(
        code=code,
        failure=bool(code & 0x80000000),
        customer=bool(code & 0x20000000),
        facility=(code >> 16) & 0x7FF,
        number=code & 0xFFFF,
    )

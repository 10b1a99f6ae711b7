"""What a code found in event data or a registry value means, in a few words.

The one place that turns a raw HRESULT-like value into words for display: the knowledge
base's entry when it has one, else the facility and Win32 error the code's bits name.
"""

from __future__ import annotations

from core.esp.hresult import decode, fmt, from_number
from core.esp.knowledge import load


def describe_code(value: object, step_id: str | None = None) -> str | None:
    """``"0x87D1041C: <title>"`` for a failure code in ``value`` (hex, signed or unsigned
    decimal), or None when ``value`` holds no failure code."""
    if not isinstance(value, (str, int)) or isinstance(value, bool):
        return None
    code = from_number(value)
    if code is None:
        return None
    knowledge = load()
    entry = knowledge.error(code, step_id)
    if entry is not None:
        return f"{fmt(code)}: {entry.title}"
    decoded = decode(code)
    facility = knowledge.facilities.get(decoded.facility)
    parts = [fmt(code)]
    if facility:
        parts.append(f"facility {facility}")
    if decoded.win32 is not None:
        parts.append(f"Win32 error {decoded.win32}")
    return ", ".join(parts) if len(parts) > 1 else None

"""Plain-text key trees for ``espview registry PATH [KEY]`` and for debugging."""

from __future__ import annotations

from typing import TextIO

from core.problems import printable
from core.registry.model import RegistryView, RegKey, RegValue

#: Longer string/binary data is cut in the tree (the GUI shows it whole).
MAX_DATA_CHARS = 200


def format_data(value: RegValue) -> str:
    """One-line display of a value's data."""
    data = value.data
    if data is None:
        return "(no data)"
    if isinstance(data, bool):  # bool is an int; never produced, but never shown as 0x1
        text = str(data)
    elif isinstance(data, int):
        text = f"0x{data:08x} ({data})"
    elif isinstance(data, bytes):
        text = data.hex(",")
    elif isinstance(data, list):
        text = " | ".join(repr(item) for item in data)
    else:
        text = repr(data)
    if len(text) > MAX_DATA_CHARS:
        text = f"{text[:MAX_DATA_CHARS]}… ({len(text)} chars)"
    return text


def _stamp(key: RegKey) -> str:
    written = key.last_write
    return f"  [last write {written.strftime('%Y-%m-%dT%H:%M:%SZ')}]" if written else ""


def format_tree(
    view: RegistryView, key_path: str | None, out: TextIO, max_depth: int | None = None
) -> int:
    """Print the tree under ``key_path`` (every root if ``None``) with values, type, data and
    last write where known. ``max_depth`` limits the levels below the start (0: the key
    only). Returns the number of keys printed: 0 when ``key_path`` does not exist."""
    if key_path:
        start = view.key(key_path)
        starts = [] if start is None else [start]
    else:
        starts = view.roots()
    printed = 0
    for top in starts:
        stack: list[tuple[RegKey, int]] = [(top, 0)]
        while stack:
            key, depth = stack.pop()
            indent = "  " * depth
            label = key.path if depth == 0 else key.name
            # Names come from the evidence: escape sequences are shown, never sent.
            out.write(f"{indent}[{printable(label)}]{_stamp(key)}\n")
            printed += 1
            for value in key.values():
                name = value.name if value.name else "@"
                line = f"{name} = {value.type}: {format_data(value)}"
                out.write(f"{indent}    {printable(line)}\n")
            if max_depth is None or depth < max_depth:
                stack.extend((child, depth + 1) for child in reversed(key.subkeys()))
    return printed

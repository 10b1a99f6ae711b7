"""One file of the evidence as bytes or text, for viewing and saving it out (read-only).

The GUI's Files tab asks here rather than opening paths itself: the member's place on disk
(an extracted cab member in the cache, a file of an opened folder) is known only to core.
"""

from __future__ import annotations

from pathlib import Path

from core.errors import UnsupportedInput
from core.evidence import Evidence

#: More than this is not shown in the viewer (saving out copies the whole file).
VIEW_LIMIT = 8 * 1024 * 1024


def member_path(evidence: Evidence, name: str) -> Path:
    path = evidence.members.get(name)
    if path is None:
        raise UnsupportedInput(f"{name}: not a file of this capture")
    return path


def member_bytes(evidence: Evidence, name: str, limit: int | None = None) -> bytes:
    """The member's bytes (the first ``limit`` when given)."""
    with member_path(evidence, name).open("rb") as fp:
        return fp.read() if limit is None else fp.read(limit)


def member_text(evidence: Evidence, name: str, limit: int = VIEW_LIMIT) -> str | None:
    """The member as text (UTF-16 with a BOM, else UTF-8), or None when it is binary."""
    data = member_bytes(evidence, name, limit)
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace")
    if b"\x00" in data[:8192]:
        return None
    text = data.decode("utf-8", errors="replace")
    if text.startswith("\ufeff"):
        text = text[1:]
    return text


def save_member(evidence: Evidence, name: str, destination: Path) -> int:
    """Copy the member to ``destination`` (never onto the member itself); bytes written."""
    source = member_path(evidence, name)
    if destination.exists() and destination.resolve() == source.resolve():
        raise UnsupportedInput(f"{destination}: that is the evidence file itself")
    written = 0
    with source.open("rb") as src, destination.open("wb") as dst:
        while chunk := src.read(1 << 20):
            dst.write(chunk)
            written += len(chunk)
    return written

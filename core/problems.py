"""Damage is data: everything that could not be read becomes a :class:`Problem`."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing that could not be read.

    ``file`` names the file (container member names use ``outer!inner``), ``where`` the
    place inside it (``line 12``, ``offset 0x1000``, ``record 42``, a key path), and
    ``message`` says why, in words a technician understands.
    """

    file: str
    where: str
    message: str

    def __str__(self) -> str:
        where = f" ({printable(self.where)})" if self.where else ""
        return f"{printable(self.file)}{where}: {printable(self.message)}"


def printable(text: str) -> str:
    """``text`` fit for one line of a terminal or a log: every character that is not
    printable (ESC and the other controls, line breaks, bidi overrides) shown as an escape
    (``\\x1b``), so evidence can neither break the line nor drive the terminal."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in text)

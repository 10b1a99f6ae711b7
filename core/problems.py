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
        where = f" ({self.where})" if self.where else ""
        return f"{self.file}{where}: {self.message}"

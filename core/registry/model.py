"""The registry interface every backend implements.

Paths are backslash-separated and compared case-insensitively. The root hive may be
written long (``HKEY_LOCAL_MACHINE``) or short (``HKLM``); :func:`normalize_path` folds both
to the short form, which is how :class:`RegistryView` stores and looks keys up.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from core.perf import lean_init
from core.problems import Problem

#: Data of a value: ``str`` (REG_SZ, REG_EXPAND_SZ), ``int`` (REG_DWORD, REG_QWORD,
#: REG_DWORD_BIG_ENDIAN), ``list[str]`` (REG_MULTI_SZ), ``bytes`` (REG_BINARY and anything
#: else), ``None`` (no data).
ValueData = str | int | bytes | list[str] | None

REG_TYPE_NAMES: dict[int, str] = {
    0: "REG_NONE",
    1: "REG_SZ",
    2: "REG_EXPAND_SZ",
    3: "REG_BINARY",
    4: "REG_DWORD",
    5: "REG_DWORD_BIG_ENDIAN",
    6: "REG_LINK",
    7: "REG_MULTI_SZ",
    8: "REG_RESOURCE_LIST",
    9: "REG_FULL_RESOURCE_DESCRIPTOR",
    10: "REG_RESOURCE_REQUIREMENTS_LIST",
    11: "REG_QWORD",
}

_ROOT_ALIASES = {
    "HKEY_LOCAL_MACHINE": "HKLM",
    "HKEY_CURRENT_USER": "HKCU",
    "HKEY_USERS": "HKU",
    "HKEY_CLASSES_ROOT": "HKCR",
    "HKEY_CURRENT_CONFIG": "HKCC",
}


def type_name(code: int) -> str:
    """``REG_*`` name of a numeric type; unknown codes become ``REG_TYPE_<n>``."""
    return REG_TYPE_NAMES.get(code, f"REG_TYPE_{code}")


def normalize_path(path: str) -> str:
    """``HKEY_LOCAL_MACHINE\\Software\\X\\`` → ``HKLM\\Software\\X`` (case kept).

    Only ``\\`` separates keys: ``/`` is an ordinary character in key names (policy nodes
    such as ``./Device/Vendor/MSFT/...`` are key names in the MDM registry).
    """
    parts = [p for p in path.split("\\") if p]
    if parts:
        parts[0] = _ROOT_ALIASES.get(parts[0].upper(), parts[0])
        if parts[0].upper() in _ROOT_ALIASES.values():
            parts[0] = parts[0].upper()
    return "\\".join(parts)


@lean_init  # made by the hundred thousand (core.perf)
@dataclass(frozen=True, slots=True)
class RegValue:
    """One value. ``name`` is ``""`` for the default value; ``origin`` says where it was read
    (``MdmDiagReport_RegistryDump.reg:37010``, ``SOFTWARE (hive)``, ``live registry``)."""

    name: str
    type: str
    data: ValueData
    origin: str


class RegKey(ABC):
    """One key. Backends may be eager (text dumps) or lazy (hives, live registry)."""

    @property
    @abstractmethod
    def path(self) -> str:
        """Full normalised path, e.g. ``HKLM\\SOFTWARE\\Microsoft``."""

    @property
    def name(self) -> str:
        return self.path.rsplit("\\", 1)[-1]

    @property
    @abstractmethod
    def last_write(self) -> datetime | None:
        """Last-write time (UTC, tz-aware) where the backend knows it, else ``None``."""

    @property
    @abstractmethod
    def origin(self) -> str:
        """Where the key itself was read (file:line of its header, hive name, ``live``)."""

    @abstractmethod
    def subkeys(self) -> list[RegKey]:
        """Direct subkeys, in source order."""

    @abstractmethod
    def values(self) -> list[RegValue]:
        """Values, in source order."""

    def subkey(self, name: str) -> RegKey | None:
        """Direct subkey by name, case-insensitive."""
        folded = name.casefold()
        for key in self.subkeys():
            if key.name.casefold() == folded:
                return key
        return None

    def value(self, name: str) -> RegValue | None:
        """Value by name (``""`` for default), case-insensitive."""
        folded = name.casefold()
        for value in self.values():
            if value.name.casefold() == folded:
                return value
        return None

    def walk(self) -> Iterator[RegKey]:
        """This key and every key below it, depth first."""
        stack: list[RegKey] = [self]
        while stack:
            key = stack.pop()
            yield key
            stack.extend(reversed(key.subkeys()))


class RegistryView(ABC):
    """A registry as read from one source (a dump, an export, a hive, the live machine)."""

    #: ``dump``, ``regedit``, ``hive``, ``live`` or ``memory``.
    kind: str = "memory"

    @abstractmethod
    def key(self, path: str) -> RegKey | None:
        """Key by full path (any root spelling, case-insensitive), or ``None``."""

    @abstractmethod
    def roots(self) -> list[RegKey]:
        """Top-level keys this view holds."""

    @property
    def problems(self) -> list[Problem]:
        """What could not be read while building the view."""
        return []

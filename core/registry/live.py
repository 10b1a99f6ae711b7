"""The live registry of this Windows machine, read through ``winreg`` — read-only.

Every key is opened with ``KEY_READ | KEY_WOW64_64KEY`` (the 64-bit view, what the ESP
writes to even from a 32-bit process) and closed again at once; no create, set, delete,
flush, load or save function of ``winreg`` is ever called. Keys are lazy: subkeys and values
are enumerated when first asked for and cached, and the last-write time comes from
``QueryInfoKey``.

``winreg`` is imported on first use, so this module imports on Linux too; tests pass a fake
module (``LiveView(winreg=fake)``) that serves a parsed dump and fails on any write call.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
from datetime import datetime
from types import ModuleType
from typing import Any

from core.errors import UnsupportedInput
from core.problems import Problem
from core.registry.decode import split_key_path
from core.registry.model import RegistryView, RegKey, RegValue, ValueData, type_name
from core.registry.values import filetime

log = logging.getLogger(__name__)

KEY_READ = 0x20019  # STANDARD_RIGHTS_READ | QUERY_VALUE | ENUMERATE_SUB_KEYS | NOTIFY
KEY_WOW64_64KEY = 0x0100
#: The only access mask this module ever opens a key with.
ACCESS = KEY_READ | KEY_WOW64_64KEY

ORIGIN = "live registry"

#: Root short name → ``winreg`` constant name. HKCR/HKCC are merged views of these.
_ROOTS = {
    "HKLM": "HKEY_LOCAL_MACHINE",
    "HKCU": "HKEY_CURRENT_USER",
    "HKU": "HKEY_USERS",
}


def _load_winreg() -> ModuleType:
    try:
        return importlib.import_module("winreg")
    except ImportError as exc:
        raise UnsupportedInput("the live registry can only be read on Windows") from exc


class LiveView(RegistryView):
    """This machine's registry. ``winreg`` defaults to the real module (Windows only)."""

    kind = "live"

    def __init__(self, winreg: Any = None) -> None:
        self.winreg: Any = winreg if winreg is not None else _load_winreg()
        self._problems: list[Problem] = []
        self._roots = {
            short: LiveKey(self, getattr(self.winreg, long), short, "")
            for short, long in _ROOTS.items()
        }

    @property
    def problems(self) -> list[Problem]:
        return self._problems

    def problem(self, where: str, message: str) -> None:
        self._problems.append(Problem(ORIGIN, where, message))

    def roots(self) -> list[RegKey]:
        return list(self._roots.values())

    def key(self, path: str) -> RegKey | None:
        parts = split_key_path(path)
        if not parts:
            return None
        root = self._roots.get(parts[0].upper())
        if root is None or len(parts) == 1:
            return root
        # Open it once to learn whether it exists and how its name parts are spelled.
        sub = "\\".join(parts[1:])
        handle = root.open(sub, quiet=True)
        if handle is None:
            return None
        self.close(handle)
        return LiveKey(self, root.hive, f"{root.path}\\{sub}", sub)

    def close(self, handle: Any) -> None:
        # Closing a handle that is already gone changes nothing.
        with contextlib.suppress(OSError):
            self.winreg.CloseKey(handle)


class LiveKey(RegKey):
    """One live key, addressed as (root constant, sub path) and opened per operation."""

    __slots__ = ("_info", "_path", "_subkeys", "_values", "_view", "hive", "sub")

    def __init__(self, view: LiveView, hive: Any, path: str, sub: str) -> None:
        self._view = view
        self.hive = hive
        self._path = path
        self.sub = sub
        self._subkeys: list[RegKey] | None = None
        self._values: list[RegValue] | None = None
        self._info: tuple[int, int, int] | None = None

    @property
    def path(self) -> str:
        return self._path

    @property
    def origin(self) -> str:
        return ORIGIN

    def open(self, sub: str | None = None, quiet: bool = False) -> Any:
        """A read-only handle to ``sub`` (default: this key), or ``None`` with a problem."""
        target = self.sub if sub is None else sub
        winreg = self._view.winreg
        try:
            return winreg.OpenKeyEx(self.hive, target, 0, ACCESS)
        except OSError as exc:
            if not quiet:
                self._view.problem(self._path, f"cannot open key: {exc}")
            return None

    def _query_info(self) -> tuple[int, int, int]:
        if self._info is None:
            info = (0, 0, 0)
            handle = self.open()
            if handle is not None:
                try:
                    subkeys, values, ticks = self._view.winreg.QueryInfoKey(handle)
                    info = (int(subkeys), int(values), int(ticks))
                except OSError as exc:
                    self._view.problem(self._path, f"cannot query key: {exc}")
                finally:
                    self._view.close(handle)
            self._info = info
        return self._info

    @property
    def last_write(self) -> datetime | None:
        return filetime(self._query_info()[2])

    def subkeys(self) -> list[RegKey]:
        if self._subkeys is None:
            count = self._query_info()[0]
            keys: list[RegKey] = []
            handle = self.open() if count else None
            if handle is not None:
                try:
                    for index in range(count):
                        name = str(self._view.winreg.EnumKey(handle, index))
                        sub = f"{self.sub}\\{name}" if self.sub else name
                        keys.append(LiveKey(self._view, self.hive, f"{self._path}\\{name}", sub))
                except OSError as exc:
                    # Keys can vanish while we read a live machine; keep what was listed.
                    self._view.problem(self._path, f"subkey listing stopped: {exc}")
                finally:
                    self._view.close(handle)
            self._subkeys = keys
        return list(self._subkeys)

    def values(self) -> list[RegValue]:
        if self._values is None:
            count = self._query_info()[1]
            values: list[RegValue] = []
            handle = self.open() if count else None
            if handle is not None:
                try:
                    for index in range(count):
                        name, data, code = self._view.winreg.EnumValue(handle, index)
                        values.append(
                            RegValue(str(name), type_name(int(code)), _data(data), ORIGIN)
                        )
                except OSError as exc:
                    self._view.problem(self._path, f"value listing stopped: {exc}")
                finally:
                    self._view.close(handle)
            self._values = values
        return list(self._values)


def _data(data: object) -> ValueData:
    """winreg already types data (str, int, list[str], bytes, None); keep only those shapes."""
    if data is None or isinstance(data, str | int | bytes):
        return data
    if isinstance(data, list):
        return [str(item) for item in data]
    return repr(data)

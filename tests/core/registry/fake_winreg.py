"""A stand-in for the ``winreg`` module that serves a :class:`RegistryView` read-only.

Every read function behaves like winreg's (``OSError`` for a missing key or an index past
the end); every function that could change the registry records the call and fails the
test. ``opened`` keeps each access mask, so tests can assert it never asked to write.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from core.registry.decode import TYPE_CODES
from core.registry.model import RegistryView, RegKey

HKEY_CLASSES_ROOT = 0x80000000
HKEY_CURRENT_USER = 0x80000001
HKEY_LOCAL_MACHINE = 0x80000002
HKEY_USERS = 0x80000003
KEY_READ = 0x20019
KEY_WOW64_64KEY = 0x0100
#: Access bits that allow a change: SET_VALUE, CREATE_SUB_KEY, CREATE_LINK, DELETE,
#: WRITE_DAC, WRITE_OWNER, GENERIC_WRITE, GENERIC_ALL, MAXIMUM_ALLOWED.
WRITE_BITS = (
    0x0002 | 0x0004 | 0x0020 | 0x10000 | 0x40000 | 0x80000 | 0x40000000 | 0x10000000 | 0x02000000
)

_ROOT_NAMES = {HKEY_LOCAL_MACHINE: "HKLM", HKEY_CURRENT_USER: "HKCU", HKEY_USERS: "HKU"}
EPOCH_TICKS = 116_444_736_000_000_000  # 1970-01-01 in 100-ns ticks since 1601
WRITES = (
    "CreateKey", "CreateKeyEx", "SetValue", "SetValueEx", "DeleteKey", "DeleteKeyEx",
    "DeleteValue", "FlushKey", "LoadKey", "SaveKey", "DisableReflectionKey",
    "EnableReflectionKey", "ConnectRegistry",
)  # fmt: skip


@dataclass
class Handle:
    key: RegKey
    closed: bool = False


@dataclass
class FakeWinreg:
    view: RegistryView
    last_write: datetime = datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)
    opened: list[int] = field(default_factory=list)
    writes: list[str] = field(default_factory=list)
    handles: list[Handle] = field(default_factory=list)
    fail_enum_after: int | None = None

    HKEY_CLASSES_ROOT = HKEY_CLASSES_ROOT
    HKEY_CURRENT_USER = HKEY_CURRENT_USER
    HKEY_LOCAL_MACHINE = HKEY_LOCAL_MACHINE
    HKEY_USERS = HKEY_USERS
    KEY_READ = KEY_READ
    KEY_WOW64_64KEY = KEY_WOW64_64KEY

    def __getattr__(self, name: str) -> Any:
        if name in WRITES:

            def refuse(*args: object, **kwargs: object) -> None:
                self.writes.append(name)
                raise AssertionError(f"winreg.{name} called: the live view must never write")

            return refuse
        raise AttributeError(name)

    # -- reads ------------------------------------------------------------------------------

    # winreg's names and signatures, hence the CamelCase.
    def OpenKeyEx(
        self, key: int, sub_key: str, reserved: int = 0, access: int = KEY_READ
    ) -> Handle:
        self.opened.append(access)
        if access & WRITE_BITS:
            self.writes.append(f"OpenKeyEx(access={access:#x})")
            raise AssertionError(f"key opened with write access {access:#x}")
        node = self.view.key(_ROOT_NAMES[key])
        for part in [p for p in sub_key.split("\\") if p]:
            node = node.subkey(part) if node is not None else None
        if node is None:
            raise FileNotFoundError(2, "The system cannot find the file specified")
        handle = Handle(node)
        self.handles.append(handle)
        return handle

    OpenKey = OpenKeyEx

    def CloseKey(self, handle: Handle) -> None:
        handle.closed = True

    def QueryInfoKey(self, handle: Handle) -> tuple[int, int, int]:
        delta = self.last_write - datetime(1970, 1, 1, tzinfo=UTC)
        ticks = EPOCH_TICKS + (delta // _microsecond()) * 10
        return len(handle.key.subkeys()), len(handle.key.values()), ticks

    def EnumKey(self, handle: Handle, index: int) -> str:
        self._maybe_fail(index)
        subkeys = handle.key.subkeys()
        if index >= len(subkeys):
            raise OSError(259, "No more data is available")
        return subkeys[index].name

    def EnumValue(self, handle: Handle, index: int) -> tuple[str, object, int]:
        self._maybe_fail(index)
        values = handle.key.values()
        if index >= len(values):
            raise OSError(259, "No more data is available")
        value = values[index]
        return value.name, value.data, TYPE_CODES[value.type]

    def _maybe_fail(self, index: int) -> None:
        if self.fail_enum_after is not None and index >= self.fail_enum_after:
            raise OSError(1018, "Illegal operation attempted on a registry key marked for deletion")


def _microsecond() -> Any:
    from datetime import timedelta

    return timedelta(microseconds=1)

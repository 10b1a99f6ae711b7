"""Offline registry hives (``regf`` files copied off a disk), read with python-registry.

python-registry stays at this edge: :class:`HiveKey` adapts its keys lazily to
:class:`~core.registry.model.RegKey` (subkeys and values are read when first asked for, so
opening a 100 MB SOFTWARE hive costs nothing until analysis looks inside), with real
last-write times.

A hive file holds one subtree without saying where it hangs, so the view **mounts** it: a
SOFTWARE hive at ``HKLM\\SOFTWARE``, SYSTEM at ``HKLM\\SYSTEM``, an NTUSER.DAT at
``HKU\\<user>`` … and analysis paths like ``HKLM\\SOFTWARE\\Microsoft\\Windows\\Autopilot``
work unchanged. Which hive it is comes from the name recorded inside the hive, then the
file name, then the root's subkeys; callers may pass ``mount`` explicitly. In a SYSTEM hive
``CurrentControlSet`` (a link the running kernel makes) is resolved through
``Select\\Current``.

Damage is data: a key or value python-registry cannot parse becomes a
:class:`~core.problems.Problem` on the view (as it is met, since reading is lazy) and the
rest stays readable. Only a file whose header or root key is unreadable raises.
"""

from __future__ import annotations

import functools
import io
import logging
import os
import re
import struct
from datetime import UTC, datetime
from pathlib import Path

from core.errors import CorruptInput, LimitExceeded, UnsupportedInput
from core.problems import Problem, printable
from core.registry.decode import decode_value, split_key_path
from core.registry.model import RegistryView, RegKey, RegValue, ValueData, type_name

log = logging.getLogger(__name__)

#: Hives are read whole into memory by python-registry; real SOFTWARE hives are ~100 MB.
MAX_HIVE_BYTES = 2 * 1024**3

#: What python-registry raises on damaged cells (besides its own RegistryException): it
#: unpacks offsets it read from the file, so bad ones surface as these.
_DAMAGE: tuple[type[BaseException], ...] = (
    struct.error,
    IndexError,
    ValueError,
    OverflowError,
    UnicodeError,
    KeyError,
    TypeError,
    RecursionError,
)

#: Hive kind → where it is mounted (``{user}`` is filled in for per-user hives).
MOUNTS: dict[str, str] = {
    "SOFTWARE": "HKLM\\SOFTWARE",
    "SYSTEM": "HKLM\\SYSTEM",
    "SAM": "HKLM\\SAM",
    "SECURITY": "HKLM\\SECURITY",
    "COMPONENTS": "HKLM\\COMPONENTS",
    "BCD": "HKLM\\BCD00000000",
    "DEFAULT": "HKU\\.DEFAULT",
    "NTUSER": "HKU\\{user}",
    "USRCLASS": "HKU\\{user}_Classes",
}

_FILE_KINDS = {
    "SOFTWARE": "SOFTWARE",
    "SYSTEM": "SYSTEM",
    "SAM": "SAM",
    "SECURITY": "SECURITY",
    "COMPONENTS": "COMPONENTS",
    "BCD": "BCD",
    "DEFAULT": "DEFAULT",
    "NTUSER": "NTUSER",
    "USRCLASS": "USRCLASS",
}


@functools.cache
def _registry_module() -> tuple[object, tuple[type[BaseException], ...]]:
    """python-registry's ``Registry`` module and everything that means "damaged cell"."""
    from Registry import Registry, RegistryParse  # noqa: PLC0415 - imported on first use

    return Registry, (RegistryParse.RegistryException, *_DAMAGE)


def _damage() -> tuple[type[BaseException], ...]:
    return _registry_module()[1]


def _kind_from_name(name: str) -> str | None:
    """``SOFTWARE``, ``system.hiv``, ``NTUSER.DAT``, ``SYSTEM_WIN_10_1709`` → the hive kind."""
    base = re.split(r"[\\/]", name)[-1]
    token = re.split(r"[^A-Za-z]", base, maxsplit=1)[0].upper()
    return _FILE_KINDS.get(token)


def _kind_from_subkeys(names: set[str]) -> str | None:
    if "select" in names and any(name.startswith("controlset") for name in names):
        return "SYSTEM"
    if "control panel" in names or ("software" in names and "environment" in names):
        return "NTUSER"
    if "microsoft" in names and names & {"classes", "policies", "clients", "wow6432node"}:
        return "SOFTWARE"
    if names == {"sam"}:
        return "SAM"
    if "policy" in names and "cache" in names:
        return "SECURITY"
    if "local settings" in names:
        return "USRCLASS"
    return None


def _user_from_hive_name(hive_name: str) -> str | None:
    """``\\??\\C:\\Users\\<user>\\ntuser.dat`` → ``<user>`` (the folder under ``Users``)."""
    parts = [part for part in re.split(r"[\\/]", hive_name) if part]
    for index, part in enumerate(parts[:-1]):
        if part.casefold() in ("users", "documents and settings"):
            return parts[index + 1]
    return None


class HiveView(RegistryView):
    """One hive file mounted at :attr:`mount` (e.g. ``HKLM\\SOFTWARE``)."""

    kind = "hive"

    def __init__(self, hive: object, name: str, mount: str) -> None:
        self.name = name
        self.mount = "\\".join(split_key_path(mount))
        self._problems: list[Problem] = []
        self._mount_parts = self.mount.split("\\")
        root_nk = hive.root()  # type: ignore[attr-defined]  # python-registry is untyped
        self.root_key = HiveKey(self, root_nk, self.mount, "")
        # Synthetic parents so roots() and key("HKLM") behave like any other view.
        top: RegKey = self.root_key
        for depth in range(len(self._mount_parts) - 1, 0, -1):
            top = MountKey("\\".join(self._mount_parts[:depth]), top, name)
        self._top = top

    @property
    def problems(self) -> list[Problem]:
        return self._problems

    def problem(self, where: str, message: str) -> None:
        self._problems.append(Problem(self.name, where, message))

    def roots(self) -> list[RegKey]:
        return [self._top]

    def key(self, path: str) -> RegKey | None:
        parts = split_key_path(path)
        mount = self._mount_parts
        if len(parts) < len(mount):
            if [p.casefold() for p in parts] == [m.casefold() for m in mount[: len(parts)]]:
                above: RegKey = self._top
                for _ in range(len(parts) - 1):
                    above = above.subkeys()[0]
                return above
            return None
        if [p.casefold() for p in parts[: len(mount)]] != [m.casefold() for m in mount]:
            return None
        rest = parts[len(mount) :]
        if rest and rest[0].casefold() == "currentcontrolset":
            rest[0] = self._current_control_set() or rest[0]
        node: HiveKey | None = self.root_key
        for part in rest:
            node = node.subkey(part) if node is not None else None
        return node

    def _current_control_set(self) -> str | None:
        select = self.root_key.subkey("Select")
        current = select.value("Current") if select is not None else None
        if current is None or not isinstance(current.data, int):
            return None
        return f"ControlSet{current.data:03d}"


class MountKey(RegKey):
    """A parent the hive does not contain (``HKLM`` above a SOFTWARE hive)."""

    __slots__ = ("_child", "_origin", "_path")

    def __init__(self, path: str, child: RegKey, origin: str) -> None:
        self._path = path
        self._child = child
        self._origin = origin

    @property
    def path(self) -> str:
        return self._path

    @property
    def last_write(self) -> datetime | None:
        return None

    @property
    def origin(self) -> str:
        return self._origin

    def subkeys(self) -> list[RegKey]:
        return [self._child]

    def values(self) -> list[RegValue]:
        return []


class HiveKey(RegKey):
    """A python-registry key, read lazily; subkeys and values are cached once read."""

    __slots__ = ("_ancestors", "_nk", "_path", "_relative", "_subkeys", "_values", "_view")

    def __init__(
        self,
        view: HiveView,
        nk: object,
        path: str,
        relative: str,
        ancestors: frozenset[int] = frozenset(),
    ) -> None:
        self._view = view
        self._nk = nk
        self._path = path
        self._relative = relative
        #: Cell offsets of this key and every key above it: a subkey list pointing back at
        #: one of them is a loop (walking it would never end).
        self._ancestors = ancestors | {_cell_offset(nk)}
        self._subkeys: list[HiveKey] | None = None
        self._values: list[RegValue] | None = None

    @property
    def path(self) -> str:
        return self._path

    @property
    def origin(self) -> str:
        """``<hive file>`` for the root, ``<hive file>:<path inside the hive>`` below it."""
        return f"{self._view.name}:{self._relative}" if self._relative else self._view.name

    @property
    def last_write(self) -> datetime | None:
        try:
            stamp = self._nk.timestamp()  # type: ignore[attr-defined]  # untyped library
        except _damage() as exc:
            self._view.problem(self._where(), f"unreadable last-write time: {exc}")
            return None
        if not isinstance(stamp, datetime):
            return None
        return stamp.replace(tzinfo=UTC) if stamp.tzinfo is None else stamp.astimezone(UTC)

    def _where(self) -> str:
        return self._relative or "(hive root)"

    def subkeys(self) -> list[RegKey]:
        return list(self._children())

    def subkey(self, name: str) -> HiveKey | None:
        folded = name.casefold()
        for key in self._children():
            if key.name.casefold() == folded:
                return key
        return None

    def _children(self) -> list[HiveKey]:
        if self._subkeys is None:
            children: list[HiveKey] = []
            try:
                for nk in self._nk.subkeys():  # type: ignore[attr-defined]  # untyped library
                    name = str(nk.name())
                    if _cell_offset(nk) in self._ancestors:
                        self._view.problem(
                            self._where(),
                            f"subkey {printable(name)!r} points back at a key above it "
                            "(a loop); not followed",
                        )
                        continue
                    relative = f"{self._relative}\\{name}" if self._relative else name
                    children.append(
                        HiveKey(
                            self._view, nk, f"{self._path}\\{name}", relative, self._ancestors
                        )
                    )
            except _damage() as exc:
                self._view.problem(
                    self._where(), f"subkey list damaged, {len(children)} read: {exc}"
                )
            self._subkeys = children
        return self._subkeys

    def values(self) -> list[RegValue]:
        if self._values is None:
            values: list[RegValue] = []
            origin = self.origin
            try:
                records = list(self._nk.values())  # type: ignore[attr-defined]  # untyped
            except _damage() as exc:
                self._view.problem(self._where(), f"value list damaged: {exc}")
                records = []
            for record in records:
                value = self._read_value(record, origin)
                if value is not None:
                    values.append(value)
            self._values = values
        return list(self._values)

    def _read_value(self, record: object, origin: str) -> RegValue | None:
        try:
            name = str(record.name())  # type: ignore[attr-defined]  # untyped library
        except _damage() as exc:
            self._view.problem(self._where(), f"value with an unreadable name skipped: {exc}")
            return None
        if name == "(default)":
            name = ""  # python-registry's spelling of the unnamed value
        try:
            code = int(record.value_type())  # type: ignore[attr-defined]  # untyped library
        except _damage() as exc:
            self._view.problem(self._where(), f"value {name!r}: unreadable type: {exc}")
            return None
        data: ValueData
        try:
            raw = record.raw_data()  # type: ignore[attr-defined]  # untyped library
            data, complaint = decode_value(code, bytes(raw or b""))
        except _damage() as exc:
            data, complaint = None, f"unreadable data: {exc}"
        if complaint:
            self._view.problem(self._where(), f"value {name!r}: {complaint}")
        return RegValue(name, type_name(code), data, origin)


def _cell_offset(nk: object) -> int:
    """The hive offset of a key's NK cell (python-registry keeps it on the parsed record)."""
    record = getattr(nk, "_nkrecord", None)
    offset = getattr(record, "offset", None)
    return int(offset()) if callable(offset) else id(nk)


def open_hive(
    source: bytes | str | os.PathLike[str], mount: str | None = None, name: str | None = None
) -> HiveView:
    """Open a hive (path or bytes) and mount it (see the module docstring).

    Raises :class:`UnsupportedInput` when it is not a hive, :class:`CorruptInput` when its
    header or root key cannot be read, :class:`LimitExceeded` for absurd sizes.
    """
    if isinstance(source, bytes):
        data, file_name = source, name or "hive"
    else:
        path = Path(source)
        file_name = name or path.name
        try:
            if path.stat().st_size > MAX_HIVE_BYTES:
                raise LimitExceeded(f"{file_name}: over the cap of {MAX_HIVE_BYTES} bytes")
            data = path.read_bytes()
        except OSError as exc:
            raise UnsupportedInput(f"cannot read {path}: {exc.strerror or exc}") from exc
    if len(data) > MAX_HIVE_BYTES:
        raise LimitExceeded(f"{file_name}: over the cap of {MAX_HIVE_BYTES} bytes")
    if not data.startswith(b"regf"):
        raise UnsupportedInput(f"{file_name}: not a registry hive (no 'regf' signature)")
    registry, damage = _registry_module()
    try:
        hive = registry.Registry(io.BytesIO(data))  # type: ignore[attr-defined]  # untyped
        root = hive.root()
        root.name()
    except damage as exc:
        raise CorruptInput(f"{file_name}: hive header or root key unreadable ({exc})") from exc
    try:
        root_names = {str(key.name()).casefold() for key in root.subkeys()}
    except damage:
        root_names = set()  # the view reports the damaged list when it is walked
    view = HiveView(hive, file_name, mount or _detect_mount(hive, file_name, root_names))
    log.info("%s: mounted at %s", file_name, view.mount)
    return view


def _detect_mount(hive: object, file_name: str, root_names: set[str]) -> str:
    try:
        hive_name = str(hive.hive_name())  # type: ignore[attr-defined]  # untyped library
    except _damage():
        hive_name = ""
    kind = (
        _kind_from_name(hive_name) or _kind_from_name(file_name) or _kind_from_subkeys(root_names)
    )
    if kind is None:
        # Nothing says where it hangs: keep it visible under its own name.
        stem = re.split(r"[^A-Za-z0-9_ -]", Path(file_name).name, maxsplit=1)[0] or "HIVE"
        return f"HKLM\\{stem}"
    user = _user_from_hive_name(hive_name) or Path(file_name).stem or "USER"
    return MOUNTS[kind].format(user=user)

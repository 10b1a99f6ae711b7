"""Open any registry file by what it contains, not by its name.

``regf`` magic → offline hive; ``Windows Registry Editor`` / ``REGEDIT4`` (after an optional
BOM) → regedit export; ``[HKEY_`` with no header → the ``mdmdiagnosticstool`` dump dialect.
Anything else is :class:`~core.errors.UnsupportedInput` with a message saying what was seen.
"""

from __future__ import annotations

import logging
from pathlib import Path

from core.errors import UnsupportedInput
from core.registry.decode import decode_text
from core.registry.model import RegistryView

log = logging.getLogger(__name__)

_SNIFF_BYTES = 4096


def sniff(head: bytes) -> str | None:
    """``hive``, ``regedit``, ``dump`` or ``None`` for the first bytes of a file."""
    if head.startswith(b"regf"):
        return "hive"
    text = decode_text(head).lstrip("\ufeff \t\r\n")
    if text.startswith(("Windows Registry Editor", "REGEDIT4")):
        return "regedit"
    if text.upper().startswith("[HKEY_"):
        return "dump"
    return None


def open_registry(
    path: Path, display_name: str | None = None, mount: str | None = None
) -> RegistryView:
    """A view of the registry file at ``path``; ``display_name`` starts origins and problems
    (e.g. ``cab!MdmDiagReport_RegistryDump.reg``), ``mount`` overrides a hive's mount point."""
    name = display_name or path.name
    try:
        with path.open("rb") as handle:
            head = handle.read(_SNIFF_BYTES)
    except OSError as exc:
        raise UnsupportedInput(f"cannot read {name}: {exc.strerror or exc}") from exc
    kind = sniff(head)
    log.debug("%s: sniffed as %s", name, kind)
    if kind == "hive":
        from core.registry.hive import open_hive  # noqa: PLC0415 - python-registry on use

        return open_hive(path, mount=mount, name=name)
    if kind == "regedit":
        from core.registry.regedit import parse_regedit  # noqa: PLC0415 - parser on use

        return parse_regedit(path, name)
    if kind == "dump":
        from core.registry.dump import parse_dump  # noqa: PLC0415 - parser on use

        return parse_dump(path, name)
    if not head:
        raise UnsupportedInput(f"{name}: empty file, not a registry export or hive")
    raise UnsupportedInput(
        f"{name}: not a registry file (expected a 'regf' hive, a regedit export starting "
        "'Windows Registry Editor'/'REGEDIT4', or an mdmdiagnosticstool dump starting '[HKEY_')"
    )

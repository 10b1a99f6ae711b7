"""Write registry text files from Python data, for scenario captures and round-trip tests.

``keys`` is ``{key path: {value name: (type, data)}}`` — the shape of
:meth:`core.registry.memory.MemoryView.from_dict`. Types are ``REG_*`` names; data is ``str``
for REG_SZ / REG_EXPAND_SZ, ``int`` for REG_DWORD / REG_QWORD, ``list[str]`` for
REG_MULTI_SZ and ``bytes`` for everything else. ``""`` names the default value.

    write_dump_reg(tmp_path / "MdmDiagReport_RegistryDump.reg", {
        r"HKLM\\SOFTWARE\\Microsoft\\Provisioning\\AutopilotSettings": {
            "DevicePreparationCategory.Status": ("REG_SZ", '{"categoryState":"succeeded"}'),
        },
    })
"""

from __future__ import annotations

import codecs
from collections.abc import Mapping
from pathlib import Path

from core.registry.decode import TYPE_CODES
from core.registry.model import ValueData

Keys = Mapping[str, Mapping[str, tuple[str, ValueData]]]

_LONG_ROOTS = {
    "HKLM": "HKEY_LOCAL_MACHINE",
    "HKCU": "HKEY_CURRENT_USER",
    "HKU": "HKEY_USERS",
    "HKCR": "HKEY_CLASSES_ROOT",
    "HKCC": "HKEY_CURRENT_CONFIG",
}


def long_path(path: str) -> str:
    """``HKLM\\X`` → ``HKEY_LOCAL_MACHINE\\X`` (how both formats write key headers)."""
    root, sep, rest = path.partition("\\")
    return _LONG_ROOTS.get(root.upper(), root) + sep + rest


def value_bytes(type_: str, data: ValueData, ansi: bool = False) -> tuple[int, bytes]:
    """(type code, raw bytes) as the registry stores ``data`` of ``type_``."""
    code = TYPE_CODES.get(type_)
    if code is None:
        if not type_.startswith("REG_TYPE_"):
            raise ValueError(f"unknown registry type {type_!r}")
        code = int(type_.removeprefix("REG_TYPE_"))
    encoding = "cp1252" if ansi else "utf-16-le"
    nul = b"\x00" if ansi else b"\x00\x00"
    if isinstance(data, bytes):
        return code, data
    if data is None:
        return code, b""
    if isinstance(data, int):
        size = 8 if code == TYPE_CODES["REG_QWORD"] else 4
        order = "big" if code == TYPE_CODES["REG_DWORD_BIG_ENDIAN"] else "little"
        return code, data.to_bytes(size, order)
    if isinstance(data, list):
        return code, b"".join(item.encode(encoding) + nul for item in data) + nul
    return code, data.encode(encoding) + nul


def _hex(raw: bytes) -> str:
    return ",".join(f"{byte:02x}" for byte in raw)


# -- the mdmdiagnosticstool dump dialect -------------------------------------------------------


def _dump_data(type_: str, data: ValueData) -> str:
    if type_ == "REG_SZ" and isinstance(data, str):
        return f'"{data}"'  # the dialect writes string data raw: no escaping at all
    if type_ == "REG_DWORD" and isinstance(data, int):
        return f"DWORD:{data:08x}"
    if type_ == "REG_QWORD" and isinstance(data, int):
        return f"QWORD:{data:x}"
    if type_ == "REG_MULTI_SZ" and isinstance(data, list):
        return "MULTI_SZ:" + ",".join(f'"{item}"' for item in data)
    code, raw = value_bytes(type_, data)
    return f"hex({code:x}):{_hex(raw)}"


def dump_reg_text(keys: Keys) -> str:
    """Text of an ``MdmDiagReport_RegistryDump.reg`` holding ``keys`` (CRLF, no header)."""
    lines: list[str] = []
    for path, values in keys.items():
        lines.append(f"[{long_path(path)}]")
        for name, (type_, data) in values.items():
            label = "@" if name == "" else f'"{name}"'
            lines.append(f"    {label}={_dump_data(type_, data)}")
        lines.append("")
    return "\r\n".join(lines) + "\r\n"


def write_dump_reg(path: Path, keys: Keys) -> Path:
    """Write ``keys`` as a dump-dialect file (UTF-8, CRLF, as mdmdiagnosticstool does)."""
    path.write_bytes(dump_reg_text(keys).encode("utf-8"))
    return path


# -- regedit exports ---------------------------------------------------------------------------


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def _wrapped_hex(prefix: str, raw: bytes) -> str:
    """``prefix`` + byte list, wrapped like regedit: ``,\\`` then a two-space indent."""
    parts = [f"{byte:02x}" for byte in raw]
    lines: list[str] = []
    line = prefix
    for index, part in enumerate(parts):
        piece = part + ("," if index < len(parts) - 1 else "")
        if len(line) + len(piece) > 77 and line.strip():
            lines.append(line + "\\")
            line = "  "
        line += piece
    lines.append(line)
    return "\r\n".join(lines)


def regedit_reg_text(keys: Keys, regedit4: bool = False) -> str:
    """Text of a regedit export holding ``keys`` (CRLF, with the header line)."""
    lines = ["REGEDIT4" if regedit4 else "Windows Registry Editor Version 5.00", ""]
    for path, values in keys.items():
        lines.append(f"[{long_path(path)}]")
        for name, (type_, data) in values.items():
            label = "@" if name == "" else f'"{_escape(name)}"'
            if type_ == "REG_SZ" and isinstance(data, str):
                lines.append(f'{label}="{_escape(data)}"')
            elif type_ == "REG_DWORD" and isinstance(data, int):
                lines.append(f"{label}=dword:{data:08x}")
            else:
                code, raw = value_bytes(type_, data, ansi=regedit4)
                tag = "hex" if type_ == "REG_BINARY" else f"hex({code:x})"
                lines.append(_wrapped_hex(f"{label}={tag}:", raw))
        lines.append("")
    return "\r\n".join(lines) + "\r\n"


def write_regedit_reg(path: Path, keys: Keys, utf16: bool = True, regedit4: bool = False) -> Path:
    """Write ``keys`` as a regedit export: UTF-16LE with a BOM (as regedit does) or UTF-8."""
    text = regedit_reg_text(keys, regedit4=regedit4)
    if utf16:
        path.write_bytes(codecs.BOM_UTF16_LE + text.encode("utf-16-le"))
    else:
        path.write_bytes(text.encode("cp1252" if regedit4 else "utf-8"))
    return path

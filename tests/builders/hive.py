"""A minimal registry hive (regf + one hbin) with keys and no values, for structure tests.

Only what python-registry needs: the regf header (signature, first key at 0x24, hbins size
at 0x28), one hbin at 0x1000, NK cells with ASCII names and LF subkey lists. ``links`` lets a
subkey list point at any key, an ancestor included: the loop a hostile hive can hold.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping, Sequence

_HBIN = 0x1000
_NK_FLAGS_ASCII = 0x0020
_NK_FLAGS_ROOT = 0x0004 | 0x0008  # KEY_HIVE_ENTRY | KEY_NO_DELETE


def _cell(body: bytes) -> bytes:
    size = (len(body) + 4 + 7) & ~7
    return struct.pack("<i", -size) + body + bytes(size - 4 - len(body))


def _nk(name: str, parent: int, subkeys: int, list_offset: int, root: bool) -> bytes:
    raw = name.encode("latin-1")
    flags = _NK_FLAGS_ASCII | (_NK_FLAGS_ROOT if root else 0)
    head = struct.pack(
        "<2sHQIIIIIIIIIIIIIIIHH",
        b"nk", flags, 0x01D9_0000_0000_0000, 0, parent,
        subkeys, 0, list_offset if subkeys else 0xFFFFFFFF, 0xFFFFFFFF,
        0, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0, 0, 0, 0, 0, len(raw), 0,
    )  # fmt: skip
    return head + raw


def build_hive(names: Sequence[str], links: Mapping[int, Sequence[int]]) -> bytes:
    """Keys ``names`` (index 0 is the root); ``links[i]`` lists the keys key ``i``'s subkey
    list points at (normally its children; an ancestor makes a loop)."""
    # Lay out: every NK cell first (fixed sizes once names are known), then the LF lists.
    nk_sizes = [len(_cell(_nk(n, 0, 1, 0, i == 0))) for i, n in enumerate(names)]
    nk_at: list[int] = []
    pos = 0x20  # cells start after the 32-byte hbin header
    for size in nk_sizes:
        nk_at.append(pos)
        pos += size
    lf_at: dict[int, int] = {}
    lf_cells: list[bytes] = []
    for key, targets in links.items():
        body = struct.pack("<2sH", b"lf", len(targets)) + b"".join(
            struct.pack("<I4s", nk_at[t], names[t][:4].encode("latin-1").ljust(4, b"\0"))
            for t in targets
        )
        lf_at[key] = pos
        cell = _cell(body)
        lf_cells.append(cell)
        pos += len(cell)
    cells = b"".join(
        _cell(_nk(n, nk_at[0], len(links.get(i, ())), lf_at.get(i, 0), i == 0))
        for i, n in enumerate(names)
    ) + b"".join(lf_cells)
    hbin_size = max(_HBIN, (0x20 + len(cells) + _HBIN - 1) // _HBIN * _HBIN)
    free = hbin_size - 0x20 - len(cells)
    if free:
        cells += struct.pack("<i", free) + bytes(free - 4)
    hbin = struct.pack("<4sIIQQI", b"hbin", 0, hbin_size, 0, 0, 0) + cells
    header = bytearray(_HBIN)
    struct.pack_into("<4sII", header, 0, b"regf", 1, 1)
    struct.pack_into("<IIIIII", header, 0x14, 1, 5, 0, 1, nk_at[0], hbin_size)
    struct.pack_into("<I", header, 0x2C, 1)
    checksum = 0
    for (word,) in struct.iter_unpack("<I", bytes(header[:0x1FC])):
        checksum ^= word
    struct.pack_into("<I", header, 0x1FC, checksum)
    return bytes(header) + hbin

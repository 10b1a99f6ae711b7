"""Write real ``.evtx`` files for tests: file header, 64 KB chunks, binary-XML records.

Usage::

    from tests.builders.evtx import write_evtx, hex32
    write_evtx(tmp_path / "admin.evtx", [
        {"time": datetime(2024, 4, 2, 16, 13, 4, tzinfo=UTC),
         "channel": "Microsoft-Windows-DeviceManagement-Enterprise-Diagnostics-Provider/Admin",
         "provider": "Microsoft-Windows-DeviceManagement-Enterprise-Diagnostics-Provider",
         "event_id": 404, "level": 2,
         "data": {"Message1": "Autopilot", "HRESULT": hex32(0x80180014)}},
    ])

A record dict has ``time`` (datetime; naive means UTC), ``channel``, ``provider``,
``event_id``, and optionally ``level`` (default 4), ``record_id`` (default: previous + 1,
starting at 1), ``computer``, ``data`` (EventData: name → value) or ``user_data`` (UserData:
name → value, carried as a nested binary-XML substitution like Windows does), ``user_data_root``
(the UserData element name, default ``EventXML``), ``process_id``, ``thread_id``, ``sid``.

Values: ``str`` → UTF-16 string, ``int`` → UInt32 (UInt64 when large, Int64 when negative),
``bool``, ``datetime`` → FILETIME, ``uuid.UUID`` → GUID, ``bytes`` → binary, ``None`` → NULL
(optional substitution), or an explicit :class:`Typed` (see :func:`uint8`, :func:`uint16`,
:func:`uint64`, :func:`hex32`, :func:`hex64`, :func:`sid`).

The files are what Windows writes, down to the CRC32s: each record's template definition is
inline the first time a chunk uses it and referenced afterwards; element and attribute names
are defined once per chunk and hashed into the chunk's string table. python-evtx and pyevtx-rs
read them (``tests/core/events/test_evtx_builder.py`` proves it). :func:`corrupt_chunk`
damages a chunk for tolerance tests.
"""

from __future__ import annotations

import hashlib
import struct
import uuid
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

FILE_HEADER_SIZE = 0x1000
CHUNK_SIZE = 0x10000
_RECORDS_START = 0x200
_EVENT_NS = "http://schemas.microsoft.com/win/2004/08/events/event"
_EPOCH = datetime(1601, 1, 1, tzinfo=UTC)

# Substitution value types.
T_NULL, T_WSTRING, T_UINT8, T_UINT16, T_INT64 = 0x00, 0x01, 0x04, 0x06, 0x09
T_UINT32, T_UINT64, T_BOOL, T_BINARY, T_GUID = 0x08, 0x0A, 0x0D, 0x0E, 0x0F
T_FILETIME, T_SID, T_HEX32, T_HEX64, T_BXML = 0x11, 0x13, 0x14, 0x15, 0x21


@dataclass(frozen=True)
class Typed:
    """A substitution value with an explicit EVTX type (``T_*``)."""

    type: int
    value: Any


def uint8(v: int) -> Typed:
    return Typed(T_UINT8, v)


def uint16(v: int) -> Typed:
    return Typed(T_UINT16, v)


def uint64(v: int) -> Typed:
    return Typed(T_UINT64, v)


def hex32(v: int) -> Typed:
    return Typed(T_HEX32, v)


def hex64(v: int) -> Typed:
    return Typed(T_HEX64, v)


def sid(text: str) -> Typed:
    """A SID such as ``S-1-5-18``."""
    return Typed(T_SID, text)


def filetime(dt: datetime) -> int:
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    delta = dt - _EPOCH
    return (delta.days * 86400 + delta.seconds) * 10_000_000 + delta.microseconds * 10


def _typed(value: object) -> Typed:
    if isinstance(value, Typed):
        return value
    if value is None:
        return Typed(T_NULL, None)
    if isinstance(value, bool):
        return Typed(T_BOOL, value)
    if isinstance(value, int):
        if value < 0:
            return Typed(T_INT64, value)
        return Typed(T_UINT32 if value < 2**32 else T_UINT64, value)
    if isinstance(value, str):
        return Typed(T_WSTRING, value)
    if isinstance(value, datetime):
        return Typed(T_FILETIME, value)
    if isinstance(value, uuid.UUID):
        return Typed(T_GUID, value)
    if isinstance(value, bytes):
        return Typed(T_BINARY, value)
    raise TypeError(f"no EVTX type for {value!r}")


def _encode(v: Typed) -> bytes:
    t, x = v.type, v.value
    if t == T_NULL:
        return b""
    if t == T_WSTRING:
        return (str(x) + "\x00").encode("utf-16-le")
    fixed = {T_UINT8: "<B", T_UINT16: "<H", T_UINT32: "<I", T_UINT64: "<Q", T_INT64: "<q",
             T_HEX32: "<I", T_HEX64: "<Q", T_BOOL: "<I"}  # fmt: skip
    if t in fixed:
        return struct.pack(fixed[t], int(x))
    if t == T_FILETIME:
        return struct.pack("<Q", filetime(x))
    if t == T_GUID:
        return uuid.UUID(str(x)).bytes_le
    if t in (T_BINARY, T_BXML):
        return bytes(x)
    if t == T_SID:
        parts = str(x).split("-")
        subs = [int(p) for p in parts[3:]]
        return (
            bytes([int(parts[1]), len(subs)])
            + int(parts[2]).to_bytes(6, "big")
            + struct.pack(f"<{len(subs)}I", *subs)
        )
    raise ValueError(f"cannot encode type 0x{t:02x}")


def _name_hash(name: str) -> int:
    h = 0
    for ch in name:
        h = (h * 65599 + ord(ch)) & 0xFFFFFFFF
    return h & 0xFFFF


# -- templates: a tiny element model -----------------------------------------------------


@dataclass
class _Sub:
    index: int
    type: int
    optional: bool = False


@dataclass
class _El:
    name: str
    attrs: list[tuple[str, str | _Sub]]
    content: list[str | _Sub | _El]


_SYSTEM_TYPES = [
    ("provider", T_WSTRING), ("event_id", T_UINT16), ("qualifiers", T_UINT16),
    ("version", T_UINT8), ("level", T_UINT8), ("task", T_UINT16), ("opcode", T_UINT8),
    ("keywords", T_HEX64), ("time", T_FILETIME), ("record_id", T_UINT64),
    ("process_id", T_UINT32), ("thread_id", T_UINT32), ("channel", T_WSTRING),
    ("computer", T_WSTRING), ("sid", T_SID),
]  # fmt: skip
_SYS = {name: i for i, (name, _) in enumerate(_SYSTEM_TYPES)}


def _system_element() -> _El:
    def s(name: str, optional: bool = False) -> _Sub:
        return _Sub(_SYS[name], dict(_SYSTEM_TYPES)[name], optional)

    return _El("System", [], [
        _El("Provider", [("Name", s("provider"))], []),
        _El("EventID", [("Qualifiers", s("qualifiers", True))], [s("event_id")]),
        _El("Version", [], [s("version")]),
        _El("Level", [], [s("level")]),
        _El("Task", [], [s("task")]),
        _El("Opcode", [], [s("opcode")]),
        _El("Keywords", [], [s("keywords")]),
        _El("TimeCreated", [("SystemTime", s("time"))], []),
        _El("EventRecordID", [], [s("record_id")]),
        _El("Correlation", [], []),
        _El("Execution", [("ProcessID", s("process_id")), ("ThreadID", s("thread_id"))], []),
        _El("Channel", [], [s("channel")]),
        _El("Computer", [], [s("computer")]),
        _El("Security", [("UserID", s("sid", True))], []),
    ])  # fmt: skip


def _event_template(data_types: Sequence[tuple[str, int]], user_data: bool) -> _El:
    base = len(_SYSTEM_TYPES)
    if user_data:
        section = _El("UserData", [], [_Sub(base, T_BXML, True)])
    else:
        section = _El("EventData", [], [
            _El("Data", [("Name", name)], [_Sub(base + i, t, True)])
            for i, (name, t) in enumerate(data_types)
        ])  # fmt: skip
    return _El("Event", [("xmlns", _EVENT_NS)], [_system_element(), section])


def _user_data_template(root: str, data_types: Sequence[tuple[str, int]]) -> _El:
    ns = "http://manifests.microsoft.com/win/2004/08/windows/eventlog"
    fields = [_El(name, [], [_Sub(i, t, True)]) for i, (name, t) in enumerate(data_types)]
    return _El(root, [("xmlns", ns)], list(fields))


# -- chunk writing ------------------------------------------------------------------------


class _ChunkFull(Exception):
    pass


class _Chunk:
    def __init__(self) -> None:
        self.buf = bytearray(CHUNK_SIZE)
        self.pos = _RECORDS_START
        self.names: dict[str, int] = {}
        self.templates: dict[bytes, int] = {}
        self.string_heads = [0] * 64
        self.template_heads = [0] * 32
        self.first_id: int | None = None
        self.last_id = 0
        self.last_offset = 0

    def snapshot(self) -> tuple[Any, ...]:
        return (self.pos, dict(self.names), dict(self.templates), list(self.string_heads),
                list(self.template_heads))  # fmt: skip

    def restore(self, snap: tuple[Any, ...]) -> None:
        self.pos, self.names, self.templates, self.string_heads, self.template_heads = snap


class _Out:
    """Bytes being written at a known chunk offset (``base``)."""

    def __init__(self, chunk: _Chunk, base: int) -> None:
        self.chunk = chunk
        self.base = base
        self.b = bytearray()

    def here(self) -> int:
        return self.base + len(self.b)

    def name(self, name: str) -> None:
        known = self.chunk.names.get(name)
        if known is not None:
            self.b += struct.pack("<I", known)
            return
        off = self.here() + 4
        self.b += struct.pack("<I", off)
        h = _name_hash(name)
        bucket = h % 64
        self.b += struct.pack("<IHH", self.chunk.string_heads[bucket], h, len(name))
        self.b += name.encode("utf-16-le") + b"\x00\x00"
        self.chunk.string_heads[bucket] = off
        self.chunk.names[name] = off

    def text(self, tok: int, text: str) -> None:
        self.b += bytes([tok, 0x01]) + struct.pack("<H", len(text)) + text.encode("utf-16-le")

    def value(self, v: str | _Sub) -> None:
        if isinstance(v, _Sub):
            self.b += bytes([0x0E if v.optional else 0x0D]) + struct.pack("<HB", v.index, v.type)
        else:
            self.text(0x05, v)

    def element(self, el: _El) -> None:
        start = len(self.b)
        self.b += bytes([0x41 if el.attrs else 0x01]) + struct.pack("<hI", -1, 0)
        self.name(el.name)
        if el.attrs:
            size_at = len(self.b)
            self.b += b"\x00\x00\x00\x00"
            for i, (name, val) in enumerate(el.attrs):
                self.b += bytes([0x46 if i < len(el.attrs) - 1 else 0x06])
                self.name(name)
                self.value(val)
            struct.pack_into("<I", self.b, size_at, len(self.b) - size_at - 4)
        if el.content:
            self.b += b"\x02"
            for item in el.content:
                if isinstance(item, _El):
                    self.element(item)
                else:
                    self.value(item)
            self.b += b"\x04"
        else:
            self.b += b"\x03"
        struct.pack_into("<I", self.b, start + 3, len(self.b) - start - 7)

    def instance(self, key: bytes, template: _El, values: Sequence[Typed]) -> int:
        """Stream start + template instance (+ inline definition) + substitution array.

        Returns where (in ``self.b``) the value declarations start.
        """
        self.b += b"\x0f\x01\x01\x00"
        guid = uuid.UUID(bytes=hashlib.md5(key).digest())  # an id, not security
        tid = struct.unpack("<I", guid.bytes_le[:4])[0]
        known = self.chunk.templates.get(key)
        if known is not None:
            self.b += b"\x0c\x01" + struct.pack("<II", tid, known)
        else:
            off = self.here() + 10
            self.b += b"\x0c\x01" + struct.pack("<II", tid, off)
            bucket = tid % 32
            head_at = len(self.b)
            self.b += struct.pack("<I", self.chunk.template_heads[bucket]) + guid.bytes_le
            size_at = len(self.b)
            self.b += b"\x00\x00\x00\x00\x0f\x01\x01\x00"
            self.element(template)
            self.b += b"\x00"
            struct.pack_into("<I", self.b, size_at, len(self.b) - size_at - 4)
            assert head_at + self.base == off
            self.chunk.template_heads[bucket] = off
            self.chunk.templates[key] = off
        encoded = [_encode(v) for v in values]
        self.b += struct.pack("<I", len(values))
        decls = len(self.b)
        for v, e in zip(values, encoded, strict=True):
            self.b += struct.pack("<HBB", len(e), v.type, 0)
        for e in encoded:
            self.b += e
        return decls


def _nested(user_data: dict[str, object], root: str) -> tuple[bytes, list[Typed], _El]:
    typed = [_typed(v) for v in user_data.values()]
    shape = [(n, t.type) for n, t in zip(user_data, typed, strict=True)]
    key = repr(("user", root, shape)).encode()
    return key, typed, _user_data_template(root, shape)


def _record_bytes(chunk: _Chunk, rec: dict[str, Any], record_id: int) -> bytes:
    t = rec["time"]
    t = t if t.tzinfo else t.replace(tzinfo=UTC)
    user = rec.get("user_data")
    data: dict[str, object] = rec.get("data") or {}
    sysvals = {
        "provider": rec["provider"], "event_id": uint16(rec["event_id"]), "qualifiers": None,
        "version": uint8(0), "level": uint8(rec.get("level", 4)), "task": uint16(0),
        "opcode": uint8(0), "keywords": hex64(0x8000000000000000), "time": t,
        "record_id": uint64(record_id), "process_id": rec.get("process_id", 4),
        "thread_id": rec.get("thread_id", 8), "channel": rec["channel"],
        "computer": rec.get("computer", "TESTPC"),
        "sid": sid(rec["sid"]) if rec.get("sid") else None,
    }  # fmt: skip
    values = [_typed(sysvals[name]) for name, _ in _SYSTEM_TYPES]
    if user is not None:
        shape: list[tuple[str, int]] = []
        key = b"event-user"
        template = _event_template(shape, True)
    else:
        typed = [_typed(v) for v in data.values()]
        values += typed
        shape = [(n, tv.type) for n, tv in zip(data, typed, strict=True)]
        key = repr(("event", shape)).encode()
        template = _event_template(shape, False)
    out = _Out(chunk, chunk.pos + 0x18)
    if user is None:
        out.instance(key, template, values)
    else:
        # The nested fragment is the last value, so it starts where the array ends: write
        # an empty placeholder, build the fragment there, then patch its declared size.
        decls = out.instance(key, template, [*values, Typed(T_BXML, b"")])
        nkey, ntyped, ntemplate = _nested(user, rec.get("user_data_root", "EventXML"))
        nested = _Out(chunk, out.here())
        nested.instance(nkey, ntemplate, ntyped)
        nested.b += b"\x00"
        struct.pack_into("<H", out.b, decls + 4 * len(values), len(nested.b))
        out.b += nested.b
    body = bytes(out.b) + b"\x00"
    size = 0x18 + len(body) + 4
    header = b"\x2a\x2a\x00\x00" + struct.pack("<IQQ", size, record_id, filetime(t))
    return header + body + struct.pack("<I", size)


def _finish_chunk(chunk: _Chunk, first_number: int) -> bytes:
    b = chunk.buf
    count = (chunk.last_id - chunk.first_id + 1) if chunk.first_id is not None else 0
    first = chunk.first_id if chunk.first_id is not None else 2**64 - 1
    last = chunk.last_id if chunk.first_id is not None else 2**64 - 1
    file_first = first_number if count else 1
    file_last = first_number + count - 1 if count else 2**64 - 1
    b[0:8] = b"ElfChnk\x00"
    struct.pack_into("<QQQQIII", b, 8, file_first, file_last, first, last, 0x80,
                     chunk.last_offset, chunk.pos)  # fmt: skip
    struct.pack_into("<I", b, 0x34, zlib.crc32(bytes(b[_RECORDS_START : chunk.pos])))
    struct.pack_into("<I", b, 0x78, 1)
    struct.pack_into("<64I", b, 0x80, *chunk.string_heads)
    struct.pack_into("<32I", b, 0x180, *chunk.template_heads)
    struct.pack_into("<I", b, 0x7C, zlib.crc32(bytes(b[:0x78]) + bytes(b[0x80:0x200])))
    return bytes(b)


def write_evtx(path: str | Path, records: Sequence[dict[str, Any]]) -> Path:
    """Write ``records`` (see the module docstring) as an ``.evtx`` file; returns the path.

    An empty list gives an empty log like Windows writes (one chunk, no records).
    """
    chunks: list[bytes] = []
    chunk = _Chunk()
    number = 1  # record numbers within the file (chunk header "file first/last")
    chunk_first_number = 1
    next_id = 1
    for rec in records:
        record_id = int(rec.get("record_id", next_id))
        next_id = record_id + 1
        for _attempt in range(2):
            snap = chunk.snapshot()
            data = _record_bytes(chunk, rec, record_id)
            if chunk.pos + len(data) <= CHUNK_SIZE:
                break
            chunk.restore(snap)
            if chunk.first_id is None:
                raise ValueError(f"record {record_id} does not fit in one chunk")
            chunks.append(_finish_chunk(chunk, chunk_first_number))
            chunk_first_number = number
            chunk = _Chunk()
        chunk.buf[chunk.pos : chunk.pos + len(data)] = data
        chunk.last_offset = chunk.pos
        chunk.pos += len(data)
        chunk.first_id = record_id if chunk.first_id is None else chunk.first_id
        chunk.last_id = record_id
        number += 1
    chunks.append(_finish_chunk(chunk, chunk_first_number))
    header = bytearray(FILE_HEADER_SIZE)
    header[0:8] = b"ElfFile\x00"
    struct.pack_into("<QQQIHHHH", header, 8, 0, len(chunks) - 1, next_id, 0x80, 1, 3,
                     FILE_HEADER_SIZE, len(chunks))  # fmt: skip
    struct.pack_into("<I", header, 0x7C, zlib.crc32(bytes(header[:0x78])))
    path = Path(path)
    path.write_bytes(bytes(header) + b"".join(chunks))
    return path


def chunk_offset(index: int) -> int:
    """File offset of chunk ``index``."""
    return FILE_HEADER_SIZE + index * CHUNK_SIZE


def corrupt_chunk(path: str | Path, index: int, *, at: int = 0x400, count: int = 16) -> None:
    """Flip ``count`` bytes of chunk ``index`` at chunk offset ``at`` (0 hits the signature,
    0x10..0x78 the header fields, 0x200+ the records)."""
    path = Path(path)
    data = bytearray(path.read_bytes())
    start = chunk_offset(index) + at
    for i in range(start, start + count):
        data[i] ^= 0xFF
    path.write_bytes(bytes(data))

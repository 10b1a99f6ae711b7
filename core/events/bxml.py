"""Fast EVTX binary-XML decoding: template field maps and substitution values.

Rendering a record's XML (python-evtx ``Record.xml()``) costs milliseconds because it walks
the whole template for every record. A record is, however, just a *template instance* plus
an array of typed substitution values. This module parses each template **once** into a
:class:`TemplateMap` — which substitution index (or literal text) holds the EventID, Level,
TimeCreated, Channel, … and each EventData / UserData field — and then decodes every record
from its substitution array alone.

All positions are offsets into one 64 KB chunk buffer (chunk-relative), the frame EVTX uses
for its own name and template offsets. Anything unexpected raises :class:`BxmlError`; the
caller falls back to python-evtx for that record.
"""

from __future__ import annotations

import struct
from codecs import utf_16_le_decode as _utf16le
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import accumulate
from operator import itemgetter
from typing import Any
from uuid import UUID

_Unpack = Callable[[bytes, int], tuple[int]]
_U16: _Unpack = struct.Struct("<H").unpack_from
_U32: _Unpack = struct.Struct("<I").unpack_from
_U64: _Unpack = struct.Struct("<Q").unpack_from
# Strings are decoded with the codec function itself (``final=True`` as bytes.decode does):
# bytes.decode("utf-16-le") looks the codec up and goes through a Python wrapper each time,
# four times the cost, for the ~5 strings of every record.

#: One piece of an element's text or attribute value: literal text, or a substitution index.
Part = str | int
Parts = tuple[Part, ...]
#: A data field: (name parts, value parts, dropped when blank). Blank-droppable items are the
#: text content of sections (usually a nested fragment; absent when the event has no data).
DataItem = tuple[Parts, Parts, bool]

# Binary XML tokens (low nibble; 0x40 is a "has more / has attributes" flag).
_EOF = 0x00
_OPEN = 0x01
_CLOSE_START = 0x02
_CLOSE_EMPTY = 0x03
_END = 0x04
_VALUE = 0x05
_ATTR = 0x06
_CDATA = 0x07
_CHARREF = 0x08
_ENTITY = 0x09
_PI_TARGET = 0x0A
_PI_DATA = 0x0B
_TEMPLATE = 0x0C
_SUB = 0x0D
_OPT_SUB = 0x0E
_STREAM_START = 0x0F

_PART_TOKENS = frozenset((_VALUE, _SUB, _OPT_SUB, _CHARREF, _ENTITY, _CDATA))
_SUBS = frozenset((_SUB, _OPT_SUB))
_ENDS = frozenset((_CLOSE_EMPTY, _END))

#: Value type of a substitution holding a nested binary-XML fragment (UserData).
BXML_TYPE = 0x21

_ENTITIES = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}
_FILETIME_EPOCH = datetime(1601, 1, 1, tzinfo=UTC)
#: How a FILETIME of 0 ("never") is shown: the smallest datetime, in UTC.
MIN_TIME = datetime.min.replace(tzinfo=UTC)
_MAX_DEPTH = 64


class BxmlError(ValueError):
    """The binary XML is not what this decoder understands."""


@dataclass(slots=True)
class Element:
    """One element of a template body (names resolved, values still symbolic)."""

    name: str
    attrs: dict[str, Parts] = field(default_factory=dict)
    children: list[Element] = field(default_factory=list)
    content: list[Part] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class TemplateMap:
    """Where each field of an event lives in a template: substitution index or literal text.

    ``system`` maps ``provider``, ``event_id``, ``level``, ``time``, ``record_id``,
    ``channel``, ``computer`` to their parts. ``data`` lists the EventData / UserData fields
    in document order (see :data:`DataItem`).
    """

    system: dict[str, Parts]
    data: tuple[DataItem, ...]
    #: ``data`` worked out once per template for :func:`_collect` (see :func:`_plan`).
    plan: tuple[PlanItem, ...]
    #: Per :data:`SYSTEM_KEYS`: the index of the one substitution that holds the field, or -1
    #: when it is literal text, several parts or absent (decoded the general way).
    slots: tuple[int, ...]
    #: Per :data:`SYSTEM_KEYS`: the text field's text when the template alone gives it
    #: (literal parts, or none: ""), else None (and None for the other fields).
    constants: tuple[str | None, ...]
    #: When time, event id, level, record id, provider and channel are each one
    #: substitution: (picks those six out of a substitution array, the highest index).
    usual: tuple[Callable[[Sequence[int]], tuple[int, ...]], int] | None = None


#: A data item ready to decode: (constant name or None, index of its one substitution or -1,
#: name parts, value parts, dropped when blank).
PlanItem = tuple[str | None, int, Parts, Parts, bool]
#: The System fields a record keeps, in the order of :attr:`TemplateMap.slots`.
SYSTEM_KEYS = ("provider", "event_id", "level", "time", "record_id", "channel", "computer")
#: The System fields every Windows event template holds as substitutions, and their types and
#: sizes there (FILETIME, UInt16, UInt8, UInt64, two strings of any size).
_USUAL_KEYS = ("time", "event_id", "level", "record_id", "provider", "channel")
_USUAL_TYPES = (0x11, 0x06, 0x04, 0x0A, 0x01, 0x01)
_TEXT_KEYS = frozenset(("provider", "channel", "computer"))
_PROVIDER, _CHANNEL, _COMPUTER = (
    SYSTEM_KEYS.index(key) for key in ("provider", "channel", "computer")
)


def _plan(data: tuple[DataItem, ...]) -> tuple[PlanItem, ...]:
    """Most fields are one substitution under a literal name: know that per template, not per
    record (a log holds thousands of records of a few dozen templates)."""
    out: list[PlanItem] = []
    for name_parts, value_parts, optional in data:
        name = name_parts[0] if len(name_parts) == 1 and isinstance(name_parts[0], str) else None
        out.append((name, _single_index(value_parts), name_parts, value_parts, optional))
    return tuple(out)


def _single_index(parts: Parts | None) -> int:
    """The substitution index when ``parts`` is exactly one substitution, else -1."""
    if parts is not None and len(parts) == 1 and isinstance(parts[0], int):
        return parts[0]
    return -1


_NO_SLOTS = (-1,) * len(SYSTEM_KEYS)
_NO_CONSTANTS = ("",) * len(SYSTEM_KEYS)


def _constant(parts: Parts) -> str | None:
    texts = [part for part in parts if isinstance(part, str)]
    return "".join(texts) if len(texts) == len(parts) else None


def _template_map(system: dict[str, Parts], data: tuple[DataItem, ...]) -> TemplateMap:
    if not system:  # nested fragments
        return TemplateMap(system, data, _plan(data), _NO_SLOTS, _NO_CONSTANTS)
    slots = tuple([_single_index(system.get(key)) for key in SYSTEM_KEYS])
    constants = tuple(
        [_constant(system.get(key, ())) if key in _TEXT_KEYS else None for key in SYSTEM_KEYS]
    )
    picked = [slots[SYSTEM_KEYS.index(key)] for key in _USUAL_KEYS]
    usual = (itemgetter(*picked), max(picked)) if min(picked) >= 0 else None
    return TemplateMap(system, data, _plan(data), slots, constants, usual)


# -- names and text -----------------------------------------------------------------------


def _utf16(b: bytes, start: int, nchars: int) -> str:
    end = start + 2 * nchars
    if end > len(b):
        raise BxmlError(f"string runs past the chunk end at 0x{start:x}")
    return _utf16le(b[start:end], "replace", True)[0]


def _name(b: bytes, name_off: int, p: int, names: dict[int, str]) -> tuple[str, int]:
    """Resolve a name reference at ``p``; an inline name (defined right here) is skipped over."""
    if name_off == p:
        nchars = _U16(b, p + 6)[0]
        name = _utf16(b, p + 8, nchars)
        names[name_off] = name
        return name, p + 8 + 2 * nchars + 2
    cached = names.get(name_off)
    if cached is None:
        if name_off + 8 > len(b):
            raise BxmlError(f"name offset 0x{name_off:x} outside the chunk")
        cached = _utf16(b, name_off + 8, _U16(b, name_off + 6)[0])
        names[name_off] = cached
    return cached, p


# -- template bodies ----------------------------------------------------------------------

#: A name reference met while parsing: (where its offset field is, the offset it holds, where
#: the parse goes on — the offset equals it when the name is defined right there, inline).
NameRef = tuple[int, int, int]


def parse_fragment(
    b: bytes, p: int, names: dict[int, str], refs: list[NameRef] | None = None
) -> tuple[list[Element], int]:
    """Parse binary XML from ``p`` up to its end-of-stream token; return the top elements.

    Every chunk defines its templates anew, so this runs hundreds of times per log: the
    common tokens (a name already resolved, a substitution) are handled inline, the rest by
    :func:`_name` and :func:`_read_part`. ``refs`` collects every name reference, for
    :class:`TemplateCache`.
    """
    roots: list[Element] = []
    stack: list[Element] = []
    n = len(b)
    while True:
        if p >= n:
            raise BxmlError("binary XML runs past the chunk end")
        tok = b[p]
        t = tok & 0x0F
        if t == _OPEN:
            name_off = _U32(b, p + 7)[0]
            if refs is not None:
                refs.append((p + 7, name_off, p + 11))
            p += 11
            name = names.get(name_off) if name_off != p else None
            if name is None:
                name, p = _name(b, name_off, p, names)
            if tok & 0x40:
                p += 4  # attribute list size
            el = Element(name, {}, [], [])
            (stack[-1].children if stack else roots).append(el)
            stack.append(el)
            if len(stack) > _MAX_DEPTH:
                raise BxmlError("elements nested too deeply")
        elif t == _CLOSE_START:
            p += 1
        elif t in _ENDS:
            if not stack:
                raise BxmlError("end of an element that was never opened")
            stack.pop()
            p += 1
        elif t == _ATTR:
            if not stack:
                raise BxmlError("attribute outside an element")
            name_off = _U32(b, p + 1)[0]
            if refs is not None:
                refs.append((p + 1, name_off, p + 5))
            p += 5
            name = names.get(name_off) if name_off != p else None
            if name is None:
                name, p = _name(b, name_off, p, names)
            parts: list[Part] = []
            # The value: consecutive text / substitution tokens.
            while p < n:
                t = b[p] & 0x0F
                if t in _SUBS:
                    parts.append(_U16(b, p + 1)[0])
                    p += 4
                elif t in _PART_TOKENS:
                    p = _read_part(b, p, parts, names, refs)
                else:
                    break
            stack[-1].attrs[name] = tuple(parts)
        elif t in _SUBS:
            if not stack:
                raise BxmlError("text outside an element")
            stack[-1].content.append(_U16(b, p + 1)[0])
            p += 4
        elif t == _EOF:
            return roots, p + 1
        elif t == _STREAM_START:
            p += 4
        elif t in _PART_TOKENS:
            if not stack:
                raise BxmlError("text outside an element")
            p = _read_part(b, p, stack[-1].content, names, refs)
        elif t == _PI_TARGET:
            if refs is not None:
                refs.append((p + 1, _U32(b, p + 1)[0], p + 5))
            _, p = _name(b, _U32(b, p + 1)[0], p + 5, names)
        elif t == _PI_DATA:
            p += 3 + 2 * _U16(b, p + 1)[0]
        else:
            raise BxmlError(f"unexpected token 0x{tok:02x} at 0x{p:x}")


def _read_part(
    b: bytes, p: int, out: list[Part], names: dict[int, str], refs: list[NameRef] | None = None
) -> int:
    tok = b[p] & 0x0F
    if tok == _VALUE:
        if b[p + 1] != 0x01:
            raise BxmlError(f"literal value of type 0x{b[p + 1]:02x}")
        nchars = _U16(b, p + 2)[0]
        out.append(_utf16(b, p + 4, nchars))
        return p + 4 + 2 * nchars
    if tok in (_SUB, _OPT_SUB):
        out.append(_U16(b, p + 1)[0])
        return p + 4
    if tok == _CHARREF:
        out.append(chr(_U16(b, p + 1)[0]))
        return p + 3
    if tok == _ENTITY:
        if refs is not None:
            refs.append((p + 1, _U32(b, p + 1)[0], p + 5))
        name, p = _name(b, _U32(b, p + 1)[0], p + 5, names)
        out.append(_ENTITIES.get(name, f"&{name};"))
        return p
    # CDATA
    nchars = _U16(b, p + 1)[0]
    out.append(_utf16(b, p + 3, nchars))
    return p + 3 + 2 * nchars


# -- field maps ---------------------------------------------------------------------------

_SYSTEM_FIELDS: dict[str, tuple[str, str | None]] = {
    # element name -> (map key, attribute name or None for the element's text)
    "Provider": ("provider", "Name"),
    "EventID": ("event_id", None),
    "Level": ("level", None),
    "TimeCreated": ("time", "SystemTime"),
    "EventRecordID": ("record_id", None),
    "Channel": ("channel", None),
    "Computer": ("computer", None),
}
#: Top-level event children that hold no event data (forwarded-event rendering text).
_SKIPPED_SECTIONS = frozenset({"System", "RenderingInfo"})


def _leaves(el: Element, out: list[DataItem]) -> None:
    """UserData-style fields: every element without child elements is a field."""
    if el.children:
        for child in el.children:
            _leaves(child, out)
        if el.content:
            out.append(((el.name,), tuple(el.content), True))
        return
    name = el.attrs.get("Name") if el.name == "Data" else None
    out.append((name or (el.name,), tuple(el.content), False))


def _sections(sections: list[Element], data: list[DataItem]) -> None:
    """Data fields of the event's sections (EventData, UserData, …); System is handled apart."""
    for section in sections:
        if section.name in _SKIPPED_SECTIONS:
            continue
        if section.name == "EventData":
            for i, el in enumerate(section.children, 1):
                # Unnamed <Data> (classic providers) are named by position: Data1, Data2, …
                name = (el.attrs.get("Name") or (f"Data{i}",)) if el.name == "Data" else (el.name,)
                data.append((name, tuple(el.content), False))
        else:
            for el in section.children:
                _leaves(el, data)
        if section.content:
            # Text or a nested fragment (a BXml substitution, expanded when decoding).
            data.append(((section.name,), tuple(section.content), True))


def event_map(roots: list[Element]) -> TemplateMap:
    """Field map of a record template whose root element is ``<Event>``."""
    system: dict[str, Parts] = {}
    data: list[DataItem] = []
    if not roots:
        return _template_map(system, ())
    event = roots[0]
    for section in event.children:
        if section.name != "System":
            continue
        for el in section.children:
            spec = _SYSTEM_FIELDS.get(el.name)
            if spec is None:
                continue
            key, attr = spec
            if attr is None:
                system[key] = tuple(el.content)
            elif attr in el.attrs:
                system[key] = el.attrs[attr]
    _sections(event.children, data)
    if event.content:
        # Many providers put the whole EventData / UserData in one BXml substitution.
        data.append(((event.name,), tuple(event.content), True))
    return _template_map(system, tuple(data))


def fragment_map(roots: list[Element]) -> TemplateMap:
    """Field map of a nested fragment (an EventData / UserData payload)."""
    data: list[DataItem] = []
    _sections(roots, data)
    return _template_map({}, tuple(data))


# -- substitution values ------------------------------------------------------------------

#: (type, start, size) of one substitution value inside the chunk buffer.
Value = tuple[int, int, int]


def filetime_to_datetime(raw: int) -> datetime:
    """A FILETIME as an aware UTC datetime; 0 ("never") and overflows give :data:`MIN_TIME`."""
    if raw == 0:
        return MIN_TIME
    try:
        return _FILETIME_EPOCH + timedelta(0, 0, raw // 10)  # positional: a third faster
    except OverflowError:
        return MIN_TIME


def filetime_text(raw: int) -> str:
    """A FILETIME the way the Event Viewer's XML shows it (``2024-04-02T16:13:04.1234567Z``)."""
    dt = filetime_to_datetime(raw)
    return f"{dt:%Y-%m-%dT%H:%M:%S}.{raw % 10_000_000:07d}Z"


def _guid(b: bytes, s: int) -> str:
    return "{" + str(UUID(bytes_le=bytes(b[s : s + 16]))).upper() + "}"


def _sid(b: bytes, s: int, size: int) -> str:
    if size < 8:
        raise BxmlError("SID too short")
    count = b[s + 1]
    authority = int.from_bytes(b[s + 2 : s + 8], "big")
    subs = struct.unpack_from(f"<{count}I", b, s + 8)
    return "-".join(["S", str(b[s]), str(authority), *map(str, subs)])


def _systemtime(b: bytes, s: int) -> str:
    y, mo, _dow, d, h, mi, sec, ms = struct.unpack_from("<8H", b, s)
    return f"{y:04d}-{mo:02d}-{d:02d}T{h:02d}:{mi:02d}:{sec:02d}.{ms:03d}Z"


_INT_FORMATS = {
    0x03: "b", 0x04: "B", 0x05: "h", 0x06: "H", 0x07: "i", 0x08: "I", 0x09: "q", 0x0A: "Q",
    0x0B: "f", 0x0C: "d", 0x14: "I", 0x15: "Q",
}  # fmt: skip
_NUMBER: dict[int, Callable[[bytes, int], tuple[Any, ...]]] = {
    t: struct.Struct("<" + f).unpack_from for t, f in _INT_FORMATS.items()
}


def scalar_text(t: int, b: bytes, s: int, size: int) -> str:
    """Text of one scalar substitution value of type ``t`` (not an array, not BXml)."""
    if t == 0x01:
        return _utf16le(b[s : s + size], "replace", True)[0].rstrip("\x00")
    if t in (0x04, 0x06, 0x08, 0x0A, 0x03, 0x05, 0x07, 0x09):
        return str(_NUMBER[t](b, s)[0])
    if t == 0x00:
        return ""
    if t in (0x14, 0x15):
        return hex(_NUMBER[t](b, s)[0])
    if t == 0x11:
        return filetime_text(_U64(b, s)[0])
    if t == 0x0F:
        return _guid(b, s)
    if t == 0x13:
        return _sid(b, s, size)
    if t == 0x02:
        return b[s : s + size].decode("latin-1").rstrip("\x00")
    if t in (0x0B, 0x0C):
        return repr(_NUMBER[t](b, s)[0])
    if t == 0x0D:
        return "true" if _U32(b, s)[0] else "false"
    if t == 0x0E:
        return b[s : s + size].hex().upper()
    if t == 0x10:
        return str(int.from_bytes(b[s : s + size], "little"))
    if t == 0x12:
        return _systemtime(b, s)
    raise BxmlError(f"value type 0x{t:02x}")


_ITEM_SIZES = {
    0x03: 1, 0x04: 1, 0x05: 2, 0x06: 2, 0x07: 4, 0x08: 4, 0x09: 8, 0x0A: 8, 0x0B: 4,
    0x0C: 8, 0x0D: 4, 0x0F: 16, 0x11: 8, 0x12: 16, 0x14: 4, 0x15: 8,
}  # fmt: skip


def value_text(v: Value, b: bytes) -> str:
    """Text of a substitution value; arrays are joined with ", "."""
    t, s, size = v
    if t & 0x80:
        item = t & 0x7F
        if item == 0x01:
            text = _utf16le(b[s : s + size], "replace", True)[0].rstrip("\x00")
            return ", ".join(text.split("\x00"))
        step = _ITEM_SIZES.get(item)
        if step is None:
            raise BxmlError(f"array of type 0x{item:02x}")
        return ", ".join(scalar_text(item, b, i, step) for i in range(s, s + size - step + 1, step))
    return scalar_text(t, b, s, size)


def value_int(v: Value, b: bytes) -> int:
    t, s, size = v
    if t in (0x04, 0x06, 0x08, 0x0A, 0x14, 0x15, 0x10) and size in (1, 2, 4, 8):
        return int.from_bytes(b[s : s + size], "little")
    return int(value_text(v, b), 0)


def value_time(v: Value, b: bytes) -> datetime:
    t, s, size = v
    if t == 0x11 and size >= 8:
        return filetime_to_datetime(_U64(b, s)[0])
    text = value_text(v, b)
    if not text:
        return MIN_TIME
    dt = datetime.fromisoformat(text)
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


# -- records ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Parsed:
    """A template parsed in an earlier chunk, and what another chunk's copy must hold to
    parse the same way (see :class:`TemplateCache`).

    The template's bytes are kept as one little-endian number: the offset fields of names the
    template defines itself (``weights``: 1 at each field's lowest byte) move with it; the
    chain links of those definitions, never read by the parser, and the offset fields of names
    defined elsewhere in the chunk, checked by :func:`_same_names`, are left out (``mask``).
    """

    base: int
    length: int
    value: int
    weights: int
    mask: int
    #: How far the template may move: its moving fields must stay 4-byte values.
    deltas: range
    #: Names defined elsewhere in the chunk: (where the offset field is, where the parse went
    #: on, both relative to ``base``, the name).
    outside: tuple[tuple[int, int, str], ...]
    #: Names the template defines: (offset relative to ``base``, the name).
    inside: tuple[tuple[int, str], ...]
    tmap: TemplateMap


_U32_LIMIT = 1 << 32


class TemplateCache:
    """Template maps of one log, reused across its chunks.

    Every 64 KB chunk defines its templates anew (a log of 146 chunks held 852 definitions of
    151 templates), and parsing them was a sixth of decoding. A definition is the same
    template as one parsed before when it has the same GUID and size and its bytes are the
    same once the offsets of the names it defines itself are moved with it, and each name it
    takes from elsewhere in its chunk (wherever that is) is the same text: the parser reads
    nothing else, so it would build the same map. Anything else is parsed.
    """

    #: Different templates kept under one GUID and size (hostile logs make many).
    MAX_VARIANTS = 8

    def __init__(self) -> None:
        self._known: dict[tuple[bytes, bool], list[_Parsed]] = {}

    def find(
        self, b: bytes, offset: int, names: dict[int, str], fragment: bool
    ) -> TemplateMap | None:
        """The map of the template defined at ``offset``, when it is one parsed before."""
        known = self._known.get((b[offset + 4 : offset + 24], fragment))
        if known is None:
            return None
        base = offset + 24
        for parsed in known:
            delta = base - parsed.base
            end = base + parsed.length
            if (
                delta not in parsed.deltas
                or end > len(b)
                or int.from_bytes(b[base:end], "little") & parsed.mask
                != (parsed.value + delta * parsed.weights) & parsed.mask
                or not _same_names(b, base, names, parsed.outside)
            ):
                continue
            for at, name in parsed.inside:
                names[base + at] = name
            return parsed.tmap
        return None

    def add(
        self,
        b: bytes,
        offset: int,
        end: int,
        refs: list[NameRef],
        names: dict[int, str],
        fragment: bool,
        tmap: TemplateMap,
    ) -> None:
        """Keep a template just parsed from ``offset`` to ``end`` (``refs``: its names)."""
        known = self._known.setdefault((b[offset + 4 : offset + 24], fragment), [])
        if len(known) >= self.MAX_VARIANTS:
            return
        base = offset + 24
        length = end - base
        defined = {name_off for _, name_off, after in refs if name_off == after}
        weights = 0
        mask = (1 << (8 * length)) - 1
        moving: list[int] = []
        outside: list[tuple[int, int, str]] = []
        inside: list[tuple[int, str]] = []
        if any(name_off not in names for _, name_off, _ in refs):
            return  # cannot happen after a parse: each name it met was resolved
        for at, name_off, after in refs:
            if name_off in defined:
                weights += 1 << (8 * (at - base))
                moving.append(name_off)
                if name_off == after:
                    mask &= ~(0xFFFFFFFF << (8 * (name_off - base)))
                    inside.append((name_off - base, names[name_off]))
            else:
                mask &= ~(0xFFFFFFFF << (8 * (at - base)))
                outside.append((at - base, after - base, names[name_off]))
        known.append(
            _Parsed(
                base,
                length,
                int.from_bytes(b[base:end], "little"),
                weights,
                mask,
                range(-min(moving, default=_U32_LIMIT), _U32_LIMIT - max(moving, default=0)),
                tuple(outside),
                tuple(inside),
                tmap,
            )
        )


def _same_names(
    b: bytes, base: int, names: dict[int, str], outside: tuple[tuple[int, int, str], ...]
) -> bool:
    """Whether each name a cached template took from elsewhere in its chunk reads the same
    in this copy, and is not where the copy would define a name inline instead."""
    for at, after, expected in outside:
        name_off = _U32(b, base + at)[0]
        if name_off == base + after:
            return False
        name = names.get(name_off)
        if name is None:
            if name_off + 8 > len(b):
                return False
            nchars = _U16(b, name_off + 6)[0]
            if name_off + 8 + 2 * nchars > len(b):
                return False
            name = names[name_off] = _utf16(b, name_off + 8, nchars)
        if name != expected:
            return False
    return True


@dataclass(slots=True)
class ChunkContext:
    """Per-chunk caches: resolved names and template maps, keyed by chunk offset; ``shared``
    holds the templates of the log's earlier chunks."""

    buf: bytes
    names: dict[int, str] = field(default_factory=dict)
    event_maps: dict[int, TemplateMap] = field(default_factory=dict)
    fragment_maps: dict[int, TemplateMap] = field(default_factory=dict)
    shared: TemplateCache | None = None

    def template_map(self, offset: int, fragment: bool) -> TemplateMap:
        """The map of the template at ``offset``: of a record (``<Event>``) or of a nested
        fragment (callers cache it in ``event_maps`` / ``fragment_maps``)."""
        b = self.buf
        if offset + 24 > len(b):
            raise BxmlError(f"template offset 0x{offset:x} outside the chunk")
        size = _U32(b, offset + 20)[0]
        shared = self.shared
        if shared is not None:
            known = shared.find(b, offset, self.names, fragment)
            if known is not None:
                return known
        refs: list[NameRef] | None = [] if shared is not None else None
        roots, end = parse_fragment(b, offset + 24, self.names, refs)
        if end > offset + 24 + size:
            raise BxmlError(f"template at 0x{offset:x} runs past its declared size")
        tmap = fragment_map(roots) if fragment else event_map(roots)
        if shared is not None and refs is not None:
            shared.add(b, offset, end, refs, self.names, fragment, tmap)
        return tmap


_DECL_FORMATS: dict[int, Callable[[bytes, int], tuple[int, ...]]] = {}
_TWO_U32: Callable[[bytes, int], tuple[int, int]] = struct.Struct("<II").unpack_from

#: A template instance's substitutions: (template offset, types, sizes, starts), the three
#: sequences indexed by substitution number. Kept apart rather than zipped into
#: :data:`Value` tuples: a record reads only some of its substitutions, and building a tuple
#: for each was a tenth of the decoding time.
Subs = tuple[int, Sequence[int], Sequence[int], list[int]]
_NO_SUBS: Subs = (-1, (), (), [])


def read_subs(b: bytes, p: int, end: int) -> Subs:
    """Read a template instance at ``p``: its template offset and substitution array.

    The template offset is -1 when the fragment has no template instance (rare: literal
    binary XML); the caller then parses the fragment itself.
    """
    if p < end and b[p] == _STREAM_START:
        p += 4
    if p >= end or b[p] != _TEMPLATE:
        return _NO_SUBS
    # The template offset, and the substitution count when the template is not defined
    # inline (the usual case: one read instead of two).
    tpl, count = _TWO_U32(b, p + 6)
    p += 10
    if tpl == p:  # template defined inline, here, the first time this chunk uses it
        p += 24 + _U32(b, p + 20)[0]
        if p + 4 > end:
            raise BxmlError("substitution array runs past the record end")
        count = _U32(b, p)[0]
    elif p + 4 > end:
        raise BxmlError("substitution array runs past the record end")
    p += 4
    values_start = p + 4 * count
    if values_start > end:
        raise BxmlError(f"substitution count {count} runs past the record end")
    decl = _DECL_FORMATS.get(count)
    if decl is None:
        decl = _DECL_FORMATS[count] = struct.Struct("<" + "HBx" * count).unpack_from
    raw = decl(b, p)
    sizes = raw[0::2]
    starts = list(accumulate(sizes, initial=values_start))
    if starts.pop() > end:
        raise BxmlError("substitution values run past the record end")
    return tpl, raw[1::2], sizes, starts


def _values(types: Sequence[int], sizes: Sequence[int], starts: list[int]) -> list[Value]:
    """The substitutions as :data:`Value` tuples, for the general (rare) paths."""
    return list(zip(types, starts, sizes, strict=True))


def parts_text(parts: Parts, values: list[Value], b: bytes) -> str:
    if len(parts) == 1:  # the usual case: one literal or one substitution
        part = parts[0]
        if isinstance(part, str):
            return part
        return value_text(values[part], b) if part < len(values) else ""
    out = []
    for part in parts:
        if isinstance(part, str):
            out.append(part)
        elif part < len(values):
            out.append(value_text(values[part], b))
    return "".join(out)


#: (time, channel, provider, event_id, level, computer, data, record_id) of one record;
#: time is None without TimeCreated, record_id None without EventRecordID.
Fields = tuple[datetime | None, str, str, int, int, str, dict[str, str], int | None]

_UNSIGNED = frozenset((0x04, 0x06, 0x08, 0x0A, 0x14, 0x15, 0x10))
_INT_SIZES = frozenset((1, 2, 4, 8))


def _text_field(tmap: TemplateMap, k: int, subs: Subs, b: bytes) -> str:
    """System text field number ``k`` of :data:`SYSTEM_KEYS` (provider, channel, computer)."""
    constant = tmap.constants[k]
    if constant is not None:  # literal in the template (the usual Computer)
        return constant
    _, types, sizes, starts = subs
    i = tmap.slots[k]
    if 0 <= i < len(types):
        s = starts[i]
        if types[i] == 0x01:  # the usual string: value_text() inlined
            return _utf16le(b[s : s + sizes[i]], "replace", True)[0].rstrip("\x00")
        return value_text((types[i], s, sizes[i]), b)
    if i >= 0:  # a substitution the record does not have
        return ""
    return parts_text(tmap.system.get(SYSTEM_KEYS[k], ()), _values(types, sizes, starts), b)


def _int_field(tmap: TemplateMap, key: str, i: int, subs: Subs, b: bytes) -> int:
    """A System number (event id, level, record id); 0 when blank."""
    _, types, sizes, starts = subs
    if 0 <= i < len(types):
        t, size = types[i], sizes[i]
        if t in _UNSIGNED and size in _INT_SIZES:  # value_int() inlined
            s = starts[i]
            return int.from_bytes(b[s : s + size], "little")
        return value_int((t, starts[i], size), b) if t != 0 else 0
    parts = tmap.system.get(key)
    text = parts_text(parts, _values(types, sizes, starts), b) if parts else ""
    return int(text) if text.strip() else 0


def _time_field(tmap: TemplateMap, i: int, subs: Subs, b: bytes) -> datetime | None:
    _, types, sizes, starts = subs
    if 0 <= i < len(types):
        if types[i] == 0x11 and sizes[i] >= 8:  # value_time() inlined
            return filetime_to_datetime(_U64(b, starts[i])[0])
        return value_time((types[i], starts[i], sizes[i]), b)
    parts = tmap.system.get("time")
    if parts is None:
        return None
    text = parts_text(parts, _values(types, sizes, starts), b)
    return datetime.fromisoformat(text) if text else None


def decode_record(ctx: ChunkContext, start: int, end: int) -> Fields:
    """Decode one record's binary XML (``start``..``end`` in the chunk) via its field map.

    The usual layout of the System fields (see :data:`_USUAL_TYPES`) is decoded right here;
    anything else goes through the general helpers, with the same results. This runs once per
    record, so each call saved counts.
    """
    b = ctx.buf
    subs = read_subs(b, start, end)
    tpl, types, sizes, starts = subs
    if tpl < 0:
        tmap = event_map(parse_fragment(b, start, ctx.names)[0])
    else:
        cached = ctx.event_maps.get(tpl)
        if cached is None:
            cached = ctx.event_maps[tpl] = ctx.template_map(tpl, fragment=False)
        tmap = cached
    count = len(types)
    data: dict[str, str] = {}
    plan = tmap.plan
    if len(plan) == 1 and 0 <= (i := plan[0][1]) < count and types[i] == BXML_TYPE:
        # The usual record: all its data in one nested fragment (EventData / UserData).
        _collect_nested(ctx, starts[i], sizes[i], data, 1)
    else:
        _collect(ctx, tmap, subs, data, 0)
    usual = tmap.usual
    if usual is not None and usual[1] < count and usual[0](types) == _USUAL_TYPES:
        # The usual layout, checked in one comparison: decoded without the general helpers.
        pick = usual[0]
        z_time, z_event_id, z_level, z_record_id, z_provider, z_channel = pick(sizes)
        if z_time == 8 and z_event_id == 2 and z_level == 1 and z_record_id == 8:
            s_time, s_event_id, s_level, s_record_id, s_provider, s_channel = pick(starts)
            computer = tmap.constants[_COMPUTER]
            if computer is None:
                computer = _text_field(tmap, _COMPUTER, subs, b)
            return (
                filetime_to_datetime(_U64(b, s_time)[0]),
                _utf16le(b[s_channel : s_channel + z_channel], "replace", True)[0].rstrip("\x00"),
                _utf16le(b[s_provider : s_provider + z_provider], "replace", True)[0].rstrip(
                    "\x00"
                ),
                _U16(b, s_event_id)[0],
                b[s_level],
                computer,
                data,
                _U64(b, s_record_id)[0],
            )
    _, i_event_id, i_level, i_time, i_record_id, _, _ = tmap.slots
    time = _time_field(tmap, i_time, subs, b)
    channel = _text_field(tmap, _CHANNEL, subs, b)
    provider = _text_field(tmap, _PROVIDER, subs, b)
    computer = _text_field(tmap, _COMPUTER, subs, b)
    event_id = _int_field(tmap, "event_id", i_event_id, subs, b)
    level = _int_field(tmap, "level", i_level, subs, b)
    record_id = (
        _int_field(tmap, "record_id", i_record_id, subs, b) if "record_id" in tmap.system else None
    )
    return time, channel, provider, event_id, level, computer, data, record_id


def put_field(data: dict[str, str], name: str, value: str) -> None:
    """Add a data field; a repeated name gets ``_2``, ``_3``, … (both decoders agree)."""
    if name in data:
        n = 2
        while f"{name}_{n}" in data:
            n += 1
        name = f"{name}_{n}"
    data[name] = value


def _collect(
    ctx: ChunkContext, tmap: TemplateMap, subs: Subs, data: dict[str, str], depth: int
) -> None:
    b = ctx.buf
    _, types, sizes, starts = subs
    count = len(types)
    values: list[Value] | None = None  # made only for fields of several parts
    for fixed_name, index, name_parts, value_parts, optional in tmap.plan:
        if 0 <= index < count:
            t = types[index]
            s = starts[index]
            if t == 0x01:  # the usual string: value_text() inlined
                text = _utf16le(b[s : s + sizes[index]], "replace", True)[0].rstrip("\x00")
            elif t == BXML_TYPE:
                _collect_nested(ctx, s, sizes[index], data, depth + 1)
                continue
            elif t == 0x14 and sizes[index] == 4:  # HexInt32, the usual code: inlined too
                text = hex(_U32(b, s)[0])
            elif t == 0x08 and sizes[index] == 4:  # UInt32
                text = str(_U32(b, s)[0])
            else:
                text = value_text((t, s, sizes[index]), b)
        else:
            if values is None:
                values = _values(types, sizes, starts)
            text = parts_text(value_parts, values, b)
        if optional and not text.strip():
            continue
        if fixed_name is not None:
            name = fixed_name
        else:
            if values is None:
                values = _values(types, sizes, starts)
            name = parts_text(name_parts, values, b)
        if name in data:
            put_field(data, name, text)
        else:
            data[name] = text


def _collect_nested(ctx: ChunkContext, s: int, size: int, data: dict[str, str], depth: int) -> None:
    if depth > 8:
        raise BxmlError("nested binary XML too deep")
    subs = read_subs(ctx.buf, s, s + size)
    tpl = subs[0]
    if tpl < 0:
        tmap = fragment_map(parse_fragment(ctx.buf, s, ctx.names)[0])
    else:
        cached = ctx.fragment_maps.get(tpl)
        if cached is None:
            cached = ctx.fragment_maps[tpl] = ctx.template_map(tpl, fragment=True)
        tmap = cached
    _collect(ctx, tmap, subs, data, depth)

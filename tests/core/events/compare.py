"""Compare decoded events with what python-evtx and pyevtx-rs render (test helper).

The three decoders agree on content but not on every textual form: python-evtx writes
FILETIMEs as ``2024-04-02 16:13:04.123455+00:00`` (float seconds: a few µs off), hex numbers
zero-padded, booleans as ``True``, binary as base64, GUIDs lower-case; pyevtx-rs writes GUIDs
without braces; both parse XML, which turns ``\\r\\n`` into ``\\n``. ESPView writes what the
Event Viewer shows. :func:`same_value` accepts exactly these differences and no others.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import evtx
import Evtx.Evtx as pyevtx

from core.events.model import EventRecord
from core.events.xmlfields import XmlFields, fields_from_xml, parse_time


def record_fields(records: list[EventRecord]) -> list[tuple[object, ...]]:
    """Everything a reader decodes of each record, for exact comparisons."""
    return [
        (r.time, r.channel, r.provider, r.event_id, r.level, r.record_id, r.computer, r.data)
        for r in records
    ]


def _norm(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n").strip()


def same_value(mine: str, theirs: str) -> bool:
    a, b = _norm(mine), _norm(theirs)
    if a == b or a.lower() == b.lower() or a.strip("{}").lower() == b.strip("{}").lower():
        return True
    if a.startswith("0x") and b.startswith("0x"):
        return int(a, 16) == int(b, 16)
    try:
        if base64.b64decode(b, validate=True).hex().upper() == a:
            return True
    except (binascii.Error, ValueError):
        pass
    try:
        ta, tb = parse_time(a), parse_time(b)
    except ValueError:
        return False
    return ta is not None and tb is not None and abs(ta - tb) <= timedelta(microseconds=3)


def python_evtx_fields(path: Path) -> Iterator[tuple[int, XmlFields]]:
    """(record number, fields) of every record python-evtx renders, inactive chunks included."""
    with pyevtx.Evtx(str(path)) as log:
        for chunk in log.get_file_header().chunks(include_inactive=True):
            if not chunk.check_magic():
                continue
            for record in chunk.records():
                yield record.record_num(), fields_from_xml(record.xml())


def pyevtx_rs_fields(path: Path) -> Iterator[tuple[int, XmlFields]]:
    """(record number, fields) of every record pyevtx-rs renders."""
    for record in evtx.PyEvtxParser(str(path)).records():
        xml = record["data"]
        if xml.startswith("<?xml"):
            xml = xml.split("?>", 1)[1]
        yield record["event_record_id"], fields_from_xml(xml)


def data_differences(mine: dict[str, str], theirs: dict[str, str], strip: bool) -> list[str]:
    """Human-readable differences between two data dicts (empty when they agree)."""
    if list(mine) != list(theirs):
        return [f"names {list(mine)} != {list(theirs)}"]
    out = []
    for name, value in mine.items():
        a, b = (value.strip(), theirs[name].strip()) if strip else (value, theirs[name])
        if not same_value(a, b):
            out.append(f"{name}: {a!r} != {b!r}")
    return out

"""Event fields from a record's rendered XML — the slow path, and the yardstick in tests.

The fast decoder (:mod:`core.events.bxml`) reads fields from template substitutions. When it
cannot, the record is rendered to XML (python-evtx) and the same fields are taken from the
XML with the same rules: System fields by element, EventData ``<Data Name=…>`` (unnamed ones
become ``Data<n>``, their position), and every leaf element of UserData-like sections.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, datetime

from core.events.bxml import MIN_TIME, put_field


@dataclass(frozen=True, slots=True)
class XmlFields:
    time: datetime | None
    channel: str
    provider: str
    event_id: int
    level: int
    record_id: int | None
    computer: str
    data: dict[str, str]


def _tag(el: ET.Element) -> str:
    return el.tag.rsplit("}", 1)[-1]


def _text(el: ET.Element) -> str:
    return el.text or ""


def _int(text: str) -> int:
    text = text.strip()
    return int(text, 0) if text else 0


def parse_time(text: str) -> datetime | None:
    """``SystemTime`` as python-evtx, pyevtx-rs or Windows write it; naive means UTC."""
    text = text.strip()
    if not text:
        return None
    if text.startswith("0001-01-01"):
        return MIN_TIME
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    dt = datetime.fromisoformat(text)
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def _leaves(el: ET.Element, data: dict[str, str]) -> None:
    children = list(el)
    if children:
        for child in children:
            _leaves(child, data)
        if (el.text or "").strip():
            put_field(data, _tag(el), el.text or "")
        return
    name = el.get("Name") if _tag(el) == "Data" else None
    put_field(data, name or _tag(el), _text(el))


def fields_from_xml(xml: str) -> XmlFields:
    """Fields of one ``<Event>`` document (raises ``ET.ParseError`` on broken XML)."""
    root = ET.fromstring(xml)
    time: datetime | None = None
    channel = provider = computer = ""
    event_id = level = 0
    record_id: int | None = None
    data: dict[str, str] = {}
    for section in root:
        tag = _tag(section)
        if tag == "System":
            for el in section:
                name = _tag(el)
                if name == "Provider":
                    provider = el.get("Name", "")
                elif name == "EventID":
                    event_id = _int(_text(el))
                elif name == "Level":
                    level = _int(_text(el))
                elif name == "TimeCreated":
                    time = parse_time(el.get("SystemTime", ""))
                elif name == "EventRecordID":
                    record_id = _int(_text(el)) if _text(el).strip() else None
                elif name == "Channel":
                    channel = _text(el)
                elif name == "Computer":
                    computer = _text(el)
        elif tag == "EventData":
            for i, el in enumerate(section, 1):
                name = (el.get("Name") if _tag(el) == "Data" else _tag(el)) or f"Data{i}"
                put_field(data, name, _text(el))
            if (section.text or "").strip():
                put_field(data, tag, section.text or "")
        elif tag != "RenderingInfo":
            for el in section:
                _leaves(el, data)
            if (section.text or "").strip():
                put_field(data, tag, section.text or "")
    return XmlFields(time, channel, provider, event_id, level, record_id, computer, data)

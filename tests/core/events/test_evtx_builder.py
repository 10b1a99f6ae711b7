"""The EVTX writer (tests/builders/evtx.py) makes files python-evtx and pyevtx-rs both read
back as written — so scenario tests built on it test the reader against real-format data."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from core.events.xmlfields import XmlFields
from tests.builders.evtx import (
    CHUNK_SIZE,
    FILE_HEADER_SIZE,
    T_HEX32,
    T_HEX64,
    Typed,
    hex32,
    hex64,
    sid,
    uint8,
    uint16,
    uint64,
    write_evtx,
)
from tests.core.events.compare import data_differences, pyevtx_rs_fields, python_evtx_fields

T0 = datetime(2024, 4, 2, 16, 13, 4, 123456, tzinfo=UTC)
GUID = uuid.UUID("0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0")

#: Typed values and the text the Event Viewer (and ESPView) shows for them.
TYPED: dict[str, tuple[object, str]] = {
    "Text": ('MDM <enroll> & "sync" é', 'MDM <enroll> & "sync" é'),
    "Count": (42, "42"),
    "Byte": (uint8(7), "7"),
    "Word": (uint16(65535), "65535"),
    "Big": (uint64(2**40), "1099511627776"),
    "Negative": (-5, "-5"),
    "HResult": (hex32(0x80180014), "0x80180014"),
    "Flags": (hex64(0x10), "0x10"),
    "Id": (GUID, "{0F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0}"),
    "When": (T0, "2024-04-02T16:13:04.1234560Z"),
    "Flag": (True, "true"),
    "Blob": (b"\x01\xab\xff", "01ABFF"),
    "Account": (sid("S-1-5-21-1-2-3-500"), "S-1-5-21-1-2-3-500"),
    "Missing": (None, ""),
}


def typed_record(**extra: Any) -> dict[str, Any]:
    rec: dict[str, Any] = {
        "time": T0,
        "channel": "Microsoft-Windows-Test/Admin",
        "provider": "Microsoft-Windows-Test",
        "event_id": 404,
        "level": 2,
        "computer": "PC-1",
        "data": {name: value for name, (value, _) in TYPED.items()},
    }
    rec.update(extra)
    return rec


def _text(value: object) -> str:
    if isinstance(value, Typed):
        return hex(value.value) if value.type in (T_HEX32, T_HEX64) else str(value.value)
    return str(value)


def expected_data(rec: dict[str, Any]) -> dict[str, str]:
    """The text ESPView (and the Event Viewer) shows for each written value."""
    if "user_data" in rec:
        return {k: _text(v) for k, v in rec["user_data"].items()}
    texts = {name: text for name, (_, text) in TYPED.items()}
    return {k: texts[k] if k in texts else _text(v) for k, v in rec["data"].items()}


def assert_decodes_as_written(fields: list[XmlFields], records: list[dict[str, Any]], strip: bool):
    assert len(fields) == len(records)
    for i, (got, rec) in enumerate(zip(fields, records, strict=True), 1):
        assert got.channel.strip() == rec["channel"]
        assert got.provider == rec["provider"]
        assert got.event_id == rec["event_id"]
        assert got.level == rec.get("level", 4)
        assert got.record_id == rec.get("record_id", i)
        assert got.computer.strip() == rec.get("computer", "TESTPC")
        assert got.time is not None
        assert abs(got.time - rec["time"]) <= timedelta(microseconds=3)
        assert data_differences(expected_data(rec), got.data, strip) == []


def both(path: Path) -> tuple[list[XmlFields], list[XmlFields]]:
    return (
        [f for _, f in python_evtx_fields(path)],
        [f for _, f in pyevtx_rs_fields(path)],
    )


def many_records(count: int) -> list[dict[str, Any]]:
    """Varied records: several templates, EventData and UserData, long and short strings."""
    out = []
    for i in range(count):
        if i % 5 == 4:
            rec: dict[str, Any] = {
                "time": T0 + timedelta(seconds=i),
                "channel": "Microsoft-Windows-Test/Operational",
                "provider": "Microsoft-Windows-Test-Other",
                "event_id": 1000 + i % 3,
                "user_data": {"Item": f"app-{i}", "State": i % 7},
            }
        else:
            rec = {
                "time": T0 + timedelta(seconds=i, microseconds=i),
                "channel": "Microsoft-Windows-Test/Admin",
                "provider": "Microsoft-Windows-Test",
                "event_id": 200 + i % 4,
                "level": 4 - i % 3,
                "data": {"Message": "x" * (i % 300), "Index": i, "Code": hex32(i)},
            }
            if i % 4 == 1:
                rec["data"] = {"Other": f"value {i}"}
        out.append(rec)
    return out


def test_typed_values_round_trip(tmp_path: Path) -> None:
    records = [
        typed_record(),
        typed_record(event_id=405, level=3, record_id=7, sid="S-1-5-18"),
        typed_record(user_data={"Name": "Company Portal", "Status": 3}, event_id=1),
    ]
    path = write_evtx(tmp_path / "typed.evtx", records)
    py, rs = both(path)
    records[1]["record_id"] = 7
    records[2]["record_id"] = 8  # automatic ids continue after an explicit one
    assert_decodes_as_written(py, records, strip=False)
    assert_decodes_as_written(rs, records, strip=True)


def test_many_records_span_chunks(tmp_path: Path) -> None:
    records = many_records(1500)
    path = write_evtx(tmp_path / "many.evtx", records)
    chunks = (path.stat().st_size - FILE_HEADER_SIZE) // CHUNK_SIZE
    assert chunks >= 5
    py, rs = both(path)
    assert_decodes_as_written(py, records, strip=False)
    assert_decodes_as_written(rs, records, strip=True)


def test_empty_log(tmp_path: Path) -> None:
    path = write_evtx(tmp_path / "empty.evtx", [])
    assert path.stat().st_size == FILE_HEADER_SIZE + CHUNK_SIZE  # as Windows writes it
    assert both(path) == ([], [])

"""JSON and text forms of events."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from core.events.model import EventRecord
from core.events.render import event_json_line, event_to_json, format_event_line


def sample() -> EventRecord:
    return EventRecord(
        time=datetime(2024, 4, 2, 16, 13, 4, 120000, tzinfo=UTC),
        channel="Microsoft-Windows-AAD/Operational",
        provider="Microsoft-Windows-AAD",
        event_id=1098,
        level=2,
        record_id=77,
        computer="PC",
        data={"Error": "0xcaa1007b", "Empty": "", "Long": "a\r\nb"},
        file="outer.cab!aad.evtx",
    )


def test_json_has_exactly_the_documented_keys() -> None:
    obj = event_to_json(sample())
    assert obj == {
        "time": "2024-04-02T16:13:04.120000Z",
        "channel": "Microsoft-Windows-AAD/Operational",
        "provider": "Microsoft-Windows-AAD",
        "event_id": 1098,
        "level": "Error",
        "record_id": 77,
        "data": {"Error": "0xcaa1007b", "Empty": "", "Long": "a\r\nb"},
        "origin": "outer.cab!aad.evtx#77",
        # no ErrorMessage field, so the 1098 template does not fit: generic line, code named
        "message": "Microsoft-Windows-AAD 1098: Error=0xCAA1007B (unknown code; "
        "Entra token broker (ADAL client)), Empty=, Long=a b",
    }
    json.dumps(obj)


def test_text_line() -> None:
    line = format_event_line(sample())
    assert line.startswith("2024-04-02 16:13:04.120Z Error")
    assert "1098 Microsoft-Windows-AAD/Operational [Microsoft-Windows-AAD]" in line
    assert "Error=0xcaa1007b; Long=a b" in line
    assert "Empty" not in line
    assert "\n" not in line


def test_json_line_is_compact_and_round_trips() -> None:
    line = event_json_line(sample())
    assert "\n" not in line
    assert ", " not in line.split('"data"')[0]
    assert json.loads(line) == event_to_json(sample())


def test_terminal_escapes_in_event_data_are_shown_escaped() -> None:
    from dataclasses import replace

    rec = replace(sample(), data={"Message": "\x1b]0;pwned\x07\x1b[2J"}, provider="P\x1b[31m")
    line = format_event_line(rec)
    assert "\x1b" not in line
    assert "\x07" not in line
    assert "\\x1b]0;pwned\\x07" in line

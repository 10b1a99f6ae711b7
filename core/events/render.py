"""Text and JSON forms of events for ``espview events`` (and anything else that prints them)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime

from core.events.messages import event_message, render_message
from core.events.model import EventRecord
from core.problems import printable


def _json_encoder() -> Callable[[object], str]:
    try:
        import orjson  # type: ignore[import-not-found,unused-ignore]  # noqa: PLC0415 - optional
    except ImportError:
        return json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode

    def encode(obj: object) -> str:
        return str(orjson.dumps(obj).decode())

    return encode


_encode = _json_encoder()


def time_text(dt: datetime) -> str:
    """ISO 8601 UTC with microseconds and ``Z`` (``2024-04-02T16:13:04.123456Z``)."""
    return f"{dt:%Y-%m-%dT%H:%M:%S}.{dt.microsecond:06d}Z"


def event_to_json(rec: EventRecord) -> dict[str, object]:
    """The JSON object of one event: exactly time, channel, provider, event_id, level (name),
    record_id, data, origin and message (one line in our own words, codes decoded)."""
    return {
        "time": time_text(rec.time),
        "channel": rec.channel,
        "provider": rec.provider,
        "event_id": rec.event_id,
        "level": rec.level_name,
        "record_id": rec.record_id,
        "data": rec.data,
        "origin": rec.origin,
        "message": event_message(rec),
    }


def event_json_line(rec: EventRecord) -> str:
    """:func:`event_to_json` as one compact JSON line (no newline); orjson when installed."""
    return _encode(event_to_json(rec))


def _short(value: str, limit: int = 120) -> str:
    value = " ".join(value.split())
    return value if len(value) <= limit else value[: limit - 1] + "…"


def format_event_line(rec: EventRecord) -> str:
    """One line: time, level, event id, channel, provider, then the event's message, or its
    ``name=value`` data fields when no message template fits."""
    message, templated = render_message(rec)
    if not templated:
        message = "; ".join(f"{k}={_short(v)}" for k, v in rec.data.items() if v)
    fields = message
    line = (
        f"{rec.time:%Y-%m-%d %H:%M:%S}.{rec.time.microsecond // 1000:03d}Z "
        f"{rec.level_name:<11} {rec.event_id:>5} {rec.channel} [{rec.provider}]"
    )
    # Evidence may hold terminal escape sequences: shown escaped, never sent to the terminal.
    return printable(f"{line} {fields}" if fields else line)

"""What raw values mean: one decoder for states, codes, times and durations.

The tables live in ``resources/knowledge/values.toml`` (loaded strictly: an unknown decoder,
table or status word is an error, not a silent fallback). The analysis uses
:func:`state` for item outcomes, the reports and the GUI show :func:`display` next to the raw
data, so a value means the same thing wherever it is shown.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any

from core.codes import format_code
from core.esp.hresult import fmt
from core.esp.model import STATUSES, Status
from core.paths import resource_path
from core.registry.model import ValueData
from core.registry.values import as_int, filetime
from core.resource_cache import load_toml

DECODERS = frozenset(
    {"table", "filetime", "unix_time", "time_text", "seconds", "minutes", "hresult", "json"}
)
#: Plausible capture years: a number outside them is not taken for a time.
_YEARS = (1995, 2100)
_TIME_NAME = re.compile(r"(?:Time|Timestamp|Date|TimeUtc)$", re.IGNORECASE)


class ValuesFileError(ValueError):
    """``values.toml`` does not say what the loader expects."""


@dataclass(frozen=True, slots=True)
class Meaning:
    """A value's word and the report status it stands for."""

    word: str
    status: Status


@dataclass(frozen=True, slots=True)
class ValueRule:
    """Which decoder (and table) reads a value of this name (under this key)."""

    name: str  # casefolded
    path: str | None  # casefolded substring of the key path
    decoder: str
    table: str | None


@dataclass(frozen=True, slots=True)
class ValueTables:
    """``values.toml``, typed and checked."""

    tables: dict[str, dict[int, Meaning]]
    values: tuple[ValueRule, ...]
    json_fields: dict[str, ValueRule]  # casefolded field name -> rule


def _rule(entry: Any, tables: dict[str, dict[int, Meaning]], where: str) -> ValueRule:
    if not isinstance(entry, dict):
        raise ValuesFileError(f"{where}: expected a table")
    unknown = set(entry) - {"name", "path", "decoder", "table"}
    if unknown:
        raise ValuesFileError(f"{where}: unknown keys {sorted(unknown)}")
    name, decoder = entry.get("name"), entry.get("decoder")
    if not isinstance(name, str) or decoder not in DECODERS:
        raise ValuesFileError(f"{where}: needs a name and a decoder from {sorted(DECODERS)}")
    table = entry.get("table")
    if (decoder == "table") != (table is not None) or (table is not None and table not in tables):
        raise ValuesFileError(f"{where}: decoder 'table' needs a known table, others none")
    path = entry.get("path")
    if path is not None and not isinstance(path, str):
        raise ValuesFileError(f"{where}: path must be text")
    return ValueRule(name.casefold(), path.casefold() if path else None, decoder, table)


def _table(
    table_id: str, rows: Any, states: dict[str, dict[int, str]]
) -> dict[int, Meaning]:
    where = f"values.toml table.{table_id}"
    if not isinstance(rows, dict):
        raise ValuesFileError(f"{where}: expected a table")
    if "words" in rows:  # words from states.toml, status per number here
        if set(rows) != {"words", "status"} or rows["words"] not in states:
            raise ValuesFileError(f"{where}: needs words (a states.toml table) and status")
        words = states[rows["words"]]
        rows = {
            number: {"word": words.get(_int_key(number, where), ""), "status": status}
            for number, status in rows["status"].items()
        }
    table: dict[int, Meaning] = {}
    for raw, row in rows.items():
        place = f"{where}.{raw}"
        if not isinstance(row, dict) or set(row) != {"word", "status"} or not row["word"]:
            raise ValuesFileError(f"{place}: needs exactly word and status")
        if row["status"] not in STATUSES:
            raise ValuesFileError(f"{place}: {row['status']!r} is not a report status")
        table[_int_key(raw, place)] = Meaning(str(row["word"]), row["status"])
    return table


def _int_key(raw: object, where: str) -> int:
    try:
        return int(str(raw))
    except ValueError:
        raise ValuesFileError(f"{where}: the key must be a number") from None


def parse_values(
    doc: dict[str, Any], states: dict[str, dict[int, str]] | None = None
) -> ValueTables:
    """Type and check a parsed ``values.toml`` (``states``: the ``states.toml`` tables)."""
    unknown = set(doc) - {"table", "value", "json_field"}
    if unknown:
        raise ValuesFileError(f"values.toml: unknown sections {sorted(unknown)}")
    tables = {
        table_id: _table(table_id, rows, states or {})
        for table_id, rows in doc.get("table", {}).items()
    }
    values = tuple(
        _rule(e, tables, f"values.toml value #{n}") for n, e in enumerate(doc.get("value", []))
    )
    fields = {
        rule.name: rule
        for n, e in enumerate(doc.get("json_field", []))
        if (rule := _rule(e, tables, f"values.toml json_field #{n}"))
    }
    return ValueTables(tables, values, fields)


@cache
def load_values() -> ValueTables:
    from core.esp.knowledge import load  # noqa: PLC0415 - knowledge loads on first use

    return parse_values(load_toml(resource_path("knowledge", "values.toml")), load().states)


def state(table: str, number: int | None) -> Meaning | None:
    """What ``number`` means in ``table`` (``None`` when the table does not know it)."""
    if number is None:
        return None
    return load_values().tables[table].get(number)


def state_word(table: str, number: int | None) -> str:
    """``"completed"``, or ``"state 9 (meaning not documented)"`` for an unknown number."""
    meaning = state(table, number)
    if meaning is not None:
        return meaning.word
    return "unknown" if number is None else f"state {number} (meaning not documented)"


# -- times and durations ----------------------------------------------------------------------


def from_filetime(data: ValueData) -> datetime | None:
    """A FILETIME as 8 little-endian bytes, a QWORD or a decimal text, as UTC (the registry
    reader's :func:`~core.registry.values.filetime`, within the years a capture can name)."""
    if isinstance(data, str):
        text = data.strip()
        if not text.isdigit():
            return None
        data = int(text)
    when = filetime(data)
    return when if when is not None and _YEARS[0] <= when.year <= _YEARS[1] else None


def from_unix(data: ValueData) -> datetime | None:
    number = data if isinstance(data, int) and not isinstance(data, bool) else None
    if isinstance(data, str) and data.strip().isdigit():
        number = int(data.strip())
    if number is None:
        return None
    if number > 10**11:  # milliseconds
        number //= 1000
    try:
        when = datetime.fromtimestamp(number, UTC)
    except (OverflowError, OSError, ValueError):
        return None
    return when if _YEARS[0] <= when.year <= _YEARS[1] else None


def from_text(data: ValueData) -> datetime | None:
    if not isinstance(data, str):
        return None
    from core.esp.items import parse_time  # noqa: PLC0415 - items imports this module

    return parse_time(data)


def time_text(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def duration_text(seconds: int | float) -> str:
    """``3600`` → ``"3600 s (1 h 0 min)"``; short spans stay in seconds."""
    total = int(seconds)
    if abs(total) < 60:
        return f"{total} s"
    hours, rest = divmod(abs(total), 3600)
    minutes, secs = divmod(rest, 60)
    sign = "-" if total < 0 else ""
    if hours:
        span = f"{sign}{hours} h {minutes} min"
    else:
        span = f"{sign}{minutes} min" + (f" {secs} s" if secs else "")
    return f"{total} s ({span})"


def code_text(code: int) -> str:
    """``0x87D1041C (NAME: meaning)`` — the code database's words (``core.codes``)."""
    return format_code(code) or fmt(code)


def _number(data: ValueData) -> int | None:
    """:func:`as_int`, plus a DWORD or QWORD stored as 4 or 8 little-endian bytes."""
    if isinstance(data, bytes) and len(data) in (4, 8):
        return int.from_bytes(data, "little")
    return as_int(data)


def _hresult(data: ValueData) -> str | None:
    number = _number(data)
    if number is None or not -(2**31) <= number < 2**32:
        return None
    if number == 0:
        return "0 (success)"
    code = number & 0xFFFFFFFF
    if not code & 0x80000000:
        return None if number != 3010 else "3010 (success, reboot required)"
    return code_text(code)


def _decode(rule: ValueRule, data: ValueData) -> str | None:
    decoder = rule.decoder
    if decoder == "table" and rule.table is not None:
        number = _number(data)
        if number is None:
            return None
        meaning = state(rule.table, number)
        return meaning.word.replace("_", " ") if meaning is not None else None
    if decoder == "filetime":
        when = from_filetime(data)
        return time_text(when) if when else None
    if decoder == "unix_time":
        when = from_unix(data)
        return time_text(when) if when else None
    if decoder == "time_text":
        when = from_text(data)
        return time_text(when) if when else None
    if decoder in ("seconds", "minutes"):
        number = _number(data)
        if number is None:
            return None
        if decoder == "seconds":
            return duration_text(number)
        hours, minutes = divmod(number, 60)
        return f"{number} min" + (f" ({hours} h {minutes} min)" if hours else "")
    if decoder == "hresult":
        return _hresult(data)
    if decoder == "json":
        return _json_display(data)
    return None


def _json_display(data: ValueData) -> str | None:
    if not isinstance(data, str):
        return None
    try:
        doc = json.loads(data)
    except (ValueError, RecursionError):
        return None
    if not isinstance(doc, dict):
        return None
    fields = load_values().json_fields
    parts: list[str] = []
    for key, raw in doc.items():
        rule = fields.get(str(key).casefold())
        if rule is None or isinstance(raw, (dict, list)):
            continue
        shown = _decode(rule, raw)
        if shown is not None:
            parts.append(f"{key} {raw} = {shown}")
    return "; ".join(parts) or None


def display(path: str, name: str, data: ValueData) -> str | None:
    """What a registry value means, in words, or ``None`` when there is nothing to add."""
    folded_name = name.casefold()
    folded_path = path.casefold()
    for rule in load_values().values:
        if rule.name != folded_name or (rule.path is not None and rule.path not in folded_path):
            continue
        return _decode(rule, data)
    if _TIME_NAME.search(name):
        when = from_filetime(data) if not isinstance(data, str) else from_text(data)
        if when is None and not isinstance(data, bytes):
            when = from_unix(data)
        return time_text(when) if when else None
    return None

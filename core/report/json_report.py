"""The ``espview.report/1`` JSON report, and its JSON Schema.

:func:`report_to_dict` walks an :class:`~core.esp.model.EspReport` into exactly the contract's
keys, in the contract's order (ARCHITECTURE.md, "JSON report"). Formats, chosen once and used
everywhere:

* ``TIME``: ISO 8601 UTC, always with milliseconds: ``2024-04-02T16:13:04.123Z``;
* HRESULTs: ``0x%08X`` (upper-case hex digits, ``0x`` prefix);
* registry value data: ``bytes`` as a lower-case hex string, ints as ints, ``REG_MULTI_SZ``
  as a list of strings, no data as ``null``.

Validation: the schema lives in ``resources/schema/espview.report-1.schema.json``. When the
settings say so (:attr:`core.config.Settings.validate_reports`, from the environment variable
``ESPVIEW_VALIDATE_REPORTS=1``; ``tests/conftest.py`` switches it on for the whole test
suite), every :func:`report_to_dict` call validates its result and raises
:class:`ValueError` on a violation, so every report serialised anywhere in the tests is
checked against the schema. ``jsonschema`` is a development dependency only; the program
never needs it at run time.
"""

from __future__ import annotations

import codecs
import io
import json
import logging
import os
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any, BinaryIO, TextIO, cast

from core.config import current
from core.esp.model import (
    SCHEMA,
    DevicePreparation,
    EspReport,
    EventRef,
    Finding,
    Item,
    LogRef,
    Phase,
    RegistryRef,
    Step,
    TimelineEntry,
)
from core.paths import resource_path
from core.registry.model import ValueData
from core.report.common import format_hresult, hresult_text, iso_time

log = logging.getLogger(__name__)

VALIDATE_ENV = "ESPVIEW_VALIDATE_REPORTS"
SCHEMA_FILE = "espview.report-1.schema.json"

JsonDict = dict[str, Any]


def _time(value: Any) -> str | None:
    return None if value is None else iso_time(value)


def json_value_data(data: ValueData) -> str | int | list[str] | None:
    """Registry value data made JSON-safe: bytes become a lower-case hex string."""
    if isinstance(data, bytes):
        return data.hex()
    if isinstance(data, list):
        return [str(part) for part in data]
    return data


def _item(item: Item) -> JsonDict:
    return {
        "kind": item.kind,
        "id": item.id,
        "name": item.name,
        "scope": item.scope,
        "status": item.status,
        "raw_status": item.raw_status,
        "hresult": format_hresult(item.hresult),
        "hresult_text": hresult_text(item.hresult),
        "history": [{"time": iso_time(h.time), "status": h.status} for h in item.history],
        "exit_code": item.exit_code,
        "download": None
        if item.download is None
        else {
            "time": _time(item.download.time),
            "bytes_done": item.download.bytes_done,
            "bytes_total": item.download.bytes_total,
            "percent": item.download.percent,
            "rate_bytes_per_s": item.download.rate_bytes_per_s,
            "via": item.download.via,
            "complete": item.download.complete,
            "origin": item.download.origin,
        },
    }


def _registry(ref: RegistryRef) -> JsonDict:
    return {
        "path": ref.path,
        "last_write": _time(ref.last_write),
        "values": [
            {
                "name": v.name,
                "type": v.type,
                "data": json_value_data(v.data),
                "display": v.display,
            }
            for v in ref.values
        ],
        "origin": ref.origin,
    }


def _event(event: EventRef) -> JsonDict:
    return {
        "time": iso_time(event.time),
        "channel": event.channel,
        "event_id": event.event_id,
        "level": event.level,
        "record_id": event.record_id,
        "summary": event.summary,
        "origin": event.origin,
    }


def _log(line: LogRef) -> JsonDict:
    return {
        "time": _time(line.time),
        "severity": line.severity,
        "component": line.component,
        "thread": line.thread,
        "message": line.message,
        "origin": line.origin,
        "item": line.item,
    }


def _step(step: Step) -> JsonDict:
    hint = step.hint
    return {
        "id": step.id,
        "title": step.title,
        "status": step.status,
        "status_text": step.status_text,
        "status_reason": step.status_reason,
        "hresult": format_hresult(step.hresult),
        "hresult_text": hresult_text(step.hresult),
        "started": _time(step.started),
        "started_source": step.started_source,
        "ended": _time(step.ended),
        "ended_source": step.ended_source,
        "items": [_item(i) for i in step.items],
        "registry": [_registry(r) for r in step.registry],
        "events": [_event(e) for e in step.events],
        "logs": [_log(line) for line in step.logs],
        "hint": None
        if hint is None
        else {"id": hint.id, "title": hint.title, "text": hint.text, "source": hint.source},
    }


def _phase(phase: Phase) -> JsonDict:
    return {
        "id": phase.id,
        "title": phase.title,
        "status": phase.status,
        "status_text": phase.status_text,
        "status_reason": phase.status_reason,
        "started": _time(phase.started),
        "started_source": phase.started_source,
        "ended": _time(phase.ended),
        "ended_source": phase.ended_source,
        "steps": [_step(s) for s in phase.steps],
    }


def _finding(finding: Finding) -> JsonDict:
    return {
        "id": finding.id,
        "severity": finding.severity,
        "confidence": finding.confidence,
        "step": finding.step,
        "title": finding.title,
        "text": finding.text,
        "evidence": list(finding.evidence),
        "source": finding.source,
    }


def _device_preparation(prep: DevicePreparation | None) -> JsonDict | None:
    if prep is None:
        return None
    return {
        "status": prep.status,
        "status_reason": prep.status_reason,
        "page_status": prep.page_status,
        "error_code": format_hresult(prep.error_code),
        "error_phase": prep.error_phase,
        "error_details": prep.error_details,
        "timeout_minutes": prep.timeout_minutes,
        "agent_timeout_minutes": prep.agent_timeout_minutes,
        "allow_skip": prep.allow_skip,
        "allow_diagnostics": prep.allow_diagnostics,
        "phases": [
            {
                "id": phase.id,
                "title": phase.title,
                "status": phase.status,
                "status_reason": phase.status_reason,
                "started": _time(phase.started),
                "ended": _time(phase.ended),
                "items": [_item(i) for i in phase.items],
            }
            for phase in prep.phases
        ],
        "evidence": list(prep.evidence),
    }


def _timeline(entry: TimelineEntry, times: dict[datetime, str]) -> JsonDict:
    # Log lines come in bursts with one stamp: format each UTC time once. (Only UTC times
    # are shared: equal times in another zone may differ by ``fold``.)
    when = entry.time
    text = times.get(when) if when.tzinfo is UTC else None
    if text is None:
        text = iso_time(when)
        if when.tzinfo is UTC:
            times[when] = text
    return {
        "time": text,
        "kind": entry.kind,
        "step": entry.step,
        "summary": entry.summary,
        "origin": entry.origin,
    }


def report_to_dict(report: EspReport) -> JsonDict:
    """The report as the ``espview.report/1`` JSON object (plain dicts, lists and scalars).

    Validates against the schema when ``ESPVIEW_VALIDATE_REPORTS=1`` (see the module doc).
    """
    source = report.source
    device = report.device
    settings = report.settings
    times: dict[datetime, str] = {}
    result: JsonDict = {
        "schema": SCHEMA,
        "source": {
            "kind": source.kind,
            "path": source.path,
            "files": list(source.files),
            "problems": [
                {"file": p.file, "where": p.where, "message": p.message} for p in source.problems
            ],
        },
        "device": {
            "name": device.name,
            "serial": device.serial,
            "os_build": device.os_build,
            "tenant_domain": device.tenant_domain,
            "profile_name": device.profile_name,
            "autopilot": device.autopilot,
            "deployment_mode": device.deployment_mode,
            "time_zone": device.time_zone,
        },
        "settings": {
            "timeout_minutes": settings.timeout_minutes,
            "skip_device_status_page": settings.skip_device_status_page,
            "skip_user_status_page": settings.skip_user_status_page,
            "allow_reset": settings.allow_reset,
            "allow_try_again": settings.allow_try_again,
            "allow_continue_anyway": settings.allow_continue_anyway,
            "allow_collect_logs": settings.allow_collect_logs,
        },
        "phases": [_phase(p) for p in report.phases],
        "findings": [_finding(f) for f in report.findings],
        "timeline": [_timeline(t, times) for t in report.timeline],
        "device_preparation": _device_preparation(report.device_preparation),
        "log_clock": None
        if report.log_clock is None
        else {
            "basis": report.log_clock.basis,
            "offset_minutes": report.log_clock.offset_minutes,
            "detail": report.log_clock.detail,
            "origins": list(report.log_clock.origins),
        },
    }
    if report.redaction is not None:
        result["redaction"] = {"redacted": True, "counts": dict(report.redaction.counts)}
    if current().validate_reports:
        errors = validate_report_dict(result)
        if errors:
            shown = "\n  ".join(errors[:20])
            raise ValueError(f"report violates {SCHEMA_FILE} ({len(errors)} errors):\n  {shown}")
    return result


def dumps_json(data: Any) -> str:
    """``data`` as indented JSON text (indent 2, non-ASCII kept, key order kept).

    ``orjson`` writes the same text as ``json.dumps(indent=2, ensure_ascii=False)`` about
    ten times faster (a big capture's report is over 10 MB of JSON); the standard library
    takes over when it is missing or refuses a value (a lone surrogate, an int over 64 bits).
    """
    raw = _orjson_bytes(data)
    if raw is not None:
        return raw.decode("utf-8")
    return _stdlib_json(data)


def _stdlib_json(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False)


def _orjson_bytes(data: Any) -> bytes | None:
    """``dumps_json(data)`` as UTF-8, or ``None`` when orjson is missing or refuses ``data``."""
    try:
        import orjson  # noqa: PLC0415 - optional speed-up, checked at use

        return orjson.dumps(data, option=orjson.OPT_INDENT_2)
    except (ImportError, TypeError, UnicodeError):
        return None


def _utf8_bytes_sink(out: TextIO) -> BinaryIO | None:
    """The byte stream under ``out`` when bytes can go straight to it: a UTF-8 text file on
    a system whose line end is ``\n`` (so writing text would not change a byte either)."""
    if os.linesep != "\n" or not isinstance(out, io.TextIOWrapper):
        return None
    try:
        utf8 = codecs.lookup(out.encoding).name == "utf-8"
    except LookupError:
        return None
    return cast(BinaryIO, out.buffer) if utf8 else None


def write_json(report: EspReport, out: TextIO) -> None:
    """Write the JSON report to ``out`` (indent 2, non-ASCII kept, contract key order).

    One ``write`` of the whole text: ``json.dump`` to a stream calls ``write`` once per
    token, a million times for a big capture. orjson's UTF-8 goes straight to the byte
    stream under ``out`` when that writes the same bytes: decoding 12 MB to text only to
    encode it again cost more than making it.
    """
    data = report_to_dict(report)
    raw = _orjson_bytes(data)
    sink = _utf8_bytes_sink(out) if raw is not None else None
    if raw is not None and sink is not None:
        out.flush()  # what was written as text comes first
        sink.write(raw)
        sink.write(b"\n")
        return
    out.write(raw.decode("utf-8") if raw is not None else _stdlib_json(data))
    out.write("\n")


def schema_path() -> Path:
    """Where the JSON Schema of ``espview.report/1`` lives (frozen or not)."""
    return resource_path("schema", SCHEMA_FILE)


@cache
def _validator() -> Any:
    # jsonschema is a dev dependency: imported here so the program never needs it.
    from jsonschema import (  # type: ignore[import-untyped]  # noqa: PLC0415 - dev-only, no stubs
        Draft202012Validator,
    )

    schema = json.loads(schema_path().read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def validate_report_dict(data: Any) -> list[str]:
    """Every way ``data`` breaks the schema, as ``path: message`` lines ([] when valid).

    Raises :class:`ModuleNotFoundError` when ``jsonschema`` is not installed: silently
    skipping validation would let a broken report pass a test.
    """
    errors = sorted(_validator().iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path])
    lines = []
    for error in errors:
        where = "/".join(str(part) for part in error.absolute_path) or "(root)"
        message = error.message
        if len(message) > 300:
            message = message[:300] + "…"
        lines.append(f"{where}: {message}")
    return lines

"""The JSON report: exactly the espview.report/1 contract, and a schema that means it."""

from __future__ import annotations

import copy
import io
import json
import os
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from core import config
from core.config import Settings
from core.esp.model import EspReport
from core.report import exit_code_for, report_to_dict, schema_path, validate_report_dict
from core.report.common import format_hresult, iso_time
from core.report.json_report import VALIDATE_ENV, write_json
from tests.core.report.builders import (
    STEP_COUNT,
    big_report,
    full_report,
    hostile_report,
    minimal_report,
)

TOP = ["schema", "source", "device", "settings", "phases", "findings", "timeline",
       "device_preparation", "log_clock"]
STEP_KEYS = ["id", "title", "status", "status_text", "status_reason", "hresult", "hresult_text",
             "started", "started_source", "ended", "ended_source", "items", "registry", "events",
             "logs", "hint"]


def test_full_report_has_exactly_the_contract_keys_in_order() -> None:
    d = report_to_dict(full_report())
    assert list(d) == TOP
    assert d["schema"] == "espview.report/1"
    assert list(d["source"]) == ["kind", "path", "files", "problems"]
    assert d["source"]["problems"] == [
        {"file": "DeviceManagement-Admin.evtx", "where": "chunk 3", "message": "bad chunk checksum"}
    ]
    assert list(d["device"]) == ["name", "serial", "os_build", "tenant_domain", "profile_name",
                                 "autopilot", "deployment_mode", "time_zone"]
    assert list(d["settings"]) == ["timeout_minutes", "skip_device_status_page",
                                   "skip_user_status_page", "allow_reset", "allow_try_again",
                                   "allow_continue_anyway", "allow_collect_logs"]
    assert [p["id"] for p in d["phases"]] == ["DevicePreparation", "DeviceSetup", "AccountSetup"]
    assert list(d["phases"][0]) == ["id", "title", "status", "status_text", "status_reason",
                                    "started", "started_source", "ended", "ended_source",
                                    "steps"]
    apps = d["phases"][1]["steps"][3]
    assert list(apps) == STEP_KEYS
    assert apps["hresult"] == "0x80070643"
    assert apps["hresult_text"].startswith("0x80070643 (ERROR_INSTALL_FAILURE: ")
    assert apps["started"] == "2024-04-02T16:20:00.000Z"
    assert list(apps["items"][1]) == ["kind", "id", "name", "scope", "status", "raw_status",
                                      "hresult", "hresult_text", "history",
                                      "exit_code", "download"]
    assert apps["items"][1]["history"][0] == {"time": "2024-04-02T16:21:00.000Z",
                                              "status": "downloading"}
    assert list(apps["registry"][0]) == ["path", "last_write", "values", "origin"]
    assert list(apps["events"][0]) == ["time", "channel", "event_id", "level", "record_id",
                                       "summary", "origin"]
    assert list(apps["hint"]) == ["id", "title", "text", "source"]
    assert list(d["findings"][0]) == ["id", "severity", "confidence", "step", "title", "text",
                                      "evidence", "source"]
    assert d["device_preparation"] is None
    assert list(d["timeline"][0]) == ["time", "kind", "step", "summary", "origin"]
    assert len(d["timeline"]) == 30


def test_registry_data_is_json_safe() -> None:
    values = report_to_dict(full_report())["phases"][1]["steps"][3]["registry"][0]["values"]
    assert [v["data"] for v in values] == [4, 1, "00ff5a", ["a", "b"], None]
    assert [v["type"] for v in values][:2] == ["REG_DWORD", "REG_QWORD"]


def test_minimal_report_says_unknown_and_null_everywhere() -> None:
    d = report_to_dict(minimal_report())
    assert set(d["device"].values()) == {None, "unknown"}
    assert set(d["settings"].values()) == {None}
    steps = [s for p in d["phases"] for s in p["steps"]]
    assert len(steps) == STEP_COUNT
    assert {p["status"] for p in d["phases"]} | {s["status"] for s in steps} == {"unknown"}
    assert all(s["hint"] is None and s["hresult"] is None and s["started"] is None for s in steps)
    assert d["findings"] == []
    assert d["timeline"] == []
    assert d["source"]["problems"] == []


@pytest.mark.parametrize("build", [full_report, minimal_report, hostile_report])
def test_schema_accepts_and_json_round_trips(build: Any) -> None:
    report: EspReport = build()
    d = report_to_dict(report)
    assert validate_report_dict(d) == []
    out = io.StringIO()
    write_json(report, out)
    text = out.getvalue()
    assert text.endswith("}\n")
    assert json.loads(text) == d
    assert list(json.loads(text)) == TOP


def test_non_ascii_is_kept_as_is() -> None:
    out = io.StringIO()
    write_json(full_report(), out)
    assert "›" not in out.getvalue()  # nothing added by the writer
    assert "\\u" not in out.getvalue()


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])
def test_a_byte_stream_gets_the_same_text(encoding: str) -> None:
    # UTF-8 text files get orjson's bytes directly (after what was already written to them);
    # any other stream the text. Either way the content is the same.
    expected = io.StringIO()
    expected.write("before\n")
    write_json(full_report(), expected)
    raw = io.BytesIO()
    out = io.TextIOWrapper(raw, encoding=encoding, newline="\n")
    out.write("before\n")
    write_json(full_report(), out)
    out.write("after")
    out.flush()
    assert raw.getvalue().decode(encoding) == expected.getvalue() + "after"


def test_remembered_time_texts_are_each_entry_s_own() -> None:
    # The writer formats each distinct UTC time once and reuses the text.
    times = [entry["time"] for entry in report_to_dict(full_report())["timeline"]]
    assert times == [iso_time(entry.time) for entry in full_report().timeline]


def _broken(path: list[str | int], value: Any, delete: bool = False) -> dict[str, Any]:
    d = copy.deepcopy(report_to_dict(full_report()))
    target: Any = d
    for part in path[:-1]:
        target = target[part]
    if delete:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return d


@pytest.mark.parametrize(
    ("path", "value", "delete"),
    [
        (["phases", 0, "status"], "done", False),
        (["phases", 1, "steps", 0, "status"], "Succeeded", False),
        (["phases", 2], None, True),  # only two phases
        (["phases", 0, "id"], "DeviceSetup", False),  # phase out of order
        (["phases", 0, "steps", 0, "id"], "DeviceSetup.TpmAttestationSubcategory", False),
        (["device"], None, True),  # missing key
        (["device", "deployment_mode"], "autopilot", False),
        (["settings", "allow_reset"], "yes", False),
        (["phases", 1, "steps", 3, "started"], "2024-04-02 16:20:00", False),  # bad time
        (["phases", 1, "steps", 3, "started"], "2024-04-02T16:20:00Z", False),  # no millis
        (["timeline", 0, "time"], "2024-13-02T16:20:00.000Z", False),
        (["phases", 1, "steps", 3, "hresult"], "0x80070643L", False),
        (["phases", 1, "steps", 3, "hresult"], -2147023293, False),
        (["phases", 1, "steps", 3, "items", 0, "kind"], "exe", False),
        (["phases", 1, "steps", 3, "items", 0, "scope"], "system", False),
        (["findings", 0, "severity"], "critical", False),
        (["findings", 0, "url"], "https://example.invalid", False),  # extra key
        (["findings", 0, "confidence"], None, False),  # every finding says how sure it is
        (["findings", 0, "source"], None, False),  # and where it comes from
        (["timeline", 0, "kind"], "file", False),
        (["source", "kind"], "tarball", False),
        (["source", "problems", 0, "line"], 3, False),
        (["schema"], "espview.report/2", False),
        (["phases", 1, "steps", 3, "registry", 0, "values", 0, "data"], {"a": 1}, False),
        (["phases", 1, "steps", 3, "events", 0, "event_id"], "1900", False),
    ],
)
def test_schema_rejects_broken_reports(path: list[str | int], value: Any, delete: bool) -> None:
    errors = validate_report_dict(_broken(path, value, delete))
    assert errors, f"schema accepted a report with {path} = {value!r}"


def test_schema_rejects_an_unknown_top_level_key() -> None:
    d = report_to_dict(minimal_report())
    d["extra"] = 1
    assert any("extra" in e for e in validate_report_dict(d))


def test_report_to_dict_validates_when_the_suite_asks(monkeypatch: pytest.MonkeyPatch) -> None:
    assert os.environ.get(VALIDATE_ENV) == "1", "tests/conftest.py should switch validation on"
    assert config.current().validate_reports
    bad = full_report()
    bad_step = bad.phases[1].steps[3]
    object.__setattr__(bad_step, "status", "exploded")  # frozen: bypass to build a broken one
    with pytest.raises(ValueError, match="violates"):
        report_to_dict(bad)
    with config.using(Settings.from_environ({VALIDATE_ENV: "0"})):
        assert report_to_dict(bad)["phases"][1]["steps"][3]["status"] == "exploded"


def test_schema_file_is_where_resources_live() -> None:
    path = schema_path()
    assert path.is_file()
    assert path.parent.name == "schema"
    assert path.parent.parent.name == "resources"
    schema = json.loads(path.read_text(encoding="utf-8"))
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_time_format() -> None:
    assert iso_time(datetime(2024, 4, 2, 16, 13, 4, 123456, tzinfo=UTC)) == (
        "2024-04-02T16:13:04.123Z"
    )
    assert iso_time(datetime(2024, 4, 2, 16, 13, 4)) == "2024-04-02T16:13:04.000Z"  # naive = UTC
    plus2 = timezone(timedelta(hours=2))
    assert iso_time(datetime(2024, 4, 2, 18, 0, 0, tzinfo=plus2)) == "2024-04-02T16:00:00.000Z"
    assert iso_time(datetime(1601, 1, 1)) == "1601-01-01T00:00:00.000Z"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("0x80070643", "0x80070643"),
        ("0x87d1041c", "0x87D1041C"),
        ("80070643", "0x80070643"),
        ("-2147023293", "0x80070643"),
        (-2147023293, "0x80070643"),
        (0x87D1041C, "0x87D1041C"),
        ("0", "0x00000000"),
        (None, None),
        ("not a code", "not a code"),
    ],
)
def test_hresult_format(given: str | int | None, expected: str | None) -> None:
    assert format_hresult(given) == expected


def test_exit_code() -> None:
    assert exit_code_for(full_report()) == 1  # it has a source problem
    assert exit_code_for(minimal_report()) == 0


def test_a_long_timeline_validates_quickly() -> None:
    import time

    report = big_report(20_000)
    began = time.perf_counter()
    d = report_to_dict(report)
    elapsed = time.perf_counter() - began
    assert len(d["timeline"]) == 20_000
    assert elapsed < 10, f"serialising and validating 20k entries took {elapsed:.1f}s"

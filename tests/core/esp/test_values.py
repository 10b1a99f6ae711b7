"""The value decoder: states, codes, times and durations mean one thing everywhere."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from core.esp.values import ValuesFileError, display, duration_text, load_values, parse_values

FIRSTSYNC = r"HKLM\SOFTWARE\Microsoft\Enrollments\X\FirstSync\S-1-12-1-1"
TRACKING = (
    r"HKLM\SOFTWARE\Microsoft\Windows\Autopilot\EnrollmentStatusTracking\Device\Setup\Apps"
    r"\Tracking\Sidecar\Win32App_x"
)
PROVIDER = (
    r"HKLM\SOFTWARE\Microsoft\Windows\Autopilot\EnrollmentStatusTracking\Device"
    r"\DevicePreparation\PolicyProviders\Sidecar"
)


def _filetime(when: datetime) -> int:
    return int((when - datetime(1601, 1, 1, tzinfo=UTC)).total_seconds() * 10_000_000)


def test_times_are_decoded_from_every_form() -> None:
    when = datetime(2024, 4, 2, 16, 13, 4, tzinfo=UTC)
    ticks = _filetime(when)
    assert display(FIRSTSYNC, "Timestamp", ticks.to_bytes(8, "little")) == "2024-04-02 16:13:04Z"
    assert display("HKLM\\X", "CreationTime", str(ticks)) == "2024-04-02 16:13:04Z"
    assert display("HKLM\\X", "SomethingTime", int(when.timestamp())) == "2024-04-02 16:13:04Z"
    assert display("HKLM\\X", "LastUpdatedTimeUtc", "4/2/2024 4:13:04 PM") == "2024-04-02 16:13:04Z"
    assert display("HKLM\\X", "Timestamp", b"\x01\x02") is None


def test_durations_carry_units() -> None:
    assert display(FIRSTSYNC, "CertificatesDuration", 3600) == "3600 s (1 h 0 min)"
    assert display(FIRSTSYNC, "PolicyDuration", 0) == "0 s"
    assert display("HKLM\\X\\FirstSync", "SyncFailureTimeout", 90) == "90 min (1 h 30 min)"
    assert duration_text(125) == "125 s (2 min 5 s)"


def test_states_depend_on_the_key() -> None:
    assert display(TRACKING, "InstallationState", 2) == "in progress"
    assert display(PROVIDER, "InstallationState", 2) == "not required"
    assert display(TRACKING, "InstallationState", 9) is None


def test_error_codes_signed_and_unsigned() -> None:
    shown = display("HKLM\\X", "ErrorCode", -2016345060)
    assert shown is not None
    assert shown.startswith("0x87D1041C")
    assert display("HKLM\\X", "ErrorCode", 0) == "0 (success)"
    assert display("HKLM\\X", "LastError", "0x80070643") is not None


def test_json_messages_decode_their_fields() -> None:
    shown = display(
        "HKLM\\X\\Win32Apps\\u\\a",
        "EnforcementStateMessage",
        '{"EnforcementState":5000,"ErrorCode":-2016345060,"TargetingMethod":0}',
    )
    assert shown is not None
    assert "EnforcementState 5000 = failed" in shown
    assert "0x87D1041C" in shown
    assert "TargetingMethod" not in shown


def test_every_table_row_uses_the_report_vocabulary() -> None:
    tables = load_values()
    assert tables.tables["enforcement_state"][1000].status == "succeeded"
    assert tables.tables["msi_status"][60].status == "failed"


@pytest.mark.parametrize(
    "doc",
    [
        {"table": {"t": {"1": {"word": "x", "status": "done"}}}},
        {"table": {"t": {"one": {"word": "x", "status": "failed"}}}},
        {"value": [{"name": "A", "decoder": "table", "table": "missing"}]},
        {"value": [{"name": "A", "decoder": "guess"}]},
        {"value": [{"name": "A", "decoder": "seconds", "colour": "red"}]},
        {"tables": {}},
    ],
)
def test_values_file_is_checked_strictly(doc: dict[str, object]) -> None:
    with pytest.raises(ValuesFileError):
        parse_values(doc)

"""The ESP's own record: both JSON shapes, every state, HRESULTs in texts, lenient parsing."""

from __future__ import annotations

import pytest

from core.esp.hresult import decode, find_hresult, fmt, from_number
from core.esp.knowledge import load
from core.esp.status import parse_category, text_status
from tests.core.esp.builders import esp_status_flat, esp_status_json

K = load()
ACCOUNT = next(p for p in K.phases if p.id == "AccountSetup")
DEVICE_SETUP = next(p for p in K.phases if p.id == "DeviceSetup")


def test_nested_shape_states_and_texts() -> None:
    raw = esp_status_json(
        "AccountSetup",
        "failed",
        {
            "WaitingForAadRegistrationSubcategory": ("succeeded", "Joining (Completed)"),
            "CertificatesSubcategory": ("failed", "Certificates (Error)"),
            "SendResultsToMdmServer": ("failedFromPreviousSubcategory", "(Previous step failed)"),
            "AppsSubcategory": ("notStarted", None),
        },
        text="Error",
    )
    record, problems = parse_category(ACCOUNT, raw, K)
    assert not problems
    assert record is not None
    assert (record.shape, record.status, record.text) == ("nested", "failed", "Error")
    certs = record.steps["AccountSetup.CertificatesSubcategory"]
    assert (certs.status, certs.text, certs.state) == ("failed", "Certificates (Error)", "failed")
    prev = record.steps["AccountSetup.SendResultsToMdmServer"]
    assert (prev.status, prev.state) == ("failed", "failedFromPreviousSubcategory")
    assert record.steps["AccountSetup.AppsSubcategory"].status == "not_started"
    assert record.active


def test_flat_shape() -> None:
    raw = esp_status_flat(
        {
            "CertificatesSubcategory": "Certificates (1 of 1 applied)",
            "AppsSubcategory": "Apps (2 of 3 installed)",
            "SecurityPoliciesSubcategory": "Security policies (Identifying)",
        },
        succeeded=None,
    )
    record, _ = parse_category(DEVICE_SETUP, raw, K)
    assert record is not None
    assert record.shape == "flat"
    assert record.steps["DeviceSetup.CertificatesSubcategory"].status == "succeeded"
    assert record.steps["DeviceSetup.AppsSubcategory"].status == "in_progress"
    assert record.steps["DeviceSetup.SecurityPoliciesSubcategory"].status == "identifying"
    assert record.status == "in_progress"


def test_flat_shape_category_succeeded() -> None:
    record, _ = parse_category(
        DEVICE_SETUP, esp_status_flat({"AppsSubcategory": "Apps (Complete)"}, True), K
    )
    assert record is not None
    assert record.status == "succeeded"


def test_hresult_in_status_text() -> None:
    raw = esp_status_json(
        "DeviceSetup", "failed", {"AppsSubcategory": ("failed", "Apps (0x87d1041c)")}
    )
    record, _ = parse_category(DEVICE_SETUP, raw, K)
    assert record is not None
    assert record.steps["DeviceSetup.AppsSubcategory"].hresult == 0x87D1041C


def test_mangled_json_falls_back_to_regex_with_problem() -> None:
    raw = esp_status_json(
        "AccountSetup", "failed", {"CertificatesSubcategory": ("failed", "Certificates (Error)")}
    )
    broken = raw[:-1]  # truncated: not JSON any more
    record, problems = parse_category(ACCOUNT, broken, K, "dump.reg:10")
    assert record is not None
    assert record.shape == "regex"
    assert record.steps["AccountSetup.CertificatesSubcategory"].status == "failed"
    assert len(problems) == 1
    assert "leniently" in problems[0].message


def test_garbage_gives_problem_and_no_record() -> None:
    record, problems = parse_category(ACCOUNT, "not json at all", K)
    assert record is None
    assert len(problems) == 1


@pytest.mark.parametrize(
    ("text", "status"),
    [
        ("Apps (Previous step failed)", "failed"),
        ("Securing your hardware (Failed: 0x800705b4)", "failed"),
        ("Apps (Identifying)", "identifying"),
        ("Network connections (No setup needed)", "succeeded"),
        ("Certificates (3 of 3 applied)", "succeeded"),
        ("Apps (1 of 4 installed)", "in_progress"),
        ("something else", "unknown"),
        (None, "unknown"),
    ],
)
def test_text_status(text: str | None, status: str) -> None:
    assert text_status(text, K) == status


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Apps (0x87d1041c)", 0x87D1041C),
        ("(Failed: 0x800705b4)", 0x800705B4),
        ("Registering your device (Failed: 3, 0x801C03EA)", 0x801C03EA),
        ("ok 0x00000000", None),
        ("", None),
    ],
)
def test_find_hresult(text: str, code: int | None) -> None:
    assert find_hresult(text) == code


def test_numbers_and_decode() -> None:
    assert from_number("-2016345060") == 0x87D1041C
    assert from_number("2147943860") == 0x800705B4
    assert from_number(0) is None
    assert from_number("3010") is None
    assert fmt(0x800705B4) == "0x800705B4"
    parts = decode(0x800705B4)
    assert (parts.facility, parts.number, parts.win32) == (7, 0x5B4, 0x5B4)

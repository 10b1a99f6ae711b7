"""Scenario captures: build a cab with :mod:`tests.builders.capture`, load it through the real
pipeline (``load_evidence`` + ``analyze``) and check the report as a technician would."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from core.esp.analyze import analyze
from core.esp.model import EspReport, Step
from core.evidence import load_evidence
from core.report.json_report import report_to_dict
from tests.builders.capture import Capture
from tests.core.esp.invariants import assert_steps_explain_themselves

PHASES = ["DevicePreparation", "DeviceSetup", "AccountSetup"]
VISIBLE = [
    [
        "DevicePreparation.TpmAttestationSubcategory",
        "DevicePreparation.AadjSubcategory",
        "DevicePreparation.MdmEnrollmentSubcategory",
        "DevicePreparation.EspProviderInstallationSubcategory",
    ],
    [
        "DeviceSetup.SecurityPoliciesSubcategory",
        "DeviceSetup.CertificatesSubcategory",
        "DeviceSetup.NetworkConnectionsSubcategory",
        "DeviceSetup.AppsSubcategory",
    ],
    [
        "AccountSetup.WaitingForAadRegistrationSubcategory",
        "AccountSetup.SecurityPoliciesSubcategory",
        "AccountSetup.CertificatesSubcategory",
        "AccountSetup.NetworkConnectionsSubcategory",
        "AccountSetup.AppsSubcategory",
    ],
]

Run = Callable[[Capture], EspReport]


@pytest.fixture
def run(tmp_path: Path) -> Run:
    def _run(capture: Capture) -> EspReport:
        cab = capture.write_cab(tmp_path / "MDMDiagReport.cab")
        evidence = load_evidence(cab)
        assert not evidence.problems, evidence.problems
        report = analyze(evidence)
        assert_layout(report)
        assert_steps_explain_themselves(report)
        report_to_dict(report)  # validated against the JSON schema (ESPVIEW_VALIDATE_REPORTS)
        return report

    return _run


def prep_failed(mode: str, subcategory: str, text: str) -> Capture:
    """A ``mode`` capture whose Device preparation failed at ``subcategory`` with ``text``
    (Device setup never started)."""
    cap = Capture().autopilot(mode).first_sync()
    cap.record("DevicePreparation", "failed", {subcategory: ("failed", text)})
    return cap.record("DeviceSetup", "notStarted")


def setup_failed(subcategory: str, text: str, mode: str = "user_driven") -> Capture:
    """A ``mode`` capture whose Device setup failed at ``subcategory`` with ``text`` (Device
    preparation succeeded, Account setup never started)."""
    cap = Capture().autopilot(mode).first_sync()
    cap.record("DevicePreparation", "succeeded")
    cap.record("DeviceSetup", "failed", {subcategory: ("failed", text)})
    return cap.record("AccountSetup", "notStarted")


def assert_layout(report: EspReport) -> None:
    """The three phases in ESP order, each with its visible steps in ESP order."""
    assert [p.id for p in report.phases] == PHASES
    assert [[s.id for s in p.steps] for p in report.phases] == VISIBLE


def failed_step(report: EspReport, step_id: str, text: str | None, hresult: str | None) -> Step:
    """The first failed step is ``step_id`` with the ESP's text and code."""
    step = report.first_failed_step
    assert step is not None, "no failed step"
    assert step.id == step_id
    assert step.status == "failed"
    assert step.status_text == text
    assert step.hresult == hresult
    return step


def finding_ids(report: EspReport) -> set[str]:
    return {f.id for f in report.findings}


def errors_only_on(report: EspReport, *steps: str | None) -> None:
    """No error-level finding outside the given steps (``None`` = device-wide)."""
    stray = [f for f in report.findings if f.severity == "error" and f.step not in steps]
    assert not stray, [(f.id, f.step, f.title) for f in stray]


def top_finding_on(report: EspReport, step_id: str) -> None:
    assert report.findings, "no findings"
    assert report.findings[0].step == step_id, [(f.id, f.step) for f in report.findings[:3]]

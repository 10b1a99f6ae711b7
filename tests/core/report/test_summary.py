"""The step summary a technician pastes into a ticket: the ESP's words, what a setting changes."""

from __future__ import annotations

from dataclasses import replace

from core.report.summary import step_summary
from tests.core.report.builders import minimal_report, skeleton


def test_summary_says_status_once_and_the_skipped_page() -> None:
    prep, setup, account = skeleton("succeeded")
    certs = replace(account.steps[2], status="failed", status_text="Certificates (Error)")
    account = replace(account, status="failed", steps=(*account.steps[:2], certs,
                                                       *account.steps[3:]))
    report = replace(minimal_report(), phases=(prep, setup, account))
    lines = step_summary(report, certs).splitlines()
    assert lines[0] == "Account setup › Certificates: Error"
    assert not any("SkipUserStatusPage" in line for line in lines)
    skipped = replace(report, settings=replace(report.settings, skip_user_status_page=True))
    assert "SkipUserStatusPage is set" in step_summary(skipped, certs).splitlines()[1]

"""The terminal report: verdict first, what to do next, honest about what is unknown."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from core.esp.model import EspReport, Status
from core.report import render_text, verdict
from core.report.common import item_status
from tests.core.report.builders import (
    APPS,
    HOSTILE,
    STEP_COUNT,
    full_report,
    hostile_report,
    minimal_report,
    skeleton,
)


def test_failed_report_puts_verdict_then_what_to_do_first() -> None:
    text = render_text(full_report(), encoding="utf-8")
    lines = text.splitlines()
    assert lines[0] == "FAILED at Device setup › Apps (0x80070643 ERROR_INSTALL_FAILURE)"
    head = "\n".join(lines[:20])
    # What failed, where, and what to do — all on the first screen.
    assert "WHAT TO DO FIRST" in head
    assert "Win32 app Contoso VPN client failed (0x80070643)" in head
    assert "Run the installer by hand" in head
    assert head.index("Win32 app Contoso VPN client failed") < head.index("Office was still")
    # Then the composite tree, the device, and the failed step's evidence.
    assert text.index("ESP — ALL PHASES AND STEPS") < text.index("DEVICE\n")
    assert "✘ Apps" in text
    assert "DEVICE SETUP › APPS" in text
    assert "✘ win32" in text
    assert "Win32 app Contoso VPN client failed: exit code 1603" in text
    assert "InstallationState = 4" in text
    assert "DeviceManagement-Admin.evtx (chunk 3): bad chunk checksum" in text
    assert "30 timeline entries" in text
    assert "--json" in text
    assert "--html" in text


def test_empty_report_says_unknown_honestly() -> None:
    text = render_text(minimal_report(), encoding="utf-8")
    lines = text.splitlines()
    assert lines[0].startswith("UNKNOWN")
    assert "✔" not in text
    assert "Succeeded" not in text
    assert text.count("? ") >= 3 + STEP_COUNT
    assert "The capture holds no device facts" in text  # once, not seven "unknown" lines
    assert "The capture holds no ESP settings" in text  # once, not seven "unknown" lines
    assert "WHAT TO DO FIRST" not in text


def test_ascii_terminal_gets_ascii_marks() -> None:
    text = render_text(full_report(), encoding="ascii")
    text.encode("ascii")  # never raises
    first = text.splitlines()[0]
    assert first == "FAILED at Device setup > Apps (0x80070643 ERROR_INSTALL_FAILURE)"
    assert "X Apps" in text
    assert "+ Securing your hardware" in text


def test_cp437_console_keeps_what_it_can_show() -> None:
    text = render_text(full_report(), encoding="cp437")
    text.encode("cp437")


def test_hostile_text_cannot_reach_the_terminal() -> None:
    text = render_text(hostile_report(), encoding="utf-8")
    assert "\x1b" not in text
    assert "\x07" not in text
    assert "\\x1b[31m" in text  # shown, harmless
    assert HOSTILE[:20] in text


def test_color_only_when_asked() -> None:
    assert "\x1b[" not in render_text(full_report(), encoding="utf-8")
    coloured = render_text(full_report(), color=True, encoding="utf-8")
    assert coloured.splitlines()[0].startswith("\x1b[1;31mFAILED at")


def test_wrapped_paragraphs_fit_the_width() -> None:
    text = render_text(full_report(), width=60, encoding="utf-8")
    start = text.index("WHAT TO DO FIRST")
    block = text[start:text.index("ESP — ALL PHASES")]
    too_long = [line for line in block.splitlines() if len(line) > 60 and "Read: " not in line]
    assert too_long == []


def _with_steps(report: EspReport, **status: Status) -> EspReport:
    phases = tuple(
        replace(p, steps=tuple(replace(s, status=status.get(s.id.split(".")[1], s.status))
                               for s in p.steps))
        for p in report.phases
    )
    return replace(report, phases=phases)  # type: ignore[arg-type]  # still three phases


def test_verdict_in_progress_names_the_running_step() -> None:
    prep, setup, account = skeleton("succeeded")
    apps = replace(account.steps[4], status="identifying", status_text="Identifying")
    account = replace(account, status="in_progress", steps=(*account.steps[:4], apps))
    report = replace(minimal_report(), phases=(prep, setup, account))
    v = verdict(report)
    assert v.kind == "in_progress"
    assert v.line == "IN PROGRESS when captured at Account setup › Apps (Identifying)"
    text = render_text(report, encoding="utf-8")
    assert text.startswith(v.line)
    assert "ACCOUNT SETUP › APPS" in text
    assert "No evidence attached to this step." in text


def test_verdict_success_needs_every_step_to_say_so() -> None:
    done = replace(minimal_report(), phases=skeleton("succeeded"))
    assert verdict(done).kind == "succeeded"
    partly = _with_steps(done, CertificatesSubcategory="unknown")
    v = verdict(partly)
    assert v.kind == "incomplete"
    assert "2 of 13 steps unknown" in v.line  # both phases have a Certificates step
    account_later = replace(done, phases=(*done.phases[:2], skeleton("not_started")[2]))
    v = verdict(account_later)
    assert v.kind == "incomplete"
    assert "not started: Account setup › Joining your organization's network" in v.line


def test_verdict_failed_phase_without_a_failed_step() -> None:
    prep, setup, account = skeleton("unknown")
    setup = replace(setup, status="failed", status_text="Timed out")
    v = verdict(replace(minimal_report(), phases=(prep, setup, account)))
    assert v.line == "FAILED at Device setup (Timed out)"
    assert v.step is None


def test_first_failure_wins() -> None:
    step = verdict(full_report()).step
    assert step is not None
    assert step.id == APPS


@pytest.mark.parametrize(
    ("word", "status"),
    [
        ("installed", "succeeded"),
        ("Installed", "succeeded"),
        ("failed", "failed"),
        ("Error", "failed"),
        ("in_progress", "in_progress"),
        ("downloading", "in_progress"),
        ("not_processed", "not_started"),
        ("NotInstalled", "not_started"),
        ("", "unknown"),
        ("whatever", "unknown"),
    ],
)
def test_item_status_words(word: str, status: str) -> None:
    assert item_status(word) == status


def test_device_preparation_and_confidence_are_shown(tmp_path: Path) -> None:
    from core.esp.analyze import analyze
    from core.evidence import load_evidence
    from core.report.html_report import render_html
    from tests.builders.capture import Capture, at

    cap = Capture().device_preparation(4, error=0x80070643, phase="Apps")
    cap.prep_app(61, "Contoso Agent", 4, at(5), at(9), error=0x80070643)
    report = analyze(load_evidence(cap.write_cab(tmp_path / "MDMDiagReport.cab")))
    text = render_text(report, width=120)
    assert text.startswith("FAILED — device preparation at Installing apps (0x80070643)")
    assert "WINDOWS AUTOPILOT DEVICE PREPARATION" in text
    assert "Installing apps: Failed" in text
    assert "win32 Contoso Agent: failed 0x80070643" in text
    assert "error, high confidence" in text
    html = render_html(report)
    assert 'id="device-preparation"' in html
    assert "high confidence" in html


def test_status_words_drop_the_title_the_esp_repeats() -> None:
    from core.report.common import status_words

    assert status_words("Certificates", "failed", "Certificates (Error)") == "Error"
    # The record's lost apostrophe does not defeat the comparison.
    assert status_words("Joining your organization's network", "succeeded",
                        "Joining your organization?s network (Completed)") == "Completed"
    assert status_words("Apps", "failed", "Apps (0x87d1041c)") == "Failed: 0x87D1041C"
    assert status_words("Apps", "succeeded", "Installing (2 of 3)") == "Installing (2 of 3)"
    assert status_words("Apps", "unknown", None) == "Unknown"


def test_failed_step_with_skipped_user_page_and_grouped_evidence() -> None:
    from core.esp.model import Finding

    prep, setup, account = skeleton("succeeded")
    certs = replace(account.steps[2], status="failed", status_text="Certificates (Error)")
    account = replace(account, status="failed", status_text="Error",
                      steps=(*account.steps[:2], certs, *account.steps[3:]))
    origin = "x.cab!some-channel-admin.evtx"
    finding = Finding(
        "scep_failed", "error", certs.id, "Certificate profile not applied", "SCEP failed.",
        tuple(f"{origin}#{n}: MDM: SCEP enrolment failed" for n in range(1, 6)),
        None, "high",
    )
    noise = Finding("mdm_errors", "info", None, "9× MDM event 404 failed",
                    "Lots of words here.", (f"{origin}#9: noise",), None, "low")
    report = replace(minimal_report(), phases=(prep, setup, account), findings=(finding, noise),
                     settings=replace(minimal_report().settings, skip_user_status_page=True))
    text = render_text(report, encoding="utf-8")
    lines = text.splitlines()
    assert lines[0] == "FAILED at Account setup › Certificates (Error)"
    assert "SkipUserStatusPage is set" in "\n".join(lines[1:4])  # beside the verdict
    assert "Certificates (Error)" not in text.split("ESP — ALL")[1].split("DEVICE")[0]
    # The file name once, then one line per event starting with its record number.
    assert text.count("some-channel-admin.evtx") == 1
    assert "    #1 MDM: SCEP enrolment failed" in text
    assert "Evidence (3 of 5):" in text
    assert "… 2 more in the JSON/HTML report" in text
    # Low-confidence background findings are named, not spelled out.
    assert "9× MDM event 404 failed" in text
    assert "Lots of words here." not in text


def test_a_second_rule_on_the_same_failure_does_not_repeat_its_evidence() -> None:
    from core.esp.model import Finding

    report = full_report()
    step = next(s for s in report.steps if s.status == "failed")
    lines = tuple(f"x.cab!a.evtx#{n}: MDM: install failed 0x80070643" for n in range(1, 4))
    first = Finding("one", "error", step.id, "Win32 app failed", "Failed 0x80070643.", lines)
    second = Finding("two", "error", step.id, "Installer failed",
                     "0x80070643 again: check the MSI log.", lines)
    text = render_text(replace(report, findings=(first, second)), encoding="utf-8")
    assert "check the MSI log" in text  # its words stay
    assert "Evidence: the same failure as 1" in text
    assert text.split("WHAT TO DO FIRST")[1].count("#1 MDM: install failed") == 1


def test_long_item_ids_keep_their_tail() -> None:
    from core.esp.model import Item

    report = full_report()
    step = next(s for s in report.steps if s.status == "failed")
    long_id = "./Device/Vendor/MSFT/ClientCertificateInstall/SCEP/" + "x" * 60 + "_TAIL42"
    item = Item("scep", long_id, None, "device", "failed")
    phases = tuple(
        replace(p, steps=tuple(replace(s, items=(item,)) if s is step else s for s in p.steps))
        for p in report.phases
    )
    text = render_text(replace(report, phases=phases), encoding="utf-8")  # type: ignore[arg-type]
    line = next(line for line in text.splitlines() if "scep" in line and "…" in line)
    assert "_TAIL42" in line
    assert "./Device/" in line


def test_a_step_says_why_once() -> None:
    from core.esp.model import LogRef

    report = full_report()
    step = next(s for s in report.steps if s.status == "failed")
    log = LogRef(None, "info", "IME", "1", "a line", "x.log:1")
    phases = tuple(
        replace(p, steps=tuple(replace(s, status_reason="because", logs=(log,)) if s is step
                               else s for s in p.steps))
        for p in report.phases
    )
    text = render_text(replace(report, phases=phases), encoding="utf-8")  # type: ignore[arg-type]
    section = text.split("DEVICE SETUP › APPS")[1].split("\nSOURCE")[0]
    assert section.count("Why: because") == 1
    assert "Log lines (1)" in section

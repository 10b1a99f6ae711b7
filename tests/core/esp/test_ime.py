"""core.esp.ime on its own: IME / AppWorkload lines (built, never copied) → ImeFacts, and the
log clock decided from matched moments."""

from __future__ import annotations

import re
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from core.esp import ime
from core.esp.ime import (
    ImeFacts,
    anchor_clock,
    anchor_pairs,
    is_ime_log,
    read_ime,
    shift_logs,
)
from core.events.model import EventRecord
from core.logs.cmtrace import read_cmtrace_files
from core.logs.model import LogLine
from tests.builders.logs import ImeLog, cmtrace_line, write_cmtrace

T0 = datetime(2025, 5, 6, 9, 0, 0, tzinfo=UTC)
APP = "b1a2c3d4-0000-4000-8000-00000000a001"
OTHER = "b1a2c3d4-0000-4000-8000-00000000a002"


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def facts_of(tmp_path: Path, *logs: tuple[str, ImeLog]) -> tuple[ImeFacts, list[LogLine]]:
    paths = [log.write(tmp_path / name) for name, log in logs]
    lines, problems = read_cmtrace_files(paths, names=[p.name for p in paths])
    assert not problems
    return read_ime(lines), lines


def device_then_account() -> ImeLog:
    log = ImeLog()
    log.provider_first_seen(at(0))
    log.esp_check(at(0), "DeviceSetup")
    log.tracked(at(5), APP, 2, rev=3)
    log.esp_check(at(5), "DeviceSetup")
    log.device_done(at(20))
    log.esp_check(at(20), "AccountSetup")
    log.add(at(21), "[Win32App] The EspPhase: NotInEsp in session")  # a user session, not the end
    log.esp_check(at(22), "AccountSetup")
    log.esp_check(at(40), "NotInEsp")
    return log


def test_phases_reached_and_left(tmp_path: Path) -> None:
    facts, _ = facts_of(tmp_path, ("IntuneManagementExtension.log", device_then_account()))
    spans = facts.spans()
    assert set(spans) == {"DeviceSetup", "AccountSetup"}
    device = spans["DeviceSetup"]
    assert device.started == at(0)
    assert device.ended == at(20)  # "All apps completed for device"
    assert device.left is not None
    assert device.left.ended
    account = spans["AccountSetup"]
    assert account.started == at(20)
    assert account.last.time == at(22)  # the user-session NotInEsp in between did not end it
    assert account.ended == at(40)
    assert facts.final() is not None
    assert facts.final().phase == "NotInEsp"
    assert facts.provider_state == 3
    assert facts.policies_created is not None
    assert facts.skip_device is not None
    assert facts.skip_device[0] is False
    assert facts.skip_user is not None
    assert facts.skip_user[0] is False


def test_tracked_app_state_history(tmp_path: Path) -> None:
    facts, _ = facts_of(tmp_path, ("IntuneManagementExtension.log", device_then_account()))
    app = facts.apps[APP]
    assert app.tracked
    assert app.scope == "device"
    assert app.phase == "DeviceSetup"
    assert app.revision == "3"
    # IME re-reads the list every few seconds: only the changes are kept
    assert [(t, w) for t, w, _ in app.history] == [(at(5), "in_progress"), (at(20), "completed")]
    assert app.outcome == "done"
    assert all(line.origin.startswith("IntuneManagementExtension.log:") for line in app.lines)


def test_app_name_download_exit_code_and_enforcement(tmp_path: Path) -> None:
    log = ImeLog("AppWorkload")
    log.processing(at(1), APP, "Contoso VPN Client")
    total = 400 * 1024 * 1024
    for minute, done in ((2, 0), (4, total // 4), (6, total // 2)):
        log.downloading(at(minute), APP, "Contoso VPN Client", done, total)
    log.processing(at(7), OTHER, "Fabrikam Notes")
    log.downloading(at(7.5), OTHER, "Fabrikam Notes", 1000, 1000, via="CDN")
    log.exit_code(at(8), 1603, success=False)
    log.enforcement(at(8.1), OTHER, "InProgress", "Error", error=-2016345060)
    facts, _ = facts_of(tmp_path, ("AppWorkload.log", log))

    vpn = facts.apps[APP]
    assert vpn.name == "Contoso VPN Client"
    reading = vpn.download
    assert reading is not None
    assert (reading.done, reading.total, reading.percent) == (total // 2, total, 50.0)
    assert reading.via == "Delivery Optimization"
    assert not reading.complete
    rate = vpn.rate()
    assert rate is not None
    assert rate == pytest.approx((total // 2) / 240)
    assert vpn.exit_code is None  # the exit code line came while the thread worked on OTHER

    notes = facts.apps[OTHER]
    assert notes.name == "Fabrikam Notes"
    assert notes.download is not None
    assert notes.download.complete
    assert notes.download.via == "CDN"
    assert notes.exit_code == 1603
    assert notes.result == "failed"
    assert notes.error_code == -2016345060
    assert notes.outcome == "failed"
    assert [w for _, w, _ in notes.history] == ["install_failed", "error"]


def test_store_job_without_an_app_id(tmp_path: Path) -> None:
    log = ImeLog()
    log.esp_check(at(0), "DeviceSetup")
    log.add(at(0.5), "Adding new state transition - From:Download In Progress To: Download "
                     "Complete With Event: Download Finished.")  # the machine's table: no job
    log.store_job(at(1), total=600 * 1024 * 1024, steps=4, seconds=240)
    facts, _ = facts_of(tmp_path, ("IntuneManagementExtension.log", log))
    jobs = [a for key, a in facts.apps.items() if key.startswith("job:")]
    assert len(jobs) == 1
    job = jobs[0]
    assert job.phase == "DeviceSetup"
    assert not job.tracked
    assert [w for _, w, _ in job.history] == [
        "queued", "install_in_progress", "download_in_progress", "download_complete"
    ]
    assert job.download is not None
    assert job.download.percent == 100.0
    assert job.rate() == pytest.approx(600 * 1024 * 1024 * 3 / 4 / 180)


def test_only_intune_logs_are_read() -> None:
    def line(name: str) -> LogLine:
        return LogLine(at(0), "[Win32App] In EspPhase: DeviceSetup", "x", "1", 1, name, 1)

    for name in ("IntuneManagementExtension.log", "IntuneManagementExtension-20240402-161304.log",
                 "AppWorkload.log", "AppWorkload-20250101-000000.log",
                 "MDMDiagReport.cab!IntuneManagementExtension.log", r"Logs\AppWorkload.log"):
        assert is_ime_log(line(name)), name
    assert not is_ime_log(line("setupact.log"))
    assert read_ime([line("ccmsetup.log")]).marks == []


def test_clock_unanchored_zone_live() -> None:
    assert anchor_clock([]).basis == "unanchored"
    assert "nothing in the evidence anchors" in anchor_clock([]).detail
    zone = anchor_clock([], zone="W. Europe Standard Time")
    assert zone.basis == "zone"
    assert "W. Europe Standard Time" in zone.detail
    assert anchor_clock([], live=True).basis == "device"


def test_clock_anchored_by_an_event_of_the_same_moment(tmp_path: Path) -> None:
    # The device clock runs two hours ahead of UTC; IME's clock reading is read as UTC.
    local = ImeLog()
    local.provider_first_seen(at(120) + timedelta(seconds=1))
    local.esp_check(at(121), "DeviceSetup")
    facts, lines = facts_of(tmp_path, ("IntuneManagementExtension.log", local))
    event = EventRecord(
        time=at(0) + timedelta(seconds=2),
        channel="Microsoft-Windows-ModernDeployment-Diagnostics-Provider/Autopilot",
        provider="Microsoft-Windows-ModernDeployment-Diagnostics-Provider",
        event_id=288, level=4, record_id=9, computer="PC",
        data={"ResourceType": "Apps", "PolicyProvider": "Sidecar"}, file="autopilot.evtx",
    )
    pairs = anchor_pairs(facts, [event], [])
    assert len(pairs) == 1
    assert "autopilot.evtx#9" in pairs[0][2]
    clock = anchor_clock(pairs)
    assert clock.basis == "event"
    assert clock.offset_minutes == -120
    assert "-2:00" in clock.detail
    assert clock.origins
    shifted = read_ime(shift_logs(lines, clock.offset_minutes))
    assert shifted.spans()["DeviceSetup"].started == at(1)

    # the same line against an event an odd 7 minutes away anchors nothing
    assert anchor_pairs(facts, [replace(event, time=at(7))], []) == []


def test_clock_anchored_by_registry_time(tmp_path: Path) -> None:
    log = ImeLog()
    log.processing(at(61), APP, "Contoso VPN Client")
    log.enforcement(at(65), APP, "InProgress", "Success")
    facts, _ = facts_of(tmp_path, ("IntuneManagementExtension.log", log))
    pairs = anchor_pairs(facts, [], [(APP, at(5) + timedelta(seconds=1), "Win32Apps key")])
    clock = anchor_clock(pairs)
    assert clock.basis == "event"
    assert clock.offset_minutes == -60
    # the zone the loader used agrees with the matched moments: keep it, say it is confirmed
    agreed = anchor_clock([(at(5), at(5), "x ↔ y")], zone="UTC")
    assert agreed.basis == "zone"
    assert "agree" in agreed.detail


def test_hostile_long_lines_stay_fast() -> None:
    """Megabyte records full of half patterns: read in linear time, nothing invented."""
    text = ("From: Download In Progress " * 40_000) + ("Report delta: {" * 20_000) + (
        f"Win32App_{APP} " * 5_000)
    lines = [LogLine(at(n), text, "IntuneManagementExtension", "1", 1,
                     "IntuneManagementExtension.log", n + 1) for n in range(3)]
    start = time.perf_counter()
    facts = read_ime(lines)
    assert time.perf_counter() - start < 5
    assert facts.marks == []


def test_older_and_newer_wordings(tmp_path: Path) -> None:
    """The forms IME versions use for the same facts (as community parsers read them):
    instance state reads, ESP state sets, 'Setting enforcementState', unmapped exit codes, DO
    timeouts, WinGet progress, names before or after the id."""
    third = "b1a2c3d4-0000-4000-8000-00000000a003"
    log = ImeLog()
    log.add(at(0), "[Win32App] In EspPhase: DeviceSetup")
    log.add(at(1), f"[Win32App] Got InstanceID: Win32App_{APP}_2, installationStateString: 2")
    log.add(at(1.5), f"[Win32App] ProcessAppWithDependencies starts for {APP} with name "
                     "Contoso Agent", thread=20)
    log.add(at(2), "[Win32App DO] DO download and decryption is not finished within the "
                   "timeout of 1800 seconds", thread=20)
    log.add(at(3), f"[Win32App] Admin did NOT set mapping for lpExitCode: 1618 of app: {APP}",
            thread=20)
    log.add(at(4), f"[Win32App] ExecManager: processing targeted app (name='Fabrikam Viewer', "
                   f"id='{OTHER}')", thread=21)
    log.add(at(5), "[Win32App] Setting enforcementState as Success", thread=21)
    log.add(at(6), f"[Win32App] Set ESP win32App state Completed for {OTHER}")
    log.add(at(7), f"[WinGetMessageProcessor] Processing Progress for app = {third} and user = "
                   f"{APP[:8]} - Operation Phase = Downloading", thread=22)
    facts, _ = facts_of(tmp_path, ("IntuneManagementExtension.log", log))

    agent = facts.apps[APP]
    assert agent.tracked
    assert agent.name == "Contoso Agent"
    assert agent.exit_code == 1618
    assert [w for _, w, _ in agent.history] == ["in_progress", "download_timed_out",
                                                "install_failed"]
    assert agent.outcome == "failed"
    viewer = facts.apps[OTHER]
    assert viewer.name == "Fabrikam Viewer"
    assert viewer.tracked
    assert [w for _, w, _ in viewer.history] == ["success", "completed"]
    assert viewer.outcome == "done"
    assert [w for _, w, _ in facts.apps[third].history] == ["downloading"]


def test_download_readings_in_other_shapes(tmp_path: Path) -> None:
    log = ImeLog()
    log.processing(at(0), APP, "Contoso VPN Client")
    log.add(at(1), f"[Win32App DO] Downloading content for app {APP}: BytesTransferred=1048576, "
                   "BytesTotal=4194304, download speed 512 KB/s", thread=14)
    log.add(at(2), f"[Win32App] Download of app {APP} at 75% via CDN, rate 2 Mbps", thread=14)
    facts, _ = facts_of(tmp_path, ("IntuneManagementExtension.log", log))
    first, second = facts.apps[APP].downloads
    assert (first.done, first.total, first.percent) == (1048576, 4194304, 25.0)
    assert first.rate == 512 * 1024
    assert first.via == "Delivery Optimization"
    assert (second.done, second.percent, second.via) == (None, 75.0, "CDN")
    assert second.rate == 2_000_000 / 8
    assert facts.apps[APP].rate() == second.rate  # the latest stated rate


# Every piece of text a case-blind pattern is gated on (core.esp.ime's ``…_WORD(S)``) must be
# in the lower-cased line whenever the pattern matches, non-ASCII look-alikes included.
_LOOK_ALIKES = {"s": "\u017f", "i": "\u0131", "I": "\u0130", "k": "\u212a", "K": "\u212a"}


@pytest.mark.parametrize(
    ("pattern", "words", "sample"),
    [
        (ime._JOB, ime._JOB_WORDS, "[Win32App] took state machine into Downloading state"),
        (ime._JOB, ime._JOB_WORDS, "Adding new state transition - From: A To: B"),
        (ime._JOB, ime._JOB_WORDS, "[Package Manager] BytesRequired - 10 BytesDownloaded - 5"),
        (ime._USER_DONE, ime._USER_DONE_WORDS, "found isSyncDoneForUser: True"),
        (ime._USER_DONE, ime._USER_DONE_WORDS, "userHasProvisioningCompletedX : True"),
        (ime._PROVIDER, (ime._PROVIDER_WORD,),
         "InstanceID: Sidecar, installationStateString: 3"),
        (ime._PROVIDER_SET, (ime._PROVIDER_SET_WORD,),
         "SidecarCspProvider installationState Completed"),
        (ime._POLICIES, (ime._POLICIES_WORD,), "SidecarTrackingPoliciesCreated value as True"),
        (ime._SKIP, (ime._SKIP_WORD,), "Set skipUserStatusPage : False"),
    ],
)
def test_search_gates_hold_for_every_match(
    pattern: re.Pattern[str], words: tuple[str, ...], sample: str
) -> None:
    assert not set("iksIKS") & set("".join(words))  # see _USER_DONE_WORDS
    variants = [sample, sample.upper(), sample.lower(), sample.swapcase()]
    for plain, other in _LOOK_ALIKES.items():
        variants += [v.replace(plain, other) for v in list(variants)]
    for text in variants:
        if pattern.search(text):
            assert any(word in text.lower() for word in words), text
    assert pattern.search(sample)


@pytest.mark.parametrize(
    "marker",
    ["win32app_", "id = ", "id(", "app x", "app:", "app ids", "application x", "appid",
     "app =", "starts for", "with id", "intunewin-bin_", "state done for", "applicationid"],
)
def test_app_words_find_every_app_marker(marker: str) -> None:
    assert ime._APP_WORDS.search(f"[win32] {marker} b1a2c3d4")


def test_app_words_skip_lines_without_a_marker() -> None:
    for text in ("apple pie", "idle thread", "the application", "statement for x"):
        assert ime._APP_WORDS.search(text) is None, text


def test_phase_name_with_a_look_alike_letter_is_read(tmp_path: Path) -> None:
    # "ı" (dotless i) matches "i" case-blind but casefolds apart: the line must not stop
    # the analysis.
    path = write_cmtrace(tmp_path / "IntuneManagementExtension.log", [
        cmtrace_line(T0, "[Win32App] EspPhase: Dev\u0131ceSetup", bias_minutes=None),
    ])
    lines, _problems = read_cmtrace_files([path])
    assert [mark.phase for mark in read_ime(lines).marks] == ["DeviceSetup"]

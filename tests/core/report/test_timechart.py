"""The time chart's layout: rows, attempts, segments, failure marks, timeout line, axis."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest

from core.esp.model import EspReport, HistoryEntry, Item, Settings
from core.report.timechart import (
    Chart,
    Row,
    bar_description,
    build_chart,
    duration_text,
    elide_middle,
    item_attempts,
    meaning,
    nice_step,
    time_ticks,
    timeout_note,
    visible_rows,
)
from tests.core.report.builders import APPS, at, full_report, minimal_report


def _with_apps_items(report: EspReport, *items: Item) -> EspReport:
    setup = report.phases[1]
    steps = tuple(replace(s, items=items) if s.id == APPS else s for s in setup.steps)
    return replace(report, phases=(report.phases[0], replace(setup, steps=steps),
                                   report.phases[2]))


def _row(chart: Chart, label: str) -> Row:
    return next(r for r in chart.rows if r.label == label)


def _item(name: str, *history: tuple[float, str], status: str = "unknown") -> Item:
    return Item("win32", f"id-{name}", name, "device", status, None,
                tuple(HistoryEntry(at(m), word) for m, word in history))


@pytest.mark.parametrize(("word", "expected"), [
    ("download_in_progress", "download"),
    ("downloading", "download"),
    ("download_completed", "wait"),
    ("downloaded_not_installed", "wait"),
    ("download_failed", "failed"),
    ("pending_download_retry", "retry"),
    ("failed_will_retry", "retry"),
    ("enforcement_in_progress", "install"),
    ("installing", "install"),
    ("received_install_command", "install"),
    ("in_progress", "work"),
    ("not_installed", "wait"),
    ("not_processed", "wait"),
    ("waiting_for_dependencies", "wait"),
    ("initialized", "wait"),
    ("installed_pending_reboot", "done"),
    ("enforcement_completed", "done"),
    ("completed", "done"),
    ("processed", "done"),
    ("requirements_not_met", "done"),
    ("error", "failed"),
    ("enforcement_failed", "failed"),
    ("odt_download_timeout", "failed"),
    ("tracking_policies_created", "unknown"),
])
def test_state_words(word: str, expected: str) -> None:
    assert meaning(word) == expected


def test_full_report_rows_bars_and_failure_marks() -> None:
    chart = build_chart(full_report())
    levels = [r.level for r in chart.rows]
    # Account setup has no time anywhere: one row for the phase, not one per step.
    assert levels.count("phase") == 3
    assert levels.count("step") == 8
    assert levels.count("item") == 3
    account = _row(chart, "Account setup")
    assert account.note is not None
    assert "5 steps" in account.note
    vpn = _row(chart, "Contoso VPN client")
    assert (vpn.step_id, vpn.item_id, vpn.kind) == (APPS, vpn.item_id, "win32")
    (bar,) = vpn.bars
    assert bar.status == "failed"
    assert bar.attempt == 1
    assert [(s.kind, s.start, s.end) for s in bar.segments] == [
        ("download", at(21), at(24)), ("install", at(24), at(27))]
    assert [m.time for m in vpn.markers] == [at(27)]
    apps = next(r for r in chart.rows if r.level == "step" and r.step_id == APPS)
    assert apps.bars[0].start == at(20)
    assert apps.bars[0].end == at(27)
    assert apps.markers
    assert "0x80070643" in apps.markers[0].label
    # Items without history are listed, not drawn.
    office = _row(chart, "O365ProPlusRetail")
    assert not office.bars
    assert office.note
    assert chart.start == at(0)
    assert chart.end == at(27)


def test_every_row_when_not_collapsed() -> None:
    chart = build_chart(minimal_report(), collapse_untimed=False)
    assert chart.start is None
    assert chart.ticks == ()
    assert sum(1 for r in chart.rows if r.level == "step") == 13
    assert all(not r.timed and r.note for r in chart.rows)


def test_a_retry_is_a_new_bar_with_its_own_attempt_number() -> None:
    item = _item("Retried", (1, "downloading"), (3, "failed"), (10, "downloading"),
                 (12, "installing"), (15, "installed"))
    bars, markers = item_attempts(item, at(20))
    assert [(b.attempt, b.status, b.start, b.end) for b in bars] == [
        (1, "failed", at(1), at(3)), (2, "succeeded", at(10), at(15))]
    assert [s.kind for s in bars[1].segments] == ["download", "install"]
    assert [m.time for m in markers] == [at(3)]


def test_msi_pending_retry_ends_the_attempt_and_waits_in_the_next() -> None:
    item = _item("Msi", (0, "download_in_progress"), (2, "pending_download_retry"),
                 (5, "download_in_progress"), (7, "download_completed"),
                 (8, "enforcement_in_progress"), (11, "enforcement_completed"))
    bars, markers = item_attempts(item, None)
    assert [b.status for b in bars] == ["failed", "succeeded"]
    assert [(s.kind, s.start, s.end) for s in bars[1].segments] == [
        ("wait", at(2), at(5)), ("download", at(5), at(7)), ("wait", at(7), at(8)),
        ("install", at(8), at(11))]
    assert [m.time for m in markers] == [at(2)]


def test_repeated_snapshots_of_an_end_add_nothing() -> None:
    item = _item("Notes", (0, "not_installed"), (5, "succeeded"), (6, "completed"),
                 (12, "completed"))
    bars, _ = item_attempts(item, at(30))
    assert len(bars) == 1
    assert bars[0].end == at(5)
    assert bars[0].status == "succeeded"
    failed = _item("Vpn", (0, "in_progress"), (4, "failed"), (5, "error"))
    bars, markers = item_attempts(failed, at(30))
    assert len(bars) == 1
    assert len(markers) == 1


def test_a_running_item_is_open_up_to_the_last_evidence() -> None:
    item = _item("Big app", (0, "not_installed"), (3, "in_progress"))
    (bar,), markers = item_attempts(item, at(40))
    assert bar.open_end
    assert bar.end == at(40)
    assert bar.status == "in_progress"
    assert not markers
    text = bar_description(Row("item", "Big app", "in_progress", APPS, "x", "win32",
                               (bar,)), bar)
    assert "still running at the last evidence" in text
    assert "open" in text


def test_a_single_end_snapshot_is_a_point() -> None:
    (bar,), _ = item_attempts(_item("Policy", (8, "processed")), at(30))
    assert bar.is_point
    assert bar.status == "succeeded"
    assert not bar.open_end


def test_step_started_but_not_ended() -> None:
    report = full_report()
    setup = report.phases[1]
    running = replace(setup.steps[3], status="in_progress", ended=None, items=())
    report = replace(report, phases=(report.phases[0], replace(
        setup, status="in_progress", ended=None, steps=(*setup.steps[:3], running)),
        report.phases[2]))
    apps = next(r for r in build_chart(report).rows if r.step_id == APPS)
    assert apps.bars[0].open_end
    assert apps.bars[0].end > at(20)
    assert not apps.markers  # still running: no failure to mark


def test_timeout_line_in_range_when_the_phase_ran_long() -> None:
    report = full_report()
    setup = replace(report.phases[1], started=at(12), ended=at(70))
    report = replace(report, phases=(report.phases[0], setup, report.phases[2]))
    chart = build_chart(report)
    (line,) = chart.timeouts
    assert line.in_range
    assert line.time == at(72)
    assert line.from_settings
    assert chart.end is not None
    assert chart.end >= at(72)


def test_timeout_line_off_the_chart_when_the_phase_ended_early() -> None:
    chart = build_chart(full_report())
    (line,) = chart.timeouts
    assert not line.in_range
    assert line.time == at(72)
    assert "45 min after the last bar" in timeout_note(chart, line)


def test_timeout_default_when_the_capture_does_not_say() -> None:
    report = replace(full_report(), settings=Settings())
    (line,) = build_chart(report).timeouts
    assert line.minutes == 60
    assert not line.from_settings
    assert "default" in line.label


def test_visible_rows_caps_items_and_keeps_the_failed_one() -> None:
    many = [_item(f"App {i:03d}", (i % 30, "not_installed"), (i % 30 + 1, "completed"))
            for i in range(200)]
    failing = _item("Broken", (2, "in_progress"), (9, "failed"))
    chart = build_chart(_with_apps_items(full_report(), *many[:100], failing, *many[100:]))
    shown = visible_rows(chart, 40)
    assert len(shown) <= 41  # the rows and one "+N more" entry
    rows = [e for e in shown if isinstance(e, Row)]
    assert any(r.label == "Broken" for r in rows)
    assert all(r.level != "step" or r in rows for r in chart.rows)
    more = [e for e in shown if not isinstance(e, Row)]
    assert more == [(APPS, 201 - sum(1 for r in rows if r.level == "item"))]


def test_nice_ticks() -> None:
    assert nice_step(27 * 60, 8) == 300
    assert nice_step(41 * 3600, 8) == 21600
    start = datetime(2024, 4, 1, 23, 7, tzinfo=UTC)
    ticks = time_ticks(start, start + timedelta(hours=2), 8)
    assert [t.label for t in ticks][:3] == ["04-01 23:15", "23:30", "23:45"]
    assert "04-02 00:00" in [t.label for t in ticks]  # the day is written where it changes
    assert all(start <= t.time <= start + timedelta(hours=2) for t in ticks)
    plus_two = time_ticks(start, start + timedelta(hours=2), 8, timezone(timedelta(hours=2)))
    assert plus_two[0].label == "04-02 01:15"
    assert plus_two[0].time == ticks[0].time


def test_words() -> None:
    assert duration_text(45) == "45 s"
    assert duration_text(16 * 60 + 30) == "16 min 30 s"
    assert duration_text(2 * 3600 + 5 * 60) == "2 h 05 min"
    assert duration_text(27 * 3600) == "1 d 03 h"
    path = "./Device/Vendor/MSFT/ClientCertificateInstall/SCEP/ProfileNumberSeven"
    short = elide_middle(path, 30)
    assert len(short) == 30
    assert short.endswith("ProfileNumberSeven")
    assert "…" in short
    assert elide_middle("short", 30) == "short"


def test_an_end_before_the_start_is_not_drawn_as_a_span() -> None:
    report = full_report()
    setup = report.phases[1]
    apps = replace(setup.steps[3], started=at(27), ended=at(20), items=())
    report = replace(report, phases=(report.phases[0], replace(
        setup, steps=(*setup.steps[:3], apps)), report.phases[2]))
    row = next(r for r in build_chart(report).rows if r.step_id == APPS)
    (bar,) = row.bars
    assert bar.start == at(27)
    assert bar.open_end
    assert row.note is not None
    assert "before the start" in row.note
    assert not row.markers  # the failure's time is not known


def test_a_long_quiet_stretch_is_cut_out_of_the_axis() -> None:
    """A phase that waited a night: the minutes on either side stay readable."""
    report = full_report()
    setup = report.phases[1]
    late = 40 * 60  # forty hours later the apps step runs for seven minutes
    apps = replace(setup.steps[3], started=at(late), ended=at(late + 7), items=(
        _item("Late app", (late + 1, "downloading"), (late + 3, "installing"),
              (late + 6, "installed")),))
    report = replace(report, phases=(report.phases[0], replace(
        setup, ended=at(late + 7), steps=(*setup.steps[:3], apps)), report.phases[2]))
    chart = build_chart(report)
    (cut,) = chart.breaks
    assert at(14) < cut.start < cut.end < at(late)
    assert "without a change" in cut.label
    # The cut takes a fixed share; the seven minutes of apps take far more than they would
    # on a straight forty-hour axis.
    assert chart.fraction(cut.end) - chart.fraction(cut.start) == pytest.approx(0.05)
    apps_row = next(r for r in chart.rows if r.step_id == APPS and r.level == "step")
    width = chart.fraction(apps_row.bars[0].end) - chart.fraction(apps_row.bars[0].start)
    assert width > 7 / (late + 7) * 20
    # Monotonic, 0 at the start and 1 at the end, no tick inside the cut.
    assert chart.start is not None
    assert chart.end is not None
    samples = [chart.start + (chart.end - chart.start) * i / 200 for i in range(201)]
    fractions = [chart.fraction(t) for t in samples]
    assert fractions == sorted(fractions)
    assert fractions[0] == pytest.approx(0)
    assert fractions[-1] == pytest.approx(1)
    assert chart.ticks
    assert not any(cut.start < t.time < cut.end for t in chart.ticks)
    # The timeout (60 min after Device setup started) is still drawn, before the cut.
    (line,) = chart.timeouts
    assert line.in_range
    assert line.time < cut.start


def test_no_cut_when_activity_is_spread() -> None:
    assert build_chart(full_report()).breaks == ()

"""The time chart's SVG, alone and inside the HTML report."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

import pytest

from core.esp.model import HistoryEntry, Item
from core.report.html_report import render_html
from core.report.timechart import Row, build_chart, item_attempts, visible_rows
from core.report.timechart_svg import MAX_ROWS, render_svg
from tests.core.report.builders import APPS, HOSTILE, at, full_report, hostile_report

SVG = "{http://www.w3.org/2000/svg}"


def _svg_of(page: str) -> str:
    match = re.search(r"<svg class=\"tc\".*?</svg>", page, re.DOTALL)
    assert match is not None, "no time chart in the page"
    return match.group(0)


def _attempts(report_items: tuple[Item, ...]) -> int:
    return sum(len(item_attempts(item, None)[0]) for item in report_items)


def test_html_has_the_chart_with_one_bar_per_item_attempt() -> None:
    retried = Item("win32", "retried-app", "Retried app", "device", "succeeded", None,
                   (HistoryEntry(at(21), "downloading"), HistoryEntry(at(22), "failed"),
                    HistoryEntry(at(23), "downloading"), HistoryEntry(at(25), "installed")))
    report = full_report()
    setup = report.phases[1]
    apps = setup.steps[3]
    apps = replace(apps, items=(*apps.items, retried))
    report = replace(report, phases=(report.phases[0], replace(
        setup, steps=(*setup.steps[:3], apps)), report.phases[2]))
    svg = _svg_of(render_html(report))
    root = ET.fromstring(svg)  # well-formed XML, not just HTML that browsers forgive
    bars = [g for g in root.iter(f"{SVG}g") if g.get("class") == "bar item"]
    assert len(bars) == _attempts(apps.items) == 3
    titles = [g.findtext(f"{SVG}title") or "" for g in bars]
    assert any("Retried app (win32) — attempt 2" in t for t in titles)
    # Every bar links to its step's section of the report.
    links = {a.get("href") for a in root.iter(f"{SVG}a")}
    assert f"#step-{APPS}" in links
    # The failure is marked and the timeout is explained.
    assert 'class="fail"' in svg
    assert "ESP timeout: 60 min after Device setup started" in svg


def test_svg_is_self_contained() -> None:
    svg = render_svg(build_chart(full_report()))
    assert "<image" not in svg
    assert "<script" not in svg
    assert "xlink" not in svg
    assert "url(" not in svg
    assert "@import" not in svg
    assert re.findall(r"https?://[^\"' ]+", svg) == ["http://www.w3.org/2000/svg"]


def test_hostile_names_are_escaped() -> None:
    report = hostile_report()
    setup = report.phases[1]
    apps = setup.steps[3]
    evil = replace(apps.items[-1], history=(HistoryEntry(at(22), "downloading"),
                                            HistoryEntry(at(26), HOSTILE)))
    apps = replace(apps, items=(*apps.items[:-1], evil))
    report = replace(report, phases=(report.phases[0], replace(
        setup, steps=(*setup.steps[:3], apps)), report.phases[2]))
    svg = _svg_of(render_html(report))
    ET.fromstring(svg)
    assert "<script>" not in svg
    assert "\x1b" not in svg
    assert "\x07" not in svg
    assert "&lt;script&gt;" in svg


def test_many_items_are_capped_with_a_note() -> None:
    items = tuple(Item("policy", f"./Device/Vendor/MSFT/Policy/Config/Area{i}/Setting", None,
                       "device", "processed", None, (HistoryEntry(at(20 + i % 7), "processed"),))
                  for i in range(150))
    report = full_report()
    setup = report.phases[1]
    apps = replace(setup.steps[3], items=items)
    report = replace(report, phases=(report.phases[0], replace(
        setup, steps=(*setup.steps[:3], apps)), report.phases[2]))
    svg = render_svg(build_chart(report), max_rows=50)
    root = ET.fromstring(svg)
    drawn = [g for g in root.iter(f"{SVG}g") if g.get("class") == "bar item"]
    assert 0 < len(drawn) < 50
    assert f"+{150 - len(drawn)} more items" in svg
    # Long LocURIs keep their distinguishing tail.
    assert "…" in svg
    assert "/Setting (policy)</text>" in svg


def test_nothing_timed_says_so() -> None:
    from tests.core.report.builders import minimal_report

    svg = render_svg(build_chart(minimal_report()))
    ET.fromstring(svg)
    assert "No time in the evidence" in svg


CAPTURES = ["mdmdiag-itziktdk-MyRes", "mdmdiag-joopjaeng-jaeng", "mdmdiag-shahzadssd-logfile"]


@pytest.mark.real
@pytest.mark.slow
@pytest.mark.parametrize("capture", CAPTURES)
def test_real_captures_chart_and_svg(real_dir: Path, capture: str) -> None:
    """Shape only (the captures hold personal data): every bar inside the axis, every phase
    listed, the SVG well-formed with one drawn item bar per attempt shown."""
    from core.esp.analyze import analyze
    from core.evidence import load_evidence

    cab = real_dir / capture / "MDMDiagReport.cab"
    if not cab.is_file():
        pytest.skip(f"{capture} is not here")
    report = analyze(load_evidence(cab))
    chart = build_chart(report)
    assert [r.label for r in chart.rows if r.level == "phase"] == [p.title for p in
                                                                  report.phases]
    for row in chart.rows:
        assert row.timed or row.note
        for bar in row.bars:
            assert chart.start is not None
            assert chart.end is not None
            assert chart.start <= bar.start <= bar.end <= chart.end
    svg = render_svg(chart)
    root = ET.fromstring(svg)
    shown = [e for e in visible_rows(chart, MAX_ROWS) if isinstance(e, Row)]
    drawn = [g for g in root.iter(f"{SVG}g") if g.get("class") == "bar item"]
    assert len(drawn) == sum(len(r.bars) for r in shown if r.level == "item")

"""The HTML report: one self-contained, well-formed, escaped file."""

from __future__ import annotations

import re
import time
from html.parser import HTMLParser
from pathlib import Path

from core.report.html_report import MAX_TIMELINE_ROWS, render_html, write_html
from tests.core.report.builders import (
    STEP_COUNT,
    big_report,
    full_report,
    hostile_report,
    minimal_report,
)

VOID = {"meta", "br", "hr", "img", "input", "link", "col", "wbr", "path", "circle"}


class _Collector(HTMLParser):
    """Checks nesting and collects what the tests look at."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.starts: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.starts.append((tag, dict(attrs)))
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.starts.append((tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes <{self.stack[-1] if self.stack else None}>")
            return
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def tags(self, name: str, css: str | None = None) -> list[dict[str, str | None]]:
        return [a for t, a in self.starts
                if t == name and (css is None or css in (a.get("class") or "").split())]


def _parse(page: str) -> _Collector:
    parser = _Collector()
    parser.feed(page)
    parser.close()
    assert parser.errors == []
    assert parser.stack == [], f"unclosed: {parser.stack}"
    return parser


def test_full_report_is_well_formed_with_every_step_expanded() -> None:
    page = render_html(full_report())
    assert page.startswith("<!DOCTYPE html>")
    doc = _parse(page)
    details = doc.tags("details")
    assert len(details) == STEP_COUNT
    assert all("open" in d for d in details)
    assert len(doc.tags("li", "step")) == STEP_COUNT
    assert len(doc.tags("div", "phase")) == 3
    # Every composite step links to its evidence section.
    anchors = {f"#{d['id']}" for d in details}
    assert {a["href"] for a in doc.tags("a") if (a["href"] or "").startswith("#")} == anchors
    text = " ".join(doc.text)
    assert "FAILED at Device setup › Apps (0x80070643 ERROR_INSTALL_FAILURE)" in text
    for wanted in ("DESKTOP-TEST01", "SN-0000-TEST", "User-driven", "Contoso user-driven",
                   "contoso.example", "10.0.22631.3296", "60 min", "InstallationState",
                   "00 ff 5a", "Win32 app download started", "DeviceManagement-Admin.evtx#5133",
                   "bad chunk checksum", "Run the installer by hand"):
        assert wanted in text, wanted
    assert len(doc.tags("svg")) >= 3 + STEP_COUNT


def test_nothing_is_fetched_from_outside() -> None:
    page = render_html(full_report())
    doc = _parse(page)
    for tag, attrs in doc.starts:
        assert "src" not in attrs, tag
        assert tag not in {"script", "link", "img", "iframe", "object", "embed"}
    external = [a for a in doc.tags("a") if not (a["href"] or "").startswith("#")]
    # The only outside links are the hints' and findings' sources.
    assert external
    assert all((a["href"] or "").startswith("https://learn.microsoft.com/") for a in external)
    assert all(a["class"] == "src" for a in external)
    assert "url(" not in page
    assert "@import" not in page
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//(?!learn\.microsoft)""", page)


def test_hostile_evidence_is_escaped() -> None:
    page = render_html(hostile_report())
    doc = _parse(page)
    assert "<script" not in page
    assert "&lt;script&gt;" in page
    assert "&amp;amp;" in page  # the evidence's own "&amp;" is shown, not interpreted
    assert "\x1b" not in page
    assert "\x07" not in page
    assert doc.tags("script") == []
    assert all(not (a["href"] or "").lower().startswith("javascript:") for a in doc.tags("a"))
    assert "javascript:alert(1)" in " ".join(doc.text)  # shown as text, not as a link


def test_minimal_report_says_unknown() -> None:
    page = render_html(minimal_report())
    doc = _parse(page)
    text = " ".join(doc.text)
    assert "UNKNOWN" in text
    assert text.count("No evidence was found for this step.") == STEP_COUNT
    # phases, steps in the composite view, steps' evidence sections, the verdict
    assert len(doc.tags("svg", "s-unknown")) == 3 + 2 * STEP_COUNT + 1
    assert doc.tags("svg", "s-succeeded") == []


def test_long_timeline_is_capped_with_a_pointer_to_the_json() -> None:
    extra = 1234
    report = big_report(MAX_TIMELINE_ROWS + extra)
    began = time.perf_counter()
    page = render_html(report)
    elapsed = time.perf_counter() - began
    doc = _parse(page)
    timeline_rows = page.split('id="timeline"', 1)[1].count("<tr>") - 1  # minus the header
    assert timeline_rows == MAX_TIMELINE_ROWS
    assert f"{extra} more entries in the JSON" in " ".join(doc.text)
    assert elapsed < 3, f"rendering {MAX_TIMELINE_ROWS + extra} entries took {elapsed:.2f}s"


def test_write_html_writes_one_utf8_file(tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    write_html(full_report(), out)
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]
    assert out.read_text(encoding="utf-8") == render_html(full_report())


def test_skipped_user_page_is_said_beside_the_failed_account_setup() -> None:
    from dataclasses import replace

    from tests.core.report.builders import minimal_report, skeleton

    prep, setup, account = skeleton("succeeded")
    certs = replace(account.steps[2], status="failed", status_text="Certificates (Error)")
    account = replace(account, status="failed", status_text="Error",
                      steps=(*account.steps[:2], certs, *account.steps[3:]))
    base = replace(minimal_report(), phases=(prep, setup, account))
    page = render_html(replace(base, settings=replace(base.settings,
                                                      skip_user_status_page=True)))
    # Once under the verdict, once in the failed step's own section.
    assert page.count('<p class="setting">The user never saw this page') == 2
    assert '<span class="status s-failed">Error</span>' in page  # not "Certificates (Error)"
    assert '<span class="status s-failed">Certificates (Error)' not in page
    assert 'class="setting"' not in render_html(base)

"""espview diff: scenario pairs built by the capture builder, and the pure comparison."""

from __future__ import annotations

import io
import json
from dataclasses import replace
from pathlib import Path

import pytest

from core.cli import main
from core.esp.analyze import analyze
from core.evidence import load_evidence
from core.fleet.diff import diff_reports
from core.fleet.diff_report import diff_html, diff_text, diff_to_dict
from tests.builders.capture import guid
from tests.core.fleet.builders import story, write
from tests.core.report.builders import full_report

APPS = "DeviceSetup.AppsSubcategory"


def _cli(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(["diff", *args], out=out)
    return code, out.getvalue()


def _pair(tmp_path: Path, a: dict[str, object], b: dict[str, object]) -> tuple[Path, Path]:
    return write(story(**a), tmp_path, "a"), write(story(**b), tmp_path, "b")  # type: ignore[arg-type]


def test_identical_captures_exit_0(tmp_path: Path) -> None:
    a, b = _pair(tmp_path, {}, {})
    code, text = _cli(str(a), str(b), "--json")
    data = json.loads(text)
    assert code == 0
    assert data["differs"] is False
    assert data["same_device"] is True
    assert not [c for c in data["changes"] if c["matters"]]


def test_step_fixed_is_a_difference_that_matters(tmp_path: Path) -> None:
    a, b = _pair(tmp_path, {"apps_failed": True}, {"apps_failed": False})
    code, text = _cli(str(a), str(b), "--json")
    data = json.loads(text)
    assert code == 1
    apps = next(r for r in data["steps"] if r["id"] == APPS)
    assert (apps["a"]["status"], apps["b"]["status"]) == ("failed", "succeeded")
    assert apps["changed"] is True
    statuses = [c for c in data["changes"]
                if c["where"] == f"step {APPS}" and c["what"] == "status"]
    assert statuses
    assert statuses[0]["matters"]
    # the findings about the failure went away
    assert any(c["what"] == "gone" for c in data["changes"])


def test_app_added_is_listed(tmp_path: Path) -> None:
    a, b = _pair(tmp_path, {}, {"extra_app": True})
    code, text = _cli(str(a), str(b), "--json")
    data = json.loads(text)
    added = [c for c in data["changes"] if c["what"] == "added"]
    assert code == 1
    assert any(guid(12) in str(c["b"]) for c in added), added


def test_setting_changed_matters(tmp_path: Path) -> None:
    a, b = _pair(tmp_path, {"timeout": 60}, {"timeout": 90})
    code, text = _cli(str(a), str(b), "--json")
    data = json.loads(text)
    change = next(c for c in data["changes"] if c["where"] == "settings")
    assert code == 1
    assert (change["what"], change["a"], change["b"], change["matters"]) == (
        "timeout_minutes", 60, 90, True)


def test_different_devices_compare_with_a_note(tmp_path: Path) -> None:
    a, b = _pair(tmp_path, {}, {"name": "FABRIKAM-PC-7", "serial": "SNOTHER0001"})
    code, text = _cli(str(a), str(b), "--text")
    assert code == 0  # the same ESP story: only the device differs
    assert "different devices" in text
    assert "FABRIKAM-PC-7" in text


def test_html_and_redacted_text(tmp_path: Path) -> None:
    a, b = _pair(tmp_path, {"apps_failed": True}, {"apps_failed": False})
    out = tmp_path / "diff.html"
    code, _ = _cli(str(a), str(b), "--html", str(out))
    page = out.read_text(encoding="utf-8")
    assert code == 1
    assert 'class="step changed"' in page
    code, text = _cli(str(a), str(b), "--redact")
    assert code == 1
    assert "CONTOSO-LT-0042" not in text
    assert "device-1" in text
    assert "Redacted" in text


def test_unusable_input_exits_2(tmp_path: Path) -> None:
    a = write(story(), tmp_path, "a")
    bad = tmp_path / "bad.cab"
    bad.write_bytes(b"not a cab")
    code, _ = _cli(str(a), str(bad))
    assert code == 2


# -- the pure comparison ------------------------------------------------------------------


def test_same_report_has_no_changes() -> None:
    report = full_report()
    diff = diff_reports(report, report)
    assert diff.changes == ()
    assert not diff.differs
    assert all(not r.changed for r in diff.rows)
    assert len(diff.rows) == 3 + len(report.steps)


def test_item_state_and_code_changes() -> None:
    a = full_report()
    setup = a.phases[1]
    apps = setup.steps[3]
    fixed_items = tuple(replace(i, status="installed", hresult=None) if i.kind == "win32" else i
                        for i in apps.items)
    b_apps = replace(apps, items=fixed_items[:-1])  # the office item is gone
    b = replace(a, phases=(a.phases[0], replace(setup, steps=(*setup.steps[:3], b_apps)),
                           a.phases[2]))
    diff = diff_reports(a, b)
    whats = {(c.what, c.matters) for c in diff.changes}
    assert ("status", True) in whats
    assert ("hresult", True) in whats
    assert ("removed", True) in whats
    assert diff.differs


def test_durations_and_titles_do_not_matter() -> None:
    a = full_report()
    prep = a.phases[0]
    longer = replace(prep, ended=prep.ended.replace(hour=prep.ended.hour + 1) if prep.ended
                     else None, title="Device preparation (renamed)")
    b = replace(a, phases=(longer, a.phases[1], a.phases[2]))
    diff = diff_reports(a, b)
    assert diff.changes
    assert not diff.differs
    assert {c.what for c in diff.changes} == {"title", "duration_seconds"}


def test_finding_appeared_matters_unless_info() -> None:
    a = full_report()
    info = replace(a.findings[2], id="new-info")
    warning = replace(a.findings[1], id="new-warning")
    assert not diff_reports(a, replace(a, findings=(*a.findings, info))).differs
    assert diff_reports(a, replace(a, findings=(*a.findings, warning))).differs


def test_renderers_escape_and_carry_everything() -> None:
    a = full_report()
    b = replace(a, device=replace(a.device, deployment_mode="self_deploying",
                                  name="<b>x</b>"))
    diff = diff_reports(a, b)
    data = diff_to_dict(diff)
    assert data["schema"] == "espview.diff/1"
    assert any(c["what"] == "deployment_mode" and c["matters"] for c in data["changes"])
    assert "<b>x</b>" not in diff_html(diff)
    assert "self_deploying" in diff_text(diff)


@pytest.mark.parametrize("field", ["name", "serial"])
def test_identity_fields_never_matter(field: str) -> None:
    a = full_report()
    b = replace(a, device=replace(a.device, **{field: "OTHER"}))
    diff = diff_reports(a, b)
    assert diff.changes
    assert not diff.differs
    assert diff.same_device is False
    assert any("different devices" in n for n in diff.notes)


def test_analysed_scenarios_diff_in_process(tmp_path: Path) -> None:
    a, b = _pair(tmp_path, {"apps_failed": True}, {"apps_failed": False})
    ra, rb = analyze(load_evidence(a)), analyze(load_evidence(b))
    assert diff_reports(ra, rb).differs
    assert not diff_reports(ra, ra).differs


def test_fields_added_to_the_model_later_are_compared() -> None:
    from dataclasses import field, make_dataclass

    from core.esp.model import Step

    later = make_dataclass("LaterStep", [("confidence", str, field(default="high"))],
                           bases=(Step,), frozen=True)
    a = full_report()
    setup = a.phases[1]

    def with_step(report, step):  # type: ignore[no-untyped-def]
        phase = replace(setup, steps=(*setup.steps[:3], step))
        return replace(report, phases=(report.phases[0], phase, report.phases[2]))

    old = setup.steps[3]
    values = {f: getattr(old, f) for f in old.__dataclass_fields__}
    ra = with_step(a, later(**values, confidence="high"))
    rb = with_step(a, later(**values, confidence="low"))
    changes = [c for c in diff_reports(ra, rb).changes if c.what == "confidence"]
    assert [(c.a, c.b) for c in changes] == [("high", "low")]

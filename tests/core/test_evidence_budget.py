"""A total budget for text and event evidence per capture, and a cap per event log: what
does not fit is a Problem naming it, and the most useful files come first."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from core.evidence import ReadBudget, load_evidence
from tests.builders.evtx import write_evtx
from tests.builders.logs import cmtrace_line, write_cmtrace
from tests.builders.reg import write_dump_reg, write_regedit_reg
from tests.core.esp.builders import T0


def _padding_key(index: int, size: int) -> dict[str, dict[str, tuple[str, object]]]:
    return {rf"HKLM\SOFTWARE\Pad{index}": {"Blob": ("REG_SZ", "x" * size)}}


def test_registry_dumps_share_one_budget(tmp_path: Path) -> None:
    keys = {r"HKLM\SOFTWARE\Microsoft\Provisioning\AutopilotSettings": {"A": ("REG_DWORD", 1)}}
    dump = write_dump_reg(
        tmp_path / "MdmDiagReport_RegistryDump.reg", {**keys, **_padding_key(0, 30_000)}
    )
    exports = [  # each alone fits, together they do not
        write_regedit_reg(tmp_path / f"export{i}.reg", _padding_key(i, 30_000)) for i in (1, 2, 3)
    ]
    cap = dump.stat().st_size + exports[0].stat().st_size
    budget = ReadBudget(registry_text_bytes=cap)
    evidence = load_evidence(tmp_path, budget=budget)
    # The primary dump was read first, whatever the order of the names.
    assert evidence.registry.key(r"HKLM\SOFTWARE\Microsoft\Provisioning\AutopilotSettings")
    skipped = [p for p in evidence.problems if "budget" in p.message]
    assert [p.file for p in skipped] == ["export2.reg", "export3.reg"]
    assert f"registry text budget of {cap:,} bytes is used up" in skipped[0].message
    assert evidence.registry.key(r"HKLM\SOFTWARE\Pad1") is not None
    assert evidence.registry.key(r"HKLM\SOFTWARE\Pad3") is None


def _records(count: int) -> list[dict[str, object]]:
    when = datetime(2024, 4, 2, tzinfo=UTC)
    return [
        {"time": when, "channel": "Application", "provider": "P", "event_id": i,
         "data": {"Text": "y" * 200}}
        for i in range(count)
    ]  # fmt: skip


def test_event_logs_have_a_file_cap_and_a_total_budget(tmp_path: Path) -> None:
    key = write_evtx(
        tmp_path / "microsoft-windows-devicemanagement-enterprise-diagnostics-provider-admin.evtx",
        _records(5),
    )
    other = write_evtx(tmp_path / "application.evtx", _records(5))
    big = write_evtx(tmp_path / "huge.evtx", _records(400))
    budget = ReadBudget(
        event_file_bytes=big.stat().st_size - 1,
        event_bytes=key.stat().st_size + other.stat().st_size - 1,
    )
    evidence = load_evidence(tmp_path, budget=budget)
    problems = {p.file: p.message for p in evidence.problems}
    assert "over the cap" in problems["huge.evtx"]
    assert "event-log budget" in problems["application.evtx"]  # the ESP channel went first
    assert len(evidence.events) == 5
    assert all("devicemanagement" in e.file.lower() for e in evidence.events)


def test_logs_budget_reads_the_current_log_first(tmp_path: Path) -> None:
    line = cmtrace_line(T0, "z" * 5000, "IME")
    write_cmtrace(tmp_path / "IntuneManagementExtension-20240101-000000.log", [line])
    current = write_cmtrace(tmp_path / "IntuneManagementExtension.log", [line])
    evidence = load_evidence(tmp_path, budget=ReadBudget(log_bytes=current.stat().st_size))
    assert [p.file for p in evidence.problems] == ["IntuneManagementExtension-20240101-000000.log"]
    assert len(evidence.logs) == 1


def test_problems_are_capped_per_file() -> None:
    from core.evidence import MAX_PROBLEMS_PER_FILE, cap_problems_per_file
    from core.problems import Problem

    many = [Problem("a.reg", f"line {i}", "bad") for i in range(MAX_PROBLEMS_PER_FILE + 50)]
    few = [Problem("b.log", "line 1", "bad")]
    capped = cap_problems_per_file(many[:10] + few + many[10:])
    assert len(capped) == MAX_PROBLEMS_PER_FILE + 2
    assert capped[10] == few[0]
    assert capped[-1].message == "… and 50 more problems in this file"

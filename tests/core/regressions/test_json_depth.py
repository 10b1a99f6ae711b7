"""JSON nested deeper than Python's recursion limit (``json`` recurses per level)."""

from __future__ import annotations

from pathlib import Path

from core.esp.knowledge import load
from core.esp.status import parse_category
from core.sidefiles import read_side_files

DEEP = "[" * 100_000


def test_status_record_nested_too_deeply_is_a_problem() -> None:
    knowledge = load()
    record, problems = parse_category(knowledge.phases[0], DEEP, knowledge, "dump.reg:1")
    assert record is None
    assert any("not valid JSON" in p.message for p in problems)


def test_side_file_nested_too_deeply_is_a_problem(tmp_path: Path) -> None:
    path = tmp_path / "AutopilotDDSZTDFile.json"
    path.write_text(DEEP, encoding="utf-8")
    files, problems = read_side_files([path])
    assert files.ztd is None
    assert [p.message for p in problems] == ["not valid JSON: nested too deeply"]


def test_long_damaged_status_value_is_read_in_linear_time() -> None:
    # Fuzz finding (status): a 0.5 MB damaged *Category.Status value made the regex fallback
    # rescan the rest of the text from every start ("(.*?)" lazy captures): over 10 s.
    import time

    from core.esp.knowledge import load
    from core.esp.status import parse_category

    knowledge = load()
    piece = '{"categoryState":"inProgress","DeviceSetup.AppsSubcategory":{"subcategoryState":"'
    raw = (piece + "\r") * 6000
    start = time.perf_counter()
    for phase in knowledge.phases:
        parse_category(phase, raw, knowledge, "x.reg:1")
    assert time.perf_counter() - start < 5  # was unbounded; now milliseconds


def test_hash_csv_with_an_unterminated_quote_is_a_problem(tmp_path: Path) -> None:
    # Fuzz finding (sidefiles, seed 14): an unterminated quote made one CSV field swallow the
    # rest of the file and csv raised "field larger than field limit" as a traceback.
    from core.sidefiles import read_side_files

    path = tmp_path / "DeviceHash_PC.csv"
    body = "Device Serial Number,Windows Product ID,Hardware Hash\r\nSN1,,\"" + "A" * 200_000
    path.write_text(body, encoding="utf-8")
    files, problems = read_side_files([path])
    assert files.device_hashes == ()
    assert any("not a readable CSV file" in p.message for p in problems)

"""Cited origins found among the evidence by file and number."""

from __future__ import annotations

from core.esp.citations import _positions
from core.logs.model import LogLine


def _lines(*places: tuple[str, int]) -> list[LogLine]:
    return [LogLine(None, "text", "", "", 1, file, number) for file, number in places]


def test_the_first_line_of_each_cited_origin_is_found() -> None:
    lines = _lines(("a.log", 1), ("b.log", 1), ("a.log", 2), ("b.log", 7), ("a.log", 2))
    origins = {"a.log:2", "b.log:7", "c.log:1", "b.log:9", "not a place", "a.log#1"}
    found = _positions(origins, lines, (line.line for line in lines), ":")
    assert found == {"a.log:2": 2, "b.log:7": 3}


def test_a_file_name_holding_the_separator_is_split_at_the_last_one() -> None:
    lines = _lines(("x:y.log", 3))
    assert _positions({"x:y.log:3"}, lines, [3], ":") == {"x:y.log:3": 0}
    assert _positions(set(), lines, [3], ":") == {}

"""The fast path for well-formed CMTrace text gives exactly the general parser's result.

Checked on built logs, on every real log in the fixtures, and on seeded mutations of them
(cut, spliced, markers and quotes inserted), so damage anywhere hands over correctly, and
the fast path takes over again after it. Times are compared with one zone and with two
(writer eras), since the fast path shortcuts the era rule.
"""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from pathlib import Path

import pytest

from core.logs import cmtrace
from core.logs.text import decode_text
from tests.builders.logs import cmtrace_line

_INSERTS = ["<![LOG[", "]LOG]!>", "\x00", "\r\n", '"', "<", ">", '<time="x">', "\ufeff"]


_ZONES: list[list[tzinfo]] = [[], [timezone(timedelta(hours=-7)), timezone(timedelta(hours=2))]]


def _parsed(text: str, name: str, zones: list[tzinfo], *, regular: bool = True) -> object:
    read = cmtrace._Read(name, cmtrace._Clock(zones))
    cmtrace._parse(text, read, regular=regular)
    return read.lines, read.problems, read.headed


def _same_both_ways(text: str, name: str) -> bool:
    return all(
        _parsed(text, name, zones) == _parsed(text, name, zones, regular=False)
        for zones in _ZONES
    )


def _mutants(text: str, seed: int, count: int) -> list[str]:
    rnd = random.Random(seed)
    out = []
    for _ in range(count):
        i = rnd.randrange(len(text) + 1)
        j = min(len(text), i + rnd.randrange(300))
        op = rnd.randrange(4)
        if op == 0:
            out.append(text[:i] + text[j:])
        elif op == 1:
            out.append(text[:i] + rnd.choice(_INSERTS) + text[i:])
        elif op == 2:
            out.append(text[:i])
        else:
            out.append(text[:i] + text[i:j][::-1] + text[j:])
    return out


def _built_log() -> str:
    start = datetime(2025, 3, 10, 8, 0, tzinfo=UTC)
    return "\r\n".join(
        cmtrace_line(start + timedelta(seconds=n),
                     f"message {n}\r\nsecond line" if n % 7 == 0 else f"message {n}",
                     type_=1 + n % 3, bias_minutes=None if n % 2 else 60)
        for n in range(200)
    )


def test_built_log_is_read_by_the_fast_path_identically() -> None:
    text = _built_log()
    read = cmtrace._Read("built.log", cmtrace._Clock([]))
    cmtrace._parse_regular(text, read)
    assert len(read.lines) == 200  # the whole text was regular
    assert read.pos == len(text)
    assert _same_both_ways(text, "built.log")
    for mutant in _mutants(text, 7, 200):
        assert _same_both_ways(mutant, "built.log")


def test_fast_path_resumes_after_a_damaged_record(monkeypatch: pytest.MonkeyPatch) -> None:
    text = _built_log()
    cut = text.index("<![LOG[message 100]")
    damaged = text[:cut] + "stray text\r\n" + text[cut + len("<![LOG[") :]
    read = cmtrace._Read("built.log", cmtrace._Clock([]))
    cmtrace._parse_regular(damaged, read)
    assert 99 <= len(read.lines) <= 100  # stopped at the damage
    assert _same_both_ways(damaged, "built.log")
    general = cmtrace._parse_general
    calls: list[int] = []

    def counted(text: str, m: re.Match[str], read: cmtrace._Read) -> bool:
        calls.append(m.start())
        return general(text, m, read)

    monkeypatch.setattr(cmtrace, "_parse_general", counted)
    read = cmtrace._Read("built.log", cmtrace._Clock([]))
    cmtrace._parse(damaged, read)
    assert len(read.lines) == 200  # the stray text opens the record that lost its start
    assert len(calls) <= 2  # the fast path read the records after the damage


def test_unusual_blanks_and_header_line_breaks_count_lines_alike() -> None:
    start = datetime(2025, 3, 10, 8, 0, tzinfo=UTC)
    records = [cmtrace_line(start + timedelta(seconds=n), f"m{n}\nx") for n in range(6)]
    records[2] = records[2].replace('thread="1"', 'thread="1\r\n2"')
    text = "\n \t".join(records[:3]) + "\r\n\r\n\ufeff" + "".join(records[3:]) + "\n"
    read = cmtrace._Read("x.log", cmtrace._Clock([]))
    cmtrace._parse_regular(text, read)
    assert len(read.lines) == 6
    assert [line.line for line in read.lines] == [1, 3, 5, 9, 10, 11]
    assert _same_both_ways(text, "x.log")


@pytest.mark.real
def test_real_logs_identical(real_dir: Path) -> None:
    logs = sorted(real_dir.rglob("*.log"))
    if not logs:
        pytest.skip("no real logs")
    for number, path in enumerate(logs):
        text, _warning = decode_text(path.read_bytes())
        assert _same_both_ways(text, "x.log"), number
        for mutant in _mutants(text, number, 10):
            assert _same_both_ways(mutant, "x.log"), number


def test_equal_texts_share_one_string() -> None:
    when = datetime(2026, 8, 20, 14, 13, 36, tzinfo=UTC)
    said = ["Polling", "Checking app", "Polling", "Polling\r\nmore", "Polling\nmore"]
    text = "\r\n".join(cmtrace_line(when + timedelta(seconds=n), message, bias_minutes=None)
                       for n, message in enumerate(said)) + "\r\n"
    lines, problems = cmtrace.read_cmtrace(text.encode())
    assert not problems
    assert [line.message for line in lines] == [m.replace("\r\n", "\n") for m in said]
    assert lines[0].message is lines[2].message
    assert lines[3].message is lines[4].message  # equal once the line breaks are read

"""The fast path for well-formed CMTrace text gives exactly the general parser's result.

Checked on built logs, on every real log in the fixtures, and on seeded mutations of them
(cut, spliced, markers and quotes inserted), so damage anywhere hands over correctly.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from core.logs import cmtrace
from core.logs.text import decode_text
from tests.builders.logs import cmtrace_line

_INSERTS = ["<![LOG[", "]LOG]!>", "\x00", "\r\n", '"', "<", ">", '<time="x">', "\ufeff"]


def _general(text: str, name: str) -> object:
    return cmtrace._parse_general(text, name, cmtrace._State(cmtrace._Lines(text)))


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
    state = cmtrace._State(cmtrace._Lines(text))
    cmtrace._parse_regular(text, "built.log", state)
    assert len(state.raws) == 200  # the whole text was regular
    assert cmtrace._parse(text, "built.log") == _general(text, "built.log")
    for mutant in _mutants(text, 7, 200):
        assert cmtrace._parse(mutant, "built.log") == _general(mutant, "built.log")


@pytest.mark.real
def test_real_logs_identical(real_dir: Path) -> None:
    logs = sorted(real_dir.rglob("*.log"))
    if not logs:
        pytest.skip("no real logs")
    for number, path in enumerate(logs):
        text, _warning = decode_text(path.read_bytes())
        assert cmtrace._parse(text, "x.log") == _general(text, "x.log"), number
        for mutant in _mutants(text, number, 10):
            assert cmtrace._parse(mutant, "x.log") == _general(mutant, "x.log"), number

"""CMTrace logs under hostile input: record-text and record-count caps are Problems."""

from __future__ import annotations

from core.logs import cmtrace

RECORD = (
    '<![LOG[{msg}]LOG]!><time="10:00:00.0000000" date="4-2-2024" component="IME" '
    'context="" type="1" thread="1" file="">\r\n'
)


def test_record_text_over_the_cap_is_cut(monkeypatch: object) -> None:
    monkeypatch.setattr(cmtrace, "MAX_MESSAGE_CHARS", 100)  # type: ignore[attr-defined]  # pytest fixture
    data = (RECORD.format(msg="x" * 500) + RECORD.format(msg="ok")).encode()
    lines, problems = cmtrace.read_cmtrace(data, "IME.log")
    assert [len(line.message) for line in lines] == [100, 2]
    assert any("cut to the cap of 100" in p.message for p in problems)


def test_records_over_the_cap_are_left_out(monkeypatch: object) -> None:
    monkeypatch.setattr(cmtrace, "MAX_LOG_RECORDS", 10)  # type: ignore[attr-defined]  # pytest fixture
    data = "".join(RECORD.format(msg=i) for i in range(25)).encode()
    lines, problems = cmtrace.read_cmtrace(data, "IME.log")
    assert len(lines) == 10
    assert any("more than 10 records" in p.message and p.where == "line 11" for p in problems)

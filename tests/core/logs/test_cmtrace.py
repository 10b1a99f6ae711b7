"""CMTrace reader: real IME logs, the two-writer-eras fixture, and built damage cases."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.logs.cmtrace import (
    _when,
    is_cmtrace,
    read_cmtrace,
    read_cmtrace_files,
    resolve_times,
    rotation_key,
)
from core.logs.zones import autopilot_zones, windows_zone
from tests.builders.logs import cmtrace_line, write_cmtrace

T0 = datetime(2026, 3, 1, 10, 0, 0, tzinfo=UTC)

REAL_LOGS = [
    "ime-logs/KaelebLane-SOE-829a0e1/IntuneManagementExtension.log",
    "ime-logs/Silvermaz28-SOE-283950f/IntuneManagementExtension.log",
    "ime-logs/Silvermazz-SOE-851230c/IntuneManagementExtension.log",
    "mdmdiag-itziktdk-MyRes/extracted/IntuneManagementExtension.log",
    "mdmdiag-itziktdk-MyRes/extracted/AgentExecutor.log",
    "mdmdiag-itziktdk-MyRes/extracted/AppActionProcessor.log",
    "mdmdiag-itziktdk-MyRes/extracted/ClientHealth.log",
    "mdmdiag-itziktdk-MyRes/extracted/Win32AppInventory.log",
]
ERAS = "ime-logs/okieselbach-AutopilotMonitor/agentexecutor-two-writer-eras-v1.cmtrace"


# -- real files --------------------------------------------------------------------------


@pytest.mark.real
@pytest.mark.parametrize("rel", REAL_LOGS)
def test_real_logs_parse_without_problems(real_dir: Path, rel: str) -> None:
    path = real_dir / rel
    data = path.read_bytes()
    lines, problems = read_cmtrace(path)
    assert problems == []
    # Independent count: every record ends in exactly one header.
    assert len(lines) == data.count(b"]LOG]!><time=")
    # Torn records (start overwritten by a restarted writer) are the only ones without a start.
    assert data.count(b"<![LOG[") <= len(lines)
    assert all(line.time is not None and line.time.tzinfo is UTC for line in lines)
    assert all(line.component and line.thread for line in lines)
    assert {line.type for line in lines} <= {1, 2, 3}
    assert lines[0].origin == f"{path.name}:1"
    assert [line.line for line in lines] == sorted(line.line for line in lines)
    # Every physical line belongs to exactly one record (records end with a line break).
    text = data.decode("utf-8-sig")
    assert sum(line.message.count("\n") + 1 for line in lines) == len(text.splitlines())


@pytest.mark.real
def test_real_log_multiline_messages_present(real_dir: Path) -> None:
    lines, _ = read_cmtrace(real_dir / REAL_LOGS[0])
    multi = [line for line in lines if "\n" in line.message]
    assert multi
    assert all("\r" not in line.message for line in multi)
    assert all("]LOG]!>" not in line.message for line in lines)


def _eras_fixture(real_dir: Path) -> tuple[str, bytes]:
    raw = (real_dir / ERAS).read_bytes()
    header = "\n".join(
        ln[1:].strip() for ln in raw.decode("utf-8").splitlines() if ln.startswith("#")
    )
    body = b"\n".join(ln for ln in raw.split(b"\n") if not ln.startswith(b"#"))
    return header, body


@pytest.mark.real
def test_two_writer_eras_resolve_to_correct_utc(real_dir: Path) -> None:
    header, body = _eras_fixture(real_dir)
    flat = " ".join(header.split())
    # "Lines at local hour 05 were rendered by a writer still on PDT (UTC-7), lines at hour 14
    # by one already on CEST (UTC+2)" -> {5: -7, 14: +2}, read from the fixture itself.
    eras = {int(h): int(off) for h, off in re.findall(r"hour (\d+) .*?\(UTC([+-]\d+)\)", flat)}
    assert len(eras) == 2
    switch = re.search(r"at (\d\d):(\d\d):(\d\d)Z", flat)
    assert switch is not None
    zones = [timezone(timedelta(hours=off)) for off in eras.values()]

    # Oldest zone first, as the header tells it: booted on Pacific, then set W. Europe.
    order = zones
    lines, problems = read_cmtrace(body, "AgentExecutor.log", zones=order)
    assert problems == []
    assert len(lines) == body.count(b"<![LOG[")
    local = re.findall(rb'time="(\d\d):(\d\d):(\d\d)\.(\d{6})\d*" date="(\d+)-(\d+)-(\d+)"', body)
    assert len(local) == len(lines)
    for line, (hh, mm, ss, us, mo, dd, yy) in zip(lines, local, strict=True):
        wall = datetime(int(yy), int(mo), int(dd), int(hh), int(mm), int(ss), int(us))
        expected = (wall - timedelta(hours=eras[int(hh)])).replace(tzinfo=UTC)
        assert line.time == expected, line.origin
    # Both eras land after the moment the agent changed the zone, as the header says.
    assert lines[0].time is not None
    moment = lines[0].time.replace(
        hour=int(switch[1]), minute=int(switch[2]), second=int(switch[3]), microsecond=0
    )
    assert all(line.time is not None and line.time >= moment for line in lines)
    # The verbatim transition window followed by the PDT samples is one monotonic run.
    run = [line.time for line in lines[:14]]
    assert run == sorted(run)  # type: ignore[type-var]  # all set, asserted above


@pytest.mark.real
def test_two_writer_eras_without_zones_keep_clock_readings(real_dir: Path) -> None:
    _, body = _eras_fixture(real_dir)
    lines, problems = read_cmtrace(body, "AgentExecutor.log")
    assert problems == []
    assert lines[0].time == datetime(2026, 8, 20, 14, 13, 36, 842033, tzinfo=UTC)


# -- time handling ---------------------------------------------------------------------------


def test_bias_sign_is_windows_bias() -> None:
    # Hand calculation: 10:00 local with bias +480 (Pacific standard) is 18:00Z,
    # with bias -120 (central European summer) 08:00Z.
    data = (
        b'<![LOG[a]LOG]!><time="10:00:00.0000000+480" date="9-23-2026" component="c" '
        b'context="" type="1" thread="1" file="">\r\n'
        b'<![LOG[b]LOG]!><time="10:00:00.000-120" date="9-23-2026" component="c" '
        b'context="" type="1" thread="1" file="">\r\n'
    )
    lines, problems = read_cmtrace(data, "x.log", zones=[timezone(timedelta(hours=5))])
    assert problems == []
    assert [line.time for line in lines] == [
        datetime(2026, 9, 23, 18, tzinfo=UTC),
        datetime(2026, 9, 23, 8, tzinfo=UTC),
    ]


def test_builder_round_trips_through_reader(tmp_path: Path) -> None:
    path = write_cmtrace(
        tmp_path / "IntuneManagementExtension.log",
        [
            cmtrace_line(T0, "first", "IME", thread=7, type_=2, bias_minutes=-60),
            cmtrace_line(T0 + timedelta(seconds=1.5), "second", "IME", type_=3, bias_minutes=480),
            cmtrace_line(T0 + timedelta(seconds=2), "third", bias_minutes=None),
        ],
    )
    assert is_cmtrace(path.read_bytes()[:64])
    lines, problems = read_cmtrace(path)
    assert problems == []
    assert [line.time for line in lines] == [
        T0,
        T0 + timedelta(seconds=1.5),
        T0 + timedelta(seconds=2),
    ]
    assert [(line.message, line.component, line.thread, line.type) for line in lines] == [
        ("first", "IME", "7", 2),
        ("second", "IME", "1", 3),
        ("third", "IntuneManagementExtension", "1", 1),
    ]
    assert [line.origin for line in lines] == [
        "IntuneManagementExtension.log:1",
        "IntuneManagementExtension.log:2",
        "IntuneManagementExtension.log:3",
    ]


def test_single_zone_converts_bias_less_lines() -> None:
    data = cmtrace_line(T0, "x", bias_minutes=None).encode()
    lines, _ = read_cmtrace(data, "x.log", zones=[timezone(timedelta(hours=3))])
    assert lines[0].time == T0 - timedelta(hours=3)


@pytest.mark.real
def test_extra_candidate_zones_leave_single_zone_logs_alone(real_dir: Path) -> None:
    device = windows_zone("Israel Standard Time")
    zones = autopilot_zones("Israel Standard Time")
    if device is None or len(zones) != 2:
        pytest.skip("no time-zone database on this platform")
    for rel in REAL_LOGS[3:]:
        one, _ = read_cmtrace(real_dir / rel, zones=[device])
        two, _ = read_cmtrace(real_dir / rel, zones=zones)
        assert [line.time for line in one] == [line.time for line in two]


def test_windows_zone_names() -> None:
    assert windows_zone(None) is None
    assert windows_zone("Nowhere Standard Time") is None
    zone = windows_zone("W. Europe Standard Time")
    if zone is None:
        pytest.skip("no time-zone database on this platform")
    summer = datetime(2026, 8, 20, 14, 0, tzinfo=zone)
    assert summer.utcoffset() == timedelta(hours=2)


def test_era_resolver_keeps_real_gaps_with_one_zone() -> None:
    readings = [(datetime(2026, 1, 1, 1), None), (datetime(2026, 1, 1, 20), None)]
    assert resolve_times(readings, [UTC]) == [
        datetime(2026, 1, 1, 1, tzinfo=UTC),
        datetime(2026, 1, 1, 20, tzinfo=UTC),
    ]


def test_era_resolver_respects_fixed_bias_and_missing_times() -> None:
    pdt, cest = timezone(timedelta(hours=-7)), timezone(timedelta(hours=2))
    readings: list[tuple[datetime | None, int | None]] = [
        (datetime(2026, 8, 20, 12, 0), 0),  # anchored: 12:00Z
        (None, None),
        (datetime(2026, 8, 20, 5, 1), None),  # PDT writer: 12:01Z
        (datetime(2026, 8, 20, 14, 2), None),  # CEST writer: 12:02Z
    ]
    assert resolve_times(readings, [pdt, cest]) == [
        datetime(2026, 8, 20, 12, 0, tzinfo=UTC),
        None,
        datetime(2026, 8, 20, 12, 1, tzinfo=UTC),
        datetime(2026, 8, 20, 12, 2, tzinfo=UTC),
    ]


# -- encodings and damage ---------------------------------------------------------------------


def test_multiline_message_and_crlf(tmp_path: Path) -> None:
    path = write_cmtrace(
        tmp_path / "a.log",
        [cmtrace_line(T0, "line one\r\n   at Stack.Frame()\r\nlast"), cmtrace_line(T0, "next")],
    )
    lines, problems = read_cmtrace(path)
    assert problems == []
    assert lines[0].message == "line one\n   at Stack.Frame()\nlast"
    assert [line.line for line in lines] == [1, 4]


@pytest.mark.parametrize(
    ("encoding", "bom"),
    [("utf-8", True), ("utf-8", False), ("utf-16-le", True), ("utf-16-le", False)],
)
def test_encodings(tmp_path: Path, encoding: str, bom: bool) -> None:
    path = write_cmtrace(
        tmp_path / "a.log",
        [cmtrace_line(T0, "Grüße ✓"), cmtrace_line(T0, "b")],
        bom=bom,
        encoding=encoding,
    )
    assert is_cmtrace(path.read_bytes()[:33])  # an odd-length head must not confuse the sniff
    lines, problems = read_cmtrace(path)
    assert problems == []
    assert [line.message for line in lines] == ["Grüße ✓", "b"]


def test_bom_in_the_middle_is_skipped() -> None:
    data = (cmtrace_line(T0, "a") + "\r\n\ufeff" + cmtrace_line(T0, "b") + "\r\n").encode()
    lines, problems = read_cmtrace(data, "x.log")
    assert problems == []
    assert [line.message for line in lines] == ["a", "b"]


def test_is_cmtrace_rejects_other_text() -> None:
    assert not is_cmtrace(b"2024-04-02 17:55:38, Info   CBS   Starting")
    assert not is_cmtrace(b"")
    assert is_cmtrace("\ufeff<![LOG[x".encode())


@pytest.mark.parametrize("cut", [20, 60, -40, -1])
def test_truncated_file_keeps_partial_record_with_problem(cut: int) -> None:
    full = cmtrace_line(T0, "complete") + "\r\n" + cmtrace_line(T0, "partial message here")
    data = full.encode()[: len(cmtrace_line(T0, "complete")) + 2 + cut if cut > 0 else cut]
    lines, problems = read_cmtrace(data, "cut.log")
    assert lines[0].message == "complete"
    assert len(lines) == 2
    assert lines[1].time is None
    assert len(problems) == 1
    assert problems[0].file == "cut.log"
    assert problems[0].where == "line 2"
    assert "cut while being written" in problems[0].message


def test_stray_text_is_kept_with_problem() -> None:
    data = ("garbage line\r\n" + cmtrace_line(T0, "a") + "\r\nmore junk\r\n").encode()
    lines, problems = read_cmtrace(data, "x.log")
    assert [(line.message, line.time is None) for line in lines] == [
        ("garbage line", True),
        ("a", False),
        ("more junk", True),
    ]
    assert [p.where for p in problems] == ["line 1", "line 3"]
    assert all("outside any CMTrace record" in p.message for p in problems)


def test_broken_header_then_good_record() -> None:
    data = ('<![LOG[lost]LOG]!><time="10:00\r\n' + cmtrace_line(T0, "ok") + "\r\n").encode()
    lines, problems = read_cmtrace(data, "x.log")
    assert lines[-1].message == "ok"
    assert lines[-1].time == T0
    assert lines[-1].line == 2
    assert len(problems) == 1
    assert "without a readable header" in problems[0].message


def test_torn_start_is_an_ordinary_line() -> None:
    tail = cmtrace_line(T0, "stale tail of an older record")[len("<![LOG[stale tail ") :]
    data = (cmtrace_line(T0, "new") + "\r\n" + tail + "\r\n").encode()
    lines, problems = read_cmtrace(data, "x.log")
    assert problems == []
    assert lines[1].message == "of an older record"
    assert lines[1].time == T0


def test_bad_time_and_bytes_are_problems() -> None:
    data = (
        b'<![LOG[a]LOG]!><time="25:99:00.000" date="2-30-2026" component="c" type="x">\n'
        b'<![LOG[b \xff]LOG]!><time="10:00:00.000" date="13-1-2026" component="c">\n'
        b'<![LOG[c]LOG]!><component="c">\n'
    )
    lines, problems = read_cmtrace(data, "x.log")
    assert [line.time for line in lines] == [None, None, None]
    assert lines[0].type == 0
    assert len(problems) == 4
    assert "offset" in problems[0].message


def test_missing_and_non_cmtrace_files(tmp_path: Path) -> None:
    lines, problems = read_cmtrace(tmp_path / "missing.log")
    assert lines == []
    assert len(problems) == 1
    assert "cannot read" in problems[0].message
    other = tmp_path / "setupact.log"
    other.write_text("2024-04-02 17:55:38, Info  CBS  Starting\n", encoding="utf-8")
    lines, problems = read_cmtrace(other)
    assert lines == []
    assert [p.message for p in problems] == ["not a CMTrace log (no record found)"]
    assert read_cmtrace_files([other]) == ([], [])


# -- rotation ----------------------------------------------------------------------------------


def test_rotation_key() -> None:
    assert rotation_key("IntuneManagementExtension-20240402-161304.log") == (
        "intunemanagementextension.log",
        "20240402-161304",
    )
    assert rotation_key("IntuneManagementExtension.log") == ("intunemanagementextension.log", "~")
    assert rotation_key("AgentExecutor.log")[1] > "99999999-999999"


def test_rotated_files_merge_oldest_first(tmp_path: Path) -> None:
    ime = "IntuneManagementExtension"
    paths = [
        write_cmtrace(tmp_path / f"{ime}.log", [cmtrace_line(T0 + timedelta(hours=2), "current")]),
        write_cmtrace(tmp_path / "AgentExecutor.log", [cmtrace_line(T0, "agent")]),
        write_cmtrace(
            tmp_path / f"{ime}-20260301-110000.log",
            [cmtrace_line(T0 + timedelta(hours=1), "rotated 2")],
        ),
        write_cmtrace(tmp_path / f"{ime}-20260301-100000.log", [cmtrace_line(T0, "rotated 1")]),
    ]
    lines, problems = read_cmtrace_files(paths)
    assert problems == []
    assert [line.message for line in lines] == ["rotated 1", "rotated 2", "current", "agent"]
    names = [f"cab!sub\\{p.name}" for p in paths]
    lines, _ = read_cmtrace_files(paths, names)
    assert lines[0].file == f"cab!sub\\{ime}-20260301-100000.log"
    with pytest.raises(ValueError, match="one to one"):
        read_cmtrace_files(paths, names[:1])


# -- robustness -------------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400))
def test_random_bytes_never_raise(data: bytes) -> None:
    lines, problems = read_cmtrace(b"<![LOG[" + data, "fuzz.log")
    assert lines or problems


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "<![LOG[",
                "]LOG]!>",
                "<",
                ">",
                '"',
                "\n",
                "x",
                "\ufeff",
                '<time="1:2:3" date="1-2-2026">',
            ]
        ),
        max_size=30,
    )
)
def test_token_soup_never_raises(parts: list[str]) -> None:
    read_cmtrace("".join(parts).encode(), "soup.log")


def test_repeated_readings_keep_their_fold() -> None:
    # Readings are converted once per distinct value; an autumn-fold reading equals its
    # first-pass twin but is an hour later, and must not take the twin's remembered UTC.
    zone = windows_zone("W. Europe Standard Time")
    if zone is None:
        pytest.skip("no time-zone database on this platform")
    first = datetime(2025, 10, 26, 2, 30)
    second = first.replace(fold=1)
    times = resolve_times([(first, None), (second, None), (first, None)], [zone])
    assert times == [
        datetime(2025, 10, 26, 0, 30, tzinfo=UTC),
        datetime(2025, 10, 26, 1, 30, tzinfo=UTC),
        datetime(2025, 10, 26, 0, 30, tzinfo=UTC),
    ]


@st.composite
def _ime_like_times(draw: st.DrawFn) -> str:
    """IME's ``HH:MM:SS.fffffff``, in and out of range, with at most one character changed."""
    text = (f"{draw(st.integers(0, 25)):02d}:{draw(st.integers(0, 61)):02d}:"
            f"{draw(st.integers(0, 61)):02d}.{draw(st.integers(0, 9_999_999)):07d}")
    at = draw(st.integers(0, 20))
    if at < len(text):
        text = text[:at] + draw(st.sampled_from("0123456789١٣x :.+-")) + text[at + 1:]
    return text


@settings(max_examples=400, deadline=None)
@given(
    _ime_like_times(),
    st.sampled_from(["8-20-2026", "2-29-2024", "2-30-2026", "12-31-9999", "1-1-0000"]),
)
def test_ime_shaped_times_read_as_the_pattern_reads_them(time_s: str, date_s: str) -> None:
    # A trailing blank keeps a time off the fast path for IME's own shape, not off the
    # pattern (which allows blanks): both readings must agree.
    fast = _when(time_s, date_s, {})
    general = _when(time_s + " ", date_s, {})
    assert fast[:2] == general[:2]
    assert (fast[2] or "").split(" ")[0] == (general[2] or "").split(" ")[0]


def test_ime_shaped_edge_times() -> None:
    assert _when("14:13:36.8420339", "8-20-2026", {})[0] == datetime(2026, 8, 20, 14, 13, 36,
                                                                     842033)
    assert _when("24:00:00.0000000", "8-20-2026", {})[2] == (
        "impossible time '24:00:00.0000000' / date '8-20-2026'; kept without a time")
    assert _when("14:13:36.8420339", "2-30-2026", {})[2] == (
        "impossible time '14:13:36.8420339' / date '2-30-2026'; kept without a time")
    arabic = "١٤:١٣:٣٦.٨٤٢٠٣٣٩"  # other decimal digits: the pattern's \d reads them
    assert _when(arabic, "8-20-2026", {})[0] == datetime(2026, 8, 20, 14, 13, 36, 842033)

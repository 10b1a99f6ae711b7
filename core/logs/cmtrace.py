"""CMTrace-format logs: IntuneManagementExtension, AppWorkload, AgentExecutor and friends.

One record looks like this (the message may span many lines; it runs until ``]LOG]!>``)::

    <![LOG[message]LOG]!><time="14:13:36.8420339" date="8-20-2026" component="AgentExecutor"
    context="" type="1" thread="1" file="">

**Times.** ConfigMgr-style writers put the UTC bias in minutes after the time, with the sign of
Windows' ``TIME_ZONE_INFORMATION.Bias``: ``UTC = local + bias`` (``+480`` is Pacific standard
time, ``-120`` is central European summer time). The Intune writers (IME, AgentExecutor,
AppWorkload) write *no* bias: the time is the writer's wall clock and nothing in the file says
which zone that was. The caller passes the zones it knows as ``zones``:

* none: the clock reading is taken as UTC (a documented guess; the order is kept);
* one: the reading is local time in that zone;
* several, oldest first, the last being the device's zone at collection: a device that
  changed zone while the logs were written — typically the Pacific default of OOBE, then the
  real zone. Processes started before the change keep the old zone, so two "writer eras"
  interleave in one file. A line is read in the last zone unless that makes it jump back
  more than an hour (``ERA_WINDOW``) while an earlier zone puts it within an hour of the line
  before; then it is an old-era line. Forward gaps never trigger a switch (logs idle for
  hours are normal), so single-zone logs read the same with or without extra candidates.

**Damage is data.** Text outside any record becomes a time-less line plus a Problem. A file
cut while being written keeps its last, partial record as a time-less line plus a Problem.
A record whose ``<![LOG[`` start is missing but whose header is whole is kept as an ordinary
line without a Problem: that is the stale tail of an older record, left behind when a writer
started the file again from the top — real IME logs contain them and CMTrace shows them alike.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path, PurePath

from core.logs.model import LogLine
from core.logs.text import decode_text
from core.problems import Problem

log = logging.getLogger(__name__)

MAX_LOG_BYTES = 64 * 1024 * 1024
"""Bigger files are not read (a Problem says so); real IME logs rotate at a few MB. Parsing
costs several times the file size in memory, so the cap stays well inside a 1 GiB budget."""
MAX_MESSAGE_CHARS = 1024 * 1024
"""Longer record texts are cut to this (a Problem says so): the "line length" cap."""
MAX_LOG_RECORDS = 500_000
"""Records read from one file at most; the rest is left out with a Problem."""

_START = "<![LOG["
_END = "]LOG]!>"
_HEADER = re.compile(r"\]LOG\]!>[ \t]*<(?P<attrs>[^<>]*)>")
_ATTR = re.compile(r'(\w+)="([^"]*)"')
_TIME = re.compile(r"\s*(\d{1,2}):(\d{1,2}):(\d{1,2})(?:[.,](\d{1,9}))?\s*(?:([+-])(\d{1,4}))?\s*$")
_DATE = re.compile(r"\s*(\d{1,2})-(\d{1,2})-(\d{4})\s*$")
_BLANK = " \t\r\n\ufeff\x00"
_SEVERITIES = {"0": 0, "1": 1, "2": 2, "3": 3}  # the usual ``type`` values, without int()
_ROTATED = re.compile(r"^(?P<base>.+)-(?P<stamp>\d{8}-\d{6})(?P<ext>\.[^.]+)$")
_CURRENT_STAMP = "~"  # sorts after every digit stamp: the current file comes last

ERA_WINDOW = timedelta(hours=1)
"""How far back a line may jump before an earlier zone is tried for it (writer eras)."""


@dataclass(slots=True)
class _Raw:
    """A record before its time is resolved to UTC."""

    local: datetime | None  # naive wall-clock reading
    bias: int | None  # minutes, UTC = local + bias; None when the file gave none
    message: str
    component: str
    thread: str
    type: int
    file: str
    line: int
    headed: bool = False  # recognisably a CMTrace record (header or start marker found)


def is_cmtrace(head: bytes) -> bool:
    """True when the first bytes of a file look like a CMTrace log (any encoding)."""
    return _START in decode_text(head)[0]


def rotation_key(name: str) -> tuple[str, str]:
    """``(base, stamp)`` of a log name: ``IntuneManagementExtension-20240402-161304.log`` →
    ``("intunemanagementextension.log", "20240402-161304")``; the current file's stamp sorts
    after every rotated one."""
    m = _ROTATED.match(name)
    if m is None:
        return name.lower(), _CURRENT_STAMP
    return (m["base"] + m["ext"]).lower(), m["stamp"]


def read_cmtrace(
    source: Path | bytes,
    display_name: str | None = None,
    *,
    zones: Sequence[tzinfo] = (),
) -> tuple[list[LogLine], list[Problem]]:
    """Read one CMTrace log (a path or its bytes); never raises for bad content.

    ``display_name`` names the file in every line's origin and every Problem (defaults to
    the file name). ``zones`` says how to read times without a bias (module docstring).
    """
    name = display_name or (source.name if isinstance(source, Path) else "<log>")
    raws, problems = _read_raw(source, name)
    if raws and not any(r.headed for r in raws):
        return [], [Problem(name, "", "not a CMTrace log (no record found)")]
    return _finish(raws, zones), problems


def read_cmtrace_files(
    paths: Sequence[Path],
    names: Sequence[str] | None = None,
    *,
    zones: Sequence[tzinfo] = (),
) -> tuple[list[LogLine], list[Problem]]:
    """Read several logs; rotated files join their current file, oldest first.

    A file without a single CMTrace record (``setupact.log`` shares the suffix) is left out
    without a Problem; :func:`read_cmtrace` on such a file reports one.

    Files are grouped by base name (``X-20240402-161304.log`` belongs to ``X.log``); groups
    keep the order in which their first file was given. Within a group the times are
    resolved as one sequence, so writer eras carry over a rotation.
    """
    if names is not None and len(names) != len(paths):
        raise ValueError("names must match paths one to one")
    shown = list(names) if names is not None else [p.name for p in paths]
    groups: dict[str, list[tuple[str, Path, str]]] = {}
    for path, name in zip(paths, shown, strict=True):
        base, stamp = rotation_key(PurePath(name.replace("\\", "/")).name.split("!")[-1])
        groups.setdefault(base, []).append((stamp, path, name))
    lines: list[LogLine] = []
    problems: list[Problem] = []
    for members in groups.values():
        raws: list[_Raw] = []
        for _stamp, path, name in sorted(members, key=lambda m: m[0]):
            got, bad = _read_raw(path, name)
            if got and not any(r.headed for r in got):
                # A plain-text log that only shares the ".log" suffix (setupact.log): not
                # damage, just another format — leave it out quietly.
                log.info("%s: no CMTrace record; not read as a CMTrace log", name)
                continue
            raws.extend(got)
            problems.extend(bad)
        lines.extend(_finish(raws, zones))
    return lines, problems


def _read_raw(source: Path | bytes, name: str) -> tuple[list[_Raw], list[Problem]]:
    if isinstance(source, Path):
        try:
            size = source.stat().st_size
            if size > MAX_LOG_BYTES:
                return [], [
                    Problem(
                        name,
                        "",
                        f"log of {size:,} bytes is larger than the "
                        f"{MAX_LOG_BYTES // (1024 * 1024)} MB cap; not read",
                    )
                ]
            data = source.read_bytes()
        except OSError as exc:
            return [], [Problem(name, "", f"cannot read the file: {exc.strerror or exc}")]
    else:
        data = source
    text, warning = decode_text(data)
    raws, problems = _parse(text, name)
    if warning:
        problems.insert(0, Problem(name, "", warning))
    return raws, problems


class _Lines:
    """Line numbers for increasing offsets without counting from the start each time."""

    __slots__ = ("_line", "_pos", "_text")

    def __init__(self, text: str) -> None:
        self._text, self._pos, self._line = text, 0, 1

    def at(self, offset: int) -> int:
        self._line += self._text.count("\n", self._pos, offset)
        self._pos = offset
        return self._line


#: One well-formed record as IME and ConfigMgr write it (attributes in their usual order),
#: from the blanks before it to its header's ``>``, in three steps (see :func:`_parse_regular`):
#: the blanks and the start marker, the text up to the first end marker (``str.find``: a
#: lazy ``.*?`` tries the rest of the pattern at every character), then the header.
_REGULAR_START = re.compile(r"[ \t\r\n\ufeff\x00]*<!\[LOG\[")
_REGULAR_HEADER = re.compile(
    r'\]LOG\]!>[ \t]*<time="([^"<>]*)" date="([^"<>]*)" component="([^"<>]*)" '
    r'context="[^"<>]*" type="([^"<>]*)" thread="([^"<>]*)" file="[^"<>]*">'
)


@dataclass(slots=True)
class _State:
    """Where parsing of one text stands: what was read, and the offset to go on from."""

    lines: _Lines
    raws: list[_Raw] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    dates: dict[str, tuple[int, int, int] | None] = field(default_factory=dict)
    #: ``_when`` of each (time, date) pair already read: IME writes bursts of lines with the
    #: same stamp (a real log: 34,000 records, under 4,000 distinct stamps).
    whens: dict[tuple[str, str], tuple[datetime | None, int | None, str | None]] = field(
        default_factory=dict
    )
    pos: int = 0


def _parse(text: str, name: str) -> tuple[list[_Raw], list[Problem]]:
    state = _State(_Lines(text))
    _parse_regular(text, name, state)
    return _parse_general(text, name, state)


def _parse_regular(text: str, name: str, state: _State) -> None:
    """Read the run of well-formed records at ``state.pos``, one C-level match each.

    Stops before the first record that is not plainly regular (a stray line, a cut record,
    an unusual header, a record marker inside a message, a cap reached): the general parser
    goes on from there in the same state, so the result is exactly the general parser's.
    """
    raws, problems, dates, lines = state.raws, state.problems, state.dates, state.lines
    whens = state.whens
    start_at, header_at, find = _REGULAR_START.match, _REGULAR_HEADER.match, text.find
    append = raws.append
    pos = state.pos
    while len(raws) < MAX_LOG_RECORDS:
        s = start_at(text, pos)
        if s is None:
            break
        begin = s.end()
        end = find(_END, begin)
        # The message runs to the first end marker; a record whose header does not follow
        # it (or whose text holds a start marker: a cut record) is the general parser's.
        m = header_at(text, end) if end != -1 else None
        if m is None:
            break
        message = text[begin:end]
        if _START in message or len(message) > MAX_MESSAGE_CHARS:
            break
        time_s, date_s, component, type_s, thread = m.groups()
        line = lines.at(begin - len(_START))
        when = whens.get((time_s, date_s))
        if when is None:
            when = whens[time_s, date_s] = _when(time_s, date_s, dates)
        local, bias, why = when
        if why:
            problems.append(Problem(name, f"line {line}", why))
        if "\r" in message:
            message = message.replace("\r\n", "\n")
        severity = _SEVERITIES.get(type_s)
        if severity is None:
            severity = _int(type_s)
        append(_Raw(local, bias, message, component, thread, severity, name, line, True))
        pos = m.end()
    state.pos = pos


def _parse_general(text: str, name: str, state: _State) -> tuple[list[_Raw], list[Problem]]:
    """Every shape of CMTrace text, damage included, from ``state.pos`` on."""
    raws, problems, lines, dates, pos = (
        state.raws, state.problems, state.lines, state.dates, state.pos)
    for m in _HEADER.finditer(text, pos):
        end = m.start()
        body = _skip_blank(text, pos, end)
        marker = text.rfind(_START, body, end)
        if marker == -1:
            start = body  # stale tail of an older record: kept, see module docstring
            msg_start = body
        else:
            if marker > body:
                _stray(text, body, marker, name, lines, raws, problems)
            start = marker
            msg_start = marker + len(_START)
        line = lines.at(start)
        attrs = dict(_ATTR.findall(m["attrs"]))
        local, bias, why = _when(attrs.get("time"), attrs.get("date"), dates)
        if why:
            problems.append(Problem(name, f"line {line}", why))
        if len(raws) >= MAX_LOG_RECORDS:
            problems.append(
                Problem(
                    name,
                    f"line {lines.at(start)}",
                    f"more than {MAX_LOG_RECORDS:,} records (the cap); the rest was not read",
                )
            )
            return raws, problems
        message = text[msg_start:end]
        if len(message) > MAX_MESSAGE_CHARS:
            problems.append(
                Problem(
                    name,
                    f"line {line}",
                    f"record text of {len(message):,} characters cut to the cap of "
                    f"{MAX_MESSAGE_CHARS:,}",
                )
            )
            message = message[:MAX_MESSAGE_CHARS]
        if "\r" in message:
            message = message.replace("\r\n", "\n")
        raws.append(
            _Raw(
                local,
                bias,
                message,
                attrs.get("component", ""),
                attrs.get("thread", ""),
                _int(attrs.get("type")),
                name,
                line,
                headed=True,
            )
        )
        pos = m.end()
    body = _skip_blank(text, pos, len(text))
    if body < len(text):
        marker = text.find(_START, body)
        if marker == -1:
            _stray(text, body, len(text), name, lines, raws, problems)
        else:
            if marker > body:
                _stray(text, body, marker, name, lines, raws, problems)
            line = lines.at(marker)
            cut = text[marker + len(_START) :]
            message = cut.split(_END, 1)[0].rstrip(_BLANK).replace("\r\n", "\n")
            raws.append(_Raw(None, None, message, "", "", 0, name, line, headed=True))
            problems.append(
                Problem(
                    name,
                    f"line {line}",
                    "the file ends inside a record (it was "
                    "cut while being written); its text is kept without a time",
                )
            )
    log.debug("%s: %d records, %d problems", name, len(raws), len(problems))
    return raws, problems


def _skip_blank(text: str, pos: int, end: int) -> int:
    while pos < end and text[pos] in _BLANK:
        pos += 1
    return pos


def _stray(
    text: str,
    start: int,
    end: int,
    name: str,
    lines: _Lines,
    raws: list[_Raw],
    problems: list[Problem],
) -> None:
    """Text between records that is not a record: keep it, time-less, and say so."""
    chunk = text[start:end].rstrip(_BLANK).replace("\r\n", "\n")
    line = lines.at(start)
    raws.append(_Raw(None, None, chunk, "", "", 0, name, line))
    if _START in chunk:
        why = "a record without a readable header; its text is kept without a time"
    else:
        why = "text outside any CMTrace record; kept without a time"
    problems.append(Problem(name, f"line {line}", why))


def _int(value: str | None) -> int:
    try:
        return int(value) if value else 0
    except ValueError:
        return 0


def _when(
    time_s: str | None, date_s: str | None, dates: dict[str, tuple[int, int, int] | None]
) -> tuple[datetime | None, int | None, str | None]:
    """``(local, bias, why)`` from the two attributes; ``why`` explains an unusable time."""
    if time_s is None or date_s is None:
        return None, None, "record has no time or date; kept without a time"
    if date_s not in dates:
        dm = _DATE.match(date_s)
        dates[date_s] = (int(dm[3]), int(dm[1]), int(dm[2])) if dm else None
    ymd = dates[date_s]
    tm = _TIME.match(time_s)
    if ymd is None or tm is None:
        return None, None, f"unreadable time {time_s!r} / date {date_s!r}; kept without a time"
    frac = tm[4] or ""
    micro = int((frac + "000000")[:6]) if frac else 0
    try:
        local = datetime(ymd[0], ymd[1], ymd[2], int(tm[1]), int(tm[2]), int(tm[3]), micro)
    except ValueError:
        return None, None, f"impossible time {time_s!r} / date {date_s!r}; kept without a time"
    bias = None
    if tm[5]:
        bias = int(tm[6]) * (-1 if tm[5] == "-" else 1)
    return local, bias, None


def _finish(raws: list[_Raw], zones: Sequence[tzinfo]) -> list[LogLine]:
    times = resolve_times([(r.local, r.bias) for r in raws], zones)
    return [
        LogLine(t, r.message, r.component, r.thread, r.type, r.file, r.line)
        for r, t in zip(raws, times, strict=True)
    ]


def resolve_times(
    readings: Sequence[tuple[datetime | None, int | None]], zones: Sequence[tzinfo] = ()
) -> list[datetime | None]:
    """UTC times for ``(naive local reading, bias minutes or None)`` pairs, in file order.

    Exposed for callers that learn the zones later. See the module docstring for the rules.
    """
    out: list[datetime | None] = [None] * len(readings)
    if len(zones) <= 1:
        to_utc = _utc_in(zones[0] if zones else UTC)
        for i, (local, bias) in enumerate(readings):
            if local is None:
                continue
            if bias is not None:
                out[i] = _biased(local, bias)
            else:
                out[i] = to_utc(local)
        return out
    _resolve_eras(readings, zones, out)
    return out


def _utc_in(zone: tzinfo) -> Callable[[datetime], datetime]:
    """``local → local.replace(tzinfo=zone).astimezone(UTC)``, with the zone's offset looked
    up once per wall-clock minute (zone rules change offsets on minute boundaries) instead of
    once per line: a log has tens of thousands of lines and a few hundred distinct minutes."""
    offsets: dict[tuple[int, int, int, int, int, int], timedelta] = {}  # (…, minute, fold)
    # Whole readings repeat too (bursts of lines with one stamp). Equal naive readings only
    # differ by ``fold``, which the key leaves out: folded ones are not remembered.
    done: dict[datetime, datetime] = {}

    def to_utc(local: datetime) -> datetime:
        utc = done.get(local)
        if utc is not None and not local.fold:
            return utc
        # Constructors, not datetime.replace(): replace() costs several times as much.
        y, mo, d, h, mi, fold = key = (
            local.year, local.month, local.day, local.hour, local.minute, local.fold)
        offset = offsets.get(key)
        if offset is None:
            wall = datetime(y, mo, d, h, mi, fold=fold, tzinfo=zone)
            offset = offsets[key] = wall.utcoffset() or timedelta(0)
        utc = datetime(y, mo, d, h, mi, local.second, local.microsecond, UTC) - offset
        if not local.fold:
            done[local] = utc
        return utc

    return to_utc


def _biased(local: datetime, bias: int) -> datetime:
    """UTC of a reading with its own bias (minutes, UTC = local + bias)."""
    return datetime(local.year, local.month, local.day, local.hour, local.minute,
                    local.second, local.microsecond, UTC) + timedelta(minutes=bias)


def _resolve_eras(
    readings: Sequence[tuple[datetime | None, int | None]],
    zones: Sequence[tzinfo],
    out: list[datetime | None],
) -> None:
    """Read each bias-less line in the last zone unless it is an old-era writer's line.

    A line whose reading in the last (current) zone jumps back more than
    :data:`ERA_WINDOW` from the line before, but which in an earlier candidate zone lands
    within that window of it, was written by a process still on the earlier zone.
    """
    current = _utc_in(zones[-1])
    earlier = [_utc_in(zone) for zone in zones[:-1]]
    prev: datetime | None = None
    for i, (local, bias) in enumerate(readings):
        if local is None:
            continue
        if bias is not None:
            prev = out[i] = _biased(local, bias)
            continue
        utc = current(local)
        if prev is not None and prev - utc > ERA_WINDOW:
            for zone in earlier:
                other = zone(local)
                if abs(other - prev) <= ERA_WINDOW:
                    utc = other
                    break
        prev = out[i] = utc

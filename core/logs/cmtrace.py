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
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from pathlib import Path, PurePath

from core.logs.model import LogLine
from core.logs.text import decode_text
from core.perf import draft_of
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
_BLANKS = re.compile(r"[ \t\r\n\ufeff\x00]*+")  # the characters of _BLANK
_SEVERITIES = {"0": 0, "1": 1, "2": 2, "3": 3}  # the usual ``type`` values, without int()
_ROTATED = re.compile(r"^(?P<base>.+)-(?P<stamp>\d{8}-\d{6})(?P<ext>\.[^.]+)$")
_CURRENT_STAMP = "~"  # sorts after every digit stamp: the current file comes last

ERA_WINDOW = timedelta(hours=1)
"""How far back a line may jump before an earlier zone is tried for it (writer eras)."""


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
    read = _read_file(source, name, _Clock(zones))
    if read.lines and not read.headed:
        return [], [Problem(name, "", "not a CMTrace log (no record found)")]
    return read.lines, read.problems


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
        clock = _Clock(zones)  # one sequence of times per group
        for _stamp, path, name in sorted(members, key=lambda m: m[0]):
            read = _read_file(path, name, clock)
            if read.lines and not read.headed:
                # A plain-text log that only shares the ".log" suffix (setupact.log): not
                # damage, just another format — leave it out quietly. Its lines have no
                # time, so the clock's sequence did not move.
                log.info("%s: no CMTrace record; not read as a CMTrace log", name)
                continue
            lines.extend(read.lines)
            problems.extend(read.problems)
    return lines, problems


def resolve_times(
    readings: Sequence[tuple[datetime | None, int | None]], zones: Sequence[tzinfo] = ()
) -> list[datetime | None]:
    """UTC times for ``(naive local reading, bias minutes or None)`` pairs, in file order.

    Exposed for callers that learn the zones later. See the module docstring for the rules.
    """
    clock = _Clock(zones)
    out: list[datetime | None] = []
    prev: datetime | None = None
    for local, bias in readings:
        if local is None:
            out.append(None)
            continue
        prev = clock.settle(clock.reading(local, bias), prev)
        out.append(prev)
    return out


# -- times ------------------------------------------------------------------------------------

_Stamp = tuple[datetime | None, datetime | None, bool, str | None]
"""What one record's ``time``/``date`` pair says: ``(utc, local, biased, why)``.

``utc`` is the reading in the device's (last) zone, or by the record's own bias when
``biased``; ``local`` is the naive clock reading, for the writer-era rule. Both are ``None``
when the pair is unusable, and ``why`` then says why (a sentence for a Problem)."""


_Header = tuple[_Stamp, str, str, int, int]
"""A regular header: ``(stamp, component, thread, type, line breaks in its text)``; its text
includes the blanks after it."""


class _Clock:
    """Turns record stamps into UTC for one sequence of files (a rotation group), in order.

    Every distinct stamp is read once (IME writes bursts of records with one stamp: a real
    log holds 34,000 records and under 4,000 stamps). The writer-era rule depends on the
    line before, so it is applied per record, by :meth:`settle`, and only with several zones.
    """

    __slots__ = ("_current", "_dates", "_earlier", "eras", "headers", "prev", "stamps", "texts")

    def __init__(self, zones: Sequence[tzinfo]) -> None:
        self._current = _utc_in(zones[-1] if zones else UTC)
        self._earlier = [_utc_in(zone) for zone in zones[:-1]]
        self.eras = bool(self._earlier)
        """True when a record's time may depend on the one before (several zones)."""
        self.prev: datetime | None = None
        """The time of the last record of the sequence that has one (the era rule's anchor)."""
        self._dates: dict[str, _Date] = {}
        self.stamps: dict[str, _Stamp] = {}
        """Stamps read so far, by their header text (see :meth:`stamp`)."""
        self.headers: dict[str, _Header] = {}
        """Regular headers read so far, by their text (see :meth:`header`)."""
        self.texts: dict[str, str] = {}
        """Record texts read so far: one string per distinct text (see :func:`_parse_regular`)."""

    def header(self, text: str) -> _Header | None:
        """Read a header (the text from after a record's end marker to the next start
        marker: ``>`` and blanks) if it is regular (:data:`_REGULAR_HEADER`); remember it."""
        m = _REGULAR_HEADER.fullmatch(text)
        if m is None:
            return None
        key, component, type_s, thread = m.groups()
        severity = _SEVERITIES.get(type_s)
        got = self.headers[text] = (
            self.stamps.get(key) or self.stamp(key),
            component,
            thread,
            _int(type_s) if severity is None else severity,
            text.count("\n"),
        )
        return got

    def stamp(self, key: str) -> _Stamp:
        """Read the stamp ``time" date="date`` (the header text between the two values'
        outer quotes; neither value holds a quote) and remember it."""
        time_s, _, date_s = key.partition('" date="')
        local, bias, why = _when(time_s, date_s, self._dates)
        got = self.stamps[key] = (
            (None, None, False, why) if local is None else self.reading(local, bias)
        )
        return got

    def pair(self, time_s: str | None, date_s: str | None) -> _Stamp:
        """The stamp of a record's ``time`` and ``date`` attributes (either may be missing)."""
        if time_s is not None and date_s is not None:
            got = self.stamps.get(f'{time_s}" date="{date_s}')
            if got is not None:
                return got
        local, bias, why = _when(time_s, date_s, self._dates)
        if local is None:
            return None, None, False, why
        return self.reading(local, bias)

    def reading(self, local: datetime, bias: int | None) -> _Stamp:
        """The stamp of a naive clock reading and its bias (minutes), if any."""
        if bias is not None:
            return _biased(local, bias), local, True, None
        return self._current(local), local, False, None

    def settle(self, stamp: _Stamp, prev: datetime | None) -> datetime | None:
        """A record's UTC time, given the time of the record before it (``prev``).

        A bias-less reading that jumps back more than :data:`ERA_WINDOW` from ``prev`` in the
        last zone, but lands within that window of it in an earlier candidate zone, was
        written by a process still on the earlier zone.
        """
        utc, local, biased, _why = stamp
        if utc is None or local is None or biased or prev is None or prev - utc <= ERA_WINDOW:
            return utc
        for zone in self._earlier:
            other = zone(local)
            if abs(other - prev) <= ERA_WINDOW:
                return other
        return utc


_Date = tuple[tuple[int, int, int] | None, date | None]
"""A ``date`` attribute read: ``(year, month, day)`` if it has the shape, and that day if it
exists."""


def _day(ymd: tuple[int, int, int] | None) -> date | None:
    if ymd is None:
        return None
    try:
        return date(*ymd)
    except ValueError:
        return None


def _when(
    time_s: str | None, date_s: str | None, dates: dict[str, _Date]
) -> tuple[datetime | None, int | None, str | None]:
    """``(local, bias, why)`` from the two attributes; ``why`` explains an unusable time.

    ``dates`` remembers the ``date`` attributes read (a log holds a few)."""
    if time_s is None or date_s is None:
        return None, None, "record has no time or date; kept without a time"
    known = dates.get(date_s)
    if known is None:
        dm = _DATE.match(date_s)
        ymd = (int(dm[3]), int(dm[1]), int(dm[2])) if dm else None
        known = dates[date_s] = (ymd, _day(ymd))
    ymd, day = known
    if (day is not None and len(time_s) == 16 and time_s[2] == ":" and time_s[5] == ":"
            and time_s[8] == "." and time_s.isascii() and time_s[9:].isdigit()):
        # IME's own shape, ``14:13:36.8420339`` (two-digit fields, seven fraction digits, no
        # bias): read by the C-level ISO parser, which takes exactly the two-digit ASCII
        # fields, to the microsecond, as the pattern below does; anything it refuses (an
        # hour of 24, say) is left to the pattern, which says why.
        try:
            return datetime.combine(day, time.fromisoformat(time_s[:15])), None, None
        except ValueError:
            pass
    tm = _TIME.match(time_s)
    if ymd is None or tm is None:
        return None, None, f"unreadable time {time_s!r} / date {date_s!r}; kept without a time"
    hour, minute, second, frac, sign, minutes = tm.groups()
    micro = int((frac + "000000")[:6]) if frac else 0
    try:
        local = datetime(ymd[0], ymd[1], ymd[2], int(hour), int(minute), int(second), micro)
    except ValueError:
        return None, None, f"impossible time {time_s!r} / date {date_s!r}; kept without a time"
    return local, (int(minutes) * (-1 if sign == "-" else 1) if sign else None), None


def _utc_in(zone: tzinfo) -> Callable[[datetime], datetime]:
    """``local → local.replace(tzinfo=zone).astimezone(UTC)``, with the zone's offset looked
    up once per wall-clock minute (zone rules change offsets on minute boundaries) instead of
    once per line: a log has tens of thousands of lines and a few hundred distinct minutes."""
    offsets: dict[tuple[int, int, int, int, int, int], timedelta] = {}  # (…, minute, fold)

    def to_utc(local: datetime) -> datetime:
        # Constructors, not datetime.replace(): replace() costs several times as much.
        y, mo, d, h, mi, fold = key = (
            local.year, local.month, local.day, local.hour, local.minute, local.fold)
        offset = offsets.get(key)
        if offset is None:
            wall = datetime(y, mo, d, h, mi, fold=fold, tzinfo=zone)
            offset = offsets[key] = wall.utcoffset() or timedelta(0)
        return datetime(y, mo, d, h, mi, local.second, local.microsecond, UTC) - offset

    return to_utc


def _biased(local: datetime, bias: int) -> datetime:
    """UTC of a reading with its own bias (minutes, UTC = local + bias)."""
    return datetime(local.year, local.month, local.day, local.hour, local.minute,
                    local.second, local.microsecond, UTC) + timedelta(minutes=bias)


# -- one file ---------------------------------------------------------------------------------


class _Read:
    """What was read from one file so far, and where parsing of its text stands."""

    __slots__ = ("clock", "line", "line_at", "lines", "name", "piece", "piece_at", "pieces", "pos",
                 "problems", "strays")

    def __init__(self, name: str, clock: _Clock) -> None:
        self.name, self.clock = name, clock
        self.lines: list[LogLine] = []
        self.problems: list[Problem] = []
        self.strays = 0  # lines that are no record (text between records)
        self.pos = 0  # where parsing goes on
        self.line, self.line_at = 1, 0  # the line number at offset ``line_at``
        self.pieces: list[str] | None = None  # the text cut at every end marker, once
        self.piece, self.piece_at = 0, 0  # a piece before the offset parsing is at, its offset

    @property
    def headed(self) -> bool:
        """True when the file held a recognisable CMTrace record (header or start marker)."""
        return len(self.lines) > self.strays

    def pieces_of(self, text: str, offset: int) -> tuple[list[str], int, int]:
        """The text cut at every end marker, the piece that holds ``offset`` and its offset.

        Cut once per file, on first use; as parsing only moves on, the piece is found by
        walking on from the one found last. Records beyond the cap are never read, so the
        cuts stop there (the last piece then holds the rest of the text, end markers and all).
        """
        if self.pieces is None:
            self.pieces = text.split(_END, MAX_LOG_RECORDS + 1)
        pieces, k, at = self.pieces, self.piece, self.piece_at
        while at + len(pieces[k]) <= offset:  # an offset never falls inside an end marker
            at += len(pieces[k]) + len(_END)
            k += 1
        self.piece, self.piece_at = k, at
        return pieces, k, at

    def line_of(self, text: str, offset: int) -> int:
        """Line number of ``offset``; offsets only grow, so lines are counted once."""
        self.line += text.count("\n", self.line_at, offset)
        self.line_at = offset
        return self.line


def _read_file(source: Path | bytes, name: str, clock: _Clock) -> _Read:
    read = _Read(name, clock)
    if isinstance(source, Path):
        try:
            size = source.stat().st_size
            if size > MAX_LOG_BYTES:
                read.problems.append(
                    Problem(
                        name,
                        "",
                        f"log of {size:,} bytes is larger than the "
                        f"{MAX_LOG_BYTES // (1024 * 1024)} MB cap; not read",
                    )
                )
                return read
            data = source.read_bytes()
        except OSError as exc:
            read.problems.append(Problem(name, "", f"cannot read the file: {exc.strerror or exc}"))
            return read
    else:
        data = source
    text, warning = decode_text(data)
    if warning:
        read.problems.append(Problem(name, "", warning))
    _parse(text, read)
    return read


def _parse(text: str, read: _Read, *, regular: bool = True) -> None:
    """Parse ``text`` into ``read``.

    The general parser reads every shape of CMTrace text, one header at a time; after each
    record it hands over to the fast path for the run of regular records that follows
    (unless ``regular`` is false: tests compare both ways). From any offset, the fast path
    reads a regular record exactly as the general parser would, so the result is the same.
    """
    while True:
        if regular:
            _parse_regular(text, read)
        m = _HEADER.search(text, read.pos)
        if m is None:
            _parse_tail(text, read)
            break
        if not _parse_general(text, m, read):
            break  # the record cap was reached
    read.pieces = None  # as big as the text: not kept with the result
    log.debug("%s: %d records, %d problems", read.name, len(read.lines), len(read.problems))


#: The header of a well-formed record as IME and ConfigMgr write it (attributes in their usual
#: order), from after the end marker to its ``>``, and the blanks after it. The two stamp
#: values form one group: the key of the stamp cache. No value holds ``"``, ``<`` or ``>``:
#: the general parser's :data:`_HEADER` reads such a header alike.
_REGULAR_HEADER = re.compile(
    r'[ \t]*+<time="([^"<>]*+" date="[^"<>]*+)" component="([^"<>]*+)" '
    r'context="[^"<>]*+" type="([^"<>]*+)" thread="([^"<>]*+)" file="[^"<>]*+">'
    r"[ \t\r\n\ufeff\x00]*+"
)
_LINE_DRAFT = draft_of(LogLine)


def _parse_regular(text: str, read: _Read) -> None:
    """Read the run of well-formed records at ``read.pos``.

    Stops at the first record that is not plainly regular (a stray line, a cut record, an
    unusual header, a record marker inside a message, a cap reached): the general parser
    goes on from there with the same state, so the result is exactly the general parser's.

    This is the hot loop of evidence loading (tens of thousands of records per capture),
    hence its form. The text is cut at every end marker once (:meth:`_Read.pieces_of`): a
    piece is a header, the blanks after it, the next start marker and that record's text.
    A header with its blanks is parsed once per distinct text (IME writes bursts of records
    with one header), lines are counted in a message only when it holds a line break, and
    each LogLine is made as a writable draft that then becomes one (core.perf.draft_of).
    Lines with equal texts share one string (:attr:`_Clock.texts`): the analysis looks texts
    up in dictionaries in several passes, and a look-up that finds the very same string skips
    comparing it character by character with an equal one (a real IME log: 34,000 lines,
    2,000 distinct texts); it also keeps one copy of each text in memory.
    """
    name, lines, problems, clock = read.name, read.lines, read.problems, read.clock
    headers, new_header, settle, eras = clock.headers, clock.header, clock.settle, clock.eras
    prev = clock.prev
    # Module names as locals: looked up on every record otherwise.
    start, start_len, end_len = _START, len(_START), len(_END)
    max_chars, log_line, draft, append = MAX_MESSAGE_CHARS, LogLine, _LINE_DRAFT, lines.append
    same_text = clock.texts.setdefault
    pos = _skip_blank(text, read.pos, len(text))
    line = read.line_of(text, pos)
    if text.startswith(start, pos):
        pieces, k, at = read.pieces_of(text, pos)
        # The record at ``pos`` (line ``line``) has ``message`` as its text, which ends the
        # piece ``k`` (at offset ``at``); its header opens the next piece.
        message = pieces[k][pos - at + start_len :]
        taken, ended = 0, False
        for i in range(k + 1, min(len(pieces), k + 1 + MAX_LOG_RECORDS - len(lines))):
            following = pieces[i]  # (indexed: an islice would walk from the first piece)
            if start in message or len(message) > max_chars:
                break  # a record cut by the next one, or too long
            head, marker, rest = following.partition(start)
            got = headers.get(head) or new_header(head)
            if not got:
                break  # an unusual header, or something other than blanks after it
            stamp, component, thread, severity, head_lines = got
            utc = stamp[0]
            if utc is None:
                problems.append(Problem(name, f"line {line}", stamp[3] or ""))
            elif eras and utc is not prev:
                # Only a step back can be an old-era line (Clock.settle).
                utc = prev = utc if prev is None or utc >= prev else settle(stamp, prev)
            next_line = line + head_lines
            text_of = message
            if "\n" in message:
                next_line += message.count("\n")
                if "\r" in message:
                    text_of = message.replace("\r\n", "\n")
            made = draft(utc, same_text(text_of, text_of), component, thread, severity, name, line)
            made.__class__ = log_line  # a LogLine from here on (core.perf.draft_of)
            append(made)
            # On to the next record: its start marker follows the blanks after the header.
            taken, message, line = taken + 1, rest, next_line
            if not marker:
                ended = True  # the text ends after the header
                break
        if taken:
            # Offsets are summed once here rather than carried through every record.
            at += sum(map(len, pieces[k : k + taken])) + end_len * taken
            k += taken
            pos = len(text) if ended else at + len(pieces[k]) - len(message) - start_len
        read.piece, read.piece_at = k, at
    clock.prev = prev
    read.line, read.line_at, read.pos = line, pos, pos


def _parse_general(text: str, m: re.Match[str], read: _Read) -> bool:
    """Read the text from ``read.pos`` to the end of the header ``m``: any shape, damage
    included. False when the record cap was reached (nothing more is to be read)."""
    name, lines, problems, clock, pos = read.name, read.lines, read.problems, read.clock, read.pos
    end = m.start()
    body = _skip_blank(text, pos, end)
    marker = text.rfind(_START, body, end)
    if marker == -1:
        start = body  # stale tail of an older record: kept, see module docstring
        msg_start = body
    else:
        if marker > body:
            _stray(text, body, marker, read)
        start = marker
        msg_start = marker + len(_START)
    line = read.line_of(text, start)
    attrs = dict(_ATTR.findall(m["attrs"]))
    stamp = clock.pair(attrs.get("time"), attrs.get("date"))
    if stamp[3]:
        problems.append(Problem(name, f"line {line}", stamp[3]))
    if len(lines) >= MAX_LOG_RECORDS:
        problems.append(
            Problem(
                name,
                f"line {line}",
                f"more than {MAX_LOG_RECORDS:,} records (the cap); the rest was not read",
            )
        )
        return False
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
    utc = stamp[0]
    if utc is not None:
        utc = clock.prev = clock.settle(stamp, clock.prev)
    lines.append(
        LogLine(
            utc,
            message,
            attrs.get("component", ""),
            attrs.get("thread", ""),
            _int(attrs.get("type")),
            name,
            line,
        )
    )
    read.pos = m.end()
    return True


def _parse_tail(text: str, read: _Read) -> None:
    """What follows the last header: nothing but blanks, stray text, or a cut record."""
    pos = read.pos
    body = _skip_blank(text, pos, len(text))
    if body < len(text):
        marker = text.find(_START, body)
        if marker == -1:
            _stray(text, body, len(text), read)
        else:
            if marker > body:
                _stray(text, body, marker, read)
            line = read.line_of(text, marker)
            cut = text[marker + len(_START) :]
            message = cut.split(_END, 1)[0].rstrip(_BLANK).replace("\r\n", "\n")
            read.lines.append(LogLine(None, message, "", "", 0, read.name, line))
            read.problems.append(
                Problem(
                    read.name,
                    f"line {line}",
                    "the file ends inside a record (it was "
                    "cut while being written); its text is kept without a time",
                )
            )


def _skip_blank(text: str, pos: int, end: int) -> int:
    """The first offset from ``pos`` that is not blank, or ``end`` (``pos`` if beyond it)."""
    if pos >= end:
        return pos
    return _BLANKS.match(text, pos, end).end()  # type: ignore[union-attr]  # matches ""


def _stray(text: str, start: int, end: int, read: _Read) -> None:
    """Text between records that is not a record: keep it, time-less, and say so."""
    chunk = text[start:end].rstrip(_BLANK).replace("\r\n", "\n")
    line = read.line_of(text, start)
    read.lines.append(LogLine(None, chunk, "", "", 0, read.name, line))
    read.strays += 1
    if _START in chunk:
        why = "a record without a readable header; its text is kept without a time"
    else:
        why = "text outside any CMTrace record; kept without a time"
    read.problems.append(Problem(read.name, f"line {line}", why))


def _int(value: str | None) -> int:
    try:
        return int(value) if value else 0
    except ValueError:
        return 0

"""The ``MdmDiagReport_RegistryDump.reg`` dialect written by ``mdmdiagnosticstool``.

It looks like a regedit export but is not one (read the three real dumps to see it):

* no ``Windows Registry Editor`` header; keys as ``[HKEY_LOCAL_MACHINE\\software\\...]``;
* values indented (4 spaces): ``"Name"=...`` or ``@=...`` for the default value;
* ``DWORD:0000000a``, ``QWORD:3636e70`` (hex, no fixed width), ``MULTI_SZ:"a"`` (several
  strings as ``"a","b"``), ``hex(n):aa,bb`` (``hex(3)`` binary, ``hex(2)`` UTF-16LE
  expand-sz, …), and plain ``"text"`` for REG_SZ;
* string data is written **raw**: inner quotes and backslashes are not escaped, so the data
  runs from the first ``"`` after ``=`` to the last ``"`` of the value — JSON such as
  ``AutopilotSettings\\*Category.Status`` comes back exactly as stored; a string holding line
  breaks simply continues on the following lines (XML policies do this) and ends at a line
  ending in ``"`` that is followed by a key, a value, a blank line or the end of the file;
* characters the tool mangled (``?``, control characters) are kept as they are; bytes that
  are not UTF-8 become U+FFFD.

Damage is data: a line that cannot be read becomes a :class:`~core.problems.Problem`
(``file``, ``line N``, why). A value whose data cannot be read (``DWORD:zz``, bad hex, an
unknown type tag) is **kept** as ``REG_SZ`` holding the raw text after ``=``, so the
drill-down still shows it, *and* reported as a problem.

Parsing is line-oriented with ``str`` methods and dict look-ups only: the largest real dump
(4.5 MB, 49k lines, 35k values) loads in about 0.045 s of CPU. Every line is checked while
parsing, so every problem is known when :func:`parse_dump` returns; only the making of the
values of the three commonest forms waits until something reads their key.
"""

from __future__ import annotations

import logging

from core.perf import gc_paused
from core.registry import decode
from core.registry.decode import (
    MAX_VALUE_CHARS,
    Source,
    TextViewBuilder,
    decode_hex,
    decode_text,
    hex_bytes,
    hex_type_code,
    read_source,
    split_lines,
)
from core.registry.memory import MemoryView
from core.registry.model import RegValue, ValueData, type_name

log = logging.getLogger(__name__)

DEFAULT_NAME = "MdmDiagReport_RegistryDump.reg"


def parse_dump(source: Source, name: str | None = None) -> MemoryView:
    """Parse a dump given as bytes or a path. ``name`` (default: the file name) starts every
    origin, e.g. ``MdmDiagReport_RegistryDump.reg:37010``."""
    lines, sep, file_name = _read_lines(source, name or DEFAULT_NAME)
    with gc_paused():
        return _DumpParser(lines, sep, name or file_name).run()


def parse_dump_text(text: str, name: str = DEFAULT_NAME) -> MemoryView:
    """Parse the decoded text of a dump (see the module docstring for the dialect)."""
    with gc_paused():
        return _DumpParser(*split_lines(text), name).run()


def _read_lines(source: Source, default_name: str) -> tuple[list[str], str, str]:
    """Lines and line separator of ``source``, and its file name. Each form of the text is
    dropped once the next is made, so at most two are alive at a time (the 4.5 MB dump is 9 MB
    once decoded, two bytes a character, and its lines are 7 MB more)."""
    data, file_name = read_source(source, default_name)
    text = decode_text(data)
    del data
    lines, sep = split_lines(text)
    return lines, sep, file_name


def _is_value_start(line: str) -> bool:
    if line.startswith('    "'):  # the usual indent: no copy of the (maybe long) line
        return line.find('"=', 5) > 0
    stripped = line.lstrip(" \t")
    if stripped.startswith('"'):
        return stripped.find('"=', 1) > 0
    return stripped.startswith("@=")


def _is_boundary(line: str) -> bool:
    """Does ``line`` end a multi-line string (blank, key header or next value)?"""
    return not line or line.startswith("[HKEY_") or _is_value_start(line)


def _multi_sz(payload: str) -> ValueData:
    # The real dumps only hold one-string values (``"a"``); several are written ``"a","b"``
    # like the other type-tagged .reg dialects. Data between the outer quotes is raw.
    if len(payload) < 2 or payload[0] != '"' or payload[-1] != '"':
        return None
    inner = payload[1:-1]
    return inner.split('","') if inner else []


class _OneLineValue:
    """Makes, when its key is first read, a value the parse noted by its line: a closed
    one-line string, a valid ``DWORD:`` or a valid ``hex(3):`` behind a four-space indent
    (checked while parsing, so nothing here can fail). Most of a dump's values are never
    read; they cost a number."""

    __slots__ = ("lines", "name")

    def __init__(self, lines: list[str], name: str) -> None:
        self.lines = lines
        self.name = name

    def __call__(self, index: int) -> RegValue:
        line = self.lines[index]
        end = line.find('"=', 5)
        origin = f"{self.name}:{index + 1}"
        if line.startswith('"', end + 2):
            return RegValue(line[5:end], "REG_SZ", line[end + 3 : -1], origin)
        if line.startswith("DWORD:", end + 2):
            return RegValue(line[5:end], "REG_DWORD", int(line[end + 8 :], 16), origin)
        return RegValue(line[5:end], "REG_BINARY", hex_bytes(line[end + 9 :]), origin)


class _DumpParser(TextViewBuilder):
    __slots__ = ("lines", "one_line", "sep")

    def __init__(self, lines: list[str], sep: str, name: str) -> None:
        super().__init__("dump", name)
        self.lines = lines
        self.sep = sep
        self.one_line = _OneLineValue(lines, name)

    def run(self) -> MemoryView:
        # One pass over the lines with the common forms read inline — a header, a value line
        # indented four spaces holding a valid ``DWORD:``, a closed one-line string or a valid
        # ``hex(3):`` — and everything else through the general methods below, which decide
        # exactly as before. Per-line method calls and per-value objects were most of the
        # parse time.
        lines = self.lines
        count = len(lines)
        line_cap = decode.MAX_LINE_CHARS  # read per parse: tests lower the cap
        # The current key's values, once it has one (MemoryKey.pending: the common forms go
        # in as their line number and become RegValues only when something reads the key).
        pending: list[int | RegValue] | None = None
        for index, line in enumerate(lines):
            if not line:
                continue  # a blank line, or one of a multi-line string already read
            if len(line) > line_cap:
                self.line_too_long(index, line)
                continue
            if line.startswith('    "'):
                end = line.find('"=', 5)
                if end > 0:
                    # The data starts at end + 2; tested in place, not sliced off first. A
                    # closed string followed by a boundary is one line; the rest (a string
                    # going on over lines, damage) is for string() and _typed() to decide.
                    common: bool
                    if line.startswith("DWORD:", end + 2):  # the commonest form first
                        try:
                            common = 0 <= int(line[end + 8 :], 16) <= 0xFFFFFFFF
                        except ValueError:
                            common = False
                    elif line.startswith('"', end + 2):
                        # _is_boundary(next line), with its usual case (another value line
                        # with the usual indent) tested here: a call per string cost 4 ms.
                        following = lines[index + 1] if index + 1 < count else ""
                        common = (
                            len(line) >= end + 4
                            and line.endswith('"')
                            and (
                                not following
                                or (
                                    following.find('"=', 5) > 0
                                    if following.startswith('    "')
                                    else _is_boundary(following)
                                )
                            )
                        )
                    elif line.startswith("hex(3):", end + 2):
                        # Binary (most of the other values, and most of the dump's text):
                        # checked now, decoded again only if its key is read.
                        try:
                            hex_bytes(line[end + 9 :])
                            common = True
                        except ValueError:
                            common = False
                    else:
                        common = False
                    if not common:
                        self.value(index, line[5:end], line[end + 2 :])
                    elif pending is not None:
                        pending.append(index)  # _OneLineValue reads it
                    else:
                        pending = self.current_values(index)
                        if pending is not None:
                            pending.append(index)
                    continue
            if line.startswith("[HKEY_") and line.endswith("]"):
                self.open_key(index, line[1:-1])  # the usual header, as header() reads it
                # Nothing reads a line again once the loop is past it, except the deferred
                # values; a header's text (a sixth of the lines) can go now.
                lines[index] = ""
                pending = None
                continue
            if line.startswith("["):
                self.header(index, line)
                pending = None
                continue
            stripped = line.lstrip(" \t")
            if stripped.startswith('"'):
                end = stripped.find('"=', 1)
                if end < 0:
                    self.problem(index, "value line without '\"=' after the name")
                    continue
                self.value(index, stripped[1:end], stripped[end + 2 :])
            elif stripped.startswith("@="):
                self.value(index, "", stripped[2:])
            elif stripped.startswith(";") or not stripped:
                pass  # a comment or a line of blanks: nothing to read
            else:
                self.problem(index, "not a key header or a value")
        if self.problem_count:
            log.info("%s: %d problem(s) while reading the dump", self.name, self.problem_count)
        return self.view

    def header(self, index: int, line: str) -> None:
        if not line.startswith("[HKEY_") and not line.upper().startswith("[HKEY_"):
            self.problem(index, "key header does not start with a root key (HKEY_...)")
            self.key = None
            return
        if not line.endswith("]"):
            self.problem(index, "key header has no closing ']'; read up to the line end")
        self.open_key(index, line[1:-1] if line.endswith("]") else line[1:])

    def current_values(self, index: int) -> list[int | RegValue] | None:
        """Where the value read at line ``index`` goes: the current key's pending values, or
        ``None`` (and a problem) outside any key."""
        if self.key is None:
            self.problem(index, "value outside any key")
            return None
        return self.key.pending(self.one_line)

    def value(self, index: int, name: str, rest: str) -> None:
        """Read the value starting at line ``index``. A string over several lines blanks the
        lines after its first: the loop passes them like blank lines (one test fewer on every
        line than tracking where to resume), and their text, copied into the value, is not
        kept twice."""
        type_: str
        data: ValueData
        if rest.startswith('"'):
            data, next_index = self.string(index, rest)
            if next_index > index + 1:
                self.lines[index + 1 : next_index] = [""] * (next_index - index - 1)
            type_ = "REG_SZ"
        else:
            type_, data, complaint = _typed(rest)
            if complaint:
                self.problem(index, f"value {name or '@'!r}: {complaint}; kept as text")
                type_, data = "REG_SZ", rest
        pending = self.current_values(index)
        if pending is not None:
            pending.append(RegValue(name, type_, data, f"{self.name}:{index + 1}"))

    def string(self, index: int, rest: str) -> tuple[str, int]:
        """REG_SZ data: up to the last quote, possibly over several lines."""
        lines = self.lines
        count = len(lines)
        closed = len(rest) >= 2 and rest.endswith('"')
        if closed and (index + 1 >= count or _is_boundary(lines[index + 1])):
            return rest[1:-1], index + 1
        # The string goes on: find the line that closes it (ends with '"' and is followed
        # by a boundary). A key or value start first means it never closes.
        probe = index + 1
        size = len(rest)
        while probe < count:
            line = lines[probe]
            if line.startswith("[HKEY_") or _is_value_start(line):
                break
            size += len(line) + 1
            if size > MAX_VALUE_CHARS:
                self.problem(
                    index,
                    f"string runs over {MAX_VALUE_CHARS:,} characters (the cap); read up to the "
                    "line end",
                )
                return rest[1:-1] if closed else rest[1:], index + 1
            if line.endswith('"') and (probe + 1 >= count or _is_boundary(lines[probe + 1])):
                text = self.sep.join([rest[1:], *lines[index + 1 : probe + 1]])
                return text[:-1], probe + 1
            probe += 1
        if closed:
            return rest[1:-1], index + 1  # the lines after it get their own problems
        last = rest.rfind('"', 1)
        if last > 0:
            self.problem(index, "text after the closing quote ignored")
            return rest[1:last], index + 1
        self.problem(index, "string has no closing quote; read up to the line end")
        return rest[1:], index + 1


def _typed(rest: str) -> tuple[str, ValueData, str]:
    """(type, data, complaint) of a type-tagged value (everything but plain strings)."""
    tag, colon, payload = rest.partition(":")
    if not colon:
        return "REG_SZ", None, "data is neither a quoted string nor TYPE:data"
    upper = tag.upper()
    if upper == "DWORD":
        number = _hex_int(payload, 0xFFFFFFFF)
        if number is None:
            return "REG_DWORD", None, "DWORD data is not a 32-bit hex number"
        return "REG_DWORD", number, ""
    if upper == "QWORD":
        number = _hex_int(payload, 0xFFFFFFFFFFFFFFFF)
        if number is None:
            return "REG_QWORD", None, "QWORD data is not a 64-bit hex number"
        return "REG_QWORD", number, ""
    if upper == "MULTI_SZ":
        items = _multi_sz(payload) if payload else []
        if items is None:
            return "REG_MULTI_SZ", None, "MULTI_SZ data is not a list of quoted strings"
        return "REG_MULTI_SZ", items, ""
    code = hex_type_code(tag)
    if code is None:
        return "REG_SZ", None, f"unknown type tag {tag[:20]!r}"
    data, complaint = decode_hex(code, payload)
    return type_name(code), data, complaint


def _hex_int(text: str, limit: int) -> int | None:
    try:
        number = int(text, 16)
    except ValueError:
        return None
    return number if 0 <= number <= limit else None

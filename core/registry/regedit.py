"""regedit ``.reg`` exports (``Windows Registry Editor Version 5.00`` and ``REGEDIT4``).

Intune "Collect diagnostics" zips carry these as ``export.reg``: UTF-16LE with a BOM, a
header line, ``[key]`` sections, ``"name"=`` / ``@=`` values with **escaped** strings
(``\\"`` and ``\\\\``), ``dword:``, ``hex:`` and ``hex(n):`` byte lists that continue over
lines ending in ``\\``, and ``;`` comments. ``REGEDIT4`` files store ``hex(2)``/``hex(7)``
strings in the ANSI code page instead of UTF-16LE.

A ``[-key]`` or ``"name"=-`` deletion means nothing to a read-only view: it is skipped and
noted as a problem so nobody wonders where the key went. Damage is data, as in
:mod:`core.registry.dump`: an unreadable line is a problem; a value with unreadable data is
kept as ``REG_SZ`` holding the raw text after ``=`` and reported.
"""

from __future__ import annotations

import logging

from core.perf import gc_paused
from core.registry.decode import (
    MAX_VALUE_CHARS,
    Source,
    TextViewBuilder,
    decode_hex,
    decode_text,
    hex_type_code,
    read_source,
    split_lines,
)
from core.registry.memory import MemoryView
from core.registry.model import RegValue, ValueData, type_name

log = logging.getLogger(__name__)

HEADER_5 = "Windows Registry Editor Version 5.00"
HEADER_4 = "REGEDIT4"


def parse_regedit(source: Source, name: str | None = None) -> MemoryView:
    """Parse a regedit export given as bytes or a path (origins start with ``name``)."""
    data, file_name = read_source(source, name or "export.reg")
    return parse_regedit_text(decode_text(data, ansi_fallback=True), name or file_name)


def parse_regedit_text(text: str, name: str = "export.reg") -> MemoryView:
    """Parse the decoded text of a regedit export."""
    with gc_paused():
        return _RegeditParser(text, name).run()


def _scan_quoted(text: str, start: int) -> int:
    """Index of the quote closing the string opened at ``text[start]``, or -1."""
    index = start + 1
    length = len(text)
    while index < length:
        char = text[index]
        if char == "\\":
            index += 2
        elif char == '"':
            return index
        else:
            index += 1
    return -1


def _unescape(text: str) -> str:
    # regedit escapes exactly two characters; any other backslash is literal.
    if "\\" not in text:
        return text
    out: list[str] = []
    index = 0
    length = len(text)
    while index < length:
        char = text[index]
        if char == "\\" and index + 1 < length and text[index + 1] in '\\"':
            out.append(text[index + 1])
            index += 2
        else:
            out.append(char)
            index += 1
    return "".join(out)


class _RegeditParser(TextViewBuilder):
    __slots__ = ("ansi", "deleted", "lines")

    def __init__(self, text: str, name: str) -> None:
        super().__init__("regedit", name)
        self.lines, _ = split_lines(text)
        self.ansi = False  # REGEDIT4: hex(2)/hex(7) strings are ANSI bytes
        self.deleted = False  # inside a [-key] section: its lines are skipped

    def run(self) -> MemoryView:
        lines = self.lines
        count = len(lines)
        index = self.header()
        while index < count:
            line = lines[index].strip()
            if not line or line.startswith(";") or self.line_too_long(index, line):
                index += 1
            elif line.startswith("["):
                self.section(index, line)
                index += 1
            elif self.deleted:
                index += 1
            elif line.startswith(('"', "@=")):
                index = self.value(index, line)
            else:
                self.problem(index, "not a key header or a value")
                index += 1
        if self.problem_count:
            log.info("%s: %d problem(s) while reading the export", self.name, self.problem_count)
        return self.view

    def header(self) -> int:
        """Check the header line; return the index of the first line after it."""
        for index, line in enumerate(self.lines):
            stripped = line.strip()
            if not stripped:
                continue
            if stripped == HEADER_5:
                return index + 1
            if stripped == HEADER_4:
                self.ansi = True
                return index + 1
            self.problem(index, "no 'Windows Registry Editor' / 'REGEDIT4' header; read anyway")
            return index
        return len(self.lines)

    def section(self, index: int, line: str) -> None:
        close = line.rfind("]")
        path = line[1:close] if close > 0 else line[1:]
        if close < 0:
            self.problem(index, "key header has no closing ']'; read up to the line end")
        if path.startswith("-"):
            self.problem(index, "key deletion ignored (a read-only view deletes nothing)")
            self.deleted = True
            self.key = None
            return
        self.deleted = False
        if not path.upper().startswith("HKEY_"):
            self.problem(index, "key header does not start with a root key (HKEY_...)")
            self.key = None
            return
        self.open_key(index, path)

    def value(self, index: int, line: str) -> int:
        """Read the value starting at line ``index``; return the index of the next line."""
        next_index = index + 1
        if line.startswith("@="):
            name, rest = "", line[2:]
        else:
            close = _scan_quoted(line, 0)
            if close < 0 or line[close + 1 : close + 2] != "=":
                self.problem(index, "value name is not a quoted string followed by '='")
                return next_index
            name, rest = _unescape(line[1:close]), line[close + 2 :].strip()
        if not rest.startswith('"') and rest.endswith("\\"):
            rest, next_index = self.continued(index, rest)
            if not rest:
                return next_index
        if rest == "-":
            self.problem(index, f"deletion of value {name or '@'!r} ignored")
            return next_index
        type_, data, complaint = self.typed(rest)
        if complaint:
            self.problem(index, f"value {name or '@'!r}: {complaint}; kept as text")
            type_, data = "REG_SZ", rest
        self.add_value(index, RegValue(name, type_, data, f"{self.name}:{index + 1}"))
        return next_index

    def continued(self, index: int, rest: str) -> tuple[str, int]:
        """A byte list continued over lines ending in ``\\`` (joined once: a string grown
        line by line would cost quadratic time). ``""`` when it is over the value cap."""
        lines = self.lines
        count = len(lines)
        parts = [rest[:-1]]
        size = len(rest)
        next_index = index + 1
        while next_index < count:
            part = lines[next_index].strip()
            next_index += 1
            size += len(part)
            if size > MAX_VALUE_CHARS:
                while next_index < count and lines[next_index - 1].strip().endswith("\\"):
                    next_index += 1  # skip the rest of this value's lines
                self.problem(
                    index, f"value data runs over {MAX_VALUE_CHARS:,} characters (the cap); skipped"
                )
                return "", next_index
            if not part.endswith("\\"):
                parts.append(part)
                break
            parts.append(part[:-1])
        return "".join(parts), next_index

    def typed(self, rest: str) -> tuple[str, ValueData, str]:
        """(type, data, complaint) of the text after ``=``."""
        if rest.startswith('"'):
            close = _scan_quoted(rest, 0)
            if close < 0:
                return "REG_SZ", None, "string has no closing quote"
            if rest[close + 1 :].strip():
                return "REG_SZ", None, "text after the closing quote"
            return "REG_SZ", _unescape(rest[1:close]), ""
        tag, colon, payload = rest.partition(":")
        if not colon:
            return "REG_SZ", None, "data is neither a quoted string nor type:data"
        if tag.lower() == "dword":
            try:
                number = int(payload, 16)
            except ValueError:
                number = -1
            if not 0 <= number <= 0xFFFFFFFF:
                return "REG_DWORD", None, "dword data is not a 32-bit hex number"
            return "REG_DWORD", number, ""
        code = hex_type_code(tag)
        if code is None:
            return "REG_SZ", None, f"unknown type {tag[:20]!r}"
        data, complaint = decode_hex(code, payload, "cp1252" if self.ansi else "utf-16-le")
        return type_name(code), data, complaint

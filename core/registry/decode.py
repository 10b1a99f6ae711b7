"""Raw value bytes → typed data, shared by every backend that sees bytes.

The dump dialect and regedit exports write non-string types as ``hex(n):`` byte lists, and a
hive stores raw cell data; all three turn into the same :data:`ValueData` here, so a
``REG_EXPAND_SZ`` reads as ``str`` and a ``REG_QWORD`` as ``int`` whatever the source.
"""

from __future__ import annotations

import codecs
import os
from pathlib import Path

from core.errors import LimitExceeded, UnsupportedInput
from core.problems import Problem
from core.registry.memory import MemoryKey, MemoryView
from core.registry.model import RegValue, ValueData, normalize_path, type_name

REG_NONE = 0
REG_SZ = 1
REG_EXPAND_SZ = 2
REG_BINARY = 3
REG_DWORD = 4
REG_DWORD_BIG_ENDIAN = 5
REG_LINK = 6
REG_MULTI_SZ = 7
REG_QWORD = 11

#: ``REG_*`` name → numeric code, for the types the builders and writers know by name.
TYPE_CODES: dict[str, int] = {type_name(code): code for code in range(12)}


def _utf16(raw: bytes, encoding: str) -> str:
    if encoding == "utf-16-le" and len(raw) % 2:
        raw = raw[:-1]  # a stray odd byte is padding, not a character
    return raw.decode(encoding, errors="replace")


def decode_string(raw: bytes, encoding: str = "utf-16-le") -> str:
    """A REG_SZ / REG_EXPAND_SZ payload: text up to the first NUL (Windows ignores the rest)."""
    text = _utf16(raw, encoding)
    end = text.find("\x00")
    return text if end < 0 else text[:end]


def decode_multi(raw: bytes, encoding: str = "utf-16-le") -> list[str]:
    """A REG_MULTI_SZ payload: NUL-separated strings; the terminating empty ones are dropped."""
    items = _utf16(raw, encoding).split("\x00")
    while items and items[-1] == "":
        items.pop()
    return items


def decode_value(code: int, raw: bytes, encoding: str = "utf-16-le") -> tuple[ValueData, str]:
    """Typed data for ``raw`` stored as type ``code``, and a complaint (``""`` if none).

    ``encoding`` is the string encoding inside the bytes: UTF-16LE everywhere except REGEDIT4
    exports, which store ``hex(2)``/``hex(7)`` strings in the ANSI code page. Integers that are
    too short keep their bytes and say so, rather than inventing a number.
    """
    if code in (REG_SZ, REG_EXPAND_SZ, REG_LINK):
        return decode_string(raw, encoding), ""
    if code == REG_MULTI_SZ:
        return decode_multi(raw, encoding), ""
    if code in (REG_DWORD, REG_DWORD_BIG_ENDIAN):
        if len(raw) < 4:
            return raw, f"{type_name(code)} needs 4 bytes, got {len(raw)}"
        if code == REG_DWORD:
            return int.from_bytes(raw[:4], "little"), ""
        return int.from_bytes(raw[:4], "big"), ""
    if code == REG_QWORD:
        if len(raw) < 8:
            return raw, f"REG_QWORD needs 8 bytes, got {len(raw)}"
        return int.from_bytes(raw[:8], "little"), ""
    return raw, ""


# -- text input shared by the two .reg parsers ----------------------------------------------

#: A text export larger than this is not a registry export anyone made by hand or tool; the
#: cap keeps a hostile file from exhausting memory (the largest real dump is 4.5 MB; parsing
#: costs several times the file size, so 512 MB ran out of a 1 GiB budget under fuzzing).
MAX_TEXT_BYTES = 64 * 1024 * 1024

Source = bytes | str | os.PathLike[str]


def read_source(source: Source, default_name: str) -> tuple[bytes, str]:
    """Bytes of ``source`` (raw bytes, or a path) and the file name used in origins."""
    if isinstance(source, bytes):
        if len(source) > MAX_TEXT_BYTES:
            raise LimitExceeded(f"{default_name}: over the cap of {MAX_TEXT_BYTES} bytes")
        return source, default_name
    path = Path(source)
    try:
        size = path.stat().st_size
        if size > MAX_TEXT_BYTES:
            raise LimitExceeded(f"{path.name}: {size} bytes is over the cap of {MAX_TEXT_BYTES}")
        return path.read_bytes(), path.name
    except OSError as exc:
        raise UnsupportedInput(f"cannot read {path}: {exc.strerror or exc}") from exc


def decode_text(data: bytes, ansi_fallback: bool = False) -> str:
    """Text of a .reg file: UTF-16 with a BOM, UTF-8 with or without one.

    Undecodable bytes become U+FFFD rather than an error: real dumps hold mangled binary
    written as text, and everything around it must still load. With ``ansi_fallback``
    (REGEDIT4 files are ANSI), text that is not valid UTF-8 is read as Windows-1252 instead.
    """
    # Decoded through a memoryview: slicing the BOM off the bytes would copy them all (a
    # 4.5 MB dump: 3 ms, most of it faulting in the copy's fresh pages).
    if data.startswith(codecs.BOM_UTF16_LE):
        return str(memoryview(data)[2:], "utf-16-le", "replace")
    if data.startswith(codecs.BOM_UTF16_BE):
        return str(memoryview(data)[2:], "utf-16-be", "replace")
    start = 0
    if data.startswith(codecs.BOM_UTF8):
        start = 3
    elif len(data) >= 4 and data[1] == 0 and data[3] == 0 and data[0] != 0:
        # UTF-16LE without a BOM: every other byte of ASCII text is NUL.
        return data.decode("utf-16-le", errors="replace")
    body = memoryview(data)[start:]
    if ansi_fallback:
        try:
            return str(body, "utf-8")
        except UnicodeDecodeError:
            return str(body, "cp1252", "replace")
    return str(body, "utf-8", "replace")


def split_lines(text: str) -> tuple[list[str], str]:
    """Lines without their terminators, and the terminator used (to rejoin multi-line data).

    ``str.splitlines`` is not used on purpose: it also splits at \\x1c, \\x85, U+2028 …,
    which occur inside mangled value data.
    """
    lines = text.split("\r\n")
    # Every LF is part of a CRLF: one count and the split (the usual case) instead of two
    # counts and the split.
    if text.count("\n") == len(lines) - 1:
        return lines, "\r\n"
    return [line[:-1] if line.endswith("\r") else line for line in text.split("\n")], "\n"


def hex_type_code(tag: str) -> int | None:
    """``hex`` → REG_BINARY, ``hex(2)`` → 2, ``hex(b)`` → 11 (case-insensitive); else ``None``."""
    lowered = tag.lower()
    if lowered == "hex":
        return REG_BINARY
    if lowered.startswith("hex(") and lowered.endswith(")"):
        try:
            return int(lowered[4:-1], 16)
        except ValueError:
            return None
    return None


def hex_bytes(payload: str) -> bytes:
    """The bytes of a ``hex(n):`` byte list (``"25,00,50,00"``); ``ValueError`` if it is not one."""
    return bytes.fromhex(payload.replace(",", " "))


def decode_hex(code: int, payload: str, encoding: str = "utf-16-le") -> tuple[ValueData, str]:
    """Typed data of a ``hex(n):`` byte list (``"25,00,50,00"``), and a complaint or ``""``."""
    try:
        raw = hex_bytes(payload)
    except ValueError:
        return None, "hex data is not a list of two-digit hex bytes"
    return decode_value(code, raw, encoding)


# -- key paths -------------------------------------------------------------------------------


def split_key_path(path: str) -> list[str]:
    """Path parts, root folded to its short form (``HKEY_LOCAL_MACHINE`` → ``HKLM``).

    Only backslashes separate: registry key names may hold ``/`` (policy keys such as
    ``Device/Vendor/MSFT/...`` in the real dumps), so a slash is part of a name here.
    """
    parts = [part for part in path.split("\\") if part]
    if parts:
        parts[0] = normalize_path(parts[0]) or parts[0]
    return parts


def ensure_key(view: MemoryView, path: str, origin: str = "") -> MemoryKey:
    """Like :meth:`MemoryView.ensure_key`, but a ``/`` inside a key name stays in the name."""
    parts = split_key_path(path)
    node = view.ensure_key(parts[0] if parts else "")
    for part in parts[1:]:
        node = node.child(part)
    if origin:
        node.set_origin(origin)
    return node


# Caps that keep a hostile text export from exhausting memory or time; each one hit is a
# Problem naming the line. The first two are the registry's own limits.
#: Levels of one key path (the registry refuses to nest keys deeper than 512).
MAX_KEY_DEPTH = 512
#: Characters in one key name (the registry's limit is 255).
MAX_KEY_NAME = 255
#: Characters of all key paths together. Every key stores its full path, so a few lines of
#: distinct, deep paths would otherwise cost depth x length each (a "key-depth bomb"). The
#: largest real dump holds about 3 million.
MAX_KEY_PATH_CHARS = 64 * 1024 * 1024
#: Characters in one line (the longest line of the real dumps is 120,303: a hex blob).
MAX_LINE_CHARS = 4 * 1024 * 1024
#: Characters of one value's text, over all its lines (a hex list of ~5 MB of data).
MAX_VALUE_CHARS = 16 * 1024 * 1024


class TextViewBuilder:
    """What both .reg text parsers share: a view under construction, the current key, and
    problems stamped ``file`` / ``line N``."""

    __slots__ = ("by_path", "key", "name", "path_chars", "problem_count", "view")

    def __init__(self, kind: str, name: str) -> None:
        self.name = name
        self.view = MemoryView(kind=kind)
        self.key: MemoryKey | None = None
        self.by_path: dict[str, MemoryKey] = {}
        self.problem_count = 0
        self.path_chars = 0

    def line_too_long(self, index: int, line: str) -> bool:
        """Is ``line`` over :data:`MAX_LINE_CHARS`? (Then it is a Problem, to be skipped.)"""
        if len(line) <= MAX_LINE_CHARS:
            return False
        cap = f"{MAX_LINE_CHARS:,}"
        self.problem(index, f"line of {len(line):,} characters is over the cap of {cap}; skipped")
        return True

    def _long_path_refusal(self, path: str, parent: MemoryKey | None) -> str:
        """Why a path long enough to break a cap is refused, or ``""``; charges its characters
        to the running total when it is not."""
        parts = path.split("\\")
        levels = len(parts)
        if levels > MAX_KEY_DEPTH:
            return f"key path has {levels:,} levels, over the registry's cap of {MAX_KEY_DEPTH}"
        if max(map(len, parts)) > MAX_KEY_NAME:
            return (
                f"a key name in this path is over the registry's cap of {MAX_KEY_NAME} characters"
            )
        # Charge what creating the key may cost: its path, or every missing parent's.
        self.path_chars += len(path) if parent is not None else len(path) * levels
        return ""

    def _key_refused(self, index: int, why: str) -> bool:
        """Refuse the key read at ``index`` for ``why``, or for the path total if that is over
        its cap (``why`` empty); say so as a problem."""
        if not why and self.path_chars > MAX_KEY_PATH_CHARS:
            why = (
                f"the key paths add up to over {MAX_KEY_PATH_CHARS:,} characters "
                "(a key-depth bomb?)"
            )
        if why:
            self.problem(index, f"{why}; key and its values skipped")
        return bool(why)

    def problem(self, index: int, message: str) -> None:
        """Record a problem at 0-based line ``index``."""
        self.problem_count += 1
        self.view.add_problem(Problem(self.name, f"line {index + 1}", message))

    def open_key(self, index: int, path: str) -> MemoryKey | None:
        """Make ``path`` (read at line ``index``; it starts with a root key, ``HKEY_...``) the
        current key; ``None`` when a cap refuses it (then its values are skipped as "outside
        any key")."""
        by_path = self.by_path
        folded = path.casefold()
        # Headers come parent-first, so the parent is nearly always known: one dict look-up
        # instead of a walk from the root (that walk was most of the parse time).
        cut = path.rfind("\\")
        parent = None
        if 0 <= cut < len(path) - 1:  # a parent, and a name after the last backslash
            # Folding ASCII keeps every character in place, so the parent's folded path is a
            # prefix of this one's: one fold per header instead of two.
            parent = by_path.get(folded[:cut] if path.isascii() else path[:cut].casefold())
        if folded not in by_path:
            size = len(path)
            if size <= MAX_KEY_NAME and size < MAX_KEY_DEPTH:
                # Too short to hold a name or a number of levels over the caps (every real
                # path): only the running total of path characters can refuse it.
                self.path_chars += size if parent is not None else size * (path.count("\\") + 1)
                refused = self.path_chars > MAX_KEY_PATH_CHARS and self._key_refused(index, "")
            else:
                refused = self._key_refused(index, self._long_path_refusal(path, parent))
            if refused:
                self.key = None
                return None
        origin = f"{self.name}:{index + 1}"
        if parent is None:
            key = ensure_key(self.view, path, origin)
        else:
            key = parent.opened(path[cut + 1 :], origin)
        by_path[folded] = key
        self.key = key
        return key

    def add_value(self, index: int, value: RegValue) -> None:
        if self.key is None:
            self.problem(index, "value outside any key")
        else:
            self.key.add_value(value)



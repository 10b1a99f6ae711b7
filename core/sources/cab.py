"""Microsoft cabinet (.cab) reader: CFHEADER/CFFOLDER/CFFILE/CFDATA, stored, MSZIP and LZX.

Pure Python, so a cab opens anywhere with nothing installed; :func:`extract_cab` may hand the
work to a native extractor first (see :mod:`core.sources.native`) and checks what it wrote.

Everything read from the file is untrusted: names go through :mod:`core.sources.safety`,
declared sizes are checked against :class:`~core.sources.safety.Limits` *before* anything is
decompressed, and every decoder failure (``IndexError``, ``struct.error``, ``zlib.error`` ...)
becomes one :class:`~core.errors.CorruptInput` line naming the cab, the member and the offset.
"""

from __future__ import annotations

import contextlib
import logging
import os
import struct
import zlib
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import BinaryIO, Self

from core.config import CAB_BACKENDS, Settings, resolve
from core.errors import CorruptInput, UnsupportedInput
from core.problems import Problem, printable
from core.progress import CancelToken, ProgressFn, no_progress
from core.sources import lzx, native
from core.sources.safety import DEFAULT_LIMITS, Limits, safe_destination

log = logging.getLogger(__name__)

STAGE = "Extracting"

_HEADER = struct.Struct("<4sIIIIIBBHHHHH")
_FOLDER = struct.Struct("<IHH")
_FILE = struct.Struct("<IIHHHH")
_DATA = struct.Struct("<IHH")

_FLAG_PREV = 0x0001
_FLAG_NEXT = 0x0002
_FLAG_RESERVE = 0x0004
_ATTR_NAME_IS_UTF = 0x80
_FOLDER_CONTINUED = 0xFFFD  # iFolder values >= this mean "spans another cabinet"

COMP_NONE = 0
COMP_MSZIP = 1
COMP_QUANTUM = 2
COMP_LZX = 3
_COMP_NAMES = {COMP_NONE: "stored", COMP_MSZIP: "MSZIP", COMP_QUANTUM: "Quantum", COMP_LZX: "LZX"}
_MAX_BLOCK_OUTPUT = 32768
_MSZIP_HISTORY = 32768
_MAX_NAME = 1024  # longer names are not real (CAB_NAMEMAX in libmspack)


@dataclass(frozen=True, slots=True)
class CabMember:
    """One CFFILE entry. ``name`` is as stored (backslashes); ``offset`` is in its folder."""

    name: str
    size: int
    folder: int
    offset: int
    modified: datetime | None
    attributes: int


@dataclass(frozen=True, slots=True)
class CabFolder:
    """One CFFOLDER entry."""

    index: int
    data_offset: int  # file offset of its first CFDATA block
    block_count: int
    compression: int  # low 4 bits of typeCompress
    window_bits: int  # LZX only (high byte of typeCompress), else 0

    @property
    def method(self) -> str:
        return _COMP_NAMES.get(self.compression, f"type {self.compression}")


def checksum(data: bytes, seed: int = 0) -> int:
    """The cabinet checksum (an XOR of little-endian 32-bit words, libmspack's ``cabd_checksum``).

    Folded with big-integer XORs instead of a per-word loop: XOR of all words is preserved when
    the upper half of the word sequence is XORed onto the lower half.
    """
    whole = len(data) & ~3
    value = int.from_bytes(data[:whole], "little")
    nbits = whole * 8
    while nbits > 32:
        half = ((nbits // 32 + 1) // 2) * 32
        value = (value >> half) ^ (value & ((1 << half) - 1))
        nbits = half
    tail = 0
    for byte in data[whole:]:  # at most 3 bytes, the first one highest
        tail = (tail << 8) | byte
    return seed ^ value ^ tail


def _dos_datetime(date: int, time: int) -> datetime | None:
    try:
        return datetime(
            1980 + (date >> 9),
            (date >> 5) & 0x0F,
            date & 0x1F,
            time >> 11,
            (time >> 5) & 0x3F,
            (time & 0x1F) * 2,
        )
    except ValueError:
        return None


class _FolderError(Exception):
    """A folder's data is bad at folder output ``offset`` (converted to CorruptInput)."""

    def __init__(self, offset: int, why: str) -> None:
        super().__init__(why)
        self.offset = offset
        self.why = why


class CabFile:
    """An open cabinet: header, folders and members parsed; data read on extraction.

    Use as a context manager (or call :meth:`close`). Parsing checks the member count, every
    member's declared size, the total and the ratio against ``limits`` and every name against
    :func:`~core.sources.safety.safe_member_parts`, so a hostile cab fails here, before any
    decompression or write.
    """

    def __init__(self, path: Path, limits: Limits = DEFAULT_LIMITS) -> None:
        self.path = Path(path)
        self.label = self.path.name
        self.limits = limits
        try:
            self._fh: BinaryIO = self.path.open("rb")
            self.file_size = os.fstat(self._fh.fileno()).st_size
        except OSError as exc:
            raise UnsupportedInput(f"{self.label}: cannot open: {exc.strerror}") from None
        try:
            self._parse()
        except BaseException:
            self._fh.close()
            raise

    @classmethod
    def open(cls, path: Path, limits: Limits = DEFAULT_LIMITS) -> Self:
        return cls(path, limits)

    def close(self) -> None:
        self._fh.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- parsing -------------------------------------------------------------------------

    def _read_at(self, offset: int, size: int, what: str) -> bytes:
        if offset < 0 or offset + size > self.file_size:
            raise CorruptInput(
                f"{self.label}: {what} at offset {offset:#x} runs past the end of the file "
                f"({self.file_size:,} bytes; truncated cab?)"
            )
        self._fh.seek(offset)
        data = self._fh.read(size)
        if len(data) != size:
            raise CorruptInput(f"{self.label}: {what} at offset {offset:#x} cannot be read")
        return data

    def _parse(self) -> None:
        label = self.label
        self._fh.seek(0)
        if self._fh.read(4) != b"MSCF":
            raise UnsupportedInput(f"{label}: not a cabinet file (no MSCF signature)")
        head = self._read_at(0, _HEADER.size, "CFHEADER")
        (_, _, cab_size, _, files_at, _, minor, major, n_folders, n_files, flags, _, _) = (
            _HEADER.unpack(head)
        )
        if (major, minor) != (1, 3):
            log.info("%s: cabinet version %d.%d (expected 1.3)", label, major, minor)
        if cab_size > self.file_size:
            # info, not warning: a cut cab fails (or not) on its own with a one-line message,
            # and the CLI promises exactly that one line on stderr.
            log.info("%s: header says %d bytes, file has %d", label, cab_size, self.file_size)
        self.declared_size = cab_size
        pos = _HEADER.size
        header_reserve = folder_reserve = 0
        self.data_reserve = 0
        if flags & _FLAG_RESERVE:
            header_reserve, folder_reserve, self.data_reserve = struct.unpack(
                "<HBB", self._read_at(pos, 4, "CFHEADER reserve sizes")
            )
            pos += 4 + header_reserve
        self.prev_cabinet = self.next_cabinet = None
        if flags & _FLAG_PREV:
            self.prev_cabinet, pos = self._string(pos, "previous cabinet name")
            _, pos = self._string(pos, "previous disk name")
        if flags & _FLAG_NEXT:
            self.next_cabinet, pos = self._string(pos, "next cabinet name")
            _, pos = self._string(pos, "next disk name")

        folders: list[CabFolder] = []
        entry = _FOLDER.size + folder_reserve
        table = self._read_at(pos, entry * n_folders, "CFFOLDER table")
        for i in range(n_folders):
            data_at, blocks, ctype = _FOLDER.unpack_from(table, i * entry)
            comp = ctype & 0x0F
            bits = (ctype >> 8) & 0x1F if comp == COMP_LZX else 0
            folders.append(CabFolder(i, data_at, blocks, comp, bits))
        self.folders = folders

        members: list[CabMember] = []
        pos = files_at
        for i in range(n_files):
            raw = self._read_at(pos, _FILE.size, f"CFFILE entry {i}")
            size, offset, folder, date, time, attribs = _FILE.unpack(raw)
            raw_name, pos = self._raw_string(pos + _FILE.size, f"name of CFFILE entry {i}")
            encoding = "utf-8" if attribs & _ATTR_NAME_IS_UTF else "latin-1"
            name = raw_name.decode(encoding, errors="replace")
            if folder >= _FOLDER_CONTINUED:
                raise UnsupportedInput(
                    f"{label}: member {name!r} spans several cabinets (multi-cab sets are "
                    "not supported)"
                )
            if folder >= n_folders:
                raise CorruptInput(
                    f"{label}: member {name!r} names folder {folder}, the cab has {n_folders}"
                )
            members.append(
                CabMember(name, size, folder, offset, _dos_datetime(date, time), attribs)
            )
        self.members = members
        self.total_size = sum(m.size for m in members)
        self.check_limits(self.limits)
        for folder_info in folders:
            if folder_info.compression == COMP_QUANTUM or folder_info.compression > COMP_LZX:
                raise UnsupportedInput(
                    f"{label}: folder {folder_info.index} uses {folder_info.method} "
                    "compression, which is not supported"
                )
            if folder_info.compression == COMP_LZX and not (
                lzx.MIN_WINDOW_BITS <= folder_info.window_bits <= lzx.MAX_WINDOW_BITS
            ):
                raise CorruptInput(
                    f"{label}: folder {folder_info.index} declares an LZX window of "
                    f"2^{folder_info.window_bits} (valid: 2^15..2^21)"
                )

    def check_limits(self, limits: Limits) -> None:
        """Check the declared member count and sizes against ``limits`` (LimitExceeded)."""
        label = self.label
        limits.check_member_count(len(self.members), label)
        for m in self.members:
            limits.check_member(m.name, m.size, label)
        # A folder is decoded up to its furthest member end, whatever the sizes sum to.
        needed = sum(self._folder_needed(f.index) for f in self.folders)
        limits.check_total(max(self.total_size, needed), self.file_size, label)

    def _raw_string(self, pos: int, what: str) -> tuple[bytes, int]:
        avail = min(_MAX_NAME + 1, self.file_size - pos)
        chunk = self._read_at(pos, max(avail, 0), what)
        end = chunk.find(b"\x00")
        if end < 0:
            raise CorruptInput(
                f"{self.label}: {what} at offset {pos:#x} is unterminated (truncated cab?)"
            )
        return chunk[:end], pos + end + 1

    def _string(self, pos: int, what: str) -> tuple[str, int]:
        raw, pos = self._raw_string(pos, what)
        return raw.decode("latin-1"), pos

    def _folder_needed(self, index: int) -> int:
        return max((m.offset + m.size for m in self.members if m.folder == index), default=0)

    # -- data ----------------------------------------------------------------------------

    def _blocks(self, folder: CabFolder, needed: int) -> Iterator[tuple[int, int, bytes]]:
        """Yield (folder output offset, uncompressed size, payload) of CFDATA blocks.

        Stops once ``needed`` output bytes are covered; checks bounds and checksums.
        """
        pos = folder.data_offset
        out = 0
        head_size = _DATA.size + self.data_reserve
        for i in range(folder.block_count):
            if out >= needed:
                return
            where = f"CFDATA block {i} of folder {folder.index} at file offset {pos:#x}"
            if pos + head_size > self.file_size:
                raise _FolderError(out, f"{where} runs past the end of the file (truncated cab?)")
            head = self._read_at(pos, head_size, where)
            stored, size, usize = _DATA.unpack_from(head)
            if pos + head_size + size > self.file_size:
                raise _FolderError(
                    out,
                    f"{where}: its {size} bytes run past the end of the file (truncated cab?)",
                )
            payload = self._read_at(pos + head_size, size, where)
            if stored and checksum(head[4:8], checksum(payload)) != stored:
                raise _FolderError(out, f"{where} has a bad checksum")
            if usize > _MAX_BLOCK_OUTPUT or (folder.compression == COMP_NONE and usize != size):
                raise _FolderError(out, f"{where} declares {usize} bytes of output")
            yield out, usize, payload
            out += usize
            pos += head_size + size
        if out < needed:
            raise _FolderError(
                out,
                f"folder {folder.index} holds {out:,} bytes of data, its members need {needed:,}",
            )

    def _folder_output(self, folder: CabFolder, needed: int) -> Iterator[bytes]:
        """Yield the folder's uncompressed stream in order (at least ``needed`` bytes)."""
        if folder.compression == COMP_NONE:
            for _, _, payload in self._blocks(folder, needed):
                yield payload
        elif folder.compression == COMP_MSZIP:
            history = b""
            for offset, usize, payload in self._blocks(folder, needed):
                out = _mszip_block(payload, usize, history, offset)
                yield out
                history = (history + out)[-_MSZIP_HISTORY:]
        else:
            parts: list[bytes] = []
            total = 0
            damage: _FolderError | None = None
            try:
                for _, usize, payload in self._blocks(folder, needed):
                    parts.append(payload)
                    total += usize
            except _FolderError as exc:
                damage = exc  # still decode the frames before it: earlier members survive
            data = b"".join(parts)
            del parts
            try:
                yield from lzx.decompress(data, total, folder.window_bits)
            except lzx.LzxError as exc:
                raise (damage or _FolderError(exc.offset, exc.why)) from None
            if damage:
                raise damage

    def _member_at(self, folder: int, offset: int) -> CabMember | None:
        for m in self.members:
            if m.folder == folder and m.offset <= offset < m.offset + max(m.size, 1):
                return m
        return None

    def _folder_error(self, folder: CabFolder, exc: _FolderError) -> CorruptInput:
        member = self._member_at(folder.index, exc.offset)
        who = f"member {member.name!r}" if member else f"folder {folder.index}"
        why = exc.why
        if "file offset" not in why and "folder offset" not in why:
            why = f"{folder.method} block at folder offset {exc.offset:#x} is corrupt: {why}"
        return CorruptInput(f"{self.label}: {who}: {why}")

    def targets(self, dest: Path) -> list[Path]:
        """Where each member lands under ``dest`` (CorruptInput naming a hostile name)."""
        paths = []
        for m in self.members:
            try:
                paths.append(safe_destination(dest, m.name))
            except CorruptInput as exc:
                raise CorruptInput(f"{self.label}: {exc}") from None
        return paths

    def extract_all(
        self,
        dest: Path,
        progress: ProgressFn = no_progress,
        cancel: CancelToken | None = None,
        limits: Limits | None = None,
        problems: list[Problem] | None = None,
    ) -> list[Path]:
        """Write every member under ``dest`` byte-exact; return the paths written (CFFILE order).

        Each folder is decompressed once and streamed to its members' files. Damage (a bad
        block, a cut cab, a member whose path clashes with another's) costs only the members
        it touches: they are named in ``problems`` (``cab!member``) and every other member is
        still extracted; without a list the first damage raises :class:`CorruptInput` once
        the rest are out. Member files left incomplete are removed; complete ones stay.
        """
        if limits is not None:
            self.check_limits(limits)
        dest = Path(dest)
        dest.mkdir(parents=True, exist_ok=True)
        targets = self.targets(dest)
        total = self.total_size
        done = 0
        failed: dict[int, str] = {}
        first_error: CorruptInput | None = None
        progress(STAGE, 0, total)
        for folder in self.folders:
            indices = sorted(
                (i for i, m in enumerate(self.members) if m.folder == folder.index),
                key=lambda i: self.members[i].offset,
            )
            if not indices:
                continue
            done, error = self._extract_folder(
                folder, indices, targets, done, total, progress, cancel, failed
            )
            first_error = first_error or error
        progress(STAGE, total, total)
        if failed and problems is None:
            raise first_error or CorruptInput(f"{self.label}: {next(iter(failed.values()))}")
        for i, why in sorted(failed.items()):
            name = printable(self.members[i].name)
            problems.append(Problem(f"{self.label}!{name}", "", why))  # type: ignore[union-attr]  # None raised above
        return [t for i, t in enumerate(targets) if i not in failed]

    def _extract_folder(
        self,
        folder: CabFolder,
        indices: list[int],
        targets: list[Path],
        done: int,
        total: int,
        progress: ProgressFn,
        cancel: CancelToken | None,
        failed: dict[int, str],
    ) -> tuple[int, CorruptInput | None]:
        members = self.members
        writers = _Writers(targets, self.label, members)
        sized: list[int] = []
        for i in indices:
            if members[i].size:
                sized.append(i)
            elif (why := writers.touch(i)) is not None:
                failed[i] = why
        if not sized:
            return done, None
        needed = max(members[i].offset + members[i].size for i in sized)
        complete: set[int] = set()
        active: list[int] = []
        nxt = 0
        start = 0
        error: CorruptInput | None = None
        try:
            for chunk in self._folder_output(folder, needed):
                if cancel is not None:
                    cancel.check()
                end = start + len(chunk)
                while nxt < len(sized) and members[sized[nxt]].offset < end:
                    active.append(sized[nxt])
                    nxt += 1
                view = memoryview(chunk)
                still: list[int] = []
                for i in active:
                    m = members[i]
                    lo = max(start, m.offset)
                    hi = min(end, m.offset + m.size)
                    if lo < hi and i not in failed:
                        why = writers.write(i, view[lo - start : hi - start])
                        if why is None:
                            done += hi - lo
                        else:
                            failed[i] = why
                    if m.offset + m.size <= end:
                        writers.close(i)
                        complete.add(i)
                    else:
                        still.append(i)
                active = still
                start = end
                progress(STAGE, done, total)
                if start >= needed:
                    break
            if start < needed:
                raise _FolderError(start, "the folder's data ends early")
        except _FolderError as exc:
            error = self._folder_error(folder, exc)
            why = str(error).removeprefix(f"{self.label}: ")
            hit = self._member_at(folder.index, exc.offset)
            for i in sized:
                if i not in complete and i not in failed:
                    failed[i] = (
                        why if hit is not None and members[i] is hit
                        else f"not extracted: the data before it in folder {folder.index} is "
                        "damaged or missing"
                    )
        finally:
            writers.close_all()
            # Members cut short, damaged or cancelled: remove what was written of them.
            for i in sized:
                if i in failed or i not in complete:
                    writers.discard(i)
        return done, error


#: Open member files at most at once: overlapping members (many CFFILE entries sharing one
#: range) would otherwise each hold a handle and run out of them (the limit is low on Windows).
_MAX_OPEN_FILES = 64


class _Writers:
    """Member files being written, at most :data:`_MAX_OPEN_FILES` open (least recently used
    closed, reopened for appending when their data continues)."""

    def __init__(self, targets: list[Path], label: str, members: list[CabMember]) -> None:
        self.targets = targets
        self.label = label
        self.members = members
        self.open: OrderedDict[int, BinaryIO] = OrderedDict()
        self.created: set[int] = set()

    def _why(self, exc: OSError) -> str:
        if isinstance(exc, (FileExistsError, NotADirectoryError, IsADirectoryError)):
            return f"clashes with another member's path ({exc.strerror})"
        return f"cannot be written: {exc.strerror or exc}"

    def touch(self, i: int) -> str | None:
        """Create an empty member file; None when done, else why not."""
        try:
            self.targets[i].parent.mkdir(parents=True, exist_ok=True)
            self.targets[i].open("wb").close()
        except OSError as exc:
            return self._why(exc)
        return None

    def write(self, i: int, data: memoryview) -> str | None:
        handle = self.open.get(i)
        try:
            if handle is None:
                target = self.targets[i]
                if i in self.created:
                    handle = target.open("ab")
                else:
                    target.parent.mkdir(parents=True, exist_ok=True)
                    handle = target.open("wb")
                    self.created.add(i)
                self.open[i] = handle
                if len(self.open) > _MAX_OPEN_FILES:
                    self.open.popitem(last=False)[1].close()
            else:
                self.open.move_to_end(i)
            handle.write(data)
        except OSError as exc:
            self.close(i)
            return self._why(exc)
        return None

    def close(self, i: int) -> None:
        handle = self.open.pop(i, None)
        if handle is not None:
            handle.close()

    def close_all(self) -> None:
        while self.open:
            self.open.popitem()[1].close()

    def discard(self, i: int) -> None:
        """Remove the partial file of member ``i`` (only one this run created)."""
        if i in self.created:
            with contextlib.suppress(OSError):
                self.targets[i].unlink(missing_ok=True)


def _mszip_block(payload: bytes, usize: int, history: bytes, offset: int) -> bytes:
    """Inflate one MSZIP block ("CK" + raw deflate, the previous 32 KB as dictionary)."""
    if payload[:2] != b"CK":
        raise _FolderError(offset, "no 'CK' signature")
    try:
        dec = zlib.decompressobj(-15, zdict=history) if history else zlib.decompressobj(-15)
        out = dec.decompress(payload[2:], usize + 1)
    except zlib.error as exc:
        raise _FolderError(offset, str(exc)) from None
    if len(out) != usize:
        raise _FolderError(offset, f"it inflates to {len(out)} bytes, its CFDATA declares {usize}")
    return out


def backend_choice(backend: str | None, settings: Settings | None = None) -> str:
    """``backend`` or, when None, the settings' (``ESPVIEW_CAB_BACKEND``; python|native|auto)."""
    choice = (backend or resolve(settings).cab_backend or "auto").strip().lower()
    if choice not in CAB_BACKENDS:
        raise UnsupportedInput(
            f"cab backend {choice!r} is not one of python, native, auto (ESPVIEW_CAB_BACKEND)"
        )
    return choice


def extract_cab(
    cab: Path,
    dest: Path,
    *,
    backend: str | None = None,
    progress: ProgressFn = no_progress,
    cancel: CancelToken | None = None,
    limits: Limits = DEFAULT_LIMITS,
    problems: list[Problem] | None = None,
    settings: Settings | None = None,
) -> list[Path]:
    """Extract every member of ``cab`` into ``dest`` byte-exact; return the member paths.

    ``backend``: ``python`` (the pure-Python reader), ``native`` (a system extractor, checked
    against the CFFILE table; error if none or it fails) or ``auto`` (native when available
    and its output checks out, else Python). ``None`` takes the settings' choice
    (``ESPVIEW_CAB_BACKEND``). Damaged members go to ``problems`` (see
    :meth:`CabFile.extract_all`; the native tools cannot salvage, so damage means Python).
    Raises CorruptInput / LimitExceeded / UnsupportedInput / Cancelled with one-line messages.
    """
    choice = backend_choice(backend, settings)
    with CabFile(cab, limits) as cabfile:
        dest = Path(dest)
        cabfile.targets(dest)  # hostile names fail before any tool runs
        if choice != "python":
            tool = native.find_tool(settings)
            if tool is None:
                if choice == "native":
                    raise UnsupportedInput(
                        f"{cabfile.label}: no native cab extractor found (cabextract, bsdtar, "
                        "expand.exe or tar.exe)"
                    )
            else:
                try:
                    return native.extract_native(cabfile, dest, tool, progress, cancel)
                except native.NativeFailed as exc:
                    if choice == "native":
                        raise CorruptInput(f"{cabfile.label}: {exc}") from None
                    log.info("%s: native extractor failed, using Python: %s", cab, exc)
        return cabfile.extract_all(dest, progress, cancel, problems=problems)

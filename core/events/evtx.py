"""Read ``.evtx`` files into :class:`~core.events.model.EventRecord` lists, fast and tolerantly.

Each 64 KB chunk is checked (signature, header CRC32, records CRC32) and its records are
decoded from their template substitutions (:mod:`core.events.bxml`). A record the fast path
cannot decode is rendered with python-evtx instead (counted, logged); one neither can read
becomes a :class:`~core.problems.Problem`, as does a damaged chunk — the rest is still read.
The full XML of a record is rendered only on demand, by :class:`XmlRenderer`, which re-opens
the file so records stay picklable and can cross process boundaries.
"""

from __future__ import annotations

import logging
import os
import struct
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, cast

from core.errors import Cancelled, CorruptInput
from core.events.bxml import (
    MIN_TIME,
    ChunkContext,
    Fields,
    TemplateCache,
    decode_record,
    filetime_to_datetime,
)
from core.events.model import EventRecord
from core.perf import draft_of, lean_init
from core.problems import Problem
from core.progress import CancelToken, ProgressFn, no_progress

if TYPE_CHECKING:
    from concurrent.futures import Future

log = logging.getLogger(__name__)

FILE_HEADER_SIZE = 0x1000
CHUNK_SIZE = 0x10000
_CHUNK_HEADER_SIZE = 0x200
_RECORD_MAGIC = b"\x2a\x2a\x00\x00"
_Unpack = Callable[[bytes, int], tuple[int]]
_U16: _Unpack = struct.Struct("<H").unpack_from
_U32: _Unpack = struct.Struct("<I").unpack_from
#: A record header: signature, size, number, when it was written (FILETIME).
_RECORD_HEADER: Callable[[bytes, int], tuple[bytes, int, int, int]] = struct.Struct(
    "<4sIQQ"
).unpack_from

#: Below this many bytes in total, worker processes cost more than they save: one process
#: decodes ~7 MB (5,600 records) in 0.2-0.3 s, while starting "spawn" workers and pickling
#: the records back cost about 1 s (measured on 2 cores).
PARALLEL_MIN_BYTES = 48 * 1024 * 1024
#: Records kept from one log. Windows logs hold tens of thousands; past this a file is hostile
#: or not an ESP log, and reading on would only exhaust memory.
MAX_RECORDS_PER_LOG = 1_000_000
STAGE = "Reading event logs"

PathArg = str | os.PathLike[str]


def _python_evtx() -> ModuleType:
    """python-evtx, imported on first need (it is slow to import and rarely needed)."""
    import Evtx.Evtx as pyevtx  # noqa: PLC0415 - see above

    # It logs warnings about damaged data that become Problems here anyway.
    logging.getLogger("Evtx").setLevel(logging.ERROR)
    return cast(ModuleType, pyevtx)


@lean_init  # one per record (core.perf)
@dataclass(frozen=True, slots=True)
class XmlRenderer:
    """Renders one record's full XML on demand (picklable: it holds only where to look)."""

    path: str
    chunk_offset: int
    record_offset: int
    number: int  # the record header's number (differs from EventRecordID in exports)

    def __call__(self) -> str:
        pyevtx = _python_evtx()
        try:
            with open(self.path, "rb") as f:
                f.seek(self.chunk_offset)
                buf = f.read(CHUNK_SIZE)
            if not _tables_are_sane(buf):
                # python-evtx follows these chains without a visited set: a loop hangs it.
                raise CorruptInput("the chunk's name/template table loops")
            chunk = pyevtx.ChunkHeader(buf, 0)
            record = pyevtx.Record(buf, self.record_offset, chunk)
            if record.record_num() != self.number:
                raise CorruptInput("it is no longer where it was read")
            return str(record.xml())
        except CorruptInput as exc:
            raise CorruptInput(
                f"{self.path}: record {self.number} cannot be rendered as XML: {exc}"
            ) from None
        except Exception as exc:  # python-evtx raises anything on damaged data
            raise CorruptInput(
                f"{self.path}: record {self.number} cannot be rendered as XML: {exc}"
            ) from exc


#: Records and their renderers are made as writable drafts that then become the frozen class
#: (core.perf.draft_of): two objects per record, about 3 ms of a big capture's 8,000.
_RENDERER_DRAFT = draft_of(XmlRenderer)
_RECORD_DRAFT = draft_of(EventRecord)


@dataclass(slots=True)
class ReadStats:
    """Counters of one read; ``fallbacks`` are records rendered by python-evtx."""

    records: int = 0
    fallbacks: int = 0


class _FileReader:
    """State of reading one file: its name, problems and counters."""

    def __init__(self, path: Path, name: str) -> None:
        self.path = path
        self.name = name
        self.spath = str(path)
        self.records: list[EventRecord] = []
        self.problems: list[Problem] = []
        self.stats = ReadStats()
        self.templates = TemplateCache()

    def problem(self, where: str, message: str) -> None:
        self.problems.append(Problem(self.name, where, message))

    def read(self) -> None:
        try:
            with open(self.path, "rb") as f:
                size = os.fstat(f.fileno()).st_size
                header = f.read(FILE_HEADER_SIZE)
                count = self._chunk_count(header, size)
                for index in range(count):
                    if len(self.records) >= MAX_RECORDS_PER_LOG:
                        self.problem(
                            f"chunk {index}",
                            f"over {MAX_RECORDS_PER_LOG:,} records: the rest of the log is not"
                            " read",
                        )
                        break
                    offset = FILE_HEADER_SIZE + index * CHUNK_SIZE
                    f.seek(offset)
                    self._read_chunk(f.read(CHUNK_SIZE), index, offset)
        except OSError as exc:
            self.problem("", f"cannot read the file: {exc.strerror or exc}")
        self.stats.records = len(self.records)

    def _chunk_count(self, header: bytes, size: int) -> int:
        if len(header) < 0x80 or header[:8] != b"ElfFile\x00":
            what = "the file is empty" if size == 0 else "no ElfFile signature"
            self.problem("file header", f"not an event log ({what})")
            return 0
        slots = max(0, (size - FILE_HEADER_SIZE) // CHUNK_SIZE)
        if zlib.crc32(header[:0x78]) != _U32(header, 0x7C)[0]:
            self.problem("file header", "header checksum mismatch; reading every chunk found")
            return slots
        declared = _U16(header, 0x2A)[0]
        if declared > slots:
            self.problem(
                "file header",
                f"file is truncated: the header names {declared} chunks, the file holds {slots}",
            )
        # Every slot is read, not just the ``declared`` ones: a log copied while in use has a
        # stale header (seen: 5 declared, 9 written). Unused slots are all zeros and skipped.
        return slots

    def _read_chunk(self, buf: bytes, index: int, offset: int) -> None:
        if len(buf) < CHUNK_SIZE:
            self.problem(f"chunk {index}", "chunk is truncated; skipped")
            return
        if buf[:8] != b"ElfChnk\x00":
            if any(buf[:_CHUNK_HEADER_SIZE]):
                self.problem(f"chunk {index}", "bad chunk signature; chunk skipped")
            return
        if zlib.crc32(buf[:0x78] + buf[0x80:0x200]) != _U32(buf, 0x7C)[0]:
            self.problem(f"chunk {index}", "chunk header checksum mismatch; chunk skipped")
            return
        end = _U32(buf, 0x30)[0]
        if not _CHUNK_HEADER_SIZE <= end <= CHUNK_SIZE:
            self.problem(
                f"chunk {index}", f"chunk header names an impossible data end 0x{end:x}; skipped"
            )
            return
        if zlib.crc32(buf[_CHUNK_HEADER_SIZE:end]) != _U32(buf, 0x34)[0]:
            self.problem(
                f"chunk {index}",
                "records checksum mismatch; records read from this chunk may be damaged",
            )
        ctx = ChunkContext(buf, shared=self.templates)
        records = self.records
        record_draft, event_record = _RECORD_DRAFT, EventRecord
        renderer_draft, xml_renderer = _RENDERER_DRAFT, XmlRenderer
        spath, name = self.spath, self.name
        p = _CHUNK_HEADER_SIZE
        # The loop body runs once per record: the ``where`` texts of problems are made only
        # when there is a problem.
        while p + 0x1C <= end:
            magic, size, number, written = _RECORD_HEADER(buf, p)
            if magic != _RECORD_MAGIC:
                self.problem(
                    f"chunk {index}, offset 0x{offset + p:x}", "bad record signature; rest skipped"
                )
                return
            if size < 0x1C or p + size > end:
                self.problem(
                    _record_where(number, offset + p),
                    f"impossible record size {size}; rest of chunk skipped",
                )
                return
            if _U32(buf, p + size - 4)[0] != size:
                # Seen in logs copied while in use: the record was not finished. Its fields
                # are often still readable (python-evtx and pyevtx-rs read it too).
                self.problem(
                    _record_where(number, offset + p),
                    "record is incomplete (no size copy at its end)",
                )
            renderer = renderer_draft(spath, offset, p, number)
            renderer.__class__ = xml_renderer  # an XmlRenderer from here on (core.perf.draft_of)
            try:
                fields = decode_record(ctx, p + 0x18, p + size - 4)
            except Exception as exc:  # noqa: BLE001 - any decoder surprise: python-evtx tries it
                where = _record_where(number, offset + p)
                log.debug("%s %s: fast decode failed (%s), rendering XML", name, where, exc)
                fallback = self._fallback(buf, p, where)
                if fallback is None:
                    p += size
                    continue
                fields = fallback
                self.stats.fallbacks += 1
            time, channel, provider, event_id, level, computer, data, record_id = fields
            if time is None or time == MIN_TIME:
                # No TimeCreated (or zero, in unfinished records): when the log wrote the record.
                time = filetime_to_datetime(written)
            record = record_draft(
                time,
                channel,
                provider,
                event_id,
                level,
                # EventRecordID as the Event Viewer shows it; 0 only in unfinished records.
                record_id or number,
                computer,
                data,
                name,
                renderer,
            )
            record.__class__ = event_record  # an EventRecord from here on (core.perf.draft_of)
            records.append(record)
            p += size

    def _fallback(self, buf: bytes, p: int, where: str) -> Fields | None:
        if not _tables_are_sane(buf):
            # python-evtx follows these chains without a visited set: a loop hangs it.
            self.problem(where, "record cannot be decoded: the chunk's name/template table loops")
            return None
        pyevtx = _python_evtx()
        # ElementTree (and pyexpat) load with python-evtx, only when a record needs them.
        from core.events.xmlfields import fields_from_xml  # noqa: PLC0415 - see above

        try:
            xml = pyevtx.Record(buf, p, pyevtx.ChunkHeader(buf, 0)).xml()
            f = fields_from_xml(xml)
        except Exception as exc:  # noqa: BLE001 - python-evtx raises anything on damage
            self.problem(where, f"record cannot be decoded: {exc or type(exc).__name__}")
            return None
        return (f.time, f.channel, f.provider, f.event_id, f.level, f.computer, f.data, f.record_id)


def _record_where(number: int, at: int) -> str:
    return f"record {number} at offset 0x{at:x}"


def _tables_are_sane(chunk: bytes) -> bool:
    """True when the chunk's name-string and template hash chains end, inside the chunk.

    Each table is an array of chain heads (64 at 0x80, 32 at 0x180); every node starts with
    the offset of the next node in its chain, 0 ending it.
    """
    limit = min(len(chunk), CHUNK_SIZE) - 4
    for table, heads in ((0x80, 64), (0x180, 32)):
        for i in range(heads):
            seen: set[int] = set()
            offset = _U32(chunk, table + 4 * i)[0]
            while offset:
                if offset in seen or not _CHUNK_HEADER_SIZE <= offset <= limit:
                    return False
                seen.add(offset)
                offset = _U32(chunk, offset)[0]
    return True


def read_evtx_stats(
    path: PathArg, *, display_name: str | None = None
) -> tuple[list[EventRecord], list[Problem], ReadStats]:
    """:func:`read_evtx` plus counters (how many records needed the slow path)."""
    p = Path(path)
    reader = _FileReader(p, display_name or p.name)
    reader.read()
    if reader.stats.fallbacks:
        log.info("%s: %d records rendered by python-evtx", reader.name, reader.stats.fallbacks)
    return reader.records, reader.problems, reader.stats


def read_evtx(
    path: PathArg, *, display_name: str | None = None
) -> tuple[list[EventRecord], list[Problem]]:
    """Read one ``.evtx`` file: its records in file order, and what could not be read.

    ``display_name`` names the file in records and problems (e.g. ``outer.cab!inner.evtx``);
    it defaults to the file name. Never raises for bad content.
    """
    records, problems, _ = read_evtx_stats(path, display_name=display_name)
    return records, problems


def _worker(path: str, name: str) -> tuple[list[EventRecord], list[Problem]]:
    """Top-level (spawn-safe) worker: read one file in a worker process."""
    return read_evtx(path, display_name=name)


def _normalize(paths: Iterable[PathArg | tuple[PathArg, str]]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for item in paths:
        if isinstance(item, tuple):
            out.append((os.fspath(item[0]), item[1]))
        else:
            out.append((os.fspath(item), Path(item).name))
    return out


def _size(path: str) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return 0


def read_evtx_files(
    paths: Sequence[PathArg | tuple[PathArg, str]],
    *,
    workers: int | None = None,
    progress: ProgressFn = no_progress,
    cancel: CancelToken | None = None,
) -> tuple[list[EventRecord], list[Problem]]:
    """Read several ``.evtx`` files; records come back in the order of ``paths``.

    An item is a path or ``(path, display_name)``. Worker processes are used when there is
    more than one core, more than one file and enough bytes to pay for starting them
    (``workers=1`` forces one process; ``workers=N`` forces a pool of N). Progress is
    reported per file; ``cancel`` is checked between files and raises
    :class:`~core.errors.Cancelled`.
    """
    items = _normalize(paths)
    total = len(items)
    progress(STAGE, 0, total)
    if workers is None:
        cores = os.cpu_count() or 1
        big = sum(_size(p) for p, _ in items) >= PARALLEL_MIN_BYTES
        workers = min(cores, total) if cores > 1 and total > 1 and big else 1
    results: list[tuple[list[EventRecord], list[Problem]]] = []
    if workers <= 1 or total <= 1:
        for done, (path, name) in enumerate(items, 1):
            if cancel is not None:
                cancel.check()
            results.append(read_evtx(path, display_name=name))
            progress(STAGE, done, total)
    else:
        results = _read_parallel(items, workers, progress, cancel)
    records = [r for recs, _ in results for r in recs]
    problems = [p for _, probs in results for p in probs]
    return records, problems


def _read_parallel(
    items: list[tuple[str, str]], workers: int, progress: ProgressFn, cancel: CancelToken | None
) -> list[tuple[list[EventRecord], list[Problem]]]:
    # "spawn" everywhere: it is all Windows has, and forking a process that runs Qt threads
    # is unsafe on POSIX.
    # Imported here: most reads use one process, and these modules cost ~10 ms to import.
    import multiprocessing  # noqa: PLC0415
    from concurrent.futures import ProcessPoolExecutor  # noqa: PLC0415

    ctx = multiprocessing.get_context("spawn")
    total = len(items)
    with ProcessPoolExecutor(max_workers=min(workers, total), mp_context=ctx) as pool:
        futures: list[Future[tuple[list[EventRecord], list[Problem]]]] = [
            pool.submit(_worker, path, name) for path, name in items
        ]
        try:
            results = []
            for done, (future, (_, name)) in enumerate(zip(futures, items, strict=True), 1):
                while True:
                    if cancel is not None and cancel.cancelled:
                        raise Cancelled("cancelled")
                    try:
                        result = future.result(timeout=0.1)
                        break
                    except TimeoutError:
                        continue
                    except Exception as exc:  # noqa: BLE001 - a worker died: keep the others
                        result = ([], [Problem(name, "", f"could not be read: {exc}")])
                        break
                results.append(result)
                progress(STAGE, done, total)
            return results
        except BaseException:
            for future in futures:
                future.cancel()
            raise

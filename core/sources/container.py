"""Open whatever a technician brings and list what is inside.

:func:`open_source` accepts a cab, an Intune "Collect diagnostics" zip, a folder (an
already extracted cab), or a single ``.reg`` / ``.evtx`` / hive / ``.log`` / ``.json`` file,
and returns an :class:`OpenedSource`: its members as local files with display names.

Archives are extracted once into the per-user cache, keyed by the archive's SHA-256, and
atomically: extraction happens in a private temp folder that is renamed into place only
when complete, so a killed extraction never leaves a cache that looks complete. Archives
found inside archives (the Intune zip holds the mdmdiagnosticstool cab) are opened too; their
members are named ``outer.zip!inner.cab!file``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import stat
import struct
import tempfile
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.config import Settings
from core.errors import Cancelled, CorruptInput, EspViewError, LimitExceeded, UnsupportedInput
from core.paths import cache_dir
from core.problems import Problem, printable
from core.progress import CancelToken, ProgressFn, no_progress
from core.sources.safety import DEFAULT_LIMITS, Limits, safe_destination

if TYPE_CHECKING:
    import zipfile

log = logging.getLogger(__name__)

#: Bump when the cache layout or an extractor's output changes, so old caches are ignored.
#: 2: the completion marker records the bytes written and the members that were damaged.
CACHE_VERSION = "2"
_EXTRACT_PREFIX = "extract-v"
_COMPLETE = ".espview-complete.json"
#: The cache is trimmed after each extraction: entries unused for this long go ...
CACHE_MAX_AGE_S = 30 * 24 * 3600
#: ... and the least recently used go while the whole cache is over this size.
CACHE_MAX_BYTES = 4 * 1024**3
#: An entry used this recently may be open in another ESPView: never trimmed.
_IN_USE_S = 3600
_MAX_NESTING = 3
_MAX_FOLDER_FILES = 20_000
_CHUNK = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Member:
    """One file of the evidence: ``name`` for people (``a.zip!b.cab!c.evtx``), ``path`` to read."""

    name: str
    path: Path
    size: int

    @property
    def basename(self) -> str:
        return self.name.replace("!", "/").replace("\\", "/").rsplit("/", 1)[-1]


@dataclass(slots=True)
class OpenedSource:
    """What :func:`open_source` found: ``kind`` is cab|zip|folder|reg|hive|evtx|log|json."""

    kind: str
    path: Path
    members: list[Member] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def _file_type(mode: int) -> str:
    """What a non-regular file is, in words."""
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISDIR(mode):
        return "a folder"
    return "not a regular file"


def open_regular(path: Path) -> int:
    """An OS file descriptor of ``path``, opened for reading only if it is a regular file.

    Opened with ``O_NONBLOCK`` so that a FIFO swapped in after a check cannot hang us, then
    checked with ``fstat``. Raises :class:`OSError` (unreadable) or :class:`UnsupportedInput`
    (a FIFO, a device, a socket, a folder), never blocks.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    info = os.stat(path)
    if not stat.S_ISREG(info.st_mode):  # never open a FIFO or a device, even non-blocking
        raise UnsupportedInput(f"{printable(path.name)}: {_file_type(info.st_mode)}; not read")
    fd = os.open(path, flags)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise UnsupportedInput(f"{printable(path.name)}: not a regular file; not read")
    except BaseException:
        os.close(fd)
        raise
    return fd


def sniff_kind(path: Path) -> str | None:
    """Kind of a single file from its first bytes (and name where bytes say nothing).

    ``None`` for anything that is not a readable regular file (a FIFO is never opened)."""
    try:
        fd = open_regular(path)
    except (OSError, UnsupportedInput):
        return None
    with os.fdopen(fd, "rb") as fp:
        head = fp.read(64)
    if head.startswith(b"MSCF"):
        return "cab"
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return "zip"
    if head.startswith(b"regf"):
        return "hive"
    if head.startswith(b"ElfFile\x00"):
        return "evtx"
    text = _head_text(head)
    if text.startswith(("Windows Registry Editor", "REGEDIT4", "[HKEY_")):
        return "reg"
    if "<![LOG[" in text:
        return "log"
    if text.lstrip().startswith(("{", "[")) and path.suffix.lower() == ".json":
        return "json"
    suffix = path.suffix.lower()
    return {".reg": "reg", ".evtx": "evtx", ".log": "log", ".cab": "cab", ".zip": "zip"}.get(suffix)


def _head_text(head: bytes) -> str:
    if head.startswith(b"\xff\xfe"):
        return head[2:].decode("utf-16-le", errors="ignore")
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    return head.decode("utf-8", errors="ignore")


@dataclass(slots=True)
class ExtractionBudget:
    """One extraction budget per top-level input, shared by every nesting level.

    Each archive is checked against what is *left* (``remaining``) and charged what it wrote,
    so three nested zips cannot each write the full cap (they add up).
    """

    limits: Limits = DEFAULT_LIMITS
    used_bytes: int = 0
    used_members: int = 0

    def remaining(self) -> Limits:
        return replace(
            self.limits,
            max_total_bytes=max(self.limits.max_total_bytes - self.used_bytes, 0),
            max_members=max(self.limits.max_members - self.used_members, 0),
        )

    def charge(self, written: int, members: int) -> None:
        self.used_bytes += written
        self.used_members += members


def _check_input(path: Path) -> os.stat_result:
    """Stat the top-level input: one-line refusals for missing, special or unreadable ones."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise UnsupportedInput(f"{path}: no such file or folder") from None
    except OSError as exc:
        raise UnsupportedInput(f"{path}: cannot read: {exc.strerror or exc}") from None
    if stat.S_ISDIR(info.st_mode):
        try:
            with os.scandir(path):
                pass
        except OSError as exc:
            raise UnsupportedInput(f"{path}: cannot read the folder: {exc.strerror}") from None
        return info
    try:
        os.close(open_regular(path))
    except OSError as exc:
        raise UnsupportedInput(f"{path.name}: cannot read: {exc.strerror or exc}") from None
    return info


def open_source(
    path: Path,
    *,
    progress: ProgressFn = no_progress,
    cancel: CancelToken | None = None,
    limits: Limits = DEFAULT_LIMITS,
    settings: Settings | None = None,
) -> OpenedSource:
    """Open ``path`` and list its members (see the module docstring).

    Raises :class:`UnsupportedInput` when ``path`` is nothing ESPView reads (missing, a FIFO
    or device, unreadable), and :class:`CorruptInput` when a top-level archive is too damaged
    to give anything. Damage inside (a bad nested archive, one unreadable zip member, a
    special file in a folder) becomes a :class:`Problem`. ``limits`` is the extraction budget
    of the whole input, nested archives included.
    """
    path = Path(path)
    info = _check_input(path)
    budget = ExtractionBudget(limits)
    if stat.S_ISDIR(info.st_mode):
        source = OpenedSource("folder", path)
        source.members = list(_folder_members(path, "", source.problems))
    else:
        kind = sniff_kind(path)
        if kind is None:
            raise UnsupportedInput(
                f"{printable(path.name)}: not a cab, zip, folder, .reg, hive, .evtx or "
                "CMTrace log"
            )
        source = OpenedSource(kind, path)
        if kind in {"cab", "zip"}:
            folder = extract_archive(
                path, kind, progress=progress, cancel=cancel, budget=budget,
                problems=source.problems, settings=settings,
            )
            source.members = list(_folder_members(folder, f"{path.name}!", source.problems))
        else:
            source.members = [Member(path.name, path, info.st_size)]
    source.members = _expand_nested(
        source.members, source.problems, progress, cancel, budget, settings
    )
    return source


def _folder_members(folder: Path, prefix: str, problems: list[Problem]) -> Iterator[Member]:
    """Every readable regular file under ``folder``; everything else is a Problem.

    Links are not followed; FIFOs, devices and sockets are never opened (reading one would
    block forever); unreadable files and folders are reported with the OS's reason.
    """
    count = 0

    def name_of(full: str) -> str:
        rel = os.path.relpath(full, folder)
        return printable(prefix + Path(rel).as_posix()) if rel != "." else printable(str(folder))

    def unreadable_folder(exc: OSError) -> None:
        problems.append(
            Problem(name_of(exc.filename or str(folder)), "", f"folder not read: {exc.strerror}")
        )

    for root, dirs, files in os.walk(folder, onerror=unreadable_folder, followlinks=False):
        dirs.sort()
        for name in list(dirs):
            if os.path.islink(os.path.join(root, name)):
                problems.append(
                    Problem(name_of(os.path.join(root, name)), "", "symbolic link not followed")
                )
        for name in sorted(files):
            if name == _COMPLETE:
                continue
            full = os.path.join(root, name)
            try:
                info = os.lstat(full)
            except OSError as exc:
                problems.append(Problem(name_of(full), "", f"cannot read: {exc.strerror}"))
                continue
            if stat.S_ISLNK(info.st_mode):
                problems.append(Problem(name_of(full), "", "symbolic link not followed"))
                continue
            if not stat.S_ISREG(info.st_mode):
                why = f"{_file_type(info.st_mode)}, not a regular file; not read"
                problems.append(Problem(name_of(full), "", why))
                continue
            count += 1
            if count > _MAX_FOLDER_FILES:
                message = f"more than {_MAX_FOLDER_FILES} files; the rest were not read"
                problems.append(Problem(printable(str(folder)), "", message))
                return
            try:
                os.close(open_regular(Path(full)))
            except OSError as exc:
                problems.append(Problem(name_of(full), "", f"cannot read: {exc.strerror}"))
                continue
            except UnsupportedInput as exc:  # swapped for a special file since the lstat
                problems.append(Problem(name_of(full), "", str(exc)))
                continue
            rel = Path(os.path.relpath(full, folder)).as_posix()
            yield Member(prefix + rel, Path(full), info.st_size)


def _expand_nested(
    members: list[Member],
    problems: list[Problem],
    progress: ProgressFn,
    cancel: CancelToken | None,
    budget: ExtractionBudget,
    settings: Settings | None,
    depth: int = 1,
) -> list[Member]:
    """Replace archive members by their contents (``outer!inner!file``), depth-capped.

    Every level draws on the one ``budget`` of the top-level input.
    """
    result: list[Member] = []
    for member in members:
        kind = sniff_kind(member.path) if member.name.lower().endswith((".cab", ".zip")) else None
        if kind is None or kind not in {"cab", "zip"}:
            result.append(member)
            continue
        if depth > _MAX_NESTING:
            message = f"archive nested deeper than {_MAX_NESTING} levels; not opened"
            problems.append(Problem(member.name, "", message))
            result.append(member)
            continue
        try:
            folder = extract_archive(
                member.path, kind, progress=progress, cancel=cancel, budget=budget,
                problems=problems, display=member.name, settings=settings,
            )
        except Cancelled:
            raise
        except LimitExceeded as exc:
            whole = budget.limits
            problems.append(
                Problem(
                    member.name,
                    "",
                    f"not opened: {exc} (the cap is what is left of this input's extraction "
                    f"budget, {whole.max_total_bytes:,} bytes and {whole.max_members:,} "
                    "members shared by every archive inside it)",
                )
            )
            result.append(member)
            continue
        except EspViewError as exc:
            problems.append(Problem(member.name, "", str(exc)))
            result.append(member)
            continue
        inner = list(_folder_members(folder, f"{member.name}!", problems))
        result.append(member)
        result.extend(
            _expand_nested(inner, problems, progress, cancel, budget, settings, depth + 1)
        )
    return result


# -- extraction into the cache ---------------------------------------------------------------


def file_sha256(path: Path, cancel: CancelToken | None = None) -> str:
    digest = hashlib.sha256()
    with os.fdopen(open_regular(path), "rb") as fp:
        while chunk := fp.read(_CHUNK):
            if cancel is not None:
                cancel.check()
            digest.update(chunk)
    return digest.hexdigest()


def extraction_root(settings: Settings | None = None, cache_root: Path | None = None) -> Path:
    """The folder holding this version's extractions (created, private)."""
    root = (cache_root or cache_dir(settings)) / f"{_EXTRACT_PREFIX}{CACHE_VERSION}"
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    return root


def _read_marker(folder: Path) -> dict[str, Any] | None:
    """The completion marker of a published extraction, or None (absent, unreadable)."""
    try:
        marker = json.loads((folder / _COMPLETE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return marker if isinstance(marker, dict) else None


def extract_archive(
    path: Path,
    kind: str,
    *,
    progress: ProgressFn = no_progress,
    cancel: CancelToken | None = None,
    limits: Limits = DEFAULT_LIMITS,
    cache_root: Path | None = None,
    budget: ExtractionBudget | None = None,
    problems: list[Problem] | None = None,
    display: str | None = None,
    settings: Settings | None = None,
) -> Path:
    """Extract a cab or zip once into the cache and return the folder (a cache hit is instant).

    ``budget`` (default: a fresh one of ``limits``) is checked and charged. Damaged members
    become Problems in ``problems`` (named ``display!member``; ``display`` defaults to the
    file name); without a list the first damage raises :class:`CorruptInput`.

    Safe under concurrency: each process extracts into its own private work folder and
    publishes it with one atomic rename; a process that loses the race discards its work and
    uses the winner's folder, which is never removed while it may be in use.
    """
    budget = budget if budget is not None else ExtractionBudget(limits)
    root = extraction_root(settings, cache_root)
    key = file_sha256(path, cancel)
    final = root / key
    marker = _read_marker(final)
    if marker is None:
        marker = _extract_and_publish(path, kind, root, key, progress, cancel, budget, settings)
        trim_cache(root, keep={key})
    else:
        log.debug("cache hit for %s: %s", path, final)
        _check_budget(marker, budget, path.name)
    with contextlib.suppress(OSError):  # the last use, for trimming
        os.utime(final / _COMPLETE)
    budget.charge(int(marker.get("bytes", 0)), int(marker.get("members", 0)))
    damaged = [
        Problem(f"{display or path.name}!{d[0]}", "", str(d[1]))
        for d in marker.get("damaged", [])
        if isinstance(d, list) and len(d) == 2
    ]
    if damaged and problems is None:
        raise CorruptInput(f"{path.name}: member {damaged[0].file.rsplit('!', 1)[-1]!r}: "
                           f"{damaged[0].message}")
    if problems is not None:
        problems.extend(damaged)
    return final


def _check_budget(marker: dict[str, Any], budget: ExtractionBudget, label: str) -> None:
    """A cache hit counts against the budget exactly as extracting it again would."""
    left = budget.remaining()
    written, members = int(marker.get("bytes", 0)), int(marker.get("members", 0))
    left.check_member_count(members, label)
    if written > left.max_total_bytes:
        raise LimitExceeded(
            f"{label}: {written:,} bytes to extract is over the cap of {left.max_total_bytes:,} "
            "bytes"
        )


def _extract_and_publish(
    path: Path,
    kind: str,
    root: Path,
    key: str,
    progress: ProgressFn,
    cancel: CancelToken | None,
    budget: ExtractionBudget,
    settings: Settings | None,
) -> dict[str, Any]:
    final = root / key
    work = Path(tempfile.mkdtemp(prefix=f".{key[:16]}-", dir=root))
    damaged: list[Problem] = []
    try:
        limits = budget.remaining()
        if kind == "cab":
            from core.sources.cab import extract_cab  # noqa: PLC0415 - heavy decoder, load on use

            extract_cab(path, work, progress=progress, cancel=cancel, limits=limits,
                        problems=damaged, settings=settings)
        elif kind == "zip":
            extract_zip(path, work, progress=progress, cancel=cancel, limits=limits,
                        problems=damaged)
        else:
            raise UnsupportedInput(f"{path.name}: {kind} is not an archive")
        written, members = _tree_size(work)
        label = f"{path.name}!"
        marker: dict[str, Any] = {
            "source": path.name,
            "sha256": key,
            "bytes": written,
            "members": members,
            "damaged": [
                [p.file[len(label):] if p.file.startswith(label) else p.file, p.message]
                for p in damaged
            ],
        }
        (work / _COMPLETE).write_text(json.dumps(marker), encoding="utf-8")
        if not _publish(work, final):
            won = _read_marker(final)
            if won is None:
                raise CorruptInput(f"{path.name}: the cache folder {final} cannot be used")
            log.debug("%s: another process extracted it first; using its folder", path.name)
            return won
        return marker
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)


def _publish(work: Path, final: Path) -> bool:
    """Rename ``work`` to ``final`` atomically. False when another process published first.

    A folder at ``final`` without a marker (no version ever publishes one, but a hand-made or
    half-deleted one may be there) is moved aside atomically before the one retry; a
    complete one is never touched.
    """
    with contextlib.suppress(OSError):
        os.rename(work, final)
        return True
    if _read_marker(final) is not None:
        return False
    if os.path.lexists(final):
        aside = final.with_name(f".stale-{final.name[:16]}-{os.getpid()}-{time.monotonic_ns()}")
        with contextlib.suppress(OSError):
            os.rename(final, aside)
            shutil.rmtree(aside, ignore_errors=True)
    try:
        os.rename(work, final)
    except OSError:
        return False
    return True


def _tree_size(folder: Path) -> tuple[int, int]:
    total = count = 0
    for root, _, files in os.walk(folder):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(root, name)).st_size
                count += 1
    return total, count


def trim_cache(
    root: Path,
    *,
    keep: set[str] = frozenset(),  # type: ignore[assignment]  # read-only default
    max_age: float = CACHE_MAX_AGE_S,
    max_bytes: int = CACHE_MAX_BYTES,
    now: float | None = None,
) -> int:
    """Remove extractions unused for ``max_age`` seconds, then the least recently used while
    the cache is over ``max_bytes``. Entries used within the last hour (maybe open in another
    ESPView) and those in ``keep`` stay. Leftover work folders of killed runs older than a day
    go too. Returns the bytes freed."""
    now = time.time() if now is None else now
    entries: list[tuple[float, int, Path]] = []
    freed = 0
    try:
        children = list(root.iterdir())
    except OSError:
        return 0
    for child in children:
        try:
            info = os.lstat(child)
        except OSError:
            continue
        if child.name.startswith("."):  # a work folder: in progress unless a day old
            if now - info.st_mtime > 24 * 3600:
                freed += _remove(child)
            continue
        marker_time = info.st_mtime
        with contextlib.suppress(OSError):
            marker_time = os.stat(child / _COMPLETE).st_mtime
        entries.append((marker_time, _tree_size(child)[0], child))
    entries.sort()
    total = sum(size for _, size, _ in entries)
    for used, size, folder in entries:
        if folder.name in keep or now - used < _IN_USE_S:
            continue
        if now - used > max_age or total > max_bytes:
            freed += _remove(folder)
            total -= size
    return freed


def _remove(folder: Path) -> int:
    """Delete a cache entry: renamed aside first (atomic), so no reader sees half of it."""
    size = _tree_size(folder)[0]
    aside = folder.with_name(f".trash-{folder.name[:16]}-{os.getpid()}-{time.monotonic_ns()}")
    try:
        os.rename(folder, aside)
    except OSError:
        return 0
    shutil.rmtree(aside, ignore_errors=True)
    return size


def clear_cache(settings: Settings | None = None) -> tuple[Path, int]:
    """Remove every extraction (all versions) from the cache: (cache folder, bytes freed)."""
    folder = cache_dir(settings)
    freed = 0
    for root in sorted(folder.glob(f"{_EXTRACT_PREFIX}*")):
        if root.is_dir() and not root.is_symlink():
            for child in sorted(root.iterdir()):
                freed += _remove(child) if child.is_dir() and not child.is_symlink() else 0
            with contextlib.suppress(OSError):
                root.rmdir()
    return folder, freed


def cache_usage(settings: Settings | None = None) -> tuple[Path, int, int]:
    """(cache folder, extractions, bytes) for ``espview cache``."""
    folder = cache_dir(settings)
    count = size = 0
    for root in folder.glob(f"{_EXTRACT_PREFIX}*"):
        for child in root.iterdir() if root.is_dir() else []:
            if not child.name.startswith(".") and child.is_dir():
                count += 1
                size += _tree_size(child)[0]
    return folder, count, size


def extract_zip(
    path: Path,
    dest: Path,
    *,
    progress: ProgressFn = no_progress,
    cancel: CancelToken | None = None,
    limits: Limits = DEFAULT_LIMITS,
    problems: list[Problem] | None = None,
) -> list[Path]:
    """Extract every member of a zip into ``dest``, enforcing names and caps.

    Declared sizes are checked before anything is written and actual sizes while copying
    (a zip can lie about its sizes). A member that cannot be extracted (encrypted, a bad
    CRC, a damaged stream, a path clashing with another member's) is skipped and named in
    ``problems`` (``zipname!member``); the others are extracted. Without a list, the first
    such member raises :class:`CorruptInput` once the rest are out.
    """
    import zipfile  # noqa: PLC0415 - only zips need it; a cab or folder is the usual input

    label = path.name
    try:
        archive = zipfile.ZipFile(path)
    # NotImplementedError: a "version needed" zipfile does not support (fuzzing found it);
    # the rest: damaged central directories that zipfile does not wrap in BadZipFile.
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError, EOFError,
            struct.error, IndexError, KeyError) as exc:
        raise CorruptInput(f"{label}: not a readable zip ({exc})") from None
    written: list[Path] = []
    damaged: list[tuple[str, str]] = []
    with archive:
        # Not ZipInfo.is_dir(): it indexes the name's last character and raises IndexError for
        # the empty name a damaged central directory can hold (safe_destination refuses that).
        infos = [info for info in archive.infolist() if not info.filename.endswith("/")]
        limits.check_member_count(len(infos), label)
        total = sum(info.file_size for info in infos)
        limits.check_total(total, max(path.stat().st_size, 1), label)
        targets = []
        for info in infos:
            limits.check_member(info.filename, info.file_size, label)
            try:
                targets.append(safe_destination(dest, info.filename))
            except CorruptInput as exc:
                raise CorruptInput(f"{label}: {exc}") from None
        done = 0
        for info, target in zip(infos, targets, strict=True):
            if cancel is not None:
                cancel.check()
            why = _zip_member(archive, info, target, label, done, total, progress, cancel)
            if why is None:
                written.append(target)
            else:
                damaged.append((info.filename, why))
            done += info.file_size
    for name, why in damaged:
        if problems is None:
            raise CorruptInput(f"{label}: member {printable(name)!r} {why}")
        message = why if "extracted" in why else f"{why}; not extracted"
        problems.append(Problem(f"{label}!{printable(name)}", "", message))
    return written


def _zip_member(
    archive: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    target: Path,
    label: str,
    done: int,
    total: int,
    progress: ProgressFn,
    cancel: CancelToken | None,
) -> str | None:
    """Copy one member to ``target``; None when done, else why not (the target removed)."""
    import lzma  # noqa: PLC0415 - as zipfile in extract_zip
    import zipfile  # noqa: PLC0415

    # What reading a damaged member raises: the decompressors raise their own errors
    # (``zlib.error`` for a bad deflate stream, ``lzma.LZMAError``), not ``BadZipFile``.
    damage = (
        zipfile.BadZipFile,
        NotImplementedError,
        EOFError,
        OSError,
        ValueError,
        zlib.error,
        lzma.LZMAError,
    )
    if info.flag_bits & 0x1:
        return "is encrypted"
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        out = target.open("wb")
    except (FileExistsError, NotADirectoryError, IsADirectoryError) as exc:
        return f"clashes with another member's path ({exc.strerror})"
    except OSError as exc:
        return f"cannot be written: {exc.strerror}"
    try:
        with out, archive.open(info) as src:
            copied = 0
            while chunk := src.read(_CHUNK):
                copied += len(chunk)
                if copied > info.file_size:
                    raise LimitExceeded(
                        f"{label}: member {printable(info.filename)!r} is larger than it "
                        f"declares ({info.file_size:,} bytes)"
                    )
                out.write(chunk)
                progress(f"Extracting {label}", done + copied, total)
                if cancel is not None:
                    cancel.check()
    except damage as exc:
        target.unlink(missing_ok=True)
        if isinstance(exc, OSError) and exc.strerror:  # the cache's disk, not the member
            return f"cannot be written: {exc.strerror}"
        return f"at offset {info.header_offset:#x} cannot be extracted ({exc})"
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return None

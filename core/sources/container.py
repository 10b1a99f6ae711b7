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

import hashlib
import json
import logging
import lzma
import os
import shutil
import struct
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from core.errors import Cancelled, CorruptInput, EspViewError, LimitExceeded, UnsupportedInput
from core.paths import cache_dir
from core.problems import Problem
from core.progress import CancelToken, ProgressFn, no_progress
from core.sources.safety import DEFAULT_LIMITS, Limits, safe_destination

log = logging.getLogger(__name__)

#: Bump when the cache layout or an extractor's output changes, so old caches are ignored.
CACHE_VERSION = "1"
_COMPLETE = ".espview-complete.json"
_MAX_NESTING = 3
_MAX_FOLDER_FILES = 20_000
_CHUNK = 1024 * 1024
#: What reading a damaged zip member raises: the decompressors raise their own errors
#: (``zlib.error`` for a bad deflate stream, ``lzma.LZMAError``), not ``BadZipFile``.
_ZIP_DAMAGE = (
    zipfile.BadZipFile,
    NotImplementedError,
    EOFError,
    OSError,
    ValueError,
    zlib.error,
    lzma.LZMAError,
)


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


def sniff_kind(path: Path) -> str | None:
    """Kind of a single file from its first bytes (and name where bytes say nothing)."""
    try:
        with path.open("rb") as fp:
            head = fp.read(64)
    except OSError:
        return None
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


def open_source(
    path: Path,
    *,
    progress: ProgressFn = no_progress,
    cancel: CancelToken | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> OpenedSource:
    """Open ``path`` and list its members (see the module docstring).

    Raises :class:`UnsupportedInput` when ``path`` is nothing ESPView reads, and
    :class:`CorruptInput` when a top-level archive is too damaged to give anything. Damage
    inside (a bad nested archive, one unreadable zip member) becomes a :class:`Problem`.
    """
    path = Path(path)
    if not path.exists():
        raise UnsupportedInput(f"{path}: no such file or folder")
    if path.is_dir():
        source = OpenedSource("folder", path)
        source.members = list(_folder_members(path, "", source.problems))
    else:
        kind = sniff_kind(path)
        if kind is None:
            raise UnsupportedInput(
                f"{path.name}: not a cab, zip, folder, .reg, hive, .evtx or CMTrace log"
            )
        source = OpenedSource(kind, path)
        if kind in {"cab", "zip"}:
            folder = extract_archive(path, kind, progress=progress, cancel=cancel, limits=limits)
            source.members = list(_folder_members(folder, f"{path.name}!", source.problems))
        else:
            source.members = [Member(path.name, path, path.stat().st_size)]
    source.members = _expand_nested(source.members, source.problems, progress, cancel, limits)
    return source


def _folder_members(folder: Path, prefix: str, problems: list[Problem]) -> Iterator[Member]:
    count = 0
    for root, dirs, files in os.walk(folder, followlinks=False):
        dirs.sort()
        for name in sorted(files):
            if name == _COMPLETE:
                continue
            full = Path(root) / name
            if full.is_symlink():
                problems.append(Problem(str(full), "", "symbolic link not followed"))
                continue
            count += 1
            if count > _MAX_FOLDER_FILES:
                message = f"more than {_MAX_FOLDER_FILES} files; the rest were not read"
                problems.append(Problem(str(folder), "", message))
                return
            rel = full.relative_to(folder).as_posix()
            try:
                size = full.stat().st_size
            except OSError as exc:
                problems.append(Problem(prefix + rel, "", f"cannot read: {exc.strerror}"))
                continue
            yield Member(prefix + rel, full, size)


def _expand_nested(
    members: list[Member],
    problems: list[Problem],
    progress: ProgressFn,
    cancel: CancelToken | None,
    limits: Limits,
    depth: int = 1,
) -> list[Member]:
    """Replace archive members by their contents (``outer!inner!file``), depth-capped."""
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
                member.path, kind, progress=progress, cancel=cancel, limits=limits
            )
        except Cancelled:
            raise
        except EspViewError as exc:
            problems.append(Problem(member.name, "", str(exc)))
            result.append(member)
            continue
        inner = list(_folder_members(folder, f"{member.name}!", problems))
        result.append(member)
        result.extend(_expand_nested(inner, problems, progress, cancel, limits, depth + 1))
    return result


# -- extraction into the cache ---------------------------------------------------------------


def file_sha256(path: Path, cancel: CancelToken | None = None) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fp:
        while chunk := fp.read(_CHUNK):
            if cancel is not None:
                cancel.check()
            digest.update(chunk)
    return digest.hexdigest()


def extract_archive(
    path: Path,
    kind: str,
    *,
    progress: ProgressFn = no_progress,
    cancel: CancelToken | None = None,
    limits: Limits = DEFAULT_LIMITS,
    cache_root: Path | None = None,
) -> Path:
    """Extract a cab or zip once into the cache and return the folder (a cache hit is instant)."""
    root = (cache_root or cache_dir()) / f"extract-v{CACHE_VERSION}"
    root.mkdir(parents=True, exist_ok=True)
    key = file_sha256(path, cancel)
    final = root / key
    if (final / _COMPLETE).is_file():
        log.debug("cache hit for %s: %s", path, final)
        return final
    work = Path(tempfile.mkdtemp(prefix=f".{key[:16]}-", dir=root))
    try:
        if kind == "cab":
            from core.sources.cab import extract_cab  # noqa: PLC0415 - heavy decoder, load on use

            extract_cab(path, work, progress=progress, cancel=cancel, limits=limits)
        elif kind == "zip":
            extract_zip(path, work, progress=progress, cancel=cancel, limits=limits)
        else:
            raise UnsupportedInput(f"{path.name}: {kind} is not an archive")
        (work / _COMPLETE).write_text(
            json.dumps({"source": path.name, "sha256": key}), encoding="utf-8"
        )
        if final.exists():  # a stale, incomplete folder from an older run, or a racing twin
            shutil.rmtree(final, ignore_errors=True)
        try:
            work.rename(final)
        except OSError:
            if not (final / _COMPLETE).is_file():
                raise
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)
    return final


def extract_zip(
    path: Path,
    dest: Path,
    *,
    progress: ProgressFn = no_progress,
    cancel: CancelToken | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> list[Path]:
    """Extract every member of a zip into ``dest``, enforcing names and caps.

    Declared sizes are checked before anything is written and actual sizes while copying
    (a zip can lie about its sizes).
    """
    label = path.name
    try:
        archive = zipfile.ZipFile(path)
    # NotImplementedError: a "version needed" zipfile does not support (fuzzing found it);
    # the rest: damaged central directories that zipfile does not wrap in BadZipFile.
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError, EOFError,
            struct.error, IndexError, KeyError) as exc:
        raise CorruptInput(f"{label}: not a readable zip ({exc})") from None
    written: list[Path] = []
    with archive:
        # Not ZipInfo.is_dir(): it indexes the name's last character and raises IndexError for
        # the empty name a damaged central directory can hold (safe_destination refuses that).
        infos = [info for info in archive.infolist() if not info.filename.endswith("/")]
        limits.check_member_count(len(infos), label)
        total = sum(info.file_size for info in infos)
        limits.check_total(total, max(path.stat().st_size, 1), label)
        done = 0
        for info in infos:
            if cancel is not None:
                cancel.check()
            limits.check_member(info.filename, info.file_size, label)
            target = safe_destination(dest, info.filename)
            if info.flag_bits & 0x1:
                raise CorruptInput(f"{label}: member {info.filename!r} is encrypted")
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                with archive.open(info) as src, target.open("wb") as out:
                    copied = 0
                    while chunk := src.read(_CHUNK):
                        copied += len(chunk)
                        if copied > info.file_size:
                            raise LimitExceeded(
                                f"{label}: member {info.filename!r} is larger than it declares "
                                f"({info.file_size:,} bytes)"
                            )
                        out.write(chunk)
                        progress(f"Extracting {label}", done + copied, total)
                        if cancel is not None:
                            cancel.check()
            except _ZIP_DAMAGE as exc:
                raise CorruptInput(
                    f"{label}: member {info.filename!r} at offset {info.header_offset:#x} "
                    f"cannot be extracted ({exc})"
                ) from None
            done += info.file_size
            written.append(target)
    return written

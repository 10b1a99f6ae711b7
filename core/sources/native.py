"""Native cab extractors (cabextract / bsdtar; tar.exe / expand.exe on Windows), checked.

A native extractor is much faster than the pure-Python reader, but it is someone else's code
reading hostile input, so it runs with no shell, a timeout, into a fresh work folder inside the
destination's parent, and what it wrote is checked against the CFFILE table (every member
present with its declared size, nothing else, no links) before anything is moved into place.
Any mismatch raises :class:`NativeFailed`; :func:`core.sources.cab.extract_cab` then falls back
to Python (auto mode) or reports it (native mode).
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from core.config import Settings, resolve
from core.errors import Cancelled, CorruptInput
from core.progress import CancelToken, ProgressFn, no_progress
from core.sources.safety import safe_member_parts

if TYPE_CHECKING:
    from core.sources.cab import CabFile

log = logging.getLogger(__name__)

STAGE = "Extracting"
_POLL_SECONDS = 0.05
_PROGRESS_SECONDS = 0.5
_BASE_TIMEOUT = 60.0  # seconds, plus one second per MiB to extract
_ERROR_TAIL = 300  # characters of the tool's stderr quoted in the error


class NativeFailed(Exception):
    """The native extractor failed or its output did not match the CFFILE table."""


@dataclass(frozen=True, slots=True)
class Tool:
    """A native extractor: ``kind`` is cabextract, bsdtar or expand; ``path`` its executable."""

    kind: str
    path: str

    def command(self, cab: Path, out: Path) -> list[str]:
        if self.kind == "cabextract":
            return [self.path, "-q", "-d", str(out), str(cab)]
        if self.kind == "expand":
            return [self.path, str(cab), "-F:*", str(out)]
        return [self.path, "-x", "-f", str(cab), "-C", str(out)]


def find_tool(settings: Settings | None = None) -> Tool | None:
    """The first native extractor found, or None."""
    if sys.platform == "win32":
        # Only the system's own tools: a tar.exe earlier on PATH may be GNU tar (no cab).
        system32 = Path(resolve(settings).system_root) / "System32"
        for kind, exe in (("bsdtar", "tar.exe"), ("expand", "expand.exe")):
            if (system32 / exe).is_file():
                return Tool(kind, str(system32 / exe))
        return None
    for kind in ("cabextract", "bsdtar"):
        found = shutil.which(kind)
        if found:
            return Tool(kind, found)
    return None


def extract_native(
    cab: CabFile,
    dest: Path,
    tool: Tool,
    progress: ProgressFn = no_progress,
    cancel: CancelToken | None = None,
    timeout: float | None = None,
) -> list[Path]:
    """Extract ``cab`` with ``tool``, check the result and move it into ``dest``.

    Returns the member paths in CFFILE order (as the Python reader does). Raises
    :class:`NativeFailed` on any failure or mismatch, :class:`~core.errors.Cancelled` when
    cancelled (the process is killed). Nothing is left behind in either case.
    """
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    targets = cab.targets(dest)
    expected: dict[str, int] = {}
    for m in cab.members:
        expected["/".join(safe_member_parts(m.name))] = m.size
    total = cab.total_size
    if timeout is None:
        timeout = _BASE_TIMEOUT + total / 2**20
    work = Path(tempfile.mkdtemp(prefix=".espview-cab-", dir=dest.parent))
    try:
        # Absolute: the tool runs with its output folder as working directory, where a
        # relative destination or cache folder would name a different place.
        out = (work / "out").absolute()
        out.mkdir()
        _run(tool, cab.path.resolve(), out, work / "stderr.txt", timeout, total, progress, cancel)
        _verify(out, expected, tool)
        moved: set[str] = set()
        for m, target in zip(cab.members, targets, strict=True):
            rel = "/".join(safe_member_parts(m.name))
            if rel in moved:
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(out / rel, target)
            moved.add(rel)
    except OSError as exc:
        raise NativeFailed(f"{tool.kind}: {exc}") from None
    except CorruptInput as exc:
        raise NativeFailed(str(exc)) from None
    finally:
        shutil.rmtree(work, ignore_errors=True)
    progress(STAGE, total, total)
    log.debug("%s extracted %d members with %s", cab.label, len(cab.members), tool.kind)
    return targets


def _run(
    tool: Tool,
    cab: Path,
    out: Path,
    stderr_path: Path,
    timeout: float,
    total: int,
    progress: ProgressFn,
    cancel: CancelToken | None,
) -> None:
    flags = getattr(subprocess, "CREATE_NO_WINDOW", 0)  # no console flash under the GUI
    with stderr_path.open("wb") as err:
        proc = subprocess.Popen(
            tool.command(cab, out),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=err,
            cwd=out,
            creationflags=flags,
        )
        deadline = time.monotonic() + timeout
        next_progress = time.monotonic() + _PROGRESS_SECONDS
        try:
            while True:
                try:
                    proc.wait(_POLL_SECONDS)
                    break
                except subprocess.TimeoutExpired:
                    pass
                if cancel is not None and cancel.cancelled:
                    raise Cancelled("cancelled")
                now = time.monotonic()
                if now > deadline:
                    raise NativeFailed(f"{tool.kind} took longer than {timeout:.0f} s")
                if now >= next_progress:
                    progress(STAGE, min(_bytes_under(out), total), total)
                    next_progress = now + _PROGRESS_SECONDS
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    if proc.returncode != 0:
        tail = stderr_path.read_text("utf-8", errors="replace").strip()[-_ERROR_TAIL:]
        line = tail.splitlines()[-1] if tail else "no message"
        raise NativeFailed(f"{tool.kind} exited with status {proc.returncode}: {line}")


def _bytes_under(folder: Path) -> int:
    size = 0
    for root, _, files in os.walk(folder):
        for name in files:
            with contextlib.suppress(OSError):  # a file the tool is still creating
                size += os.lstat(os.path.join(root, name)).st_size
    return size


def _verify(out: Path, expected: dict[str, int], tool: Tool) -> None:
    """Every expected file present, a regular file of the declared size; nothing else."""
    found: dict[str, int] = {}
    for root, dirs, files in os.walk(out):
        for name in dirs + files:
            full = os.path.join(root, name)
            info = os.lstat(full)
            rel = Path(os.path.relpath(full, out)).as_posix()
            if stat.S_ISLNK(info.st_mode):
                raise NativeFailed(f"{tool.kind} wrote a link: {rel!r}")
            if name in files:
                if not stat.S_ISREG(info.st_mode):
                    raise NativeFailed(f"{tool.kind} wrote a special file: {rel!r}")
                found[rel] = info.st_size
    missing = sorted(set(expected) - set(found))
    extra = sorted(set(found) - set(expected))
    wrong = sorted(k for k in expected.keys() & found.keys() if expected[k] != found[k])
    if missing or extra or wrong:
        parts = []
        if missing:
            parts.append(f"{len(missing)} member(s) missing, e.g. {missing[0]!r}")
        if extra:
            parts.append(f"{len(extra)} unexpected file(s), e.g. {extra[0]!r}")
        if wrong:
            k = wrong[0]
            parts.append(f"{len(wrong)} of wrong size, e.g. {k!r}: {found[k]} != {expected[k]}")
        raise NativeFailed(
            f"{tool.kind} output does not match the CFFILE table: " + "; ".join(parts)
        )

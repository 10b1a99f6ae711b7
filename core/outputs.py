"""Files ESPView writes where the user says (``--html OUT``, ``extract DEST``, ``--screenshot``).

Evidence is read-only: an output may never land on an input, whether named directly, through
a symbolic link or as a hard link to it, nor inside an evidence folder. Every problem with an
output path is one :class:`OutputError` line (exit 2), checked before the work starts where
possible; writing goes to a temporary file beside the target that replaces it only when
complete, so a full disk leaves neither a half-written report nor a damaged old one.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from core.errors import EspViewError
from core.problems import printable

#: An evidence folder with more files than this is not searched for hard links to the output.
_MAX_LINK_SCAN = 50_000


class OutputError(EspViewError):
    """An output path that cannot or must not be written (one line, exit 2)."""


def _identity(info: os.stat_result) -> tuple[int, int]:
    return info.st_dev, info.st_ino


def _input_identities(inputs: Sequence[Path]) -> set[tuple[int, int]]:
    """(device, inode) of every input file, and of every file inside an input folder."""
    found: set[tuple[int, int]] = set()
    for given in inputs:
        try:
            info = os.stat(given)
        except OSError:
            continue
        if not stat.S_ISDIR(info.st_mode):
            found.add(_identity(info))
            continue
        seen = 0
        for root, _, files in os.walk(given):
            for name in files:
                seen += 1
                if seen > _MAX_LINK_SCAN:
                    break
                with contextlib.suppress(OSError):
                    found.add(_identity(os.lstat(os.path.join(root, name))))
    return found


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def check_output_file(out: Path, inputs: Iterable[Path]) -> None:
    """Refuse ``out`` as a file to write (OutputError) unless it is a new or existing regular
    file, in an existing folder, and is none of ``inputs`` nor inside one of them."""
    inputs = [Path(p) for p in inputs]
    shown = printable(str(out))
    if out.is_dir():
        raise OutputError(f"{shown} is a folder; give the name of a file to write")
    parent = out.parent if str(out.parent) else Path(".")
    if not parent.exists():
        folder = printable(str(parent))
        raise OutputError(f"cannot write {shown}: the folder {folder} does not exist")
    if not parent.is_dir():
        raise OutputError(f"cannot write {shown}: {printable(str(parent))} is not a folder")
    if os.path.lexists(out) and not out.exists():
        raise OutputError(f"cannot write {shown}: it is a link to nothing")
    if out.exists() and not out.is_file():
        raise OutputError(f"cannot write {shown}: it is not a regular file")
    _refuse_inputs(out, inputs, shown)


def check_output_folder(dest: Path, inputs: Iterable[Path]) -> None:
    """Refuse ``dest`` as a folder to write into unless it is (or can be) a folder holding
    none of ``inputs`` and is not inside one of them."""
    inputs = [Path(p) for p in inputs]
    shown = printable(str(dest))
    if dest.exists() and not dest.is_dir():
        raise OutputError(f"{shown} exists and is not a folder; give a folder to extract into")
    if os.path.lexists(dest) and not dest.exists():
        raise OutputError(f"cannot write into {shown}: it is a link to nothing")
    resolved = os.path.realpath(dest)
    for given in inputs:
        real = os.path.realpath(given)
        if given.is_dir() and _inside(resolved, real):
            raise OutputError(f"{shown} is inside the evidence folder {printable(str(given))}")


def refuse_input_targets(targets: Iterable[Path], inputs: Iterable[Path]) -> None:
    """Refuse when any of ``targets`` (files about to be written) is one of ``inputs``."""
    inputs = [Path(p) for p in inputs]
    ids = _input_identities(inputs)
    reals = {os.path.realpath(p) for p in inputs}
    for target in targets:
        shown = printable(str(target))
        if os.path.realpath(target) in reals:
            raise OutputError(f"will not write {shown}: it is the evidence being read")
        with contextlib.suppress(OSError):
            if _identity(os.stat(target)) in ids:
                raise OutputError(f"will not write {shown}: it is a link to the evidence")


def _refuse_inputs(out: Path, inputs: Sequence[Path], shown: str) -> None:
    resolved = os.path.realpath(out)
    for given in inputs:
        real = os.path.realpath(given)
        if resolved == real:
            raise OutputError(f"will not write {shown}: it is the evidence being read")
        if given.is_dir() and _inside(resolved, real):
            raise OutputError(f"will not write {shown}: it is inside the evidence folder")
    if out.exists():
        with contextlib.suppress(OSError):
            if _identity(os.stat(out)) in _input_identities(inputs):
                raise OutputError(f"will not write {shown}: it is a link to the evidence")


def write_output_file(out: Path, inputs: Iterable[Path], write: Callable[[Path], None]) -> None:
    """Check ``out`` (:func:`check_output_file`), let ``write`` fill a temporary file beside
    it, then move that over ``out`` in one step. Any OS error is one OutputError line; the
    temporary file never stays behind. A link at ``out`` is replaced, never written through."""
    out = Path(out)
    check_output_file(out, inputs)
    parent = out.parent if str(out.parent) else Path(".")
    shown = printable(str(out))
    try:
        fd, temp_name = tempfile.mkstemp(prefix=f".{out.name[:40]}.", suffix=".tmp", dir=parent)
    except OSError as exc:
        raise OutputError(f"cannot write {shown}: {exc.strerror or exc}") from None
    os.close(fd)
    temp = Path(temp_name)
    try:
        write(temp)
        os.chmod(temp, 0o644 & ~_umask())
        os.replace(temp, out)
    except OSError as exc:
        raise OutputError(f"cannot write {shown}: {exc.strerror or exc}") from None
    finally:
        with contextlib.suppress(OSError):
            temp.unlink(missing_ok=True)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask

"""Member-name sanitising and size caps shared by every container reader.

Archive member names come from the file, i.e. from whoever made it. :func:`safe_member_parts`
turns a name into path parts that can only ever land *inside* a destination folder, and
:class:`Limits` holds the caps that keep a decompression bomb harmless.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from core.errors import CorruptInput, LimitExceeded
from core.problems import printable

# Names Windows reserves for devices, with or without an extension ("NUL.txt" is NUL too).
# Windows also reads the superscript digits 1-3 as digits here ("COM\u00b9" is COM1).
_DEVICE_DIGITS = "0123456789\u00b9\u00b2\u00b3"
_DEVICE_NAMES = frozenset(
    {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"}
    | {f"COM{d}" for d in _DEVICE_DIGITS}
    | {f"LPT{d}" for d in _DEVICE_DIGITS}
)
#: A file name (one path part) may have at most this many bytes (NAME_MAX; NTFS: 255 units).
MAX_NAME_PART_BYTES = 255
#: A whole member name may have at most this many characters (a cab's CAB_NAMEMAX too).
MAX_MEMBER_NAME = 1024
_DRIVE = re.compile(r"^[A-Za-z]:")
_FORBIDDEN_CHARS = re.compile(r'[\x00-\x1f<>:"|?*]')


@dataclass(frozen=True, slots=True)
class Limits:
    """Caps for reading one container (nested containers share the parent's budget)."""

    max_total_bytes: int = 2 * 1024**3  # 2 GiB extracted in all
    max_members: int = 20_000
    max_ratio: int = 1_000  # extracted bytes per compressed byte, for the whole container
    max_member_bytes: int = 1024**3  # 1 GiB for one member

    def check_member_count(self, count: int, container: str) -> None:
        if count > self.max_members:
            raise LimitExceeded(
                f"{container}: {count} members is over the cap of {self.max_members} members"
            )

    def check_total(self, total: int, compressed: int, container: str) -> None:
        if total > self.max_total_bytes:
            raise LimitExceeded(
                f"{container}: {total:,} bytes to extract is over the cap of "
                f"{self.max_total_bytes:,} bytes"
            )
        if compressed > 0 and total > 1024**2 and total / compressed > self.max_ratio:
            raise LimitExceeded(
                f"{container}: compression ratio {total / compressed:.0f}:1 is over the cap of "
                f"{self.max_ratio}:1 (a decompression bomb?)"
            )

    def check_member(self, name: str, size: int, container: str) -> None:
        if size > self.max_member_bytes:
            raise LimitExceeded(
                f"{container}!{printable(name)}: {size:,} bytes is over the per-member cap of "
                f"{self.max_member_bytes:,} bytes"
            )


DEFAULT_LIMITS = Limits()


def safe_member_parts(name: str) -> tuple[str, ...]:
    """Split an archive member name into safe relative path parts.

    Both ``\\`` and ``/`` separate folders. Empty parts and ``.`` are dropped. Raises
    :class:`CorruptInput` for names that try to leave the destination (``..``, absolute
    paths, drive letters, UNC), contain NUL or control characters, or use device names.
    """
    if "\x00" in name:
        raise CorruptInput(f"member name {name!r} contains a NUL character")
    if len(name) > MAX_MEMBER_NAME:
        raise CorruptInput(
            f"member name {printable(name[:40])!r}… has {len(name):,} characters, over the cap "
            f"of {MAX_MEMBER_NAME}"
        )
    if _DRIVE.match(name) or name.startswith(("/", "\\")):
        raise CorruptInput(f"member name {name!r} is an absolute path")
    parts: list[str] = []
    for raw in re.split(r"[\\/]+", name):
        part = raw.rstrip(" .") if raw not in {".", ".."} else raw
        if raw in {"", "."}:
            continue
        if raw == "..":
            raise CorruptInput(f"member name {name!r} climbs out of the destination")
        if _FORBIDDEN_CHARS.search(raw):
            raise CorruptInput(f"member name {name!r} has characters no file name may hold")
        if not part or part.split(".")[0].rstrip(" ").upper() in _DEVICE_NAMES:
            raise CorruptInput(f"member name {name!r} is a reserved device name")
        if len(part.encode("utf-8", "surrogatepass")) > MAX_NAME_PART_BYTES:
            raise CorruptInput(
                f"member name {printable(name[:40])!r}… has a part of "
                f"{len(part.encode('utf-8', 'surrogatepass')):,} bytes, over the "
                f"{MAX_NAME_PART_BYTES} a file name may have"
            )
        parts.append(part)
    if not parts:
        raise CorruptInput(f"member name {name!r} is empty")
    return tuple(parts)


def safe_destination(dest: Path, name: str) -> Path:
    """The path under ``dest`` where member ``name`` may be written (checked to stay inside)."""
    target = dest.joinpath(*safe_member_parts(name))
    root = dest.resolve()
    resolved = target.resolve()
    if resolved != root and root not in resolved.parents:
        raise CorruptInput(f"member name {name!r} resolves outside the destination")
    return target

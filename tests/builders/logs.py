"""Build CMTrace-format log lines and files for scenario tests.

``cmtrace_line`` writes the local wall-clock time a Windows writer would, given the UTC instant
and the writer's bias (``UTC = local + bias``, minutes). ``bias_minutes=None`` writes an
Intune-style line without a bias suffix, whose clock reading then *is* ``time_utc`` as given.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path


def cmtrace_line(
    time_utc: datetime,
    message: str,
    component: str = "IntuneManagementExtension",
    thread: int = 1,
    type_: int = 1,
    bias_minutes: int | None = 0,
) -> str:
    """One record, without the line break (the message may hold line breaks)."""
    if time_utc.tzinfo is not None:
        time_utc = time_utc.astimezone(UTC).replace(tzinfo=None)
    local = time_utc - timedelta(minutes=bias_minutes or 0)
    clock = f"{local:%H:%M:%S}.{local.microsecond:06d}0"
    suffix = "" if bias_minutes is None else f"{bias_minutes:+04d}"
    date = f"{local.month}-{local.day}-{local.year}"
    return (
        f'<![LOG[{message}]LOG]!><time="{clock}{suffix}" date="{date}" '
        f'component="{component}" context="" type="{type_}" thread="{thread}" file="">'
    )


def write_cmtrace(
    path: Path, lines: Iterable[str], *, bom: bool = True, encoding: str = "utf-8"
) -> Path:
    """Write records the way IME does: CRLF after each, UTF-8 with a BOM by default.

    ``encoding="utf-16-le"`` writes UTF-16LE (with its BOM when ``bom``).
    """
    text = "".join(f"{line}\r\n" for line in lines)
    data = text.encode(encoding)
    if bom:
        data = (codecs.BOM_UTF16_LE if encoding.startswith("utf-16") else codecs.BOM_UTF8) + data
    path.write_bytes(data)
    return path

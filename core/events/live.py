"""Live mode: export this device's event channels with ``wevtutil epl`` and read the copies.

``wevtutil epl`` only reads the logs; the copies go to a private folder under the cache
folder and are removed on :meth:`LiveEvents.close` (records' ``xml()`` re-open them, so the
folder lives as long as the records are used). The command runner is injectable so tests
can run everywhere with a fake that writes ``.evtx`` files.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType

from core.errors import UnsupportedInput
from core.events.evtx import read_evtx_files
from core.events.model import EventRecord
from core.paths import cache_dir
from core.problems import Problem
from core.progress import CancelToken, ProgressFn, no_progress

log = logging.getLogger(__name__)

#: ``runner(argv) -> (returncode, stdout, stderr)``.
Runner = Callable[[Sequence[str]], tuple[int, str, str]]

#: The channels that tell the ESP story (those mdmdiagnosticstool collects for Autopilot).
DEFAULT_CHANNELS: tuple[str, ...] = (
    "Microsoft-Windows-DeviceManagement-Enterprise-Diagnostics-Provider/Admin",
    "Microsoft-Windows-DeviceManagement-Enterprise-Diagnostics-Provider/Operational",
    "Microsoft-Windows-DeviceManagement-Enterprise-Diagnostics-Provider/Autopilot",
    "Microsoft-Windows-ModernDeployment-Diagnostics-Provider/Autopilot",
    "Microsoft-Windows-ModernDeployment-Diagnostics-Provider/ManagementService",
    "Microsoft-Windows-ModernDeployment-Diagnostics-Provider/Diagnostics",
    "Microsoft-Windows-Provisioning-Diagnostics-Provider/Admin",
    "Microsoft-Windows-AAD/Operational",
    "Microsoft-Windows-User Device Registration/Admin",
    "Microsoft-Windows-Shell-Core/Operational",
)
EXPORT_TIMEOUT_S = 120
_IS_WINDOWS = os.name == "nt"
STAGE = "Exporting event logs"


def subprocess_runner(argv: Sequence[str]) -> tuple[int, str, str]:
    """Run a command without a console window; a timeout or a missing tool is a failure."""
    flags = getattr(subprocess, "CREATE_NO_WINDOW", 0)
    try:
        done = subprocess.run(
            list(argv),
            capture_output=True,
            text=True,
            errors="replace",
            timeout=EXPORT_TIMEOUT_S,
            creationflags=flags,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return -1, "", str(exc)
    return done.returncode, done.stdout, done.stderr


def file_name_for(channel: str) -> str:
    """A safe file name for a channel (``/`` and other reserved characters become ``-``)."""
    return re.sub(r'[\\/:*?"<>|\x00-\x1f]', "-", channel).strip(" .") + ".evtx"


class LiveEvents:
    """Events exported from this device. Close it (or use ``with``) to delete the copies."""

    def __init__(self, folder: Path, records: list[EventRecord], problems: list[Problem]) -> None:
        self.folder = folder
        self.records = records
        self.problems = problems

    def close(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> LiveEvents:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def read_live_events(
    channels: Sequence[str] = DEFAULT_CHANNELS,
    *,
    runner: Runner | None = None,
    progress: ProgressFn = no_progress,
    cancel: CancelToken | None = None,
) -> LiveEvents:
    """Export ``channels`` with ``wevtutil epl`` into a temp folder and read them.

    A channel that cannot be exported (absent on this build, access denied) becomes a
    :class:`Problem`. Without a ``runner`` this needs Windows (:class:`UnsupportedInput`).
    """
    if runner is None:
        if not _IS_WINDOWS:
            raise UnsupportedInput("live event logs can only be read on Windows")
        runner = subprocess_runner
    folder = Path(tempfile.mkdtemp(prefix="live-events-", dir=cache_dir()))
    try:
        exported: list[tuple[str, str]] = []
        problems: list[Problem] = []
        for done, channel in enumerate(channels):
            if cancel is not None:
                cancel.check()
            progress(STAGE, done, len(channels))
            target = folder / file_name_for(channel)
            code, out, err = runner(["wevtutil", "epl", channel, str(target), "/ow:true"])
            if code != 0 or not target.is_file():
                why = (err or out).strip() or f"wevtutil exit code {code}"
                log.info("cannot export %s: %s", channel, why)
                problems.append(Problem(channel, "", f"could not export this channel: {why}"))
                continue
            exported.append((str(target), channel))
        progress(STAGE, len(channels), len(channels))
        records, read_problems = read_evtx_files(exported, cancel=cancel, progress=progress)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return LiveEvents(folder, records, problems + read_problems)

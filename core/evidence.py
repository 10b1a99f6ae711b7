"""Evidence: everything read from one input, ready for analysis.

:func:`load_evidence` (below) turns any supported path into an :class:`Evidence`; analysis
(:mod:`core.esp`) is a pure function of it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING

from core.config import Settings, resolve
from core.errors import EspViewError, UnsupportedInput
from core.events.model import EventRecord
from core.logs.model import LogLine
from core.problems import Problem
from core.progress import CancelToken, ProgressFn, no_progress
from core.registry.memory import MemoryView
from core.registry.model import RegistryView, RegKey
from core.sidefiles import side_file_kind
from core.sources.container import Member, open_source, sniff_kind

if TYPE_CHECKING:
    from core.sidefiles import SideFiles


@dataclass(frozen=True, slots=True)
class SourceInfo:
    """What was opened: ``kind`` is cab|zip|folder|reg|hive|evtx|log|json|live."""

    kind: str
    path: str
    files: tuple[str, ...] = ()


class CompositeView(RegistryView):
    """Several registry sources as one (an Intune zip holds several ``export.reg`` files).

    A key is looked up in each source in order; the first source that has it wins. Sources
    rarely overlap, and when they do the first (the primary dump) is the most complete.
    """

    def __init__(self, views: list[RegistryView]) -> None:
        self.views = views
        self.kind = views[0].kind if len(views) == 1 else "composite"

    def key(self, path: str) -> RegKey | None:
        for view in self.views:
            found = view.key(path)
            if found is not None:
                return found
        return None

    def roots(self) -> list[RegKey]:
        seen: dict[str, RegKey] = {}
        for view in self.views:
            for root in view.roots():
                seen.setdefault(root.path.casefold(), root)
        return list(seen.values())

    @property
    def problems(self) -> list[Problem]:
        return [p for view in self.views for p in view.problems]


@dataclass(slots=True)
class Evidence:
    """Registry view + event records + log lines + side files + problems, with provenance."""

    source: SourceInfo
    registry: RegistryView = field(default_factory=MemoryView)
    events: list[EventRecord] = field(default_factory=list)  # sorted by time
    logs: list[LogLine] = field(default_factory=list)  # sorted by time where known
    side_files: SideFiles | None = None
    problems: list[Problem] = field(default_factory=list)
    #: Called by :meth:`close` (and at exit): removes temp files such as live exports.
    closers: list[Callable[[], None]] = field(default_factory=list, repr=False)
    #: Where each file of ``source.files`` can be read (read it with :mod:`core.members`).
    members: dict[str, Path] = field(default_factory=dict, repr=False)

    def late_problems(self, known: Iterable[Problem]) -> list[Problem]:
        """What lazy registry backends (hives, the live registry) found after loading, as keys
        were opened, and ``known`` does not hold yet."""
        seen = set(known)
        return [p for p in self.registry.problems if p not in seen]

    def close(self) -> None:
        """Release temp files behind this evidence (records' ``xml()`` needs them until then)."""
        while self.closers:
            self.closers.pop()()


# -- loading ---------------------------------------------------------------------------------

_HIVE_NAMES = {"software", "system", "ntuser.dat", "usrclass.dat", "sam", "security", "default"}

_MiB = 1024**2


@dataclass(frozen=True, slots=True)
class ReadBudget:
    """How much evidence one capture may bring into memory, per kind, over all its files.

    Each reader caps one file; these caps add the files up, so many files each under the
    per-file cap (four 60 MB registry dumps in one cab) cannot exhaust memory together.
    Readers hold several times a file's size (a text dump about 15x, event logs about 2.5x),
    so the budgets are set for about 1 GB at most, far above real captures (the largest real
    dump is 4.5 MB, the largest real event log 5 MB). What does not fit is a Problem naming
    the file; the most useful files are read first.
    """

    registry_text_bytes: int = 64 * _MiB  # .reg dumps and regedit exports
    hive_bytes: int = 512 * _MiB  # binary hives (read lazily)
    event_bytes: int = 192 * _MiB  # every .evtx together
    event_file_bytes: int = 128 * _MiB  # one .evtx
    log_bytes: int = 64 * _MiB  # IME (CMTrace) logs
    side_bytes: int = 32 * _MiB  # side files (each also capped by core.sidefiles)


DEFAULT_READ_BUDGET = ReadBudget()

#: Event channels the ESP story is told from: read first when the budget runs short.
_KEY_CHANNELS = ("devicemanagement", "moderndeployment", "aad", "shell-core", "provisioning",
                 "user device registration", "appxdeployment")


def _within_budget(
    members: Sequence[Member],
    cap: int,
    what: str,
    problems: list[Problem],
    file_cap: int | None = None,
) -> list[Member]:
    """The members (in the order given) that fit ``cap`` bytes together (and ``file_cap``
    each); every other one is a Problem saying what was skipped and why."""
    kept: list[Member] = []
    used = 0
    for member in members:
        if file_cap is not None and member.size > file_cap:
            problems.append(Problem(member.name, "", (
                f"not read: {member.size:,} bytes is over the cap of {file_cap:,} bytes for "
                f"one {what} file")))
            continue
        if used + member.size > cap:
            problems.append(Problem(member.name, "", (
                f"not read: this capture's {what} budget of {cap:,} bytes is used up "
                f"({used:,} bytes read; this file has {member.size:,})")))
            continue
        used += member.size
        kept.append(member)
    return kept


#: A file with more problems than this is summarised: a damaged or hostile file can make one
#: per line, and a million lines of problems help nobody (and fill the report).
MAX_PROBLEMS_PER_FILE = 1000


def cap_problems_per_file(problems: list[Problem]) -> list[Problem]:
    """``problems`` with at most :data:`MAX_PROBLEMS_PER_FILE` per file, then one line
    saying how many more that file had (order kept)."""
    counts: dict[str, int] = {}
    for problem in problems:
        counts[problem.file] = counts.get(problem.file, 0) + 1
    if all(count <= MAX_PROBLEMS_PER_FILE for count in counts.values()):
        return problems
    kept: list[Problem] = []
    seen: dict[str, int] = {}
    for problem in problems:
        seen[problem.file] = seen.get(problem.file, 0) + 1
        if seen[problem.file] <= MAX_PROBLEMS_PER_FILE:
            kept.append(problem)
        elif seen[problem.file] == MAX_PROBLEMS_PER_FILE + 1:
            more = counts[problem.file] - MAX_PROBLEMS_PER_FILE
            kept.append(Problem(problem.file, "", f"… and {more:,} more problems in this file"))
    return kept


def _evtx_order(member: Member) -> tuple[int, int]:
    name = member.basename.lower()
    return (0 if any(channel in name for channel in _KEY_CHANNELS) else 1, member.size)


@dataclass(slots=True)
class _Routed:
    """The members of a source sorted by the reader that takes them."""

    registry: list[Member] = field(default_factory=list)
    evtx: list[Member] = field(default_factory=list)
    logs: list[Member] = field(default_factory=list)
    side: list[Member] = field(default_factory=list)


def _route(members: list[Member], single_kind: str | None = None) -> _Routed:
    """Sort members by reader, by name first and by content where names say nothing.

    ``single_kind`` is the sniffed kind of a single-file input: a hive or log the user
    opened directly is read whatever its name.
    """
    routed = _Routed()
    by_kind = {"reg": routed.registry, "hive": routed.registry, "evtx": routed.evtx,
               "log": routed.logs, "json": routed.side}
    if single_kind in by_kind and len(members) == 1:
        by_kind[single_kind].append(members[0])
        return routed
    for member in members:
        base = member.basename.lower()
        if base.endswith(".evtx"):
            routed.evtx.append(member)
        elif base.endswith(".reg"):
            routed.registry.append(member)
        elif base in _HIVE_NAMES or base.endswith((".hive", ".dat")):
            if sniff_kind(member.path) == "hive":
                routed.registry.append(member)
        elif side_file_kind(base) is not None:
            routed.side.append(member)
        elif base.endswith((".log", ".cmtrace", ".lo_")) and sniff_kind(member.path) == "log":
            routed.logs.append(member)
    return routed


def load_evidence(
    path: Path,
    *,
    progress: ProgressFn = no_progress,
    cancel: CancelToken | None = None,
    settings: Settings | None = None,
    budget: ReadBudget = DEFAULT_READ_BUDGET,
) -> Evidence:
    """Open ``path`` (any supported input) and read everything ESPView understands in it.

    Raises :class:`core.errors.UnsupportedInput` / :class:`core.errors.CorruptInput` only
    when nothing at all can be read; every smaller damage is a :class:`Problem`, and so is
    every file left out because the capture's :class:`ReadBudget` ran out.
    """
    settings = resolve(settings)
    opened = open_source(Path(path), progress=progress, cancel=cancel, settings=settings)
    problems = list(opened.problems)
    routed = _route(opened.members, opened.kind)
    steps = 4
    if cancel is not None:
        cancel.check()

    progress("Reading side files", 0, steps)
    side = _within_budget(routed.side, budget.side_bytes, "side-file", problems)
    side_files = _read_side_files(side, problems)

    progress("Reading the registry", 1, steps)
    registry = _read_registry(_registry_within_budget(routed.registry, budget, problems),
                              problems, cancel)

    progress("Reading event logs", 2, steps)
    events: list[EventRecord] = []
    evtx = _within_budget(sorted(routed.evtx, key=_evtx_order), budget.event_bytes,
                          "event-log", problems, budget.event_file_bytes)
    if evtx:
        from core.events.evtx import read_evtx_files  # noqa: PLC0415 - load readers on use

        events, evtx_problems = read_evtx_files(
            [(m.path, m.name) for m in evtx],
            workers=settings.workers,
            progress=progress,
            cancel=cancel,
        )
        problems.extend(evtx_problems)
        events.sort(key=lambda record: (record.time, record.file, record.record_id))

    progress("Reading Intune logs", 3, steps)
    from core.logs.zones import autopilot_zones  # noqa: PLC0415 - load readers on use

    # IME writes local clock times without a zone; the device's zone (when a side file
    # names it) turns them into UTC. Without it they are read as UTC.
    zone_name = _device_zone(side_files)
    # Newest first: IME rolls its log over, and the current file tells the latest story.
    logs_in = sorted(routed.logs, key=lambda m: ("-" in m.basename, m.name))
    logs = _read_logs(_within_budget(logs_in, budget.log_bytes, "log", problems),
                      autopilot_zones(zone_name) if zone_name else [], problems)

    if not (events or logs or side_files is not None or registry.roots()):
        # An empty folder (or one of unrelated files) is no capture: analysing it would show
        # fifteen "Unknown" steps as if they were findings.
        read = f" ({len(opened.members)} file(s), none of them evidence)" if opened.members else ""
        raise UnsupportedInput(
            f"{Path(path).name or path}: no diagnostics evidence found{read}; open a "
            "mdmdiagnosticstool cab, an Intune diagnostics zip, a .reg export, a hive, an "
            ".evtx or an IME log"
        )
    progress("Done", steps, steps)
    problems = cap_problems_per_file(problems)
    return Evidence(
        source=SourceInfo(opened.kind, str(path), tuple(m.name for m in opened.members)),
        registry=registry,
        events=events,
        logs=logs,
        side_files=side_files,
        problems=problems,
        members={m.name: m.path for m in opened.members},
    )


def _read_side_files(members: list[Member], problems: list[Problem]) -> SideFiles | None:
    if not members:
        return None
    from core.sidefiles import read_side_files  # noqa: PLC0415 - load readers on use

    side_files, side_problems = read_side_files(
        [m.path for m in members], names=[m.name for m in members]
    )
    problems.extend(side_problems)
    return side_files


def _read_logs(
    members: list[Member], zones: Sequence[tzinfo], problems: list[Problem]
) -> list[LogLine]:
    if not members:
        return []
    from core.logs.cmtrace import read_cmtrace_files  # noqa: PLC0415 - load readers on use

    logs, log_problems = read_cmtrace_files(
        [m.path for m in members], names=[m.name for m in members], zones=zones
    )
    problems.extend(log_problems)
    return logs


def _registry_within_budget(
    members: list[Member], budget: ReadBudget, problems: list[Problem]
) -> list[Member]:
    # The mdmdiagnosticstool dump is the richest source: first in line for the budget.
    members = sorted(members, key=lambda m: "registrydump" not in m.basename.lower())
    hives = [m for m in members if sniff_kind(m.path) == "hive"]
    texts = [m for m in members if m not in hives]
    kept = set(
        _within_budget(texts, budget.registry_text_bytes, "registry text", problems)
        + _within_budget(hives, budget.hive_bytes, "hive", problems)
    )
    return [m for m in members if m in kept]


def _device_zone(side_files: SideFiles | None) -> str | None:
    diagnostics = side_files.diagnostics if side_files is not None else None
    return diagnostics.time_zone if diagnostics is not None else None


def _read_registry(
    members: list[Member], problems: list[Problem], cancel: CancelToken | None
) -> RegistryView:
    from core.registry.open import open_registry  # noqa: PLC0415 - load readers on use

    views: list[RegistryView] = []
    # The mdmdiagnosticstool dump is the richest source: read it first so it wins lookups.
    members = sorted(members, key=lambda m: "registrydump" not in m.basename.lower())
    for member in members:
        if cancel is not None:
            cancel.check()
        try:
            view = open_registry(member.path, display_name=member.name)
        except EspViewError as exc:
            problems.append(Problem(member.name, "", str(exc)))
            continue
        # Capped in the view itself: analysis reads the view's problems too.
        view.problems[:] = cap_problems_per_file(view.problems)
        problems.extend(view.problems)
        views.append(view)
    if not views:
        return MemoryView()
    return views[0] if len(views) == 1 else CompositeView(views)


# -- live --------------------------------------------------------------------------------------

#: Where a Windows device keeps what the ESP story needs besides its registry and event logs.
LIVE_LOG_FOLDERS = (r"%ProgramData%\Microsoft\IntuneManagementExtension\Logs",)
LIVE_SIDE_FILES = (r"%WINDIR%\ServiceState\wmansvc\AutopilotDDSZTDFile.json",)
_STALE_LIVE_EXPORTS_S = 3600


def _sweep_stale_live_exports(root: Path) -> None:
    """Remove event-log exports a crashed earlier run left behind (older than an hour)."""
    import shutil  # noqa: PLC0415 - only in live mode
    import time  # noqa: PLC0415 - only in live mode

    for folder in root.glob("live-events-*"):
        try:
            if time.time() - folder.stat().st_mtime > _STALE_LIVE_EXPORTS_S:
                shutil.rmtree(folder, ignore_errors=True)
        except OSError:
            continue


def load_live_evidence(
    *,
    progress: ProgressFn = no_progress,
    cancel: CancelToken | None = None,
    winreg: object | None = None,
    runner: Callable[[Sequence[str]], tuple[int, str, str]] | None = None,
    expand: Callable[[str], str] | None = None,
    settings: Settings | None = None,
) -> Evidence:
    """Read this Windows device, read-only: registry, exported event logs, IME logs, ZTD file.

    ``winreg``, ``runner`` (for ``wevtutil``) and ``expand`` (for ``%ProgramData%``-style
    paths; default: the folders in ``settings``) are injectable so the whole path is tested
    on any OS with fakes. The event-log exports live in a private folder under the cache,
    removed when the process exits.
    """
    settings = resolve(settings)
    expand = expand or settings.windows_folder
    import atexit  # noqa: PLC0415 - only in live mode

    from core.events.live import read_live_events  # noqa: PLC0415 - Windows only
    from core.paths import cache_dir  # noqa: PLC0415
    from core.registry.live import LiveView  # noqa: PLC0415 - Windows only

    _sweep_stale_live_exports(cache_dir(settings))
    problems: list[Problem] = []
    progress("Reading the registry", 0, 3)
    registry = LiveView(winreg)
    live_events = read_live_events(runner=runner, progress=progress, cancel=cancel)
    atexit.register(live_events.close)
    problems.extend(live_events.problems)
    events = sorted(live_events.records, key=lambda r: (r.time, r.file, r.record_id))

    progress("Reading Intune logs", 2, 3)
    files: list[Member] = []
    for folder_text in LIVE_LOG_FOLDERS:
        folder = Path(expand(folder_text))
        if folder.is_dir():
            files.extend(
                Member(str(p), p, p.stat().st_size)
                for p in sorted(folder.glob("*.log"))
                if p.is_file()  # a regular file: a FIFO named *.log would block the read
            )
    for file_text in LIVE_SIDE_FILES:
        path = Path(expand(file_text))
        if path.is_file():
            files.append(Member(str(path), path, path.stat().st_size))
    routed = _route(files)
    side_files = _read_side_files(routed.side, problems)
    # On the device itself, IME's clock times are this machine's local time.
    logs = _read_logs(routed.logs, [datetime.now().astimezone().tzinfo or UTC], problems)
    progress("Done", 3, 3)
    return Evidence(
        source=SourceInfo("live", "this device", tuple(m.name for m in files)),
        registry=registry,
        events=events,
        logs=logs,
        side_files=side_files,
        problems=problems,
        closers=[live_events.close],
        members={m.name: m.path for m in files},
    )

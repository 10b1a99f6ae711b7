"""Fleet batch: one row per capture and a fleet summary, on a process pool or a Dask cluster.

:func:`analyse_capture` is the per-capture unit: it loads and analyses one capture (and
writes that capture's own HTML report when asked) and returns a plain, picklable
:class:`Row` — a capture that cannot be read becomes a row with its error. :func:`run_batch`
runs it over many captures:

* locally on a process pool (``jobs`` workers, each replaced after a few captures so its
  memory stays bounded whatever the number of captures), or on an existing Dask
  ``distributed`` cluster (``dask_address``; the captures' paths must be readable by the
  workers);
* skipping captures already analysed: rows are cached under the per-user cache folder,
  keyed by the capture's content hash (``fresh=True`` redoes them);
* stopping cleanly on Ctrl+C (:class:`KeyboardInterrupt` in the caller): the rows done so
  far are returned with ``interrupted`` set.
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import json
import logging
import multiprocessing
import os
import signal
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from core import __version__

log = logging.getLogger(__name__)

CACHE_VERSION = 1
#: Captures a local worker analyses before it is replaced by a fresh process.
TASKS_PER_WORKER = 4
CAPTURE_SUFFIXES = (".cab", ".zip")
#: Files that make a folder a capture of its own (an extracted cab, an IME log folder).
_EVIDENCE_SUFFIXES = (".reg", ".evtx", ".log", ".hve")


@dataclass(slots=True)
class Row:
    """One capture's line in the batch (plain values only: it crosses process boundaries)."""

    source: str
    device: str | None = None
    serial: str | None = None
    os_build: str | None = None
    deployment_mode: str | None = None
    outcome: str = "error"  # succeeded | failed | in_progress | incomplete | unknown | error
    verdict: str = ""
    failed_phase: str | None = None
    failed_step: str | None = None
    failed_step_id: str | None = None
    code: str | None = None
    code_name: str | None = None
    first_finding: str | None = None
    esp_minutes: float | None = None
    problems: int = 0
    first_problem: str | None = None
    error: str | None = None
    failed_apps: list[list[str]] = field(default_factory=list)  # [id, name or "", status]
    report_html: str | None = None
    content_hash: str | None = None
    cached: bool = False
    worker_peak_kb: int | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Row:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


#: Columns of the CSV and HTML tables, in order.
COLUMNS = (
    "source", "device", "serial", "os_build", "deployment_mode", "outcome", "failed_phase",
    "failed_step", "code", "code_name", "first_finding", "esp_minutes", "problems",
    "first_problem", "error",
)


# -- finding the captures -------------------------------------------------------------------


def _is_capture_folder(folder: Path) -> bool:
    try:
        return any(
            p.is_file() and p.suffix.lower() in _EVIDENCE_SUFFIXES for p in folder.iterdir()
        )
    except OSError:
        return False


def find_captures(inputs: Sequence[str]) -> list[Path]:
    """Captures named by files, folders and globs, each once, in a stable order.

    A folder that holds evidence files itself (``.reg``/``.evtx``/``.log``) is one capture;
    otherwise every cab and zip below it, and every evidence folder below it, is one.
    A name that matches nothing is returned as is, to become a row with its error.
    """
    found: list[Path] = []
    for text in inputs:
        matches = sorted(glob.glob(text)) if glob.has_magic(text) else [text]
        for match in matches or [text]:
            path = Path(match)
            if path.is_dir():
                found.extend(_captures_in(path))
            else:
                found.append(path)
    seen: set[str] = set()
    unique: list[Path] = []
    for path in found:
        key = os.path.normcase(os.path.abspath(path))
        if key not in seen:
            seen.add(key)
            unique.append(path)
    return unique


def _captures_in(folder: Path) -> Iterator[Path]:
    if _is_capture_folder(folder):
        yield folder
        return
    try:
        children = sorted(folder.iterdir())
    except OSError:
        yield folder
        return
    for child in children:
        if child.is_dir():
            yield from _captures_in(child)
        elif child.suffix.lower() in CAPTURE_SUFFIXES:
            yield child


# -- the cache ------------------------------------------------------------------------------


def content_hash(path: Path) -> str:
    """SHA-256 of a capture's bytes (a folder: of its files' relative names and bytes)."""
    digest = hashlib.sha256()
    if path.is_dir():
        for file in sorted(p for p in path.rglob("*") if p.is_file()):
            digest.update(str(file.relative_to(path)).encode("utf-8", "surrogateescape"))
            _hash_file(file, digest)
    else:
        _hash_file(path, digest)
    return digest.hexdigest()


def _hash_file(path: Path, digest: Any) -> None:
    with path.open("rb") as fp:
        while chunk := fp.read(1 << 20):
            digest.update(chunk)


def _cache_file(cache_root: Path, digest: str) -> Path:
    return cache_root / f"batch-v{CACHE_VERSION}" / f"{digest}-{__version__}.json"


def _cache_get(cache_root: Path, digest: str) -> Row | None:
    try:
        data = json.loads(_cache_file(cache_root, digest).read_text(encoding="utf-8"))
        return Row.from_dict(data) if isinstance(data, dict) else None
    except (OSError, ValueError, TypeError):
        return None


def _cache_put(cache_root: Path, row: Row) -> None:
    if row.content_hash is None:
        return
    target = _cache_file(cache_root, row.content_hash)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        temp = target.with_suffix(f".tmp{os.getpid()}")
        temp.write_text(json.dumps(asdict(row), ensure_ascii=False), encoding="utf-8")
        temp.replace(target)  # atomic: a killed batch never leaves half an entry
    except OSError as exc:
        log.warning("could not cache the row of %s: %s", row.source, exc)


# -- one capture ----------------------------------------------------------------------------


def _peak_kb() -> int | None:
    try:
        import resource  # noqa: PLC0415 - POSIX only

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return int(peak // 1024 if sys.platform == "darwin" else peak)
    except (ImportError, OSError):
        return None


def analyse_capture(
    path: str, html_path: str | None = None, digest: str | None = None, redact: bool = False
) -> Row:
    """Analyse one capture into its row; never raises for a capture that cannot be read.

    ``digest`` is the capture's :func:`content_hash` when the caller already has it;
    ``redact`` redacts the capture's own HTML report (the row is redacted by the caller,
    with one redactor for the whole batch).
    """
    from core.errors import EspViewError  # noqa: PLC0415 - loaded in the worker
    from core.esp.analyze import analyze  # noqa: PLC0415
    from core.evidence import load_evidence  # noqa: PLC0415

    row = Row(source=path, content_hash=digest)
    try:
        row.content_hash = digest or content_hash(Path(path))
    except OSError as exc:
        row.error = f"cannot read: {exc.strerror or exc}"
        return row
    from core.perf import gc_paused  # noqa: PLC0415

    try:
        # As in the one-shot CLI: no collector passes over the growing evidence (core.perf).
        with gc_paused():
            evidence = load_evidence(Path(path))
        try:
            with gc_paused():
                report = analyze(evidence)
            if redact and html_path is not None:
                from core.fleet.redact import redact_report  # noqa: PLC0415

                html_report = redact_report(report, evidence)
            else:
                html_report = report
        finally:
            evidence.close()
    except EspViewError as exc:
        row.error = str(exc)
    except Exception as exc:  # one bad capture never stops the batch
        log.exception("internal error on %s", path)
        row.error = f"internal error: {type(exc).__name__}: {exc}"
    else:
        fill_row(row, report)
        if html_path is not None:
            from core.report.html_report import write_html  # noqa: PLC0415

            try:
                Path(html_path).parent.mkdir(parents=True, exist_ok=True)
                write_html(html_report, Path(html_path))
                row.report_html = html_path
            except OSError as exc:
                row.first_problem = row.first_problem or f"HTML report not written: {exc}"
    row.worker_peak_kb = _peak_kb()
    return row


def fill_row(row: Row, report: Any) -> None:
    """The row's columns from an :class:`~core.esp.model.EspReport`."""
    from core.codes import cause_of  # noqa: PLC0415
    from core.esp.hresult import from_number  # noqa: PLC0415
    from core.report.common import findings_in_order, format_hresult, verdict  # noqa: PLC0415

    device = report.device
    row.device, row.serial = device.name, device.serial
    row.os_build, row.deployment_mode = device.os_build, device.deployment_mode
    v = verdict(report)
    row.outcome, row.verdict = v.kind, v.line
    if v.kind == "failed":
        row.failed_phase = v.phase.title if v.phase is not None else None
        if v.step is not None:
            row.failed_step, row.failed_step_id = v.step.title, v.step.id
            # The step's own code, else the first code one of its items failed with.
            row.code = format_hresult(v.step.hresult)
            if row.code is None:
                row.code = next(
                    (format_hresult(i.hresult) for i in v.step.items if i.hresult), None
                )
    if row.code is not None:
        number = from_number(row.code)
        entry = cause_of(number, row.failed_step_id) if number is not None else None
        row.code_name = entry.title if entry is not None else None  # our title for the code
    order = findings_in_order(report)
    if order:
        row.first_finding = report.findings[order[0]].title
    starts = [p.started for p in report.phases if p.started is not None]
    ends = [p.ended for p in report.phases if p.ended is not None]
    if starts and ends and max(ends) >= min(starts):
        row.esp_minutes = round((max(ends) - min(starts)).total_seconds() / 60, 1)
    problems = report.source.problems
    row.problems = len(problems)
    row.first_problem = str(problems[0]) if problems else None
    row.failed_apps = [
        [item.id, item.name or "", item.status]
        for step in report.steps
        for item in step.items
        if item.status == "failed" or (item.hresult and item.status not in {"succeeded"})
    ]


# -- running many ---------------------------------------------------------------------------


@dataclass(slots=True)
class BatchResult:
    rows: list[Row]
    interrupted: bool = False
    total: int = 0
    seconds: float = 0.0


ProgressFn = Callable[[int, int, Row | None], None]
#: (index in the batch, capture path, its HTML report path or None, its content hash or None,
#: whether to redact its HTML report)
Task = tuple[int, str, str | None, str | None, bool]


def _quiet_worker() -> None:
    # Ctrl+C goes to the whole process group; the parent decides, workers keep quiet.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _html_name(html_dir: Path | None, index: int, path: Path, digest: str | None,
               redact: bool) -> str | None:
    if html_dir is None:
        return None
    # Named by position and content, not by the capture's name (which may identify someone).
    kind = "redacted" if redact else "report"
    return str(html_dir / f"{index + 1:04d}-{(digest or 'unreadable')[:16]}-{kind}.html")


def run_batch(
    inputs: Sequence[str],
    *,
    jobs: int = 1,
    dask_address: str | None = None,
    fresh: bool = False,
    cache_root: Path | None = None,
    html_dir: Path | None = None,
    redact: bool = False,
    progress: ProgressFn | None = None,
) -> BatchResult:
    """Analyse every capture named by ``inputs``; see the module docstring."""
    from core.paths import cache_dir  # noqa: PLC0415

    started = time.perf_counter()
    root = cache_root or cache_dir()
    captures = find_captures(inputs)
    rows: list[Row | None] = [None] * len(captures)
    todo: list[Task] = []
    for index, path in enumerate(captures):
        digest = None
        with contextlib.suppress(OSError):  # analysed anyway: the row then carries the error
            digest = content_hash(path)
        html = _html_name(html_dir, index, path, digest, redact)
        cached = None if fresh or digest is None else _cache_get(root, digest)
        if cached is not None and (html is None or Path(html).is_file()):
            cached.source, cached.cached = str(path), True
            cached.report_html = html
            rows[index] = cached
        else:
            todo.append((index, str(path), html, digest, redact))
    done = len(captures) - len(todo)
    if progress is not None:
        progress(done, len(captures), None)
    interrupted = False
    try:
        for index, row in _run(todo, jobs, dask_address):
            rows[index] = row
            if row.error is None:
                _cache_put(root, row)
            done += 1
            if progress is not None:
                progress(done, len(captures), row)
    except KeyboardInterrupt:
        interrupted = True
    return BatchResult(
        rows=[r for r in rows if r is not None],
        interrupted=interrupted,
        total=len(captures),
        seconds=time.perf_counter() - started,
    )


def _run(
    todo: list[Task], jobs: int, dask_address: str | None
) -> Iterator[tuple[int, Row]]:
    if not todo:
        return
    if dask_address is not None:
        yield from _run_dask(todo, dask_address)
    elif jobs <= 1:
        for task in todo:
            yield _star(task)
    else:
        yield from _run_pool(todo, jobs)


def _star(task: Task) -> tuple[int, Row]:
    index, path, html, digest, redact = task
    return index, analyse_capture(path, html, digest, redact)


def _run_pool(todo: list[Task], jobs: int) -> Iterator[tuple[int, Row]]:
    context = multiprocessing.get_context("spawn" if sys.platform == "win32" else None)
    pool = context.Pool(
        processes=min(jobs, len(todo)), initializer=_quiet_worker,
        maxtasksperchild=TASKS_PER_WORKER,
    )
    try:
        yield from pool.imap_unordered(_star, todo)
        pool.close()
    except BaseException:
        pool.terminate()
        raise
    finally:
        pool.join()


def _run_dask(todo: list[Task], address: str) -> Iterator[tuple[int, Row]]:
    try:
        from distributed import Client, as_completed  # noqa: PLC0415 - optional extra
    except ImportError as exc:
        from core.errors import EspViewError  # noqa: PLC0415

        raise EspViewError(
            "--dask needs the optional 'distributed' package: pip install espview[fleet]"
        ) from exc
    with Client(address, timeout="10s") as client:  # type: ignore[no-untyped-call,unused-ignore]
        futures = client.map(_star, todo, pure=False)
        try:
            for future in as_completed(futures):  # type: ignore[no-untyped-call,unused-ignore]
                yield future.result()
        except BaseException:
            client.cancel(futures)
            raise


# -- the fleet summary ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Summary:
    outcomes: list[tuple[str, int]]
    failing_steps: list[tuple[str, int]]
    codes: list[tuple[str, int]]
    failing_apps: list[tuple[str, int]]  # "name (id)"
    by_mode: list[tuple[str, dict[str, int]]]
    by_os_build: list[tuple[str, dict[str, int]]]


def summarise(rows: Iterable[Row]) -> Summary:
    rows = list(rows)
    steps = Counter(r.failed_step or "" for r in rows if r.outcome == "failed" and r.failed_step)
    codes = Counter(
        f"{r.code} {r.code_name}" if r.code_name else str(r.code) for r in rows if r.code
    )
    apps: Counter[str] = Counter()
    for r in rows:
        for app_id, name, _status in {tuple(a) for a in r.failed_apps}:
            apps[f"{name} ({app_id})" if name else app_id] += 1

    def by(key: Callable[[Row], str | None]) -> list[tuple[str, dict[str, int]]]:
        table: dict[str, Counter[str]] = {}
        for r in rows:
            table.setdefault(key(r) or "unknown", Counter())[r.outcome] += 1
        return sorted(((k, dict(v)) for k, v in table.items()), key=lambda kv: kv[0])

    return Summary(
        outcomes=Counter(r.outcome for r in rows).most_common(),
        failing_steps=steps.most_common(),
        codes=codes.most_common(),
        failing_apps=apps.most_common(),
        by_mode=by(lambda r: r.deployment_mode),
        by_os_build=by(lambda r: r.os_build),
    )


def peak_worker_kb(rows: Iterable[Row]) -> int | None:
    peaks = [r.worker_peak_kb for r in rows if r.worker_peak_kb and not r.cached]
    return max(peaks) if peaks else None


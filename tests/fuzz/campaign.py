"""Run a fuzz campaign: ``python -m tests.fuzz.campaign --budget N [--reader NAME] [--seed S]``.

Each input runs in a worker process (a pool of ``--workers``, default 2) under a memory cap
(``RLIMIT_AS``, default 1 GiB) and a wall-time cap (default 10 s: the worker is killed and
replaced when it is over). Every outcome is one of

* ``ok``        — the reader returned and reported no Problem;
* ``expected``  — it reported Problems, or raised an :class:`core.errors.EspViewError`;
* ``unhandled`` — it raised anything else (a bug);
* ``timeout``   — it ran over the time cap;
* ``oom``       — it raised ``MemoryError`` or its worker died.

Besides one row per reader, four targets fuzz whole shapes: ``nesting`` (archives
inside archives against one extraction budget: the cache never holds more), ``folder`` (the
input beside FIFOs, a device, link loops: never opened or followed), ``markup`` (the sample
capture with a markup or terminal payload in every string, through analysis into every report:
nothing renders as markup or reaches a terminal raw) and ``concurrent`` (three cold
extractions of one archive at once: one folder, the same files). A broken invariant is an
``AssertionError``, i.e. ``unhandled``.

The table printed at the end has one row per reader: inputs, the counts above, the peak RSS
of the reader's workers and the slowest input. Failing inputs are minimised (delta debugging
in the same capped workers) and written to ``--out`` with their traceback, ready to become
regression tests under ``tests/core/regressions``. Exit status: 0 when no input failed.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import multiprocessing
import multiprocessing.connection
import random
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.fuzz.mutate import mutate
from tests.fuzz.targets import TARGETS

MEMORY_CAP = 1024**3
TIME_CAP = 10.0
FAILURES = ("unhandled", "timeout", "oom")


# -- the worker ------------------------------------------------------------------------------


def _limit_memory(cap: int) -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))


def _peak_rss() -> int:
    """This process's peak RSS. VmHWM, because ru_maxrss survives exec: a spawned worker
    would report its parent's peak."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


def run_one(reader: str, name: str, data: bytes, work: Path) -> tuple[str, str]:
    """Run one input in *this* process: (outcome, detail). Used by the worker and by tests."""
    from core.errors import EspViewError

    if work.exists():
        shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    path = work / name
    path.write_bytes(data)
    try:
        problems = TARGETS[reader].run(path, work)
    except EspViewError as exc:
        message = str(exc)
        if "\n" in message:  # a one-line message is part of the contract
            return "unhandled", f"multi-line error message: {message!r}"
        return "expected", f"{type(exc).__name__}: {message}"
    except MemoryError:
        return "oom", "MemoryError"
    except Exception as exc:  # noqa: BLE001 - classifying every bug is the point
        return "unhandled", f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}"
    finally:
        _clean(work)
    return ("expected", f"{problems} problem(s)") if problems else ("ok", "")


def _clean(work: Path) -> None:
    from core import config
    from core.sources.container import CACHE_VERSION

    shutil.rmtree(work, ignore_errors=True)
    cache = config.current().cache_dir
    if cache:  # extraction caches of this input: every input starts cold
        shutil.rmtree(Path(cache) / f"extract-v{CACHE_VERSION}", ignore_errors=True)


def _worker_main(conn: multiprocessing.connection.Connection, cap: int, root: str) -> None:
    from core import config
    from core.config import Settings

    # The worker is an edge: its settings (a private cache) are made here, not read deep down.
    config.use(Settings(cache_dir=Path(root) / "cache", workers=1))
    _limit_memory(cap)
    work = Path(root) / "work"
    while True:
        try:
            task = conn.recv()
        except EOFError:
            return
        if task is None:
            return
        reader, name, data = task
        start = time.perf_counter()
        outcome, detail = run_one(reader, name, data, work)
        conn.send((outcome, detail, time.perf_counter() - start, _peak_rss()))


class _Worker:
    def __init__(self, ctx: Any, cap: int, root: Path) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="w-", dir=root))
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_worker_main, args=(child, cap, str(self.root)), daemon=True)
        self.proc.start()
        child.close()
        self.job: Any = None
        self.deadline = 0.0
        self.peak = 0

    def stop(self, kill: bool = False) -> None:
        if kill:
            self.proc.kill()
        else:
            with contextlib.suppress(OSError):  # already gone
                self.conn.send(None)
        self.proc.join(5)
        if self.proc.is_alive():
            self.proc.kill()
            self.proc.join()
        self.conn.close()
        shutil.rmtree(self.root, ignore_errors=True)


@dataclass
class Result:
    index: int
    reader: str
    name: str
    data: bytes
    outcome: str
    detail: str
    seconds: float


@dataclass
class Row:
    reader: str
    inputs: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    peak_rss: int = 0
    max_seconds: float = 0.0
    failures: list[Result] = field(default_factory=list)

    def count(self, outcome: str) -> int:
        return self.counts.get(outcome, 0)

    @property
    def failed(self) -> int:
        return sum(self.count(o) for o in FAILURES)


class Pool:
    """Capped workers: ``map`` runs jobs and yields results, killing any worker over time."""

    def __init__(self, workers: int, cap: int = MEMORY_CAP, time_cap: float = TIME_CAP) -> None:
        self.ctx = multiprocessing.get_context("spawn")
        self.cap = cap
        self.time_cap = time_cap
        self.size = workers
        self.root = Path(tempfile.mkdtemp(prefix="espview-fuzz-"))
        self.workers = [_Worker(self.ctx, cap, self.root) for _ in range(workers)]
        self.peak = 0

    def close(self) -> None:
        for worker in self.workers:
            worker.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> Pool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _replace(self, worker: _Worker) -> _Worker:
        worker.stop(kill=True)
        fresh = _Worker(self.ctx, self.cap, self.root)
        self.workers[self.workers.index(worker)] = fresh
        return fresh

    def map(self, jobs: Iterator[tuple[int, str, str, bytes]]) -> Iterator[Result]:
        pending = iter(jobs)
        exhausted = False
        while True:
            for worker in self.workers:
                if worker.job is None and not exhausted:
                    job = next(pending, None)
                    if job is None:
                        exhausted = True
                        break
                    worker.job = job
                    worker.deadline = time.monotonic() + self.time_cap
                    _, reader, name, data = job
                    worker.conn.send((reader, name, data))
            busy = [w for w in self.workers if w.job is not None]
            if not busy:
                return
            wait = max(min(w.deadline for w in busy) - time.monotonic(), 0.0)
            ready = multiprocessing.connection.wait([w.conn for w in busy], timeout=wait)
            now = time.monotonic()
            for worker in busy:
                index, reader, name, data = worker.job
                if worker.conn in ready:
                    try:
                        outcome, detail, seconds, rss = worker.conn.recv()
                    except (EOFError, OSError):
                        # The worker died (the kernel's OOM killer, a C-level crash).
                        outcome, detail, seconds, rss = "oom", "worker died", 0.0, 0
                        self._replace(worker)
                    self.peak = max(self.peak, rss)
                    worker.job = None
                    yield Result(index, reader, name, data, outcome, detail, seconds)
                elif now >= worker.deadline:
                    self._replace(worker)
                    yield Result(
                        index,
                        reader,
                        name,
                        data,
                        "timeout",
                        f"over {self.time_cap:.0f} s",
                        self.time_cap,
                    )


# -- generating and minimising -----------------------------------------------------------------


def generate(
    reader: str, budget: int, seed: int, small: bool
) -> Iterator[tuple[int, str, str, bytes]]:
    """The campaign's inputs for ``reader``: index, reader, file name, bytes (deterministic)."""
    target = TARGETS[reader]
    seeds = target.seeds(small)
    if not seeds:
        return
    for index in range(budget):
        rng = random.Random(f"{seed}:{reader}:{index}")
        chosen = seeds[index % len(seeds)]
        # The first pass over the seeds runs them unchanged: a seed that fails is a bug too.
        data = chosen.data if index < len(seeds) else mutate(rng, chosen, seeds, target.text)
        yield index, reader, chosen.name, data


def signature(result: Result) -> str:
    """What makes two failures "the same": outcome, exception type and the raising line."""
    if result.outcome != "unhandled":
        return result.outcome
    head = result.detail.split(":", 1)[0]
    frames = [
        line.strip() for line in result.detail.splitlines() if line.strip().startswith("File ")
    ]
    return f"{head} {frames[-1] if frames else ''}"


def minimise(pool: Pool, failure: Result, tries: int = 300) -> Result:
    """Shrink a failing input while it fails the same way (truncation, then chunk removal)."""
    want = signature(failure)
    best = failure
    attempt = 0

    def check(data: bytes) -> Result | None:
        nonlocal attempt
        attempt += 1
        got = next(pool.map(iter([(failure.index, failure.reader, failure.name, data)])))
        return got if signature(got) == want else None

    chunk = max(len(best.data) // 2, 1)
    while chunk >= 1 and attempt < tries:
        progressed = False
        pos = 0
        while pos < len(best.data) and attempt < tries:
            candidate = best.data[:pos] + best.data[pos + chunk :]
            got = check(candidate) if candidate != best.data else None
            if got is not None:
                best = got
                progressed = True
            else:
                pos += chunk
        if not progressed:
            chunk //= 2
    return best


# -- the campaign ------------------------------------------------------------------------------


def run_campaign(
    budget: int,
    readers: Sequence[str] | None = None,
    seed: int = 0,
    workers: int = 2,
    small: bool = False,
    cap: int = MEMORY_CAP,
    time_cap: float = TIME_CAP,
    progress: bool = False,
) -> list[Row]:
    rows: list[Row] = []
    for reader in readers or list(TARGETS):
        row = Row(reader)
        started = time.monotonic()
        with Pool(workers, cap, time_cap) as pool:
            for result in pool.map(generate(reader, budget, seed, small)):
                row.inputs += 1
                row.counts[result.outcome] = row.count(result.outcome) + 1
                row.max_seconds = max(row.max_seconds, result.seconds)
                if result.outcome in FAILURES:
                    row.failures.append(result)
                if progress and row.inputs % 1000 == 0:
                    print(
                        f"  {reader}: {row.inputs} inputs, {row.failed} failed, "
                        f"{time.monotonic() - started:.0f} s",
                        file=sys.stderr,
                        flush=True,
                    )
            row.peak_rss = pool.peak
        rows.append(row)
    return rows


def format_table(rows: Sequence[Row]) -> str:
    head = (
        "reader",
        "inputs",
        "ok",
        "expected",
        "unhandled",
        "timeouts",
        "OOM",
        "peak RSS",
        "max time",
    )
    lines = [f"{head[0]:<10}" + "".join(f"{h:>10}" for h in head[1:])]
    for r in rows:
        cells = (
            r.inputs,
            r.count("ok"),
            r.count("expected"),
            r.count("unhandled"),
            r.count("timeout"),
            r.count("oom"),
        )
        lines.append(
            f"{r.reader:<10}"
            + "".join(f"{c:>10}" for c in cells)
            + f"{r.peak_rss / 1024**2:>8.0f}MB{r.max_seconds:>9.2f}s"
        )
    return "\n".join(lines)


def save_failures(
    pool_workers: int, rows: Sequence[Row], out: Path, cap: int, time_cap: float
) -> list[Path]:
    """Minimise one failure per distinct signature and write ``<reader>-<hash>.bin/.txt``."""
    out.mkdir(parents=True, exist_ok=True)
    saved: list[Path] = []
    with Pool(1, cap, time_cap) as pool:
        for row in rows:
            seen: set[str] = set()
            for failure in row.failures:
                sig = signature(failure)
                if sig in seen:
                    continue
                seen.add(sig)
                small = minimise(pool, failure) if failure.outcome == "unhandled" else failure
                tag = hashlib.sha256(sig.encode()).hexdigest()[:10]
                base = out / f"{row.reader}-{tag}"
                base.with_suffix(".bin").write_bytes(small.data)
                base.with_suffix(".txt").write_text(
                    f"reader: {row.reader}\nname: {small.name}\nindex: {failure.index}\n"
                    f"outcome: {small.outcome}\nsignature: {sig}\n\n{small.detail}\n",
                    encoding="utf-8",
                )
                saved.append(base.with_suffix(".bin"))
    return saved


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.fuzz.campaign", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--budget", type=int, default=10_000, help="inputs per reader")
    parser.add_argument(
        "--reader",
        action="append",
        choices=sorted(TARGETS),
        help="fuzz only this reader (repeatable)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--small", action="store_true", help="small seeds only (the CI budget)")
    parser.add_argument("--memory-cap", type=int, default=MEMORY_CAP // 1024**2, help="MiB")
    parser.add_argument("--time-cap", type=float, default=TIME_CAP, help="seconds per input")
    parser.add_argument(
        "--out", type=Path, default=Path(tempfile.gettempdir()) / "espview-fuzz-failures"
    )
    args = parser.parse_args(argv)
    cap = args.memory_cap * 1024**2
    started = time.monotonic()
    rows = run_campaign(
        args.budget,
        args.reader,
        args.seed,
        args.workers,
        args.small,
        cap,
        args.time_cap,
        progress=True,
    )
    print(format_table(rows))
    print(
        f"total: {sum(r.inputs for r in rows)} inputs in {time.monotonic() - started:.0f} s "
        f"(seed {args.seed}, memory cap {args.memory_cap} MiB, time cap {args.time_cap:.0f} s)"
    )
    if any(r.failures for r in rows):
        for path in save_failures(args.workers, rows, args.out, cap, args.time_cap):
            print(f"failure: {path}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

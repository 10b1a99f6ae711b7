"""Benchmark: event-log decoding speed against python-evtx ``xml()`` and pyevtx-rs.

Run ``python -m tests.benchmarks.bench_events`` from the repository.

Uses every evtx of the largest real cab (its ``extracted`` folder, named in ``REAL`` below)
plus ``eventlog.evtx``. Prints records/s for python-evtx rendering every record's XML (the slow
way), for ESPView's substitution decoder in-process, for ``read_evtx_files`` as loading uses
it, for pyevtx-rs (the native limit), and the wall time of ``espview events <folder> --json``
end to end (a fresh process, on a folder holding just those evtx files). Acceptance: ≥ 15×
python-evtx in-process, and the CLI end to end ≥ 10× faster than rendering with ``xml()``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import Evtx.Evtx as pyevtx

from core.events.evtx import read_evtx, read_evtx_files

REPO = Path(__file__).resolve().parents[2]
REAL = REPO / ".." / "shared" / "fixtures" / "real" / "mdmdiag-itziktdk-MyRes"
RUNS = 3


def _best(fn: Callable[[], int], runs: int = RUNS) -> tuple[float, int]:
    best, count = float("inf"), 0
    for _ in range(runs):
        start = time.perf_counter()
        count = fn()
        best = min(best, time.perf_counter() - start)
    return best, count


def python_evtx_xml(files: list[Path]) -> int:
    n = 0
    for path in files:
        with pyevtx.Evtx(str(path)) as log:
            for record in log.records():
                record.xml()
                n += 1
    return n


def espview_in_process(files: list[Path]) -> int:
    return sum(len(read_evtx(path)[0]) for path in files)


def espview_files(files: list[Path]) -> int:
    return len(read_evtx_files(files)[0])


def pyevtx_rs(files: list[Path]) -> int:
    import evtx

    return sum(1 for path in files for _ in evtx.PyEvtxParser(str(path)).records())


def cli_end_to_end(files: list[Path]) -> tuple[float, int]:
    folder = Path(tempfile.mkdtemp(prefix="bench-events-"))
    try:
        for path in files:
            shutil.copy2(path, folder / path.name)
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        best, lines = float("inf"), 0
        for _ in range(RUNS):
            start = time.perf_counter()
            done = subprocess.run(
                [sys.executable, "-m", "core.cli", "events", str(folder), "--json"],
                capture_output=True,
                check=False,
                cwd=REPO,
                env=env,
            )
            best = min(best, time.perf_counter() - start)
            if done.returncode not in (0, 1):
                print(done.stderr.decode(errors="replace")[-2000:])
                raise SystemExit(f"espview events failed with exit code {done.returncode}")
            lines = done.stdout.count(b"\n")
        return best, lines
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    files = [*sorted((REAL / "extracted").glob("*.evtx")), REAL / "eventlog.evtx"]
    files = [f for f in files if f.is_file()]
    if not files:
        print(f"no real evtx files under {REAL.resolve()}")
        return
    size = sum(f.stat().st_size for f in files) / 1e6
    print(f"{len(files)} evtx files, {size:.1f} MB")

    slow, n = _best(lambda: python_evtx_xml(files), runs=1)
    print(f"python-evtx xml():          {n:6d} records {slow:8.3f} s {n / slow:10.0f} rec/s")
    fast, n2 = _best(lambda: espview_in_process(files))
    print(
        f"ESPView read_evtx:          {n2:6d} records {fast:8.3f} s {n2 / fast:10.0f} rec/s"
        f"   {slow / fast:6.1f}x python-evtx"
    )
    auto, n3 = _best(lambda: espview_files(files))
    print(
        f"ESPView read_evtx_files:    {n3:6d} records {auto:8.3f} s {n3 / auto:10.0f} rec/s"
        f"   {slow / auto:6.1f}x python-evtx"
    )
    native, n4 = _best(lambda: pyevtx_rs(files))
    print(f"pyevtx-rs (limit):          {n4:6d} records {native:8.3f} s {n4 / native:10.0f} rec/s")
    e2e, lines = cli_end_to_end(files)
    print(
        f"espview events --json e2e:  {lines:6d} lines   {e2e:8.3f} s"
        f"   {slow / e2e:6.1f}x faster than xml() rendering"
    )


if __name__ == "__main__":
    main()

"""Fleet batch throughput: captures per minute with 1 and 2 jobs, and peak memory per worker.

Run: ``python -m tests.benchmarks.bench_batch [COPIES]``. The real cabs are copied into a
temp folder until there are at least 30 captures (``COPIES`` per cab, default enough for 30),
the cache is warmed once (extraction), then ``run_batch`` analyses them all with
``fresh=True`` — once with 1 job, once with 2 — and prints captures per minute, the speed-up
(target: 2 jobs >= 1.7x 1 job, on a machine with 2 free cores) and the peak resident memory of
a worker (the largest ``ru_maxrss`` any worker reported).
"""

from __future__ import annotations

import math
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from core.fleet.batch import peak_worker_kb, run_batch

REPO = Path(__file__).resolve().parents[2]
REAL = (REPO / ".." / "shared" / "fixtures" / "real").resolve()
MIN_CAPTURES = 30


def _copies(cabs: list[Path], folder: Path, per_cab: int) -> int:
    count = 0
    for number, cab in enumerate(cabs):
        for copy in range(per_cab):
            target = folder / f"capture-{number}-{copy:02d}.cab"
            shutil.copyfile(cab, target)
            count += 1
    return count


def _run(folder: Path, jobs: int, cache: Path) -> tuple[float, int, int | None]:
    start = time.perf_counter()
    result = run_batch([str(folder)], jobs=jobs, fresh=True, cache_root=cache)
    seconds = time.perf_counter() - start
    return seconds, len(result.rows), peak_worker_kb(result.rows)


def main() -> int:
    cabs = sorted(REAL.glob("mdmdiag-*/MDMDiagReport.cab"))
    if not cabs:
        print("no real cabs found under", REAL)
        return 1
    per_cab = int(sys.argv[1]) if len(sys.argv) > 1 else math.ceil(MIN_CAPTURES / len(cabs))
    with tempfile.TemporaryDirectory(prefix="espview-bench-batch-") as root:
        folder = Path(root) / "captures"
        folder.mkdir()
        cache = Path(root) / "cache"
        os.environ["ESPVIEW_CACHE_DIR"] = str(cache)
        total = _copies(cabs, folder, per_cab)
        run_batch([str(folder)], jobs=1, cache_root=cache)  # warm: every cab extracted once
        print(f"{total} captures ({len(cabs)} real cabs x {per_cab} copies), warm cache, "
              f"{os.cpu_count()} CPU(s)")
        rates = {}
        for jobs in (1, 2):
            seconds, rows, peak = _run(folder, jobs, cache)
            rates[jobs] = rows / seconds * 60
            memory = f"{peak / 1024:.0f} MiB" if peak else "n/a"
            print(f"jobs={jobs}: {rows} captures in {seconds:6.1f} s = "
                  f"{rates[jobs]:6.1f} captures/min, peak memory per worker {memory}")
        print(f"speed-up 2 jobs / 1 job: {rates[2] / rates[1]:.2f}x (target >= 1.7x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

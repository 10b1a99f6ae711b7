"""Wall time of ``python -m core.cli report <cab> --json`` on each real cab, cold and warm.

Run: ``python -m tests.benchmarks.bench_report``. Cold = a fresh cache folder (the cab is
extracted), warm = best of 3 further runs on the same folder (cache hit). Then the same work
split in-process: ``load_evidence`` vs ``analyze`` vs ``write_json`` (warm cache, best of 3).
The target is ≤ 2.5 s warm for the largest cab.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from core import config
from core.config import Settings
from core.esp.analyze import analyze
from core.evidence import load_evidence
from core.report.json_report import write_json

REPO = Path(__file__).resolve().parents[2]
REAL = (REPO / ".." / "shared" / "fixtures" / "real").resolve()


def _cli(cab: Path, cache: str) -> float:
    env = dict(os.environ, ESPVIEW_CACHE_DIR=cache)
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "core.cli", "report", str(cab), "--json"],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=False,
    )
    return time.perf_counter() - start


def _split(cab: Path) -> tuple[float, float, float]:
    best = (float("inf"), float("inf"), float("inf"))
    for _ in range(3):
        t0 = time.perf_counter()
        evidence = load_evidence(cab)
        t1 = time.perf_counter()
        report = analyze(evidence)
        t2 = time.perf_counter()
        write_json(report, io.StringIO())
        t3 = time.perf_counter()
        if t3 - t0 < sum(best):
            best = (t1 - t0, t2 - t1, t3 - t2)
    return best


def main() -> None:
    cabs = sorted(REAL.glob("mdmdiag-*/MDMDiagReport.cab"), key=lambda p: p.stat().st_size)
    if not cabs:
        print("no real cabs found under", REAL)
        return
    with tempfile.TemporaryDirectory(prefix="espview-bench-") as root:
        for index, cab in enumerate(cabs):
            cache = str(Path(root) / f"cache{index}")
            cold = _cli(cab, cache)
            warm = min(_cli(cab, cache) for _ in range(3))
            config.use(Settings(cache_dir=Path(cache)))  # in-process: the bench is the edge
            load, analysis, write = _split(cab)
            print(
                f"{cab.parent.name:32} {cab.stat().st_size / 1e6:5.2f} MB  "
                f"cli cold {cold:5.2f} s  warm {warm:5.2f} s  |  in-process: "
                f"load_evidence {load:5.2f} s  analyze {analysis:5.2f} s  "
                f"write_json {write:5.2f} s"
            )


if __name__ == "__main__":
    main()

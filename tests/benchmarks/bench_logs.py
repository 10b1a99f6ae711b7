"""Benchmark: CMTrace parsing speed on the real IME logs.

Run ``python -m tests.benchmarks.bench_logs`` from the repository.

Prints records/s and MB/s per file, best of a few runs. Reads ../shared/fixtures/real; prints
a note and exits when the captures are not there.
"""

from __future__ import annotations

import time
from pathlib import Path

from core.logs.cmtrace import read_cmtrace

REAL = Path(__file__).resolve().parents[2] / ".." / "shared" / "fixtures" / "real"
RUNS = 5


def main() -> None:
    files = sorted(REAL.glob("ime-logs/*/IntuneManagementExtension.log")) + sorted(
        REAL.glob("mdmdiag-*/extracted/*.log")
    )
    if not files:
        print(f"no real logs under {REAL.resolve()}")
        return
    total_lines = total_bytes = 0
    total_time = 0.0
    for path in files:
        data = path.read_bytes()
        if b"<![LOG[" not in data:
            continue  # setupact.log and friends share the suffix only
        best = float("inf")
        count = 0
        for _ in range(RUNS):
            start = time.perf_counter()
            lines, _problems = read_cmtrace(data, path.name)
            best = min(best, time.perf_counter() - start)
            count = len(lines)
        total_lines += count
        total_bytes += len(data)
        total_time += best
        print(
            f"{path.parent.name[:28]:28} {path.name[:32]:32} {len(data) / 1e6:6.2f} MB "
            f"{count:6d} records {best * 1000:7.1f} ms {count / best:10,.0f} records/s"
        )
    print(
        f"{'total':61} {total_bytes / 1e6:6.2f} MB {total_lines:6d} records "
        f"{total_time * 1000:7.1f} ms {total_lines / total_time:10,.0f} records/s "
        f"{total_bytes / 1e6 / total_time:5.1f} MB/s"
    )


if __name__ == "__main__":
    main()

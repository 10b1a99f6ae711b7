"""Parse time of each real MdmDiagReport_RegistryDump.reg (best of 5).

Run: ``python -m tests.benchmarks.bench_registry``. The target is ≤ 0.5 s for the largest
real dump (4.5 MB).
"""

from __future__ import annotations

import time
from pathlib import Path

from core.registry.dump import parse_dump

REAL = Path(__file__).resolve().parents[2] / ".." / "shared" / "fixtures" / "real"


def main() -> None:
    dumps = sorted(REAL.resolve().glob("mdmdiag-*/extracted/MdmDiagReport_RegistryDump.reg"))
    if not dumps:
        print("no real dumps found under", REAL)
        return
    for path in dumps:
        data = path.read_bytes()
        best = float("inf")
        for _ in range(5):
            start = time.perf_counter()
            view = parse_dump(data, path.name)
            best = min(best, time.perf_counter() - start)
        keys = sum(1 for root in view.roots() for _ in root.walk())
        print(
            f"{path.parent.parent.name:32} {len(data) / 1e6:5.2f} MB  {keys:6d} keys  "
            f"{len(view.problems)} problems  best of 5: {best:.3f} s"
        )


if __name__ == "__main__":
    main()

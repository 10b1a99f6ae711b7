"""Cab extraction figures on the real captures: ``python -m tests.benchmarks.bench_cab``.

For each real cab: compressed size, extracted size, member count, pure-Python throughput
(MB/s of output, best of 3: the LZX decoder alone and a full extraction), the native
extractor's time, and the ratio to cabextract when installed.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

from core.sources import lzx, native
from core.sources.cab import CabFile, extract_cab

REAL = Path(__file__).resolve().parents[2] / ".." / "shared" / "fixtures" / "real"


def _best(fn: object, runs: int = 3) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        fn()  # type: ignore[operator]  # a plain zero-argument callable
        best = min(best, time.perf_counter() - start)
    return best


def _decode_only(cab: CabFile) -> int:
    done = 0
    for folder in cab.folders:
        needed = sum(m.size for m in cab.members if m.folder == folder.index)
        for chunk in cab._folder_output(folder, needed):  # private: the decoder alone
            done += len(chunk)
    return done


def main() -> None:
    cabs = sorted(REAL.resolve().glob("mdmdiag-*/MDMDiagReport.cab"))
    if not cabs:
        print("no real cabs found under", REAL)
        return
    tool = native.find_tool()
    print(f"native tool: {tool.kind if tool else 'none'} ({tool.path if tool else '-'})")
    header = f"{'cab':<30} {'cab MB':>7} {'out MB':>7} {'files':>5} {'method':>7}"
    header += f" {'LZX MB/s':>9} {'full MB/s':>9} {'native s':>9} {'py/native':>9}"
    # "native s" includes checking the tool's output against the CFFILE table.
    print(header)
    for path in cabs:
        with CabFile(path) as cab:
            out_mb = cab.total_size / 1e6
            methods = ",".join(sorted({f.method for f in cab.folders}))
            decode = _best(lambda cab=cab: _decode_only(cab))
        work = Path(tempfile.mkdtemp(prefix="bench-cab-"))
        try:
            full = _best(lambda p=path, w=work: extract_cab(p, w / "py", backend="python"))
            nat = (
                _best(lambda p=path, w=work: extract_cab(p, w / "nat", backend="native"))
                if tool
                else float("nan")
            )
        finally:
            shutil.rmtree(work, ignore_errors=True)
        print(
            f"{path.parent.name[:30]:<30} {path.stat().st_size / 1e6:>7.2f} {out_mb:>7.2f} "
            f"{len(cab.members):>5} {methods:>7} {out_mb / decode:>9.1f} {out_mb / full:>9.1f} "
            f"{nat:>9.3f} {full / nat:>9.1f}"
        )
    print(f"(frames of {lzx.FRAME_SIZE} bytes; best of 3 runs each)")


if __name__ == "__main__":
    main()

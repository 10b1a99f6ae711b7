"""Warm ``espview report --json`` of the largest real cab against a native lower bound.

Run: ``python -m tests.benchmarks.bench_native``. Both are measured side by side, best of 5:

* (a) ``python -m core.cli report CAB --json`` in a subprocess, with a warm cache (the cab
  was extracted and the modules compiled by a first run);
* (b) the native lower bound, in a subprocess too (both pay one interpreter start-up):
  ``cabextract`` into a fresh temp folder, the Rust ``evtx`` parser (pyevtx-rs) over every
  record of every ``.evtx`` in it (records as JSON), and one read of the registry dump and of
  every log and side file — every other member except the ETW traces (``.etl``), which
  ESPView does not read either.

It prints both wall and CPU times (user+sys of each process tree, less sensitive to a busy
machine) and their ratios; the target is a ratio ≤ 4. POSIX only (``resource``). Needs
``cabextract`` on PATH and the ``evtx`` package (a development dependency).
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
REAL = (REPO / ".." / "shared" / "fixtures" / "real").resolve()
RUNS = 5


def _unpacked_size(cab: Path) -> int:
    """Bytes of the cab's reference extraction (``extracted/`` beside it), else its own size."""
    extracted = cab.parent / "extracted"
    if extracted.is_dir():
        return sum(p.stat().st_size for p in extracted.rglob("*") if p.is_file())
    return cab.stat().st_size


def largest_cab() -> Path | None:
    """The real cab with the most evidence in it (largest once unpacked)."""
    cabs = sorted(REAL.glob("mdmdiag-*/MDMDiagReport.cab"), key=_unpacked_size)
    return cabs[-1] if cabs else None


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def espview_warm(cab: Path, cache: str) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one warm ``report --json``.

    Warm includes compiled bytecode, as in an installed copy (pip compiles the modules at
    install time; the frozen app ships them compiled): a ``PYTHONDONTWRITEBYTECODE`` in the
    caller's environment would otherwise recompile every module on every run. The bytecode
    goes to the benchmark's temporary folder, never into the source tree.
    """
    env = dict(os.environ, ESPVIEW_CACHE_DIR=cache, PYTHONPYCACHEPREFIX=str(Path(cache) / "pyc"))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    command = [sys.executable, "-m", "core.cli", "report", str(cab), "--json"]
    cpu, start = _children_cpu(), time.perf_counter()
    subprocess.run(command, cwd=REPO, env=env, stdout=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start, _children_cpu() - cpu


#: The native side as its own Python process, so both sides pay one interpreter start-up.
NATIVE_SCRIPT = """
import subprocess, sys
from pathlib import Path
from evtx import PyEvtxParser
cabextract, cab, out = sys.argv[1:4]
subprocess.run([cabextract, "-q", "-d", out, cab], check=True)
records = 0
for path in sorted(Path(out).rglob("*")):
    if path.is_file():
        if path.suffix.lower() == ".evtx":
            for _record in PyEvtxParser(str(path)).records_json():
                records += 1
        elif ".etl" not in path.name.lower():  # ETW traces (and their .00N parts): not read
            path.read_bytes()
print(records)
"""


def native(cab: Path, cabextract: str) -> tuple[float, float, int]:
    """(wall, CPU) seconds for extraction + every evtx record + one read of everything else,
    and the number of records."""
    with tempfile.TemporaryDirectory(prefix="espview-native-") as out:
        command = [sys.executable, "-c", NATIVE_SCRIPT, cabextract, str(cab), out]
        cpu, start = _children_cpu(), time.perf_counter()
        done = subprocess.run(command, check=True, capture_output=True, text=True)
        wall = time.perf_counter() - start
        return wall, _children_cpu() - cpu, int(done.stdout.strip() or 0)


def main() -> int:
    cab = largest_cab()
    cabextract = shutil.which("cabextract")
    if cab is None or cabextract is None:
        print("needs the real cabs under", REAL, "and cabextract on PATH")
        return 1
    with tempfile.TemporaryDirectory(prefix="espview-bench-") as cache:
        espview_warm(cab, cache)  # cold run: fills the cache
        ours: list[tuple[float, float]] = []
        theirs: list[tuple[float, float]] = []
        records = 0
        for _ in range(RUNS):  # interleaved so both see the same machine load
            ours.append(espview_warm(cab, cache))
            wall, cpu, records = native(cab, cabextract)
            theirs.append((wall, cpu))
    wall_ours, wall_native = min(w for w, _ in ours), min(w for w, _ in theirs)
    cpu_ours, cpu_native = min(c for _, c in ours), min(c for _, c in theirs)
    print(f"capture: {cab.parent.name} ({cab.stat().st_size / 1e6:.2f} MB, {records} evtx records)")
    print(f"{'':30} {'wall':>8} {'CPU':>8}   (best of {RUNS}; CPU = user+sys of the process tree)")
    print(f"{'espview report --json (warm)':30} {wall_ours:7.3f}s {cpu_ours:7.3f}s")
    print(f"{'native lower bound':30} {wall_native:7.3f}s {cpu_native:7.3f}s")
    wall_ratio, cpu_ratio = wall_ours / wall_native, cpu_ours / cpu_native
    print(f"{'ratio (target <= 4x)':30} {wall_ratio:7.2f}x {cpu_ratio:7.2f}x")
    print(f"load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPU(s); wall figures "
          "are only comparable on an otherwise idle machine")
    return 0


if __name__ == "__main__":
    sys.exit(main())

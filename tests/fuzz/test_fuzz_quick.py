"""The CI fuzz budget: 300 mutated inputs per reader, and 50 corrupted captures through the CLI.

Every input runs in a capped worker (1 GiB address space, 10 s); the readers must never raise
anything but an ``EspViewError``, never time out and never run out of memory. The long budget
(10,000 per reader) is ``python -m tests.fuzz.campaign --budget 10000``.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.fuzz.campaign import FAILURES, format_table, run_campaign
from tests.fuzz.mutate import mutate
from tests.fuzz.targets import TARGETS, _cab_seeds, _cmtrace_seeds, _evtx_seeds, _zip_seeds

REPO = Path(__file__).resolve().parents[2]
QUICK_BUDGET = 300


READERS = sorted(TARGETS)


@pytest.mark.parametrize("reader", READERS)
def test_quick_budget(reader: str) -> None:
    rows = run_campaign(QUICK_BUDGET, [reader], seed=0, workers=2, small=True)
    row = rows[0]
    if row.inputs == 0:
        pytest.skip(f"no seeds for {reader} (real captures missing?)")
    details = "\n".join(f"#{f.index} {f.outcome}: {f.detail[:2000]}" for f in row.failures[:3])
    assert row.failed == 0, f"\n{format_table(rows)}\n{details}"
    assert row.inputs == QUICK_BUDGET
    assert sum(row.counts.get(o, 0) for o in FAILURES) == 0


# -- the real CLI on corrupted captures ---------------------------------------------------------


def _corrupted(tmp: Path, count: int = 50) -> list[Path]:
    """``count`` inputs that are damaged for sure: a mutation, then a cut (binary formats) or a
    line of garbage (text formats), so no reader may call them clean."""
    from tests.builders.reg import dump_reg_text, regedit_reg_text
    from tests.fuzz.targets import _reg_keys

    built = ("built", "stored", "mszip", "lzx", "multi", "diag", "nested")
    seeds = _cab_seeds(True) + _evtx_seeds(True) + _zip_seeds(True)
    binary = [s for s in seeds if s.name.startswith(built)]
    keys = _reg_keys()
    texts = [
        ("MdmDiagReport_RegistryDump.reg", dump_reg_text(keys).encode()),  # type: ignore[arg-type]  # builder Keys alias
        ("export.reg", regedit_reg_text(keys).encode()),  # type: ignore[arg-type]  # same
        ("IntuneManagementExtension.log", _cmtrace_seeds(True)[0].data),
    ]
    rng = random.Random(2024)
    out: list[Path] = []
    for i in range(count):
        if i % 2 == 0:
            seed = binary[(i // 2) % len(binary)]
            data = mutate(rng, seed, binary)
            data = data[: rng.randrange(len(data) // 4, max(len(data) * 3 // 4, 1) + 1)]
            name = seed.name
        else:
            name, text = texts[(i // 2) % len(texts)]
            lines = text.split(b"\n")
            lines.insert(1, b"\x01\x02 garbage ]LOG]!> \xff")  # after a header: never inside data
            data = b"\n".join(lines)
            if name.endswith(".log"):
                data = data[: len(data) - 40]  # and cut inside the last record
        folder = tmp / f"{i:02d}"
        folder.mkdir(parents=True)
        path = folder / name
        path.write_bytes(data)
        out.append(path)
    return out


def _cli(path: Path, cache: Path) -> tuple[Path, subprocess.CompletedProcess[str]]:
    env = {**os.environ, "ESPVIEW_CACHE_DIR": str(cache), "ESPVIEW_WORKERS": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "core.cli", "report", str(path)],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        timeout=120,
        check=False,
    )
    return path, proc


def test_cli_report_on_corrupted_inputs(tmp_path: Path) -> None:
    inputs = _corrupted(tmp_path / "in")
    assert len(inputs) == 50
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda p: _cli(p, tmp_path / "cache"), inputs))
    bad = []
    for path, proc in results:
        lines = proc.stderr.strip().splitlines()
        if proc.returncode not in {1, 2} or "Traceback" in proc.stderr or len(lines) > 1:
            bad.append(f"{path.parent.name}/{path.name}: exit {proc.returncode}\n{proc.stderr}")
        elif proc.returncode == 2 and not lines:
            bad.append(f"{path.parent.name}/{path.name}: exit 2 without a message")
    assert not bad, "\n".join(bad[:10])

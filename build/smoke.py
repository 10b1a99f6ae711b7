"""Smoke-test a frozen ESPView binary against the unfrozen CLI.

    python build/smoke.py build/dist/espview [--real CAB]

Checks, each printed as PASS/FAIL with a figure where there is one:
1. ``report --sample --json`` gives the same JSON frozen and unfrozen;
2. the same on a real cab (``--real``, default: the largest of ../shared/fixtures/real);
3. ``events --json`` on a folder of several evtx files (parsed in worker processes) is the
   same frozen and unfrozen;
4. ``--sample --screenshot`` renders a PNG offscreen;
5. the binary runs from a read-only folder with HOME and the cache folder unwritable
   (everything falls back to temp);
6. size of the binary and time to a painted window (sample loaded), warm.
Exit 0 when every check passed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REAL = (ROOT / ".." / "shared" / "fixtures" / "real").resolve()
TIMEOUT = 600


def _env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    env.update(extra)
    return env


def _run(
    cmd: list[str], env: dict[str, str] | None = None, cwd: Path | None = None
) -> tuple[int, str, str]:
    proc = subprocess.run(
        cmd,
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="replace",
        env=env or _env(),
        cwd=cwd,
        timeout=TIMEOUT,
        check=False,
    )
    return proc.returncode, proc.stdout, proc.stderr


def _unfrozen() -> list[str]:
    return [sys.executable, "-m", "core.cli"]


def _normalise_report(text: str) -> dict[str, object]:
    report = json.loads(text)
    # The frozen exe unpacks the bundled sample into its own temp folder, so the sample's
    # absolute path differs; everything else must be identical.
    report["source"]["path"] = Path(report["source"]["path"]).name
    return report


class Smoke:
    def __init__(self, binary: Path) -> None:
        self.binary = binary
        self.failures: list[str] = []

    def check(self, name: str, ok: bool, detail: str = "") -> None:
        print(f"{'PASS' if ok else 'FAIL'}  {name}{'  ' + detail if detail else ''}", flush=True)
        if not ok:
            self.failures.append(name)

    def same_report(self, name: str, args: list[str]) -> None:
        code_f, out_f, err_f = _run([str(self.binary), *args])
        code_u, out_u, err_u = _run([*_unfrozen(), *args], cwd=ROOT)
        try:
            same = _normalise_report(out_f) == _normalise_report(out_u)
        except (json.JSONDecodeError, KeyError, TypeError):
            same = False
        detail = f"exit {code_f}/{code_u}"
        if not same:
            detail += (
                f"; frozen stderr: {err_f.strip()[:300]}; unfrozen stderr: {err_u.strip()[:300]}"
            )
        self.check(name, same and code_f == code_u and code_f in (0, 1), detail)

    def same_events(self, folder: Path) -> None:
        args = ["events", str(folder), "--json"]
        env = _env(ESPVIEW_WORKERS="2")
        code_f, out_f, err_f = _run([str(self.binary), *args], env=env)
        code_u, out_u, _ = _run([*_unfrozen(), *args], env=env, cwd=ROOT)
        lines = out_f.count("\n")
        self.check(
            "events --json in worker processes, frozen == unfrozen",
            out_f == out_u and code_f == code_u and lines > 0,
            f"{lines} events; exit {code_f}/{code_u} {err_f.strip()[:200]}",
        )

    def screenshot(self, workdir: Path) -> None:
        png = workdir / "shot.png"
        code, _, err = _run([str(self.binary), "--sample", "--screenshot", str(png)])
        ok = code == 0 and png.is_file() and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        self.check("--sample --screenshot renders a PNG", ok, f"exit {code} {err.strip()[:200]}")

    def read_only(self, workdir: Path) -> None:
        ro = workdir / "readonly"
        ro.mkdir()
        exe = ro / self.binary.name
        shutil.copy2(self.binary, exe)
        home = workdir / "home"
        home.mkdir()
        # chmod alone does not stop root (CI runs as root): a cache folder *below a file*
        # cannot be created by anybody.
        blocker = home / "blocker"
        blocker.write_text("not a folder", encoding="utf-8")
        for folder in (ro, home):
            folder.chmod(stat.S_IRUSR | stat.S_IXUSR)
        env = _env(HOME=str(home), XDG_CACHE_HOME=str(blocker / "cache"), APPDATA=str(blocker))
        env.pop("ESPVIEW_CACHE_DIR", None)
        try:
            code, out, err = _run([str(exe), "report", "--sample", "--json"], env=env, cwd=ro)
            ok = code in (0, 1) and out.lstrip().startswith("{")
            written = [p for p in (*ro.iterdir(), *home.rglob("*")) if p not in (exe, blocker)]
            self.check(
                "runs from a read-only folder, HOME unwritable",
                ok and not written,
                f"exit {code}; new files: {written[:3]} {err.strip()[:200]}",
            )
        finally:
            for folder in (ro, home):
                folder.chmod(stat.S_IRWXU)

    def figures(self) -> None:
        size = self.binary.stat().st_size / 1e6
        self.check("binary size <= 80 MB", size <= 80, f"{size:.1f} MB")
        times = []
        for _ in range(3):
            with tempfile.TemporaryDirectory() as tmp:
                start = time.perf_counter()
                code, _, _ = _run(
                    [str(self.binary), "--sample", "--screenshot", str(Path(tmp) / "s.png")]
                )
                times.append(time.perf_counter() - start)
        warm = min(times[1:])
        self.check(
            "start to a painted window (sample), warm <= 3 s",
            code == 0 and warm <= 3,
            f"{warm:.2f} s",
        )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("binary", type=Path)
    parser.add_argument(
        "--real", type=Path, default=REAL / "mdmdiag-itziktdk-MyRes" / "MDMDiagReport.cab"
    )
    args = parser.parse_args()
    smoke = Smoke(args.binary.resolve())
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        smoke.same_report(
            "report --sample --json, frozen == unfrozen", ["report", "--sample", "--json"]
        )
        if args.real.is_file():
            smoke.same_report(
                f"report --json on {args.real.parent.name}, frozen == unfrozen",
                ["report", str(args.real), "--json"],
            )
            smoke.same_events(args.real.parent / "extracted")
        else:
            print(f"SKIP  real cab {args.real} not present")
        smoke.screenshot(work)
        if os.name != "nt":
            smoke.read_only(work)
        smoke.figures()
    if smoke.failures:
        print(f"{len(smoke.failures)} smoke check(s) failed: {', '.join(smoke.failures)}")
        return 1
    print("all smoke checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())

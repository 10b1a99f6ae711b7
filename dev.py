"""Set up and run ESPView from a fresh checkout: the two commands the README names.

    python3 dev.py run [ARGS...]   run ESPView (the bundled sample when given no file)
    python3 dev.py test [PYTEST ARGS...]   ruff, mypy on core, the layer contracts, then the tests
    python3 dev.py freeze          build the one-file executable into build/dist and smoke-test it
    python3 dev.py knowledge [--check]   regenerate the error-code and event-message tables
                                   (resources/knowledge/codes.tsv, messages.toml) from their
                                   inputs; --check only verifies they are up to date; then
                                   audits the messages against Windows' message tables
                                   (build/knowledge/audit_messages.py; run it alone to read
                                   ours and Windows' texts side by side)
    python3 dev.py gallery OUT [CAPTURE...]   screenshots of every view (offscreen) into OUT

Each command creates ``.venv`` beside this file on first use and installs the project
with its development extras into it; it reinstalls only when ``pyproject.toml`` changes.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
STAMP = VENV / ".espview-installed"


def _venv_python() -> Path:
    if os.name == "nt":
        return VENV / "Scripts" / "python.exe"
    return VENV / "bin" / "python"


def _venv_script(name: str) -> Path:
    if os.name == "nt":
        return VENV / "Scripts" / f"{name}.exe"
    return VENV / "bin" / name


def _ensure_venv() -> Path:
    python = _venv_python()
    if not python.exists():
        print(f"dev.py: creating {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if not STAMP.exists() or STAMP.read_text(encoding="utf-8") != wanted:
        print("dev.py: installing ESPView and its test tools into .venv", flush=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
             "-e", f"{ROOT}[dev,freeze]"],
            check=True,
        )
        STAMP.write_text(wanted, encoding="utf-8")
    return python


def _run(cmd: list[str]) -> int:
    print("dev.py: $ " + " ".join(cmd[2:] if cmd[1] == "-m" else cmd), flush=True)
    return subprocess.run(cmd, cwd=ROOT, check=False).returncode


def test(args: list[str]) -> int:
    python = str(_ensure_venv())
    failed = []
    for name, cmd in (
        ("ruff", [python, "-m", "ruff", "check", "."]),
        ("mypy", [python, "-m", "mypy"]),
        ("lint-imports", [str(_venv_script("lint-imports")), "--no-cache"]),
    ):
        if _run(cmd) != 0:
            failed.append(name)
    code = _run([python, "-m", "pytest", *args])
    if code == 5:
        print("dev.py: pytest collected no tests: that is a failure here", flush=True)
    if code != 0:
        failed.append("pytest")
    if failed:
        print(f"dev.py: FAILED: {', '.join(failed)}", flush=True)
        return 1
    return 0


def freeze(args: list[str]) -> int:
    python = str(_ensure_venv())
    dist, work = ROOT / "build" / "dist", ROOT / "build" / "work"
    code = _run(
        [python, "-m", "PyInstaller", str(ROOT / "build" / "espview.spec"), "--noconfirm",
         "--log-level", "WARN", "--distpath", str(dist), "--workpath", str(work)]
    )
    if code != 0:
        print("dev.py: FAILED: PyInstaller build", flush=True)
        return code
    binary = dist / ("espview.exe" if os.name == "nt" else "espview")
    return _run([python, str(ROOT / "build" / "smoke.py"), str(binary), *args])


def knowledge(args: list[str]) -> int:
    """Both generators under build/knowledge; their inputs are named in their docstrings
    (mingw-w64 winerror.h: apt-get install mingw-w64-common; the providers' manifests under
    ../shared/fixtures/real/event-message-tables, or --manifests DIR)."""
    code = 0
    for script in ("gen_codes.py", "gen_messages.py"):
        extra = [a for a in args if a == "--check" or script == "gen_messages.py"]
        code = max(code, _run([sys.executable, str(ROOT / "build" / "knowledge" / script), *extra]))
    # Then the messages against Windows' own message tables: a template showing a field
    # Windows' message does not show fails (2 = the tables are not here: nothing to compare).
    auditor = ROOT / "build" / "knowledge" / "audit_messages.py"
    audit = _run([sys.executable, str(auditor), "--check"])
    return max(code, audit if audit != 2 else 0)


def run(args: list[str]) -> int:
    python = str(_ensure_venv())
    args = args or ["--sample"]
    return subprocess.run([python, "-m", "core.cli", *args], check=False).returncode


def gallery(args: list[str]) -> int:
    python = str(_ensure_venv())
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    return subprocess.run([python, "-m", "gui.gallery", *args], cwd=ROOT, env=env,
                          check=False).returncode


def main() -> int:
    commands = {"run": run, "test": test, "freeze": freeze, "gallery": gallery,
                "knowledge": knowledge}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        print(__doc__)
        return 2
    return commands[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())

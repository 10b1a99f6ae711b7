"""The architecture's layer rules, held by tests.

``core`` never imports Qt (checked by importing every module in a clean interpreter), and the
import-linter contracts in ``pyproject.toml`` (the layers of ARCHITECTURE.md) hold on this
checkout and fail on a copy with one planted back-edge.
"""

from __future__ import annotations

import pkgutil
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import core

REPO = Path(__file__).resolve().parent.parent


def _core_modules() -> list[str]:
    return sorted(
        info.name
        for info in pkgutil.walk_packages(core.__path__, prefix="core.")
        if not info.name.startswith("core.__")
    )


def test_core_imports_no_qt() -> None:
    modules = _core_modules()
    assert "core.cli" in modules
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "qt = {'PySide6', 'shiboken6', 'gui'}\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in qt)\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""


def test_top_level_packages_are_ours() -> None:
    """``core`` and ``gui`` are generic names: make sure nothing else shadows them."""
    import gui

    assert Path(core.__file__).resolve().parent == REPO / "core"
    assert Path(gui.__file__).resolve().parent == REPO / "gui"


def _lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    script = Path(sys.executable).with_name("lint-imports")
    if not script.exists():
        script = script.with_suffix(".exe")
    # The contracts name the packages; run from ``root`` so its copy is the one analysed.
    env = {"PYTHONPATH": str(root), "PATH": str(script.parent), "LC_ALL": "C.UTF-8"}
    return subprocess.run(
        [str(script), "--no-cache", str(root / "pyproject.toml")],
        cwd=root, capture_output=True, text=True, check=False, env=env,
    )


def _copy_project(dest: Path) -> Path:
    for name in ("core", "gui"):
        shutil.copytree(REPO / name, dest / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy2(REPO / "pyproject.toml", dest / "pyproject.toml")
    return dest


def test_layer_contracts_hold() -> None:
    result = _lint_imports(REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "planted", "contract"),
    [
        # A reader that reaches up into the analysis.
        ("core/sources/safety.py", "import core.esp.model", "cli > gui > report"),
        # The analysis that reaches into reports.
        ("core/esp/hresult.py", "import core.report.common", "cli > gui > report"),
        # The GUI parsing a file itself.
        ("gui/timefmt.py", "import core.registry.dump", "the GUI parses nothing"),
        # core pulling in Qt.
        ("core/problems.py", "import PySide6.QtCore", "core never imports Qt"),
    ],
)
def test_a_planted_violation_breaks_a_contract(
    tmp_path: Path, module: str, planted: str, contract: str
) -> None:
    root = _copy_project(tmp_path)
    target = root / module
    target.write_text(target.read_text(encoding="utf-8") + f"\n{planted}\n", encoding="utf-8")
    result = _lint_imports(root)
    assert result.returncode != 0
    broken = [line for line in result.stdout.splitlines() if "BROKEN" in line]
    assert any(line.startswith(contract) for line in broken), result.stdout


def test_every_core_module_has_a_layer() -> None:
    """A new top-level module or package of ``core`` must be placed in the layers contract,
    or nothing would check what it imports."""
    import tomllib

    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    layers = next(c for c in contracts if c["id"] == "layers")["layers"]
    placed = {name.strip() for layer in layers for name in layer.split("|")}
    top = {
        f"core.{info.name}"
        for info in pkgutil.iter_modules(core.__path__)
        if not info.name.startswith("__")
    }
    assert top - placed == set()

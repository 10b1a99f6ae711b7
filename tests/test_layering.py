"""The architecture's one rule that a test can hold: ``core`` never imports Qt."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

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

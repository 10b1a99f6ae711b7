"""Configuration is read once at the edge: no module under ``core/`` reads the environment,
except ``core.cli.main`` (the edge, which also starts the GUI). ``core.config`` turns a mapping
into :class:`core.config.Settings` without touching ``os.environ`` itself."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from core.config import Settings

CORE = Path(__file__).resolve().parent.parent / "core"

#: (module, function) allowed to read the environment.
EDGES = {("cli.py", "main")}
_READERS = {"environ", "getenv", "environb", "getenvb", "expandvars", "putenv", "unsetenv"}


def environment_reads(source: str) -> list[tuple[int, str | None]]:
    """(line, enclosing function) of every ``os.environ`` / ``os.getenv`` / ``expandvars``
    use, and every ``from os import environ``, in ``source``."""
    tree = ast.parse(source)
    found: list[tuple[int, str | None]] = []

    def visit(node: ast.AST, function: str | None) -> None:
        for child in ast.iter_child_nodes(node):
            inner = function
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                inner = child.name if function is None else function
            if (isinstance(child, ast.Attribute) and child.attr in _READERS) or (
                isinstance(child, ast.ImportFrom)
                and child.module in {"os", "os.path"}
                and any(alias.name in _READERS for alias in child.names)
            ):
                found.append((child.lineno, function))
            visit(child, inner)

    visit(tree, None)
    return found


def test_core_reads_no_environment_outside_the_edge() -> None:
    offenders = []
    for path in sorted(CORE.rglob("*.py")):
        rel = path.relative_to(CORE).as_posix()
        for line, function in environment_reads(path.read_text(encoding="utf-8")):
            if (rel, function) not in EDGES:
                offenders.append(f"core/{rel}:{line} (in {function or 'module level'})")
    assert not offenders, "core reads the environment here:\n" + "\n".join(offenders)


@pytest.mark.parametrize(
    "source",
    [
        "import os\nX = os.environ.get('A')\n",
        "import os\ndef f():\n    return os.getenv('A')\n",
        "from os import environ\n",
        "import os\ndef f():\n    return os.path.expandvars('%A%')\n",
    ],
)
def test_the_check_sees_every_way_of_reading(source: str) -> None:
    assert environment_reads(source), "a read of the environment went unnoticed"


def test_settings_from_a_mapping() -> None:
    env = {
        "ESPVIEW_CACHE_DIR": "/somewhere",
        "ESPVIEW_CAB_BACKEND": " Python ",
        "ESPVIEW_WORKERS": "3",
        "ESPVIEW_VALIDATE_REPORTS": "1",
        "SYSTEMROOT": r"D:\Win",
    }
    settings = Settings.from_environ(env)
    assert settings.cache_dir == Path("/somewhere")
    assert settings.cab_backend == "python"
    assert settings.workers == 3
    assert settings.validate_reports
    assert settings.windows_folder(r"%windir%\x %ProgramData%\y") == r"D:\Win\x C:\ProgramData\y"
    assert Settings.from_environ({"ESPVIEW_WORKERS": "zero"}).workers is None
    assert Settings.from_environ({}) == Settings()

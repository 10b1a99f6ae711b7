"""Guard against a PySide6 regression that kills the app within seconds.

PySide6 6.12.0 under CPython 3.11 returned ``None`` from void calls and from empty
``QModelIndex.data()`` without taking a reference; the refcount of ``None`` fell until CPython
aborted with "none_dealloc". pyproject.toml keeps PySide6 below 6.12; this test fails (in a
subprocess, so the abort cannot take the test run with it) if an installed version leaks.
"""

from __future__ import annotations

import os
import subprocess
import sys

CODE = """
import sys
from PySide6.QtCore import QStringListModel
from PySide6.QtWidgets import QApplication, QWidget
app = QApplication([])
widget = QWidget()
model = QStringListModel(["a"])
index = model.index(0, 0)
before = sys.getrefcount(None)
for _ in range(20000):
    widget.update()
    app.processEvents()
    model.data(index, 1000)
print(before - sys.getrefcount(None))
"""


def test_pyside_does_not_leak_references_to_none() -> None:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    result = subprocess.run(
        [sys.executable, "-c", CODE], capture_output=True, text=True, env=env, timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-500:]
    lost = int(result.stdout.strip().splitlines()[-1])
    assert lost < 1000, f"None lost {lost} references in 20,000 calls"

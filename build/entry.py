"""Entry point of the frozen executable (PyInstaller runs this file as ``__main__``)."""

from __future__ import annotations

from core.cli import run

if __name__ == "__main__":
    run()

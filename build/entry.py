"""Entry point of the frozen executable (PyInstaller runs this file as ``__main__``)."""

from __future__ import annotations

import sys

from core.cli import main

if __name__ == "__main__":
    sys.exit(main())

"""What both knowledge generators do with their result: write it, or check it is current."""

from __future__ import annotations

import sys
from pathlib import Path


def write_or_check(output: Path, text: str, *, check: bool, tool: str) -> int:
    """Write ``text`` to ``output`` (0); with ``check`` only compare (1 when stale)."""
    if check:
        current = output.read_text(encoding="utf-8") if output.exists() else ""
        if current != text:
            print(f"{tool}: {output} is stale; run python3 dev.py knowledge", file=sys.stderr)
            return 1
        return 0
    output.write_text(text, encoding="utf-8", newline="\n")
    return 0

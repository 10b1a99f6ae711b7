"""``espview registry`` output: evidence text is shown, never sent to the terminal raw."""

from __future__ import annotations

import io
from pathlib import Path

from core.registry.dump import parse_dump
from core.registry.render import format_tree
from tests.builders.reg import write_dump_reg


def test_escape_sequences_in_names_and_data_are_escaped(tmp_path: Path) -> None:
    keys = {
        "HKLM\\SOFTWARE\\Evil\x1b[2J": {
            "Name\x1b]0;title\x07": ("REG_SZ", "data\x1b[31mred"),
            "Multi": ("REG_MULTI_SZ", ["a\x1bb"]),
        }
    }
    view = parse_dump(write_dump_reg(tmp_path / "MdmDiagReport_RegistryDump.reg", keys))
    out = io.StringIO()
    assert format_tree(view, None, out) >= 3
    text = out.getvalue()
    assert "\x1b" not in text
    assert "\x07" not in text
    assert "Evil\\x1b[2J" in text
    assert "Name\\x1b]0;title\\x07" in text

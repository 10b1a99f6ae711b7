"""Problems print on one line, whatever the evidence put in their names."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from core import cli
from core.problems import Problem, printable


def test_a_problem_prints_escapes_not_control_characters() -> None:
    problem = Problem("a\x1b[2Jb.evtx", "line\n2", "bad \u202edata\x9b")
    text = str(problem)
    assert text == "a\\x1b[2Jb.evtx (line\\n2): bad \\u202edata\\x9b"
    assert printable("plain ü text") == "plain ü text"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_the_cli_problem_list_is_escaped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    os.mkfifo(tmp_path / "x\x1b]0;pwned\x07.evtx")
    (tmp_path / "MdmDiagReport_RegistryDump.reg").write_text("[HKEY_LOCAL_MACHINE\\x]\r\n")
    code = cli.main(["events", str(tmp_path)], out=io.StringIO())
    err = capsys.readouterr().err
    assert code == cli.EXIT_PROBLEMS
    assert "\x1b" not in err
    assert "x\\x1b]0;pwned\\x07.evtx" in err

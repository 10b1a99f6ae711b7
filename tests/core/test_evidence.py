"""Evidence loading: which reader gets which file, single files and folders alike."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from core.evidence import load_evidence
from tests.builders.logs import cmtrace_line, write_cmtrace
from tests.builders.reg import write_dump_reg, write_regedit_reg
from tests.core.esp.builders import T0


@pytest.mark.real
def test_a_hive_opened_directly_is_read_whatever_its_name(real_dir: Path, tmp_path: Path) -> None:
    hive = tmp_path / "copied-off-a-disk"
    shutil.copy(real_dir / "registry-hives/williballenthin-python-registry/UNICODE_TESTS", hive)
    evidence = load_evidence(hive)
    assert evidence.source.kind == "hive"
    assert evidence.registry.roots()
    assert evidence.registry.kind == "hive"


def test_a_folder_routes_each_file_to_its_reader(tmp_path: Path) -> None:
    keys = {r"HKLM\SOFTWARE\Microsoft\Provisioning\AutopilotSettings": {"A": ("REG_DWORD", 1)}}
    write_dump_reg(tmp_path / "MdmDiagReport_RegistryDump.reg", keys)
    (tmp_path / "(1) IME").mkdir()
    write_regedit_reg(tmp_path / "(1) IME" / "export.reg", {r"HKLM\SOFTWARE\X": {}})
    write_cmtrace(tmp_path / "IntuneManagementExtension.log", [cmtrace_line(T0, "hello", "IME")])
    (tmp_path / "setupact.log").write_text("plain text, not CMTrace\n", encoding="utf-8")
    (tmp_path / "notes.txt").write_text("ignored\n", encoding="utf-8")
    evidence = load_evidence(tmp_path)
    assert evidence.registry.key(r"HKLM\SOFTWARE\Microsoft\Provisioning\AutopilotSettings")
    assert evidence.registry.key(r"HKLM\SOFTWARE\X") is not None  # both .reg files read
    assert [line.message for line in evidence.logs] == ["hello"]
    assert evidence.problems == []

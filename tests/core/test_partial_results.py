"""Partial results: damage in one file of a capture never costs the ESP view from the rest.

The bundled sample (a Device setup › Apps failure) is extracted, one or all of its files are
damaged the way broken devices damage them, and the folder is analysed again: the composite
view is still whole, the failure and its hint still show, and Problems name the file, the
place and why.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from core.cli import sample_path
from core.esp.analyze import analyze
from core.esp.model import EspReport
from core.evidence import load_evidence
from core.problems import Problem
from core.sources.cab import extract_cab
from tests.builders.evtx import corrupt_chunk

SHELL_CORE = "microsoft-windows-shell-core-operational.evtx"
DUMP = "MdmDiagReport_RegistryDump.reg"
IME = "IntuneManagementExtension.log"


def _corrupt_evtx(folder: Path) -> tuple[str, str]:
    corrupt_chunk(folder / SHELL_CORE, 0, at=0x20, count=8)  # chunk header: checksum fails
    return SHELL_CORE, "chunk 0"


def _cut_dump(folder: Path) -> tuple[str, str]:
    path = folder / DUMP
    data = path.read_bytes()
    # Cut in the middle of a value line near the end (the IME Win32Apps keys), as a dump
    # written by a tool that was killed would be.
    at = data.rfind(b'"', 0, len(data) - 200)
    path.write_bytes(data[:at] + b'\r\n    "Broken"=dword:0000\r\n    "Half')
    return DUMP, "line"


def _break_ime_log(folder: Path) -> tuple[str, str]:
    path = folder / IME
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2] + b"\x00\xff\xfe garbage \x00" * 20)
    return IME, "line"


DAMAGE: dict[str, Callable[[Path], tuple[str, str]]] = {
    "corrupt evtx chunk": _corrupt_evtx,
    "cut registry dump": _cut_dump,
    "broken IME log": _break_ime_log,
}


@pytest.fixture
def sample_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "capture"
    extract_cab(sample_path(), folder, backend="python")
    return folder


def _assert_whole_view(report: EspReport) -> None:
    assert [phase.id for phase in report.phases] == [
        "DevicePreparation",
        "DeviceSetup",
        "AccountSetup",
    ]
    assert [len(phase.steps) for phase in report.phases] == [4, 4, 5]
    failed = report.first_failed_step
    assert failed is not None
    assert failed.id == "DeviceSetup.AppsSubcategory"
    assert failed.hresult == "0x87D1041C"
    assert failed.hint is not None


def _named(problems: tuple[Problem, ...], file: str, where: str) -> list[Problem]:
    return [p for p in problems if p.file.endswith(file) and where in p.where and p.message]


def test_the_undamaged_sample_has_no_problems(sample_folder: Path) -> None:
    report = analyze(load_evidence(sample_folder))
    _assert_whole_view(report)
    assert report.source.problems == ()


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_one_damaged_file_still_gives_the_whole_view(sample_folder: Path, damage: str) -> None:
    file, where = DAMAGE[damage](sample_folder)
    report = analyze(load_evidence(sample_folder))
    _assert_whole_view(report)
    assert _named(report.source.problems, file, where), report.source.problems


def test_all_damage_at_once(sample_folder: Path) -> None:
    expected = [damage(sample_folder) for damage in DAMAGE.values()]
    report = analyze(load_evidence(sample_folder))
    _assert_whole_view(report)
    for file, where in expected:
        assert _named(report.source.problems, file, where), (file, report.source.problems)

"""Outputs never land on the evidence, and every output-path problem is one line, exit 2."""

from __future__ import annotations

import errno
import io
import os
from pathlib import Path

import pytest

from core import cli
from core.outputs import OutputError, check_output_file, write_output_file
from tests.builders.cab import Folder, build_cab


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = cli.main(args, out=io.StringIO())
    return code, capsys.readouterr().err


def _one_line_exit_2(code: int, err: str, *words: str) -> None:
    assert code == cli.EXIT_UNUSABLE, err
    assert err.count("\n") == 1, err
    assert err.startswith("espview: ")
    assert "Traceback" not in err
    for word in words:
        assert word in err


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    """A copy of the bundled sample cab (the evidence to protect)."""
    cab = tmp_path / "evidence" / "MDMDiagReport.cab"
    cab.parent.mkdir()
    cab.write_bytes(cli.sample_path().read_bytes())
    return cab


def test_html_onto_the_evidence_is_refused(
    sample: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = sample.read_bytes()
    link = tmp_path / "link.html"
    link.symlink_to(sample)
    hard = tmp_path / "hard.html"
    os.link(sample, hard)
    for out in (sample, link, hard):
        code, err = _run(["report", str(sample), "--html", str(out)], capsys)
        _one_line_exit_2(code, err, "will not write")
    assert sample.read_bytes() == before


def test_html_into_an_evidence_folder_or_onto_a_hard_link_inside_it_is_refused(
    sample: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = sample.parent
    code, err = _run(["report", str(folder), "--html", str(folder / "report.html")], capsys)
    _one_line_exit_2(code, err, "inside the evidence folder")
    hard = tmp_path / "elsewhere.html"
    os.link(sample, hard)
    code, err = _run(["report", str(folder), "--html", str(hard)], capsys)
    _one_line_exit_2(code, err, "link to the evidence")
    assert not (folder / "report.html").exists()


def test_html_output_path_problems_are_one_line(
    sample: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = _run(["report", str(sample), "--html", str(tmp_path)], capsys)
    _one_line_exit_2(code, err, "is a folder")
    code, err = _run(["report", str(sample), "--html", str(tmp_path / "no" / "r.html")], capsys)
    _one_line_exit_2(code, err, "does not exist")


def test_a_full_disk_is_one_line_and_leaves_nothing_behind(
    sample: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import core.report.html_report

    def full(report: object, path: Path) -> None:
        path.write_text("<html>half", encoding="utf-8")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(core.report.html_report, "write_html", full)
    out = tmp_path / "out" / "report.html"
    out.parent.mkdir()
    out.write_text("the previous report", encoding="utf-8")
    code, err = _run(["report", str(sample), "--html", str(out)], capsys)
    _one_line_exit_2(code, err, "No space left on device")
    assert out.read_text(encoding="utf-8") == "the previous report"
    assert [p.name for p in out.parent.iterdir()] == ["report.html"]


def test_html_is_written_and_replaces_a_link_instead_of_following_it(
    sample: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = tmp_path / "other.txt"
    other.write_text("not mine to overwrite", encoding="utf-8")
    out = tmp_path / "report.html"
    out.symlink_to(other)
    code, _ = _run(["report", str(sample), "--html", str(out)], capsys)
    assert code in {cli.EXIT_OK, cli.EXIT_PROBLEMS}
    assert not out.is_symlink()
    assert out.read_text(encoding="utf-8").lstrip().lower().startswith("<!doctype html")
    assert other.read_text(encoding="utf-8") == "not mine to overwrite"


def test_extract_onto_a_file_and_onto_the_cab_itself(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cab = tmp_path / "x.cab"
    cab.write_bytes(build_cab([Folder([("a.txt", b"a")])]))
    target = tmp_path / "existing.txt"
    target.write_text("keep", encoding="utf-8")
    code, err = _run(["extract", str(cab), str(target)], capsys)
    _one_line_exit_2(code, err, "not a folder")
    assert target.read_text(encoding="utf-8") == "keep"
    # A member named like the cab, extracted next to it, would overwrite the evidence.
    evil = tmp_path / "box" / "self.cab"
    evil.parent.mkdir()
    evil.write_bytes(build_cab([Folder([("self.cab", b"overwritten")])]))
    before = evil.read_bytes()
    code, err = _run(["extract", str(evil), str(evil.parent)], capsys)
    _one_line_exit_2(code, err, "evidence")
    assert evil.read_bytes() == before


def test_extract_salvages_a_cut_cab_and_says_what_was_lost(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = [(f"m{i:02d}.txt", bytes([65 + i]) * 1500) for i in range(29)]
    data = build_cab([Folder(files, "mszip", block_size=1500)])
    cab = tmp_path / "cut.cab"
    cab.write_bytes(data[: len(data) * 95 // 100])
    out = io.StringIO()
    code = cli.main(["extract", str(cab), str(tmp_path / "out")], out=out)
    err = capsys.readouterr().err
    assert code == cli.EXIT_PROBLEMS
    extracted = int(out.getvalue().split()[0])
    assert 20 <= extracted < 29
    assert out.getvalue().startswith(f"{extracted} of 29 members extracted")
    assert f"{29 - extracted} problem(s)" in err


def test_screenshot_onto_the_evidence_is_refused(
    sample: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = _run([str(sample), "--screenshot", str(sample)], capsys)
    _one_line_exit_2(code, err, "will not write")


def test_write_output_file_checks_first(tmp_path: Path) -> None:
    evidence = tmp_path / "e.reg"
    evidence.write_text("x", encoding="utf-8")
    with pytest.raises(OutputError, match="evidence being read"):
        check_output_file(tmp_path / "." / "e.reg", [evidence])
    written: list[Path] = []
    write_output_file(tmp_path / "r.html", [evidence], written.append)
    assert (tmp_path / "r.html").exists()
    assert written[0] != tmp_path / "r.html"  # written beside it, then moved


def test_diff_and_batch_outputs_are_checked_too(
    sample: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = sample.read_bytes()
    code, err = _run(["diff", str(sample), str(sample), "--html", str(sample)], capsys)
    _one_line_exit_2(code, err, "will not write")
    code, err = _run(["batch", str(sample.parent), "--csv", str(tmp_path)], capsys)
    _one_line_exit_2(code, err, "is a folder")
    code, err = _run(["batch", str(sample.parent), "--json", str(sample.parent / "r.json")],
                     capsys)  # fmt: skip
    _one_line_exit_2(code, err, "inside the evidence folder")
    assert sample.read_bytes() == before

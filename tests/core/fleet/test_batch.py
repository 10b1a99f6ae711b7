"""espview batch: mixed captures, resume from the cache, Ctrl+C, the Dask path."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from core.cli import main
from core.fleet.batch import Row, find_captures, run_batch, summarise
from core.fleet.batch_report import redact_rows, rows_csv
from tests.core.fleet.builders import DEVICE_NAME, SERIAL, story, write

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two failing, one fixed, one unreadable capture, and an extracted-folder capture."""
    root = tmp_path_factory.mktemp("fleet")
    write(story(), root / "site1", "failing-a")
    write(story(timeout=90, name="CONTOSO-LT-0043", serial="SN7XK2Q9Z5"), root / "site1",
          "failing-b")
    write(story(apps_failed=False, name="CONTOSO-LT-0044", serial="SN7XK2Q9Z6"), root / "site2",
          "fixed")
    (root / "site2" / "broken.cab").write_bytes(b"MSCF" + b"\x00" * 20)
    return root


def _cache(tmp_path: Path) -> Path:
    path = tmp_path / "cache"
    path.mkdir()
    return path


def test_mixed_captures_one_row_each(fleet: Path, tmp_path: Path) -> None:
    result = run_batch([str(fleet)], jobs=1, cache_root=_cache(tmp_path))
    assert result.total == 4
    assert len(result.rows) == 4
    assert not result.interrupted
    by_name = {Path(r.source).name: r for r in result.rows}
    assert by_name["broken.cab"].outcome == "error"
    assert by_name["broken.cab"].error
    assert by_name["fixed.cab"].outcome == "succeeded"
    failing = by_name["failing-a.cab"]
    assert failing.outcome == "failed"
    assert failing.failed_step_id == "DeviceSetup.AppsSubcategory"
    assert failing.code == "0x87D1041C"
    assert failing.device == DEVICE_NAME
    assert failing.serial == SERIAL
    summary = summarise(result.rows)
    assert summary.failing_steps[0][1] == 2
    assert summary.codes[0][0].startswith("0x87D1041C")
    assert any("Contoso VPN" in app and n == 2 for app, n in summary.failing_apps)
    assert dict(summary.outcomes) == {"failed": 2, "succeeded": 1, "error": 1}
    modes = dict(summary.by_mode)
    assert modes["user_driven"] == {"failed": 2, "succeeded": 1}


def test_resume_skips_done_captures_and_fresh_redoes(fleet: Path, tmp_path: Path) -> None:
    cache = _cache(tmp_path)
    first = run_batch([str(fleet)], jobs=1, cache_root=cache)
    assert not any(r.cached for r in first.rows)
    second = run_batch([str(fleet)], jobs=1, cache_root=cache)
    cached = {Path(r.source).name for r in second.rows if r.cached}
    # unreadable captures are retried, the rest comes from the cache
    assert cached == {"failing-a.cab", "failing-b.cab", "fixed.cab"}
    assert [r.outcome for r in second.rows] == [r.outcome for r in first.rows]
    fresh = run_batch([str(fleet)], jobs=1, cache_root=cache, fresh=True)
    assert not any(r.cached for r in fresh.rows)


def test_process_pool_matches_serial(fleet: Path, tmp_path: Path) -> None:
    serial = run_batch([str(fleet)], jobs=1, cache_root=_cache(tmp_path))
    pooled = run_batch([str(fleet)], jobs=2, cache_root=tmp_path / "other")
    strip = ("worker_peak_kb",)

    def rows(result: object) -> list[dict[str, object]]:
        return [{k: v for k, v in vars_of(r).items() if k not in strip}
                for r in result.rows]  # type: ignore[attr-defined]

    assert rows(serial) == rows(pooled)


def vars_of(row: Row) -> dict[str, object]:
    from dataclasses import asdict

    return asdict(row)


def test_cli_outputs_link_reports_and_redact(fleet: Path, tmp_path: Path) -> None:
    out_csv, out_html, out_json = tmp_path / "f.csv", tmp_path / "f.html", tmp_path / "f.json"
    code = main(["batch", str(fleet / "site1"), str(fleet / "site2"), "--jobs", "1",
                 "--csv", str(out_csv), "--html", str(out_html), "--json", str(out_json),
                 "--redact"], out=io.StringIO())
    assert code == 1  # one capture could not be read
    rows = list(csv.DictReader(out_csv.read_text(encoding="utf-8-sig").splitlines()))
    assert len(rows) == 4
    data = json.loads(out_json.read_text(encoding="utf-8"))
    assert data["redacted"] is True
    assert data["summary"]["failing_steps"]
    page = out_html.read_text(encoding="utf-8")
    for text in (out_csv.read_text(encoding="utf-8-sig"), page, out_json.read_text("utf-8")):
        assert DEVICE_NAME not in text
        assert SERIAL not in text
    links = list(page.split('href="')[1:])
    assert len(links) == 3  # every readable capture links to its own report
    for link in links:
        target = out_html.parent / link.split('"', 1)[0]
        assert target.is_file()
        assert DEVICE_NAME not in target.read_text(encoding="utf-8")


def test_find_captures_files_folders_globs(fleet: Path) -> None:
    found = find_captures([str(fleet / "site*"), str(fleet / "site1" / "failing-a.cab")])
    assert sorted(p.name for p in found) == ["broken.cab", "failing-a.cab", "failing-b.cab",
                                             "fixed.cab"]
    assert find_captures([str(fleet / "missing.cab")]) == [fleet / "missing.cab"]


def test_no_capture_is_exit_2(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["batch", str(empty / "*.cab")], out=io.StringIO()) in (1, 2)
    assert main(["batch", str(empty)], out=io.StringIO()) == 2


def test_csv_is_formula_safe_and_rows_redact_consistently() -> None:
    rows = [Row(source="=cmd|'/c calc'!A1", device="PC-1", serial="SNAAAA0001"),
            Row(source="b.cab", device="PC-1", serial="SNAAAA0002")]
    assert "'=cmd" in rows_csv(rows)
    redacted = redact_rows(rows)
    assert redacted[0].device == redacted[1].device == "device-1"
    assert redacted[0].serial != redacted[1].serial


def test_ctrl_c_keeps_rows_done(tmp_path: Path) -> None:
    captures = tmp_path / "many"
    for number in range(24):
        write(story(timeout=30 + number), captures, f"c{number:02d}")
    cache = tmp_path / "cache"
    out_csv = tmp_path / "rows.csv"
    env = dict(os.environ, ESPVIEW_CACHE_DIR=str(cache))
    process = subprocess.Popen(
        [sys.executable, "-m", "core.cli", "batch", str(captures), "--jobs", "2",
         "--csv", str(out_csv)],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 120
    entries = cache / "batch-v1"
    while time.monotonic() < deadline and process.poll() is None:
        if entries.is_dir() and len(list(entries.glob("*.json"))) >= 2:
            break
        time.sleep(0.05)
    assert process.poll() is None, "the batch ended before it could be interrupted"
    process.send_signal(signal.SIGINT)
    _out, err = process.communicate(timeout=60)
    assert process.returncode == 130, err.decode(errors="replace")
    rows = list(csv.DictReader(out_csv.read_text(encoding="utf-8-sig").splitlines()))
    assert 2 <= len(rows) < 24
    assert b"Traceback" not in err
    # a re-run picks up where it stopped
    rerun = run_batch([str(captures)], jobs=1, cache_root=cache)
    assert sum(r.cached for r in rerun.rows) >= len(rows)
    assert len(rerun.rows) == 24


def test_dask_local_cluster(fleet: Path, tmp_path: Path) -> None:
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, protocol="tcp", host="127.0.0.1",
        dashboard_address=None,
    ) as cluster:
        result = run_batch([str(fleet)], dask_address=cluster.scheduler_address,
                           cache_root=_cache(tmp_path))
    local = run_batch([str(fleet)], jobs=1, cache_root=tmp_path / "local")
    assert [(r.source, r.outcome, r.code) for r in result.rows] == [
        (r.source, r.outcome, r.code) for r in local.rows]

"""Read-only proof: loading evidence writes nowhere but the cache and temp folders.

Every real capture (cabs, extracted folders, evtx, dumps) and every builder output, the latter
in a ``chmod`` read-only folder, is loaded in a child process that

* runs with ``ESPVIEW_CACHE_DIR`` pointing at a fresh cache, one worker (no helper processes);
* has a :func:`sys.addaudithook` that records every write-like file operation (open for
  writing, mkdir, rename, remove, rmtree, chmod, utime, link) and every process it starts.

The parent asserts that no recorded write lands outside the cache and temp folders, that the
input trees are unchanged (path, size, mtime_ns), and that the temp folders of extraction are
gone after a success, a cancel and a crash. (The repository and the home folder are shared
with other work running at the same time, so the audit log, not a before/after snapshot, is
the proof for them: it attributes every write to this process.)

The live backends have their own guards: ``tests/core/registry/fake_winreg.py`` refuses every
winreg write call and write access; the fake ``wevtutil`` below accepts only ``epl`` into the
cache.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from core import config
from core.errors import Cancelled
from core.progress import CancelToken
from core.sources import container

REPO = Path(__file__).resolve().parents[2]

# The child: audit every write-like operation, then load each input given on the command line.
_CHILD = r"""
import json, os, sys
log = []
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
EVENTS = {"os.mkdir", "os.rename", "os.remove", "os.rmdir", "shutil.rmtree", "os.chmod",
          "os.utime", "os.link", "os.symlink", "os.truncate", "shutil.move"}
def hook(event, args):
    if event == "open":
        path, mode, flags = args
        writes = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
            mode is None and isinstance(flags, int) and flags & WRITE_FLAGS)
        if writes and isinstance(path, (str, bytes, os.PathLike)):
            log.append(("open", os.fsdecode(path)))
    elif event in EVENTS and args and isinstance(args[0], (str, bytes, os.PathLike)):
        log.append((event, os.fsdecode(args[0])))
    elif event == "subprocess.Popen":
        log.append((event, " ".join(map(str, args[1] or []))))
sys.addaudithook(hook)
from core import config
from core.config import Settings
config.use(Settings.from_environ(os.environ))  # this script is an edge, like the CLI
from core.evidence import load_evidence
from core.errors import EspViewError
results = {}
for path in sys.argv[2:]:
    try:
        ev = load_evidence(path)
        results[path] = f"ok: {len(ev.problems)} problem(s)"
    except EspViewError as exc:
        results[path] = f"error: {exc}"
with open(sys.argv[1], "w", encoding="utf-8") as out:
    json.dump({"writes": log, "results": results}, out)
"""

Snapshot = dict[str, tuple[int, int]]


def snapshot(root: Path) -> Snapshot:
    """(size, mtime_ns) of every file and folder under ``root``."""
    found: Snapshot = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(folder) / name
            try:
                info = path.lstat()
            except OSError:
                continue
            found[str(path)] = (info.st_size, info.st_mtime_ns)
    return found


def _real_inputs(real: Path) -> list[Path]:
    captures = sorted(p for p in real.glob("mdmdiag-*") if p.is_dir())
    inputs: list[Path] = []
    for capture in captures:
        inputs += sorted(capture.glob("*.cab"))
        inputs += [capture / "extracted"] if (capture / "extracted").is_dir() else []
    inputs += sorted(real.glob("*/eventlog.evtx"))
    inputs += sorted(real.glob("evtx-corpora/*/*.evtx"))[:2]
    inputs += sorted(real.glob("ime-logs/*/*.log"))[:1]
    inputs += sorted(real.glob("ztd-json/*/*.json"))[:1]
    return inputs


def _built_inputs(folder: Path) -> list[Path]:
    """Builder outputs of every kind, in ``folder``, which is then made read-only."""
    import io
    import zipfile

    from tests.builders.cab import Folder, build_cab
    from tests.builders.evtx import write_evtx
    from tests.builders.logs import cmtrace_line, write_cmtrace
    from tests.builders.reg import write_dump_reg, write_regedit_reg

    keys = {r"HKLM\SOFTWARE\Microsoft\Provisioning\AutopilotSettings": {"A": ("REG_DWORD", 1)}}
    when = datetime(2024, 4, 2, tzinfo=UTC)
    record = {"time": when, "channel": "Application", "provider": "P", "event_id": 1}
    dump = write_dump_reg(folder / "MdmDiagReport_RegistryDump.reg", keys)
    export = write_regedit_reg(folder / "export.reg", keys)
    evtx = write_evtx(folder / "Events.evtx", [record])
    log = write_cmtrace(folder / "IntuneManagementExtension.log", [cmtrace_line(when, "hello")])
    cab = folder / "mdm.cab"
    members = [(p.name, p.read_bytes()) for p in (dump, evtx, log)]
    cab.write_bytes(build_cab([Folder(members, "lzx", 16)]))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("1/export.reg", export.read_bytes())
        zf.writestr("2/mdmlogs.cab", cab.read_bytes())
    diag = folder / "DiagLogs.zip"
    diag.write_bytes(buf.getvalue())
    return [dump, export, evtx, log, cab, diag, folder]


def _read_only(folder: Path) -> Iterator[Path]:
    for path in [folder, *folder.rglob("*")]:
        mode = path.stat().st_mode
        path.chmod(mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
        yield path


def _inside(path: str, roots: list[Path]) -> bool:
    resolved = Path(path).resolve()
    return any(resolved == r or r in resolved.parents for r in roots)


@pytest.fixture
def built(tmp_path: Path) -> Iterator[list[Path]]:
    folder = tmp_path / "inputs"
    folder.mkdir()
    inputs = _built_inputs(folder)
    locked = list(_read_only(folder))
    yield inputs
    for path in locked:  # let pytest clean up
        path.chmod(path.stat().st_mode | stat.S_IWUSR)


def test_loading_every_input_writes_only_to_cache_and_temp(
    tmp_path: Path, built: list[Path], real_dir: Path
) -> None:
    inputs = [*_real_inputs(real_dir), *built]
    assert len(inputs) >= 10
    cache = tmp_path / "cache"
    report = tmp_path / "audit" / "report.json"
    report.parent.mkdir()
    input_roots = [real_dir, built[-1]]
    before = {root: snapshot(root) for root in input_roots}
    env = {**os.environ, "ESPVIEW_CACHE_DIR": str(cache), "ESPVIEW_WORKERS": "1"}
    env["ESPVIEW_CAB_BACKEND"] = "python"  # everything in-process, under the audit hook
    subprocess.run(
        [sys.executable, "-c", _CHILD, str(report), *map(str, inputs)],
        cwd=REPO,
        env=env,
        check=True,
        timeout=600,
    )
    audit = json.loads(report.read_text(encoding="utf-8"))
    results = audit["results"]
    assert len(results) == len(inputs)
    assert all(r.startswith("ok") for r in results.values()), results
    allowed = [cache.resolve(), Path(tempfile.gettempdir()).resolve(), report.parent.resolve()]
    outside = [
        (event, path)
        for event, path in audit["writes"]
        if event != "subprocess.Popen" and not _inside(path, allowed)
    ]
    assert outside == []
    assert [p for e, p in audit["writes"] if e == "subprocess.Popen"] == []
    assert any(_inside(p, [cache.resolve()]) for _, p in audit["writes"])  # the hook saw them
    for root in input_roots:
        assert snapshot(root) == before[root], f"{root} changed"
    # Extraction leaves complete cache folders only: no temp work folders behind.
    leftovers = [p.name for p in (cache / f"extract-v{container.CACHE_VERSION}").iterdir()]
    assert leftovers
    assert not [name for name in leftovers if name.startswith(".")]


# -- temp folders on cancel and on a crash ------------------------------------------------------


def _cab(tmp_path: Path) -> Path:
    from tests.builders.cab import Folder, build_cab

    files = [(f"f{i}.txt", bytes([65 + i]) * 50_000) for i in range(4)]
    path = tmp_path / "big.cab"
    path.write_bytes(build_cab([Folder(files, "mszip")]))
    return path


def _extract_root(cache: Path) -> Path:
    return cache / f"extract-v{container.CACHE_VERSION}"


def test_temp_folder_removed_on_cancel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(config, "_active", replace(config.current(), cab_backend="python"))
    cab = _cab(tmp_path)
    token = CancelToken()

    def progress(stage: str, done: int, total: int) -> None:
        if done > 0:
            token.cancel()  # mid-extraction: some member files already written

    with pytest.raises(Cancelled):
        container.extract_archive(
            cab, "cab", progress=progress, cancel=token, cache_root=tmp_path / "cache"
        )
    assert list(_extract_root(tmp_path / "cache").iterdir()) == []


def test_temp_folder_removed_on_a_crash(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(config, "_active", replace(config.current(), cab_backend="python"))
    cab = _cab(tmp_path)

    def progress(stage: str, done: int, total: int) -> None:
        if done > 0:
            raise RuntimeError("a bug in a progress callback")

    with pytest.raises(RuntimeError):
        container.extract_archive(cab, "cab", progress=progress, cache_root=tmp_path / "cache")
    assert list(_extract_root(tmp_path / "cache").iterdir()) == []


def test_temp_folder_removed_when_a_killed_process_left_one(tmp_path: Path) -> None:
    # A process killed mid-extraction cannot clean up; the next run must not trust or keep
    # growing its leftovers: the key folder is rebuilt and the stale one does not count.
    cab = _cab(tmp_path)
    root = _extract_root(tmp_path / "cache")
    key = container.file_sha256(cab)
    stale = root / key
    stale.mkdir(parents=True)
    (stale / "f0.txt").write_bytes(b"half")  # no completion marker
    folder = container.extract_archive(cab, "cab", cache_root=tmp_path / "cache")
    assert (folder / "f0.txt").read_bytes() == b"A" * 50_000
    assert [p.name for p in root.iterdir()] == [key]


# -- the live event backend: only `wevtutil epl` into the cache --------------------------------


def test_live_events_only_export_into_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from core.events import live
    from tests.builders.evtx import write_evtx

    cache = tmp_path / "cache"
    cache.mkdir()
    monkeypatch.setattr(live, "cache_dir", lambda: cache)
    calls: list[list[str]] = []
    record = {"time": datetime(2024, 4, 2, tzinfo=UTC), "channel": "Application",
              "provider": "P", "event_id": 1}  # fmt: skip

    def fake_wevtutil(argv: list[str]) -> tuple[int, str, str]:
        calls.append(list(argv))
        assert argv[:2] == ["wevtutil", "epl"], f"not a read-only export: {argv}"
        assert _inside(argv[3], [cache.resolve()]), f"export outside the cache: {argv[3]}"
        write_evtx(argv[3], [record])
        return 0, "", ""

    with live.read_live_events(["Application", "System"], runner=fake_wevtutil) as events:
        folder = events.folder
        assert len(events.records) == 2
    assert len(calls) == 2
    assert not folder.exists()  # the exported copies are removed on close

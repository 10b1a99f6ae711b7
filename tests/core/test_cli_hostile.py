"""``espview report`` on each input of the second hostile-input campaign: exit 0, 1
or 2 with at most a one-line message, under 1 GB of address space and a time limit."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.builders.cab import Folder, build_cab
from tests.builders.hive import build_hive
from tests.core.sources.test_cab_salvage import _overlapping_cab
from tests.core.sources.test_container_hostile import _damage_crc, _zip

REPO = Path(__file__).resolve().parents[2]
MEMORY = 1024**3


def _nested(tmp: Path) -> Path:
    inner = _zip({"zeros.bin": bytes(2_000_000)})
    middle = _zip({f"in{i}.zip": inner for i in range(3)})
    path = tmp / "nested.zip"
    path.write_bytes(_zip({f"mid{i}.zip": middle for i in range(3)}))
    return path


def _fifos(tmp: Path) -> Path:
    folder = tmp / "fifos"
    folder.mkdir()
    for name in ("a.evtx", "b.reg", "c.cab", "d.log", "SOFTWARE"):
        os.mkfifo(folder / name)
    return folder


def _cut_cab(tmp: Path) -> Path:
    files = [(f"m{i:02d}.reg", b"[HKEY_LOCAL_MACHINE\\x]\r\n" * 60) for i in range(29)]
    data = build_cab([Folder(files, "mszip", block_size=1500)])
    path = tmp / "cut.cab"
    path.write_bytes(data[: len(data) * 95 // 100])
    return path


def _damaged_zip(tmp: Path) -> Path:
    data = _zip({"ok.reg": b"[HKEY_LOCAL_MACHINE\\x]\r\n", "bad.log": b"A" * 900},
                zipfile.ZIP_STORED)  # fmt: skip
    path = tmp / "damaged.zip"
    path.write_bytes(_damage_crc(data, b"bad.log"))
    return path


def _long_name(tmp: Path) -> Path:
    path = tmp / "long.cab"
    path.write_bytes(build_cab([Folder([("x" * 300, b"a"), ("ok.reg", b"b")])]))
    return path


def _overlap(tmp: Path) -> Path:
    path = tmp / "overlap.cab"
    path.write_bytes(_overlapping_cab(1500))
    return path


def _clash(tmp: Path) -> Path:
    path = tmp / "clash.zip"
    path.write_bytes(_zip({"a": b"file", "a/b.reg": b"[HKEY_LOCAL_MACHINE\\x]\r\n"}))
    return path


def _deep_json(tmp: Path) -> Path:
    folder = tmp / "deep"
    folder.mkdir()
    (folder / "MdmDiagLogMetadata.json").write_text("[" * 200_000, encoding="utf-8")
    return folder


def _hive_loop(tmp: Path) -> Path:
    path = tmp / "SOFTWARE"
    path.write_bytes(build_hive(["ROOT", "Microsoft", "Loop"], {0: [1], 1: [2], 2: [0]}))
    return path


def _escapes(tmp: Path) -> Path:
    folder = tmp / "escapes"
    folder.mkdir()
    os.mkfifo(folder / "\x1b]0;pwned\x07.evtx")
    (folder / "MdmDiagReport_RegistryDump.reg").write_bytes(
        b"[HKEY_LOCAL_MACHINE\\SOFTWARE\\\x1b[2J]\r\n\"\x1b[31m\"=\"\x1b]8;;file:///etc\x07\"\r\n"
    )
    return folder


CASES: dict[str, Callable[[Path], Path]] = {
    "nested": _nested,
    "fifos": _fifos,
    "cut-cab": _cut_cab,
    "damaged-zip": _damaged_zip,
    "long-name": _long_name,
    "overlap": _overlap,
    "clash": _clash,
    "deep-json": _deep_json,
    "hive-loop": _hive_loop,
    "escapes": _escapes,
}


def _limits() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))
    resource.setrlimit(resource.RLIMIT_NOFILE, (256, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))


@pytest.mark.skipif(sys.platform == "win32", reason="FIFOs and rlimits are POSIX")
@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("command", ["report", "events", "registry"])
def test_hostile_input_exits_cleanly(tmp_path: Path, case: str, command: str) -> None:
    path = CASES[case](tmp_path)
    env = {**os.environ, "ESPVIEW_CACHE_DIR": str(tmp_path / "cache"), "ESPVIEW_WORKERS": "1",
           "ESPVIEW_CAB_BACKEND": "python"}  # fmt: skip
    proc = subprocess.run(
        [sys.executable, "-m", "core.cli", command, str(path)],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        timeout=120,
        check=False,
        preexec_fn=_limits,
    )
    err = proc.stderr
    assert proc.returncode in {0, 1, 2}, err
    assert "Traceback" not in err
    assert "\x1b" not in err + proc.stdout
    assert "\x07" not in err + proc.stdout
    if proc.returncode == 2:
        assert err.count("\n") == 1, err
        assert err.startswith("espview: ")
    if command == "report":
        assert err.count("\n") <= 1, err


@pytest.mark.skipif(os.name == "nt", reason="POSIX modes")
def test_a_world_writable_cache_override_is_refused_and_the_report_still_runs(
    tmp_path: Path,
) -> None:
    poisoned = tmp_path / "shared-cache"
    poisoned.mkdir()
    poisoned.chmod(0o777)
    env = {**os.environ, "ESPVIEW_CACHE_DIR": str(poisoned), "ESPVIEW_WORKERS": "1",
           "TMPDIR": str(tmp_path)}  # fmt: skip
    proc = subprocess.run(
        [sys.executable, "-m", "core.cli", "report", "--sample", "--json"],
        capture_output=True, text=True, cwd=REPO, env=env, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode in {0, 1}, proc.stderr
    assert "refused" in proc.stderr
    assert not (poisoned / "extract-v2").exists()

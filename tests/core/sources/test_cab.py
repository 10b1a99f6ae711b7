"""Cab reader: the real captures byte-exact, MSZIP/stored edge cases, backends, progress."""

from __future__ import annotations

import hashlib
import io
import shutil
from pathlib import Path

import pytest

from core import cli
from core.config import Settings
from core.errors import Cancelled, CorruptInput, UnsupportedInput
from core.progress import CancelToken
from core.sources import native
from core.sources.cab import CabFile, checksum, extract_cab
from tests.builders.cab import Folder, build_cab
from tests.builders.cab import checksum as slow_checksum

REAL_CABS = ["mdmdiag-itziktdk-MyRes", "mdmdiag-joopjaeng-jaeng", "mdmdiag-shahzadssd-logfile"]
HAVE_NATIVE = native.find_tool() is not None


def _manifest(cab_dir: Path) -> dict[str, str]:
    entries = {}
    for line in (cab_dir / "MDMDiagReport.cab.sha256").read_text().splitlines():
        digest, name = line.split("  ", 1)
        entries[name.removeprefix("./")] = digest
    return entries


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def _write(tmp_path: Path, data: bytes, name: str = "t.cab") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.real
@pytest.mark.parametrize("backend", ["python", "native"])
@pytest.mark.parametrize("capture", REAL_CABS)
def test_real_cab_matches_manifest(
    real_dir: Path, tmp_path: Path, capture: str, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``espview extract`` (the CLI, backend forced by ESPVIEW_CAB_BACKEND) is byte-exact."""
    if backend == "native" and not HAVE_NATIVE:
        pytest.skip("no native cab extractor installed")
    cab_dir = real_dir / capture
    expected = _manifest(cab_dir)
    dest = tmp_path / "out"
    monkeypatch.setenv("ESPVIEW_CAB_BACKEND", backend)
    out = io.StringIO()
    assert cli.main(["extract", str(cab_dir / "MDMDiagReport.cab"), str(dest)], out=out) == 0
    assert out.getvalue().startswith(f"{len(expected)} of {len(expected)} members extracted")
    got = {
        p.relative_to(dest).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in dest.rglob("*")
        if p.is_file()
    }
    assert got == expected
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no native leftovers


@pytest.mark.real
def test_real_cab_table(real_dir: Path) -> None:
    with CabFile.open(real_dir / REAL_CABS[1] / "MDMDiagReport.cab") as cab:
        assert [f.method for f in cab.folders] == ["LZX"]
        assert cab.folders[0].window_bits == 21
        assert len(cab.members) == len(_manifest(real_dir / REAL_CABS[1]))
        assert all(m.modified is not None for m in cab.members)
        assert cab.total_size == sum(m.size for m in cab.members)


def test_checksum_matches_the_plain_algorithm() -> None:
    for n in (0, 1, 2, 3, 4, 5, 7, 8, 100, 32768, 32771):
        data = bytes((i * 37 + n) & 0xFF for i in range(n))
        assert checksum(data, 0x1234) == slow_checksum(data, 0x1234)


def _mszip_folder(files: list[tuple[str, bytes]], block: int = 32768) -> Folder:
    return Folder(files, "mszip", block_size=block)


def test_mszip_edge_cases(tmp_path: Path) -> None:
    big = b"".join(b"line %d of the log\r\n" % i for i in range(9000))  # spans CFDATA blocks
    files = [("empty.txt", b""), ("dir\\big.log", big), ("last.bin", bytes(range(256)) * 3)]
    cab = _write(tmp_path, build_cab([_mszip_folder(files, block=10000)]))
    dest = tmp_path / "out"
    paths = extract_cab(cab, dest, backend="python")
    assert _tree(dest) == {"empty.txt": b"", "dir/big.log": big, "last.bin": files[2][1]}
    assert [p.relative_to(dest).as_posix() for p in paths] == [
        "empty.txt",
        "dir/big.log",
        "last.bin",
    ]


def test_several_folders_and_reserve(tmp_path: Path) -> None:
    folders = [
        Folder([("a.txt", b"alpha" * 5000), ("b.txt", b"")], "none", block_size=7000),
        _mszip_folder([("c.txt", b"gamma" * 20000)]),
        Folder([("d.txt", b"delta " * 9000)], "lzx", window_bits=15),
    ]
    data = build_cab(folders, reserve=(20, 3, 5), prev_next=(None, None))
    cab = _write(tmp_path, data)
    with CabFile(cab) as reader:
        assert [f.method for f in reader.folders] == ["stored", "MSZIP", "LZX"]
        assert [m.folder for m in reader.members] == [0, 0, 1, 2]
    extract_cab(cab, tmp_path / "out", backend="python")
    want = {name: content for f in folders for name, content in f.files}
    assert _tree(tmp_path / "out") == want


def test_prev_next_cabinet_strings_are_skipped(tmp_path: Path) -> None:
    cab = _write(tmp_path, build_cab([Folder([("x.txt", b"hello")])], prev_next=("p.cab", "n.cab")))
    with CabFile(cab) as reader:
        assert (reader.prev_cabinet, reader.next_cabinet) == ("p.cab", "n.cab")
    extract_cab(cab, tmp_path / "out", backend="python")
    assert _tree(tmp_path / "out") == {"x.txt": b"hello"}


def test_utf8_names(tmp_path: Path) -> None:
    cab = _write(tmp_path, build_cab([Folder([("Überblick ✓.txt", b"x")])]))
    extract_cab(cab, tmp_path / "out", backend="python")
    assert _tree(tmp_path / "out") == {"Überblick ✓.txt": b"x"}


def test_bad_checksum_is_detected(tmp_path: Path) -> None:
    data = bytearray(build_cab([_mszip_folder([("a.log", b"abc" * 30000)], block=20000)]))
    # Flip one payload byte of the second CFDATA block (after its 8-byte header).
    with CabFile(_write(tmp_path, bytes(data), "probe.cab")) as reader:
        first = reader.folders[0].data_offset
    second = first + 8 + int.from_bytes(data[first + 4 : first + 6], "little")
    data[second + 20] ^= 0x55
    cab = _write(tmp_path, bytes(data))
    with pytest.raises(CorruptInput, match=r"t\.cab: member 'a\.log': CFDATA block 1 .* checksum"):
        extract_cab(cab, tmp_path / "out", backend="python")


def test_zero_checksum_means_unchecked(tmp_path: Path) -> None:
    cab = _write(tmp_path, build_cab([_mszip_folder([("a", b"q" * 1000)])], checksums=False))
    extract_cab(cab, tmp_path / "out", backend="python")
    assert _tree(tmp_path / "out") == {"a": b"q" * 1000}


def test_cabarchive_written_cab_reads(tmp_path: Path) -> None:
    cabarchive = pytest.importorskip("cabarchive")
    arc = cabarchive.CabArchive()
    content = b"".join(b"%05d some text\n" % i for i in range(20000))
    arc["one.txt"] = cabarchive.CabFile(content)
    arc["two.txt"] = cabarchive.CabFile(b"")
    cab = _write(tmp_path, arc.save(compress=True))
    extract_cab(cab, tmp_path / "out", backend="python")
    assert _tree(tmp_path / "out") == {"one.txt": content, "two.txt": b""}


def test_progress_reports_bytes(tmp_path: Path) -> None:
    content = b"z" * 100_000
    cab = _write(tmp_path, build_cab([_mszip_folder([("a", content), ("b", content)])]))
    seen: list[tuple[str, int, int]] = []
    extract_cab(cab, tmp_path / "out", backend="python", progress=lambda *a: seen.append(a))
    assert seen[0] == ("Extracting", 0, 200_000)
    assert seen[-1] == ("Extracting", 200_000, 200_000)
    dones = [d for _, d, _ in seen]
    assert dones == sorted(dones)
    assert len(seen) > 3


def test_cancel_stops_and_leaves_no_partial_member(tmp_path: Path) -> None:
    content = bytes(range(256)) * 1000
    cab = _write(tmp_path, build_cab([_mszip_folder([("a", content)])]))
    token = CancelToken()

    def progress(stage: str, done: int, total: int) -> None:
        if done:
            token.cancel()

    with pytest.raises(Cancelled):
        extract_cab(cab, tmp_path / "out", backend="python", progress=progress, cancel=token)
    assert not (tmp_path / "out" / "a").exists()


def test_backend_from_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cab = _write(tmp_path, build_cab([Folder([("a", b"1")])]))
    bogus = Settings.from_environ({"ESPVIEW_CAB_BACKEND": "bogus"})
    with pytest.raises(UnsupportedInput, match="ESPVIEW_CAB_BACKEND"):
        extract_cab(cab, tmp_path / "out", settings=bogus)
    called = []
    monkeypatch.setattr(native, "find_tool", lambda *_: called.append(1))
    extract_cab(
        cab, tmp_path / "out", settings=Settings.from_environ({"ESPVIEW_CAB_BACKEND": "python"})
    )
    assert not called


def test_native_forced_without_tool(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cab = _write(tmp_path, build_cab([Folder([("a", b"1")])]))
    monkeypatch.setattr(native, "find_tool", lambda *_: None)
    with pytest.raises(UnsupportedInput, match="no native cab extractor"):
        extract_cab(cab, tmp_path / "out", backend="native")
    assert extract_cab(cab, tmp_path / "out", backend="auto") == [tmp_path / "out" / "a"]


@pytest.mark.skipif(not HAVE_NATIVE, reason="no native cab extractor installed")
def test_native_and_python_agree_on_builder_cabs(tmp_path: Path) -> None:
    folders = [
        Folder([("a\\x.txt", b"alpha" * 5000), ("b.txt", b"")], "none"),
        _mszip_folder([("c.txt", b"gamma" * 20000)]),
        Folder([("d.txt", bytes(range(256)) * 300)], "lzx", window_bits=17),
    ]
    cab = _write(tmp_path, build_cab(folders))
    extract_cab(cab, tmp_path / "py", backend="python")
    extract_cab(cab, tmp_path / "nat", backend="native")
    assert _tree(tmp_path / "py") == _tree(tmp_path / "nat")


def test_not_a_cab(tmp_path: Path) -> None:
    with pytest.raises(UnsupportedInput, match="not a cabinet"):
        CabFile(_write(tmp_path, b"PK\x03\x04 not a cab"))
    with pytest.raises(UnsupportedInput, match="cannot open"):
        CabFile(tmp_path / "missing.cab")


def test_quantum_is_unsupported(tmp_path: Path) -> None:
    data = bytearray(build_cab([Folder([("a", b"1")])]))
    data[36 + 6] = 2  # typeCompress of folder 0
    with pytest.raises(UnsupportedInput, match="Quantum"):
        CabFile(_write(tmp_path, bytes(data)))


def test_dest_untouched_outside(tmp_path: Path) -> None:
    cab = _write(tmp_path, build_cab([_mszip_folder([("sub\\a.txt", b"x" * 10)])]))
    before = sorted(p.name for p in tmp_path.iterdir())
    extract_cab(cab, tmp_path / "out", backend="auto")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*before, "out"])
    shutil.rmtree(tmp_path / "out")

"""LZX decoder: round trips through the test encoder for every block type and feature."""

from __future__ import annotations

import random
import shutil
import subprocess
from pathlib import Path

import pytest

from core.sources import lzx
from core.sources.cab import extract_cab
from tests.builders.cab import Folder, LzxEncoder, build_cab


def _sample(seed: int = 7, size: int = 90_000) -> bytes:
    """Text-like runs, random bytes, a long run, far repeats and E8 'calls'."""
    rnd = random.Random(seed)
    words = [bytes(rnd.choice(b"abcdefgh") for _ in range(rnd.randint(2, 8))) for _ in range(40)]
    text = b" ".join(rnd.choice(words) for _ in range(size // 12))
    noise = rnd.randbytes(size // 4)
    calls = b"".join(
        b"\xe8" + rnd.randrange(-4000, 200_000).to_bytes(4, "little", signed=True) + b"ab"
        for _ in range(size // 70)
    )
    return text + noise + b"\x00" * 3000 + text[:20000] + calls + noise[:5000]


def _roundtrip(data: bytes, window_bits: int, blocks: tuple[tuple[str, int], ...], e8: int = 0):
    enc = LzxEncoder(window_bits, blocks, e8_size=e8)
    frames = enc.encode(data)
    payload = b"".join(p for p, _ in frames)
    out = b"".join(lzx.decompress(payload, sum(u for _, u in frames), window_bits))
    assert out == data
    return enc.stats


@pytest.mark.parametrize("window_bits", [15, 16, 21])
def test_verbatim_blocks(window_bits: int) -> None:
    stats = _roundtrip(_sample(), window_bits, (("verbatim", 40_000),))
    assert stats.blocks["verbatim"] > 2  # several blocks: trees carried over as deltas
    assert all(stats.slots[k] for k in ("r0", "r1", "r2", "new"))
    assert stats.long_matches
    assert all(stats.pretree_codes[c] for c in (17, 18, 19))


@pytest.mark.parametrize("window_bits", [15, 21])
def test_aligned_blocks(window_bits: int) -> None:
    stats = _roundtrip(_sample(3), window_bits, (("aligned", 1 << 20),))
    assert stats.blocks["aligned"] == 1
    assert stats.max_offset > 64  # offsets with >= 3 extra bits use the aligned tree


def test_uncompressed_blocks_odd_and_even_spanning_frames() -> None:
    blocks = (("uncompressed", 40_001), ("verbatim", 10_000), ("uncompressed", 7), ("aligned", 9))
    stats = _roundtrip(_sample(5), 16, blocks)
    assert stats.blocks["uncompressed"] >= 2


def test_e8_translation() -> None:
    data = _sample(11)
    stats = _roundtrip(data, 16, (("verbatim", 1 << 20),), e8=12_000_000)
    assert stats.e8_translated > 100
    # Also through uncompressed blocks, which switch translation on by themselves.
    _roundtrip(data, 17, (("uncompressed", 30_000), ("aligned", 50_000)), e8=1_000)


def test_window_2_21_far_matches() -> None:
    rnd = random.Random(2)
    chunk = rnd.randbytes(5000)
    data = chunk + rnd.randbytes(150_000) + chunk + b"tail"
    stats = _roundtrip(data, 21, (("verbatim", 1 << 22),))
    assert stats.max_offset > 100_000


def test_long_runs_and_overlapping_copies() -> None:
    data = b"a" * 70_000 + b"ab" * 20_000 + b"abc" * 10_001 + b"z"
    _roundtrip(data, 15, (("verbatim", 1 << 20),))


def test_empty_output() -> None:
    assert list(lzx.decompress(b"", 0, 16)) == []


@pytest.mark.parametrize("bits", [14, 22])
def test_bad_window(bits: int) -> None:
    with pytest.raises(lzx.LzxError, match="window"):
        list(lzx.decompress(b"\x00" * 8, 10, bits))


def test_corrupt_streams_raise_lzx_error_only() -> None:
    data = _sample(13, 30_000)
    frames = LzxEncoder(16, (("verbatim", 1 << 20),)).encode(data)
    payload = bytearray(b"".join(p for p, _ in frames))
    total = sum(u for _, u in frames)
    rnd = random.Random(4)
    failures = 0
    offsets: list[int] = []
    messages: list[str] = []
    for _ in range(60):
        bad = bytearray(payload)
        for _ in range(rnd.randint(1, 4)):
            bad[rnd.randrange(len(bad))] = rnd.randrange(256)
        try:
            b"".join(lzx.decompress(bytes(bad), total, 16))
        except lzx.LzxError as exc:
            failures += 1
            offsets.append(exc.offset)
            messages.append(str(exc))
    # Truncations anywhere: always an LzxError, never another exception or a hang.
    for cut in range(0, len(payload), max(1, len(payload) // 50)):
        with pytest.raises(lzx.LzxError):
            b"".join(lzx.decompress(bytes(payload[:cut]), total, 16))
    assert failures
    assert all(0 <= offset <= total for offset in offsets)
    assert not any("\n" in message for message in messages)


@pytest.mark.skipif(shutil.which("cabextract") is None, reason="cabextract not installed")
def test_cabextract_reads_the_encoder_output(tmp_path: Path) -> None:
    """The test encoder is checked against an independent decoder, not only against ours."""
    data = _sample(17)
    folder = Folder(
        [("a.bin", data[:50_000]), ("b.bin", data[50_000:])],
        "lzx",
        window_bits=17,
        lzx_blocks=(("aligned", 30_000), ("uncompressed", 9_999), ("verbatim", 25_000)),
        e8_size=5_000_000,
    )
    cab = tmp_path / "enc.cab"
    cab.write_bytes(build_cab([folder]))
    subprocess.run(["cabextract", "-q", "-d", str(tmp_path / "ce"), str(cab)], check=True)
    assert (tmp_path / "ce" / "a.bin").read_bytes() + (
        tmp_path / "ce" / "b.bin"
    ).read_bytes() == data
    extract_cab(cab, tmp_path / "py", backend="python")
    assert (tmp_path / "py" / "b.bin").read_bytes() == data[50_000:]

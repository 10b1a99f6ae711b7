"""Cabinet writer for tests: stored / MSZIP / LZX folders, reserve areas, hostile variants.

The LZX encoder is written to *exercise* the decoder, not to compress well: a greedy LZ77
matcher that prefers the repeated offsets R0/R1/R2, real Huffman trees sent as pretree-coded
deltas against the previous block's lengths (so runs 17/18/19 and carried-over lengths occur),
verbatim / aligned-offset / uncompressed blocks in any order and of any size (blocks span
frames), 32 KB frames with the 16-bit realignment, E8 call translation, windows 2^15..2^21.

Its checksum is a plain per-word loop, independent of the reader's folded implementation.
"""

from __future__ import annotations

import heapq
import struct
import zlib
from collections import Counter
from dataclasses import dataclass, field
from itertools import cycle

FRAME = 32768
_DOS_DATE = ((2024 - 1980) << 9) | (3 << 5) | 4
_DOS_TIME = (10 << 11) | (37 << 5) | 0

# Position slot tables, computed here independently of core.sources.lzx.
EXTRA_BITS = [0, 0, 0, 0] + [min(i // 2 - 1, 17) for i in range(4, 51)]
POSITION_BASE = [0]
for _e in EXTRA_BITS:
    POSITION_BASE.append(POSITION_BASE[-1] + (1 << _e))


def position_slots(window_bits: int) -> int:
    return {20: 42, 21: 50}.get(window_bits, window_bits * 2)


def checksum(data: bytes, seed: int = 0) -> int:
    """The cabinet checksum, the slow obvious way."""
    value = seed
    whole = len(data) // 4 * 4
    for i in range(0, whole, 4):
        value ^= struct.unpack_from("<I", data, i)[0]
    tail = 0
    for byte in data[whole:]:
        tail = (tail << 8) | byte
    return value ^ tail


# -- Huffman helpers --------------------------------------------------------------------


def huffman_lengths(freqs: list[int], max_bits: int) -> list[int]:
    """Code lengths (<= max_bits) for ``freqs``; a lone symbol gets a partner (complete code)."""
    freqs = list(freqs)
    used = [i for i, f in enumerate(freqs) if f]
    if not used:
        return [0] * len(freqs)
    if len(used) == 1:
        freqs[1 if used[0] == 0 else 0] = 1
    while True:
        heap = [(f, i, [i]) for i, f in enumerate(freqs) if f]
        heapq.heapify(heap)
        depth = [0] * len(freqs)
        tie = len(freqs)
        while len(heap) > 1:
            fa, _, a = heapq.heappop(heap)
            fb, _, b = heapq.heappop(heap)
            for s in a + b:
                depth[s] += 1
            heapq.heappush(heap, (fa + fb, tie, a + b))
            tie += 1
        if max(depth) <= max_bits:
            return depth
        freqs = [(f + 1) // 2 if f else 0 for f in freqs]


def canonical_codes(lengths: list[int]) -> list[int]:
    codes = [0] * len(lengths)
    code = 0
    for length in range(1, max(lengths, default=0) + 1):
        for sym, n in enumerate(lengths):
            if n == length:
                codes[sym] = code
                code += 1
        code <<= 1
    return codes


class BitWriter:
    """MSB-first bits packed into little-endian 16-bit words (the LZX bitstream)."""

    def __init__(self) -> None:
        self.buf = bytearray()
        self.acc = 0
        self.n = 0

    def bits(self, value: int, count: int) -> None:
        assert 0 <= value < (1 << count) or count == 0
        self.acc = (self.acc << count) | value
        self.n += count
        while self.n >= 16:
            self.n -= 16
            self.buf += ((self.acc >> self.n) & 0xFFFF).to_bytes(2, "little")
            self.acc &= (1 << self.n) - 1

    def align(self) -> None:
        if self.n:
            self.bits(0, 16 - self.n)

    def raw(self, data: bytes) -> None:
        assert self.n == 0
        self.buf += data


# -- LZX encoder ------------------------------------------------------------------------


@dataclass
class LzxStats:
    """What the encoder emitted (tests assert the decoder saw every feature)."""

    blocks: Counter[str] = field(default_factory=Counter)
    slots: Counter[str] = field(default_factory=Counter)  # "r0", "r1", "r2", "new"
    long_matches: int = 0  # length footer used
    max_offset: int = 0
    e8_translated: int = 0
    pretree_codes: Counter[int] = field(default_factory=Counter)


def e8_encode(data: bytes, e8_size: int) -> bytes:
    """The encoder side of E8 translation (relative CALL targets become absolute)."""
    out = bytearray(data)
    for start in range(0, len(out), FRAME):
        if start // FRAME >= 32768:
            break
        size = min(FRAME, len(out) - start)
        if size <= 10:
            continue
        i = start
        end = start + size - 10
        while i < end:
            if out[i] != 0xE8:
                i += 1
                continue
            rel = int.from_bytes(out[i + 1 : i + 5], "little", signed=True)
            if -i <= rel < e8_size:
                value = rel + i if rel < e8_size - i else rel - e8_size
                out[i + 1 : i + 5] = (value & 0xFFFFFFFF).to_bytes(4, "little")
            i += 5
    return bytes(out)


class LzxEncoder:
    """Encode one folder's data into per-frame CFDATA payloads."""

    def __init__(
        self,
        window_bits: int = 16,
        blocks: tuple[tuple[str, int], ...] = (("verbatim", 1 << 30),),
        *,
        e8_size: int = 0,
        min_match: int = 3,
    ) -> None:
        self.window_bits = window_bits
        self.window = 1 << window_bits
        self.main_count = 256 + position_slots(window_bits) * 8
        self.blocks = blocks
        self.e8_size = e8_size
        self.min_match = min_match
        self.stats = LzxStats()
        self.prev_main = [0] * self.main_count
        self.prev_length = [0] * 249
        self.r = [1, 1, 1]

    def encode(self, data: bytes) -> list[tuple[bytes, int]]:
        """Return [(payload, uncompressed size)] with one entry per 32 KB frame."""
        if self.e8_size:
            translated = e8_encode(data, self.e8_size)
            self.stats.e8_translated = sum(a != b for a, b in zip(translated, data, strict=True))
            data = translated
        w = BitWriter()
        if self.e8_size:
            w.bits(1, 1)
            w.bits(self.e8_size >> 16, 16)
            w.bits(self.e8_size & 0xFFFF, 16)
        else:
            w.bits(0, 1)
        self.heads: dict[bytes, list[int]] = {}
        self.indexed = 0
        frames: list[tuple[bytes, int]] = []
        pos = 0
        specs = cycle(self.blocks)
        while pos < len(data):
            kind, size = next(specs)
            size = min(size, len(data) - pos)
            self.stats.blocks[kind] += 1
            end = pos + size
            if kind == "uncompressed":
                self._raw_block(w, data, pos, end, frames)
            else:
                self._lz_block(w, data, pos, end, kind == "aligned", frames)
            pos = end
        return frames

    def _emit_frame_end(self, w: BitWriter, frames: list[tuple[bytes, int]], size: int) -> None:
        w.align()
        start = sum(len(p) for p, _ in frames)
        frames.append((bytes(w.buf[start:]), size))

    # The decoder realigns after each frame; frames end at multiples of 32 KB or the end.
    def _frame_end(self, pos: int, total: int) -> int:
        return min((pos // FRAME + 1) * FRAME, total)

    def _raw_block(
        self, w: BitWriter, data: bytes, pos: int, end: int, frames: list[tuple[bytes, int]]
    ) -> None:
        size = end - pos
        w.bits(3, 3)
        w.bits(size >> 8, 16)
        w.bits(size & 0xFF, 8)
        # Pad to the next 16-bit boundary; a whole word when already aligned.
        w.bits(0, 16 - w.n)
        w.raw(b"".join(r.to_bytes(4, "little") for r in self.r))
        while pos < end:
            stop = min(end, self._frame_end(pos, len(data)))
            w.raw(data[pos:stop])
            if stop == end and size & 1:
                w.raw(b"\x00")
            if stop % FRAME == 0 or stop == len(data):
                self._emit_frame_end(w, frames, stop - (stop - 1) // FRAME * FRAME)
            pos = stop
        self._index(data, end)

    def _index(self, data: bytes, upto: int) -> None:
        heads = self.heads
        for i in range(self.indexed, upto):
            heads.setdefault(data[i : i + 3], []).append(i)
        self.indexed = max(self.indexed, upto)

    def _match_len(self, data: bytes, pos: int, src: int, limit: int) -> int:
        n = 0
        while n < limit and data[src + n] == data[pos + n]:
            n += 1
        return n

    def _tokens(self, data: bytes, pos: int, end: int) -> list[tuple[int, int, int]]:
        """(kind, a, b): (0, byte, 0) literal, (1, length, slot-or-offset) match."""
        tokens: list[tuple[int, int, int]] = []
        r = self.r
        max_offset = min(self.window - 3, POSITION_BASE[position_slots(self.window_bits)] - 3)
        while pos < end:
            limit = min(257, end - pos, self._frame_end(pos, len(data)) - pos)
            best_len, best = 0, -1
            if limit >= 2:
                for slot in range(3):
                    off = r[slot]
                    if off <= pos and off <= max_offset:
                        n = self._match_len(data, pos, pos - off, limit)
                        if n > best_len and n >= 2:
                            best_len, best = n, slot
                self._index(data, pos)
                for cand in reversed(self.heads.get(data[pos : pos + 3], [])[-8:]):
                    off = pos - cand
                    if off > max_offset:
                        break
                    n = self._match_len(data, pos, cand, limit)
                    if n > best_len + 1 and n >= self.min_match:
                        best_len, best = n, 100 + off
            if best < 0:
                tokens.append((0, data[pos], 0))
                pos += 1
                continue
            if best < 3:
                off = r[best]
                if best == 1:
                    r[1] = r[0]
                elif best == 2:
                    r[2] = r[0]
                r[0] = off
                self.stats.slots[f"r{best}"] += 1
                tokens.append((1, best_len, -1 - best))
            else:
                off = best - 100
                r[2], r[1], r[0] = r[1], r[0], off
                self.stats.slots["new"] += 1
                self.stats.max_offset = max(self.stats.max_offset, off)
                tokens.append((1, best_len, off))
            pos += best_len
        return tokens

    def _lz_block(
        self,
        w: BitWriter,
        data: bytes,
        pos: int,
        end: int,
        aligned: bool,
        frames: list[tuple[bytes, int]],
    ) -> None:
        tokens = self._tokens(data, pos, end)
        # Symbols and frequencies.
        coded: list[tuple[int, int, int, int, int]] = []  # main, length sym, slot, extra, val
        main_f = [0] * self.main_count
        len_f = [0] * 249
        al_f = [1] * 8  # every aligned symbol gets a code: the tree is always complete
        for kind, a, b in tokens:
            if kind == 0:
                main_f[a] += 1
                coded.append((a, -1, 0, 0, 0))
                continue
            header = min(a - 2, 7)
            length_sym = a - 2 - 7 if header == 7 else -1
            if b < 0:
                slot, extra, val = -1 - b, 0, 0
            else:
                fo = b + 2
                slot = max(s for s in range(len(POSITION_BASE) - 1) if POSITION_BASE[s] <= fo)
                extra, val = EXTRA_BITS[slot], fo - POSITION_BASE[slot]
                if aligned and extra >= 3:
                    al_f[val & 7] += 1
            sym = 256 + slot * 8 + header
            main_f[sym] += 1
            if length_sym >= 0:
                len_f[length_sym] += 1
                self.stats.long_matches += 1
            coded.append((sym, length_sym, slot, extra, val))
        main_len = huffman_lengths(main_f, 16)
        len_len = huffman_lengths(len_f, 16)
        al_len = huffman_lengths(al_f, 7) if aligned else [0] * 8
        size = end - pos
        w.bits(2 if aligned else 1, 3)
        w.bits(size >> 8, 16)
        w.bits(size & 0xFF, 8)
        if aligned:
            for n in al_len:
                w.bits(n, 3)
        self._tree(w, self.prev_main, main_len, 0, 256)
        self._tree(w, self.prev_main, main_len, 256, self.main_count)
        self._tree(w, self.prev_length, len_len, 0, 249)
        self.prev_main = main_len
        self.prev_length = len_len
        main_c = canonical_codes(main_len)
        len_c = canonical_codes(len_len)
        al_c = canonical_codes(al_len)
        out = pos
        for (sym, length_sym, slot, extra, val), (kind, a, _) in zip(coded, tokens, strict=True):
            w.bits(main_c[sym], main_len[sym])
            if length_sym >= 0:
                w.bits(len_c[length_sym], len_len[length_sym])
            if sym >= 256 and slot >= 3:
                if aligned and extra >= 3:
                    w.bits(val >> 3, extra - 3)
                    w.bits(al_c[val & 7], al_len[val & 7])
                else:
                    w.bits(val, extra)
            out += 1 if kind == 0 else a
            if out % FRAME == 0 or out == len(data):
                self._emit_frame_end(w, frames, out - (out - 1) // FRAME * FRAME)

    def _tree(self, w: BitWriter, prev: list[int], new: list[int], first: int, last: int) -> None:
        """Send new[first:last] as pretree codes (deltas against prev, runs 17/18/19)."""
        ops: list[tuple[int, int, int]] = []  # (pretree sym, extra bits value, extra bit count)
        x = first
        while x < last:
            zeros = 0
            while x + zeros < last and new[x + zeros] == 0:
                zeros += 1
            if zeros >= 20:
                run = min(zeros, 51)
                ops.append((18, run - 20, 5))
                x += run
                continue
            if zeros >= 4:
                run = min(zeros, 19)
                ops.append((17, run - 4, 4))
                x += run
                continue
            same = 1
            while x + same < last and same < 5 and new[x + same] == new[x]:
                same += 1
            if same >= 4:
                ops.append((19, same - 4, 1))
                ops.append(((prev[x] - new[x]) % 17, 0, 0))
                x += same
                continue
            ops.append(((prev[x] - new[x]) % 17, 0, 0))
            x += 1
        freqs = [0] * 20
        for sym, _, _ in ops:
            freqs[sym] += 1
            self.stats.pretree_codes[sym] += 1
        lens = huffman_lengths(freqs, 15)
        codes = canonical_codes(lens)
        for n in lens:
            w.bits(n, 4)
        i = 0
        while i < len(ops):
            sym, value, count = ops[i]
            w.bits(codes[sym], lens[sym])
            w.bits(value, count)
            if sym == 19:
                i += 1
                w.bits(codes[ops[i][0]], lens[ops[i][0]])
            i += 1


# -- cabinet writer ---------------------------------------------------------------------


@dataclass
class Folder:
    """One folder to write: its files and how to compress them."""

    files: list[tuple[str, bytes]]
    compression: str = "none"  # none | mszip | lzx
    window_bits: int = 16
    lzx_blocks: tuple[tuple[str, int], ...] = (("verbatim", 1 << 30),)
    e8_size: int = 0
    block_size: int = FRAME  # input bytes per CFDATA for none / mszip


def folder_blocks(folder: Folder) -> tuple[list[tuple[bytes, int]], int]:
    """[(payload, uncompressed size)] and the typeCompress value for a folder."""
    data = b"".join(content for _, content in folder.files)
    if folder.compression == "lzx":
        enc = LzxEncoder(folder.window_bits, folder.lzx_blocks, e8_size=folder.e8_size)
        return enc.encode(data), 3 | (folder.window_bits << 8)
    chunks = [data[i : i + folder.block_size] for i in range(0, len(data), folder.block_size)]
    if folder.compression == "none":
        return [(c, len(c)) for c in chunks], 0
    blocks = []
    history = b""
    for chunk in chunks:
        comp = (
            zlib.compressobj(9, zlib.DEFLATED, -15, zdict=history)
            if history
            else zlib.compressobj(9, zlib.DEFLATED, -15)
        )
        blocks.append((b"CK" + comp.compress(chunk) + comp.flush(), len(chunk)))
        history = (history + chunk)[-FRAME:]
    return blocks, 1


def build_cab(
    folders: list[Folder],
    *,
    reserve: tuple[int, int, int] | None = None,
    checksums: bool = True,
    prev_next: tuple[str | None, str | None] = (None, None),
    raw_names: dict[str, bytes] | None = None,
) -> bytes:
    """A complete cabinet. ``reserve`` = (cbCFHeader, cbCFFolder, cbCFData) reserve sizes;
    ``raw_names`` maps a file name to the exact bytes to store (hostile names)."""
    cb_header, cb_folder, cb_data = reserve or (0, 0, 0)
    flags = (4 if reserve else 0) | (1 if prev_next[0] else 0) | (2 if prev_next[1] else 0)
    header_extra = b""
    if reserve:
        header_extra += struct.pack("<HBB", cb_header, cb_folder, cb_data) + b"\xaa" * cb_header
    for name in prev_next:
        if name:
            header_extra += name.encode() + b"\x00" + b"disk\x00"
    encoded = [folder_blocks(f) for f in folders]
    files_at = 36 + len(header_extra) + len(folders) * (8 + cb_folder)
    file_table = b""
    n_files = 0
    for index, folder in enumerate(folders):
        offset = 0
        for name, content in folder.files:
            raw = (raw_names or {}).get(name)
            attribs = 0x20
            if raw is None:
                try:
                    raw = name.encode("latin-1")
                except UnicodeEncodeError:
                    raw = name.encode("utf-8")
                    attribs |= 0x80
            file_table += struct.pack(
                "<IIHHHH", len(content), offset, index, _DOS_DATE, _DOS_TIME, attribs
            )
            file_table += raw + b"\x00"
            offset += len(content)
            n_files += 1
    data_at = files_at + len(file_table)
    folder_table = b""
    data_area = b""
    for (blocks, ctype), _ in zip(encoded, folders, strict=True):
        folder_table += struct.pack("<IHH", data_at + len(data_area), len(blocks), ctype)
        folder_table += b"\xbb" * cb_folder
        for payload, usize in blocks:
            sizes = struct.pack("<HH", len(payload), usize)
            csum = checksum(sizes, checksum(payload)) if checksums else 0
            data_area += struct.pack("<I", csum) + sizes + b"\xcc" * cb_data + payload
    total = data_at + len(data_area)
    header = struct.pack(
        "<4sIIIIIBBHHHHH",
        b"MSCF",
        0,
        total,
        0,
        files_at,
        0,
        3,
        1,
        len(folders),
        n_files,
        flags,
        0x1234,
        0,
    )
    return header + header_extra + folder_table + file_table + data_area

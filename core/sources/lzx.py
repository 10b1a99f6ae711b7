"""Pure-Python LZX decoder for cabinet folders (compression type 3, windows 2^15..2^21).

The semantics follow libmspack's ``lzxd.c`` as used for CAB files: the decoder state (window,
repeated offsets R0-R2, the main and length tree lengths) lives for a whole folder; output comes
in 32 KB frames, after each of which the bitstream re-aligns to 16 bits; blocks are verbatim,
aligned-offset or uncompressed and may span frames; E8 call translation is applied per frame to
a copy of the output when the stream header asks for it.

It is written for speed in CPython: the bitstream is pre-split into 16-bit words (an ``array``),
the bit buffer lives in local ints of one hot loop, every Huffman tree is a direct lookup table
of 2^16 (symbol, length) entries, matches are slice copies into a ``bytearray`` that holds the
window linearly (trimmed from the front now and then), and E8 translation uses ``bytearray.find``.
"""

from __future__ import annotations

import sys
from array import array
from collections.abc import Iterator

FRAME_SIZE = 32768
MIN_WINDOW_BITS = 15
MAX_WINDOW_BITS = 21

_NUM_CHARS = 256
_NUM_LENGTH_SYMBOLS = 249
_NUM_ALIGNED_SYMBOLS = 8
_NUM_PRETREE_SYMBOLS = 20
_LEN_SLACK = 64  # pretree runs may overshoot a table's end (libmspack keeps the same slack)
_TABLE_BITS = 16  # every LZX code is at most 16 bits long, so one lookup always decodes
_ALIGNED_BITS = 7
_PRETREE_BITS = 16
_SENTINEL = 0xFFFF  # symbol of table holes: unused codes of an incomplete tree
_PAD_WORDS = 4  # zero words after the input: refills may run a little ahead of the bits used
_TRIM_SLACK = 1 << 20  # trim the linear window only when it has grown this much past its size

# Position slot tables (``extra_bits`` / ``position_base`` in the spec).
_EXTRA_BITS: list[int] = []
_POSITION_BASE: list[int] = []
_bits = 0
for _i in range(0, 52, 2):
    _EXTRA_BITS += [_bits, _bits]
    if _i != 0 and _bits < 17:
        _bits += 1
_EXTRA_BITS = _EXTRA_BITS[:51]
_POSITION_BASE = [0]
for _e in _EXTRA_BITS[:-1]:
    _POSITION_BASE.append(_POSITION_BASE[-1] + (1 << _e))
# match offset = base - 2 + extra (slots 0..2 are the repeated offsets and never use this)
_BASE_MINUS_2 = [b - 2 for b in _POSITION_BASE]
_MASKS = [(1 << n) - 1 for n in range(33)]


def position_slots(window_bits: int) -> int:
    """Number of position slots for a window of ``2**window_bits`` bytes."""
    if window_bits == 21:
        return 50
    if window_bits == 20:
        return 42
    return window_bits * 2


class LzxError(Exception):
    """The LZX stream is corrupt. ``offset`` is the folder output offset where it was found."""

    def __init__(self, offset: int, why: str) -> None:
        super().__init__(f"LZX data at folder offset {offset:#x} is corrupt: {why}")
        self.offset = offset
        self.why = why


def build_table(lens: list[int], count: int, bits: int) -> tuple[list[int], list[int]]:
    """Direct lookup tables (symbols, lengths) of ``2**bits`` entries for canonical codes.

    ``lens[:count]`` are the code lengths (0 = unused). Raises ``ValueError`` for an
    over-subscribed code or a length over ``bits``. Holes of an incomplete code map to
    :data:`_SENTINEL` with length 0, which the decoder reports as corrupt when it meets one.
    """
    size = 1 << bits
    syms = [_SENTINEL] * size
    lengths = [0] * size
    code = 0  # next code, left-aligned to ``bits``
    for length in range(1, bits + 1):
        span = 1 << (bits - length)
        for sym in range(count):
            if lens[sym] == length:
                end = code + span
                if end > size:
                    raise ValueError("over-subscribed Huffman code")
                syms[code:end] = [sym] * span
                lengths[code:end] = [length] * span
                code = end
    if any(n > bits for n in lens[:count]):
        raise ValueError(f"Huffman code longer than {bits} bits")
    return syms, lengths


class _Bits:
    """Slow-path bit reader over the 16-bit word stream (block headers and trees).

    The hot loop copies ``wi``/``bb``/``bl`` into locals and stores them back. Invariant:
    ``bb`` holds exactly ``bl`` unread bits (its higher bits are garbage to mask off).
    """

    __slots__ = ("bb", "bl", "wi", "words")

    def __init__(self, words: array[int]) -> None:
        self.words = words
        self.wi = 0
        self.bb = 0
        self.bl = 0

    def read(self, n: int) -> int:
        while self.bl < n:
            self.bb = ((self.bb & 0xFFFF) << 16) | self.words[self.wi]
            self.wi += 1
            self.bl += 16
        self.bl -= n
        return (self.bb >> self.bl) & _MASKS[n]

    def symbol(self, table: tuple[list[int], list[int]], bits: int) -> int:
        while self.bl < bits:
            self.bb = ((self.bb & 0xFFFF) << 16) | self.words[self.wi]
            self.wi += 1
            self.bl += 16
        k = (self.bb >> (self.bl - bits)) & _MASKS[bits]
        n = table[1][k]
        if n == 0:
            raise ValueError("Huffman code not in the tree")
        self.bl -= n
        return table[0][k]

    def bit_position(self) -> int:
        return self.wi * 16 - self.bl


def _read_lengths(bits: _Bits, lens: list[int], first: int, last: int) -> None:
    """Update ``lens[first:last]`` from a pretree-coded delta list (spec 2.2.1.x)."""
    pre = [bits.read(4) for _ in range(_NUM_PRETREE_SYMBOLS)]
    table = build_table(pre, _NUM_PRETREE_SYMBOLS, _PRETREE_BITS)
    size = len(lens)
    x = first
    while x < last:
        z = bits.symbol(table, _PRETREE_BITS)
        if z == 17:
            run = bits.read(4) + 4
            lens[x : x + run] = [0] * run
            x += run
        elif z == 18:
            run = bits.read(5) + 20
            lens[x : x + run] = [0] * run
            x += run
        elif z == 19:
            run = bits.read(1) + 4
            z = bits.symbol(table, _PRETREE_BITS)
            if z > 16:
                raise ValueError("pretree run of a run code")
            value = (lens[x] - z) % 17
            lens[x : x + run] = [value] * run
            x += run
        else:
            lens[x] = (lens[x] - z) % 17
            x += 1
    # A run may overshoot ``last`` into the slack (as in libmspack); past it, the list grew.
    del lens[size:]


def decompress(data: bytes, out_size: int, window_bits: int) -> Iterator[bytes]:
    """Decode one folder's LZX stream, yielding its output frame by frame (32 KB each).

    ``data`` is the concatenation of the folder's CFDATA payloads, ``out_size`` the sum of
    their uncompressed sizes. Raises :class:`LzxError` for any corrupt input, never anything
    else (decoder-internal ``IndexError``/``ValueError`` are converted at this boundary).
    """
    if not MIN_WINDOW_BITS <= window_bits <= MAX_WINDOW_BITS:
        raise LzxError(0, f"window size 2^{window_bits} is outside 2^15..2^21")
    words = array("H")
    words.frombytes(data[: len(data) & ~1])
    if len(data) & 1:
        words.append(data[-1])
    if sys.byteorder == "big":
        words.byteswap()
    words.extend([0] * _PAD_WORDS)
    state = _State(data, words, out_size, window_bits)
    try:
        yield from state.frames()
    except LzxError:
        raise
    except (IndexError, ValueError, OverflowError) as exc:
        why = str(exc) if isinstance(exc, ValueError) else "compressed data ends early"
        raise LzxError(state.done, why) from None


class _State:
    """Decoder state for one folder."""

    def __init__(self, data: bytes, words: array[int], out_size: int, window_bits: int) -> None:
        self.data = data
        self.bits = _Bits(words)
        self.out_size = out_size
        self.window_size = 1 << window_bits
        self.main_count = _NUM_CHARS + position_slots(window_bits) * 8
        self.main_lens = [0] * (self.main_count + _LEN_SLACK)
        self.length_lens = [0] * (_NUM_LENGTH_SYMBOLS + _LEN_SLACK)
        self.done = 0  # output offset reached (for error messages)

    def frames(self) -> Iterator[bytes]:
        bits = self.bits
        data = self.data
        out_size = self.out_size
        window_size = self.window_size
        e8_size = 0
        if bits.read(1):
            e8_size = (bits.read(16) << 16) | bits.read(16)
        intel_started = False
        r0 = r1 = r2 = 1
        block_type = 0
        block_remaining = 0
        raw_pos = 0  # byte position in ``data`` while inside an uncompressed block
        main_table: tuple[list[int], list[int]] = ([], [])
        length_table: tuple[list[int], list[int]] = ([], [])
        aligned_table: tuple[list[int], list[int]] = ([], [])
        out = bytearray()
        base = 0  # folder offset of out[0]
        frame_start = 0
        frame_index = 0
        limit_bits = (len(data) + 2) * 8  # libmspack tolerates two zero bytes past the end
        while frame_start < out_size:
            frame_end = min(frame_start + FRAME_SIZE, out_size)
            while base + len(out) < frame_end:
                self.done = base + len(out)
                if block_remaining == 0:
                    block_type = bits.read(3)
                    block_remaining = (bits.read(16) << 8) | bits.read(8)
                    if block_type == 2:
                        aligned = [bits.read(3) for _ in range(_NUM_ALIGNED_SYMBOLS)]
                        aligned_table = build_table(aligned, 8, _ALIGNED_BITS)
                    if block_type in {1, 2}:
                        main_lens = self.main_lens
                        _read_lengths(bits, main_lens, 0, _NUM_CHARS)
                        _read_lengths(bits, main_lens, _NUM_CHARS, self.main_count)
                        main_table = build_table(main_lens, self.main_count, _TABLE_BITS)
                        if main_lens[0xE8]:
                            intel_started = True
                        _read_lengths(bits, self.length_lens, 0, _NUM_LENGTH_SYMBOLS)
                        length_table = build_table(
                            self.length_lens, _NUM_LENGTH_SYMBOLS, _TABLE_BITS
                        )
                    elif block_type == 3:
                        intel_started = True
                        # Skip 1..16 bits to the next 16-bit boundary (never zero bits).
                        raw_pos = (bits.bit_position() // 16 + 1) * 2
                        head = data[raw_pos : raw_pos + 12]
                        if len(head) < 12:
                            raise LzxError(self.done, "uncompressed block header cut short")
                        r0 = int.from_bytes(head[0:4], "little")
                        r1 = int.from_bytes(head[4:8], "little")
                        r2 = int.from_bytes(head[8:12], "little")
                        raw_pos += 12
                    else:
                        raise LzxError(self.done, f"invalid block type {block_type}")
                    block_length = block_remaining
                pos = len(out)
                run = min(block_remaining, frame_end - base - pos)
                block_remaining -= run
                if block_type == 3:
                    chunk = data[raw_pos : raw_pos + run]
                    if len(chunk) < run:
                        raise LzxError(self.done, "uncompressed block cut short")
                    out += chunk
                    raw_pos += run
                    if block_remaining == 0:
                        # Resume the bitstream after the block and its odd-length pad byte.
                        raw_pos += block_length & 1
                        bits.wi = raw_pos >> 1
                        bits.bb = bits.bl = 0
                    continue
                r0, r1, r2 = self._decode_run(
                    out,
                    pos + run,
                    block_type == 2,
                    (r0, r1, r2),
                    main_table,
                    length_table,
                    aligned_table,
                )
            # Frames realign the bitstream to 16 bits (a no-op inside uncompressed blocks).
            bits.bl -= bits.bl & 15
            if block_type != 3 and bits.bit_position() > limit_bits:
                raise LzxError(frame_start, "compressed data ends early")
            frame = out[frame_start - base : frame_end - base]
            if intel_started and e8_size and frame_index < 32768 and len(frame) > 10:
                _e8_translate(frame, frame_start, e8_size)
            yield bytes(frame)
            frame_start = frame_end
            frame_index += 1
            if len(out) > window_size + _TRIM_SLACK:
                cut = len(out) - window_size
                del out[:cut]
                base += cut

    def _decode_run(
        self,
        out: bytearray,
        stop: int,
        is_aligned: bool,
        repeats: tuple[int, int, int],
        main_table: tuple[list[int], list[int]],
        length_table: tuple[list[int], list[int]],
        aligned_table: tuple[list[int], list[int]],
    ) -> tuple[int, int, int]:
        """The hot loop: decode verbatim/aligned symbols until ``len(out) == stop``."""
        bits = self.bits
        words = bits.words
        wi = bits.wi
        bb = bits.bb
        bl = bits.bl
        r0, r1, r2 = repeats
        msyms, mlens = main_table
        lsyms, llens = length_table
        asyms, alens = aligned_table
        extra_bits = _EXTRA_BITS
        base2 = _BASE_MINUS_2
        masks = _MASKS
        append = out.append
        pos = start = len(out)
        last_sym = self.main_count - 1 - 256
        while pos < stop:
            # Refills are written out inline (four times below): a call per symbol would cost
            # more than the rest of a literal's decoding.
            if bl < 17:
                bb = ((bb & 0xFFFF) << 32) | (words[wi] << 16) | words[wi + 1]
                wi += 2
                bl += 32
            k = (bb >> (bl - 16)) & 0xFFFF
            sym = msyms[k]
            bl -= mlens[k]
            if sym < 256:
                append(sym)
                pos += 1
                continue
            # A match: 256 + (position slot << 3 | length header).
            sym -= 256
            if sym > last_sym:
                bits.wi, bits.bb, bits.bl = wi, bb, bl
                raise LzxError(self.at(pos, start), "main code not in the tree")
            length = sym & 7
            if length == 7:
                if bl < 17:
                    bb = ((bb & 0xFFFF) << 32) | (words[wi] << 16) | words[wi + 1]
                    wi += 2
                    bl += 32
                k = (bb >> (bl - 16)) & 0xFFFF
                n = llens[k]
                if not n:
                    bits.wi, bits.bb, bits.bl = wi, bb, bl
                    raise LzxError(self.at(pos, start), "length code not in the tree")
                length += lsyms[k]
                bl -= n
            length += 2
            slot = sym >> 3
            if slot > 2:
                extra = extra_bits[slot]
                if bl < 17:
                    bb = ((bb & 0xFFFF) << 32) | (words[wi] << 16) | words[wi + 1]
                    wi += 2
                    bl += 32
                if not is_aligned or extra < 3:
                    bl -= extra
                    offset = base2[slot] + ((bb >> bl) & masks[extra])
                else:
                    extra -= 3
                    bl -= extra
                    offset = base2[slot] + (((bb >> bl) & masks[extra]) << 3)
                    if bl < 17:
                        bb = ((bb & 0xFFFF) << 32) | (words[wi] << 16) | words[wi + 1]
                        wi += 2
                        bl += 32
                    k = (bb >> (bl - 7)) & 0x7F
                    n = alens[k]
                    if not n:
                        bits.wi, bits.bb, bits.bl = wi, bb, bl
                        raise LzxError(self.at(pos, start), "aligned code not in the tree")
                    offset += asyms[k]
                    bl -= n
                r2 = r1
                r1 = r0
                r0 = offset
            elif slot == 0:
                offset = r0
            elif slot == 1:
                offset = r1
                r1 = r0
                r0 = offset
            else:
                offset = r2
                r2 = r0
                r0 = offset
            src = pos - offset
            if src < 0 or pos + length > stop:
                bits.wi, bits.bb, bits.bl = wi, bb, bl
                if src < 0:
                    why = f"match offset {offset} reaches before the window"
                else:
                    why = f"match of {length} bytes runs past the frame end"
                raise LzxError(self.at(pos, start), why)
            if offset >= length:
                out += out[src : src + length]
            elif offset == 1:
                out += out[src:pos] * length
            else:
                pattern = out[src:pos]
                whole, part = divmod(length, offset)
                out += pattern * whole + pattern[:part]
            pos += length
        bits.wi, bits.bb, bits.bl = wi, bb, bl
        return r0, r1, r2

    def at(self, pos: int, run_start: int) -> int:
        """Folder offset of ``out[pos]`` (``done`` holds the folder offset of ``run_start``)."""
        return self.done + pos - run_start


def _e8_translate(frame: bytearray, frame_start: int, e8_size: int) -> None:
    """Undo the encoder's E8 (x86 CALL) translation in place, as libmspack does."""
    end = len(frame) - 10
    i = frame.find(0xE8, 0, end)
    while i >= 0:
        value = int.from_bytes(frame[i + 1 : i + 5], "little", signed=True)
        cur = frame_start + i
        if -cur <= value < e8_size:
            rel = value - cur if value >= 0 else value + e8_size
            frame[i + 1 : i + 5] = (rel & 0xFFFFFFFF).to_bytes(4, "little")
        i = frame.find(0xE8, i + 5, end)

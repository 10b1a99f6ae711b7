"""A seeded, structure-aware byte mutator.

Every input is a pure function of ``(seed, reader, index)``, so a failure seen in a long
campaign is reproduced by its index alone. Besides the usual bit flips, insertions, deletions,
truncations and splices, a :class:`Seed` can name *integer fields* at known offsets (cab
CFHEADER sizes and counts, CFDATA ``cbData``/``cbUncomp``, evtx chunk counts, record sizes,
template offsets …): smashing those with boundary values reaches the size and offset
arithmetic that random flips rarely hit. ``fixups`` are applied afterwards with probability
one half (recomputed checksums), so mutations also get past the readers' first integrity
check and into the decoders behind it.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

#: (offset, width in bytes) of a little-endian integer field.
Field = tuple[int, int]
Fixup = Callable[[bytearray], None]


@dataclass(frozen=True)
class Seed:
    """One seed input: a file name (readers sniff by name too), bytes and structure hints."""

    name: str
    data: bytes
    fields: Sequence[Field] = ()
    cuts: Sequence[int] = ()  # structural offsets: good places to truncate
    fixup: Fixup | None = None
    tokens: Sequence[bytes] = field(default=())  # dialect words worth inserting


#: Largest input a mutation may produce (the size caps have their own tests).
MAX_INPUT = 8 * 1024 * 1024

#: Markup and terminal payloads evidence can carry into every string: each one
#: would do harm if rendered (Qt rich text opening a file, a clickable file link, a script,
#: a terminal repainted or retitled, text reversed). Inserted by the text mutations.
MARKUP: tuple[bytes, ...] = (
    b'<img src="/dev/zero" data-fz>',
    b'<a href="file:///etc/passwd">fz</a>',
    b"<script>fz()</script>",
    b'<b style="color:red">fz</b>',
    b"\x1b]0;fz\x07",
    b"\x1b[2J",
    b"&lt;fz&gt;&#0;",
    "\u202efz".encode(),
    b"\\\\fzhost\\share\\x.png",
)

_INTERESTING = (
    0,
    1,
    2,
    0x7F,
    0x80,
    0xFF,
    0x100,
    0x7FFF,
    0x8000,
    0xFFFF,
    0x10000,
    0x7FFFFFFF,
    0x80000000,
    0xFFFFFFFF,
)


def _smash(rng: random.Random, buf: bytearray, fields: Sequence[Field]) -> None:
    offset, width = rng.choice(fields)
    if offset + width > len(buf):
        return
    old = int.from_bytes(buf[offset : offset + width], "little")
    top = (1 << (8 * width)) - 1
    choice = rng.randrange(6)
    if choice == 0:
        new = rng.choice(_INTERESTING)
    elif choice == 1:
        new = old + rng.choice((-1, 1, -2, 2, -8, 8, 16, -16))
    elif choice == 2:
        new = len(buf) + rng.randrange(-16, 17)
    elif choice == 3:
        new = old * rng.choice((2, 4, 16, 256))
    elif choice == 4:
        new = rng.getrandbits(8 * width)
    else:
        new = top - rng.randrange(4)
    buf[offset : offset + width] = (new & top).to_bytes(width, "little")


def _lines(rng: random.Random, buf: bytearray) -> bytearray:
    lines = bytes(buf).split(b"\n")
    if len(lines) < 2:
        return buf
    i = rng.randrange(len(lines))
    j = rng.randrange(len(lines))
    op = rng.randrange(4)
    if op == 0:
        lines.insert(j, lines[i])
    elif op == 1:
        del lines[i]
    elif op == 2:
        lines[i], lines[j] = lines[j], lines[i]
    else:  # one very long line: line-length caps and quadratic scans show up here
        times = rng.choice((64, 512, 4096))
        lines[i] = lines[i] * max(1, min(times, MAX_INPUT // max(len(lines[i]), 1)))
    return bytearray(b"\n".join(lines))


def mutate(rng: random.Random, seed: Seed, others: Sequence[Seed], text: bool = False) -> bytes:
    """One mutant of ``seed`` (1–4 stacked mutations; ``others`` for splices)."""
    buf = bytearray(seed.data)
    for _ in range(rng.choice((1, 1, 2, 2, 3, 4))):
        op = rng.randrange(12 if text else 10)
        n = len(buf)
        if op == 0 and n:  # flip a few bits
            for _ in range(rng.randrange(1, 9)):
                pos = rng.randrange(n)
                buf[pos] ^= 1 << rng.randrange(8)
        elif op == 1 and n:  # overwrite bytes with interesting ones
            for _ in range(rng.randrange(1, 5)):
                buf[rng.randrange(n)] = rng.choice((0, 0xFF, 0x7F, 0x80, 0x0A, 0x22, 0x5C))
        elif op == 2:  # insert random bytes or a dialect token
            pos = rng.randrange(n + 1)
            if seed.tokens and rng.random() < 0.6:
                chunk = rng.choice(seed.tokens) * rng.choice((1, 1, 2, 50))
            else:
                chunk = rng.randbytes(rng.randrange(1, 65))
            buf[pos:pos] = chunk
        elif op == 3 and n:  # delete a range
            pos = rng.randrange(n)
            del buf[pos : pos + rng.randrange(1, 257)]
        elif op == 4 and n:  # truncate anywhere
            del buf[rng.randrange(n) :]
        elif op == 5 and seed.cuts:  # truncate at (or next to) a structural offset
            cut = rng.choice(seed.cuts) + rng.choice((0, 0, -1, 1, 4, -4))
            del buf[max(cut, 0) :]
        elif op == 6 and others:  # splice: our head, another input's tail
            other = rng.choice(others).data
            head = rng.randrange(len(buf) + 1)
            buf = buf[:head] + other[rng.randrange(len(other) + 1) :]
        elif op in (7, 8) and seed.fields:  # integer-field smashing
            _smash(rng, buf, seed.fields)
        elif op == 9 and n:  # duplicate a range elsewhere
            pos = rng.randrange(n)
            chunk = buf[pos : pos + rng.randrange(1, 513)]
            at = rng.randrange(n + 1)
            buf[at:at] = chunk
        elif op == 10 and rng.random() < 0.5:  # markup or a terminal escape in a string
            pos = rng.randrange(n + 1)
            buf[pos:pos] = rng.choice(MARKUP)
        elif op >= 10:
            buf = _lines(rng, buf)
        del buf[MAX_INPUT:]  # stacked line blow-ups would otherwise reach hundreds of MB
    if seed.fixup is not None and rng.random() < 0.5:
        with contextlib.suppress(ValueError, IndexError):  # a buffer cut too short: leave it
            seed.fixup(buf)
    return bytes(buf)

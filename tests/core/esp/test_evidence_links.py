"""Names found in event values and log lines: the fast GUID scan finds exactly what a scan
of every position finds."""

from __future__ import annotations

import random
import uuid

from core.esp.evidence_links import _ID_TOKEN, _line_tokens


def _every_position(text: str) -> list[str]:
    return [m.group(0).strip("{}").casefold() for m in _ID_TOKEN.finditer(text)]


def _texts(rng: random.Random) -> list[str]:
    pieces = ["0", "a", "F", "9", "-", "{", "}", " ", "x", '"', "--", "abcdef01", "1234"]
    out = []
    for _ in range(3000):
        parts: list[str] = []
        for _ in range(rng.randint(0, 12)):
            roll = rng.random()
            if roll < 0.2:
                guid = str(uuid.UUID(int=rng.getrandbits(128)))
                guid = guid.upper() if rng.random() < 0.3 else guid
                parts.append("{" + guid + "}" if rng.random() < 0.4 else guid)
            elif roll < 0.3:  # a GUID cut short or run on: no match, or a match inside
                guid = str(uuid.UUID(int=rng.getrandbits(128)))
                cut = rng.randint(1, len(guid) - 1)
                parts.append(guid[cut:] if rng.random() < 0.5 else guid[:cut])
            else:
                parts.append(rng.choice(pieces) * rng.randint(1, 10))
        out.append("".join(parts))
    return out


def test_guids_are_found_as_a_scan_of_every_position_finds_them() -> None:
    rng = random.Random(13)
    texts = _texts(rng)
    assert sum(1 for text in texts if _every_position(text)) > 500
    for text in texts:
        assert _line_tokens(text) == _every_position(text), text


def test_guid_edges() -> None:
    guid = "0123abcd-4567-89ab-cdef-0123456789ab"
    assert _line_tokens("x" + guid) == [guid]
    assert _line_tokens("{" + guid.upper() + "}") == [guid]
    assert _line_tokens("9" + guid) == [guid]  # the last 8 digits before the dash
    assert _line_tokens(guid[1:]) == []
    assert _line_tokens(guid + guid) == [guid, guid]
    assert _line_tokens(guid, guids=False) == []

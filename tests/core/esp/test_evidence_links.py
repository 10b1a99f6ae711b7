"""Names found in event values and log lines, and log-line linking: the fast GUID scan finds
exactly what the plain GUID pattern (a scan of every position) finds."""

from __future__ import annotations

import random
import uuid

from core.esp.evidence_links import _ID_TOKEN, _guid_tokens, _line_tokens, link_log_lines
from core.logs.model import LogLine


def _plain(text: str) -> list[str]:
    return [m.group(0).strip("{}").casefold() for m in _ID_TOKEN.finditer(text)]


def _guid_like(rnd: random.Random) -> str:
    """A GUID, or a near miss: groups a digit short or long, braces and dashes around it."""
    lengths = (rnd.choice([7, 8, 9, 10]), 4, 4, rnd.choice([3, 4]), rnd.choice([11, 12, 13]))
    body = "-".join("".join(rnd.choice("0123456789abcdefABCDEF") for _ in range(n))
                    for n in lengths)
    return rnd.choice(["", "{", "x", "-", "a"]) + body + rnd.choice(["", "}", "-", "a", "}{"])


def test_guid_scan_matches_the_plain_pattern() -> None:
    rnd = random.Random(13)
    for _ in range(20_000):
        if rnd.random() < 0.3:
            alphabet = "0123456789abcdefAFg-{} x"
            text = "".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 80)))
        else:
            text = "".join(_guid_like(rnd) for _ in range(rnd.randint(1, 4)))
        assert _guid_tokens(text) == _plain(text), text


def test_overlapping_guids_are_read_as_finditer_reads_them() -> None:
    first = "0123abcd-0000-1111-2222-33334444aaaa"
    chained = first + "-5555-6666-7777-888899990000"  # a second tail on the first's digits
    assert _guid_tokens(chained) == _plain(chained) == [first]
    assert _guid_tokens("{" + first.upper() + "}") == [first]


def test_lines_tie_to_the_step_of_the_item_they_name() -> None:
    app = "0123abcd-0000-1111-2222-33334444aaaa"
    said = [f"Win32App_{app}_1 installed", "nothing here", f"again {{{app.upper()}}}",
            "nothing here"]
    lines = [LogLine(None, text, "", "1", 1, "x.log", n) for n, text in enumerate(said, 1)]
    links = link_log_lines(lines, {app: "DeviceSetup.Apps"}, {app: "Win32App_x"})
    assert links.step_of == ["DeviceSetup.Apps", None, "DeviceSetup.Apps", None]
    assert links.item_of == ["Win32App_x", None, "Win32App_x", None]
    assert links.by_step == {"DeviceSetup.Apps": [0, 2]}


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
    assert sum(1 for text in texts if _plain(text)) > 500
    for text in texts:
        assert _line_tokens(text) == _plain(text), text


def test_guid_edges() -> None:
    guid = "0123abcd-4567-89ab-cdef-0123456789ab"
    assert _line_tokens("x" + guid) == [guid]
    assert _line_tokens("{" + guid.upper() + "}") == [guid]
    assert _line_tokens("9" + guid) == [guid]  # the last 8 digits before the dash
    assert _line_tokens(guid[1:]) == []
    assert _line_tokens(guid + guid) == [guid, guid]
    assert _line_tokens(guid, guids=False) == []

"""Log-line linking: the fast GUID scan finds exactly what the plain GUID pattern finds."""

from __future__ import annotations

import random

from core.esp.evidence_links import _ID_TOKEN, _guid_tokens, link_log_lines
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

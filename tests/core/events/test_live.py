"""Live export with ``wevtutil epl``, run through a fake command runner."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import pytest

from core.errors import UnsupportedInput
from core.events.live import DEFAULT_CHANNELS, file_name_for, read_live_events
from core.paths import cache_dir
from tests.builders.evtx import write_evtx
from tests.core.events.test_evtx_builder import typed_record


class FakeWevtutil:
    """Writes a builder log for known channels; fails like wevtutil for the others."""

    def __init__(self, known: dict[str, int]) -> None:
        self.known = known
        self.calls: list[list[str]] = []

    def __call__(self, argv: Sequence[str]) -> tuple[int, str, str]:
        self.calls.append(list(argv))
        assert list(argv[:2]) == ["wevtutil", "epl"]
        channel, target = argv[2], Path(argv[3])
        assert target.parent.parent == cache_dir()  # only ever inside the cache folder
        if channel not in self.known:
            return 15007, "", "Failed to export log. The specified channel could not be found."
        records = [
            typed_record(channel=channel, event_id=100 + i) for i in range(self.known[channel])
        ]
        write_evtx(target, records)
        return 0, "", ""


def test_exports_reads_and_cleans_up() -> None:
    admin, aad = DEFAULT_CHANNELS[0], "Microsoft-Windows-AAD/Operational"
    fake = FakeWevtutil({admin: 3, aad: 2})
    with read_live_events([admin, aad, "Nope/Missing"], runner=fake) as live:
        folder = live.folder
        assert folder.is_dir()
        assert [r.channel for r in live.records] == [admin] * 3 + [aad] * 2
        assert live.records[0].origin == f"{admin}#1"
        assert "<EventID" in live.records[-1].xml()  # the copies live as long as the result
        assert [(p.file, "channel could not be found" in p.message) for p in live.problems] == [
            ("Nope/Missing", True)
        ]
    assert not folder.exists()
    assert all(call[-1] == "/ow:true" for call in fake.calls)


def test_channel_file_names_are_safe() -> None:
    assert file_name_for("Microsoft-Windows-AAD/Operational") == (
        "Microsoft-Windows-AAD-Operational.evtx"
    )
    assert "/" not in file_name_for('a/b\\c:d*e?"f<g>h|')


@pytest.mark.skipif(os.name == "nt", reason="the real runner works on Windows")
def test_needs_windows_without_a_runner() -> None:
    with pytest.raises(UnsupportedInput, match="Windows"):
        read_live_events()

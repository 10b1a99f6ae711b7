"""Binary-XML decoding: a template reused from an earlier chunk (``TemplateCache``) gives
exactly what parsing it again would, also when the chunk around it differs or is damaged."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from core.events.bxml import TemplateCache, TemplateMap
from core.events.evtx import read_evtx
from tests.builders.evtx import CHUNK_SIZE, FILE_HEADER_SIZE, corrupt_chunk, write_evtx
from tests.core.events.compare import record_fields
from tests.core.events.test_evtx_builder import T0


def _records(count: int) -> list[dict[str, Any]]:
    """Two templates sharing their element names: in each chunk the first to come defines
    them, the other takes them from there (at offsets that differ per chunk)."""
    out: list[dict[str, Any]] = []
    for i in range(count):
        data: dict[str, object] = {"Message": "m" * (50 + i % 150), "Index": i}
        if i % 3 == 1:
            data = {"Message": f"other {i}", "Flag": i % 2 == 0}
        out.append({
            "time": T0 + timedelta(seconds=i),
            "channel": "Microsoft-Windows-Test/Admin",
            "provider": "Microsoft-Windows-Test",
            "event_id": 100 + i % 5,
            "data": data,
        })  # fmt: skip
    return out


def _read(path: Path, monkeypatch: pytest.MonkeyPatch, *, cached: bool) -> tuple[Any, int]:
    """Everything read from ``path`` with or without the cache, and how often it was used."""
    hits: list[int] = []
    find = TemplateCache.find

    def counting(
        self: TemplateCache, b: bytes, offset: int, names: dict[int, str], fragment: bool
    ) -> TemplateMap | None:
        found = find(self, b, offset, names, fragment) if cached else None
        if found is not None:
            hits.append(offset)
        return found

    with monkeypatch.context() as patch:
        patch.setattr(TemplateCache, "find", counting)
        records, problems = read_evtx(path)
    return (record_fields(records), problems), len(hits)


def test_templates_of_later_chunks_come_from_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_evtx(tmp_path / "a.evtx", _records(900))
    assert path.stat().st_size >= FILE_HEADER_SIZE + 4 * CHUNK_SIZE
    fresh, _ = _read(path, monkeypatch, cached=False)
    reused, hits = _read(path, monkeypatch, cached=True)
    assert hits >= 3
    assert reused == fresh
    assert fresh[1] == []


def _rename_in_chunk(path: Path, index: int, old: str, new: str) -> None:
    """Rename the element name ``old`` where chunk ``index`` defines it (same length)."""
    data = bytearray(path.read_bytes())
    start = FILE_HEADER_SIZE + index * CHUNK_SIZE
    at = data.find(old.encode("utf-16-le"), start, start + CHUNK_SIZE)
    assert at > 0
    data[at : at + 2 * len(new)] = new.encode("utf-16-le")
    path.write_bytes(bytes(data))


def test_a_name_that_reads_otherwise_in_this_chunk_is_not_taken_from_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_evtx(tmp_path / "a.evtx", _records(900))
    _rename_in_chunk(path, 2, "Computer", "Computor")
    fresh, _ = _read(path, monkeypatch, cached=False)
    reused, hits = _read(path, monkeypatch, cached=True)
    assert hits >= 1
    assert reused == fresh
    # No <Computer> in that chunk any more: for both templates, the one defining the name
    # and the one taking it from there (whose own bytes are as in every other chunk).
    blank = [data for *_, computer, data in fresh[0] if computer == ""]
    assert any("Index" in data for data in blank)
    assert any("Flag" in data for data in blank)
    assert len(blank) < len(fresh[0])


@pytest.mark.parametrize("at", range(0x200, 0x800, 0x38))
def test_damage_reads_the_same_with_and_without_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, at: int
) -> None:
    path = write_evtx(tmp_path / "a.evtx", _records(600))
    corrupt_chunk(path, 1, at=at, count=3)
    fresh, _ = _read(path, monkeypatch, cached=False)
    reused, _ = _read(path, monkeypatch, cached=True)
    assert reused == fresh

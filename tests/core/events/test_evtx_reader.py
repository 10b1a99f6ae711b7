"""Reading EVTX files: fields, damage as problems, several files, lazy XML."""

from __future__ import annotations

import pickle
import random
from datetime import timedelta
from pathlib import Path

import pytest

from core.errors import Cancelled, CorruptInput
from core.events.bxml import BxmlError
from core.events.evtx import XmlRenderer, read_evtx, read_evtx_files, read_evtx_stats
from core.events.model import EventRecord
from core.progress import CancelToken
from tests.builders.evtx import CHUNK_SIZE, FILE_HEADER_SIZE, corrupt_chunk, write_evtx
from tests.core.events.compare import data_differences, record_fields
from tests.core.events.test_evtx_builder import (
    T0,
    expected_data,
    many_records,
    typed_record,
)


def assert_matches(records: list[EventRecord], written: list[dict[str, object]]) -> None:
    assert len(records) == len(written)
    for i, (rec, src) in enumerate(zip(records, written, strict=True), 1):
        assert rec.time == src["time"]
        assert rec.channel == src["channel"]
        assert rec.provider == src["provider"]
        assert rec.event_id == src["event_id"]
        assert rec.level == src.get("level", 4)
        assert rec.record_id == src.get("record_id", i)
        assert rec.computer == src.get("computer", "TESTPC")
        assert rec.data == expected_data(src)  # exactly the Event Viewer's text


def test_fields_exactly_as_written(tmp_path: Path) -> None:
    written = [typed_record(), typed_record(user_data={"Name": "App", "Status": 3})]
    records, problems, stats = read_evtx_stats(write_evtx(tmp_path / "a.evtx", written))
    assert problems == []
    assert stats.fallbacks == 0
    assert_matches(records, written)
    assert records[0].level_name == "Error"


def test_many_chunks(tmp_path: Path) -> None:
    written = many_records(1500)
    records, problems = read_evtx(write_evtx(tmp_path / "many.evtx", written))
    assert problems == []
    assert_matches(records, written)


def test_empty_log_is_fine(tmp_path: Path) -> None:
    assert read_evtx(write_evtx(tmp_path / "empty.evtx", [])) == ([], [])


def _chunk_of(records: list[EventRecord]) -> list[int]:
    assert all(isinstance(r._render_xml, XmlRenderer) for r in records)
    return [
        (r._render_xml.chunk_offset - FILE_HEADER_SIZE) // CHUNK_SIZE  # type: ignore[union-attr]
        for r in records
    ]


@pytest.mark.parametrize(
    ("at", "message"),
    [
        (0, "signature"),
        (0x30, "header checksum"),
        (0x1000, "records checksum"),
    ],
)
def test_damaged_chunk_is_a_problem_and_other_chunks_still_read(
    tmp_path: Path, at: int, message: str
) -> None:
    path = write_evtx(tmp_path / "d.evtx", many_records(1500))
    clean, _ = read_evtx(path)
    chunks = _chunk_of(clean)
    corrupt_chunk(path, 1, at=at, count=8)
    records, problems = read_evtx(path)
    assert any(p.where == "chunk 1" and message in p.message for p in problems), problems
    kept = [r for r, c in zip(clean, chunks, strict=True) if c != 1]
    got = {r.record_id: r for r in records}
    for rec in kept:
        assert got[rec.record_id] == rec


def test_any_damage_gives_problems_never_an_exception(tmp_path: Path) -> None:
    path = write_evtx(tmp_path / "f.evtx", many_records(300))
    pristine = path.read_bytes()
    rng = random.Random(1234)
    for _ in range(150):
        data = bytearray(pristine)
        for _ in range(rng.randint(1, 12)):
            pos = rng.randrange(FILE_HEADER_SIZE, len(data))
            data[pos] = rng.randrange(256)
        path.write_bytes(bytes(data))
        records, _problems = read_evtx(path)
        assert len(records) <= 300 + 5


def test_not_an_event_log(tmp_path: Path) -> None:
    bad = tmp_path / "x.evtx"
    bad.write_bytes(b"MZ" + bytes(5000))
    records, problems = read_evtx(bad, display_name="cab!x.evtx")
    assert records == []
    assert [(p.file, p.where) for p in problems] == [("cab!x.evtx", "file header")]
    assert "not an event log" in problems[0].message
    empty = tmp_path / "zero.evtx"
    empty.write_bytes(b"")
    assert "empty" in read_evtx(empty)[1][0].message
    missing = read_evtx(tmp_path / "missing.evtx")[1]
    assert "cannot read" in missing[0].message


def test_truncated_file_keeps_whole_chunks(tmp_path: Path) -> None:
    path = write_evtx(tmp_path / "t.evtx", many_records(1500))
    full, _ = read_evtx(path)
    chunks = _chunk_of(full)
    data = path.read_bytes()
    path.write_bytes(data[: FILE_HEADER_SIZE + 2 * CHUNK_SIZE + 100])
    records, problems = read_evtx(path)
    assert records == [r for r, c in zip(full, chunks, strict=True) if c < 2]
    assert any("truncated" in p.message for p in problems)


def test_xml_on_demand_and_pickle(tmp_path: Path) -> None:
    path = write_evtx(tmp_path / "x.evtx", [typed_record(), typed_record(event_id=9)])
    records, _ = read_evtx(path)
    copy = pickle.loads(pickle.dumps(records[1]))
    assert copy == records[1]
    assert ">9</EventID>" in copy.xml()
    path.unlink()
    with pytest.raises(CorruptInput, match="cannot be rendered"):
        records[0].xml()


def test_several_files_in_order_with_progress(tmp_path: Path) -> None:
    a = write_evtx(tmp_path / "a.evtx", many_records(20))
    b = write_evtx(tmp_path / "b.evtx", [typed_record(time=T0 - timedelta(days=1))])
    seen: list[tuple[str, int, int]] = []
    for workers in (1, 2):
        seen.clear()
        records, problems = read_evtx_files(
            [a, (b, "outer.cab!b.evtx"), tmp_path / "missing.evtx"],
            workers=workers,
            progress=lambda stage, done, total: seen.append((stage, done, total)),
        )
        assert [r.file for r in records] == ["a.evtx"] * 20 + ["outer.cab!b.evtx"]
        assert records[-1].origin == "outer.cab!b.evtx#1"
        assert [p.file for p in problems] == ["missing.evtx"]
        assert seen[-1][1:] == (3, 3)
        assert records[0].xml().startswith("<Event")


def test_cancel(tmp_path: Path) -> None:
    a = write_evtx(tmp_path / "a.evtx", many_records(5))
    token = CancelToken()
    token.cancel()
    for workers in (1, 2):
        with pytest.raises(Cancelled):
            read_evtx_files([a, a], workers=workers, cancel=token)


def test_records_the_fast_path_cannot_decode_are_rendered_by_python_evtx(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    written = many_records(12)
    path = write_evtx(tmp_path / "fb.evtx", written)
    fast, _ = read_evtx(path)

    def refuse(*_args: object) -> None:
        raise BxmlError("not today")

    monkeypatch.setattr("core.events.evtx.decode_record", refuse)
    slow, problems, stats = read_evtx_stats(path)
    assert problems == []
    assert stats.fallbacks == stats.records == 12
    for a, b in zip(fast, slow, strict=True):
        assert (a.channel, a.event_id, a.level, a.record_id) == (
            b.channel,
            b.event_id,
            b.level,
            b.record_id,
        )
        assert abs(a.time - b.time) <= timedelta(microseconds=3)  # python-evtx: float seconds
        assert data_differences(a.data, b.data, strip=False) == []


def test_records_per_log_are_capped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from core.events import evtx as evtx_module

    path = write_evtx(tmp_path / "many.evtx", [typed_record(event_id=i) for i in range(1500)])
    monkeypatch.setattr(evtx_module, "MAX_RECORDS_PER_LOG", 100)
    records, problems = evtx_module.read_evtx(path)
    assert 100 <= len(records) < 1500
    assert any("records: the rest of the log is not read" in p.message for p in problems)


def test_the_usual_layout_shortcut_and_the_general_decoder_agree(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    written = [typed_record(), typed_record(user_data={"Name": "App", "Status": 3})]
    written += many_records(40)
    path = write_evtx(tmp_path / "both.evtx", written)
    usual, problems = read_evtx(path)
    assert problems == []
    # No record has these types: every System field goes through the general helpers.
    monkeypatch.setattr("core.events.bxml._USUAL_TYPES", ())
    general, problems = read_evtx(path)
    assert problems == []
    assert record_fields(general) == record_fields(usual)
    assert_matches(general, written)

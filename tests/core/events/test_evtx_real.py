"""The fast decoder against python-evtx's full XML and pyevtx-rs, on every real evtx file."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from core.events.bxml import MIN_TIME
from core.events.evtx import read_evtx, read_evtx_files, read_evtx_stats
from core.events.model import EventRecord
from core.events.store import EventStore
from core.events.xmlfields import XmlFields
from tests.conftest import REAL
from tests.core.events.compare import (
    data_differences,
    pyevtx_rs_fields,
    python_evtx_fields,
    record_fields,
)

pytestmark = pytest.mark.real


def _real_files() -> list[Path]:
    patterns = [
        "mdmdiag-*/extracted/*.evtx",
        "mdmdiag-itziktdk-MyRes/eventlog.evtx",
        "evtx-corpora/omerbenamram-evtx/*.evtx",
    ]
    return sorted({p for pattern in patterns for p in REAL.glob(pattern)})


FILES = _real_files()


def _check(mine: EventRecord, other: XmlFields, source: str, strip: bool) -> list[str]:
    errors = []

    def text(value: str) -> str:
        return value.strip() if strip else value

    for name in ("channel", "provider", "computer"):
        if text(getattr(mine, name)) != text(getattr(other, name)):
            errors.append(f"{name}: {getattr(mine, name)!r} != {getattr(other, name)!r}")
    if (mine.event_id, mine.level) != (other.event_id, other.level):
        errors.append(f"id/level {(mine.event_id, mine.level)} != {(other.event_id, other.level)}")
    if other.record_id not in (mine.record_id, 0):
        errors.append(f"record id {mine.record_id} != {other.record_id}")
    assert other.time is not None
    if other.time in (MIN_TIME, MIN_TIME.replace(year=1601)):
        # A zero TimeCreated (an unfinished record): ESPView uses the record's written time.
        if mine.time.year < 1900:
            errors.append("zero TimeCreated not replaced by the record's written time")
    elif abs((mine.time - other.time).total_seconds()) > 3e-6:  # python-evtx: float seconds
        errors.append(f"time {mine.time} != {other.time}")
    errors += data_differences(mine.data, other.data, strip)
    return [f"{source} record {mine.record_id}: {e}" for e in errors]


@pytest.mark.skipif(not FILES, reason="no real evtx files")
@pytest.mark.slow  # python-evtx renders every record: about a minute in all
@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(REAL)))
def test_fields_equal_python_evtx_and_pyevtx_rs(path: Path) -> None:
    records, _problems, stats = read_evtx_stats(path)
    py = [fields for _, fields in python_evtx_fields(path)]
    rs = [fields for _, fields in pyevtx_rs_fields(path)]
    assert len(records) == len(py) == len(rs)
    errors: list[str] = []
    for record, py_fields, rs_fields in zip(records, py, rs, strict=True):
        errors += _check(record, py_fields, "python-evtx", strip=False)
        errors += _check(record, rs_fields, "pyevtx-rs", strip=True)
    assert errors == []
    assert stats.fallbacks == 0, "every real record decodes on the fast path"


def test_counts_and_channels(real_dir: Path) -> None:
    admin = real_dir / "mdmdiag-itziktdk-MyRes" / "eventlog.evtx"
    records, problems = read_evtx(admin)
    assert problems == []
    assert len(records) == len({r.record_id for r in records}) > 1000  # EventRecordIDs
    assert {r.channel.lower() for r in records} == {
        "microsoft-windows-devicemanagement-enterprise-diagnostics-provider/admin"
    }
    assert all(r.time.tzinfo is not None for r in records)
    assert all(r.origin == f"eventlog.evtx#{r.record_id}" for r in records)


def test_empty_real_logs_are_fine(real_dir: Path) -> None:
    empties = [p for p in FILES if not list(pyevtx_rs_fields(p))]
    assert empties
    for path in empties:
        records, problems = read_evtx(path)
        assert problems == []
        assert records == []


def test_unfinished_record_is_read_with_a_problem(real_dir: Path) -> None:
    path = real_dir / "evtx-corpora" / "omerbenamram-evtx"
    path = path / "Microsoft-Windows-HelloForBusiness%4Operational.evtx"
    records, problems = read_evtx(path)
    assert len(records) == len(dict(pyevtx_rs_fields(path)))
    odd = [r for r in records if not r.channel]
    assert len(odd) == 1
    assert odd[0].time.year > 2000  # the record's written time, not 0001-01-01
    assert any("incomplete" in p.message for p in problems)


def test_xml_is_rendered_on_demand_and_records_pickle(real_dir: Path) -> None:
    path = real_dir / "mdmdiag-itziktdk-MyRes" / "eventlog.evtx"
    records, _ = read_evtx(path, display_name="outer.cab!eventlog.evtx")
    record = pickle.loads(pickle.dumps(records[-1]))
    xml = record.xml()
    assert f"<EventRecordID>{record.record_id}</EventRecordID>" in xml
    assert record.origin == f"outer.cab!eventlog.evtx#{record.record_id}"


def test_mixed_case_channel_is_one_channel(real_dir: Path) -> None:
    files = sorted((real_dir / "mdmdiag-joopjaeng-jaeng" / "extracted").glob("*.evtx"))
    records, problems = read_evtx_files(files)
    assert problems == []
    admin = "Microsoft-Windows-Provisioning-Diagnostics-Provider/Admin"
    spellings = {r.channel for r in records if r.channel.lower() == admin.lower()}
    assert len(spellings) == 2  # the capture really mixes the case
    store = EventStore(records)
    assert len(store.by_channel(admin.upper())) == sum(
        1 for r in records if r.channel.lower() == admin.lower()
    )
    assert [c.lower() for c in store.channels()].count(admin.lower()) == 1


@pytest.mark.skipif(not FILES, reason="no real evtx files")
def test_the_usual_layout_shortcut_and_the_general_decoder_agree(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    usual = [read_evtx_stats(path) for path in FILES]
    assert any(records for records, _, _ in usual)
    monkeypatch.setattr("core.events.bxml._USUAL_TYPES", ())  # never matches
    for path, (records, problems, stats) in zip(FILES, usual, strict=True):
        again, again_problems, again_stats = read_evtx_stats(path)
        assert again_problems == problems
        assert again_stats == stats
        assert record_fields(again) == record_fields(records), path

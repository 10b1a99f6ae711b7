"""evtx fuzz findings for the event-log reader, kept as regression tests.

Each input is rebuilt from the evtx test builder (no real capture bytes), minimised to the one
damage that triggers the failure.
"""

from __future__ import annotations

import struct
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.builders.evtx import write_evtx

REPO = Path(__file__).resolve().parents[4]
CHUNK = 0x1000


def _string_cycle_evtx(path: Path) -> Path:
    """Two records; the chunk's first name string points to itself as its hash-chain successor,
    and the first record's binary XML has an unexpected token so the fast decoder gives up."""
    record = {
        "time": datetime(2024, 4, 2, tzinfo=UTC),
        "channel": "Application",
        "provider": "P",
        "event_id": 1,
        "data": {"A": "x"},
    }
    data = bytearray(write_evtx(path, [record, record]).read_bytes())
    heads = struct.unpack_from("<64I", data, CHUNK + 0x80)
    node = next(h for h in heads if h)
    struct.pack_into("<I", data, CHUNK + node, node)  # next string: itself
    data[CHUNK + 0x200 + 0x18 + 4] = 0x0D  # after the fragment header: not a valid token here
    path.write_bytes(bytes(data))
    return path


def test_string_table_cycle_does_not_hang(tmp_path: Path) -> None:
    path = _string_cycle_evtx(tmp_path / "cycle.evtx")
    code = "import sys; from core.events.evtx import read_evtx; read_evtx(sys.argv[1])"
    try:
        subprocess.run(
            [sys.executable, "-c", code, str(path)], cwd=REPO, timeout=5, check=True,
            capture_output=True,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        pytest.fail("read_evtx ran over 5 s on a 68 KB file (a string-table cycle)")


def test_xml_of_a_record_in_a_looping_chunk_is_an_error_not_a_hang(tmp_path: Path) -> None:
    # Fuzz finding (evtx, seed 12): the fast decoder read the records of a chunk whose
    # string-table chain loops, and a later record.xml() hung in python-evtx's renderer.
    from core.errors import CorruptInput
    from core.events.evtx import read_evtx

    path = _string_cycle_evtx(tmp_path / "cycle.evtx")
    records, _ = read_evtx(path)
    assert records  # the second record decodes without python-evtx
    with pytest.raises(CorruptInput, match="table loops"):
        records[0].xml()

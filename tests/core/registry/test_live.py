"""The live view on Linux: a fake ``winreg`` serves a parsed dump and refuses every write."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from core.errors import UnsupportedInput
from core.registry.dump import parse_dump
from core.registry.live import ACCESS, LiveView
from core.registry.memory import MemoryView
from core.registry.model import RegKey
from tests.core.registry.fake_winreg import KEY_WOW64_64KEY, WRITE_BITS, FakeWinreg


def shape(key: RegKey) -> list[tuple[str, list[tuple[str, str, object]]]]:
    return [(k.path, [(v.name, v.type, v.data) for v in k.values()]) for k in key.walk()]


def assert_read_only(fake: FakeWinreg) -> None:
    assert fake.writes == []
    assert fake.opened
    assert all(access & WRITE_BITS == 0 for access in fake.opened)
    assert all(access & KEY_WOW64_64KEY for access in fake.opened)
    assert all(handle.closed for handle in fake.handles)


@pytest.mark.real
def test_live_view_serves_a_real_dump_read_only(real_dir: Path) -> None:
    dump = parse_dump(real_dir / "mdmdiag-joopjaeng-jaeng/extracted/MdmDiagReport_RegistryDump.reg")
    fake = FakeWinreg(dump)
    live = LiveView(winreg=fake)
    hklm_dump = dump.key("HKLM")
    hklm_live = live.key("HKEY_LOCAL_MACHINE")
    assert hklm_dump is not None
    assert hklm_live is not None
    assert shape(hklm_live) == shape(hklm_dump)
    assert_read_only(fake)
    assert live.problems == []


def test_keys_values_and_last_write() -> None:
    view = MemoryView.from_dict(
        {
            r"HKLM\SOFTWARE\Microsoft\Enrollments\E1\FirstSync": {
                "SkipUserStatusPage": ("REG_DWORD", 1),
                "List": ("REG_MULTI_SZ", ["a", "b"]),
            },
            r"HKCU\Software\X": {"": ("REG_SZ", "d")},
        }
    )
    fake = FakeWinreg(view)
    live = LiveView(winreg=fake)
    key = live.key(r"HKLM\SOFTWARE\Microsoft\Enrollments\E1\FirstSync")
    assert key is not None
    assert key.origin == "live registry"
    assert key.last_write == fake.last_write
    assert [(v.name, v.type, v.data) for v in key.values()] == [
        ("SkipUserStatusPage", "REG_DWORD", 1),
        ("List", "REG_MULTI_SZ", ["a", "b"]),
    ]
    assert live.key(r"HKLM\SOFTWARE\Missing") is None
    assert live.key(r"HKEY_CLASSES_ROOT\X") is None
    assert [root.path for root in live.roots()] == ["HKLM", "HKCU", "HKU"]
    assert live.key(r"HKCU\Software\X").value("").data == "d"  # type: ignore[union-attr]
    assert_read_only(fake)
    assert all(access == ACCESS for access in fake.opened)


def test_enumeration_errors_become_problems() -> None:
    view = MemoryView.from_dict({rf"HKLM\S\K{i}": {"v": ("REG_SZ", "x")} for i in range(3)})
    fake = FakeWinreg(view, fail_enum_after=1)
    live = LiveView(winreg=fake)
    key = live.key(r"HKLM\S")
    assert key is not None
    assert [k.name for k in key.subkeys()] == ["K0"]
    assert [p.message.split(":")[0] for p in live.problems] == ["subkey listing stopped"]
    assert_read_only(fake)


def test_write_calls_fail_the_fake() -> None:
    fake = FakeWinreg(MemoryView())
    with pytest.raises(AssertionError):
        fake.SetValueEx(0, "x", 0, 1, "y")
    assert fake.writes == ["SetValueEx"]


@pytest.mark.skipif(sys.platform == "win32", reason="winreg exists on Windows")
def test_without_winreg_the_message_is_clear() -> None:
    with pytest.raises(UnsupportedInput, match="only be read on Windows"):
        LiveView()

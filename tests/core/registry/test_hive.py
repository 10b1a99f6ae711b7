"""Offline hives through the lazy adapter: real hives (regipy corpus, python-registry's own
test hives) compared against python-registry read directly, mounting, and damage."""

from __future__ import annotations

import lzma
from datetime import UTC
from pathlib import Path

import pytest
from Registry import Registry

from core.errors import CorruptInput, UnsupportedInput
from core.registry.hive import HiveView, open_hive
from core.registry.model import RegKey

REGIPY = "registry-hives/mkorman90-regipy"
TINY = "registry-hives/williballenthin-python-registry"


@pytest.fixture(scope="module")
def hives(real_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("hives")
    paths = {}
    for name in ("SYSTEM_WIN_10_1709", "NTUSER.DAT"):
        target = out / name
        target.write_bytes(lzma.decompress((real_dir / REGIPY / f"{name}.xz").read_bytes()))
        paths[name] = target
    return paths


def count_direct(path: Path) -> int:
    stack = [Registry.Registry(str(path)).root()]
    count = 0
    while stack:
        key = stack.pop()
        count += 1
        stack.extend(key.subkeys())
    return count


def mounted_root(view: HiveView) -> RegKey:
    root = view.key(view.mount)
    assert root is not None
    return root


@pytest.mark.real
@pytest.mark.parametrize(("name", "keys"), [("SYSTEM_WIN_10_1709", 43_211), ("NTUSER.DAT", 1_812)])
def test_key_counts_through_the_adapter(hives: dict[str, Path], name: str, keys: int) -> None:
    view = open_hive(hives[name])
    walked = sum(1 for _ in mounted_root(view).walk())
    assert walked == keys == count_direct(hives[name])
    assert view.problems == []


@pytest.mark.real
def test_mount_points(hives: dict[str, Path]) -> None:
    system = open_hive(hives["SYSTEM_WIN_10_1709"])
    assert system.mount == r"HKLM\SYSTEM"
    assert [root.path for root in system.roots()] == ["HKLM"]
    assert [key.path for key in system.roots()[0].subkeys()] == [r"HKLM\SYSTEM"]
    ntuser = open_hive(hives["NTUSER.DAT"])
    # The user folder recorded inside the hive names the mount (read at test time).
    hive_name = Registry.Registry(str(hives["NTUSER.DAT"])).hive_name()
    user = hive_name.replace("/", "\\").split("\\")[-2]
    assert ntuser.mount == f"HKU\\{user}"
    explicit = open_hive(hives["NTUSER.DAT"], mount=r"HKCU")
    assert explicit.key(r"HKEY_CURRENT_USER\Software") is not None
    assert explicit.roots()[0].path == "HKCU"


@pytest.mark.real
def test_current_control_set_follows_select(hives: dict[str, Path]) -> None:
    view = open_hive(hives["SYSTEM_WIN_10_1709"])
    current = view.key(r"HKLM\SYSTEM\Select").value("Current").data  # type: ignore[union-attr]
    assert isinstance(current, int)
    key = view.key(r"HKEY_LOCAL_MACHINE\system\CurrentControlSet\Services")
    assert key is not None
    assert key.path == rf"HKLM\SYSTEM\ControlSet{current:03d}\Services"
    assert key.origin == f"SYSTEM_WIN_10_1709:ControlSet{current:03d}\\Services"


@pytest.mark.real
def test_values_and_times_match_python_registry(hives: dict[str, Path]) -> None:
    view = open_hive(hives["NTUSER.DAT"])
    compared = 0
    stack = [(Registry.Registry(str(hives["NTUSER.DAT"])).root(), mounted_root(view))]
    while stack:
        theirs, mine = stack.pop()
        assert mine.last_write == theirs.timestamp().replace(tzinfo=UTC)
        assert mine.last_write is not None
        assert mine.last_write.tzinfo is UTC
        values = {value.name: value for value in mine.values()}
        for record in theirs.values():
            name = "" if record.name() == "(default)" else record.name()
            data = record.value()
            if isinstance(data, list):
                while data and data[-1] == "":
                    data.pop()  # python-registry keeps the terminating empty strings
            assert values[name].data == data
            assert values[name].origin == mine.origin
            compared += 1
        children = {key.name: key for key in mine.subkeys()}
        stack.extend((child, children[child.name()]) for child in theirs.subkeys())
    assert compared > 1000


@pytest.mark.real
def test_tiny_hives(real_dir: Path) -> None:
    unicode_view = open_hive(real_dir / TINY / "UNICODE_TESTS")
    assert unicode_view.mount == r"HKLM\UNICODE_TESTS"  # nothing says what it is
    names = [key.name for key in mounted_root(unicode_view).subkeys()]
    assert len(names) == 2
    assert any(ord(ch) > 127 for ch in "".join(names))
    issue22 = open_hive(real_dir / TINY / "issue22.hive", mount=r"HKLM\SYSTEM\X")
    root = issue22.key(r"HKLM\SYSTEM\X")
    assert root is not None
    assert root.values()
    assert issue22.key("HKLM\\SYSTEM") is not None
    assert issue22.key(r"HKLM\SOFTWARE") is None


def test_not_a_hive_and_unreadable_header(tmp_path: Path) -> None:
    with pytest.raises(UnsupportedInput):
        open_hive(b"not a hive")
    with pytest.raises(UnsupportedInput):
        open_hive(tmp_path / "absent")
    with pytest.raises(CorruptInput):
        open_hive(b"regf" + bytes(100))


@pytest.mark.real
def test_damaged_hive_gives_problems_not_exceptions(hives: dict[str, Path]) -> None:
    original = hives["NTUSER.DAT"].read_bytes()
    damaged_any = False
    for seed in range(12):
        data = bytearray(original)
        # Scribble over cells in the hbin area (past the 4 KiB header), deterministically.
        for index in range(40):
            offset = 4096 + (seed * 7919 + index * 104_729) % (len(data) - 4096)
            data[offset : offset + 4] = b"\xff\xff\xff\x7f"
        try:
            view = open_hive(bytes(data), name=f"damaged{seed}")
        except CorruptInput:
            continue
        for key in view.roots()[0].walk():
            key.values()
            _ = key.last_write
        damaged_any = damaged_any or bool(view.problems)
        assert all(p.file == f"damaged{seed}" for p in view.problems)
    assert damaged_any
    truncated = open_hive(original[: len(original) // 3], name="cut")
    sum(1 for key in truncated.roots()[0].walk() if key.values() is not None)
    assert truncated.problems


def test_a_subkey_list_pointing_at_an_ancestor_is_cut(tmp_path: Path) -> None:
    """A loop in the key graph made ``espview registry`` run until memory ran out."""
    import io

    from core import cli
    from core.registry.render import format_tree
    from tests.builders.hive import build_hive

    data = build_hive(["ROOT", "Policies", "Loop"], {0: [1], 1: [2], 2: [0, 1]})
    view = open_hive(data, mount="HKLM\\SOFTWARE", name="SOFTWARE")
    out = io.StringIO()
    assert format_tree(view, None, out) == 4  # HKLM, SOFTWARE, Policies, Loop: no more
    assert [p.where for p in view.problems] == ["Policies\\Loop", "Policies\\Loop"]
    assert all("loop" in p.message for p in view.problems)
    hive = tmp_path / "SOFTWARE"
    hive.write_bytes(data)
    assert cli.main(["registry", str(hive)], out=io.StringIO()) == cli.EXIT_PROBLEMS

"""Registry text readers under hostile input: each cap is a Problem, never an OOM or a hang."""

from __future__ import annotations

import time

from core.registry import decode
from core.registry.dump import parse_dump
from core.registry.regedit import parse_regedit

HEADER = "[HKEY_LOCAL_MACHINE\\software\\microsoft\\declaredconfiguration\\CspSchema]"


def _messages(view: object) -> list[str]:
    return [p.message for p in view.problems]  # type: ignore[attr-defined]  # any view


def test_one_line_of_repeated_key_headers_is_a_depth_problem_not_an_oom() -> None:
    # Fuzz finding (dump, OOM at 1 GiB): a key header line repeated 4096 times joined by a
    # bare CR is *one* line, i.e. one key path of ~16k levels; every level stored its full
    # path, so memory grew with depth x length.
    line = "\r".join([HEADER] * 4096)
    view = parse_dump(f'{line}\r\n    "A"=DWORD:00000001\r\n'.encode())
    assert any("levels, over the registry's cap of 512" in m for m in _messages(view))
    assert view.key(HEADER[1:-1]) is None


def test_regedit_deep_key_is_refused_the_same_way() -> None:
    deep = "HKEY_LOCAL_MACHINE\\" + "\\".join(["k"] * 600)
    text = f'Windows Registry Editor Version 5.00\r\n\r\n[{deep}]\r\n"v"=dword:00000001\r\n'
    view = parse_regedit(text.encode())
    assert any("601 levels" in m for m in _messages(view))


def test_key_name_over_255_characters_is_refused() -> None:
    view = parse_dump(f"[HKEY_LOCAL_MACHINE\\{'n' * 300}]\r\n".encode())
    assert any("cap of 255 characters" in m for m in _messages(view))


def test_total_key_path_budget(monkeypatch: object) -> None:
    monkeypatch.setattr(decode, "MAX_KEY_PATH_CHARS", 2000)  # type: ignore[attr-defined]  # pytest fixture
    lines = [f"[HKEY_LOCAL_MACHINE\\a{i}\\b\\c\\d\\e\\f\\g]" for i in range(200)]
    view = parse_dump("\r\n".join(lines).encode())
    assert any("key-depth bomb" in m for m in _messages(view))
    assert view.key("HKLM\\a0\\b\\c") is not None  # the keys before the cap are kept


def test_line_over_the_cap_is_skipped_with_a_problem(monkeypatch: object) -> None:
    monkeypatch.setattr(decode, "MAX_LINE_CHARS", 1000)  # type: ignore[attr-defined]  # pytest fixture
    text = f'[HKEY_LOCAL_MACHINE\\x]\r\n    "Big"=hex(3):{"00," * 2000}00\r\n    "A"=DWORD:1\r\n'
    view = parse_dump(text.encode())
    assert any("over the cap of 1,000; skipped" in m for m in _messages(view))
    key = view.key("HKLM\\x")
    assert key is not None
    assert key.value("A") is not None
    assert key.value("Big") is None


def test_dump_multiline_string_over_the_value_cap(monkeypatch: object) -> None:
    monkeypatch.setattr("core.registry.dump.MAX_VALUE_CHARS", 500)  # type: ignore[attr-defined]  # pytest fixture
    body = "\r\n".join(["<xml>" * 20] * 20)
    text = f'[HKEY_LOCAL_MACHINE\\x]\r\n    "Xml"="{body}"\r\n\r\n'
    view = parse_dump(text.encode())
    assert any("the cap" in m and "string runs over" in m for m in _messages(view))


def test_regedit_continuation_lines_are_linear_and_capped(monkeypatch: object) -> None:
    # 100k continuation lines: joined once (the old loop rebuilt the string per line).
    lines = ['"Bin"=hex:00,\\'] + ["  01,02,03,\\"] * 100_000 + ["  04"]
    text = "Windows Registry Editor Version 5.00\r\n\r\n[HKEY_LOCAL_MACHINE\\x]\r\n"
    text += "\r\n".join(lines) + '\r\n"After"=dword:00000002\r\n'
    started = time.perf_counter()
    view = parse_regedit(text.encode())
    assert time.perf_counter() - started < 5
    key = view.key("HKLM\\x")
    assert key is not None
    bin_value = key.value("Bin")
    assert bin_value is not None
    assert isinstance(bin_value.data, bytes)
    assert len(bin_value.data) == 1 + 3 * 100_000 + 1
    assert key.value("After") is not None
    monkeypatch.setattr("core.registry.regedit.MAX_VALUE_CHARS", 10_000)  # type: ignore[attr-defined]  # pytest fixture
    view = parse_regedit(text.encode())
    key = view.key("HKLM\\x")
    assert key is not None
    assert key.value("Bin") is None
    assert key.value("After") is not None
    assert any("value data runs over 10,000 characters" in m for m in _messages(view))

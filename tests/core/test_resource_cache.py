"""Parsed knowledge files kept in the cache folder: same documents as tomllib, re-parsed when
the file changes, and never trusted when damaged."""

from __future__ import annotations

import tomllib
from dataclasses import replace
from pathlib import Path

import pytest

from core import config
from core.resource_cache import CACHE_FOLDER, load_toml


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    # The settings the edge would make from ESPVIEW_CACHE_DIR (core.config).
    monkeypatch.setattr(config, "_active", replace(config.current(), cache_dir=folder))
    return folder / CACHE_FOLDER


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_same_document_as_tomllib_and_stored(tmp_path: Path, cache: Path) -> None:
    text = 'schema = 1\n[[step]]\nid = "a"\nweight = 2.5\nflags = [true, false]\n'
    source = _write(tmp_path / "steps.toml", text)
    assert load_toml(source) == tomllib.loads(text)
    stored = list(cache.glob("steps.toml.*.json"))
    assert len(stored) == 1
    assert load_toml(source) == tomllib.loads(text)  # now from the stored copy


def test_the_stored_copy_is_what_a_second_run_reads(tmp_path: Path, cache: Path) -> None:
    source = _write(tmp_path / "k.toml", "a = 1\n")
    load_toml(source)
    (stored,) = cache.glob("k.toml.*.json")
    stored.write_text('{"a": 2}', encoding="utf-8")
    assert load_toml(source) == {"a": 2}


def test_an_edited_file_is_parsed_again(tmp_path: Path, cache: Path) -> None:
    source = _write(tmp_path / "k.toml", "a = 1\n")
    assert load_toml(source) == {"a": 1}
    _write(source, "a = 3\n")
    assert load_toml(source) == {"a": 3}


@pytest.mark.parametrize("damage", ["", "{not json", "[1, 2]", "\x00\xff"])
def test_a_damaged_copy_falls_back_to_parsing(tmp_path: Path, cache: Path, damage: str) -> None:
    source = _write(tmp_path / "k.toml", "a = 1\n")
    load_toml(source)
    (stored,) = cache.glob("k.toml.*.json")
    stored.write_bytes(damage.encode("utf-8", "surrogatepass"))
    assert load_toml(source) == {"a": 1}


def test_values_json_cannot_carry_are_parsed_every_time(tmp_path: Path, cache: Path) -> None:
    text = "when = 2024-04-02T16:13:04Z\nbig = inf\n"
    source = _write(tmp_path / "d.toml", text)
    assert load_toml(source) == tomllib.loads(text)
    assert load_toml(source) == tomllib.loads(text)
    assert not list(cache.glob("d.toml.*.json"))


def test_toml_errors_are_raised_as_tomllib_raises_them(tmp_path: Path, cache: Path) -> None:
    source = _write(tmp_path / "bad.toml", "a = = 1\n")
    with pytest.raises(tomllib.TOMLDecodeError):
        load_toml(source)
    assert not cache.exists() or not list(cache.glob("bad.toml.*.json"))


def test_an_unwritable_cache_only_means_parsing(tmp_path: Path, cache: Path) -> None:
    source = _write(tmp_path / "k.toml", "a = 1\n")
    cache.parent.mkdir(parents=True)
    cache.write_text("a file where the folder should be", encoding="utf-8")
    assert load_toml(source) == {"a": 1}
    assert load_toml(source) == {"a": 1}


def test_a_checked_document_is_checked_when_parsed_and_stored_only_when_it_passed(
    tmp_path: Path, cache: Path
) -> None:
    checked: list[dict[str, object]] = []

    def check(doc: dict[str, object]) -> None:
        checked.append(doc)
        if doc.get("a") != 1:
            raise ValueError("a must be 1")

    source = _write(tmp_path / "c.toml", "a = 2\n")
    for _ in range(2):  # a failing file is never stored: checked (and refused) every time
        with pytest.raises(ValueError, match="a must be 1"):
            load_toml(source, check=check, kind=".checked")
    assert len(checked) == 2
    assert not list(cache.glob("c.toml*.json"))

    _write(source, "a = 1\n")
    assert load_toml(source, check=check, kind=".checked") == {"a": 1}
    assert load_toml(source, check=check, kind=".checked") == {"a": 1}  # the stored copy
    assert len(checked) == 3
    assert [p.name.split(".")[2] for p in cache.glob("c.toml*.json")] == ["checked"]
    # The unchecked load of the same file is stored under its own name: it never reads a copy
    # that skipped the check, nor does the checked load read an unchecked copy.
    assert load_toml(source) == {"a": 1}
    assert len(list(cache.glob("c.toml*.json"))) == 2

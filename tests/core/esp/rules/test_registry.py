"""The registry's contracts: rules read only what they declare, the knowledge files and the
registered rules agree, and the loader rejects what nothing reads."""

from __future__ import annotations

import inspect
import re
import tomllib
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

import core.esp.knowledge as knowledge_module
from core.esp.knowledge import KnowledgeError, load
from core.esp.rules.base import INPUTS
from core.esp.rules.registry import RULES, check, units

_CTX_ATTR = re.compile(r"\bctx\.(\w+)")
#: Context helpers and what they read
_HELPERS = {
    "log_lines": {"logs"},
    "find_events": {"links"},
    "event_line": {"events", "links"},
    "step_title": {"steps", "phases"},
    "param": {"knowledge"},
}


def _reads_in_source(function: Any) -> set[str]:
    used: set[str] = set()
    for name in _CTX_ATTR.findall(inspect.getsource(function)):
        used |= _HELPERS.get(name, {name})
    return used


@pytest.mark.parametrize("unit", units(), ids=lambda u: u.name)
def test_rule_reads_only_what_it_declares(unit: Any) -> None:
    used = _reads_in_source(unit.check)
    assert used <= INPUTS, used - INPUTS
    assert used <= unit.reads, f"{unit.name} reads {sorted(used - unit.reads)} undeclared"


def test_rules_are_registered_once_and_in_one_order() -> None:
    names = [u.name for u in units()]
    assert len(names) == len(set(names))
    assert RULES[0].name == "profile_problem"
    assert units()[-1].name == "mdm_errors"


def test_check_rejects_an_unused_parameter() -> None:
    knowledge = load()
    rule = knowledge.rules["not_autopilot"]
    broken = replace(
        knowledge,
        rules={**knowledge.rules, "not_autopilot": replace(rule, params={"events": ["x:1"]})},
    )
    with pytest.raises(KnowledgeError, match="unused"):
        check(broken)


def test_check_rejects_an_entry_no_rule_emits() -> None:
    knowledge = load()
    extra = replace(knowledge.rules["not_autopilot"], id="orphan")
    with pytest.raises(KnowledgeError, match="orphan"):
        check(replace(knowledge, rules={**knowledge.rules, "orphan": extra}))


def _load_with(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, text: str) -> None:
    real = knowledge_module.resource_path("knowledge", name).parent
    for path in real.iterdir():
        (tmp_path / path.name).write_bytes(path.read_bytes())
    (tmp_path / name).write_text(text, encoding="utf-8")
    monkeypatch.setattr(knowledge_module, "resource_path", lambda *parts: tmp_path / parts[-1])
    knowledge_module.load.cache_clear()
    try:
        knowledge_module.load()
    finally:
        knowledge_module.load.cache_clear()


def _rules_text() -> str:
    return knowledge_module.resource_path("knowledge", "rules.toml").read_text(encoding="utf-8")


def test_loader_rejects_a_rule_without_confidence(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = _rules_text().replace('confidence = "high"\n', "", 1)
    with pytest.raises(KnowledgeError, match="confidence is required"):
        _load_with(tmp_path, monkeypatch, "rules.toml", text)


def test_loader_rejects_an_unknown_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = knowledge_module.resource_path("knowledge", "steps.toml").read_text(encoding="utf-8")
    text = text.replace("[[phase]]\n", '[[phase]]\nicon = "x"\n', 1)
    with pytest.raises(KnowledgeError, match="unknown key"):
        _load_with(tmp_path, monkeypatch, "steps.toml", text)


def test_loader_rejects_event_text(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Event texts have one home, messages.toml: a catalogue entry may not carry its own."""
    text = knowledge_module.resource_path("knowledge", "events.toml").read_text(encoding="utf-8")
    text = text.replace("id = 100\n", 'id = 100\ntext = "Autopilot policy %1 not found"\n', 1)
    with pytest.raises(KnowledgeError, match="unknown key"):
        _load_with(tmp_path, monkeypatch, "events.toml", text)


@pytest.mark.parametrize(
    ("name", "old", "new", "message"),
    [
        ("events.toml", 'outcome = "failure"\n', 'outcome = "failed"\n', "outcome"),
        ("events.toml", 'outcome = "failure"\n',
         'outcome = "failure"\nsteps = ["DeviceSetup.NoSuchSubcategory"]\n', "unknown step"),
        ("steps.toml", 'failed = "failed"\n', 'failed = "error"\n', "is not a status"),
    ],
)
def test_loader_rejects_a_misspelt_value(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, old: str, new: str, message: str
) -> None:
    """A misspelt outcome, step id or status word would load and quietly read as unknown."""
    text = knowledge_module.resource_path("knowledge", name).read_text(encoding="utf-8")
    assert old in text
    with pytest.raises(KnowledgeError, match=message):
        _load_with(tmp_path, monkeypatch, name, text.replace(old, new, 1))


def test_every_rule_entry_has_the_required_fields() -> None:
    doc = tomllib.loads(_rules_text())
    for rule_id, entry in doc["rule"].items():
        for key in ("severity", "confidence", "title", "text", "source"):
            assert entry.get(key), (rule_id, key)


def test_every_state_table_is_read_by_the_code() -> None:
    root = Path(__file__).resolve().parents[4]
    sources = "".join(
        path.read_text(encoding="utf-8") for path in (root / "core").rglob("*.py")
    ) + (root / "resources" / "knowledge" / "values.toml").read_text(encoding="utf-8")
    for table in load().states:
        assert f'"{table}"' in sources, f"states.toml [state.{table}] is read by nothing"

"""build/knowledge/audit_messages.py: our event messages against Windows' own message tables.

The meaning of a message cannot be checked by a program; what can: every field a template
shows is one Windows' message shows too (no {3} when Windows has only %1..%2), the tables are
read right (0xB000xxxx -> event id, newest build first), and a few pinned meanings that were
once wrong stay right.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[3]
DMEDP = "Microsoft-Windows-DeviceManagement-Enterprise-Diagnostics-Provider"
UDR = "Microsoft-Windows-User Device Registration"


def _module() -> ModuleType:
    path = REPO / "build" / "knowledge" / "audit_messages.py"
    spec = importlib.util.spec_from_file_location("audit_messages", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("audit_messages", module)
    spec.loader.exec_module(module)
    return module


audit = _module()


@pytest.fixture(scope="module")
def tables(real_dir: Path) -> Path:
    path = real_dir / "event-message-tables" / "libyal-winevt-kb"
    if not path.is_dir():
        pytest.skip("Windows' message tables (libyal-winevt-kb) are not here")
    return path


@pytest.fixture(scope="module")
def rows(tables: Path) -> dict[tuple[str, int], Any]:
    return {(r.provider, r.event_id): r for r in audit.audit(audit.MESSAGES, tables)}


def test_every_template_shows_only_fields_windows_shows(rows: dict[tuple[str, int], Any]) -> None:
    with_text = [r for r in rows.values() if r.windows is not None]
    assert len(with_text) >= 900  # the comparison really ran
    problems = [
        f"{r.provider} {r.event_id}: {p} ({r.ours!r} vs {r.windows.newest!r})"
        for r in with_text
        for p in r.mechanical_problems()
    ]
    assert not problems, "\n".join(problems)


def test_message_ids_and_builds_are_read_right(tables: Path) -> None:
    table = audit.read_message_file(tables / "MessageFile-dmenterprisediagnostics.dll.md")
    assert table[32].newest.startswith("SCEP: Certificate enroll failed")  # 0xB0000020
    assert table[32].newest_build == "10.0.22000.1"
    # event 17 gained a field in later builds: both wordings are kept, newest first
    texts = [text for _, text in table[17].variants()]
    assert len(texts) == 2
    assert "%2" in texts[0]
    assert "%2" not in texts[1]
    # dsreg.dll numbers its strings apart from the event ids: no id look-up there
    assert not audit.read_message_file(tables / "MessageFile-dsreg.dll.md")


def test_a_misplaced_field_fails_the_check(tables: Path, tmp_path: Path) -> None:
    messages = tmp_path / "messages.toml"
    messages.write_text(
        "schema = 1\n[[message]]\n"
        f'provider = "{DMEDP}"\nid = 452\ntext = "license check {{4|code}}"\n'
        'fields = ["Message1", "Message2", "HexInt1", "HexInt2"]\n',
        encoding="utf-8",
    )
    (row,) = audit.audit(messages, tables)
    assert row.mechanical_problems() == ["POSITION {4|code}=%4"]
    assert audit.main(["--check", "--messages", str(messages), "--tables", str(tables)]) == 1


def test_pinned_meanings(rows: dict[tuple[str, int], Any]) -> None:
    # DMEDP 32 is a SCEP enrolment failure, not an XML parse error
    scep = rows[(DMEDP, 32)]
    assert "SCEP" in scep.windows.newest
    assert "SCEP" in scep.ours
    assert "certificate" in scep.ours.casefold()
    assert "XML" not in scep.ours
    for event_id in (36, 37, 38, 39):
        assert "SCEP" in rows[(DMEDP, event_id)].ours
    assert "push" in rows[(DMEDP, 42)].ours.casefold()
    # CSP node operations: the result is %7, %6 is the child URI
    assert rows[(DMEDP, 401)].coded == {7}
    # User Device Registration: paired with dsreg.dll's text by the field labels
    auth = rows[(UDR, 305)]
    assert auth.by_labels
    assert "authentication phase" in auth.windows.newest
    assert "FIDO" in rows[(UDR, 373)].ours

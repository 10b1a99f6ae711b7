"""Event messages (core/events/messages.py): strict loading, rendering, real-capture coverage."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from core.events.evtx import read_evtx
from core.events.messages import (
    MessageTableError,
    MessageTemplate,
    compile_table,
    render_message,
    templates,
)
from core.events.model import EventRecord
from tests.builders.evtx import hex32, write_evtx

REPO = Path(__file__).resolve().parents[3]
T0 = datetime(2024, 4, 2, 16, 13, 4, tzinfo=UTC)
AUTOPILOT = "Microsoft-Windows-ModernDeployment-Diagnostics-Provider"
DMEDP = "Microsoft-Windows-DeviceManagement-Enterprise-Diagnostics-Provider"


def _event(provider: str, event_id: int, data: dict[str, str]) -> EventRecord:
    return EventRecord(T0, f"{provider}/Admin", provider, event_id, 4, 1, "PC", data, "x.evtx")


def test_every_template_compiles_and_modern_deployment_is_complete() -> None:
    table = templates()
    assert len(table) >= 600
    autopilot = {i for p, i in table if p == AUTOPILOT.casefold()}
    assert {100, 153, 170, 171, 172, 289, 290, 509, 704, 753, 1005} <= autopilot


def test_templates_compiled_when_first_needed_are_the_whole_tables() -> None:
    text = (REPO / "resources" / "knowledge" / "messages.toml").read_text(encoding="utf-8")
    whole = compile_table(tomllib.loads(text))
    table = templates()  # each compiled on its own, from the checked, stored copy

    def shape(template: MessageTemplate) -> tuple[object, ...]:
        steps = [(n, i, opt, getattr(conv, "__qualname__", None), tail)
                 for n, i, opt, conv, tail in template.steps]
        return template.provider, template.event_id, template.head, steps

    assert table.keys() == whole.keys()
    assert all(shape(table[key]) == shape(whole[key]) for key in whole)


def test_messages_from_a_built_evtx(tmp_path: Path) -> None:
    path = write_evtx(
        tmp_path / "mixed.evtx",
        [
            {
                "time": T0,
                "channel": f"{AUTOPILOT}/Autopilot",
                "provider": AUTOPILOT,
                "event_id": 153,
                "data": {"InitialState": 0, "UpdateState": 3},
            },
            {
                "time": T0,
                "channel": "Microsoft-Windows-AAD/Operational",
                "provider": "Microsoft-Windows-AAD",
                "event_id": 1098,
                "level": 2,
                "data": {
                    "Error": "3399942148",
                    "ErrorMessage": "The server or proxy was not found.",
                    "AdditionalInformation": "x",
                },
            },
            {
                "time": T0,
                "channel": f"{DMEDP}/Admin",
                "provider": DMEDP,
                "event_id": 404,
                "level": 2,
                "data": {
                    "Message1": "src",
                    "Message2": "Device",
                    "Message3": "Policy",
                    "InternalCmdType": 4,
                    "Message5": "./Device/Vendor/MSFT/Policy/Config/X",
                    "HexInt1": hex32(0x86000002),
                },
            },
            {
                "time": T0,
                "channel": "Contoso/Operational",
                "provider": "Contoso-Agent",
                "event_id": 7,
                "data": {"Status": "-2147024891", "Note": "hello"},
            },
        ],
    )
    records, problems = read_evtx(path)
    assert not problems
    lines = [render_message(r) for r in records]
    assert lines[0] == ("Autopilot profile state changed from Unknown (0) to Available (3)", True)
    assert lines[1][1]
    assert lines[1][0].startswith(
        "Entra token broker error 0xCAA70004 (ERROR_INET_RESOURCE_NOT_FOUND: "
    )
    assert lines[2][1]
    assert "CFGMGR_E_NODENOTFOUND" in lines[2][0]
    assert "./Device/Vendor/MSFT/Policy/Config/X" in lines[2][0]
    # no template: the generic line, with the code field decoded
    assert lines[3] == (
        "Contoso-Agent 7: Status=0x80070005 (E_ACCESSDENIED: Access is denied.), Note=hello",
        False,
    )


def test_free_text_names_the_codes_inside_it() -> None:
    shell = "Microsoft-Windows-Shell-Core"
    value = '{"message": "BootstrapStatus: x_Failed", "errorCode": 2278622236}'
    line, templated = render_message(_event(shell, 62407, {"Name": "x_Failed", "Value": value}))
    assert templated
    assert '"errorCode": 0x87D1041C (' in line


def test_a_missing_field_falls_back_to_the_generic_line() -> None:
    line, templated = render_message(_event(AUTOPILOT, 153, {"InitialState": "0"}))
    assert not templated
    assert line.startswith(f"{AUTOPILOT} 153: InitialState=0")


def test_optional_field_may_be_absent() -> None:
    appx = "Microsoft-Windows-AppXDeployment-Server"
    line, templated = render_message(_event(appx, 636, {"HResult": "0"}))
    assert templated
    assert line == "App package removal request: 0x00000000 (S_OK) (by —)"


def test_literal_text_around_named_and_numbered_fields() -> None:
    table = compile_table(
        {
            "schema": 1,
            "message": [
                {"provider": "P", "id": 1, "text": "a {X} b {2}{3?} c"},
                {"provider": "P", "id": 2, "text": "{X}"},
                {"provider": "P", "id": 3, "text": "only text"},
            ],
        }
    )
    first, second, third = (table["p", i] for i in (1, 2, 3))
    assert first.render({"X": " x  y ", "Y": "why"}) == "a x y b why— c"
    assert first.render({"X": "x", "Y": "y", "Z": "z"}) == "a x b yz c"
    assert first.render({"Y": "y"}) is None
    assert second.render({"X": "v" * 200}) == "v" * 119 + "…"
    assert third.render({}) == "only text"


def _doc(**message: Any) -> dict[str, Any]:
    entry = {"provider": "P", "id": 1, "text": "x {A}", "fields": ["A"]} | message
    return {"schema": 1, "message": [entry]}


@pytest.mark.parametrize(
    ("doc", "error"),
    [
        ({"schema": 1, "messsage": []}, "unknown top-level keys"),
        (_doc(colour="red"), "unknown keys"),
        (_doc(text="x {B}"), "field 'B' is not one of"),
        (_doc(text="x {2}"), "the event has 1 fields"),
        (_doc(text="x {A|shout}"), "unknown formatter"),
        (_doc(text="x {A|map:Nope}"), "unknown value map"),
        (_doc(maps={"A": "Nope"}), "map 'Nope'"),
        (_doc(text="x {A} }"), "unbalanced"),
        (_doc(text=""), "text non-empty"),
        ({"schema": 1, "message": [{"provider": "P", "id": 1, "text": "a"}] * 2}, "twice"),
    ],
)
def test_loader_is_strict(doc: dict[str, Any], error: str) -> None:
    with pytest.raises(MessageTableError, match=error):
        compile_table(doc)


def test_value_maps_and_codes_render() -> None:
    table = compile_table(
        {
            "schema": 1,
            "maps": {"P": {"State": {"0": "Off", "1": "On"}}},
            "message": [
                {
                    "provider": "P",
                    "id": 1,
                    "text": "{S} / {S|map:State} / {C|code}",
                    "fields": ["S", "C"],
                    "maps": {"S": "State"},
                }
            ],
        }
    )
    template = table[("p", 1)]
    assert template.render({"S": "1", "C": "0x80070005"}) == (
        "On (1) / On (1) / 0x80070005 (E_ACCESSDENIED: Access is denied.)"
    )
    assert (
        template.render({"S": "7", "C": "0"})
        == "7 (not in State) / 7 (not in State) / 0x00000000 (S_OK)"
    )


def test_generated_messages_are_up_to_date(real_dir: Path) -> None:
    manifests = real_dir / "event-message-tables" / "repnz-etw-providers-docs"
    result = subprocess.run(
        [
            sys.executable,
            str(REPO / "build" / "knowledge" / "gen_messages.py"),
            "--check",
            "--manifests",
            str(manifests),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_95_percent_of_real_records_have_a_template_message(real_dir: Path) -> None:
    from core.evidence import load_evidence

    cabs = sorted(real_dir.glob("mdmdiag-*/MDMDiagReport.cab"))
    assert len(cabs) == 3
    for cab in cabs:
        events = load_evidence(cab).events
        assert events
        templated = sum(1 for e in events if render_message(e)[1])
        assert templated / len(events) >= 0.95, cab.parent.name

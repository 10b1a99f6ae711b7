"""Redaction: stable pseudonyms on built reports, and no identifier of the real captures left.

The real-capture test builds its own list of identifiers from the raw evidence (registry,
side files, event records) at run time; nothing from the fixtures is written here.
"""

from __future__ import annotations

import io
import json
import re
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from core.cli import main
from core.esp.analyze import analyze
from core.esp.model import Finding, RegistryRef, RegistryValueRef, TimelineEntry
from core.evidence import Evidence, load_evidence
from core.fleet.redact import Redactor, kind_for_name, redact_report, redact_reports
from core.report import render_html, render_text, report_to_dict
from tests.core.fleet.builders import DEVICE_NAME, SERIAL, story, write
from tests.core.report.builders import at, full_report

UPN = "megan.bowen@contoso.example"
SID = "S-1-12-1-1111111111-2222222222-3333333333-4444444444"
TENANT_ID = "00c0ffee-0000-4000-8000-000000000001"
PUSH = "https://db5p.notify.windows.com/?token=AwYAAAB0aGlzIGlzIG5vdCBhIHJlYWwgdG9rZW4"


def _report_with_identifiers() -> tuple[object, list[str]]:
    base = full_report()
    ref = RegistryRef(
        r"HKLM\SOFTWARE\Microsoft\Provisioning\Diagnostics\Autopilot", None,
        (RegistryValueRef("CloudAssignedTenantId", "REG_SZ", TENANT_ID),
         RegistryValueRef("UPN", "REG_SZ", UPN),
         RegistryValueRef("ChannelURI", "REG_SZ", PUSH),
         RegistryValueRef("Blob", "REG_BINARY", DEVICE_NAME.encode("utf-16-le"))),
        "dump.reg:1")
    setup = base.phases[1]
    apps = replace(setup.steps[3], registry=(*setup.steps[3].registry, ref))
    phases = (base.phases[0], replace(setup, steps=(*setup.steps[:3], apps)), base.phases[2])
    timeline = (
        TimelineEntry(at(1), "log", None, f"User {UPN} signed in on {DEVICE_NAME}", "ime.log:1"),
        TimelineEntry(at(2), "event", None, f"SID {SID} from 10.1.2.3 mac 00-1A-2B-3C-4D-5E",
                      "a.evtx#1"),
        TimelineEntry(at(3), "log", None, r"C:\Users\mbowen\AppData\Local\Temp\x.log",
                      "ime.log:2"),
        TimelineEntry(at(4), "log", None, "Version: 1.2.3.4 of https://portal.contoso.example/x",
                      "ime.log:3"),
        TimelineEntry(at(5), "log", None, "see https://learn.microsoft.com/x", "ime.log:4"),
    )
    findings = (*base.findings, Finding("f", "error", None, f"{DEVICE_NAME} failed",
                                        f"serial {SERIAL}", (f"evidence {UPN}",),
                                        source="https://learn.microsoft.com/x",
                                        confidence="high"))
    device = replace(base.device, name=DEVICE_NAME, serial=SERIAL)
    report = replace(base, phases=phases, timeline=timeline, findings=findings, device=device,
                     source=replace(base.source, path=f"/captures/DeviceHash_{DEVICE_NAME}.csv"))
    secrets = [UPN, SID, TENANT_ID, PUSH, DEVICE_NAME, SERIAL, "10.1.2.3", "00-1A-2B-3C-4D-5E",
               "mbowen", "portal.contoso.example", "megan.bowen", "contoso.example"]
    return report, secrets


def test_every_kind_is_replaced_and_counted() -> None:
    report, secrets = _report_with_identifiers()
    redacted = redact_report(report)  # type: ignore[arg-type]
    data = report_to_dict(redacted)
    text = json.dumps(data, ensure_ascii=False)
    for secret in secrets:
        assert secret.lower() not in text.lower(), secret
    assert data["redaction"]["redacted"] is True
    counts = data["redaction"]["counts"]
    for kind in ("user", "sid", "device", "serial", "tenant", "domain", "ip", "mac", "push",
                 "host"):
        assert counts.get(kind, 0) >= 1, kind
    assert "Version: 1.2.3.4" in text  # a version is not an address
    assert "learn.microsoft.com" in text  # public service hosts stay readable
    assert DEVICE_NAME.encode("utf-16-le").hex() not in text  # binary data too
    assert "device-1" in text
    assert "user-1" in text


def test_same_value_same_token_across_reports() -> None:
    report, _ = _report_with_identifiers()
    a, b = redact_reports([report, report])  # type: ignore[list-item]
    assert a.device.name == b.device.name == "device-1"
    assert a.timeline == b.timeline
    upper = replace(report, device=replace(report.device, name=DEVICE_NAME.lower()))  # type: ignore[type-var]
    assert redact_report(upper).device.name == "device-1"  # type: ignore[arg-type]


def test_text_and_html_say_redacted() -> None:
    report, secrets = _report_with_identifiers()
    redacted = redact_report(report)  # type: ignore[arg-type]
    for rendered in (render_text(redacted), render_html(redacted)):
        assert "Redacted" in rendered
        for secret in secrets:
            assert secret.lower() not in rendered.lower(), secret


def test_unredacted_report_has_no_redaction_key() -> None:
    assert "redaction" not in report_to_dict(full_report())


@pytest.mark.parametrize(("name", "kind"), [
    ("CloudAssignedTenantId", "tenant"), ("CloudAssignedTenantDomain", "domain"),
    ("UPN", "user"), ("UserEmail", "user"), ("SystemSerialNumber", "serial"),
    ("ComputerName", "device"), ("ChannelURI", "push"), ("InstallationState", None),
])
def test_value_names(name: str, kind: str | None) -> None:
    assert kind_for_name(name) == kind


def test_cli_report_redact(tmp_path: Path) -> None:
    cab = write(story(), tmp_path, "capture")
    out = io.StringIO()
    code = main(["report", str(cab), "--json", "--redact"], out=out)
    data = json.loads(out.getvalue())
    assert code in (0, 1)
    assert data["redaction"]["redacted"] is True
    text = out.getvalue().lower()
    for secret in (DEVICE_NAME, SERIAL, "contoso.example", TENANT_ID, "megan.b@"):
        assert secret.lower() not in text, secret


def test_tokens_are_never_relearned() -> None:
    redactor = Redactor()
    redactor.learn("device", "device-1")
    redactor.learn("device", DEVICE_NAME)
    assert redactor.text(DEVICE_NAME) == "device-1"


# -- every real capture ----------------------------------------------------------------------

_SID = re.compile(r"S-1-(?:5-21|12-1)(?:-\d+){3,}")
_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@(?:[A-Za-z0-9\-]+\.)+[A-Za-z]{2,}")
_DEVICE_KEYS = {
    r"HKLM\SYSTEM\CurrentControlSet\Control\ComputerName\ComputerName": ("ComputerName",),
    r"HKLM\HARDWARE\DESCRIPTION\System\BIOS": ("SystemSerialNumber",),
    r"HKLM\SOFTWARE\Microsoft\Provisioning\Diagnostics\Autopilot": (
        "CloudAssignedTenantId", "CloudAssignedTenantDomain"),
}


def _identifiers(evidence: Evidence) -> set[str]:
    """Personal and tenant identifiers read straight from the raw evidence."""
    found: set[str] = set()
    registry = evidence.registry
    for path, names in _DEVICE_KEYS.items():
        key = registry.key(path)
        for name in names:
            value = key.value(name) if key is not None else None
            if value is not None and isinstance(value.data, str):
                found.add(value.data)
    for root in registry.roots():
        for key in root.walk():
            found.update(_SID.findall(key.path))
            for value in key.values():
                if value.name.lower() in {"upn", "useremail"} and isinstance(value.data, str):
                    found.add(value.data)
    side = evidence.side_files
    if side is not None:
        found.update(row.serial for row in side.device_hashes)
        if side.ztd is not None:
            for name in ("CloudAssignedTenantId", "CloudAssignedTenantDomain"):
                value = side.ztd.raw.get(name)
                if isinstance(value, str):
                    found.add(value)
    for record in evidence.events:
        if record.computer:
            found.add(record.computer)
        for text in record.data.values():
            if isinstance(text, str):
                found.update(_SID.findall(text))
                found.update(_EMAIL.findall(text))
    return {f.strip() for f in found if len(f.strip()) >= 4}


@pytest.mark.real
@pytest.mark.slow
def test_no_identifier_survives_on_real_captures(real_dir: Path, tmp_path: Path) -> None:
    cabs = sorted(real_dir.glob("mdmdiag-*/MDMDiagReport.cab"))
    if not cabs:
        pytest.skip("no real cabs")
    for number, original in enumerate(cabs):
        # A neutral copy: the fixture folders are named after the people who shared them.
        cab = tmp_path / f"capture{number}" / "MDMDiagReport.cab"
        cab.parent.mkdir()
        shutil.copyfile(original, cab)
        evidence = load_evidence(cab)
        identifiers = _identifiers(evidence)
        assert identifiers, f"{cab.parent.name}: no identifier found in the raw evidence"
        redacted = redact_report(analyze(evidence), evidence)
        outputs = {
            "json": json.dumps(report_to_dict(redacted), ensure_ascii=False).lower(),
            "html": render_html(redacted).lower(),
            "text": render_text(redacted).lower(),
        }
        for kind, text in outputs.items():
            left = [i for i in identifiers if i.lower() in text]
            if left:  # counts only: the identifiers themselves must never reach a log
                pytest.fail(f"capture {number} {kind}: {len(left)} identifier(s) survive "
                            f"(lengths {sorted(len(i) for i in left)})", pytrace=False)
        assert redacted.redaction is not None
        assert dict(redacted.redaction.counts)

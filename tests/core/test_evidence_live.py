"""Live attach, end to end on any OS: fake winreg, fake wevtutil, a fake ProgramData folder."""

from __future__ import annotations

from pathlib import Path

from core.esp.analyze import analyze
from core.events.live import DEFAULT_CHANNELS
from core.evidence import load_live_evidence
from core.paths import cache_dir
from core.registry.memory import MemoryView
from tests.builders.logs import cmtrace_line, write_cmtrace
from tests.core.esp.builders import (
    T0,
    autopilot_keys,
    esp_status_json,
    first_sync,
    merge,
    status_record,
)
from tests.core.events.test_live import FakeWevtutil
from tests.core.registry.fake_winreg import FakeWinreg
from tests.core.registry.test_live import assert_read_only


def _device(tmp_path: Path) -> dict[str, str]:
    program_data = tmp_path / "ProgramData"
    logs = program_data / "Microsoft" / "IntuneManagementExtension" / "Logs"
    logs.mkdir(parents=True)
    write_cmtrace(
        logs / "IntuneManagementExtension.log",
        [cmtrace_line(T0, "[Win32App] ESP checking apps", "IntuneManagementExtension")],
    )
    return {"%ProgramData%": str(program_data), "%WINDIR%": str(tmp_path / "Windows")}


def test_live_evidence_reads_everything_read_only(tmp_path: Path) -> None:
    record = status_record(
        DeviceSetup=esp_status_json(
            "DeviceSetup", "inProgress", {"AppsSubcategory": ("inProgress", "Apps (1 of 3)")}
        )
    )
    keys = merge(autopilot_keys(), first_sync(), record)
    fake_registry = FakeWinreg(MemoryView.from_dict(keys))
    wevtutil = FakeWevtutil({DEFAULT_CHANNELS[0]: 3})
    paths = _device(tmp_path)

    def expand(text: str) -> str:
        for var, value in paths.items():
            text = text.replace(var, value)
        return text.replace("\\", "/")  # Windows paths, on the test's own OS

    evidence = load_live_evidence(winreg=fake_registry, runner=wevtutil, expand=expand)
    try:
        assert evidence.source.kind == "live"
        assert len(evidence.events) == 3
        assert evidence.events[0].xml().startswith("<Event")  # the export is still there
        assert [line.message for line in evidence.logs] == ["[Win32App] ESP checking apps"]
        report = analyze(evidence)
        apps = report.step("DeviceSetup.AppsSubcategory")
        assert apps is not None
        assert apps.status == "in_progress"
        assert report.device.deployment_mode != "not_autopilot"
        # Channels that do not exist on the device are problems, not failures.
        assert len([p for p in evidence.problems if "could not export" in p.message]) == len(
            DEFAULT_CHANNELS
        ) - 1
        assert_read_only(fake_registry)
        exports = list(cache_dir().glob("live-events-*"))
        assert exports
    finally:
        evidence.close()
    assert not any(folder.exists() for folder in exports)

"""Side files: structure of the real captures, and damage as Problems."""

from __future__ import annotations

import codecs
import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from core.sidefiles import (
    DeviceHashRow,
    SideFiles,
    ZtdProfile,
    read_side_files,
)

BUNDLES = ["mdmdiag-itziktdk-MyRes", "mdmdiag-joopjaeng-jaeng", "mdmdiag-shahzadssd-logfile"]


def _utf16(path: Path, text: str) -> Path:
    path.write_bytes(codecs.BOM_UTF16_LE + text.encode("utf-16-le"))
    return path


# -- real files ------------------------------------------------------------------------------


@pytest.mark.real
@pytest.mark.parametrize("bundle", BUNDLES)
def test_real_bundles_read_without_problems(real_dir: Path, bundle: str) -> None:
    folder = real_dir / bundle / "extracted"
    side, problems = read_side_files(folder)
    assert problems == []
    assert isinstance(side, SideFiles)

    hash_files = sorted(folder.glob("DeviceHash_*.csv"))
    assert len(side.device_hashes) == sum(
        len(list(csv.DictReader(io.StringIO(p.read_text("utf-8-sig"))))) for p in hash_files
    )
    for row in side.device_hashes:
        assert row.serial
        assert row.has_hash
        assert row.origin == hash_files[0].name
        assert row.hardware_hash not in repr(row)

    assert side.metadata is not None
    assert side.metadata.origin == "MdmDiagLogMetadata.json"
    assert "autopilot" in side.metadata.areas

    assert side.tpm is not None
    assert side.tpm.version == "2.0"
    assert side.tpm.manufacturer
    assert side.tpm.present is True
    assert side.tpm.uefi_present is True
    assert isinstance(side.tpm.ready, bool)
    assert isinstance(side.tpm.collected, datetime)

    if (folder / "DiagnosticsFrameworkData.json").exists():
        diag = side.diagnostics
        assert diag is not None
        raw = json.loads((folder / "DiagnosticsFrameworkData.json").read_text("utf-8-sig"))
        ids = [
            item["propertyId"]
            for tab in raw["$schema"]
            for cat in tab.get("categories", [])
            for item in cat.get("items", [])
        ]
        assert sorted(diag.properties) == sorted(ids)
        assert diag.device_name
        assert diag.os_build
        assert diag.time_zone
        assert len(diag.events) == sum(
            len(cat.get("events", []))
            for tab in raw["$schema"]
            for cat in tab.get("categories", [])
        )
        assert all(isinstance(ev.status, int) for ev in diag.events)
    if (folder / "UEFI_Data_Output.txt").exists():
        assert side.uefi is not None
        assert side.uefi.supported is True
        assert side.uefi.variable("AUTOPILOT_MARKER") is not None


@pytest.mark.real
def test_real_metadata_both_dialects(real_dir: Path) -> None:
    full, _ = read_side_files(real_dir / BUNDLES[0] / "extracted" / "MdmDiagLogMetadata.json")
    assert full.metadata is not None
    build = json.loads(
        (real_dir / BUNDLES[0] / "extracted" / "MdmDiagLogMetadata.json").read_text("utf-8")
    )
    assert full.metadata.os_build == f"{build['CurrentBuildNumber']}.{build['UBR']}"
    assert full.metadata.install_date is not None
    # The older tool's file is "key : value" lines, not JSON: read, not a Problem.
    loose, problems = read_side_files(
        real_dir / BUNDLES[1] / "extracted" / "MdmDiagLogMetadata.json"
    )
    assert problems == []
    assert loose.metadata is not None
    assert loose.metadata.areas == ("deviceenrollment", "deviceprovisioning", "autopilot")
    assert loose.metadata.os_build is None


@pytest.mark.real
def test_real_tpm_not_ready_flags(real_dir: Path) -> None:
    side, _ = read_side_files(real_dir / BUNDLES[1] / "extracted" / "TpmHliInfo_Output.txt")
    assert side.tpm is not None
    text = (real_dir / BUNDLES[1] / "extracted" / "TpmHliInfo_Output.txt").read_text()
    expected_ready = "Ready: True" in text
    assert side.tpm.ready is expected_ready
    assert len(side.tpm.flags) == text.count("  -")


@pytest.mark.real
def test_real_ztd_files(real_dir: Path) -> None:
    paths = [
        *sorted((real_dir / "ztd-json").glob("*/AutopilotDDSZTDFile.json")),
        real_dir / "mdmdiag-shahzadssd-logfile/extracted/AutopilotDDSZTDFile.json",
    ]
    for path in paths:
        assert path.read_bytes().startswith(codecs.BOM_UTF16_LE)
        side, problems = read_side_files([path])
        assert problems == []
        ztd = side.ztd
        assert isinstance(ztd, ZtdProfile)
        raw = json.loads(path.read_bytes().decode("utf-16"))
        assert dict(ztd.raw) == raw
        assert ztd.policy_download_date is not None
        assert ztd.policy_download_date.tzinfo is UTC
        assert ztd.has_profile == ("CloudAssignedTenantId" in raw)
        if "ErrorCode" in raw:
            assert ztd.error_code == raw["ErrorCode"]
            assert len(ztd.error_reasons) == raw["ErrorReason"].count(",") + 1
            assert not ztd.has_profile
        if "CloudAssignedOobeConfig" in raw:
            bits = raw["CloudAssignedOobeConfig"]
            assert ztd.oobe_config == bits
            assert ztd.oobe_flags
            assert ztd.hybrid_join == (raw["CloudAssignedDomainJoinMethod"] == 1)
            assert ztd.profile_name == raw["DeploymentProfileName"]
        assert ztd.tenant_id is None or ztd.tenant_id not in repr(ztd)


@pytest.mark.real
def test_real_autopilot_info_csv(real_dir: Path) -> None:
    path = real_dir / "ztd-json/djailz-Repo1/pc1.csv"
    side, problems = read_side_files([path])
    assert problems == []
    rows = list(csv.DictReader(io.StringIO(path.read_bytes().decode("utf-16"))))
    assert len(side.device_hashes) == len(rows)
    assert [r.serial for r in side.device_hashes] == [r["Device Serial Number"] for r in rows]
    assert all(r.has_hash for r in side.device_hashes)


# -- built files -----------------------------------------------------------------------------


def test_ztd_accessors(tmp_path: Path) -> None:
    path = _utf16(
        tmp_path / "AutopilotDDSZTDFile.json",
        json.dumps(
            {
                "CloudAssignedTenantDomain": "contoso.example",
                "CloudAssignedTenantId": "tenant",
                "CloudAssignedOobeConfig": 1 + 32 + 64,
                "CloudAssignedDomainJoinMethod": 1,
                "ZtdCorrelationId": "corr",
                "PolicyDownloadDate": "2026-01-02T03:04:05Z",
            }
        ),
    )
    side, problems = read_side_files([path])
    assert problems == []
    ztd = side.ztd
    assert ztd is not None
    assert ztd.tenant_domain == "contoso.example"
    assert ztd.oobe_flags == ("SkipCortanaOptIn", "TpmAttestation", "AadDeviceAuth")
    assert ztd.self_deploying is True
    assert ztd.hybrid_join is True
    assert ztd.correlation_id == "corr"
    assert ztd.policy_download_date == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert ztd.origin == "AutopilotDDSZTDFile.json"


@pytest.mark.parametrize(
    ("name", "content", "why"),
    [
        ("AutopilotDDSZTDFile.json", "{not json", "not valid JSON"),
        ("AutopilotDDSZTDFile.json", "[1, 2]", "expected a JSON object"),
        ("DiagnosticsFrameworkData.json", '{"x": 1}', "no '$schema'"),
        ("MdmDiagLogMetadata.json", "garbage without pairs", "neither JSON"),
        ("TpmHliInfo_Output.txt", "\n\n", "no 'key: value'"),
        ("UEFI_Data_Output.txt", "nothing here", "not the UEFI query output"),
        ("DeviceHash_X.csv", "Serial,Other\nA,B\n", "no 'Device Serial Number'"),
        ("DeviceHash_X.csv", "", "empty hardware-hash file"),
        ("notes.txt", "hello", "not a side file"),
    ],
)
def test_malformed_files_are_problems(tmp_path: Path, name: str, content: str, why: str) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    side, problems = read_side_files([path], names=[f"cab!{name}"])
    assert side == SideFiles()
    assert len(problems) == 1
    assert problems[0].file == f"cab!{name}"
    assert why in problems[0].message


def test_hash_csv_rows_and_damage(tmp_path: Path) -> None:
    path = tmp_path / "DeviceHash_PC.csv"
    path.write_text(
        'Device Serial Number,Windows Product ID,Hardware Hash\nSER1,,AAAA\n\n"SER2","PID2",""\n',
        encoding="utf-8",
    )
    side, problems = read_side_files([path])
    assert problems == []
    assert side.device_hashes == (
        DeviceHashRow("SER1", "", "AAAA", "DeviceHash_PC.csv"),
        DeviceHashRow("SER2", "PID2", "", "DeviceHash_PC.csv"),
    )
    assert [r.has_hash for r in side.device_hashes] == [True, False]


def test_missing_and_oversized_files(tmp_path: Path) -> None:
    side, problems = read_side_files([tmp_path / "TpmHliInfo_Output.txt"])
    assert side == SideFiles()
    assert "cannot read" in problems[0].message


def test_bad_utf8_is_a_problem_but_still_read(tmp_path: Path) -> None:
    path = tmp_path / "TpmHliInfo_Output.txt"
    path.write_bytes(b"TpmHLI Version: 2.0\nManufacturer: \xff\xfeX\n")
    side, problems = read_side_files(tmp_path)
    assert side.tpm is not None
    assert side.tpm.version == "2.0"
    assert len(problems) == 1
    assert "not valid UTF-8" in problems[0].message


def test_folder_ignores_unknown_names_and_names_must_match(tmp_path: Path) -> None:
    (tmp_path / "setupact.log").write_text("x", encoding="utf-8")
    assert read_side_files(tmp_path) == (SideFiles(), [])
    with pytest.raises(ValueError, match="one to one"):
        read_side_files([tmp_path / "a", tmp_path / "b"], names=["a"])


def test_metadata_nested_200000_deep_is_a_problem(tmp_path: Path) -> None:
    """json recurses per level: "[[[[…" 200,000 deep raised RecursionError (exit 3)."""
    path = tmp_path / "MdmDiagLogMetadata.json"
    path.write_text("[" * 200_000 + "]" * 200_000, encoding="utf-8")
    files, problems = read_side_files([path])
    assert files.metadata is None
    assert [p.message for p in problems] == ["not valid JSON: nested too deeply"]

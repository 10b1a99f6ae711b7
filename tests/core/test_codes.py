"""The error-code database (core/codes.py): counts, notations, fallbacks, strictness."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from core import codes, config
from core.codes import code_count, describe_code, format_code, parse_code
from core.resource_cache import CACHE_FOLDER

REPO = Path(__file__).resolve().parents[2]


def test_at_least_800_named_codes_and_100_with_cause_and_first_step() -> None:
    named, with_cause = code_count()
    assert named >= 800
    assert with_cause >= 100


def test_every_entry_has_a_name_meaning_and_source() -> None:
    table = codes._tables().codes
    for code, (name, meaning, source) in table.items():
        assert name, f"0x{code:08X}"
        assert meaning, f"0x{code:08X}"
        assert source, f"0x{code:08X}"


def test_every_cause_has_a_title_cause_first_step_and_source() -> None:
    for entries in codes.causes().values():
        for entry in entries:
            assert entry.title, entry.code_text
            assert entry.cause, entry.code_text
            assert entry.hint, entry.code_text
            assert entry.source, entry.code_text


@pytest.mark.parametrize(
    "notation", ["0x87D1041C", "0x87d1041c", "87D1041C", "-2016345060", "2278622236"]
)
def test_lookup_in_every_notation(notation: str) -> None:
    info = describe_code(notation)
    assert info is not None
    assert info.hex == "0x87D1041C"
    assert info.known
    assert info.cause
    assert info.first_step


def test_aad_signed_and_unsigned_decimal_decode_to_their_name() -> None:
    assert format_code(3399942148) == format_code("-895025148")
    assert format_code("3399942148", None).startswith("0xCAA70004 (ERROR_INET_RESOURCE_NOT_FOUND: ")


def test_esp_timeout_code_is_named() -> None:
    info = describe_code("0x81036502")
    assert info is not None
    assert info.known
    assert "Autopilot" in info.facility


def test_unknown_code_keeps_its_facility() -> None:
    info = describe_code("0x8018FFFF")
    assert info is not None
    assert not info.known
    assert "MDM enrollment" in info.facility
    assert format_code("0x8018FFFF") == "0x8018FFFF (unknown code; MDM enrollment (MENROLL))"


def test_win32_hresult_without_its_own_entry_gets_the_win32_name() -> None:
    # 0x80070570 has no entry of its own: the Win32 error inside names it
    info = describe_code(0x80070000 | 1392)  # ERROR_FILE_CORRUPT
    assert info is not None
    assert info.name == "ERROR_FILE_CORRUPT"
    assert info.facility == "FACILITY_WIN32"


def test_msi_exit_codes_are_win32_numbers() -> None:
    info = describe_code("1618")
    assert info is not None
    assert info.name == "ERROR_INSTALL_ALREADY_RUNNING"
    assert info.first_step is not None
    assert "LOB" in info.first_step


def test_step_specific_cause_wins_over_the_general_one() -> None:
    general = describe_code("0x800705B4")
    tpm = describe_code("0x800705B4", "DevicePreparation.TpmAttestationSubcategory")
    assert general is not None
    assert tpm is not None
    assert general.cause != tpm.cause
    assert "TPM" in (tpm.cause or "")


@pytest.mark.parametrize("text", ["", "abc", "0x", "0x123456789", "99999999999", "1.5", "0xZZ"])
def test_non_numbers_are_not_codes(text: str) -> None:
    assert parse_code(text) is None
    assert describe_code(text) is None
    assert format_code(text) is None


def test_annotate_codes_names_failure_codes_once() -> None:
    text = codes.annotate_codes("failed 0x80070643, again 0x80070643, ok 0x00000000")
    assert text.count("ERROR_INSTALL_FAILURE") == 1
    assert "ok 0x00000000" in text


def test_annotate_codes_reads_decimal_codes_after_their_name() -> None:
    text = codes.annotate_codes('{"message": "x", "errorCode": 2278622236}; HRESULT=-2147024891')
    assert '"errorCode": 0x87D1041C (' in text
    assert "HRESULT=0x80070005 (E_ACCESSDENIED: " in text
    assert codes.annotate_codes("took 2278622236 ms") == "took 2278622236 ms"


def test_codes_table_is_checked(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    bad = tmp_path / "knowledge"
    bad.mkdir()
    (bad / "codes.tsv").write_text("#source\tW\tx\n0x80070005\tE_ACCESSDENIED\tdenied\tNOPE\n")

    def fake(*parts: str) -> Path:
        return tmp_path.joinpath(*parts)

    monkeypatch.setattr(codes, "resource_path", fake)
    with pytest.raises(codes.CodeTableError, match="source key"):
        codes._read_codes_tsv()


def test_codes_table_from_the_cache_is_the_checked_one(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # The checked table is kept in the cache folder; the second read comes from there.
    monkeypatch.setattr(config, "_active", replace(config.current(), cache_dir=tmp_path))
    fresh = codes._read_codes_tsv()
    assert list((tmp_path / CACHE_FOLDER).glob("codes.tsv*.json"))
    assert codes._read_codes_tsv() == fresh
    text = codes.resource_path("knowledge", "codes.tsv").read_text(encoding="utf-8")
    parsed = codes._parse_codes_tsv(text)
    assert fresh[0] == {c: (n, m, s) for c, n, m, s in parsed["codes"]}
    assert len(fresh[0]) > 5000
    assert fresh[1]
    assert fresh[2]


def test_causes_table_rejects_unknown_keys(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "knowledge").mkdir()
    (tmp_path / "knowledge" / "errors.toml").write_text(
        '[[error]]\ncode = "0x80070005"\ntitle = "t"\ncause = "c"\nhint = "h"\nwhy = "?"\n'
    )
    monkeypatch.setattr(codes, "resource_path", tmp_path.joinpath)
    with pytest.raises(codes.CodeTableError, match="why"):
        codes._read_causes()


def test_generated_tables_are_up_to_date() -> None:
    """``python3 dev.py knowledge --check``: the shipped tables match their inputs."""
    if not Path("/usr/share/mingw-w64/include/winerror.h").is_file():
        pytest.skip("mingw-w64-common (winerror.h) is not installed")
    result = subprocess.run(
        [sys.executable, str(REPO / "build" / "knowledge" / "gen_codes.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr

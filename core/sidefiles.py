"""Small files mdmdiagnosticstool puts beside the logs, read into typed, frozen data.

* ``AutopilotDDSZTDFile.json`` (UTF-16LE, BOM): the downloaded Autopilot profile, or an error.
* ``DeviceHash_<name>.csv`` and Get-WindowsAutopilotInfo CSVs: serial, product id, hash.
* ``MdmDiagLogMetadata.json``: areas collected and the OS build (older tools write it as
  ``key : value`` lines that are not JSON at all — read both).
* ``TpmHliInfo_Output.txt``: TPM version, maker, readiness for storage and attestation.
* ``UEFI_Data_Output.txt``: UEFI variables queried (the Autopilot marker among them).
* ``DiagnosticsFrameworkData.json``: the Windows 11 Autopilot diagnostics page's data.

Every object names its ``origin`` file. A malformed file becomes a Problem naming the file
and why; nothing here raises for bad content.
"""

from __future__ import annotations

import csv
import json
import logging
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path, PurePath
from typing import Any

from core.logs.text import decode_text
from core.problems import Problem

log = logging.getLogger(__name__)

MAX_SIDE_FILE_BYTES = 16 * 1024 * 1024
"""Side files are a few KB; anything bigger is not what we think it is."""

# CloudAssignedOobeConfig bits (1..16 in https://learn.microsoft.com/autopilot/troubleshooting-faq,
# the rest community decodes);
# the same bits are read from the registry's Provisioning\Diagnostics\Autopilot key.
OOBE_BITS: Mapping[int, str] = {
    1: "SkipCortanaOptIn",
    2: "OobeUserNotLocalAdmin",
    4: "SkipExpressSettings",
    8: "SkipOemRegistration",
    16: "SkipEula",
    32: "TpmAttestation",
    64: "AadDeviceAuth",
    128: "AadTpmRequired",
    256: "SkipWindowsUpgradeUx",
    512: "EnablePatchDownload",
    1024: "SkipKeyboard",
}


#: TpmAttestation + AadDeviceAuth: both set means a self-deploying (or pre-provisioning) profile.
SELF_DEPLOYING_BITS = 32 | 64


def oobe_flags(value: int) -> tuple[str, ...]:
    """Names of the CloudAssignedOobeConfig bits set in ``value``."""
    return tuple(name for bit, name in OOBE_BITS.items() if value & bit)


def is_self_deploying(oobe_config: int | None) -> bool | None:
    """Both self-deploying bits set (community decode); ``None`` without an OOBE config."""
    if oobe_config is None:
        return None
    return oobe_config & SELF_DEPLOYING_BITS == SELF_DEPLOYING_BITS


# -- data --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ZtdProfile:
    """``AutopilotDDSZTDFile.json``: every key in ``raw``, typed accessors for analysis."""

    origin: str
    raw: Mapping[str, Any] = field(repr=False)

    def _str(self, key: str) -> str | None:
        value = self.raw.get(key)
        return str(value) if value not in (None, "") else None

    def _int(self, key: str) -> int | None:
        value = self.raw.get(key)
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, int):
            return value
        if isinstance(value, str):
            try:
                return int(value, 0)
            except ValueError:
                return None
        return None

    @property
    def tenant_domain(self) -> str | None:
        return self._str("CloudAssignedTenantDomain")

    @property
    def tenant_id(self) -> str | None:
        return self._str("CloudAssignedTenantId")

    @property
    def profile_name(self) -> str | None:
        return self._str("DeploymentProfileName")

    @property
    def correlation_id(self) -> str | None:
        return self._str("ZtdCorrelationId") or self._str("AutopilotServiceCorrelationId")

    @property
    def oobe_config(self) -> int | None:
        return self._int("CloudAssignedOobeConfig")

    @property
    def oobe_flags(self) -> tuple[str, ...]:
        return oobe_flags(self.oobe_config or 0)

    @property
    def self_deploying(self) -> bool | None:
        return is_self_deploying(self.oobe_config)

    @property
    def domain_join_method(self) -> int | None:
        """0 Entra join, 1 hybrid (Active Directory) join."""
        return self._int("CloudAssignedDomainJoinMethod")

    @property
    def hybrid_join(self) -> bool | None:
        method = self.domain_join_method
        return None if method is None else method == 1

    @property
    def error_code(self) -> int | None:
        return self._int("ErrorCode")

    @property
    def error_reasons(self) -> tuple[str, ...]:
        reason = self._str("ErrorReason") or ""
        return tuple(part.strip() for part in reason.split(",") if part.strip())

    @property
    def policy_download_date(self) -> datetime | None:
        return _iso_utc(self._str("PolicyDownloadDate"))

    @property
    def has_profile(self) -> bool:
        """A profile was assigned (a tenant is named); an empty or error file has none."""
        return self.tenant_id is not None or self.tenant_domain is not None


@dataclass(frozen=True, slots=True)
class DeviceHashRow:
    """One row of a hardware-hash CSV; the hash itself stays out of reprs."""

    serial: str
    product_id: str
    hardware_hash: str = field(repr=False)
    origin: str = ""

    @property
    def has_hash(self) -> bool:
        return bool(self.hardware_hash)


@dataclass(frozen=True, slots=True)
class MdmDiagMetadata:
    """``MdmDiagLogMetadata.json``: collected areas and OS build fields."""

    origin: str
    areas: tuple[str, ...]
    values: Mapping[str, Any] = field(repr=False)

    @property
    def os_build(self) -> str | None:
        """``CurrentBuild.UBR`` (e.g. ``22631.3296``), the build alone without UBR."""
        build = self.values.get("CurrentBuildNumber") or self.values.get("CurrentBuild")
        if build in (None, ""):
            return None
        ubr = self.values.get("UBR")
        return f"{build}.{ubr}" if isinstance(ubr, int) else str(build)

    @property
    def product_name(self) -> str | None:
        value = self.values.get("ProductName")
        return str(value) if value else None

    @property
    def edition(self) -> str | None:
        value = self.values.get("EditionID")
        return str(value) if value else None

    @property
    def install_date(self) -> datetime | None:
        value = self.values.get("InstallDate")
        if isinstance(value, int) and value > 0:
            return datetime.fromtimestamp(value, UTC)
        return None


@dataclass(frozen=True, slots=True)
class TpmInfo:
    """``TpmHliInfo_Output.txt``. ``collected`` is the device's local clock reading (naive)."""

    origin: str
    collected: datetime | None
    values: Mapping[str, str]
    version: str | None
    manufacturer: str | None
    vendor_id: str | None
    present: bool | None  # GetVersion succeeded
    uefi_present: bool | None
    ready_storage: bool | None
    ready_attestation: bool | None
    flags: tuple[str, ...]  # e.g. "NoValidEkCert: No valid EK cert found"

    @property
    def ready(self) -> bool | None:
        """Ready for attestation when the file says so, else for storage (older single check)."""
        return self.ready_attestation if self.ready_attestation is not None else self.ready_storage


@dataclass(frozen=True, slots=True)
class UefiVariable:
    """One UEFI variable of the capture's UEFI file, or why it could not be read."""

    namespace: str
    name: str
    value: str | None
    error: str | None  # e.g. 0x800700CB: the variable does not exist


@dataclass(frozen=True, slots=True)
class UefiData:
    """The capture's UEFI variables file."""

    origin: str
    collected: datetime | None
    supported: bool | None
    variables: tuple[UefiVariable, ...]

    def variable(self, name: str) -> UefiVariable | None:
        return next((v for v in self.variables if v.name.lower() == name.lower()), None)


@dataclass(frozen=True, slots=True)
class DiagEvent:
    """One event of the diagnostics page's "Deployment info" tab."""

    category: str
    event_id: str
    name: str
    status: int | None
    details: str
    start: str | None  # as shown (device-local, culture formatted); None when not available
    finish: str | None


@dataclass(frozen=True, slots=True)
class DiagnosticsData:
    """``DiagnosticsFrameworkData.json``: configuration properties and deployment events."""

    origin: str
    properties: Mapping[str, str] = field(repr=False)  # propertyId -> value
    events: tuple[DiagEvent, ...] = ()

    @property
    def device_name(self) -> str | None:
        return self.properties.get("DeviceName") or None

    @property
    def os_build(self) -> str | None:
        return self.properties.get("OSBuild") or None

    @property
    def time_zone(self) -> str | None:
        """Windows time-zone name (``"Eastern Standard Time"``): how local log times read."""
        return self.properties.get("Timezone") or None

    @property
    def serial(self) -> str | None:
        return self.properties.get("SerialNumber") or None


@dataclass(frozen=True, slots=True)
class SideFiles:
    """The side files found; each piece is ``None`` (or empty) when its file was absent."""

    ztd: ZtdProfile | None = None
    device_hashes: tuple[DeviceHashRow, ...] = ()
    metadata: MdmDiagMetadata | None = None
    tpm: TpmInfo | None = None
    uefi: UefiData | None = None
    diagnostics: DiagnosticsData | None = None


# -- reading -----------------------------------------------------------------------------------


def read_side_files(
    files: Path | Sequence[Path], names: Sequence[str] | None = None
) -> tuple[SideFiles, list[Problem]]:
    """Read the side files in a folder (known names only) or in a list of files.

    ``names`` are display names for the files (``cab!member``); defaults to file names.
    """
    if isinstance(files, Path):
        if files.is_dir():
            paths = sorted(p for p in files.iterdir() if p.is_file() and side_file_kind(p.name))
        else:
            paths = [files]
    else:
        paths = list(files)
    shown = list(names) if names is not None else [p.name for p in paths]
    if len(shown) != len(paths):
        raise ValueError("names must match files one to one")
    problems: list[Problem] = []
    found: dict[str, Any] = {}
    hashes: list[DeviceHashRow] = []
    for path, name in zip(paths, shown, strict=True):
        base = PurePath(name.replace("\\", "/")).name.split("!")[-1]
        text = _read_text(path, name, problems)
        if text is None:
            continue
        kind = side_file_kind(base) or ("hash" if _HASH_HEADER.match(text.lstrip()) else None)
        if kind is None:
            problems.append(Problem(name, "", "not a side file ESPView reads; skipped"))
            continue
        try:
            if kind == "hash":
                hashes.extend(_parse_hashes(text, name, problems))
                continue
            parsed = _PARSERS[kind](text, name, problems)
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            # Belt and braces: a shape no parser foresaw is still only a Problem.
            problems.append(Problem(name, "", f"unexpected content: {exc}"))
            continue
        if parsed is None:
            continue
        if kind in found:
            log.info("%s: a second %s; the first one is kept", name, kind)
            continue
        found[kind] = parsed
    return (
        SideFiles(
            ztd=found.get("ztd"),
            device_hashes=tuple(hashes),
            metadata=found.get("metadata"),
            tpm=found.get("tpm"),
            uefi=found.get("uefi"),
            diagnostics=found.get("diagnostics"),
        ),
        problems,
    )


_HASH_HEADER = re.compile(r'"?Device Serial Number"?\s*,', re.IGNORECASE)


def side_file_kind(base: str) -> str | None:
    """Which side file a file name is (``ztd``, ``hash``, ``metadata``, ``tpm``, ``uefi``,
    ``diagnostics``), or None: the one list the loader routes by and the reader reads by."""
    low = base.lower()
    if low == "autopilotddsztdfile.json":
        return "ztd"
    if low.startswith("devicehash_") and low.endswith(".csv"):
        return "hash"
    return {
        "mdmdiaglogmetadata.json": "metadata",
        "tpmhliinfo_output.txt": "tpm",
        "uefi_data_output.txt": "uefi",
        "diagnosticsframeworkdata.json": "diagnostics",
    }.get(low)


def _read_text(path: Path, name: str, problems: list[Problem]) -> str | None:
    try:
        size = path.stat().st_size
        if size > MAX_SIDE_FILE_BYTES:
            problems.append(Problem(name, "", f"{size:,} bytes is too big for this file; not read"))
            return None
        data = path.read_bytes()
    except OSError as exc:
        problems.append(Problem(name, "", f"cannot read the file: {exc.strerror or exc}"))
        return None
    text, warning = decode_text(data)
    if warning:
        problems.append(Problem(name, "", warning))
    return text


def _json(text: str, name: str, problems: list[Problem]) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        problems.append(Problem(name, f"line {exc.lineno}", f"not valid JSON: {exc.msg}"))
        return None
    except RecursionError:  # json follows nesting by recursion: "[[[[…" deeper than the limit
        problems.append(Problem(name, "", "not valid JSON: nested too deeply"))
        return None


def _parse_ztd(text: str, name: str, problems: list[Problem]) -> ZtdProfile | None:
    data = _json(text, name, problems)
    if data is None:
        return None
    if not isinstance(data, dict):
        problems.append(Problem(name, "", "expected a JSON object"))
        return None
    return ZtdProfile(name, data)


def _parse_hashes(text: str, name: str, problems: list[Problem]) -> list[DeviceHashRow]:
    rows: list[DeviceHashRow] = []
    try:
        _read_hash_rows(csv.reader(text.splitlines()), name, problems, rows)
    except csv.Error as exc:  # e.g. an unterminated quote swallowing the rest of the file
        problems.append(Problem(name, "", f"not a readable CSV file: {exc}"))
    return rows


def _read_hash_rows(
    reader: Iterator[list[str]], name: str, problems: list[Problem], rows: list[DeviceHashRow]
) -> None:
    header = next(reader, None)
    if header is None:
        problems.append(Problem(name, "", "empty hardware-hash file"))
        return
    cols = {h.strip().lower(): i for i, h in enumerate(header)}
    serial_at = cols.get("device serial number")
    if serial_at is None:
        problems.append(Problem(name, "line 1", "no 'Device Serial Number' column"))
        return
    pid_at = cols.get("windows product id")
    hash_at = cols.get("hardware hash")
    for number, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) <= serial_at:
            problems.append(Problem(name, f"line {number}", "row has too few columns"))
            continue

        def cell(at: int | None, row: list[str] = row) -> str:
            return row[at].strip() if at is not None and at < len(row) else ""

        rows.append(DeviceHashRow(cell(serial_at), cell(pid_at), cell(hash_at), name))


@cache  # only older tools write such files: compiled on first need
def _loose_pair() -> re.Pattern[str]:
    return re.compile(r'^\s*"?([A-Za-z][\w ]*?)"?\s*:\s*(.*?)\s*,?\s*$')


def _parse_metadata(text: str, name: str, problems: list[Problem]) -> MdmDiagMetadata | None:
    values: dict[str, Any]
    try:
        data = json.loads(text)
    except RecursionError:  # json follows nesting by recursion: "[[[[…" deeper than the limit
        problems.append(Problem(name, "", "not valid JSON: nested too deeply"))
        return None
    except json.JSONDecodeError:
        # Older mdmdiagnosticstool writes "{ key : value }" lines that are not JSON.
        values = {}
        loose_pair = _loose_pair()
        for line in text.splitlines():
            m = loose_pair.match(line)
            if m:
                values[m[1]] = m[2].strip('"')
        if not values:
            problems.append(Problem(name, "", "neither JSON nor 'key : value' lines"))
            return None
    else:
        if not isinstance(data, dict):
            problems.append(Problem(name, "", "expected a JSON object"))
            return None
        values = data
    areas = tuple(a.strip() for a in str(values.get("AreaName", "")).split(";") if a.strip())
    return MdmDiagMetadata(name, areas, values)


_KV = re.compile(r"^\s*([^:]+?)\s*:\s*(.*?)\s*$")
_STAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$")
_YES = {"yes": True, "true": True, "no": False, "false": False}


def _parse_tpm(text: str, name: str, problems: list[Problem]) -> TpmInfo | None:
    values: dict[str, str] = {}
    collected: datetime | None = None
    ready: dict[str, bool | None] = {}
    section = "storage"
    present: bool | None = None
    flags: list[str] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if _STAMP.match(line):
            collected = datetime.fromisoformat(line)
            continue
        if line.startswith("-"):
            flags.append(line[1:].strip())
            continue
        m = _KV.match(line)
        if m is None:
            continue
        key, value = m[1], m[2]
        low = key.lower()
        if low.startswith("tpmhli isready"):
            section = "attestation" if "attestation" in low else "storage"
        elif low == "tpmhli getversion result":
            present = _hresult_ok(value)
        elif low == "ready":
            ready[section] = _YES.get(value.lower())
        values.setdefault(key, value)
    if not values:
        problems.append(Problem(name, "", "no 'key: value' lines found"))
        return None
    return TpmInfo(
        origin=name,
        collected=collected,
        values=values,
        version=values.get("TpmHLI Version") or None,
        manufacturer=values.get("Manufacturer") or None,
        vendor_id=values.get("VendorId") or None,
        present=present,
        uefi_present=_YES.get(values.get("Uefi Is Present", "").lower()),
        ready_storage=ready.get("storage"),
        ready_attestation=ready.get("attestation"),
        flags=tuple(flags),
    )


def _hresult_ok(value: str) -> bool | None:
    try:
        return int(value, 16) == 0
    except ValueError:
        return None


_UEFI_VAR = re.compile(r"^Namespace:\s*(\S+),\s*variable name:\s*(.+?)\s*$", re.IGNORECASE)


def _parse_uefi(text: str, name: str, problems: list[Problem]) -> UefiData | None:
    collected: datetime | None = None
    supported: bool | None = None
    variables: list[UefiVariable] = []
    current: tuple[str, str] | None = None
    value: str | None = None
    error: str | None = None

    def flush() -> None:
        if current is not None:
            variables.append(UefiVariable(current[0], current[1], value, error))

    for raw in text.splitlines():
        line = raw.strip()
        low = line.lower()
        if _STAMP.match(line):
            collected = datetime.fromisoformat(line)
        elif low.startswith("uefi is supported"):
            supported = True
        elif low.startswith("uefi is not supported"):
            supported = False
        elif m := _UEFI_VAR.match(line):
            flush()
            current, value, error = (m[1], m[2]), None, None
        elif low.startswith("value:"):
            value = line.split(":", 1)[1].strip()
        elif low.startswith("error:"):
            error = line.split(":", 1)[1].strip()
    flush()
    if collected is None and supported is None and not variables:
        problems.append(Problem(name, "", "not the UEFI query output this tool writes"))
        return None
    return UefiData(name, collected, supported, tuple(variables))


def _parse_diagnostics(text: str, name: str, problems: list[Problem]) -> DiagnosticsData | None:
    data = _json(text, name, problems)
    if data is None:
        return None
    tabs = data.get("$schema") if isinstance(data, dict) else None
    if not isinstance(tabs, list):
        problems.append(Problem(name, "", "no '$schema' list of tabs"))
        return None
    properties: dict[str, str] = {}
    events: list[DiagEvent] = []
    for tab in tabs:
        for cat in _dicts(tab.get("categories") if isinstance(tab, dict) else None):
            for item in _dicts(cat.get("items")):
                if isinstance(item.get("propertyId"), str):
                    properties[item["propertyId"]] = str(item.get("value") or "")
            for ev in _dicts(cat.get("events")):
                status = ev.get("status")
                events.append(
                    DiagEvent(
                        category=str(cat.get("categoryId", "")),
                        event_id=str(ev.get("eventId", "")),
                        name=str(ev.get("eventName", "")),
                        status=status if isinstance(status, int) else None,
                        details=str(ev.get("details", "")),
                        start=_shown_time(ev.get("startTime")),
                        finish=_shown_time(ev.get("finishTime")),
                    )
                )
    return DiagnosticsData(name, properties, tuple(events))


def _dicts(value: object) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _shown_time(value: object) -> str | None:
    if not isinstance(value, str) or not value or value.startswith("<"):
        return None
    return value


def _iso_utc(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


_PARSERS: Mapping[str, Any] = {
    "ztd": _parse_ztd,
    "metadata": _parse_metadata,
    "tpm": _parse_tpm,
    "uefi": _parse_uefi,
    "diagnostics": _parse_diagnostics,
}

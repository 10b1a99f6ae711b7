"""Tracked items per step (apps, policies, certificates, network profiles, providers).

Device and user scope are kept apart: device items land in Device preparation / Device setup
steps, user items (``./User`` LocURIs, ``{UserSID}`` keys, non-zero IME user ids) in Account
setup. Sources (ARCHITECTURE.md, "Public sources"): EnrollmentStatusTracking (providers,
tracking keys), ESPTrackingInfo\\Diagnostics snapshots (history), IME Win32Apps /
StatusServiceReports, EnterpriseDesktopAppManagement (MSI), OfficeCSP,
WindowsAutopilotDiagnostics.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from operator import attrgetter
from typing import Literal

from core.esp.hresult import fmt, from_number
from core.esp.knowledge import Knowledge
from core.esp.model import Download, HistoryEntry, Item, ItemKind, Status
from core.esp.values import state, state_word
from core.logs.model import LogLine
from core.registry.model import RegistryView, RegKey
from core.registry.values import as_int, filetime, str_of, value_of

EST = r"HKLM\SOFTWARE\Microsoft\Windows\Autopilot\EnrollmentStatusTracking"
DIAGNOSTICS = EST + r"\ESPTrackingInfo\Diagnostics"
IME_WIN32 = r"HKLM\SOFTWARE\Microsoft\IntuneManagementExtension\Win32Apps"
IME_REPORTS = (
    r"HKLM\SOFTWARE\Microsoft\IntuneManagementExtension\SideCarPolicies\StatusServiceReports"
)
EDAM = r"HKLM\SOFTWARE\Microsoft\EnterpriseDesktopAppManagement"
OFFICE = r"HKLM\SOFTWARE\Microsoft\OfficeCSP"
AP_DIAG = r"HKLM\SOFTWARE\Microsoft\Provisioning\Diagnostics\Autopilot\WindowsAutopilotDiagnostics"
DEVICE_SID = "S-0-0-00-0000000000-0000000000-000000000-000"
DEVICE_USER = "00000000-0000-0000-0000-000000000000"

Outcome = Literal["failed", "done", "pending", "unknown"]
Scope = Literal["device", "user"]

#: Item outcome from the report status of a decoded state (values.toml).
_OUTCOME_OF: dict[str, Outcome] = {
    "succeeded": "done",
    "not_required": "done",
    "skipped": "done",
    "failed": "failed",
    "not_started": "pending",
    "in_progress": "pending",
    "identifying": "pending",
    "unknown": "unknown",
}
_STATUS_OF: dict[Outcome, Status] = {
    "done": "succeeded",
    "failed": "failed",
    "pending": "in_progress",
    "unknown": "unknown",
}
LIST_KINDS: dict[str, ItemKind] = {
    "expectedpolicies": "policy",
    "expectedcertificateprofiles": "scep",
    "expectedscepcerts": "scep",
    "expectedpfxcerts": "pfx",
    "expectednetworkprofiles": "network",
    "expectedmsiapppackages": "msi",
    "expectedmodernapppackages": "modern",
    "sidecar": "win32",
}
_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_NAME_PATTERNS = (
    re.compile(r'"Id"\s*:\s*"(' + _GUID.pattern + r')"\s*,\s*"Name"\s*:\s*"([^"]+)"'),
    re.compile(r"(" + _GUID.pattern + r").{0,120}?[Aa]pp name:\s*([^,\]\r\n]+)"),
    re.compile(r"[Aa]pp name:\s*([^,\]\r\n]+?)[,;]?\s+.{0,40}?(" + _GUID.pattern + r")"),
)


@dataclass(slots=True)
class ItemInfo:
    """An item under construction, with what rules and evidence linking need."""

    step: str
    kind: ItemKind
    id: str
    scope: Scope
    status: str = "unknown"
    outcome: Outcome = "unknown"
    name: str | None = None
    code: int | None = None
    history: list[HistoryEntry] = field(default_factory=list)
    keys: list[RegKey] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    #: Whether the ESP itself tracks the item (tracking keys, snapshots): only those decide a
    #: step's state when the ESP record is missing; the others only annotate.
    tracked: bool = False
    download: Download | None = None  # from the IME / AppWorkload log
    exit_code: int | None = None
    #: the raw value behind ``status`` (``"InstallationState 3"``) and the report status its
    #: decoded meaning gives (``not_started`` for "not installed", ``not_required`` …).
    raw: str | None = None
    meaning: Status | None = None

    def set_state(self, table: str, number: int | None, raw_name: str) -> None:
        """Status word, outcome and raw value from a decoded state number."""
        meaning = state(table, number)
        self.status = state_word(table, number)
        self.raw = f"{raw_name} {number}" if number is not None else None
        self.meaning = meaning.status if meaning is not None else None
        self.outcome = _OUTCOME_OF[meaning.status] if meaning is not None else "unknown"

    @property
    def report_status(self) -> Status:
        """The item's outcome as a word of the report's status vocabulary."""
        if self.meaning is not None and _OUTCOME_OF[self.meaning] == self.outcome:
            return self.meaning
        return _STATUS_OF[self.outcome]

    @property
    def raw_status(self) -> str:
        word = self.status.replace("_", " ")
        return f"{word} ({self.raw})" if self.raw else word

    def freeze(self) -> Item:
        history = tuple(sorted(self.history, key=lambda h: h.time))
        return Item(
            kind=self.kind,
            id=self.id,
            name=self.name,
            scope=self.scope,
            status=self.report_status,
            hresult=fmt(self.code) if self.code is not None else None,
            history=history,
            raw_status=self.raw_status,
            download=self.download,
            exit_code=self.exit_code,
        )


def parse_time(text: str) -> datetime | None:
    """Snapshot key names and IME times: ISO 8601 (any fraction, ``Z``), US date, FILETIME."""
    text = text.strip()
    if not text:
        return None
    iso = re.match(
        r"^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(?:\.(\d+))?\s*(Z|[+-]\d{2}:?\d{2})?$", text
    )
    if iso:
        fraction = (iso.group(3) or "0")[:6].ljust(6, "0")
        zone = iso.group(4) or "Z"
        zone = "+00:00" if zone == "Z" else zone
        try:
            return datetime.fromisoformat(
                f"{iso.group(1)}T{iso.group(2)}.{fraction}{zone}"
            ).astimezone(UTC)
        except ValueError:
            return None
    for pattern in ("%m/%d/%Y %H:%M:%S", "%m/%d/%Y %I:%M:%S %p", "%Y%m%d%H%M%S"):
        try:
            return datetime.strptime(text, pattern).replace(tzinfo=UTC)
        except ValueError:
            continue
    if text.isdigit() and len(text) >= 17:
        return filetime(int(text))
    return None


def app_names(logs: Iterable[LogLine]) -> dict[str, str]:
    """App id (lower case) → display name, from IME log lines (first name seen wins)."""
    names: dict[str, str] = {}
    # Each distinct text once, in order (logs repeat themselves: a repeated message names
    # nothing new); "ame" ("Name", "name") is a cheap filter before the regexes.
    for message in dict.fromkeys(map(attrgetter("message"), logs)):
        if "ame" not in message:
            continue
        for number, pattern in enumerate(_NAME_PATTERNS):
            for m in pattern.finditer(message):
                guid, name = (m.group(2), m.group(1)) if number == 2 else (m.group(1), m.group(2))
                names.setdefault(guid.lower(), name.strip())
    return names


class ItemCollector:
    """Builds :class:`ItemInfo` objects per step from the registry."""

    def __init__(
        self,
        registry: RegistryView,
        knowledge: Knowledge,
        names: dict[str, str],
        account_active: bool,
    ) -> None:
        self.registry = registry
        self.knowledge = knowledge
        self.names = names
        self.account_active = account_active
        self._by_key: dict[tuple[str, str, str], ItemInfo] = {}
        self.user_sids: set[str] = set()

    # -- helpers ----------------------------------------------------------------------------

    def step_for(self, phase: str, list_name: str) -> str:
        for step in self.knowledge.steps_of(phase):
            if any(entry.casefold() == list_name.casefold() for entry in step.lists):
                return step.id
        return f"{phase}.AppsSubcategory"

    def item(self, step: str, kind: ItemKind, item_id: str, scope: Scope) -> ItemInfo:
        key = (step, kind if kind not in ("win32", "task_sequence") else "app", item_id.casefold())
        found = self._by_key.get(key)
        if found is None:
            found = ItemInfo(step, kind, item_id, scope, name=self.names.get(item_id.lower()))
            self._by_key[key] = found
        return found

    def items(self) -> list[ItemInfo]:
        return list(self._by_key.values())

    # -- sources ----------------------------------------------------------------------------

    def collect(self) -> list[ItemInfo]:
        est = self.registry.key(EST)
        if est is not None:
            for child in est.subkeys():
                if child.name.upper().startswith("S-1-"):
                    self.user_sids.add(child.name)
            self._providers(est)
            self._tracking(est)
        self._diagnostics()
        self._ime()
        self._msi()
        self._office()
        self._autopilot_diagnostics()
        return self.items()

    def _providers(self, est: RegKey) -> None:
        prep = est.subkey("Device")
        providers = _path(prep, "DevicePreparation", "PolicyProviders")
        for key in providers.subkeys() if providers is not None else []:
            info = self.item(
                "DevicePreparation.EspProviderInstallationSubcategory",
                "provider",
                key.name,
                "device",
            )
            info.name = info.name or key.name
            state = as_int(value_of(key, "InstallationState"))
            info.set_state("provider_installation_state", state, "InstallationState")
            if state == 4:
                info.code = from_number(as_int(value_of(key, "LastError")))
            info.keys.append(key)
            info.tracked = True

    def _tracking(self, est: RegKey) -> None:
        for owner in est.subkeys():
            if owner.name.casefold() == "device":
                phase, scope = "DeviceSetup", "device"
            elif owner.name.upper().startswith("S-1-"):
                phase, scope = "AccountSetup", "user"
            else:
                continue
            apps = _path(owner, "Setup", "Apps")
            if apps is None:
                continue
            step = f"{phase}.AppsSubcategory"
            for provider in (_path(apps, "PolicyProviders") or _EMPTY).subkeys():
                info = self.item(step, "provider", provider.name, scope)  # type: ignore[arg-type]
                info.name = info.name or provider.name
                created = value_of(provider, "TrackingPoliciesCreated")
                done = created not in (None, 0, "0", "false", "False")
                info.status = (
                    "tracking policies created" if done else "tracking policies not created"
                )
                info.outcome = "done" if done else "pending"
                info.meaning = "succeeded" if done else "identifying"
                info.raw = f"TrackingPoliciesCreated {created!r}"
                info.keys.append(provider)
                info.tracked = True
            for provider in (_path(apps, "Tracking") or _EMPTY).subkeys():
                for app in provider.subkeys():
                    kind: ItemKind = (
                        "task_sequence" if app.name.casefold() == "provisioning_ts" else "win32"
                    )
                    app_id = _app_id(app.name)
                    info = self.item(step, kind, app_id, scope)  # type: ignore[arg-type]
                    state = as_int(value_of(app, "InstallationState"))
                    info.set_state("app_installation_state", state, "InstallationState")
                    info.keys.append(app)
                    info.sources.append("EnrollmentStatusTracking")
                    info.tracked = True

    def _diagnostics(self) -> None:
        diag = self.registry.key(DIAGNOSTICS)
        if diag is None:
            return
        for child in diag.subkeys():
            if child.name.upper().startswith("S-1-"):
                self.user_sids.add(child.name)
                for sub in child.subkeys():
                    self._snapshots(sub, "user")
            else:
                self._snapshots(child, None)

    def _snapshots(self, list_key: RegKey, forced_scope: Scope | None) -> None:
        kind = LIST_KINDS.get(list_key.name.casefold())
        if kind is None:
            return
        snapshots = sorted(
            ((parse_time(s.name), s) for s in list_key.subkeys()),
            key=lambda pair: (pair[0] is None, pair[0] or datetime.min.replace(tzinfo=UTC)),
        )
        for when, snapshot in snapshots:
            for value in snapshot.values():
                uri = value.name
                scope: Scope = forced_scope or (
                    "user" if uri.casefold().startswith("./user") else "device"
                )
                phase = "AccountSetup" if scope == "user" else "DeviceSetup"
                item_kind, item_id = _uri_item(kind, uri)
                info = self.item(self.step_for(phase, list_key.name), item_kind, item_id, scope)
                status = _snapshot_state(info, item_kind, value.data)
                if when is not None:  # every snapshot is kept: retries show as repeats
                    info.history.append(HistoryEntry(when, status))
                if snapshot not in info.keys:
                    info.keys.append(snapshot)
                info.tracked = True

    def _ime(self) -> None:
        root = self.registry.key(IME_WIN32)
        if root is None:
            return
        for user in root.subkeys():
            if not _GUID.fullmatch(user.name):
                continue  # GRS, Reporting, OperationalState …
            scope: Scope = "device" if user.name == DEVICE_USER else "user"
            step = (
                "DeviceSetup.AppsSubcategory"
                if scope == "device"
                else "AccountSetup.AppsSubcategory"
            )
            for app in user.subkeys():
                app_id = _app_id(app.name)
                if not _GUID.fullmatch(app_id):
                    continue
                existing = self._find_app(app_id)
                tracked = existing is not None
                info = existing or self.item(step, "win32", app_id, scope)
                enforcement = _json_value(app, "EnforcementStateMessage")
                compliance = _json_value(app, "ComplianceStateMessage")
                state = enforcement.get("EnforcementState")
                error = failure_code(enforcement.get("ErrorCode")) or failure_code(
                    compliance.get("ErrorCode")
                )
                if isinstance(state, int):
                    meaning = _state("enforcement_state", state)
                    if not tracked or info.outcome == "unknown" or meaning == "failed":
                        info.set_state("enforcement_state", state, "EnforcementState")
                        if info.outcome == "unknown":  # an undocumented state: still open
                            info.outcome = "pending"
                if error is not None:
                    info.code = error
                    if info.outcome != "done":
                        info.outcome = "failed"
                when = parse_time(str(value_of(app, "LastUpdatedTimeUtc") or ""))
                if when is not None and isinstance(state, int):
                    info.history.append(
                        HistoryEntry(when, state_word("enforcement_state", state))
                    )
                info.keys.append(app)
                info.sources.append("IME")

    def _find_app(self, app_id: str) -> ItemInfo | None:
        folded = app_id.casefold()
        for (_, kind, item_id), info in self._by_key.items():
            if kind == "app" and item_id == folded:
                return info
        return None

    def _msi(self) -> None:
        root = self.registry.key(EDAM)
        if root is None:
            return
        for sid_key in root.subkeys():
            msi_root = sid_key.subkey("MSI")
            if msi_root is None:
                continue
            device = sid_key.name.upper() == DEVICE_SID
            scope: Scope = "device" if device else "user"
            for key in msi_root.subkeys():
                code = key.name
                url = (str_of(key, "CurrentDownloadUrl") or "").casefold()
                status = as_int(value_of(key, "Status"))
                last_error = failure_code(value_of(key, "LastError"))
                existing = self._find_msi(code)
                ime_agent = "intunewindowsagent.msi" in url
                failed = status in (30, 60) or last_error is not None
                if existing is None and not ime_agent and not failed:
                    continue  # not tracked by the ESP and nothing wrong: not part of any step
                if existing is not None:
                    info = existing
                elif ime_agent:
                    info = self.item(
                        "DevicePreparation.EspProviderInstallationSubcategory", "msi", code, scope
                    )
                    info.name = "Intune Management Extension (IntuneWindowsAgent.msi)"
                else:
                    info = self.item(
                        "DeviceSetup.AppsSubcategory" if device else "AccountSetup.AppsSubcategory",
                        "msi",
                        code,
                        scope,
                    )
                if status is not None:
                    info.set_state("msi_status", status, "Status")
                    if info.outcome == "unknown":
                        info.outcome = "pending"
                if last_error is not None:
                    info.code = last_error
                    info.outcome = "failed"
                info.keys.append(key)
                info.sources.append("EnterpriseDesktopAppManagement")

    def _find_msi(self, product_code: str) -> ItemInfo | None:
        folded = product_code.casefold()
        for (_, kind, item_id), info in self._by_key.items():
            if kind == "msi" and item_id == folded:
                return info
        return None

    def _office(self) -> None:
        root = self.registry.key(OFFICE)
        if root is None:
            return
        for key in root.subkeys():
            status = as_int(value_of(key, "FinalStatus"))
            if status is None:
                status = as_int(value_of(key, "Status"))
            info = self.item("DeviceSetup.AppsSubcategory", "office", key.name, "device")
            info.name = info.name or "Microsoft 365 Apps"
            if status is not None:
                info.set_state("office_status", status, "FinalStatus")
                if info.outcome == "unknown":  # an undocumented non-zero status is a failure
                    info.outcome = "failed"
                if info.outcome == "failed":
                    info.code = from_number(status)
            info.keys.append(key)

    def _autopilot_diagnostics(self) -> None:
        phase = "AccountSetup" if self.account_active else "DeviceSetup"
        for sub, list_name, kind in (
            ("Certificate", "ExpectedSCEPCerts", "scep"),
            ("Policy", "ExpectedPolicies", "policy"),
        ):
            key = self.registry.key(f"{AP_DIAG}\\{sub}")
            if key is None:
                continue
            for value in key.values():
                item_kind, item_id = _uri_item(kind, value.name)  # type: ignore[arg-type]
                scope: Scope = "user" if value.name.casefold().startswith("./user") else "device"
                info = self.item(self.step_for(phase, list_name), item_kind, item_id, scope)
                if info.status == "unknown":
                    number = as_int(value.data)
                    info.status = "meaning not documented" if number is not None else "unknown"
                    info.raw = f"WindowsAutopilotDiagnostics value {value.data!r}"
                info.keys.append(key)


def failure_code(value: object) -> int | None:
    """A failure HRESULT from a registry or JSON value of any type."""
    return from_number(value) if isinstance(value, (int, str)) else None


class _Empty:
    def subkeys(self) -> list[RegKey]:
        return []


_EMPTY = _Empty()


def _path(key: RegKey | None, *names: str) -> RegKey | None:
    for name in names:
        if key is None:
            return None
        key = key.subkey(name)
    return key


def _app_id(name: str) -> str:
    """``Win32App_<guid>_<rev>`` / ``<guid>_<rev>`` → ``<guid>``; other names unchanged."""
    m = _GUID.search(name)
    return m.group(0).lower() if m else name


def _uri_item(kind: ItemKind, uri: str) -> tuple[ItemKind, str]:
    """Kind and id of a tracked LocURI."""
    folded = uri.casefold()
    if kind == "msi" and "/office/" in folded:
        m = re.search(r"/Installation/([^/]+)", uri, re.IGNORECASE)
        return "office", m.group(1) if m else uri
    if kind == "msi":
        m = re.search(r"/MSI/([^/]+)", uri, re.IGNORECASE)
        return "msi", m.group(1) if m else uri
    if kind == "win32":
        m = re.search(r"Win32App_([^/]+)", uri, re.IGNORECASE)
        return "win32", _app_id(m.group(1)) if m else uri
    if kind == "scep" and "/pfxcertinstall/" in folded:
        return "pfx", uri
    if kind == "modern":
        parts = [p for p in uri.split("/") if p]
        for marker in ("AppStore", "nonStore", "System", "AppInstallation"):
            if marker in parts:
                index = parts.index(marker)
                if index + 1 < len(parts):
                    return "modern", parts[index + 1]
    return kind, uri


def _state(table: str, number: int) -> Status | None:
    meaning = state(table, number)
    return meaning.status if meaning is not None else None


_SNAPSHOT_TABLES: dict[str, str] = {
    "win32": "app_installation_state",
    "modern": "modern_app_flag",
    "policy": "processed_flag",
    "scep": "processed_flag",
    "pfx": "processed_flag",
    "network": "processed_flag",
    "office": "processed_flag",
    "msi": "msi_status",
}


def _snapshot_state(info: ItemInfo, kind: ItemKind, data: object) -> str:
    """Set the item's state from one ESPTrackingInfo snapshot value; return its word."""
    number = as_int(data) if isinstance(data, (int, str)) else None
    table = _SNAPSHOT_TABLES.get(kind)
    if table is None or number is None:
        info.status, info.outcome, info.raw, info.meaning = str(data), "unknown", None, None
        return info.status
    if kind == "msi" and number == 1:  # the MSI list's own "processed" flag
        table = "processed_flag"
    info.set_state(table, number, "snapshot value")
    if kind in ("modern", "policy", "scep", "pfx", "network", "office") and number != 1:
        info.outcome = "pending"  # anything but "processed" / "installed" is still open
    return info.status


def _json_value(key: RegKey, name: str) -> dict[str, object]:
    """A JSON message stored as a value on the key or on a subkey of the same name."""
    raw = value_of(key, name)
    if raw is None:
        sub = key.subkey(name)
        raw = value_of(sub, name) if sub is not None else None
    if not isinstance(raw, str):
        return {}
    try:
        doc = json.loads(raw)
    except (ValueError, RecursionError):  # RecursionError: nested deeper than json recurses
        return {}
    return doc if isinstance(doc, dict) else {}

"""Ticket-safe exports: personal and tenant identifiers replaced by stable pseudonyms.

A :class:`Redactor` first *learns* identifiers, then *rewrites* reports:

* from fields whose meaning is known: the device's name and serial, the tenant domain, and
  registry values named like ``*TenantId``, ``*Upn``, ``SerialNumber``, ``ComputerName`` …
  (in the report's own registry evidence, and — when the caller has it — in the whole
  registry and the side files of the capture);
* from the shape of the text anywhere in the report: e-mail addresses and UPNs, SIDs of
  domain and Entra ID accounts, IPv4/IPv6 and MAC addresses, push-channel URIs (with their
  tokens), host names inside URLs (public Microsoft service hosts stay readable), and user
  profile folders (``C:\\Users\\<name>``).

Every learned value is then replaced wherever it occurs — in every string of the report,
including registry value data, event and timeline summaries, finding evidence lines and
source paths — by ``<kind>-<n>`` (``user-1``, ``device-1``, …): the same value always gets
the same token within one :class:`Redactor`, so one redactor per export keeps the export
consistent (a diff's two sides, a batch's rows). The walk is generic over the report's
dataclasses, so fields added to the model later are rewritten too.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import fields, is_dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from core.esp.model import EspReport, Redaction

if TYPE_CHECKING:
    from core.evidence import Evidence

T = TypeVar("T")

#: Pseudonym prefix per kind of identifier, in the order the report lists the counts.
KINDS: dict[str, str] = {
    "user": "user",
    "sid": "sid",
    "device": "device",
    "serial": "serial",
    "tenant": "tenant",
    "domain": "domain",
    "ip": "ip",
    "mac": "mac",
    "push": "push-uri",
    "host": "host",
    "hash": "hash",
}

_MIN_LEN = 3  # shorter values ("PC", "1") would rewrite unrelated text
_PLACEHOLDERS = frozenset({
    "default string", "to be filled by o.e.m.", "system serial number", "none", "null",
    "unknown", "n/a", "not applicable", "0", "chassis serial number", "localhost",
})
_PROFILE_NAMES = frozenset({
    "public", "default", "default user", "defaultuser0", "defaultuser1", "all users",
    "defaultapppool", "systemprofile",
})

#: Public service hosts: not about the device or its tenant, and useful to keep readable.
_PUBLIC_HOST_SUFFIXES = (
    "microsoft.com", "microsoftonline.com", "microsoftonline-p.com", "windows.net",
    "windows.com", "live.com", "msauth.net", "msftauth.net", "azure.com", "azure.net",
    "office.com", "office.net", "office365.com", "msft.net", "aka.ms", "windowsupdate.com",
    "msedge.net", "azureedge.net", "digicert.com", "msocsp.com", "w3.org", "xmlsoap.org",
    "github.com", "githubusercontent.com", "intune.com", "microsoftaik.azure.net",
)
#: Windows push notification (WNS) channel hosts: the whole URI is a per-device token.
_PUSH_HOST = re.compile(r"(?:^|\.)notify\.windows\.com$|(?:^|\.)wns\.windows\.com$", re.I)

_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_HEX4 = r"[0-9A-Fa-f]{1,4}"
_SHAPES = re.compile(
    r"(?P<url>\b(?:https?|wss?)://(?P<host>[^/\s:?#\"'<>\\]+)[^\s\"'<>]*)"
    r"|(?P<email>\b[A-Za-z0-9._%+\-]+@(?:[A-Za-z0-9\-]+\.)+[A-Za-z]{2,}\b)"
    r"|(?P<sid>\bS-1-(?:5-21|12-1)(?:-\d+){3,}\b)"
    r"|(?P<mac>(?<![\w:\-])[0-9A-Fa-f]{2}(?P<sep>[:\-])(?:[0-9A-Fa-f]{2}(?P=sep)){4}"
    r"[0-9A-Fa-f]{2}(?![\w:\-]))"
    rf"|(?P<ipv4>(?<![\w.])(?:{_OCTET}\.){{3}}{_OCTET}(?![\w]|\.\d))"
    rf"|(?P<ipv6>(?<![\w:])(?:(?:{_HEX4}:){{7}}{_HEX4}"
    rf"|(?:{_HEX4}:){{1,6}}:(?:{_HEX4}:){{0,5}}{_HEX4})(?![\w:]))"
    r"|(?P<profile>\\Users\\(?P<profile_name>[^\\/\"\s:*?<>|]+))",
)
_NOT_ADDRESSES = frozenset({"0.0.0.0", "127.0.0.1", "255.255.255.255", "::1"})

#: Registry value / JSON key names (lower case, letters and digits only) -> kind.
_NAME_RULES: tuple[tuple[Callable[[str], bool], str], ...] = (
    (lambda n: "tenantid" in n or n == "tid", "tenant"),
    (lambda n: "tenantdomain" in n or n in {"domainname", "userdomain", "dnsdomain"}, "domain"),
    (lambda n: "upn" in n or "email" in n or "userprincipalname" in n or n.endswith("username")
     or n in {"user", "loggedonuser", "enrollmentusername"}, "user"),
    (lambda n: n in {"devicename", "computername", "hostname", "machinename", "netbiosname",
                     "clouddevicename", "deviceneme"} or n.endswith("devicename"), "device"),
    (lambda n: "serialnumber" in n or n == "serial", "serial"),
    (lambda n: "hardwarehash" in n or n == "devicehardwaredata", "hash"),
    (lambda n: "channeluri" in n or "pushchannel" in n or n == "channel", "push"),
    (lambda n: n.endswith("ipaddress"), "ip"),
    (lambda n: n.endswith("macaddress"), "mac"),
)


def kind_for_name(name: str) -> str | None:
    """The identifier kind a value of this name holds (``CloudAssignedTenantId`` → tenant)."""
    key = "".join(ch for ch in name.lower() if ch.isalnum())
    for test, kind in _NAME_RULES:
        if test(key):
            return kind
    return None


_PRIVATE_V4 = re.compile(r"^(?:10\.|192\.168\.|169\.254\.|172\.(?:1[6-9]|2\d|3[01])\.)")
_VERSION_CONTEXT = re.compile(r"vers|\bver\b|\bv$|build|release|\d[.,]\s*$", re.I)
_ADDRESS_CONTEXT = re.compile(
    r"\bip|address|\baddr|server|gateway|dns|client|host|peer|remote|proxy|://|@", re.I
)


def _is_address(address: str, before: str) -> bool:
    """Whether a dotted quad is an IPv4 address rather than a four-part version number.

    Versions (``1.0.0.0``, ``Version: 6.3.1.2``) outnumber addresses in ESP evidence, so a
    dotted quad counts as an address only in a private range or after words that announce
    one (``IP``, ``address``, ``server``, ``://`` …), and never after ``version``/``build``.
    """
    if address in _NOT_ADDRESSES or address.startswith("0."):
        return False
    if _VERSION_CONTEXT.search(before):
        return False
    return bool(_PRIVATE_V4.match(address) or _ADDRESS_CONTEXT.search(before))


def _is_public_host(host: str) -> bool:
    host = host.lower().rstrip(".")
    return any(host == s or host.endswith("." + s) for s in _PUBLIC_HOST_SUFFIXES)


class Redactor:
    """Learns identifiers, then rewrites text and reports with stable pseudonyms."""

    def __init__(self) -> None:
        self._tokens: dict[str, str] = {}  # lower-cased value -> token
        self._values: dict[str, str] = {}  # lower-cased value -> kind
        self._counters: dict[str, int] = {}
        self._pattern: re.Pattern[str] | None = None

    # -- learning ---------------------------------------------------------------------------

    def learn(self, kind: str, value: object) -> None:
        """Remember ``value`` (a string, or a list of them) as an identifier of ``kind``."""
        if isinstance(value, list | tuple):
            for part in value:
                self.learn(kind, part)
            return
        if not isinstance(value, str):
            return
        text = value.strip().strip("{}").strip()
        low = text.lower()
        if len(text) < _MIN_LEN or low in _PLACEHOLDERS or low in self._tokens:
            return
        if kind == "user" and "@" in text:
            local, _, domain = text.partition("@")
            self._add("user", text)
            self.learn("user", local)
            self.learn("domain", domain)
            return
        self._add(kind, text)

    def _add(self, kind: str, text: str) -> None:
        low = text.lower()
        if low in self._tokens or _is_token(low):
            return
        count = self._counters.get(kind, 0) + 1
        self._counters[kind] = count
        self._tokens[low] = f"{KINDS[kind]}-{count}"
        self._values[low] = kind
        self._pattern = None

    def learn_text(self, text: str) -> None:
        """Learn every identifier recognisable by its shape in ``text``."""
        if len(text) < _MIN_LEN:
            return
        for m in _SHAPES.finditer(text):
            if m["url"] is not None:
                host = m["host"]
                if _PUSH_HOST.search(host):
                    self._add("push", m["url"])
                elif not _is_public_host(host) and not _is_token(host.lower()):
                    self.learn_host(host)
            elif m["email"] is not None:
                self.learn("user", m["email"])
            elif m["sid"] is not None:
                self._add("sid", m["sid"])
            elif m["mac"] is not None:
                self._add("mac", m["mac"])
            elif m["ipv4"] is not None:
                if _is_address(m["ipv4"], text[max(0, m.start() - 24) : m.start()]):
                    self._add("ip", m["ipv4"])
            elif m["ipv6"] is not None:
                if m["ipv6"] not in _NOT_ADDRESSES:
                    self._add("ip", m["ipv6"])
            elif m["profile_name"] is not None:
                name = m["profile_name"]
                low = name.lower()
                if low not in _PROFILE_NAMES and not low.startswith("defaultuser"):
                    self.learn("user", name)

    def learn_host(self, host: str) -> None:
        host = host.strip().rstrip(".")
        if re.fullmatch(rf"(?:{_OCTET}\.){{3}}{_OCTET}", host):
            self._add("ip", host)
        elif "." in host:
            self._add("host", host)
        else:
            self.learn("host", host)

    def learn_report(self, report: EspReport) -> None:
        """Learn from the report's known fields, named registry values and every string."""
        device = report.device
        self.learn("device", device.name)
        self.learn("serial", device.serial)
        self.learn("domain", device.tenant_domain)
        for step in report.steps:
            for ref in step.registry:
                for value in ref.values:
                    kind = kind_for_name(value.name)
                    if kind is not None:
                        self.learn(kind, value.data)
        for text in set(_strings(report)):  # timelines repeat many strings
            self.learn_text(text)

    def learn_evidence(self, evidence: Evidence) -> None:
        """Learn named values from the whole registry and the side files of a capture."""
        for root in evidence.registry.roots():
            for key in root.walk():
                self.learn_text(key.path)
                for value in key.values():
                    kind = kind_for_name(value.name)
                    if kind is not None:
                        self.learn(kind, value.data)
        computers = {record.computer for record in evidence.events if record.computer}
        for computer in computers:
            name, _, domain = computer.partition(".")
            self.learn("device", computer)
            self.learn("device", name)
            self.learn("domain", domain)
        for record in evidence.events:
            for name, text in record.data.items():
                kind = kind_for_name(name)
                if kind is not None:
                    self.learn(kind, text)
                elif isinstance(text, str) and ("@" in text or "S-1-" in text or "://" in text):
                    self.learn_text(text)
        side = evidence.side_files
        if side is None:
            return
        if side.ztd is not None:
            self._learn_mapping(side.ztd.raw)
        for row in side.device_hashes:
            self.learn("serial", row.serial)
            self.learn("hash", row.hardware_hash)
        if side.diagnostics is not None:
            for text in side.diagnostics.properties.values():
                self.learn_text(text)
        if side.metadata is not None:
            self._learn_mapping(side.metadata.values)

    def _learn_mapping(self, data: Any) -> None:
        if isinstance(data, dict):
            for name, value in data.items():
                kind = kind_for_name(str(name))
                if kind is not None and isinstance(value, str | list):
                    self.learn(kind, value)
                self._learn_mapping(value)
        elif isinstance(data, list):
            for value in data:
                self._learn_mapping(value)
        elif isinstance(data, str):
            self.learn_text(data)

    # -- rewriting --------------------------------------------------------------------------

    def _regex(self) -> re.Pattern[str] | None:
        if self._pattern is None and self._tokens:
            alternatives = "|".join(
                re.escape(value) for value in sorted(self._tokens, key=len, reverse=True)
            )
            self._pattern = re.compile(
                rf"(?<![A-Za-z0-9])(?:{alternatives})(?![A-Za-z0-9])", re.IGNORECASE
            )
        return self._pattern

    def text(self, text: str) -> str:
        """``text`` with every learned identifier replaced by its pseudonym."""
        pattern = self._regex()
        if pattern is None or not text:
            return text
        tokens = self._tokens
        return pattern.sub(lambda m: tokens[m[0].lower()], text)

    def _bytes(self, data: bytes) -> bytes:
        for encoding in ("utf-16-le", "latin-1"):
            if encoding == "utf-16-le" and len(data) % 2:
                continue
            decoded = data.decode(encoding, errors="surrogatepass")
            redacted = self.text(decoded)
            if redacted != decoded:
                return redacted.encode(encoding, errors="surrogatepass")
        return data

    def rewrite(self, value: T) -> T:
        """A copy of ``value`` (any report dataclass, tuple, list, string) with pseudonyms."""
        return self._walk(value)  # type: ignore[no-any-return]

    def _walk(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if value is None or isinstance(value, bool | int | float | datetime):
            return value
        if isinstance(value, tuple):
            return tuple(self._walk(v) for v in value)
        if isinstance(value, list):
            return [self._walk(v) for v in value]
        if isinstance(value, bytes):
            return self._bytes(value)
        if isinstance(value, Redaction):
            return value
        if is_dataclass(value) and not isinstance(value, type):
            changes = {f.name: self._walk(getattr(value, f.name)) for f in _fields(type(value))}
            return replace(value, **changes)
        if isinstance(value, dict):
            return {self._walk(k): self._walk(v) for k, v in value.items()}
        return value

    def counts(self) -> dict[str, int]:
        """Distinct identifiers replaced so far, per kind (kinds with none left out)."""
        return {kind: self._counters[kind] for kind in KINDS if self._counters.get(kind)}

    def redaction(self) -> Redaction:
        return Redaction(counts=tuple(self.counts().items()))

    def report(self, report: EspReport) -> EspReport:
        """The report rewritten, marked as redacted with this redactor's counts."""
        rewritten = self.rewrite(report)
        return replace(rewritten, redaction=self.redaction())


_FIELDS: dict[type, tuple[Any, ...]] = {}


def _fields(cls: type) -> tuple[Any, ...]:
    found = _FIELDS.get(cls)
    if found is None:
        found = _FIELDS[cls] = fields(cls)
    return found


_TOKEN = re.compile("^(?:" + "|".join(re.escape(p) for p in KINDS.values()) + r")-\d+$")


def _is_token(low: str) -> bool:
    return _TOKEN.match(low) is not None


def _strings(value: Any) -> Iterator[str]:
    """Every string inside a report (dataclasses, tuples, lists, dicts), depth first."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, tuple | list):
            stack.extend(item)
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif is_dataclass(item) and not isinstance(item, type | Redaction):
            stack.extend(getattr(item, f.name) for f in _fields(type(item)))


def redact_reports(
    reports: Iterable[EspReport], evidence: Iterable[Evidence] = ()
) -> list[EspReport]:
    """Redact several reports as one export (the same value gets the same token in all)."""
    redactor = Redactor()
    reports = list(reports)
    for item in evidence:
        redactor.learn_evidence(item)
    for report in reports:
        redactor.learn_report(report)
    return [redactor.report(report) for report in reports]


def redact_report(report: EspReport, evidence: Evidence | None = None) -> EspReport:
    """One report redacted (``evidence``, when given, teaches the redactor more names)."""
    return redact_reports([report], [] if evidence is None else [evidence])[0]

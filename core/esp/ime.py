"""The Intune Management Extension logs as ESP evidence: log lines → :class:`ImeFacts`.

IME (``IntuneManagementExtension.log``, rotated ``IntuneManagementExtension-<stamp>.log``) and,
since 2024, ``AppWorkload.log`` (where Win32 app processing moved) say what the ESP looked like
from the app provider's side (community-observed,
https://github.com/okieselbach/AutopilotMonitor):

* the ESP phase IME sees: ``In EspPhase: DeviceSetup``, ``The EspPhase: NotInEsp``,
  ``Returning device and account setup state: AccountSetup``, ``ESP phase NotInEsp`` …;
* the phase ending: ``deviceHasProvisioningCompleted True``, ``All apps completed for device``,
  ``found isSyncDoneForUser: True``;
* the Sidecar policy provider (``Got InstanceID: Sidecar, installationStateString: 3``) and its
  tracking list (``SidecarTrackingPoliciesCreated value as True``);
* FirstSync reads of ``SkipDeviceStatusPage`` / ``SkipUserStatusPage``;
* every tracked Win32 app with its ``InstallationState``
  (``DEVICE: got trackingApp Win32App_<id>_<rev>, install: 2``), tracked-status updates,
  state-machine transitions, enforcement and detection reports, exit codes, names, and
  download progress (bytes, percent, rate, Delivery Optimization or CDN).

Wording differs between IME versions, so patterns key on the stable fragments and app ids are
taken only where the line says the id is an app's (``app with id:``, ``Win32App_<id>``,
``(id = <id>``, ``App: <id>``), never from enrollment or user ids. A line that names no app
but belongs to the app a thread is processing (exit code, detection result, DO progress) is
given to the app that thread named last.

**Clock.** IME writes the device's wall-clock time with no zone. :func:`anchor_clock` decides
how the times relate to UTC and says which basis it used: the device zone the loader applied,
this device's own zone (live), an offset proven by lines that record the same moment as an
event or registry time, or nothing (times stay the clock reading, and the report says so).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Literal, NamedTuple

from core.esp.evidence_links import log_ref
from core.esp.items import IME_WIN32, ItemInfo, parse_time
from core.esp.model import Download as ModelDownload
from core.esp.model import HistoryEntry, LogClock, LogRef, Settings
from core.esp.rules.base import PhaseState, StepState
from core.esp.values import state_word
from core.events.model import EventRecord
from core.evidence import Evidence
from core.logs.model import LogLine
from core.problems import Problem
from core.registry.model import RegistryView

ImePhase = Literal["DevicePreparation", "DeviceSetup", "AccountSetup", "NotInEsp"]
Scope = Literal["device", "user"]

#: IME and its workers' log files (lower-case name prefixes): all write clock times, no zone.
IME_LOG_PREFIXES = (
    "intunemanagementextension",
    "appworkload",
    "agentexecutor",
    "appactionprocessor",
    "healthscripts",
    "sensor",
    "clienthealth",
    "win32appinventory",
    "devicehealthmonitoring",
    "clientcertcheck",
)
MAX_SCAN_CHARS = 8192
#: The ones that log the ESP phase and Win32 app processing; the others (scripts, sensors,
#: inventory) share only the clock.
ESP_LOG_PREFIXES = ("intunemanagementextension", "appworkload", "appactionprocessor")
DEVICE_USER = "00000000-0000-0000-0000-000000000000"

_G = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_PHASE_WORDS = "DevicePreparation|DeviceSetup|AccountSetup|NotInEsp"
_PHASE = re.compile(
    r"(?:EspPhase\s*:?|ESP phase|setup state\s*:|phase in device session, return)\s*"
    rf"({_PHASE_WORDS})\b",
    re.IGNORECASE,
)
_DEVICE_DONE = re.compile(
    r"deviceHasProvisioningCompleted\s*:?\s*True|All apps completed for device", re.IGNORECASE
)
_USER_DONE = re.compile(
    r"found isSyncDoneForUser\s*:?\s*True|userHasProvisioningCompleted\w*\s*:?\s*True",
    re.IGNORECASE,
)
#: Pieces of text every match of a case-blind pattern holds (here and beside _JOB and the
#: sidecar patterns), tested on the lower-cased line before the much slower search. None has
#: an i, k or s: those letters also match a non-ASCII letter case-blind (ı, İ, K, ſ), so a
#: match need not show them in the lower-cased line.
_USER_DONE_WORDS = ("doneforu", "erha")
# Each with a piece of text its every match holds: see _USER_DONE_WORDS.
_PROVIDER = re.compile(r"InstanceID\s*:\s*Sidecar,\s*installationStateString\s*:\s*(\d+)", re.I)
_PROVIDER_WORD = "decar,"
_PROVIDER_SET = re.compile(r"SidecarCspProvider installationState\s+(\w+)", re.IGNORECASE)
_PROVIDER_SET_WORD = "decarc"
_POLICIES = re.compile(r"SidecarTrackingPoliciesCreated value as (True|False)", re.IGNORECASE)
_POLICIES_WORD = "created value a"
_SKIP = re.compile(r"Set skip(Device|User)StatusPage\s*:\s*(True|False)", re.IGNORECASE)
_SKIP_WORD = "tatu"
_TRACKING = re.compile(
    rf"\b(DEVICE|USER)\b\s*:?\s*got trackingApp\s+Win32App_({_G})(?:_(\d+))?,"
    r"\s*install\s*:\s*(\d+)",
    re.IGNORECASE,
)
_NON_COMPLETED = re.compile(
    rf"\b(DEVICE|USER)\b\s*got non-completed\s*:\s*Win32App_({_G})(?:_(\d+))?,\s*(\d+)",
    re.IGNORECASE,
)
_TRACKED_UPDATE = re.compile(
    r"tracked install status from\s+(\w+)\s+to\s+(\w+)", re.IGNORECASE
)
_REGISTERED = re.compile(r"has been registered", re.IGNORECASE)
_GUID_ONLY = re.compile(_G)
# Some marker of _APP_MARK, on the lower-cased line ("app ids", "app =" are "app" and a
# blank). The words after "app" share one branch: the search tries fewer at each "a".
_APP_WORDS = re.compile(r"app(?:[\s:]|lication(?:\s|id)|id)|id\s*[=:(]|win32app_|starts for|"
                        r"with id|intunewin-bin_|state \w+ for")
_APP_MARK = re.compile(
    r"(?:Win32App_|(?:app(?:lication)?|policy)\s+with\s+id\s*:?\s*|\(\s*id\s*=\s*|\bApp\s*:\s*|"
    r"app ids?\s*:\s*|for application\s+|\bApp\s+|\"ApplicationId\"\s*:\s*\"|"
    r"\"AppId\"\s*:\s*\"|app\s+id\s*[:=]\s*|app\s*=\s*|appId\s+|starts for\s+|"
    r"\bid\s*[:=]\s*'|intunewin-bin_|win32App state \w+ for\s+)\{?$",
    re.IGNORECASE,
)
_REVISION = re.compile(rf"Win32App_{_G}_(\d+)", re.IGNORECASE)
_NAMES = (
    re.compile(rf"\(\s*id\s*=\s*({_G})\s*,\s*name\s*=?\s*([^)\r\n]+?)\s*\)", re.IGNORECASE),
    re.compile(rf"({_G}).{{0,120}}?[Aa]pp name\s*:\s*([^,\]\r\n]+)"),
    re.compile(rf'"(?:Id|ApplicationId)"\s*:\s*"({_G})"\s*,\s*"Name"\s*:\s*"([^"]+)"'),
    re.compile(rf"starts for ({_G}) with name\s+(.+?)\s*$", re.IGNORECASE),
)
_NAME_BEFORE = re.compile(rf"name\s*=\s*'([^']+)'\s*,\s*id\s*=\s*'({_G})'", re.IGNORECASE)
_OLD_STATE = re.compile(
    rf"InstanceID\s*:\s*Win32App_({_G})(?:_(\d+))?,\s*installationStateString\s*:\s*(\d)",
    re.IGNORECASE,
)
_ESP_STATE = re.compile(rf"(?:Got|Set) (?:ESP )?win32App state (\w+) for ({_G})", re.IGNORECASE)
_SETTING_ENFORCEMENT = re.compile(r"Setting enforcementState as\W+(\w+)", re.IGNORECASE)
_UNMAPPED_EXIT = re.compile(r"did NOT set mapping for lpExitCode\W+(-?\d+)", re.IGNORECASE)
_OPERATION_PHASE = re.compile(r"Operation Phase\s*=\s*(\w+)", re.IGNORECASE)
_DETECTION_STATE = re.compile(r"detection state\s*:\s*(Detected|NotDetected)", re.IGNORECASE)
_APP_ERRORS = (  # lines that say the current app failed, and the word for it
    ("installation is timeout", "install_timed_out"),
    ("didn't get content info", "no_content_info"),
    ("decryption is failed", "content_decryption_failed"),
)
_USER_OF = re.compile(rf"for user\s+({_G})", re.IGNORECASE)
_EXIT = re.compile(r"(?:lpExitCode|exit code)\s*(?:is|:|=)?\s*(-?\d+)", re.IGNORECASE)
_EXIT_RESULT = re.compile(r"lpExitCode is defined as\s+(\w+)", re.IGNORECASE)
_DETECTED = re.compile(r"applicationDetected\w*\s*:\s*(True|False)", re.IGNORECASE)
_DELTA = re.compile(r"Report delta\s*:\s*(\{.*\})\s*$", re.DOTALL)
_TRANSITION = re.compile(
    r"From\s*:\s*(.+?)\s+To\s*:\s*(.+?)(?:\s+With Event\s*:\s*(.+?))?\.?\s*$", re.IGNORECASE
)
_BYTES = (
    re.compile(r"bytes\s+(\d+)\s*/\s*(\d+)", re.IGNORECASE),
    re.compile(r"(\d+)\s+(?:of|/)\s+(\d+)\s+bytes", re.IGNORECASE),
    re.compile(r"BytesTransferred\s*[=:]\s*(\d+)\D+?BytesTotal\s*[=:]\s*(\d+)", re.IGNORECASE),
    re.compile(r"BytesDownloaded\s*[=:]\s*(\d+)\D+?(?:BytesTotal|TotalBytes|Size)\s*[=:]\s*(\d+)",
               re.IGNORECASE),
)
_TOTAL_ONLY = re.compile(r"(?:TotalBytes|BytesTotal|file size|content size)\s*[=:]?\s*(\d+)",
                         re.IGNORECASE)
_PERCENT = re.compile(r"(\d{1,3}(?:\.\d+)?)\s*%")
_RATE_WORDS = re.compile(r"(?:speed|rate|throughput)", re.IGNORECASE)
_VIA = re.compile(
    r"\bvia\s+(DO|CDN|BITS|\w+)|(Delivery Optimi[sz]ation|\[Win32App DO\]|\bDO Job\b)",
    re.IGNORECASE,
)
_DOWNLOAD = re.compile(r"download", re.IGNORECASE)
_DOWNLOAD_DONE = re.compile(
    r"Downloaded app|download(?:ing)? (?:is )?(?:complete|completed|finished|done)|"
    r"Download Finished|job (?:has been )?completed|Completing job|job is complete",
    re.IGNORECASE,
)
_TABLE = "adding new state transition"
_NOT_PROCESSING = re.compile(r"\[EspHelper\]|trackingApp|non-completed|Report delta|Reporting|"
                             r"StatusServiceReports|Sending", re.IGNORECASE)
_JOB = re.compile(r"state transition|state machine into|\[Package Manager\] BytesRequired",
                  re.IGNORECASE)
_JOB_WORDS = ("tate tran", "tate mac", "manager] byte")  # see _USER_DONE_WORDS
_JOB_START = re.compile(r"Current State\s*:\s*Not Started",
                        re.IGNORECASE)
_INTO = re.compile(r"took state machine into\s+(.+?)\s+state", re.IGNORECASE)
_PACKAGE = re.compile(
    r"BytesRequired\s*-\s*(\d+)\s*BytesDownloaded\s*-\s*(\d+)\s*DownloadProgress\s*-\s*"
    r"([\d.]+)", re.IGNORECASE)  # the state machine's table, not an app's state


@dataclass(frozen=True, slots=True)
class PhaseMark:
    """One line saying which ESP phase IME sees (or that a phase ended)."""

    phase: ImePhase
    time: datetime | None
    line: LogLine
    ended: bool = False  # the line says the phase is over (device provisioning / user sync done)
    succeeded: bool = False  # ... and that it completed (not only that it is over)


@dataclass(frozen=True, slots=True)
class PhaseSpan:
    """What the log shows of one phase: first and last sighting, and when it was left."""

    phase: ImePhase
    first: PhaseMark
    last: PhaseMark
    left: PhaseMark | None = None  # first sighting of a later phase, or a "done" line

    @property
    def started(self) -> datetime | None:
        return self.first.time

    @property
    def ended(self) -> datetime | None:
        return self.left.time if self.left is not None else None


@dataclass(frozen=True, slots=True)
class Download:
    """One download progress reading for an app."""

    time: datetime | None
    done: int | None
    total: int | None
    percent: float | None
    rate: float | None  # bytes per second, as the line states it
    via: str | None  # "Delivery Optimization", "CDN" …
    complete: bool
    line: LogLine


@dataclass(slots=True)
class ImeApp:
    """A Win32 app as the IME log shows it."""

    id: str  # lower-case GUID
    revision: str | None = None
    name: str | None = None
    scope: Scope | None = None
    phase: ImePhase | None = None  # the ESP phase the app was seen in
    tracked: bool = False  # the log shows the ESP tracking it
    installation_state: int | None = None
    history: list[tuple[datetime | None, str, LogLine]] = field(default_factory=list)
    exit_code: int | None = None
    result: Literal["succeeded", "failed"] | None = None
    error_code: int | None = None
    detected: bool | None = None
    downloads: list[Download] = field(default_factory=list)
    lines: list[LogLine] = field(default_factory=list)

    @property
    def status(self) -> str:
        """The last state the log shows, as a word."""
        return self.history[-1][1] if self.history else "unknown"

    @property
    def outcome(self) -> Literal["failed", "done", "pending", "unknown"]:
        state = self.installation_state
        last = self.status
        if state == 4 or self.result == "failed" or last in _FAILED_WORDS:
            return "failed"
        if state == 3 or last in _DONE_WORDS or (self.result == "succeeded" and self.detected):
            return "done"
        if state in (1, 2) or self.history:
            return "pending"
        return "unknown"

    @property
    def download(self) -> Download | None:
        """The latest download reading with a byte count or percentage."""
        readings = [d for d in self.downloads if d.done is not None or d.percent is not None]
        return readings[-1] if readings else (self.downloads[-1] if self.downloads else None)

    def rate(self) -> float | None:
        """Bytes per second: stated by the last reading, else measured between readings."""
        stated = [d.rate for d in self.downloads if d.rate]
        if stated:
            return stated[-1]
        timed = [d for d in self.downloads if d.done is not None and d.time is not None]
        if len(timed) >= 2:
            first, last = timed[0], timed[-1]
            seconds = (last.time - first.time).total_seconds()  # type: ignore[operator]
            if seconds > 0 and last.done is not None and first.done is not None:
                return max(last.done - first.done, 0) / seconds
        return None


_DONE_WORDS = {"completed", "succeeded", "success", "installed", "install_success",
               "installed_pending_reboot"}
_FAILED_WORDS = {"error", "failed", "install_error", "download_error", "download_failed",
                 "failed_will_retry", "dependency_failed", "install_failed",
                 "error_downloading_content", "install_timed_out", "no_content_info",
                 "content_decryption_failed", "download_timed_out"}


@dataclass(slots=True)
class ImeFacts:
    marks: list[PhaseMark] = field(default_factory=list)
    apps: dict[str, ImeApp] = field(default_factory=dict)
    provider_state: int | None = None
    provider_lines: list[LogLine] = field(default_factory=list)
    policies_created: LogLine | None = None
    skip_device: tuple[bool, LogLine] | None = None  # first FirstSync reading
    skip_user: tuple[bool, LogLine] | None = None
    lines: int = 0  # IME lines read

    @property
    def in_esp(self) -> bool:
        return any(m.phase != "NotInEsp" for m in self.marks)

    def spans(self) -> dict[str, PhaseSpan]:
        """Per phase: first and last sighting and the first sign it was left after that."""
        spans: dict[str, PhaseSpan] = {}
        order = {"DevicePreparation": 0, "DeviceSetup": 1, "AccountSetup": 2, "NotInEsp": 3}
        for mark in self.marks:
            if mark.phase == "NotInEsp" or mark.ended:
                continue
            span = spans.get(mark.phase)
            spans[mark.phase] = (
                PhaseSpan(mark.phase, mark, mark) if span is None else replace(span, last=mark)
            )
        for phase, span in list(spans.items()):
            after = False
            for mark in self.marks:
                if mark is span.last:
                    after = True
                    continue
                if not after:
                    continue
                if (mark.ended and mark.phase == phase) or order[mark.phase] > order[phase]:
                    spans[phase] = replace(span, left=mark)
                    break
        return spans

    def final(self) -> PhaseMark | None:
        return self.marks[-1] if self.marks else None


def is_ime_log(line: LogLine) -> bool:
    """Whether the line comes from IME or one of its workers (zone-less clock times)."""
    return _file_kind(line.file) > 0


@lru_cache(maxsize=256)
def _file_kind(file: str) -> int:
    """2: a log that shows ESP phases and apps, 1: another IME log, 0: not IME's."""
    # container members are named "outer!inner"; folders add path separators
    name = re.split(r"[\\/!]", file)[-1].lower()
    return 2 if name.startswith(ESP_LOG_PREFIXES) else 1 if name.startswith(IME_LOG_PREFIXES) \
        else 0


def read_ime(
    logs: Iterable[LogLine], readings: dict[str, _Reading | None] | None = None
) -> ImeFacts:
    """What the IME / AppWorkload lines among ``logs`` show (others are ignored).

    ``readings`` keeps what each text says (it depends on the text alone) for a second
    reading of the same lines, e.g. with their clock shifted."""
    facts = ImeFacts()
    current: dict[tuple[str, str], str] = {}  # (file, thread) → app id the thread works on
    file, esp_log = None, False  # lines come file by file: the kind is looked up per file
    # IME repeats itself (a real log: 15,000 lines, 2,000 distinct texts): what a text says
    # is worked out once; what it means for the line depends on the thread's state below.
    # A text that says nothing (most of them: no phase words, no app, no job, nothing about
    # the thread's app) is remembered as None and its lines are only counted.
    if readings is None:
        readings = {}
    for line in logs:
        if line.file is not file:
            file = line.file
            esp_log = _file_kind(file) == 2
        if not esp_log:
            continue
        facts.lines += 1
        reading = readings.get(line.message, _UNREAD)
        if reading is _UNREAD:
            reading = readings[line.message] = _relevant(_read_text(line.message))
        if reading is None:
            continue
        message, _low, phases, app_id, quiet, job_line, job_start, belongs = reading
        if phases is not None:
            _phase_lines(facts, line, phases)
        key = (line.file, line.thread)
        if app_id is not None:
            if not quiet:
                current[key] = app_id  # the thread now works on this app
        elif job_line:
            app_id = current.get(key)
            # A state machine or package download that names no app (WinGet/Store apps log
            # their progress this way): one anonymous job per thread, a new one each time a
            # machine leaves "Not Started".
            if app_id is None or (app_id.startswith("job:") and job_start):
                app_id = current[key] = f"job:{line.origin}"
        elif belongs and key in current:
            app_id = current[key]  # (a thread that works on no app leaves the line alone)
        if app_id is None:
            continue
        app = facts.apps.get(app_id)
        if app is None:
            app = facts.apps[app_id] = ImeApp(app_id)
        _app_line(facts, app, line, message)
    for app_id in [k for k, a in facts.apps.items() if k.startswith("job:")]:
        job = facts.apps[app_id]
        if not job.history and job.download is None:
            del facts.apps[app_id]  # a stray reading, not a job
    return facts




#: What one text says, whatever line carries it: (the text as scanned, lower-cased, whether
#: it has phase words, the app it names, whether it names it without working on it, whether
#: it is a state-machine job line, one that starts a job, one about the thread's current app).
_Reading = tuple[str, str, '_PhaseText | None', str | None, bool, bool, bool, bool]


_UNREAD: _Reading = ("", "", None, None, False, False, False, False)
"""The look-up default of :func:`read_ime`'s readings (no text reads as this very tuple)."""


def _relevant(reading: _Reading) -> _Reading | None:
    """``reading``, or None when it can change nothing for its line: no phase words, no app,
    no job line, nothing about the thread's current app."""
    _message, _low, phases, app_id, _quiet, job_line, _job_start, belongs = reading
    return reading if phases or app_id is not None or job_line or belongs else None


def _read_text(text: str) -> _Reading:
    # What IME says about phases and apps fits in the start of a line; a cap keeps the
    # patterns linear on hostile megabyte-long records.
    message = text[:MAX_SCAN_CHARS]
    low = message.lower()  # once per text: the cheap keyword tests below run on it
    phase_words = "esp" in low or "sidecar" in low or "skip" in low or "setup" in low or \
        "provisioning" in low or "all apps" in low
    phases = _phase_text(message, low) if phase_words else None
    # _app_of needs a GUID (four dashes at least): counting them first spares most lines the
    # slower search for app words.
    app_id = _app_of(message) if message.count("-") >= 4 and _APP_WORDS.search(low) else None
    quiet = app_id is not None and _NOT_PROCESSING.search(message) is not None
    job = app_id is None and ("state" in low or "bytesrequired" in low) and \
        _may_match(low, _JOB_WORDS) and _JOB.search(message) is not None and _TABLE not in low
    job_start = job and _JOB_START.search(message) is not None
    belongs = app_id is None and not job and _belongs_to_current(low)
    return message, low, phases, app_id, quiet, job, job_start, belongs


class _PhaseText(NamedTuple):
    """What one text says about ESP phases, the provider and the skip flags, whatever line
    carries it (read once per distinct text; :func:`_phase_lines` applies it per line)."""

    phase: str | None  # the phase a phase line names
    device_done: bool  # the device phase ended
    all_apps: bool  # … with all apps completed
    user_done: bool  # the account phase ended (counts only after an AccountSetup mark)
    provider: int | None  # the provider state it gives
    provider_set: int | None  # the state it sets
    policies: bool  # policies were created
    skip: tuple[str, bool] | None  # ("device" | "user", the flag's value)


def _phase_text(message: str, low: str) -> _PhaseText | None:
    """What ``message`` (``low``: lower-cased) says about phases; None when nothing."""
    # each pattern runs only where its key words are: most lines have none of them
    phase_words = "espphase" in low or "esp phase" in low or "setup state" in low or \
        "return" in low
    m = _PHASE.search(message) if phase_words else None
    phase = None
    if m is not None:
        word = m.group(1)
        # The name the pattern matched, by the pattern's own case-blind rule: a look-alike
        # letter (ı for i) matches there but casefolds apart, and must not end the analysis.
        phase = next(p for p in _PHASE_WORDS.split("|") if re.fullmatch(p, word, re.IGNORECASE))
    done_words = "provisioningcompleted" in low or "all apps completed" in low or \
        "issyncdone" in low
    device_done = bool(done_words and _DEVICE_DONE.search(message))
    all_apps = device_done and "all apps completed" in message.casefold()
    user_done = bool(not device_done and done_words and _may_match(low, _USER_DONE_WORDS)
                     and _USER_DONE.search(message))
    provider = provider_set = skip = None
    policies = False
    if "sidecar" in low or "skip" in low:
        found = _PROVIDER.search(message) if _PROVIDER_WORD in low else None
        provider = int(found.group(1)) if found is not None else None
        if _PROVIDER_SET_WORD in low and _PROVIDER_SET.search(message):
            provider_set = _provider_state(message)
        said = _POLICIES.search(message) if _POLICIES_WORD in low else None
        policies = said is not None and said.group(1).casefold() == "true"
        flag = _SKIP.search(message) if _SKIP_WORD in low else None
        if flag is not None:
            skip = (flag.group(1).casefold(), flag.group(2).casefold() == "true")
    if phase is None and not (device_done or user_done or policies) and provider is None \
            and provider_set is None and skip is None:
        return None
    return _PhaseText(phase, device_done, all_apps, user_done, provider, provider_set, policies,
                      skip)


def _phase_lines(facts: ImeFacts, line: LogLine, said: _PhaseText) -> None:
    """Apply what a line's text says about phases (:func:`_phase_text`) to ``facts``."""
    if said.phase is not None:
        facts.marks.append(PhaseMark(said.phase, line.time, line))  # type: ignore[arg-type]
    if said.device_done:
        facts.marks.append(PhaseMark("DeviceSetup", line.time, line, ended=True, succeeded=True))
        if said.all_apps:
            for app in facts.apps.values():  # the line speaks for every device-tracked app
                if app.tracked and app.scope == "device" and app.outcome != "failed":
                    if app.installation_state != 3:
                        app.installation_state = 3
                        _add_state(app, line.time, "completed", line)
                    app.lines.append(line)
    elif said.user_done and any(m.phase == "AccountSetup" for m in facts.marks):
        facts.marks.append(PhaseMark("AccountSetup", line.time, line, ended=True))
    if said.provider is not None:
        facts.provider_state = said.provider
        facts.provider_lines.append(line)
    if said.provider_set is not None:
        facts.provider_state = said.provider_set
        facts.provider_lines.append(line)
    if said.policies:
        facts.policies_created = facts.policies_created or line
    if said.skip is not None:
        kind, value = said.skip
        if kind == "device" and facts.skip_device is None:
            facts.skip_device = (value, line)
        elif kind == "user" and facts.skip_user is None:
            facts.skip_user = (value, line)


def _may_match(low: str, words: tuple[str, ...]) -> bool:
    """Whether the lower-cased line holds one of a pattern's ``…_WORDS`` (see _USER_DONE)."""
    return any(word in low for word in words)


def _app_of(message: str) -> str | None:
    """The app a line names, only where the words before the id say it is an app's."""
    if message.count("-") < 4:  # cheaper than looking for a GUID on every line
        return None
    for guid in _GUID_ONLY.finditer(message):
        # the app-id markers sit right before the id: test a short window, not the whole line
        window = message[max(0, guid.start() - 40): guid.start()]
        if _APP_MARK.search(window):
            found = guid.group(0).lower()
            if found != DEVICE_USER:
                return found
    return None


def _belongs_to_current(folded: str) -> bool:
    if _TABLE in folded:
        return False
    return (
        "exitcode" in folded
        or "exit code" in folded
        or "detectionmanager" in folded
        or "applicationdetected" in folded
        or ("[win32app" in folded and "download" in folded)
        or "completing job" in folded
        or "job is complete" in folded
        or "enforcementstate as" in folded
        or "installation is timeout" in folded
        or "content info" in folded
    )


def _current_phase(facts: ImeFacts) -> ImePhase | None:
    for mark in reversed(facts.marks):
        if not mark.ended:
            return mark.phase
    return None


def _state_word(text: str) -> str:
    words = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", text.strip().strip('".')).split()
    return "_".join(w.lower() for w in words) or "unknown"


def _app_line(facts: ImeFacts, app: ImeApp, line: LogLine, message: str) -> None:
    app.lines.append(line)
    when = line.time
    phase = _current_phase(facts)
    if phase in ("DeviceSetup", "AccountSetup") and app.phase is None:
        app.phase = phase
    if app.revision is None:
        rev = _REVISION.search(message)
        if rev is not None:
            app.revision = rev.group(1)
    if app.name is None:
        for pattern in _NAMES:
            m = pattern.search(message)
            if m is not None and m.group(1).lower() == app.id:
                app.name = m.group(2).strip().strip('"') or None
                break
        before = _NAME_BEFORE.search(message) if app.name is None else None
        if before is not None and before.group(2).lower() == app.id:
            app.name = before.group(1).strip() or None
    user = _USER_OF.search(message)
    if user is not None and app.scope is None:
        app.scope = "device" if user.group(1) == DEVICE_USER else "user"
    old = _OLD_STATE.search(message)
    if old is not None:  # older IME: the ESP's tracking entry read straight from its instance
        app.tracked = True
        app.phase = app.phase or _current_phase(facts)
        _set_installation_state(app, int(old.group(3)), when, line)
        return
    esp_state = _ESP_STATE.search(message)
    if esp_state is not None:
        app.tracked = True
        _add_state(app, when, _state_word(esp_state.group(1)), line)
        return
    tracking = _TRACKING.search(message) or _NON_COMPLETED.search(message)
    if tracking is not None:
        app.tracked = True
        app.scope = "device" if tracking.group(1).upper() == "DEVICE" else "user"
        app.phase = "DeviceSetup" if app.scope == "device" else "AccountSetup"
        state = int(tracking.group(4))
        _set_installation_state(app, state, when, line)
        return
    update = _TRACKED_UPDATE.search(message)
    if update is not None:
        app.tracked = True
        _add_state(app, when, _state_word(update.group(2)), line)
        return
    low = message.casefold()  # once: the word tests below all read it
    if "esp" in low and _REGISTERED.search(message):
        app.tracked = True
    delta = _DELTA.search(message)
    if delta is not None:
        _report_delta(app, delta.group(1), when, line)
    into = _INTO.search(message)
    if into is not None:
        _add_state(app, when, _state_word(into.group(1)), line)
    elif _TABLE not in low and "Current State" not in message:
        transition = _TRANSITION.search(message)
        if transition is not None:
            _add_state(app, when, _state_word(transition.group(2)), line)
    exit_code = _EXIT.search(message)
    if exit_code is not None and "powershell" not in low:
        app.exit_code = int(exit_code.group(1))
    unmapped = _UNMAPPED_EXIT.search(message)
    if unmapped is not None:  # an exit code the app's return-code table does not list: failure
        app.exit_code = int(unmapped.group(1))
        app.result = "failed"
        _add_state(app, when, "install_failed", line)
    setting = _SETTING_ENFORCEMENT.search(message)
    if setting is not None:
        word = _state_word(setting.group(1))
        _add_state(app, when, word, line)
        if word in ("success", "error"):
            app.result = "succeeded" if word == "success" else "failed"
    for text, word in _APP_ERRORS:
        if text in low:
            app.result = "failed"
            _add_state(app, when, word, line)
    if "[win32app do]" in low and "not finished" in low and "timeout" in low:
        _add_state(app, when, "download_timed_out", line)
    operation = _OPERATION_PHASE.search(message)
    if operation is not None:
        _add_state(app, when, _state_word(operation.group(1)), line)
    detection = _DETECTION_STATE.search(message)
    if detection is not None:
        app.detected = detection.group(1).casefold() == "detected"
    result = _EXIT_RESULT.search(message)
    if result is not None:
        word = result.group(1).casefold()
        app.result = "failed" if word in ("failed", "failure") else "succeeded"
        if app.result == "failed":
            _add_state(app, when, "install_failed", line)
    detected = _DETECTED.search(message)
    if detected is not None:
        app.detected = detected.group(1).casefold() == "true"
    if _TABLE in low:
        return
    if "add file to the job" in low:  # the app's content handed to a Delivery Optimization job
        app.downloads.append(Download(when, None, None, None, None, "Delivery Optimization",
                                      False, line))
        _add_state(app, when, "downloading", line)
        return
    if _DOWNLOAD.search(message) or "DO Job" in message or "[Win32App DO]" in message or \
            "BytesRequired" in message or "completing job" in low:
        reading = _download(line, message)
        if reading is not None:
            if reading.via is None and app.downloads:
                reading = replace(reading, via=app.downloads[-1].via)
            app.downloads.append(reading)
            if reading.complete and "completing job" in low:
                _add_state(app, when, "downloaded", line)


def _set_installation_state(app: ImeApp, state: int, when: datetime | None, line: LogLine) -> None:
    app.installation_state = state
    _add_state(app, when, state_word("app_installation_state", state), line)


def _add_state(app: ImeApp, when: datetime | None, word: str, line: LogLine) -> None:
    if app.history and app.history[-1][1] == word:
        return  # IME re-checks the same state every few seconds: keep changes only
    app.history.append((when, word, line))
    if word == "completed":  # the ESP's own word for InstallationState 3
        app.installation_state = 3


def _report_delta(app: ImeApp, text: str, when: datetime | None, line: LogLine) -> None:
    try:
        delta = json.loads(text)
    except (ValueError, RecursionError):
        return
    if not isinstance(delta, dict):
        return
    for name, change in delta.items():
        new = change.get("NewValue") if isinstance(change, dict) else None
        if new is None:
            continue
        if name == "EnforcementState":
            word = state_word("enforcement_state", new) \
                if isinstance(new, int) \
                else _state_word(str(new))
            _add_state(app, when, word, line)
            if isinstance(new, int) and 5000 <= new < 6002 and new != 6000:
                app.result = "failed"
            elif (isinstance(new, int) and new == 1000) or word in ("success", "succeeded"):
                app.result = "succeeded"
            elif word in _FAILED_WORDS:
                app.result = "failed"
        elif name == "ErrorCode" and isinstance(new, int) and new not in (0, 3010):
            app.error_code = new
        elif name == "DetectionState":
            app.detected = str(new).casefold() == "installed"
            if app.detected:
                _add_state(app, when, "installed", line)


def _download(line: LogLine, message: str) -> Download | None:
    done = total = None
    percent: float | None = None
    package = _PACKAGE.search(message)
    if package is not None:
        total, done = int(package.group(1)) or None, int(package.group(2))
        if total is None:
            return None  # IME's idle reading between download and install
        percent = round(min(float(package.group(3)), 1.0) * 100, 1)
    for pattern in () if package is not None else _BYTES:
        m = pattern.search(message)
        if m is not None:
            done, total = int(m.group(1)), int(m.group(2))
            break
    if total is None:
        m_total = _TOTAL_ONLY.search(message)
        total = int(m_total.group(1)) if m_total is not None else None
    m_percent = _PERCENT.search(message) if percent is None else None
    if m_percent is not None:
        percent = min(float(m_percent.group(1)), 100.0)
    elif percent is None and done is not None and total:
        percent = round(100.0 * done / total, 1)
    rate = _rate(message)
    via_match = _VIA.search(message)
    via: str | None = None
    if via_match is not None:
        word = (via_match.group(1) or "DO").upper()
        via = "Delivery Optimization" if word in ("DO", "DELIVERY") or via_match.group(2) \
            else word
    complete = bool(_DOWNLOAD_DONE.search(message)) or (
        done is not None and total is not None and total > 0 and done >= total
    )
    if done is None and total is None and percent is None and rate is None and not complete \
            and via is None:
        return None
    return Download(line.time, done, total, percent, rate, via, complete, line)


_UNITS = {"b": 1, "bytes": 1, "kb": 1024, "kib": 1024, "mb": 1024**2, "mib": 1024**2,
          "gb": 1024**3, "kbps": 1000 / 8, "mbps": 1_000_000 / 8}


def _rate(message: str) -> float | None:
    if not _RATE_WORDS.search(message) and "/s" not in message and "ps" not in message:
        return None
    for m in re.finditer(
        r"(\d+(?:\.\d+)?)\s*(bytes|B|KB|KiB|MB|MiB|GB)\s*/\s*s(?:ec(?:ond)?)?\b|"
        r"(\d+(?:\.\d+)?)\s*(Kbps|Mbps)\b",
        message,
        re.IGNORECASE,
    ):
        number = m.group(1) or m.group(3)
        unit = (m.group(2) or m.group(4)).casefold()
        return float(number) * _UNITS[unit]
    return None


# -- clock ------------------------------------------------------------------------------------

ANCHOR_TOLERANCE = timedelta(minutes=2)
"""How far from a whole quarter hour an IME line may sit from its matched event."""
MAX_OFFSET = timedelta(hours=14)


def anchor_pairs(
    facts: ImeFacts,
    events: Sequence[EventRecord],
    registry_times: Sequence[tuple[str, datetime, str]],
) -> list[tuple[datetime, datetime, str]]:
    """(IME time as read, UTC time, "ime origin ↔ other origin") for lines that record the
    same moment as an event or a registry time.

    * Windows 11 Autopilot event 288 (policy provider install completed, provider Sidecar) ↔
      the IME line that sets the Sidecar provider's InstallationState to Completed;
    * Autopilot event 296 (tracked app installed) naming an app ↔ IME's completed line for it;
    * ``registry_times`` (app id, UTC time, origin), e.g. a Win32Apps key's
      ``LastUpdatedTimeUtc`` ↔ IME's enforcement report for that app.
    """
    pairs: list[tuple[datetime, datetime, str]] = []
    provider_done = [
        line for line in facts.provider_lines
        if line.time is not None and _PROVIDER_SET.search(line.message)
        and "completed" in line.message.casefold()
    ]
    for event in events:
        if "moderndeployment" not in event.channel.casefold() and "autopilot" not in \
                event.channel.casefold():
            continue
        text = " ".join(str(v) for v in event.data.values())
        if event.event_id == 288 and "sidecar" in text.casefold():
            pairs.extend(_nearest(provider_done, event.time, event.origin))
        elif event.event_id == 296:
            m = re.search(_G, text)
            app = facts.apps.get(m.group(0).lower()) if m is not None else None
            if app is not None:
                done = [ln for t, w, ln in app.history if w in _DONE_WORDS and t is not None]
                pairs.extend(_nearest(done, event.time, event.origin))
    for app_id, when, origin in registry_times:
        app = facts.apps.get(app_id.lower())
        if app is None:
            continue
        reports = [ln for ln in app.lines if ln.time is not None and _DELTA.search(ln.message)]
        pairs.extend(_nearest(reports, when, origin))
    return pairs


def _nearest(
    lines: Sequence[LogLine], utc: datetime, origin: str
) -> list[tuple[datetime, datetime, str]]:
    """The line whose reading is a whole quarter-hour offset nearest to ``utc`` (if any)."""
    best: tuple[timedelta, LogLine] | None = None
    for line in lines:
        assert line.time is not None
        residual = abs(_offset(line.time, utc)[1])
        if abs(utc - line.time) <= MAX_OFFSET and (best is None or residual < best[0]):
            best = (residual, line)
    if best is None or best[0] > ANCHOR_TOLERANCE:
        return []
    line = best[1]
    assert line.time is not None
    return [(line.time, utc, f"{line.origin} ↔ {origin}")]


def _offset(read: datetime, utc: datetime) -> tuple[int, timedelta]:
    """Whole quarter hours (in minutes) from ``read`` to ``utc``, and what is left over."""
    raw = utc - read
    quarters = round(raw.total_seconds() / 900)
    return quarters * 15, raw - timedelta(minutes=quarters * 15)


def anchor_clock(
    pairs: Sequence[tuple[datetime, datetime, str]],
    *,
    zone: str | None = None,
    live: bool = False,
) -> LogClock:
    """Decide the basis of the IME times (see the module docstring).

    The loader already read the times in ``zone`` (the device zone a side file names) or in
    this device's zone (``live``); matched moments then confirm it (offset 0) or correct it.
    """
    if pairs:
        votes = Counter(_offset(read, utc)[0] for read, utc, _ in pairs)
        offset, count = votes.most_common(1)[0]
        origins = tuple(text for read, utc, text in pairs if _offset(read, utc)[0] == offset)
        if offset == 0 and (zone or live):
            base = f"the device zone {zone}" if zone else "this device's own zone"
            return LogClock(
                "zone" if zone else "device",
                0,
                f"read in {base}; {count} line(s) matching events of the same moment agree",
                origins[:5],
            )
        sign = "+" if offset >= 0 else "-"
        hours, minutes = divmod(abs(offset), 60)
        shift = f"{sign}{hours:d}:{minutes:02d}"
        read_as = (f"the times read in the device zone {zone} were off; UTC = that reading "
                   f"{shift}" if zone else
                   f"UTC = this device's local reading {shift}" if live else
                   f"UTC = log clock {shift}")
        return LogClock(
            "event",
            offset,
            f"anchored by {count} line(s) recording the same moment as an event or registry "
            f"time: {read_as}",
            origins[:5],
        )
    if zone:
        return LogClock(
            "zone",
            0,
            f"read in the device zone {zone} (diagnostics data), and in the OOBE default, "
            "Pacific time, for writers started before Windows took that zone",
        )
    if live:
        return LogClock("device", 0, "read in this device's own time zone")
    return LogClock(
        "unanchored",
        0,
        "IME log times carry no zone and nothing in the evidence anchors them to UTC; they "
        "are shown as the device's clock reading",
    )


def shift_logs(logs: Sequence[LogLine], minutes: int) -> list[LogLine]:
    """``logs`` with the IME family's times moved by ``minutes`` (other logs untouched)."""
    if not minutes:
        return list(logs)
    delta = timedelta(minutes=minutes)
    return [
        replace(line, time=line.time + delta)
        if line.time is not None and is_ime_log(line)
        else line
        for line in logs
    ]


# -- into the analysis -------------------------------------------------------------------------
# What core.esp.analyze needs from the facts: items merged with the registry's (the registry
# wins where both speak), phase states and times where the ESP record is missing, the lines
# that prove each of them as step log references, and the clock basis.

APPS_STEP = {"DeviceSetup": "DeviceSetup.AppsSubcategory",
             "AccountSetup": "AccountSetup.AppsSubcategory"}
PROVIDER_STEP = "DevicePreparation.EspProviderInstallationSubcategory"
PHASE_ORDER = ("DevicePreparation", "DeviceSetup", "AccountSetup")
PHASE_TITLES = {"DevicePreparation": "Device preparation", "DeviceSetup": "Device setup",
                "AccountSetup": "Account setup", "NotInEsp": "not in the ESP"}
MAX_ITEM_LINES = 40
SOURCE = "IME log"
MAX_UNTRACKED_LINES = 6
STATUS_WORDS = {"in_progress": "in progress", "identifying": "identifying"}


@dataclass(slots=True)
class ImeEvidence:
    """The IME facts, prepared for the analysis (see :func:`ime_evidence`)."""

    facts: ImeFacts
    clock: LogClock | None  # None: no IME logs in the evidence
    logs: list[LogLine]  # the evidence's log lines, IME times moved to UTC where anchored
    step_logs: dict[str, list[LogRef]] = field(default_factory=dict)
    step_reasons: dict[str, str] = field(default_factory=dict)
    step_sources: dict[str, list[str | None]] = field(default_factory=dict)  # [start, end]
    phase_notes: dict[str, list[str | None]] = field(default_factory=dict)  # [reason, s, e]
    times: dict[datetime, str] = field(default_factory=dict)  # IME history time → origin
    problems: list[Problem] = field(default_factory=list)

    def add_log(self, step: str, line: LogLine, item: str | None = None) -> None:
        refs = self.step_logs.setdefault(step, [])
        if any(r.origin == line.origin and r.item == item for r in refs):
            return
        # The step's log view shows IME's line on one line, cut short.
        refs.append(replace(log_ref(line, item), message=" ".join(line.message.split())[:400]))


def ime_evidence(evidence: Evidence) -> ImeEvidence:
    """Read the IME lines of ``evidence`` and decide their clock (module docstring)."""
    if not any(is_ime_log(line) for line in evidence.logs):
        return ImeEvidence(ImeFacts(), None, evidence.logs)
    readings: dict[str, _Reading | None] = {}
    facts = read_ime(evidence.logs, readings)
    diagnostics = evidence.side_files.diagnostics if evidence.side_files is not None else None
    zone = diagnostics.time_zone if diagnostics is not None else None
    pairs = anchor_pairs(facts, evidence.events, _registry_times(evidence.registry))
    clock = anchor_clock(pairs, zone=zone, live=evidence.source.kind == "live")
    logs = evidence.logs
    if clock.offset_minutes:
        logs = shift_logs(logs, clock.offset_minutes)
        facts = read_ime(logs, readings)
    result = ImeEvidence(facts, clock, logs)
    if clock.basis == "unanchored":
        name = next(line.file for line in evidence.logs if is_ime_log(line))
        result.problems.append(Problem(name, "", clock.detail + "."))
    return result


def _registry_times(registry: RegistryView) -> list[tuple[str, datetime, str]]:
    """(app id, UTC time, origin) from IME's Win32Apps keys (``LastUpdatedTimeUtc``)."""
    found: list[tuple[str, datetime, str]] = []
    root = registry.key(IME_WIN32)
    for user in root.subkeys() if root is not None else []:
        for app in user.subkeys():
            m = re.search(_G, app.name)
            value = app.value("LastUpdatedTimeUtc")
            when = parse_time(str(value.data)) if value is not None else None
            if m is not None and when is not None:
                found.append((m.group(0).lower(), when, app.origin or app.path))
    return found


def merge_items(ime: ImeEvidence, items: list[ItemInfo], settings: Settings) -> Settings:
    """Add what the log shows to ``items`` (in place); return ``settings`` with the FirstSync
    skip flags the log read filled in where the registry had none."""
    facts = ime.facts
    # When the log shows the ESP's tracking list, the other apps IME worked on meanwhile do not
    # block the ESP: they are no items of the step (views list its items as the blocking
    # apps), but their lines stay in the step's log - they shared its time and bandwidth.
    has_list = any(a.tracked for a in facts.apps.values())
    for app in facts.apps.values():
        phase = app.phase or ("AccountSetup" if app.scope == "user" else None)
        if phase not in APPS_STEP or not (app.tracked or app.history or app.downloads):
            continue  # processed outside the ESP: not part of any step
        if has_list and not app.tracked and _find(items, "win32", app.id, None) is None:
            for line in _proof_lines(app)[:MAX_UNTRACKED_LINES]:
                ime.add_log(APPS_STEP[phase], line)
            continue
        _merge_app(ime, items, app, phase)
    if facts.provider_state is not None and facts.provider_lines:
        _merge_provider(ime, items)
    if facts.policies_created is not None:
        info = _find(items, "provider", "Sidecar", APPS_STEP["DeviceSetup"])
        if info is None:
            info = ItemInfo(APPS_STEP["DeviceSetup"], "provider", "Sidecar", "device",
                            status="tracking_policies_created", outcome="done",
                            name="Sidecar (Intune Management Extension)", tracked=True,
                            sources=[SOURCE])
            items.append(info)
        ime.add_log(APPS_STEP["DeviceSetup"], facts.policies_created, "Sidecar")
    skip_device = facts.skip_device[0] if facts.skip_device else None
    skip_user = facts.skip_user[0] if facts.skip_user else None
    return replace(
        settings,
        skip_device_status_page=settings.skip_device_status_page
        if settings.skip_device_status_page is not None else skip_device,
        skip_user_status_page=settings.skip_user_status_page
        if settings.skip_user_status_page is not None else skip_user,
    )


def _find(items: list[ItemInfo], kind: str, item_id: str, step: str | None) -> ItemInfo | None:
    folded = item_id.casefold().strip("{}")
    for info in items:
        same_kind = info.kind == kind or (kind == "win32" and info.kind in ("win32", "msi"))
        if same_kind and info.id.casefold().strip("{}") == folded and (
            step is None or info.step == step
        ):
            return info
    return None


def _merge_app(ime: ImeEvidence, items: list[ItemInfo], app: ImeApp, phase: str) -> None:
    anonymous = app.id.startswith("job:")
    item_id = app.id[4:] if anonymous else app.id
    info = None if anonymous else _find(items, "win32", app.id, None)
    history = [HistoryEntry(t, word) for t, word, _ in app.history if t is not None]
    for t, _, line in app.history:
        if t is not None:
            ime.times.setdefault(t, line.origin)
    if info is None:
        step = APPS_STEP[phase]
        thread = app.lines[0].thread if app.lines else "?"
        info = ItemInfo(
            step,
            "modern" if anonymous else "win32",
            item_id,
            app.scope or ("user" if phase == "AccountSetup" else "device"),
            status=app.status,
            outcome=app.outcome,
            name=app.name or (f"app not named in the log (thread {thread})" if anonymous
                              else None),
            code=app.error_code,
            tracked=app.tracked,
        )
        items.append(info)
    elif info.outcome == "unknown":  # the registry is silent on the state: the log speaks
        info.status, info.outcome = app.status, app.outcome
        info.code = info.code if info.code is not None else app.error_code
    info.name = info.name or app.name
    info.history.extend(h for h in history if h not in info.history)
    info.sources.append(SOURCE)
    if info.exit_code is None:
        info.exit_code = app.exit_code
    reading = app.download
    if reading is not None and info.download is None:
        info.download = ModelDownload(
            reading.time, reading.done, reading.total, reading.percent, app.rate(), reading.via,
            reading.complete, reading.line.origin,
        )
    for line in _proof_lines(app):
        ime.add_log(info.step, line, info.id)


def _proof_lines(app: ImeApp) -> list[LogLine]:
    """The lines that show the app's states, results and downloads (first and last reading)."""
    chosen = [line for _, _, line in app.history]
    chosen += [d.line for d in app.downloads[:1] + app.downloads[-1:]]
    chosen += [line for line in app.lines
               if line.type in (2, 3) or _EXIT.search(line.message) or _NAMES[0].search(
                   line.message) or _DETECTED.search(line.message)]
    unique = sorted({line.origin: line for line in chosen}.values(),
                    key=lambda ln: (ln.file, ln.line))
    if len(unique) > MAX_ITEM_LINES:
        unique = unique[: MAX_ITEM_LINES // 2] + unique[-MAX_ITEM_LINES // 2:]
    return unique


def _merge_provider(ime: ImeEvidence, items: list[ItemInfo]) -> None:
    facts = ime.facts
    state = facts.provider_state
    assert state is not None
    info = _find(items, "provider", "Sidecar", PROVIDER_STEP)
    if info is None:
        info = ItemInfo(PROVIDER_STEP, "provider", "Sidecar", "device",
                        name="Sidecar (Intune Management Extension)", tracked=True)
        info.set_state("provider_installation_state", state, "InstallationState")
        items.append(info)
        for line in facts.provider_lines:
            state_now = _provider_state(line.message)
            word = state_word("provider_installation_state", state_now)
            if line.time is not None and (not info.history or info.history[-1].status != word):
                info.history.append(HistoryEntry(line.time, word))
                ime.times.setdefault(line.time, line.origin)
    info.sources.append(SOURCE)
    last: int | None = None
    for line in facts.provider_lines:  # the lines where the provider's state changes
        state_now = _provider_state(line.message)
        if state_now != last:
            ime.add_log(PROVIDER_STEP, line, "Sidecar")
            last = state_now


def _provider_state(message: str) -> int | None:
    m = _PROVIDER.search(message)
    if m is not None:
        return int(m.group(1))
    m_set = _PROVIDER_SET.search(message)
    word = m_set.group(1).casefold() if m_set is not None else ""
    return {"completed": 3, "notrequired": 2, "error": 4, "notinstalled": 1}.get(word)


def apply_phases(
    ime: ImeEvidence,
    record: dict[str, bool],
    phases: dict[str, PhaseState],
    steps: dict[str, StepState],
) -> None:
    """Phase and step states and times from the log where the ESP record has no phase, or
    only a "not started" one the log contradicts (``record``: phase id → record active)."""
    facts = ime.facts
    if not facts.in_esp:
        return
    spans = facts.spans()
    final = next((m for m in reversed(facts.marks) if not m.ended), None)
    for index, phase_id in enumerate(PHASE_ORDER):
        phase = phases.get(phase_id)
        if phase is None or phase.status == "skipped":
            continue
        span = spans.get(phase_id)
        if record.get(phase_id):
            # The ESP record decides the state; the log still gives a start it lacks.
            if span is not None and phase.started is None and span.started is not None:
                phase.started = span.started
                ime.phase_notes.setdefault(phase_id, [None, None, None])[1] = (
                    f"{SOURCE} {span.first.line.origin}")
            continue
        no_record = ("The capture holds no ESP record for this phase" if phase_id not in record
                     else "The ESP record still says this phase has not started")
        later = next((spans[p] for p in PHASE_ORDER[index + 1:] if p in spans), None)
        title = PHASE_TITLES[phase_id]
        notes = ime.phase_notes.setdefault(phase_id, [None, None, None])
        if span is not None:
            ime.add_log(APPS_STEP.get(phase_id, PROVIDER_STEP), span.first.line)
            if phase.started is None or (span.started and span.started < phase.started):
                phase.started = span.started
                notes[1] = f"{SOURCE} {span.first.line.origin}"
        left = span.left if span is not None else None
        # Over and completed: a "completed" line, or the ESP seen in a later phase (a failed
        # phase stops the ESP unless Continue anyway is allowed). The user's first sync being
        # done or IME no longer seeing an ESP only says the phase is over, not how it ended.
        done_by = left if left is not None and (
            left.succeeded or (not left.ended and left.phase != "NotInEsp")
        ) else None
        if done_by is None and later is not None:
            done_by = later.first
        own_steps = [s for s in steps.values() if s.definition.phase == phase_id]
        if done_by is not None:
            ime.add_log(APPS_STEP.get(phase_id, PROVIDER_STEP), done_by.line)
            phase.status = "succeeded"
            phase.ended = phase.ended or done_by.time
            notes[2] = notes[2] or f"{SOURCE} {done_by.line.origin}"
            how = (f"IME reports {title} completed" if done_by.ended
                   else f"IME sees the ESP in {PHASE_TITLES[done_by.phase]}")
            notes[0] = (f"{no_record}; {how} at {_clock_text(done_by.time)} "
                        f"({done_by.line.origin})"
                        + ("." if done_by.ended else f", so {title} had completed."))
            for step in own_steps:
                if step.status in ("unknown", "not_started") and step.definition.visible:
                    step.status, step.source = "succeeded", "derived"
                    ime.step_reasons[step.definition.id] = (
                        f"{title} completed ({how}, {done_by.line.origin}): this step finished "
                        "or had nothing to track."
                    )
        elif left is not None and span is not None:
            ime.add_log(APPS_STEP.get(phase_id, PROVIDER_STEP), left.line)
            over = ("the user's first sync done" if left.ended else "no ESP any more")
            reason = (f"IME saw {title} from {_clock_text(span.started)} (last "
                      f"{_clock_text(span.last.time)}) and {over} at "
                      f"{_clock_text(left.time)} ({left.line.origin}); the log does not say how "
                      f"{title} ended.")
            notes[0] = f"{no_record}; {reason}"
            phase.status = "unknown"
            phase.ended = phase.ended or left.time
            notes[2] = notes[2] or f"{SOURCE} {left.line.origin} (over by then)"
            for step in own_steps:  # their last state is older than the ESP's end
                if step.status in ("in_progress", "identifying"):
                    ime.step_reasons[step.definition.id] = (
                        f"Last seen {STATUS_WORDS[step.status]} at "
                        f"{_clock_text(span.last.time)}; " + reason)
                    step.status = "unknown"
        elif span is not None and final is not None and final.phase == phase_id:
            phase.status = "in_progress" if phase.status in ("unknown", "not_started") \
                else phase.status
            notes[0] = (f"{no_record}; the IME log last shows"
                        f" the ESP in {title} at {_clock_text(final.time)} "
                        f"({final.line.origin}).")
        elif span is None and final is not None and final.phase in PHASE_ORDER and \
                PHASE_ORDER.index(final.phase) < index:
            phase.status = "not_started"
            reason = (f"The IME log last shows the ESP still in {PHASE_TITLES[final.phase]} "
                      f"at {_clock_text(final.time)} ({final.line.origin}).")
            notes[0] = reason
            for step in own_steps:
                if step.status == "unknown":
                    step.status = "not_started"
                    ime.step_reasons[step.definition.id] = reason


def step_times(
    ime: ImeEvidence, steps: dict[str, StepState], phases: dict[str, PhaseState]
) -> None:
    """Name the IME log as the source of step and phase times that came from its lines."""
    for step_id, step in steps.items():
        sources = ime.step_sources.setdefault(step_id, [None, None])
        for index, when in enumerate((step.started, step.ended)):
            origin = ime.times.get(when) if when is not None else None
            if origin is not None:
                sources[index] = f"{SOURCE} {origin}"
    for phase_id, phase in phases.items():
        notes = ime.phase_notes.setdefault(phase_id, [None, None, None])
        for index, when in ((1, phase.started), (2, phase.ended)):
            origin = ime.times.get(when) if when is not None else None
            if origin is not None and notes[index] is None:
                notes[index] = f"{SOURCE} {origin}"


def _clock_text(when: datetime | None) -> str:
    return when.strftime("%Y-%m-%d %H:%M:%S") if when is not None else "an unknown time"


def proven_lines(ime: ImeEvidence) -> dict[str, str]:
    """Origin → step of the log lines that prove a step's IME facts (its timeline entries
    carry that step when no link placed them)."""
    return {ref.origin: step for step, refs in ime.step_logs.items() for ref in refs}

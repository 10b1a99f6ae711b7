"""Build CMTrace-format log lines and files for scenario tests.

``cmtrace_line`` writes the local wall-clock time a Windows writer would, given the UTC instant
and the writer's bias (``UTC = local + bias``, minutes). ``bias_minutes=None`` writes an
Intune-style line without a bias suffix, whose clock reading then *is* ``time_utc`` as given.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path


def cmtrace_line(
    time_utc: datetime,
    message: str,
    component: str = "IntuneManagementExtension",
    thread: int = 1,
    type_: int = 1,
    bias_minutes: int | None = 0,
) -> str:
    """One record, without the line break (the message may hold line breaks)."""
    if time_utc.tzinfo is not None:
        time_utc = time_utc.astimezone(UTC).replace(tzinfo=None)
    local = time_utc - timedelta(minutes=bias_minutes or 0)
    clock = f"{local:%H:%M:%S}.{local.microsecond:06d}0"
    suffix = "" if bias_minutes is None else f"{bias_minutes:+04d}"
    date = f"{local.month}-{local.day}-{local.year}"
    return (
        f'<![LOG[{message}]LOG]!><time="{clock}{suffix}" date="{date}" '
        f'component="{component}" context="" type="{type_}" thread="{thread}" file="">'
    )


def write_cmtrace(
    path: Path, lines: Iterable[str], *, bom: bool = True, encoding: str = "utf-8"
) -> Path:
    """Write records the way IME does: CRLF after each, UTF-8 with a BOM by default.

    ``encoding="utf-16-le"`` writes UTF-16LE (with its BOM when ``bom``).
    """
    text = "".join(f"{line}\r\n" for line in lines)
    data = text.encode(encoding)
    if bom:
        data = (codecs.BOM_UTF16_LE if encoding.startswith("utf-16") else codecs.BOM_UTF8) + data
    path.write_bytes(data)
    return path


# -- Intune Management Extension lines ---------------------------------------------------------
# Made-up ids and names, in the shape IME writes them (core/esp/ime.py): no bias after the
# clock (IME writes its wall clock with no zone), component IntuneManagementExtension (or
# AppWorkload for the 2024+ Win32 app worker).

DEVICE_USER = "00000000-0000-0000-0000-000000000000"
_ENROLLMENT = "c0ffee00-0000-4000-8000-00000000e001"


class ImeLog:
    """IME log records in story order; ``write`` puts them in a file the way IME does."""

    def __init__(self, component: str = "IntuneManagementExtension") -> None:
        self.component = component
        self.lines: list[str] = []

    def add(self, when: datetime, message: str, thread: int = 11, type_: int = 1) -> ImeLog:
        self.lines.append(
            cmtrace_line(when, message, self.component, thread, type_, bias_minutes=None)
        )
        return self

    def write(self, path: Path) -> Path:
        return write_cmtrace(path, self.lines)

    # ESP phase checks ------------------------------------------------------------------------

    def esp_check(
        self, when: datetime, phase: str, skip_device: bool = False, skip_user: bool = False
    ) -> ImeLog:
        """One ``CheckEspPhase`` run: FirstSync reads, the Sidecar provider, the phase."""
        tag = "[Win32App][EspHelper]"
        first_sync = f"SOFTWARE\\\\Microsoft\\\\Enrollments\\{_ENROLLMENT}\\FirstSync"
        self.add(when, f"{tag}[CheckEspPhase] Checking ESP status and phase for sessionId: 0")
        for which, value in (("Device", skip_device), ("User", skip_user)):
            self.add(when, f"{tag}[CheckDeviceOnlyFromFirstSyncReg] Got skip{which}StatusPage"
                           f"String: {-1 if value else 0} under: {first_sync}")
            self.add(when, f"{tag}[CheckDeviceOnlyFromFirstSyncReg] Set skip{which}StatusPage: "
                           f"{value}")
        self.add(when, f"{tag}[CheckEspPhase] ESP Checking SidecarCspProvider status")
        self.add(when, "[Win32App] Got InstanceID: Sidecar, installationStateString: 3")
        if phase == "NotInEsp":
            self.add(when, f"{tag}[CheckEspPhase] Checking ESP status and found "
                           "isSyncDoneForUser: True")
            return self.add(when, "Finished ESP phase check before kicking off PowerShell "
                                  "script. ESP phase NotInEsp")
        self.add(when, "[Win32App] Got SidecarTrackingPoliciesCreated value as True")
        extra = (". Start the thread to check user token and user SID again if reboot in ESP"
                 if phase == "AccountSetup" else "")
        self.add(when, f"{tag}[CheckEspPhase] In EspPhase: {phase}{extra}", type_=2)
        return self.add(when, f"Finished ESP phase check before kicking off PowerShell script. "
                              f"ESP phase {phase}")

    def provider_first_seen(self, when: datetime) -> ImeLog:
        tag = "[Win32App][EspHelper][CheckEspPhase]"
        self.add(when, "[Win32App] Got InstanceID: Sidecar, installationStateString: 1")
        self.add(when, f"{tag} ESP Set SidecarCspProvider status")
        return self.add(when, f"{tag} ESP Set SidecarCspProvider installationState Completed, "
                              "trackedResourceTypesIncludesApps True")

    def tracked(self, when: datetime, app_id: str, state: int, rev: int = 1,
                scope: str = "DEVICE") -> ImeLog:
        """IME reading the ESP's tracking list: one app and its InstallationState."""
        tag = "[Win32App][EspHelper][CheckDeviceAndAccountSetupStateWithWmi]"
        self.add(when, f"{tag} {scope}: got trackingApp Win32App_{app_id}_{rev}, "
                       f"install: {state}, reboot: ")
        if state != 3:
            self.add(when, f"{tag} {scope} got non-completed:  Win32App_{app_id}_{rev}, {state}",
                     type_=2)
        return self

    def device_done(self, when: datetime) -> ImeLog:
        tag = "[Win32App][EspHelper][CheckDeviceAndAccountSetupStateWithWmi]"
        self.add(when, f"{tag} ESP got devicePolicyCreated True, deviceHasProvisioningCompleted "
                       "True")
        self.add(when, f"{tag} All apps completed for device", type_=2)
        return self.add(when, f"{tag} Checked phase in device session, return AccountSetup",
                        type_=2)

    # app processing ----------------------------------------------------------------------------

    def processing(self, when: datetime, app_id: str, name: str, thread: int = 14) -> ImeLog:
        return self.add(when, f"[Win32App] ..................... Processing app (id={app_id}, "
                              f"name = {name}) with mode = DetectInstall .....................",
                        thread)

    def downloading(self, when: datetime, app_id: str, name: str, done: int, total: int,
                    via: str = "DO", user: str = DEVICE_USER, thread: int = 14) -> ImeLog:
        verb = "Downloaded" if done >= total else "Downloading"
        return self.add(when, f"[StatusService] {verb} app (id = {app_id}, name {name}) via "
                              f"{via}, bytes {done}/{total} for user {user}", thread)

    def do_job(self, when: datetime, app_id: str, seconds: float, rev: int = 1,
               thread: int = 5) -> ImeLog:
        """An app's content fetched by a Delivery Optimization job, start to completion."""
        job = f"d0d0d0d0-0000-4000-8000-{int(when.timestamp()) % 10**12:012d}"
        content = f"{app_id[:8]}-c0de-4000-8000-000000000001"
        self.add(when, f"DO Job Id = {job} ", thread)
        self.add(when, f"Add File to the Job, File Id: {content}-intunewin-bin_{app_id}_{rev}",
                 thread)
        self.add(when, f"Starting job {job}...", thread)
        self.add(when, "Waiting 43200000 ms for 1 jobs to complete", thread)
        done = when + timedelta(seconds=seconds)
        self.add(done, f"JobTransferred callback for job = {job}", thread + 10)
        self.add(done, f"Completing job {job}", thread)
        return self.add(done, "Notified DO Service the job is complete.", thread)

    def exit_code(self, when: datetime, code: int, success: bool, thread: int = 14) -> ImeLog:
        self.add(when, f"[Win32App] lpExitCode {code}", thread)
        return self.add(when, "[Win32App] lpExitCode is defined as "
                              f"{'Success' if success else 'Failed'}", thread,
                        type_=1 if success else 3)

    def enforcement(self, when: datetime, app_id: str, old: str | None, new: str,
                    error: int | None = None, thread: int = 14) -> ImeLog:
        delta: dict[str, object] = {"EnforcementState": {"OldValue": old, "NewValue": new}}
        if error is not None:
            delta["ErrorCode"] = {"OldValue": None, "NewValue": error}
        return self.add(when, "[Win32App][ReportingManager] Execution state for app with id: "
                              f"{app_id} has been updated. Report delta: {json.dumps(delta)}",
                        thread)

    def store_job(self, when: datetime, total: int, steps: int, seconds: float,
                  thread: int = 15) -> ImeLog:
        """A WinGet (new Store) app's state machine and package progress, naming no app."""
        def transition(at: datetime, prev: str, event: str, into: str) -> None:
            self.add(at, f"Processing state transition - Current State:{prev} With Event: "
                         f"{event}.", thread)
            self.add(at, f"State transition processed - Previous State:{prev} received event: "
                         f"{event} which took state machine into {into} state.", thread)

        transition(when, "Not Started", "Enqueued", "Queued")
        transition(when, "Queued", "Install Started", "Install In Progress")
        transition(when, "Install In Progress", "Download Started", "Download In Progress")
        for n in range(1, steps + 1):
            done = total * n // steps
            self.add(when + timedelta(seconds=seconds * n / steps),
                     f"[Package Manager] BytesRequired - {total}BytesDownloaded - {done}"
                     f"DownloadProgress - {done / total}InstallationProgress - 0", thread)
        end = when + timedelta(seconds=seconds)
        transition(end, "Download In Progress", "Download Finished", "Download Complete")
        return self

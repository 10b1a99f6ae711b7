"""Build the bundled sample capture ``resources/samples/sample.cab`` (deterministic).

Run ``python -m tests.builders.make_sample`` to rewrite it. The story, all made up: a user-driven
Entra join of a Contoso laptop. Device preparation goes through, Device setup applies its
policies, then installs three required Win32 apps; "Contoso VPN Client" installs (exit code 0)
but its detection rule never finds it, so IME reports 0x87D1041C and the ESP stops at
Device setup › Apps with "Apps (0x87d1041c)". Account setup never starts. The capture holds the
registry dump, the Autopilot / DeviceManagement / Shell-Core event logs, the IME log and the ZTD
profile — what a technician would get from ``mdmdiagnosticstool -area Autopilot -cab``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from tests.builders.capture import DEVICE_SID, Capture, at, guid

SAMPLE = Path(__file__).resolve().parents[2] / "resources" / "samples" / "sample.cab"

VPN, NOTES, PRINT = guid(101), guid(102), guid(103)
APPS = {VPN: "Contoso VPN Client", NOTES: "Contoso Notes", PRINT: "Contoso Print Helper"}
IME_MSI = "{" + guid(104).upper() + "}"
SIDECAR_URI = (
    "./Device/Vendor/MSFT/EnrollmentStatusTracking/Setup/Apps/Tracking/Sidecar/"
    "Win32App_{}_1/InstallationState"
)
FAILED_TEXT = "Apps (0x87d1041c)"


def _preparation(cap: Capture) -> None:
    cap.event("autopilot", 160, at(0))
    cap.event("autopilot", 164, at(0.1))
    cap.event(
        "autopilot",
        153,
        at(0.4),
        {"InitialState": "ProfileState_Unknown", "UpdateState": "ProfileState_Available"},
    )
    cap.event("autopilot", 161, at(0.5))
    cap.event("autopilot", 111, at(0.6))
    cap.event("dm_admin", 72, at(3), {"Enrollment": "MDMDeviceWithAAD"})
    cap.provider("Sidecar", 3)
    cap.msi(IME_MSI, 70, url="https://contoso.example/IntuneWindowsAgent.msi", sid=DEVICE_SID)
    ime_msi = {"ProductCode": IME_MSI, "SID": DEVICE_SID}
    cap.event("dm_admin", 1905, at(4), ime_msi)
    cap.event("dm_admin", 1906, at(5), ime_msi)
    cap.event("dm_admin", 1920, at(5.2), ime_msi)
    cap.event("dm_admin", 1922, at(6.5), ime_msi)
    cap.shell_core(
        at(7), "CommercialOOBE_ESPDevicePreparation_PolicyProvidersInstallation_Succeeded"
    )


def _device_setup(cap: Capture) -> None:
    cap.shell_core(at(8), "CommercialOOBE_ESPDeviceSetup_PoliciesInstallation_Started")
    cap.snapshots(
        "ExpectedPolicies",
        [(at(8.5), {"./Device/Vendor/MSFT/DMClient/Provider/MS DM Server/EntDMID": 1})],
    )
    cap.shell_core(at(9), "CommercialOOBE_ESPDeviceSetup_PoliciesInstallation_Succeeded")
    cap.shell_core(at(9.1), "CommercialOOBE_ESPDeviceSetup_CertificatesInstallation_Skipped")
    cap.shell_core(at(9.2), "CommercialOOBE_ESPDeviceSetup_NetworkProfilesInstallation_Skipped")
    cap.shell_core(at(9.5), "CommercialOOBE_ESPDeviceSetup_ApplicationsInstallation_Started")
    cap.tracking("Device", apps={NOTES: 3, PRINT: 3, VPN: 4})
    cap.snapshots(
        "Sidecar",
        [
            (at(10), {SIDECAR_URI.format(a): 1 for a in APPS}),
            (
                at(16),
                {
                    SIDECAR_URI.format(NOTES): 3,
                    SIDECAR_URI.format(PRINT): 2,
                    SIDECAR_URI.format(VPN): 1,
                },
            ),
            (
                at(22),
                {
                    SIDECAR_URI.format(NOTES): 3,
                    SIDECAR_URI.format(PRINT): 3,
                    SIDECAR_URI.format(VPN): 2,
                },
            ),
            (
                at(27),
                {
                    SIDECAR_URI.format(NOTES): 3,
                    SIDECAR_URI.format(PRINT): 3,
                    SIDECAR_URI.format(VPN): 4,
                },
            ),
        ],
    )
    cap.win32_app(NOTES, APPS[NOTES], enforcement=1000, detected=True, when=at(15.5))
    cap.win32_app(PRINT, APPS[PRINT], enforcement=1000, detected=True, when=at(21.5))
    cap.win32_app(VPN, APPS[VPN], enforcement=5000, error=0x87D1041C, detected=False, when=at(26.5))
    _ime_story(cap)
    cap.shell_core(
        at(27.2), "CommercialOOBE_ESPDeviceSetup_ApplicationsInstallation_Failed", 0x87D1041C
    )
    cap.shell_core(at(27.3), "CommercialOOBE_ESPProgress_Failure", 0x87D1041C)


def _ime_story(cap: Capture) -> None:
    cap.ime(at(9.6), "[Win32App] In EspPhase: DeviceSetup")
    cap.ime(at(9.7), "[Win32App][V3Processor] Processing 3 required apps tracked by the ESP.")
    start = {NOTES: 11, PRINT: 16.5, VPN: 22}
    for app, minute in start.items():
        name = APPS[app]
        cap.ime(
            at(minute),
            f"[Win32App][ExecutionManager] Launching install for app {app} "
            f"({name}) as SYSTEM: setup.exe /quiet /norestart",
        )
        cap.ime(
            at(minute + 4),
            f"[Win32App][ExecutionManager] Process for app {app} exited "
            f"with exit code 0 (success).",
        )
        detected = app != VPN
        cap.ime(
            at(minute + 4.3),
            f"[Win32App][DetectionActionHandler] Detection for app {app} ({name}): "
            f"file rule C:\\Program Files\\Contoso\\{name.split()[1]}, "
            f"applicationDetectedByCurrentRule: {detected}",
            type_=1 if detected else 3,
        )
        delta = (
            {"EnforcementState": {"NewValue": 1000, "OldValue": 2000}}
            if detected
            else {
                "EnforcementState": {"NewValue": 5000, "OldValue": 2000},
                "ErrorCode": {"NewValue": -2016345060, "OldValue": None},
            }
        )
        cap.ime(
            at(minute + 4.5),
            "[Win32App][ReportingManager] Execution state for app with id: "
            f"{app} has been updated. Report delta: {json.dumps(delta)}",
        )
        new = "Completed" if detected else "Error"
        cap.ime(
            at(minute + 4.6),
            f"[Win32App][EspManager] Updating ESP tracked install status from InProgress to "
            f"{new} for application {app}",
            type_=1 if detected else 3,
        )
    cap.ime(
        at(26.8),
        f"[Win32App] The app {APPS[VPN]} was installed but not detected after "
        "installation (0x87D1041C). Check the app's detection rule.",
        type_=3,
    )


def build() -> Capture:
    cap = Capture(device_name="CONTOSO-LT-0042")
    cap.autopilot("user_driven", profile="Contoso user-driven (Entra join)")
    cap.first_sync(timeout=60, block=0b011)
    cap.value(
        r"HKLM\SYSTEM\CurrentControlSet\Control\ComputerName\ComputerName",
        "ComputerName",
        "REG_SZ",
        "CONTOSO-LT-0042",
    )
    cap.value(
        r"HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion", "CurrentBuild", "REG_SZ", "26100"
    )
    cap.value(r"HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion", "UBR", "REG_DWORD", 3194)
    cap.record("DevicePreparation", "succeeded")
    cap.record("DeviceSetup", "failed", {"AppsSubcategory": ("failed", FAILED_TEXT)})
    cap.record("AccountSetup", "notStarted")
    _preparation(cap)
    _device_setup(cap)
    return cap


def main(argv: list[str]) -> int:
    out = Path(argv[0]) if argv else SAMPLE
    out.parent.mkdir(parents=True, exist_ok=True)
    data = build().cab_bytes("mszip")
    out.write_bytes(data)
    print(f"wrote {out} ({len(data)} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

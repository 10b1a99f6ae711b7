"""Scenario captures for the fleet features: a device-setup story with knobs for each diff.

Every identifier is invented (``tests.builders.capture`` conventions).
"""

from __future__ import annotations

from pathlib import Path

from tests.builders.capture import Capture, at, guid

COMPUTER_NAME = r"HKLM\SYSTEM\CurrentControlSet\Control\ComputerName\ComputerName"
BIOS = r"HKLM\HARDWARE\DESCRIPTION\System\BIOS"
DEVICE_NAME = "CONTOSO-LT-0042"
SERIAL = "SN7XK2Q9Z4"


def story(
    *,
    apps_failed: bool = True,
    extra_app: bool = False,
    timeout: int = 60,
    name: str = DEVICE_NAME,
    serial: str = SERIAL,
) -> Capture:
    """A user-driven deployment: Apps fails on a Win32 app (0x87D1041C) unless fixed."""
    cap = Capture().autopilot("user_driven").first_sync(timeout=timeout)
    cap.key(COMPUTER_NAME, ComputerName=("REG_SZ", name))
    cap.key(BIOS, SystemSerialNumber=("REG_SZ", serial))
    cap.record("DevicePreparation", "succeeded")
    if apps_failed:
        cap.record("DeviceSetup", "failed", {"AppsSubcategory": ("failed", "Apps (0x87d1041c)")})
        cap.record("AccountSetup", "notStarted")
        cap.win32_app(guid(11), "Contoso VPN", enforcement=5000, error=0x87D1041C,
                      detected=False, when=at(31))
    else:
        cap.record_all_succeeded("DeviceSetup", "AccountSetup")
        cap.win32_app(guid(11), "Contoso VPN", enforcement=1000, detected=True, when=at(31))
    cap.tracking("Device", apps={guid(11): 4 if apps_failed else 3,
                                 **({guid(12): 3} if extra_app else {})})
    if extra_app:
        cap.win32_app(guid(12), "Contoso Notes", enforcement=1000, detected=True, when=at(25))
    return cap


def write(cap: Capture, folder: Path, name: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return cap.write_cab(folder / f"{name}.cab")

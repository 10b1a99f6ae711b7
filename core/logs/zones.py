"""Windows time-zone names → ``tzinfo``, for reading the bias-less times of Intune logs.

The diagnostics page data (``DiagnosticsFrameworkData.json``) and the registry name the
device's zone the Windows way (``"W. Europe Standard Time"``). ``zoneinfo`` knows IANA names,
so a table maps the common Windows names (CLDR's windowsZones "001" territory). Where the
platform has no zone database (Windows without the ``tzdata`` package) the lookup returns
``None`` and the caller falls back to treating times as UTC.

During OOBE Windows runs on its default zone, Pacific, until Autopilot or the user sets the
real one; log writers started before that keep writing Pacific times. :func:`autopilot_zones`
gives the candidate list for :func:`core.logs.cmtrace.read_cmtrace`'s ``zones``.
"""

from __future__ import annotations

import logging
import re
from datetime import timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

log = logging.getLogger(__name__)

OOBE_DEFAULT_ZONE = "Pacific Standard Time"

WINDOWS_TO_IANA: dict[str, str] = {
    "Dateline Standard Time": "Etc/GMT+12",
    "Hawaiian Standard Time": "Pacific/Honolulu",
    "Alaskan Standard Time": "America/Anchorage",
    "Pacific Standard Time": "America/Los_Angeles",
    "US Mountain Standard Time": "America/Phoenix",
    "Mountain Standard Time": "America/Denver",
    "Central Standard Time": "America/Chicago",
    "Central America Standard Time": "America/Guatemala",
    "Canada Central Standard Time": "America/Regina",
    "Central Standard Time (Mexico)": "America/Mexico_City",
    "Eastern Standard Time": "America/New_York",
    "US Eastern Standard Time": "America/Indianapolis",
    "SA Pacific Standard Time": "America/Bogota",
    "Atlantic Standard Time": "America/Halifax",
    "Newfoundland Standard Time": "America/St_Johns",
    "E. South America Standard Time": "America/Sao_Paulo",
    "Argentina Standard Time": "America/Buenos_Aires",
    "UTC": "Etc/UTC",
    "GMT Standard Time": "Europe/London",
    "Greenwich Standard Time": "Atlantic/Reykjavik",
    "W. Europe Standard Time": "Europe/Berlin",
    "Central Europe Standard Time": "Europe/Budapest",
    "Romance Standard Time": "Europe/Paris",
    "Central European Standard Time": "Europe/Warsaw",
    "W. Central Africa Standard Time": "Africa/Lagos",
    "GTB Standard Time": "Europe/Bucharest",
    "FLE Standard Time": "Europe/Kiev",
    "E. Europe Standard Time": "Europe/Chisinau",
    "Egypt Standard Time": "Africa/Cairo",
    "South Africa Standard Time": "Africa/Johannesburg",
    "Israel Standard Time": "Asia/Jerusalem",
    "Turkey Standard Time": "Europe/Istanbul",
    "Arab Standard Time": "Asia/Riyadh",
    "Russian Standard Time": "Europe/Moscow",
    "E. Africa Standard Time": "Africa/Nairobi",
    "Arabian Standard Time": "Asia/Dubai",
    "Pakistan Standard Time": "Asia/Karachi",
    "India Standard Time": "Asia/Calcutta",
    "Bangladesh Standard Time": "Asia/Dhaka",
    "SE Asia Standard Time": "Asia/Bangkok",
    "China Standard Time": "Asia/Shanghai",
    "Singapore Standard Time": "Asia/Singapore",
    "Taipei Standard Time": "Asia/Taipei",
    "W. Australia Standard Time": "Australia/Perth",
    "Tokyo Standard Time": "Asia/Tokyo",
    "Korea Standard Time": "Asia/Seoul",
    "Cen. Australia Standard Time": "Australia/Adelaide",
    "AUS Central Standard Time": "Australia/Darwin",
    "E. Australia Standard Time": "Australia/Brisbane",
    "AUS Eastern Standard Time": "Australia/Sydney",
    "Tasmania Standard Time": "Australia/Hobart",
    "New Zealand Standard Time": "Pacific/Auckland",
}


def windows_zone(name: str | None) -> tzinfo | None:
    """The ``tzinfo`` for a Windows zone name, or ``None`` when unknown or unavailable."""
    if not name:
        return None
    iana = WINDOWS_TO_IANA.get(name.strip())
    if iana is None:
        log.info("unknown Windows time zone %r", name)
        return None
    try:
        return ZoneInfo(iana)
    except (ZoneInfoNotFoundError, ValueError):
        log.info("no zone database entry for %s (%s)", name, iana)
        return None


_OFFSET = re.compile(r"^UTC([+-])(\d{2}):(\d{2})$")


def zone_of(name: str | None) -> tzinfo | None:
    """``tzinfo`` for a Windows zone name, an IANA name or a fixed ``UTC±hh:mm`` offset."""
    if not name:
        return None
    fixed = _OFFSET.match(name.strip())
    if fixed:
        minutes = int(fixed.group(2)) * 60 + int(fixed.group(3))
        return timezone(timedelta(minutes=minutes if fixed.group(1) == "+" else -minutes))
    if name.strip() in WINDOWS_TO_IANA:
        return windows_zone(name)
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError):
        log.info("unknown time zone %r", name)
        return None


def autopilot_zones(device_zone: str | None) -> list[tzinfo]:
    """Candidate zones for a device's logs: the OOBE default first, then the device's own."""
    zones: list[tzinfo] = []
    for name in (OOBE_DEFAULT_ZONE, device_zone):
        zone = windows_zone(name)
        if zone is not None and all(str(zone) != str(z) for z in zones):
            zones.append(zone)
    return zones

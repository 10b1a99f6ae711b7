"""How times are shown: UTC or device-local, switchable at run time (View › Time zone)."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo

from PySide6.QtCore import QObject, Signal


class TimeDisplay(QObject):
    """Formats tz-aware datetimes in the chosen zone; ``changed`` fires when the zone changes.

    Device-local uses the device's offset when the evidence tells it
    (:meth:`set_device_zone`), else this computer's own zone — the label says which.
    """

    changed = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._utc = True
        self._device_tz: tzinfo | None = None
        self._device_name: str | None = None

    @property
    def utc(self) -> bool:
        return self._utc

    def set_utc(self, utc: bool) -> None:
        if utc != self._utc:
            self._utc = utc
            self.changed.emit()

    def set_device_zone(self, zone: tzinfo | None, name: str | None = None) -> None:
        """The device's zone as the report names it (``None``: this computer's own)."""
        self._device_tz = zone
        self._device_name = name if zone is not None else None
        if not self._utc:
            self.changed.emit()

    @property
    def label(self) -> str:
        if self._utc:
            return "UTC"
        if self._device_tz is not None:
            offset = datetime.now(self._device_tz).strftime("UTC%z")
            return f"device local, {self._device_name} {offset}" if self._device_name else \
                f"device local, {offset}"
        return "local (this PC)"

    @property
    def zone(self) -> tzinfo:
        """The zone times are shown in (for axes that must fall on round local times)."""
        if self._utc:
            return UTC
        return self._device_tz or datetime.now().astimezone().tzinfo or UTC

    def fmt(self, value: datetime | None) -> str:
        if value is None:
            return ""
        if self._utc:
            shown = value.astimezone(UTC) if value.tzinfo else value
        else:
            shown = value.astimezone(self._device_tz)  # None → this computer's zone
        # Milliseconds always: rows a few ms apart (a retry, an event and its registry write)
        # must not look simultaneous, and a fixed width keeps the column aligned.
        return shown.strftime("%Y-%m-%d %H:%M:%S") + f".{shown.microsecond // 1000:03d}"


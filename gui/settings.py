"""Settings (recent files, time zone, window geometry) via ``QSettings``.

Started from Shift+F10 during OOBE there is no usable user profile: the app then keeps its
settings in an INI file in the temp folder instead (and never fails because of settings).
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings

log = logging.getLogger(__name__)

ORG = "ESPView"
APP = "ESPView"
MAX_RECENT = 8


def has_user_profile(home: Path | None = None) -> bool:
    """True when the user's home folder exists, is writable and is not the OOBE system profile."""
    try:
        home = home if home is not None else Path.home()
    except (RuntimeError, KeyError):  # no HOME / USERPROFILE at all
        return False
    text = str(home).casefold()
    if sys.platform == "win32" and ("systemprofile" in text or "defaultuser0" in text):
        return False
    return home.is_dir() and os.access(home, os.W_OK)


def fallback_ini() -> Path:
    return Path(tempfile.gettempdir()) / "ESPView" / "espview.ini"


def make_settings(home: Path | None = None) -> QSettings:
    """Native settings when there is a profile, else an INI file in temp."""
    if has_user_profile(home):
        settings = QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORG, APP)
        if settings.isWritable():
            return settings
        log.info("settings at %s are not writable; using temp", settings.fileName())
    path = fallback_ini()
    return QSettings(str(path), QSettings.Format.IniFormat)


class RecentFiles:
    """Most-recent-first list of opened paths, kept in settings."""

    KEY = "recent/files"

    def __init__(self, settings: QSettings) -> None:
        self._settings = settings

    def paths(self) -> list[str]:
        value: Any = self._settings.value(self.KEY, [])
        if isinstance(value, str):  # a one-element list comes back as a plain string
            value = [value] if value else []
        return [str(v) for v in value or []][:MAX_RECENT]

    def add(self, path: str) -> None:
        folded = os.path.normcase(path)
        rest = [p for p in self.paths() if os.path.normcase(p) != folded]
        self._settings.setValue(self.KEY, [path, *rest][:MAX_RECENT])
        self._settings.sync()

    def clear(self) -> None:
        self._settings.remove(self.KEY)
        self._settings.sync()

"""Where ESPView reads its resources and writes its cache, frozen or not.

The only place ESPView ever writes (besides a folder the user names for an export) is the
per-user cache folder. When there is no usable profile — ESPView started with Shift+F10
during OOBE, or ``HOME`` not writable — the cache falls back to the temp folder.
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
from functools import cache
from pathlib import Path

log = logging.getLogger(__name__)

APP_NAME = "ESPView"


def resource_path(*parts: str) -> Path:
    """Path of a file under ``resources/``, the same way frozen (PyInstaller) and unfrozen.

    Frozen: the bundle's ``resources/``. From a checkout (or an editable install): the
    ``resources/`` beside ``core/``. From a wheel: ``<prefix>/share/espview/resources``.
    """
    frozen_root = getattr(sys, "_MEIPASS", None)
    if frozen_root is not None:
        return Path(frozen_root).joinpath("resources", *parts)
    beside = Path(__file__).resolve().parent.parent / "resources"
    if not beside.is_dir():
        installed = Path(sys.prefix) / "share" / "espview" / "resources"
        if installed.is_dir():
            return installed.joinpath(*parts)
    return beside.joinpath(*parts)


def _writable_dir(path: Path) -> bool:
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = tempfile.NamedTemporaryFile(dir=path, prefix=".probe-", delete=True)  # noqa: SIM115 - closed at once
        probe.close()
    except OSError:
        return False
    return True


@cache
def cache_dir() -> Path:
    """The per-user cache folder (``ESPVIEW_CACHE_DIR`` overrides), created on first use."""
    override = os.environ.get("ESPVIEW_CACHE_DIR")
    candidates: list[Path] = []
    if override:
        candidates.append(Path(override))
    else:
        try:
            import platformdirs  # noqa: PLC0415 - optional at import time for tooling

            candidates.append(Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False)))
        except Exception:  # any failure here just means "use temp"
            log.debug("platformdirs could not name a cache dir", exc_info=True)
    candidates.append(Path(tempfile.gettempdir()) / f"{APP_NAME}-cache-{_user_tag()}")
    for candidate in candidates:
        if _writable_dir(candidate):
            return candidate
    # Last resort: a private temp dir for this process only.
    return Path(tempfile.mkdtemp(prefix=f"{APP_NAME}-"))


def _user_tag() -> str:
    try:
        return str(os.getuid())  # type: ignore[attr-defined,unused-ignore]  # POSIX only
    except AttributeError:
        return os.environ.get("USERNAME", "user")

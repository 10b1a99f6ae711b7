"""Where ESPView reads its resources and writes its cache, frozen or not.

The only place ESPView ever writes (besides a folder the user names for an export) is the
per-user cache folder. When there is no usable profile — ESPView started with Shift+F10
during OOBE, or ``HOME`` not writable — the cache falls back to the temp folder.
"""

from __future__ import annotations

import contextlib
import logging
import os
import stat
import sys
import tempfile
from pathlib import Path

from core.config import Settings, resolve

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


class UnsafeCacheDir(OSError):
    """A cache candidate exists but is not this user's private folder: refused, never used."""


def _private_dir(path: Path) -> None:
    """Make ``path`` this user's private folder (0700), or raise :class:`OSError`.

    A folder somebody else owns, a link, or one that group or others may write to is refused:
    another local user could have planted a "complete" extraction in it (a world-writable
    ``ESPView-cache-<uid>`` pre-created in the shared temp folder). A folder of ours that others
    may only *read* is tightened to 0700 (nobody else could have written into it).
    """
    with contextlib.suppress(FileExistsError):
        path.mkdir(mode=0o700, parents=True)
    info = os.lstat(path)
    if stat.S_ISLNK(info.st_mode) or not stat.S_ISDIR(info.st_mode):
        raise UnsafeCacheDir(f"{path} is not a folder (a link or a file)")
    if os.name == "nt":  # per-user profile and temp folders; ACLs, not modes, guard them
        return
    if info.st_uid != os.getuid():  # type: ignore[attr-defined,unused-ignore]  # POSIX only
        raise UnsafeCacheDir(f"{path} belongs to another user (uid {info.st_uid})")
    if info.st_mode & 0o022:
        mode = info.st_mode & 0o777
        raise UnsafeCacheDir(f"{path} may be written by other users (mode {mode:o})")
    if info.st_mode & 0o077:
        os.chmod(path, 0o700)


def _usable_dir(path: Path) -> bool:
    try:
        _private_dir(path)
        probe = tempfile.NamedTemporaryFile(dir=path, prefix=".probe-", delete=True)  # noqa: SIM115 - closed at once
        probe.close()
    except UnsafeCacheDir as exc:
        log.warning("cache folder refused: %s", exc)
        return False
    except OSError:
        return False
    return True


_chosen: dict[tuple[Path | None, str], Path] = {}


def cache_dir(settings: Settings | None = None) -> Path:
    """The per-user cache folder (``settings.cache_dir`` overrides), created on first use.

    The folder is this user's and private (0700); a candidate that is not is refused and the
    next one tried: the platform's user cache folder, then ``ESPView-cache-<user>`` in the
    temp folder, then a fresh private temp folder for this process.
    """
    settings = resolve(settings)
    memo = (settings.cache_dir, tempfile.gettempdir())
    if memo in _chosen:
        return _chosen[memo]
    candidates: list[Path] = []
    if settings.cache_dir is not None:
        candidates.append(Path(settings.cache_dir).absolute())
    else:
        try:
            import platformdirs  # noqa: PLC0415 - optional at import time for tooling

            candidates.append(Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False)))
        except Exception:  # any failure here just means "use temp"
            log.debug("platformdirs could not name a cache dir", exc_info=True)
    candidates.append(Path(tempfile.gettempdir()) / f"{APP_NAME}-cache-{_user_tag(settings)}")
    for candidate in candidates:
        if _usable_dir(candidate):
            _chosen[memo] = candidate
            return candidate
    # Last resort: a private temp dir for this process only (mkdtemp makes it 0700).
    chosen = Path(tempfile.mkdtemp(prefix=f"{APP_NAME}-"))
    _chosen[memo] = chosen
    return chosen


def _user_tag(settings: Settings) -> str:
    try:
        return str(os.getuid())  # type: ignore[attr-defined,unused-ignore]  # POSIX only
    except AttributeError:
        return settings.user_name

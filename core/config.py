"""Run-time settings: read once at the edge, then passed down as one typed object.

Only the program's edges read the environment: :func:`core.cli.main` (which also starts the
GUI) calls :meth:`Settings.from_environ` with ``os.environ`` and hands the result down. Nothing
else in ``core`` reads an environment variable, so a module's behaviour depends only on its
arguments (``tests/test_config_edge.py`` enforces that).

Functions deep in ``core`` take ``settings: Settings | None``; ``None`` means "the settings the
edge installed with :func:`use`" (:func:`current`), and :class:`Settings` defaults when no edge
ran (a library caller, a test).

The environment variables (documented in README.md):

``ESPVIEW_CACHE_DIR``
    Where the cache lives (default: the per-user cache folder, else the temp folder).
``ESPVIEW_CAB_BACKEND``
    ``python``, ``native`` or ``auto`` (default): who extracts cabs.
``ESPVIEW_WORKERS``
    Number of event-log worker processes (default: chosen from the CPU count).
``ESPVIEW_VALIDATE_REPORTS``
    ``1``: every JSON report is checked against its schema (the test suite sets it).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

CAB_BACKENDS = ("python", "native", "auto")


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the environment can change. Frozen: one value for the whole run."""

    cache_dir: Path | None = None
    cab_backend: str = "auto"
    workers: int | None = None
    validate_reports: bool = False
    #: Windows folders named by environment variables (live mode, the native extractor).
    system_root: str = r"C:\Windows"
    program_data: str = r"C:\ProgramData"
    #: Names the temp-folder cache when the platform has no numeric user id (Windows).
    user_name: str = "user"

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Settings:
        """The settings ``environ`` asks for; unknown or malformed values keep the default
        (a bad cab backend is kept so the first extraction names it in its error)."""
        cache = environ.get("ESPVIEW_CACHE_DIR", "").strip()
        workers = environ.get("ESPVIEW_WORKERS", "").strip()
        default = cls()
        return cls(
            cache_dir=Path(cache) if cache else None,
            cab_backend=(environ.get("ESPVIEW_CAB_BACKEND") or "auto").strip().lower(),
            workers=int(workers) if workers.isdigit() and int(workers) > 0 else None,
            validate_reports=environ.get("ESPVIEW_VALIDATE_REPORTS", "") == "1",
            system_root=environ.get("SYSTEMROOT") or default.system_root,
            program_data=environ.get("PROGRAMDATA") or default.program_data,
            user_name=environ.get("USERNAME") or default.user_name,
        )

    def windows_folder(self, text: str) -> str:
        """``text`` with ``%ProgramData%``, ``%WINDIR%`` and ``%SystemRoot%`` filled in."""
        for var, value in (
            ("%programdata%", self.program_data),
            ("%windir%", self.system_root),
            ("%systemroot%", self.system_root),
        ):
            at = text.lower().find(var)
            while at >= 0:
                text = text[:at] + value + text[at + len(var) :]
                at = text.lower().find(var, at + len(value))
        return text


_active = Settings()


def use(settings: Settings) -> None:
    """Install ``settings`` for this process (the edge calls this once, at start-up)."""
    global _active  # noqa: PLW0603 - the one process-wide slot, set by the edge only
    _active = settings


@contextmanager
def using(settings: Settings) -> Iterator[Settings]:
    """Install ``settings`` for the duration of a ``with`` block (then the previous ones)."""
    previous = _active
    use(settings)
    try:
        yield settings
    finally:
        use(previous)


def current() -> Settings:
    """The settings the edge installed (defaults when none did)."""
    return _active


def resolve(settings: Settings | None) -> Settings:
    """``settings``, or :func:`current` when ``None``."""
    return settings if settings is not None else _active

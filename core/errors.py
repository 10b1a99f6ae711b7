"""The one exception root of ``core``.

Problems that still leave something to show are *data* (:class:`core.problems.Problem`);
these exceptions are only for the cases where nothing can be shown at all.
"""

from __future__ import annotations


class EspViewError(Exception):
    """Base of every error ``core`` raises on purpose. ``str(exc)`` is a one-line message."""


class UnsupportedInput(EspViewError):
    """The path is not something ESPView can read (missing, wrong kind, unreadable)."""


class CorruptInput(EspViewError):
    """The input is of a supported kind but too damaged to read anything from it."""


class LimitExceeded(CorruptInput):
    """A safety cap (size, count, ratio, depth) was hit; the message names the cap."""


class Cancelled(EspViewError):
    """The caller asked to stop (see :class:`core.progress.CancelToken`)."""

"""Keeping Python's cyclic garbage collector out of the way while evidence loads.

Loading builds a few hundred thousand small, acyclic objects (registry values, events, log
lines). With the collector on, every growth of a quarter triggers a full collection that
rescans all of them, each in one stretch that holds the GIL: in the desktop app that is
100-200 ms during which the window cannot repaint, and a quarter of a dump's parse time.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def gc_paused(*, freeze: bool = False) -> Iterator[None]:
    """Pause the collector for the ``with`` block (nesting is fine).

    ``freeze=True`` also moves every object alive at the end into the collector's permanent
    generation, so the loaded evidence is never rescanned afterwards — otherwise the first
    collection after re-enabling would scan it all at once, on whatever thread comes next
    (in the app: the GUI thread). Garbage cycles made while paused are frozen too; loaders
    make almost none.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if freeze:
            gc.freeze()
        if enabled:
            gc.enable()

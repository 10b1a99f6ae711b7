"""ESPView desktop app (PySide6): shows an :class:`core.esp.model.EspReport`, parses nothing."""

import sys

if sys.version_info < (3, 12) and sys.implementation.name == "cpython":
    # PySide6 6.12 on CPython 3.11 returns None from every void call (widget.update(),
    # app.processEvents(), ...) and from "no data" QModelIndex.data() without taking a
    # reference, so None's refcount falls by one per call until CPython aborts with
    # "none_dealloc" — within seconds in an idle window. CPython 3.12 made None immortal;
    # here we do the same by hand: raise None's refcount far beyond reach (it is never
    # freed anyway). Measured: ~700,000 lost references per second of event loop.
    import ctypes

    ctypes.c_ssize_t.from_address(id(None)).value += 1 << 60

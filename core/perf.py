"""Keeping Python's cyclic garbage collector out of the way while evidence loads, and making
the objects evidence is made of cheaply (:func:`lean_init`, :func:`draft_of`).

Loading builds a few hundred thousand small, acyclic objects (registry values, events, log
lines). With the collector on, every growth of a quarter triggers a full collection that
rescans all of them, each in one stretch that holds the GIL: in the desktop app that is
100-200 ms during which the window cannot repaint, and a quarter of a dump's parse time.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
from collections.abc import Callable, Iterator
from typing import Any, TypeVar


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


_T = TypeVar("_T")


def lean_init(cls: type[_T]) -> type[_T]:
    """Give a frozen, slotted dataclass an ``__init__`` that stores through the slots' own
    descriptors. Put it above ``@dataclass(frozen=True, slots=True)``.

    The generated frozen ``__init__`` looks up ``object.__setattr__`` for every field of every
    instance; a big capture makes over 100,000 log lines, values, events and timeline entries,
    and that look-up was about half the cost of making each one. Nothing else changes: the
    signature (names, order, defaults), immutability, equality, hashing and pickling are the
    dataclass's own. Classes with ``__post_init__``, factories, keyword-only or init-less
    fields keep their generated ``__init__`` (refused here, so a later field change cannot
    silently break this).
    """
    if not (dataclasses.is_dataclass(cls) and "__slots__" in cls.__dict__):
        raise TypeError(f"{cls.__name__}: lean_init needs a slotted dataclass")
    params = getattr(cls, "__dataclass_params__", None)
    if params is None or not params.frozen or hasattr(cls, "__post_init__"):
        raise TypeError(f"{cls.__name__}: lean_init needs a frozen one without __post_init__")
    names: dict[str, Any] = {}
    args: list[str] = []
    body: list[str] = []
    for f in dataclasses.fields(cls):
        if not f.init or f.kw_only or f.default_factory is not dataclasses.MISSING:
            raise TypeError(f"{cls.__name__}.{f.name}: lean_init supports plain fields only")
        names[f"_set_{f.name}"] = cls.__dict__[f.name].__set__
        if f.default is dataclasses.MISSING:
            args.append(f.name)
        else:
            names[f"_default_{f.name}"] = f.default
            args.append(f"{f.name}=_default_{f.name}")
        body.append(f"    _set_{f.name}(self, {f.name})\n")
    source = f"def __init__(self, {', '.join(args)}):\n{''.join(body) or '    pass'}\n"
    exec(source, names)  # the text is made of the class's own field names
    init = names["__init__"]
    init.__annotations__ = {f.name: f.type for f in dataclasses.fields(cls)} | {"return": None}
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__module__ = cls.__module__
    cls.__init__ = init  # type: ignore[method-assign]
    return cls


def draft_of(cls: type[_T]) -> Callable[..., Any]:
    """A writable twin of a frozen, slotted dataclass, for the hot loops that make its
    instances by the ten thousand (log lines, event records and their XML renderers, timeline
    entries): ``made = draft(*values); made.__class__ = cls``.

    Even with :func:`lean_init`, a frozen instance is filled by one descriptor call per field;
    the twin's ``__init__`` stores with plain attribute writes, about twice as fast overall.
    Assigning ``__class__`` (which Python allows between classes of the same slots layout)
    then makes the object a real ``cls``: equal, hashable, immutable and picklable like any
    other. The twin takes every field positionally, in order. Its layout is proven here,
    once, by turning a trial instance; a class it cannot mirror is refused.
    """
    if not (dataclasses.is_dataclass(cls) and "__slots__" in cls.__dict__):
        raise TypeError(f"{cls.__name__}: draft_of needs a slotted dataclass")
    fields = [f.name for f in dataclasses.fields(cls)]
    if list(cls.__dict__["__slots__"]) != fields:
        raise TypeError(f"{cls.__name__}: draft_of needs exactly one slot per field")
    body = "".join(f"    self.{name} = {name}\n" for name in fields) or "    pass\n"
    names: dict[str, Any] = {}
    exec(f"def __init__(self, {', '.join(fields)}):\n{body}", names)  # the class's own names
    twin = type(f"{cls.__name__}Draft", (), {"__slots__": tuple(fields),
                                             "__init__": names["__init__"],
                                             "__module__": cls.__module__})
    trial = twin(*([None] * len(fields)))
    try:
        trial.__class__ = cls
    except TypeError as exc:
        raise TypeError(f"{cls.__name__}: draft_of cannot mirror its layout ({exc})") from exc
    return twin

"""An in-memory registry: what the text backends build, and what analysis tests use."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime

from core.problems import Problem
from core.registry.model import RegistryView, RegKey, RegValue, ValueData, normalize_path

#: Makes the value a parser noted by a number (a line of its file) when the key is read.
ValueReader = Callable[[int], RegValue]

# What a key holds until its first subkey or value: shared, never written to (a dump's
# thousands of keys would otherwise each keep two empty dicts; about half are leaves and
# most keep their values pending).
_NO_CHILDREN: dict[str, MemoryKey] = {}
_NO_VALUES: dict[str, RegValue] = {}


class MemoryKey(RegKey):
    """A key held in memory. Children are kept in insertion order, looked up case-insensitively.

    Values live in one dict, case-folded name → value: a later value of the same name takes
    the earlier one's place, which is exactly regedit's "last one wins, order of first".
    A text dump holds tens of thousands of values and analysis reads a few dozen keys, so the
    dump parser may note a value by its line number (:meth:`pending`); such a value becomes a
    :class:`RegValue` the first time anything reads this key's values.
    """

    __slots__ = (
        "_children",
        "_last_write",
        "_name",
        "_origin",
        "_path",
        "_pending",
        "_reader",
        "_values",
    )

    def __init__(
        self,
        path: str,
        origin: str = "",
        last_write: datetime | None = None,
        *,
        parent: MemoryKey | None = None,
    ) -> None:
        """A key at full ``path``; or, with ``parent``, the key named ``path`` under it.

        The full path is joined here, not kept as a reference to the parent: a key that
        pointed at its parent would make every tree a web of reference cycles, freed only by
        the cyclic collector — a batch worker's memory then grew with every capture."""
        self._path: str = path if parent is None else f"{parent._path}\\{path}"
        self._name = path
        self._origin = origin
        self._last_write = last_write
        self._children = _NO_CHILDREN
        self._values = _NO_VALUES
        # Values noted but not made yet, and what makes them (kept apart, not as a pair: a
        # dump's thousands of keys would each hold one more object).
        self._pending: list[int | RegValue] | None = None
        self._reader: ValueReader | None = None

    @property
    def path(self) -> str:
        return self._path

    @property
    def name(self) -> str:
        # What RegKey.name reads from the full path, without joining it.
        return self._name.rpartition("\\")[2]

    @property
    def last_write(self) -> datetime | None:
        return self._last_write

    @property
    def origin(self) -> str:
        return self._origin

    def subkeys(self) -> list[RegKey]:
        return list(self._children.values())

    def values(self) -> list[RegValue]:
        if self._pending is not None:
            self._settle()
        return list(self._values.values())

    def subkey(self, name: str) -> MemoryKey | None:
        return self._children.get(name.casefold())

    def value(self, name: str) -> RegValue | None:
        if self._pending is not None:
            self._settle()
        return self._values.get(name.casefold())

    # -- building -------------------------------------------------------------------------

    def child(self, name: str, origin: str = "") -> MemoryKey:
        """Return the direct subkey ``name``, creating it if needed."""
        folded = name.casefold()
        existing = self._children.get(folded)
        if existing is None:
            existing = MemoryKey(name, origin, parent=self)
            self._own_children()[folded] = existing
        elif origin and not existing._origin:
            existing._origin = origin
        return existing

    def opened(self, name: str, origin: str) -> MemoryKey:
        """The direct subkey ``name`` (created if needed) as a header at ``origin`` opens it:
        a key opened again takes the later header's origin."""
        folded = name.casefold()
        children = self._children
        key = children.get(folded)
        if key is None:
            if children is _NO_CHILDREN:
                children = self._children = {}
            key = children[folded] = MemoryKey(name, origin, parent=self)
        else:
            key._origin = origin
        return key

    def _own_children(self) -> dict[str, MemoryKey]:
        if self._children is _NO_CHILDREN:
            self._children = {}
        return self._children

    def set_origin(self, origin: str, last_write: datetime | None = None) -> None:
        self._origin = origin
        if last_write is not None:
            self._last_write = last_write

    def add_value(self, value: RegValue) -> None:
        """Add a value; a later value of the same name replaces the earlier (as regedit does)."""
        if self._pending is not None:
            self._settle()
        if self._values is _NO_VALUES:
            self._values = {}
        self._values[value.name.casefold()] = value

    def pending(self, reader: ValueReader) -> list[int | RegValue]:
        """The list a parser appends this key's values to, in source order, while it builds
        the view: a value, or a number ``reader`` turns into the value when the key is first
        read. Nothing may read the key until the parser is done with the list."""
        pending = self._pending
        if pending is not None and self._reader is reader:
            return pending
        if pending is not None:
            self._settle()
        self._reader = reader
        pending = self._pending = []
        return pending

    def _settle(self) -> None:
        items = self._pending
        reader = self._reader
        if items is None or reader is None:
            return
        # Built aside and swapped in, and the pending list dropped only after: a second
        # thread reading meanwhile builds the same values itself instead of seeing half.
        # (The reader stays: only a parser building the view ever replaces it.)
        values = dict(self._values)
        for item in items:
            value = item if isinstance(item, RegValue) else reader(item)
            values[value.name.casefold()] = value
        self._values = values
        self._pending = None


class MemoryView(RegistryView):
    """A whole registry in memory."""

    def __init__(self, kind: str = "memory", problems: Iterable[Problem] = ()) -> None:
        self.kind = kind
        self._roots: dict[str, MemoryKey] = {}
        self._problems = list(problems)

    @property
    def problems(self) -> list[Problem]:
        return self._problems

    def add_problem(self, problem: Problem) -> None:
        self._problems.append(problem)

    def roots(self) -> list[RegKey]:
        return list(self._roots.values())

    def key(self, path: str) -> MemoryKey | None:
        parts = normalize_path(path).split("\\")
        node = self._roots.get(parts[0].casefold())
        for part in parts[1:]:
            if node is None:
                return None
            node = node.subkey(part)
        return node

    def ensure_key(self, path: str, origin: str = "") -> MemoryKey:
        """Return the key at ``path``, creating it and any missing parents."""
        parts = normalize_path(path).split("\\")
        root = self._roots.get(parts[0].casefold())
        if root is None:
            root = MemoryKey(parts[0])
            self._roots[parts[0].casefold()] = root
        node = root
        for part in parts[1:]:
            node = node.child(part)
        if origin:
            node.set_origin(origin)
        return node

    @classmethod
    def from_dict(
        cls,
        keys: Mapping[str, Mapping[str, tuple[str, ValueData]]],
        origin: str = "memory",
    ) -> MemoryView:
        """Build a view from ``{key path: {value name: (type, data)}}`` (tests, fakes)."""
        view = cls()
        for path, values in keys.items():
            key = view.ensure_key(path, origin)
            for name, (type_, data) in values.items():
                key.add_value(RegValue(name, type_, data, origin))
        return view

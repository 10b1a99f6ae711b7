"""Qt models over report and evidence objects.

One model class per view, filled once (``beginResetModel``/``endResetModel``), the domain
object behind :data:`OBJECT_ROLE` so views never parse display strings, a sortable key behind
:data:`SORT_ROLE` (times sort as times, numbers as numbers). Sorting and filtering happen in
proxies (:mod:`gui.proxies`), never here.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from operator import itemgetter
from typing import Any, cast

from PySide6.QtCore import (
    QAbstractItemModel,
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)

from core.esp.model import EspReport, Item, Phase, RegistryRef, Status, Step
from core.registry.model import RegKey, ValueData
from core.report.common import STATUS_LABELS, hresult_short, status_words
from gui.fonts import derived
from gui.icons import severity_icon, status_icon
from gui.plain import tooltip
from gui.timefmt import TimeDisplay

OBJECT_ROLE = Qt.ItemDataRole.UserRole + 1
SORT_ROLE = Qt.ItemDataRole.UserRole + 2

AnyIndex = QModelIndex | QPersistentModelIndex
_ROOT = QModelIndex()

STATUS_WORDS = STATUS_LABELS  # one vocabulary: the words every report uses (core)


def cell(index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
    """``index.data(role)`` without the PySide refcount bug on "no data" (see ``gui``):
    invalid indexes never reach Qt; valid ones go to the model's own ``data``."""
    while index.isValid() and isinstance(index.model(), QSortFilterProxyModel):
        index = index.model().mapToSource(index)
    if not index.isValid():
        return None
    return index.model().data(index, role)


def status_text(status: str, text: str | None) -> str:
    """What the ESP would print for a step: its own text when known, else the status word."""
    return text or STATUS_WORDS.get(status, status)


def short_status_text(title: str, status: str, text: str | None) -> str:
    """The status column of the composite view: the ESP's text without the step title
    (:func:`core.report.common.status_words`, one wording for every view)."""
    if status not in STATUS_WORDS:
        return status_text(status, text)
    return status_words(title, cast(Status, status), text)


def format_data(data: ValueData, limit: int = 200) -> str:
    """Registry value data as regedit shows it (DWORDs in hex and decimal, bytes in hex)."""
    if data is None:
        return "(no data)"
    if isinstance(data, bool):
        return str(data)
    if isinstance(data, int):
        return f"0x{data:08X} ({data})" if data >= 0 else str(data)
    if isinstance(data, bytes):
        text = data[: limit // 3 + 1].hex(" ")
        return text + (" …" if len(data) > limit // 3 + 1 else "")
    if isinstance(data, list):
        return " ; ".join(data)
    return data if len(data) <= limit else data[:limit] + " …"


def full_data(data: ValueData) -> str:
    """Value data for the clipboard: complete, multi-strings one per line."""
    if isinstance(data, bytes):
        return data.hex(" ")
    if isinstance(data, list):
        return "\n".join(data)
    return format_data(data, limit=1 << 30)


def _sort_key(value: object) -> object:
    if isinstance(value, datetime):
        return value.timestamp()
    if value is None:
        return ""
    return value


def order_key(value: object) -> tuple[int, Any]:
    """A sort key ordering any two cells the way Qt orders them: missing first, then numbers
    and times, then text (Python's ``sorted`` would refuse to compare mixed types)."""
    if value is None:
        return (0, 0)
    if isinstance(value, datetime):
        return (1, value.timestamp())
    if isinstance(value, int | float):
        return (1, value)
    return (2, str(value))


@dataclass(frozen=True)
class Column:
    """One table column: a title, how to get the raw value, and how to show it."""

    title: str
    get: Callable[[Any], object]
    time: bool = False
    data: bool = False  # registry value data: shown the way regedit shows it


def table_keys(columns: Sequence[Column], rows: Iterable[Any]) -> list[tuple[Any, ...]]:
    """Every row's sort key per column (pure Python: the loading thread builds them, so
    sorting a long table on the GUI thread runs no Python per row)."""
    return [tuple(order_key(format_data(c.get(row)) if c.data else c.get(row))  # type: ignore[arg-type]  # data columns hold ValueData
                  for c in columns) for row in rows]


class RowTableModel(QAbstractTableModel):
    """A read-only table of domain objects, one per row (subclasses name the columns).

    The model sorts itself (:meth:`sort`, used by :class:`gui.proxies.FilterProxy`) on sort
    keys built once per row, ideally in the loading thread (``set_rows(rows, keys)``):
    Qt's own proxy sorting would call :meth:`data` twice per comparison.
    """

    columns: Sequence[Column] = ()

    def __init__(self, times: TimeDisplay, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[Any] = []
        self._keys: list[tuple[Any, ...]] | None = None
        self._sort: tuple[int, Qt.SortOrder] | None = None
        self._times = times
        times.changed.connect(self._times_changed)

    def set_rows(self, rows: Sequence[Any], keys: Sequence[tuple[Any, ...]] | None = None
                 ) -> None:
        """Show ``rows`` (in the current sort order); ``keys`` are their :func:`table_keys`
        when already built."""
        self.beginResetModel()
        self._rows = list(rows)
        self._keys = list(keys) if keys is not None and len(keys) == len(self._rows) else None
        if self._sort is not None:
            self._reorder(self._order(*self._sort))
        self.endResetModel()

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        self._sort = (column, order) if 0 <= column < len(self.columns) else None
        if self._sort is None or len(self._rows) < 2:
            return
        self.layoutAboutToBeChanged.emit()
        permutation = self._order(column, order)
        # Where each old row went, without a Python loop over the rows.
        moved_to = sorted(range(len(permutation)), key=permutation.__getitem__)
        self._reorder(permutation)
        persistent = self.persistentIndexList()
        self.changePersistentIndexList(
            persistent, [self.index(moved_to[i.row()], i.column()) if i.isValid() else i
                         for i in persistent])
        self.layoutChanged.emit()

    def _order(self, column: int, order: Qt.SortOrder) -> list[int]:
        """Old row numbers in sorted order (stable, as Qt sorts)."""
        if self._keys is None:
            self._keys = table_keys(self.columns, self._rows)
        keys = list(map(itemgetter(column), self._keys))
        return sorted(range(len(keys)), key=keys.__getitem__,
                      reverse=order == Qt.SortOrder.DescendingOrder)

    def _reorder(self, permutation: list[int]) -> None:
        self._rows = list(map(self._rows.__getitem__, permutation))
        if self._keys is not None:
            self._keys = list(map(self._keys.__getitem__, permutation))

    def row_object(self, row: int) -> Any:
        return self._rows[row]

    def rowCount(self, parent: AnyIndex = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: AnyIndex = _ROOT) -> int:
        return 0 if parent.isValid() else len(self.columns)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if (orientation != Qt.Orientation.Horizontal or role != Qt.ItemDataRole.DisplayRole
                or not 0 <= section < len(self.columns)):
            return None
        column = self.columns[section]
        return f"{column.title} ({self._times.label})" if column.time else column.title

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self._rows):
            return None
        obj = self._rows[index.row()]
        column = self.columns[index.column()]
        if role == OBJECT_ROLE:
            return obj
        if role == Qt.ItemDataRole.DisplayRole:
            return self.display(obj, column, 200)
        if role == Qt.ItemDataRole.ToolTipRole:
            return tooltip(self.display(obj, column, 2000))
        if role == SORT_ROLE:
            value = column.get(obj)
            return format_data(value) if column.data else _sort_key(value)  # type: ignore[arg-type]  # data columns hold ValueData
        return self.extra_data(obj, index.column(), role)

    def display(self, obj: Any, column: Column, limit: int) -> str:
        value = column.get(obj)
        if column.time:
            return self._times.fmt(value)  # type: ignore[arg-type]  # time columns hold datetimes
        if column.data:
            return format_data(value, limit=limit)  # type: ignore[arg-type]  # data columns hold ValueData
        return "" if value is None else str(value)

    def extra_data(self, obj: Any, column: int, role: int) -> Any:
        """Icons, fonts, colours: subclasses override."""
        return None

    def _times_changed(self) -> None:
        time_columns = [i for i, c in enumerate(self.columns) if c.time]
        if not time_columns:
            return
        self.headerDataChanged.emit(Qt.Orientation.Horizontal, min(time_columns),
                                    max(time_columns))
        if self._rows:
            for col in time_columns:
                self.dataChanged.emit(self.index(0, col), self.index(len(self._rows) - 1, col))


# -- the composite ESP -------------------------------------------------------------------


class TwoLevelModel(QAbstractItemModel):
    """A tree of top rows, each with one level of children.

    ``internalId`` is 0 for a top row and ``parent row + 1`` for a child, so ``parent()``
    needs no lookup. Subclasses say how many rows there are and how many columns.
    """

    COLUMN_COUNT = 1

    def _top_count(self) -> int:
        raise NotImplementedError

    def _child_count(self, row: int) -> int:
        raise NotImplementedError

    def index(self, row: int, column: int, parent: AnyIndex = _ROOT) -> QModelIndex:
        if not self.hasIndex(row, column, parent):
            return QModelIndex()
        if not parent.isValid():
            return self.createIndex(row, column, 0)
        return self.createIndex(row, column, parent.row() + 1)

    def parent(self, index: AnyIndex = _ROOT) -> QModelIndex:  # type: ignore[override]  # Qt overload
        if not index.isValid() or index.internalId() == 0:
            return QModelIndex()
        return self.createIndex(index.internalId() - 1, 0, 0)

    def rowCount(self, parent: AnyIndex = _ROOT) -> int:
        if not parent.isValid():
            return self._top_count()
        if parent.internalId() == 0 and parent.column() == 0:
            return self._child_count(parent.row())
        return 0

    def columnCount(self, parent: AnyIndex = _ROOT) -> int:
        return self.COLUMN_COUNT


class EspTreeModel(TwoLevelModel):
    """Phases (top level) and their visible steps (children); columns: title, status."""

    TITLE, STATUS = range(2)
    COLUMN_COUNT = 2

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._phases: tuple[Phase, ...] = ()

    def set_report(self, report: EspReport | None) -> None:
        self.beginResetModel()
        self._phases = report.phases if report is not None else ()
        self.endResetModel()

    def _top_count(self) -> int:
        return len(self._phases)

    def _child_count(self, row: int) -> int:
        return len(self._phases[row].steps)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return ("Step", "Status")[section] if 0 <= section < 2 else None
        return None

    def node(self, index: AnyIndex) -> Phase | Step | None:
        if not index.isValid():
            return None
        if index.internalId() == 0:
            return self._phases[index.row()]
        return self._phases[index.internalId() - 1].steps[index.row()]

    def step_index(self, step_id: str) -> QModelIndex:
        for p, phase in enumerate(self._phases):
            for s, step in enumerate(phase.steps):
                if step.id == step_id:
                    return self.index(s, 0, self.index(p, 0))
        return QModelIndex()

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        node = self.node(index)
        if node is None:
            return None
        column = index.column()
        if role == OBJECT_ROLE:
            return node
        if role == Qt.ItemDataRole.DisplayRole:
            if column == self.TITLE:
                return node.title
            return short_status_text(node.title, node.status, node.status_text)
        if role == Qt.ItemDataRole.DecorationRole and column == self.TITLE:
            return status_icon(node.status)
        if role == Qt.ItemDataRole.ToolTipRole:
            shown = status_text(node.status, node.status_text)
            why = f"\n{node.status_reason}" if node.status_reason else ""
            return tooltip(f"{node.id}: {STATUS_WORDS.get(node.status, node.status)} — "
                           f"{shown}{why}")
        if role == Qt.ItemDataRole.FontRole and isinstance(node, Phase):
            return derived(scale=1.1, bold=True)
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return f"{node.title}: {status_text(node.status, node.status_text)}"
        return None


# -- step drill-down ---------------------------------------------------------------------


def _last_change(item: Item) -> datetime | None:
    return item.history[-1].time if item.history else None


class ItemsModel(RowTableModel):
    columns = (
        Column("Name", lambda i: i.name or i.id),
        Column("Kind", lambda i: i.kind),
        Column("Scope", lambda i: i.scope),
        Column("Status", lambda i: i.status),
        Column("Error", lambda i: hresult_short(i.hresult)),
        Column("Last change", _last_change, time=True),
        Column("Id", lambda i: i.id),
    )

    def extra_data(self, obj: Any, column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.DecorationRole and column == 3:
            status = obj.status.casefold()
            if status in ("failed", "error"):
                return status_icon("failed")
            if status in ("installed", "succeeded", "completed", "applied"):
                return status_icon("succeeded")
        return None


class HistoryModel(RowTableModel):
    columns = (
        Column("Time", lambda h: h.time, time=True),
        Column("Status", lambda h: h.status),
    )


class EventsModel(RowTableModel):
    """A step's events (:class:`EventRef`)."""

    columns = (
        Column("Time", lambda e: e.time, time=True),
        Column("Level", lambda e: e.level),
        Column("Channel", lambda e: e.channel),
        Column("Id", lambda e: e.event_id),
        Column("Summary", lambda e: e.summary),
        Column("Origin", lambda e: e.origin),
    )

    def extra_data(self, obj: Any, column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.DecorationRole and column == 1:
            return level_icon(obj.level)
        return None


def level_icon(level: str) -> Any:
    folded = level.casefold()
    if folded in ("error", "critical"):
        return severity_icon("error")
    if folded == "warning":
        return severity_icon("warning")
    return None


class LogRefModel(RowTableModel):
    """A step's log lines (:class:`LogRef`); the message shows its first line."""

    columns = (
        Column("Time", lambda r: r.time, time=True),
        Column("Severity", lambda r: r.severity),
        Column("Component", lambda r: r.component),
        Column("Message", lambda r: r.message.split("\n", 1)[0]),
        Column("Item", lambda r: r.item),
        Column("Origin", lambda r: r.origin),
    )

    def extra_data(self, obj: Any, column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.DecorationRole and column == 1:
            return level_icon(obj.severity)
        return None


@dataclass(frozen=True)
class TimelineRow:
    """A timeline entry plus the level it got from its source (``""`` when it has none)."""

    entry: Any
    level: str
    step_title: str = ""
    haystack: str = ""  # every searchable text of the row, case-folded (built off-thread)


class TimelineModel(RowTableModel):
    columns = (
        Column("Time", lambda r: r.entry.time, time=True),
        Column("Source", lambda r: r.entry.kind),
        Column("Level", lambda r: r.level),
        Column("Step", lambda r: r.step_title or r.entry.step or ""),
        Column("Summary", lambda r: r.entry.summary),
        Column("Origin", lambda r: r.entry.origin),
    )
    SOURCE, LEVEL, STEP = 1, 2, 3

    def extra_data(self, obj: Any, column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.DecorationRole and column == self.LEVEL:
            return level_icon(obj.level)
        return None


class ProblemsModel(RowTableModel):
    columns = (
        Column("File", lambda p: p.file),
        Column("Where", lambda p: p.where),
        Column("Problem", lambda p: p.message),
    )

    def extra_data(self, obj: Any, column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.DecorationRole and column == 0:
            return severity_icon("warning")
        return None


def file_rows(files: Sequence[str], problems: Iterable[Any]) -> list[tuple[str, int]]:
    """The Files table: every file of the capture with its problem count, then files that
    only problems name."""
    counts = Counter(p.file for p in problems)
    rows = [(name, counts.get(name, 0)) for name in files]
    listed = set(files)
    rows.extend((name, count) for name, count in counts.items() if name not in listed)
    return rows


class FilesModel(RowTableModel):
    """Files in the capture with how many problems each had: ``(name, problem count)``."""

    columns = (
        Column("File", lambda f: f[0]),
        Column("Problems", lambda f: f[1]),
    )

    def extra_data(self, obj: Any, column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.DecorationRole and column == 0 and obj[1]:
            return severity_icon("warning")
        return None


class ValuesModel(RowTableModel):
    """The values of one raw registry key (:class:`core.registry.model.RegValue`)."""

    columns = (
        Column("Name", lambda v: v.name or "(Default)"),
        Column("Type", lambda v: v.type),
        Column("Data", lambda v: v.data, data=True),
        Column("Origin", lambda v: v.origin),
    )


# -- registry trees ----------------------------------------------------------------------


class RegistryRefModel(TwoLevelModel):
    """A step's registry evidence: keys (top level) → values (children).

    Columns: name, type, data, meaning (the value's decoded display), last write, origin.
    Keys show their full path (the view elides it in the middle, keeping the distinguishing
    tail) and values group under them.
    """

    NAME, TYPE, DATA, MEANING, LAST_WRITE, ORIGIN = range(6)
    COLUMN_COUNT = 6
    _TITLES = ("Key / value", "Type", "Data", "Meaning", "Last write", "Origin")

    def __init__(self, times: TimeDisplay, parent: Any = None) -> None:
        super().__init__(parent)
        self._refs: tuple[RegistryRef, ...] = ()
        self._times = times
        times.changed.connect(self._times_changed)

    def set_refs(self, refs: Sequence[RegistryRef]) -> None:
        self.beginResetModel()
        self._refs = tuple(refs)
        self.endResetModel()

    def _top_count(self) -> int:
        return len(self._refs)

    def _child_count(self, row: int) -> int:
        return len(self._refs[row].values)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal or role != Qt.ItemDataRole.DisplayRole:
            return None
        if section == self.LAST_WRITE:
            return f"Last write ({self._times.label})"
        return self._TITLES[section] if 0 <= section < self.COLUMN_COUNT else None

    def ref_and_value(self, index: AnyIndex) -> tuple[RegistryRef | None, Any]:
        if not index.isValid():
            return None, None
        if index.internalId() == 0:
            return self._refs[index.row()], None
        ref = self._refs[index.internalId() - 1]
        return ref, ref.values[index.row()]

    def key_index(self, path: str) -> QModelIndex:
        """The top row of the key at ``path`` (case-insensitive), or an invalid index."""
        folded = path.casefold()
        for row, ref in enumerate(self._refs):
            if ref.path.casefold() == folded:
                return self.index(row, 0)
        return QModelIndex()

    def _text(self, ref: RegistryRef, value: Any, column: int, limit: int) -> str:
        if value is None:
            if column == self.NAME:
                return ref.path
            if column == self.LAST_WRITE:
                return self._times.fmt(ref.last_write) if ref.last_write else "(not recorded)"
            if column == self.ORIGIN:
                return ref.origin
            if column == self.DATA:
                return f"{len(ref.values)} value(s)"
            return ""
        if column == self.NAME:
            return value.name or "(Default)"
        if column == self.TYPE:
            return value.type
        if column == self.DATA:
            return format_data(value.data, limit=limit)
        if column == self.MEANING:
            return value.display or ""
        return ""

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        ref, value = self.ref_and_value(index)
        if ref is None:
            return None
        column = index.column()
        if role == OBJECT_ROLE:
            return value if value is not None else ref
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(ref, value, column, 200)
        if role == Qt.ItemDataRole.ToolTipRole:
            return tooltip(self._text(ref, value, column, 2000))
        if role == SORT_ROLE:
            if column == self.LAST_WRITE and value is None:
                return _sort_key(ref.last_write)
            return self._text(ref, value, column, 200)
        if role == Qt.ItemDataRole.FontRole and value is None and column == self.NAME:
            return derived(bold=True)
        return None

    def _times_changed(self) -> None:
        self.headerDataChanged.emit(Qt.Orientation.Horizontal, self.LAST_WRITE, self.LAST_WRITE)
        if self._refs:
            self.dataChanged.emit(self.index(0, self.LAST_WRITE),
                                  self.index(len(self._refs) - 1, self.LAST_WRITE))


class _KeyNode:
    """One key of the raw registry browser; children are read on first expansion."""

    __slots__ = ("children", "key", "parent", "row")

    def __init__(self, key: RegKey | None, parent: _KeyNode | None, row: int) -> None:
        self.key = key
        self.parent = parent
        self.row = row
        self.children: list[_KeyNode] | None = None

    def load(self) -> list[_KeyNode]:
        if self.children is None:
            keys = self.key.subkeys() if self.key is not None else []
            self.children = [_KeyNode(k, self, i) for i, k in enumerate(keys)]
        return self.children


class RawRegistryModel(QAbstractItemModel):
    """The whole registry view of the capture, lazily: subkeys are read when a key opens.

    Columns: key name, last write, origin. The root node's children are the view's roots.
    """

    NAME, LAST_WRITE, ORIGIN = range(3)

    def __init__(self, times: TimeDisplay, parent: Any = None) -> None:
        super().__init__(parent)
        self._root = _KeyNode(None, None, 0)
        self._root.children = []
        self._times = times
        self._times.changed.connect(self._times_changed)

    def set_roots(self, roots: Sequence[RegKey]) -> None:
        self.beginResetModel()
        self._root = _KeyNode(None, None, 0)
        self._root.children = [_KeyNode(k, self._root, i) for i, k in enumerate(roots)]
        self.endResetModel()

    def _node(self, index: AnyIndex) -> _KeyNode:
        if not index.isValid():
            return self._root
        node = index.internalPointer()
        assert isinstance(node, _KeyNode)  # only this model creates these indexes
        return node

    def key(self, index: AnyIndex) -> RegKey | None:
        return self._node(index).key if index.isValid() else None

    def index(self, row: int, column: int, parent: AnyIndex = _ROOT) -> QModelIndex:
        if not self.hasIndex(row, column, parent):
            return QModelIndex()
        children = self._node(parent).load()
        return self.createIndex(row, column, children[row])

    def parent(self, index: AnyIndex = _ROOT) -> QModelIndex:  # type: ignore[override]  # Qt overload
        if not index.isValid():
            return QModelIndex()
        parent = self._node(index).parent
        if parent is None or parent is self._root:
            return QModelIndex()
        return self.createIndex(parent.row, 0, parent)

    def rowCount(self, parent: AnyIndex = _ROOT) -> int:
        if parent.column() > 0:
            return 0
        return len(self._node(parent).load())

    def hasChildren(self, parent: AnyIndex = _ROOT) -> bool:
        return self.rowCount(parent) > 0

    def columnCount(self, parent: AnyIndex = _ROOT) -> int:
        return 3

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal or role != Qt.ItemDataRole.DisplayRole:
            return None
        titles = ("Key", f"Last write ({self._times.label})", "Origin")
        return titles[section] if 0 <= section < 3 else None

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        key = self._node(index).key
        if key is None:
            return None
        if role == OBJECT_ROLE:
            return key
        if role == Qt.ItemDataRole.DisplayRole:
            if index.column() == self.NAME:
                return key.name
            if index.column() == self.LAST_WRITE:
                return self._times.fmt(key.last_write)
            return key.origin
        if role == Qt.ItemDataRole.ToolTipRole:
            return tooltip(key.path if index.column() == self.NAME else key.origin)
        return None

    def find(self, path: str) -> QModelIndex:
        """Index of the key at ``path`` (loading the keys on the way), or an invalid index."""
        from core.registry.model import normalize_path  # noqa: PLC0415 - tiny, rarely used

        parts = [p.casefold() for p in normalize_path(path).split("\\") if p]
        parent = QModelIndex()
        for part in parts:
            found = QModelIndex()
            for row, child in enumerate(self._node(parent).load()):
                if child.key is not None and child.key.name.casefold() == part:
                    found = self.index(row, 0, parent)
                    break
            if not found.isValid():
                return QModelIndex()
            parent = found
        return parent

    def _times_changed(self) -> None:
        self.headerDataChanged.emit(Qt.Orientation.Horizontal, self.LAST_WRITE, self.LAST_WRITE)
        count = len(self._root.load())
        if count:
            self.dataChanged.emit(self.index(0, self.LAST_WRITE),
                                  self.index(count - 1, self.LAST_WRITE))

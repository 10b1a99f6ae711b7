"""Sort/filter proxies (a free-text filter over every column), and the timeline's filter."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import QSortFilterProxyModel, Qt

from gui.models import OBJECT_ROLE, SORT_ROLE, RowTableModel, TimelineRow


class FilterProxy(QSortFilterProxyModel):
    """Case-insensitive substring filter over all columns; sorts by :data:`SORT_ROLE`.

    For trees the filter is recursive: a parent stays when a child matches. It keeps no
    Python per-row callback: with an empty filter Qt accepts every row without calling back,
    so a reset costs the GUI thread nothing per row.
    """

    def __init__(self, parent: Any = None, *, recursive: bool = False) -> None:
        super().__init__(parent)
        self.setSortRole(SORT_ROLE)
        self.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.setFilterKeyColumn(-1)
        self.setRecursiveFilteringEnabled(recursive)
        self.setAutoAcceptChildRows(recursive)

    def set_text(self, text: str) -> None:
        self.setFilterFixedString(text.strip())

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """A table model sorts itself on prepared keys (see RowTableModel); the proxy then
        keeps its order."""
        source = self.sourceModel()
        if isinstance(source, RowTableModel):
            source.sort(column, order)
        else:
            super().sort(column, order)


class PredicateProxy(FilterProxy):
    """A :class:`FilterProxy` that can also keep only rows whose domain object passes a
    predicate (a step's rows about one item). Its per-row callback costs a Python call per
    row on every reset, so only the views that narrow rows this way use it."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._predicate: Callable[[Any], bool] | None = None

    def set_predicate(self, predicate: Callable[[Any], bool] | None) -> None:
        """Keep only rows whose domain object passes ``predicate`` (None: all rows)."""
        if predicate is None and self._predicate is None:
            return
        self._predicate = predicate
        if hasattr(self, "beginFilterChange"):  # Qt 6.10+: invalidateFilter is deprecated
            self.beginFilterChange()
            self.endFilterChange()
        else:
            self.invalidateRowsFilter()

    def filterAcceptsRow(self, source_row: int, source_parent: Any) -> bool:
        if self._predicate is not None and not source_parent.isValid():
            model = self.sourceModel()
            if not self._predicate(model.data(model.index(source_row, 0), OBJECT_ROLE)):
                return False
        return super().filterAcceptsRow(source_row, source_parent)


def filter_timeline(rows: Sequence[TimelineRow], *, step: str | None = None,
                    source: str | None = None, level: str | None = None,
                    text: str = "") -> list[TimelineRow]:
    """The timeline rows passing every filter (``None`` = any; step ``""`` = no step).

    The timeline can hold tens of thousands of rows: a proxy would call Python once per row
    and column on every change (and again to sort), stalling the GUI thread for seconds,
    so the whole-capture timeline filters its already chronological list here instead.
    """
    needle = text.strip().casefold()
    if step is None and source is None and level is None and not needle:
        return list(rows)  # nothing to filter: no Python pass over every row
    folded_level = level.casefold() if level is not None else None
    out: list[TimelineRow] = []
    for row in rows:
        entry = row.entry
        if step is not None and (entry.step or "") != step:
            continue
        if source is not None and entry.kind != source:
            continue
        if folded_level is not None and row.level.casefold() != folded_level:
            continue
        if needle and needle not in row.haystack:
            continue
        out.append(row)
    return out

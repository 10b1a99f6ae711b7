"""Sort/filter proxies: a free-text filter over every column, and the timeline's filters."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QSortFilterProxyModel, Qt

from gui.models import SORT_ROLE, TimelineModel


class FilterProxy(QSortFilterProxyModel):
    """Case-insensitive substring filter over all columns; sorts by :data:`SORT_ROLE`.

    For trees the filter is recursive: a parent stays when a child matches.
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


class TimelineProxy(FilterProxy):
    """Timeline filters: step, source (event/registry/log), level, plus free text."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._step: str | None = None
        self._source: str | None = None
        self._level: str | None = None

    def set_filters(self, *, step: str | None = None, source: str | None = None,
                    level: str | None = None) -> None:
        """``None`` means "any" for each filter; ``""`` as step means "not tied to a step"."""
        if hasattr(self, "beginFilterChange"):  # Qt ≥ 6.9; older Qt only has the invalidate
            self.beginFilterChange()
            self._step, self._source, self._level = step, source, level
            self.endFilterChange()
        else:
            self._step, self._source, self._level = step, source, level
            self.invalidateRowsFilter()

    def filterAcceptsRow(self, row: int,  # noqa: N802 - Qt API
                         parent: QModelIndex | QPersistentModelIndex) -> bool:
        model = self.sourceModel()
        row_obj = model.row_object(row) if isinstance(model, TimelineModel) else None
        if row_obj is not None:
            if self._step is not None and (row_obj.entry.step or "") != self._step:
                return False
            if self._source is not None and row_obj.entry.kind != self._source:
                return False
            if self._level is not None and row_obj.level.casefold() != self._level.casefold():
                return False
        return super().filterAcceptsRow(row, parent)

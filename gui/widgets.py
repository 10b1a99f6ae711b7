"""Small shared widget helpers: configured table/tree views, filter boxes, copy actions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QAbstractItemModel, Qt
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLineEdit,
    QTableView,
    QTreeView,
    QWidget,
)

from gui.models import cell
from gui.proxies import FilterProxy


def table_view(model: QAbstractItemModel, parent: QWidget | None = None, *,
               name: str = "", sort_column: int | None = 0) -> QTableView:
    """A read-only, sortable, row-selecting table as every table in the app looks."""
    view = QTableView(parent)
    view.setObjectName(name)
    view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setAlternatingRowColors(True)
    view.setWordWrap(False)
    view.verticalHeader().setVisible(False)
    view.verticalHeader().setDefaultSectionSize(view.fontMetrics().height() + 8)
    view.horizontalHeader().setStretchLastSection(True)
    view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    view.horizontalHeader().setHighlightSections(False)
    # Sortable by clicking a header; sort_column=None keeps the model's own order at first.
    view.horizontalHeader().setSortIndicator(-1 if sort_column is None else sort_column,
                                             Qt.SortOrder.AscendingOrder)
    view.setSortingEnabled(True)
    return view


def tree_view(model: QAbstractItemModel, parent: QWidget | None = None, *,
              name: str = "") -> QTreeView:
    view = QTreeView(parent)
    view.setObjectName(name)
    view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setAlternatingRowColors(True)
    view.setUniformRowHeights(True)
    view.header().setStretchLastSection(True)
    return view


def filter_box(proxy: FilterProxy, placeholder: str, parent: QWidget | None = None, *,
               name: str = "") -> QLineEdit:
    edit = QLineEdit(parent)
    edit.setObjectName(name)
    edit.setPlaceholderText(placeholder)
    edit.setClearButtonEnabled(True)
    edit.textChanged.connect(proxy.set_text)
    return edit


def add_copy_action(view: QAbstractItemView, text_of_current: Callable[[], str],
                    title: str = "&Copy", shortcut: Any = QKeySequence.StandardKey.Copy
                    ) -> QAction:
    """Ctrl+C (and a context-menu entry) copying ``text_of_current()`` from ``view``."""
    action = QAction(title, view)
    action.setShortcut(shortcut)
    action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)

    def copy() -> None:
        text = text_of_current()
        if text:
            QGuiApplication.clipboard().setText(text)

    action.triggered.connect(copy)
    view.addAction(action)
    view.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
    return action


def row_text(view: QAbstractItemView) -> str:
    """The current row's visible cells, tab-separated (what a user expects from Ctrl+C)."""
    index = view.currentIndex()
    if not index.isValid():
        return ""
    model = view.model()
    cells = [cell(model.index(index.row(), c, index.parent())) for c in
             range(model.columnCount(index.parent()))]
    return "\t".join("" if c is None else str(c) for c in cells)


def fit_columns(view: QTableView | QTreeView, widths: dict[int, int]) -> None:
    """Initial column widths in characters (the last column stretches)."""
    chars = view.fontMetrics().averageCharWidth()
    header = view.horizontalHeader() if isinstance(view, QTableView) else view.header()
    for column, width in widths.items():
        header.resizeSection(column, width * chars)

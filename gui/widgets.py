"""Small shared widget helpers: configured table/tree views, filter boxes, copy actions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QAbstractItemModel, QEvent, QObject, Qt, QTimer
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


def add_action(view: QWidget, title: str, slot: Callable[[], object],
               shortcut: Any = None) -> QAction:
    """A context-menu entry of ``view`` (with a shortcut working while it has focus)."""
    action = QAction(title, view)
    if shortcut is not None:
        action.setShortcut(shortcut)
        action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
    action.triggered.connect(lambda _checked=False: slot())
    view.addAction(action)
    view.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
    return action


def add_copy_action(view: QWidget, text_of_current: Callable[[], str],
                    title: str = "&Copy", shortcut: Any = QKeySequence.StandardKey.Copy
                    ) -> QAction:
    """Ctrl+C (and a context-menu entry) copying ``text_of_current()`` from ``view``."""

    def copy() -> None:
        text = text_of_current()
        if text:
            QGuiApplication.clipboard().setText(text)

    return add_action(view, title, copy, shortcut)


def row_text(view: QAbstractItemView) -> str:
    """The current row's visible cells, tab-separated (what a user expects from Ctrl+C)."""
    index = view.currentIndex()
    if not index.isValid():
        return ""
    model = view.model()
    cells = [cell(model.index(index.row(), c, index.parent())) for c in
             range(model.columnCount(index.parent()))]
    return "\t".join("" if c is None else str(c) for c in cells)


SAMPLE_ROWS = 60


class ColumnFitter(QObject):
    """Columns sized to their content with minimums, fitted into the view's width.

    After every reset (and resize) each column but the last gets the width its header and
    visible rows need, at least its minimum (in characters) and at most a cap; when the sum
    is wider than the view, the widest columns give way down to their header's width, so
    every header stays on screen (the layout works at 1366×768). The last column stretches.
    """

    CAP_CHARS = 70

    def __init__(self, view: QTableView | QTreeView, minimums: dict[int, int]) -> None:
        super().__init__(view)
        self.view = view
        self.minimums = minimums
        self._pending = False
        self._stale = True
        model = view.model()
        model.modelReset.connect(self.schedule)
        model.layoutChanged.connect(self.schedule)
        # Measure a sample of rows, not the first thousand: sizing stays cheap on the GUI
        # thread whatever the row count (a capture's timeline holds tens of thousands).
        # Qt reads the precision for a column's size hint from the header holding that
        # column (the horizontal one of a table), not from the header of the rows.
        self._header().setResizeContentsPrecision(SAMPLE_ROWS)
        view.viewport().installEventFilter(self)
        view.installEventFilter(self)

    def _header(self) -> QHeaderView:
        view = self.view
        return view.horizontalHeader() if isinstance(view, QTableView) else view.header()

    def schedule(self) -> None:
        self._stale = True
        if not self._pending and self.view.isVisible():
            self._pending = True
            QTimer.singleShot(0, self.fit)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Resize and watched is self.view.viewport():
            self.schedule()
        elif event.type() == QEvent.Type.Show and watched is self.view and self._stale:
            self.schedule()  # hidden views (other tabs) are fitted when they first show
        return False

    def fit(self) -> None:
        self._pending = False
        view, header = self.view, self._header()
        if not view.isVisible():
            return
        self._stale = False
        chars = view.fontMetrics().averageCharWidth()
        shown = [c for c in range(header.count()) if not header.isSectionHidden(c)]
        if len(shown) < 2:
            return
        sized = shown[:-1]
        floor = {c: max(header.sectionSizeFromContents(c).width() + 8, 4 * chars)
                 for c in shown}
        wanted = {c: max(floor[c], self.minimums.get(c, 0) * chars,
                         min(view.sizeHintForColumn(c), self.CAP_CHARS * chars))
                  for c in sized}
        room = view.viewport().width() - floor[shown[-1]]
        excess = sum(wanted.values()) - room
        while excess > 0:
            give = [c for c in sized if wanted[c] > floor[c]]
            if not give:
                break
            widest = max(give, key=lambda c: wanted[c])
            step = min(excess, wanted[widest] - floor[widest],
                       max(wanted[widest] // 8, chars))
            wanted[widest] -= step
            excess -= step
        for column, width in wanted.items():
            header.resizeSection(column, width)


def size_columns(view: QTableView | QTreeView, minimums: dict[int, int]) -> ColumnFitter:
    """Fit ``view``'s columns to content with ``minimums`` (characters) — see ColumnFitter."""
    return ColumnFitter(view, minimums)

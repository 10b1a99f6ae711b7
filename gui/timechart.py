"""The time chart tab: phases, steps and item attempts as bars over time.

Draws the :class:`core.report.timechart.Chart` that ``core`` lays out (the HTML report draws
the same one as SVG); this module only paints and hit-tests. Clicking a row (its label or its
bars) asks the main window to select that step or item; the keyboard does the same (Up/Down
to move, Enter to open). Colours follow the app's status icons and the palette, so the dark
theme works.
"""

from __future__ import annotations

import html
from datetime import UTC, datetime

from PySide6.QtCore import QEvent, QPointF, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QFontMetrics,
    QHelpEvent,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPaintEvent,
    QPalette,
    QPen,
    QResizeEvent,
    QShowEvent,
)
from PySide6.QtWidgets import QScrollArea, QToolTip, QWidget

from core.esp.model import EspReport, Step
from core.report.common import STATUS_LABELS, clean
from core.report.timechart import (
    ACTIVITY_LABELS,
    Bar,
    Chart,
    Row,
    bar_description,
    build_chart,
    chart_ticks,
    duration_text,
    elide_middle,
    row_title,
    timeout_note,
)
from gui.fonts import derived
from gui.timefmt import TimeDisplay

#: The status colours of the app's icons (resources/icons/status-*.svg).
STATUS_COLOURS: dict[str, str] = {
    "succeeded": "#107c10", "not_required": "#107c10", "failed": "#c42b1c",
    "in_progress": "#0067c0", "identifying": "#0067c0", "not_started": "#8a8a8a",
    "skipped": "#8a8a8a", "unknown": "#8a8a8a",
}
#: What an item was doing: (light theme, dark theme).
ACTIVITY_COLOURS: dict[str, tuple[str, str]] = {
    "download": ("#1f9bd1", "#39c5f0"),
    "install": ("#3d3fb8", "#8d8ff5"),
    "work": ("#0067c0", "#4ca3f0"),
    "wait": ("#b9bec5", "#5a6069"),
    "unknown": ("#b39ddb", "#7e6aa8"),
}
TIMEOUT_COLOUR = ("#9a6700", "#d29922")
LABEL_CHARS = 40  # label column width at least, in average characters
TICK_SPACING = 64  # pixels between axis ticks at least


def label_lefts(xs: list[float], widths: list[int], right: int, gap: int) -> list[float | None]:
    """Where each axis label starts, centred on its tick, or None where it would run into
    the label before it (a label carrying the date is wider than the spacing allows)."""
    lefts: list[float | None] = []
    taken = float("-inf")
    for x, w in zip(xs, widths, strict=True):
        left = min(x - w / 2, right - w - 2)  # the last label stays whole
        if left < taken + gap:
            lefts.append(None)  # its grid line still shows the moment
            continue
        lefts.append(left)
        taken = left + w
    return lefts


def tooltip_html(text: str) -> str:
    """Evidence text shown *as text* in a tooltip: Qt would take a name like ``<b>x`` for rich
    text, so the words are escaped into a pre-formatted paragraph (lines kept)."""
    lines = (html.escape(clean(line), quote=False) for line in text.split("\n"))
    return "<p style='white-space:pre'>" + "<br>".join(lines) + "</p>"


def is_dark(palette: QPalette) -> bool:
    return palette.color(QPalette.ColorRole.Base).lightness() < 128


class TimeChartCanvas(QWidget):
    """The painted chart; sits in a :class:`TimeChartView` that scrolls it."""

    row_activated = Signal(int)

    def __init__(self, times: TimeDisplay, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.times = times
        self.chart: Chart | None = None
        self.current = -1
        self._label_width: tuple[Chart | None, object, int] = (None, None, 0)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMouseTracking(True)
        self.setAutoFillBackground(True)
        self.setBackgroundRole(QPalette.ColorRole.Base)
        self.setAccessibleName("Time chart")
        times.changed.connect(self.update)

    # -- geometry ------------------------------------------------------------------------

    @property
    def row_height(self) -> int:
        return self.fontMetrics().height() + 8

    @property
    def axis_height(self) -> int:
        return self.fontMetrics().height() * 2 + 10

    @property
    def label_width(self) -> int:
        """Wide enough for every phase and step title (items may elide), at most 45 % of
        the width."""
        key = (self.width(), self.font().key())
        chart, known, width = self._label_width
        if chart is self.chart and known == key:  # asked for every bar drawn: measure once
            return width
        fm = self.fontMetrics()
        widest = fm.averageCharWidth() * LABEL_CHARS
        if self.chart is not None:
            bold = QFontMetrics(derived(self.font(), bold=True))
            for row in self.chart.rows:
                if row.level != "item":
                    metrics = bold if row.level == "phase" else fm
                    widest = max(widest, metrics.horizontalAdvance(row.label) + 40)
        width = int(min(widest, max(self.width() * 0.45, fm.averageCharWidth() * LABEL_CHARS)))
        self._label_width = (self.chart, key, width)
        return width

    def _legend_lines(self) -> list[list[tuple[str, str, float]]]:
        """The legend's entries (kind, words, x), wrapped to the width."""
        fm = self.fontMetrics()
        entries = [(kind, ACTIVITY_LABELS[kind]) for kind in ("download", "install", "work",
                                                               "wait")]
        entries += [("failed", "failed"), ("timeout", "ESP timeout")]
        lines: list[list[tuple[str, str, float]]] = [[]]
        x = 6.0
        for kind, words in entries:
            width = 30 + fm.horizontalAdvance(words)
            if lines[-1] and x + width > self.width():
                lines.append([])
                x = 6.0
            lines[-1].append((kind, words, x))
            x += width
        return lines

    def _notes(self) -> list[str]:
        chart = self.chart
        if chart is None:
            return []
        return [timeout_note(chart, line, self.times.fmt) for line in chart.timeouts
                if not line.in_range]

    def _note_height(self, text: str) -> int:
        bounds = self.fontMetrics().boundingRect(
            QRect(0, 0, max(self.width() - 12, 100), 10_000), Qt.TextFlag.TextWordWrap, text)
        return bounds.height() + 4

    def _footer_height(self) -> int:
        rh = self.row_height
        breaks = rh if self.chart is not None and self.chart.breaks else 0
        return breaks + len(self._legend_lines()) * rh + \
            sum(self._note_height(note) for note in self._notes())

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.updateGeometry()  # the legend and notes wrap: the height follows the width

    def sizeHint(self) -> QSize:
        rows = len(self.chart.rows) if self.chart else 0
        height = self.axis_height + rows * self.row_height + \
            self._footer_height() + 12
        return QSize(self.label_width + 500, height)

    def minimumSizeHint(self) -> QSize:
        return QSize(self.label_width + 200, self.sizeHint().height())

    def plot_left(self) -> float:
        return float(self.label_width)

    def plot_right(self) -> float:
        return float(self.width() - 24)

    def x_of(self, when: datetime) -> float:
        assert self.chart is not None
        return self.plot_left() + self.chart.fraction(when) * (self.plot_right() -
                                                               self.plot_left())

    def row_top(self, index: int) -> int:
        return self.axis_height + index * self.row_height

    def row_at(self, y: float) -> int:
        if self.chart is None or y < self.axis_height:
            return -1
        index = int((y - self.axis_height) // self.row_height)
        return index if 0 <= index < len(self.chart.rows) else -1

    def bar_rect(self, row: int, bar: Bar) -> QRectF:
        """Where a bar is drawn (tests click its centre)."""
        height = self.row_height - 8
        top = self.row_top(row) + 4
        x0, x1 = self.x_of(bar.start), self.x_of(bar.end)
        if bar.is_point:
            return QRectF(x0 - height / 2, top, height, height)
        return QRectF(x0, top, max(x1 - x0, 3.0), height)

    # -- data ----------------------------------------------------------------------------

    def set_chart(self, chart: Chart | None) -> None:
        self.chart = chart
        self.current = -1
        self.updateGeometry()
        self.resize(self.width(), self.sizeHint().height())
        self.update()

    def set_current(self, index: int) -> None:
        if self.chart is None:
            return
        self.current = max(-1, min(index, len(self.chart.rows) - 1))
        self.update()

    def current_row(self) -> Row | None:
        if self.chart is None or not 0 <= self.current < len(self.chart.rows):
            return None
        return self.chart.rows[self.current]

    # -- painting ------------------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = self.palette()
        dark = is_dark(palette)
        text = palette.color(QPalette.ColorRole.Text)
        muted = palette.color(QPalette.ColorRole.PlaceholderText)
        chart = self.chart
        if chart is None:
            painter.setPen(muted)
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "No capture loaded")
            return
        fm = self.fontMetrics()
        rh = self.row_height
        bottom = self.row_top(len(chart.rows))
        # Axis and grid.
        if chart.start is not None and chart.end is not None:
            width = max(self.plot_right() - self.plot_left(), 1.0)
            ticks = chart_ticks(chart, max(int(width // TICK_SPACING), 2), self.times.zone)
            grid = QPen(palette.color(QPalette.ColorRole.Mid))
            grid.setWidthF(0.6)
            xs = [self.x_of(tick.time) for tick in ticks]
            painter.setPen(grid)
            for x in xs:
                painter.drawLine(QPointF(x, self.axis_height - 4), QPointF(x, bottom))
            painter.setPen(muted)
            widths = [fm.horizontalAdvance(tick.label) for tick in ticks]
            for tick, left in zip(ticks, label_lefts(xs, widths, self.width(),
                                                     fm.horizontalAdvance("  ")), strict=True):
                if left is not None:
                    painter.drawText(QPointF(left, self.axis_height - 8), tick.label)
            painter.setPen(muted)
            painter.drawText(QPointF(6, self.axis_height - 8), f"Times: {self.times.label}")
        else:
            painter.setPen(muted)
            painter.drawText(QPointF(6, self.axis_height - 8),
                             "No time in the evidence: nothing to draw. Every row is listed.")
        # Rows.
        bold = derived(self.font(), bold=True)
        exposed = event.rect()  # thousands of rows: paint only those on screen
        first = max(self.row_at(exposed.top()), 0)
        last = self.row_at(exposed.bottom())
        last = len(chart.rows) - 1 if last < 0 else last
        for index in range(first, last + 1):
            row = chart.rows[index]
            top = self.row_top(index)
            band = QRectF(0, top, self.width(), rh)
            if row.level == "phase":
                painter.fillRect(band, palette.color(QPalette.ColorRole.AlternateBase))
            if index == self.current:
                highlight = QColor(palette.color(QPalette.ColorRole.Highlight))
                highlight.setAlpha(70)
                painter.fillRect(band, highlight)
            self._paint_label(painter, index, row, top, bold, text)
            if not row.timed:
                italic = derived(self.font())
                italic.setItalic(True)
                painter.setFont(italic)
                note = row.note or "no time in the evidence"
                box = QRectF(self.plot_left() + 2, top + 1,
                             QFontMetrics(italic).horizontalAdvance(note) + 8, rh - 2)
                behind = QPalette.ColorRole.AlternateBase if row.level == "phase" else \
                    QPalette.ColorRole.Base
                painter.fillRect(box, palette.color(behind))  # grid lines pass behind words
                painter.setPen(muted)
                painter.drawText(QPointF(box.left() + 4, top + rh / 2 + fm.ascent() / 2 - 1),
                                 note)
                painter.setFont(self.font())
                continue
            for bar in row.bars:
                self._paint_bar(painter, index, row, bar, dark)
            for marker in row.markers:
                self._paint_failure(painter, self.x_of(marker.time), top + rh / 2)
        footer = bottom + 4
        # Axis breaks over the bars: what crosses one fades into it.
        for br in chart.breaks:
            b0, b1 = self.x_of(br.start), self.x_of(br.end)
            veil = QColor(palette.color(QPalette.ColorRole.Base))
            veil.setAlpha(200)
            painter.fillRect(QRectF(b0, self.axis_height - 4, b1 - b0,
                                    bottom - self.axis_height + 4), veil)
            painter.setPen(QPen(muted, 1, Qt.PenStyle.DotLine))
            for x in (b0, b1):
                painter.drawLine(QPointF(x, self.axis_height - 4), QPointF(x, bottom))
            words = duration_text((br.end - br.start).total_seconds())
            painter.drawText(QPointF((b0 + b1) / 2 - fm.horizontalAdvance(words) / 2,
                                     bottom + fm.ascent() + 2), words)
        if chart.breaks:
            footer += rh
        # Timeout lines over the rows.
        warn = QColor(TIMEOUT_COLOUR[1 if dark else 0])
        for line in chart.timeouts:
            if not line.in_range:
                continue
            x = self.x_of(line.time)
            pen = QPen(warn, 1.6, Qt.PenStyle.DashLine)
            painter.setPen(pen)
            painter.drawLine(QPointF(x, self.axis_height - 2), QPointF(x, self.axis_height))
            for index, row in enumerate(chart.rows):  # not through the "no time" notes
                if row.timed:
                    top = self.row_top(index)
                    painter.drawLine(QPointF(x, top), QPointF(x, top + rh))
            caption = f"timeout ({line.phase_title})"
            w = fm.horizontalAdvance(caption)
            bold_warn = derived(self.font(), bold=True)
            painter.setFont(bold_warn)
            left = x - w - 4 if x + w + 4 > self.width() else x + 4
            painter.drawText(QPointF(left, fm.ascent() + 2), caption)
            painter.setFont(self.font())
        y = self._paint_legend(painter, footer, dark, text)
        painter.setPen(muted)
        for note in self._notes():
            height = self._note_height(note)
            painter.drawText(QRectF(6, y, self.width() - 12, height),
                             int(Qt.TextFlag.TextWordWrap), note)
            y += height

    def _paint_label(self, painter: QPainter, index: int, row: Row, top: int,
                     bold: QFont, text: QColor) -> None:
        fm = self.fontMetrics()
        rh = self.row_height
        indent = {"phase": 4, "step": 16, "item": 30}[row.level]
        dot = QColor(STATUS_COLOURS.get(row.status, "#8a8a8a"))
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(dot)
        painter.drawEllipse(QPointF(indent + 4, top + rh / 2), 4, 4)
        painter.setPen(text)
        if row.level == "phase":
            painter.setFont(bold)
        room = self.label_width - indent - 20
        name = clean(row_title(row))
        shown = elide_middle(name, max(room // max(fm.averageCharWidth(), 1), 5))
        while QFontMetrics(painter.font()).horizontalAdvance(shown) > room and len(shown) > 5:
            shown = elide_middle(name, len(shown) - 2)
        painter.drawText(QPointF(indent + 13, top + rh / 2 + fm.ascent() / 2 - 1), shown)
        painter.setFont(self.font())

    def _paint_bar(self, painter: QPainter, index: int, row: Row, bar: Bar, dark: bool) -> None:
        rect = self.bar_rect(index, bar)
        status_colour = QColor(STATUS_COLOURS.get(bar.status, "#8a8a8a"))
        if bar.is_point and not bar.open_end:
            path = QPainterPath()
            c = rect.center()
            r = rect.height() / 2
            path.moveTo(c.x(), c.y() - r)
            path.lineTo(c.x() + r, c.y())
            path.lineTo(c.x(), c.y() + r)
            path.lineTo(c.x() - r, c.y())
            path.closeSubpath()
            painter.setPen(Qt.PenStyle.NoPen)
            painter.fillPath(path, status_colour)
            return
        if row.level == "item":
            for seg in bar.segments:
                x0, x1 = self.x_of(seg.start), self.x_of(seg.end)
                if x1 - x0 < 0.5:
                    continue
                colour = QColor(ACTIVITY_COLOURS.get(seg.kind, ACTIVITY_COLOURS["unknown"])
                                [1 if dark else 0])
                painter.fillRect(QRectF(x0, rect.top(), x1 - x0, rect.height()), colour)
            if bar.open_end:
                pen = QPen(self.palette().color(QPalette.ColorRole.PlaceholderText), 1,
                           Qt.PenStyle.DashLine)
            elif bar.status in ("failed", "succeeded"):
                pen = QPen(status_colour, 1.6)
            else:
                pen = QPen(Qt.PenStyle.NoPen)
            painter.setPen(pen)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(rect, 2, 2)
        else:
            colour = QColor(status_colour)
            colour.setAlpha(220)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QBrush(colour))
            painter.drawRoundedRect(rect, 2, 2)
        if bar.open_end:  # the evidence stops here: an arrow, not a closed end
            mid = rect.center().y()
            path = QPainterPath()
            path.moveTo(rect.right() + 2, mid - 4)
            path.lineTo(rect.right() + 7, mid)
            path.lineTo(rect.right() + 2, mid + 4)
            path.closeSubpath()
            painter.fillPath(path, self.palette().color(QPalette.ColorRole.PlaceholderText))

    def _paint_failure(self, painter: QPainter, x: float, y: float) -> None:
        pen = QPen(QColor(STATUS_COLOURS["failed"]), 2.4)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        painter.setPen(pen)
        painter.drawLine(QPointF(x - 4, y - 4), QPointF(x + 4, y + 4))
        painter.drawLine(QPointF(x - 4, y + 4), QPointF(x + 4, y - 4))

    def _paint_legend(self, painter: QPainter, top: float, dark: bool, text: QColor) -> float:
        """Draw the legend from ``top``; returns where it ends."""
        y = top + (self.row_height - 10) / 2
        for line in self._legend_lines():
            for kind, words, x in line:
                if kind == "failed":
                    self._paint_failure(painter, x + 7, y + 5)
                elif kind == "timeout":
                    painter.setPen(QPen(QColor(TIMEOUT_COLOUR[1 if dark else 0]), 1.6,
                                        Qt.PenStyle.DashLine))
                    painter.drawLine(QPointF(x + 7, y - 2), QPointF(x + 7, y + 12))
                else:
                    painter.fillRect(QRectF(x, y, 14, 10),
                                     QColor(ACTIVITY_COLOURS[kind][1 if dark else 0]))
                painter.setPen(text)
                painter.drawText(QPointF(x + 18, y + 10), words)
            y += self.row_height
        return top + self.row_height * len(self._legend_lines())

    # -- interaction ---------------------------------------------------------------------

    def hit_text(self, pos: QPointF) -> str | None:
        """The tooltip under ``pos``: a failure mark, a bar, a timeout line or a row label."""
        chart = self.chart
        if chart is None:
            return None
        index = self.row_at(pos.y())
        if index >= 0:
            row = chart.rows[index]
            if pos.x() < self.plot_left():
                status = STATUS_LABELS.get(row.status, row.status)
                return f"{row_title(row)}\n{status}" + (f"\n{row.note}" if row.note else "")
            for marker in row.markers:
                if abs(self.x_of(marker.time) - pos.x()) <= 6:
                    return f"{marker.label} at {self.times.fmt(marker.time)}"
            for bar in row.bars:
                if self.bar_rect(index, bar).adjusted(-2, -2, 2, 2).contains(pos):
                    return bar_description(row, bar, self.times.fmt)
        for br in chart.breaks:
            if self.x_of(br.start) <= pos.x() <= self.x_of(br.end):
                return (f"{br.label}: {self.times.fmt(br.start)} → {self.times.fmt(br.end)}\n"
                        "The axis is cut here; bars crossing it keep their real length in "
                        "their tooltips.")
        for line in chart.timeouts:
            if line.in_range and abs(self.x_of(line.time) - pos.x()) <= 4 \
                    and pos.y() < self.row_top(len(chart.rows)):
                return f"{line.label}: {self.times.fmt(line.time)}"
        return None

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip:
            assert isinstance(event, QHelpEvent)
            text = self.hit_text(QPointF(event.pos()))
            if text:
                QToolTip.showText(event.globalPos(), tooltip_html(text), self)
            else:
                QToolTip.hideText()
                event.ignore()
            return True
        return super().event(event)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            index = self.row_at(event.position().y())
            if index >= 0:
                self.set_current(index)
                self.row_activated.emit(index)
                return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        index = self.row_at(event.position().y())
        row = self.chart.rows[index] if self.chart is not None and index >= 0 else None
        if row is not None and row.step_id is not None:  # a phase row opens nothing
            self.setCursor(Qt.CursorShape.PointingHandCursor)
        else:
            self.unsetCursor()
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        event.accept()  # the press did the work

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if self.chart is not None and key in (Qt.Key.Key_Up, Qt.Key.Key_Down):
            step = -1 if key == Qt.Key.Key_Up else 1
            self.set_current(max(self.current + step, 0))
            parent = self.parentWidget()
            view = parent.parentWidget() if parent is not None else None
            if isinstance(view, QScrollArea):
                view.ensureVisible(0, self.row_top(self.current) + self.row_height // 2, 0,
                                   self.row_height)
            return
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.current >= 0:
            self.row_activated.emit(self.current)
            return
        super().keyPressEvent(event)


class TimeChartView(QScrollArea):
    """The Time chart tab. ``step_clicked(step_id)`` / ``item_clicked(step_id, item_id)``."""

    step_clicked = Signal(str)
    item_clicked = Signal(str, str)

    def __init__(self, times: TimeDisplay, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("timeChart")
        self.canvas = TimeChartCanvas(times, self)
        self.setWidget(self.canvas)
        self.setWidgetResizable(True)
        self.setFocusProxy(self.canvas)
        self.canvas.row_activated.connect(self._activated)

        self._pending: EspReport | None = None
        self._wanted: str | None = None  # the step to mark once laid out

    @property
    def chart(self) -> Chart | None:
        self._lay_out()
        return self.canvas.chart

    def set_report(self, report: EspReport | None) -> None:
        """Show ``report``; it is laid out (by ``core``) when the tab is first shown, so
        opening a capture does not pay for a chart nobody looks at."""
        self._pending = report
        self.canvas.set_chart(None)
        if self.isVisible():
            self._lay_out()

    def _lay_out(self) -> None:
        if self._pending is not None:
            report, self._pending = self._pending, None
            self.canvas.set_chart(build_chart(report, zone=UTC))
            self._mark()

    def showEvent(self, event: QShowEvent) -> None:
        self._lay_out()
        super().showEvent(event)

    def show_step(self, step: Step | None) -> None:
        """Mark the row of the step selected elsewhere (the ESP tree), without emitting; a
        chart not laid out yet marks it when it is."""
        self._wanted = step.id if step is not None else None
        self._mark()

    def _mark(self) -> None:
        chart = self.canvas.chart
        if chart is None:
            return
        index = next((i for i, row in enumerate(chart.rows)
                      if row.level == "step" and row.step_id == self._wanted), -1)
        self.canvas.set_current(index)
        if index >= 0:
            self.ensureVisible(0, self.canvas.row_top(index) + self.canvas.row_height // 2, 0,
                               self.canvas.row_height * 2)

    def _activated(self, index: int) -> None:
        row = self.canvas.chart.rows[index] if self.canvas.chart else None
        if row is None or row.step_id is None:
            return
        if row.item_id is not None:
            self.item_clicked.emit(row.step_id, row.item_id)
        else:
            self.step_clicked.emit(row.step_id)

"""The composite ESP: device header, top-finding banner, and all three phases expanded at once."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QModelIndex, QSize, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSizePolicy,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from core.esp.model import EspReport, Finding, Step
from gui.fonts import derived
from gui.icons import severity_icon
from gui.models import OBJECT_ROLE, EspTreeModel, cell
from gui.plain import plain_label

MODES = {
    "user_driven": "User-driven",
    "hybrid_user_driven": "User-driven (hybrid join)",
    "self_deploying": "Self-deploying",
    "pre_provisioning": "Pre-provisioning",
    "device_preparation": "Autopilot device preparation",
    "not_autopilot": "Not Autopilot",
    "unknown": "Unknown",
}
MISSING = "not in capture"


def top_finding(report: EspReport) -> Finding | None:
    for severity in ("error", "warning", "info"):
        for finding in report.findings:
            if finding.severity == severity:
                return finding
    return None


class DeviceHeader(QFrame):
    """Name, serial, deployment mode, profile, tenant, OS build, ESP timeout."""

    FIELDS = ("Device", "Serial", "Deployment", "Profile", "Tenant", "OS build", "ESP timeout")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("deviceHeader")
        grid = QGridLayout(self)
        grid.setContentsMargins(8, 4, 8, 4)
        grid.setHorizontalSpacing(16)
        grid.setVerticalSpacing(2)
        self.values: dict[str, QLabel] = {}
        for i, field in enumerate(self.FIELDS):
            caption = plain_label(field)
            caption.setForegroundRole(QPalette.ColorRole.PlaceholderText)
            value = plain_label(selectable=True, name=f"device_{field.replace(' ', '_').lower()}")
            grid.addWidget(caption, 0, i)
            grid.addWidget(value, 1, i)
            self.values[field] = value
        grid.setColumnStretch(len(self.FIELDS), 1)

    def set_report(self, report: EspReport) -> None:
        device, settings = report.device, report.settings
        timeout = (f"{settings.timeout_minutes} min" if settings.timeout_minutes is not None
                   else None)
        shown = {
            "Device": device.name,
            "Serial": device.serial,
            "Deployment": MODES.get(device.deployment_mode, device.deployment_mode),
            "Profile": device.profile_name,
            "Tenant": device.tenant_domain,
            "OS build": device.os_build,
            "ESP timeout": timeout,
        }
        for field, text in shown.items():
            label = self.values[field]
            label.setText(text or MISSING)
            label.setEnabled(bool(text))  # greyed: honest about what the capture lacks
            font = label.font()
            font.setBold(bool(text))
            label.setFont(font)


class FindingBanner(QFrame):
    """The top finding, coloured by severity, with a button to jump to its step and one to
    list every finding (``show_all``)."""

    go_to_step = Signal(str)
    show_all = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("findingBanner")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        self.icon = QLabel()
        layout.addWidget(self.icon, 0, Qt.AlignmentFlag.AlignTop)
        texts = QVBoxLayout()
        self.title = plain_label(name="findingTitle", selectable=True, wrap=True)
        self.title.setFont(derived(self.title.font(), bold=True))
        self.text = plain_label(name="findingBannerText", selectable=True, wrap=True)
        texts.addWidget(self.title)
        texts.addWidget(self.text)
        layout.addLayout(texts, 1)
        buttons = QVBoxLayout()
        self.button = QPushButton("&Go to step")
        self.button.setObjectName("goToStep")
        self.button.clicked.connect(self._go)
        self.more_button = QPushButton()
        self.more_button.setObjectName("allFindings")
        self.more_button.clicked.connect(self.show_all.emit)
        buttons.addWidget(self.button)
        buttons.addWidget(self.more_button)
        layout.addLayout(buttons)
        self.finding: Finding | None = None
        self.more = 0

    def set_finding(self, finding: Finding | None, more: int = 0) -> None:
        self.finding, self.more = finding, more
        self.setVisible(finding is not None)
        if finding is None:
            return
        size = self.fontMetrics().height() + 4
        self.icon.setPixmap(severity_icon(finding.severity).pixmap(size, size,))
        self.title.setText(finding.title)
        self.text.setText(finding.text)
        self.button.setVisible(finding.step is not None)
        self.more_button.setText(f"&All findings (+{more} more)" if more else "&All findings")
        self.update()

    def tint(self) -> QColor:
        """The banner's background: the theme's window colour tinted by the severity, taken
        when painting, so a theme change (a new application palette) shows at once."""
        base = QApplication.palette().color(QPalette.ColorRole.Window)
        tint = {"error": (196, 43, 28), "warning": (232, 162, 0), "info": (0, 103, 192)}
        r, g, b = tint[self.finding.severity if self.finding is not None else "info"]
        mix = 0.18
        return QColor(int(base.red() * (1 - mix) + r * mix),
                      int(base.green() * (1 - mix) + g * mix),
                      int(base.blue() * (1 - mix) + b * mix))

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), self.tint())
        painter.end()
        super().paintEvent(event)  # the frame on top

    def _go(self) -> None:
        if self.finding is not None and self.finding.step:
            self.go_to_step.emit(self.finding.step)


class EspTree(QTreeView):
    """All phases expanded, never collapsible; arrows/Home/End move between steps."""

    def __init__(self, model: EspTreeModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("espTree")
        self.setModel(model)
        self.setItemsExpandable(False)
        self.setRootIsDecorated(False)
        self.setExpandsOnDoubleClick(False)
        self.setHeaderHidden(True)
        self.setIndentation(22)
        self.setUniformRowHeights(False)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        side = round(self.fontMetrics().height() * 1.25)
        self.setIconSize(QSize(side, side))
        self.header().setStretchLastSection(False)
        # Titles are short and fixed; status texts can be long, so they take the rest (elided).
        self.header().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.header().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Expanding)
        model.modelReset.connect(self.expandAll)

    def sizeHint(self) -> QSize:
        # Room for the longest step title plus a typical status text such as
        # "Joining your organization's network (Completed)" without eliding it.
        return QSize(self.fontMetrics().averageCharWidth() * 84, super().sizeHint().height())


class EspPanel(QWidget):
    """Title + the composite tree. ``step_selected`` fires with the Step (or None for a phase)."""

    step_selected = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.title = plain_label("Enrollment Status Page", name="espTitle")
        self.title.setFont(derived(self.title.font(), scale=1.5))
        self.subtitle = plain_label(wrap=True, name="espSubtitle")
        self.subtitle.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        layout.addWidget(self.title)
        layout.addWidget(self.subtitle)
        self.model = EspTreeModel(self)
        self.tree = EspTree(self.model, self)
        layout.addWidget(self.tree, 1)
        self.tree.selectionModel().currentRowChanged.connect(self._current_changed)

    def set_report(self, report: EspReport | None) -> None:
        self.model.set_report(report)
        if report is None:
            self.subtitle.clear()
            return
        failed = report.first_failed_step
        if failed is not None:
            self.subtitle.setText("Setup could not finish. All phases are shown expanded; "
                                  "select a step to see why it shows what it shows.")
        else:
            self.subtitle.setText("All phases are shown expanded; select a step to see the "
                                  "evidence behind it.")

    def select_step(self, step_id: str) -> bool:
        index = self.model.step_index(step_id)
        if not index.isValid():
            return False
        self.tree.setCurrentIndex(index)
        self.tree.scrollTo(index)
        return True

    def current_step(self) -> Step | None:
        node = cell(self.tree.currentIndex(), OBJECT_ROLE)
        return node if isinstance(node, Step) else None

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        node: Any = cell(current, OBJECT_ROLE)
        self.step_selected.emit(node if isinstance(node, Step) else None)

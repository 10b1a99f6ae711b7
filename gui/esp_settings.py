"""The ESP settings beside the composite view: timeout, skip flags, which buttons the user had,
the apps the ESP blocked on; and the note a setting adds to a step's meaning."""

from __future__ import annotations

from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QFrame, QGridLayout, QWidget

from core.esp.model import EspReport
from gui.fonts import derived
from gui.plain import plain_label, tooltip

APP_STEPS = ("DeviceSetup.AppsSubcategory", "AccountSetup.AppsSubcategory")
BUTTONS = (("allow_reset", "Reset device"), ("allow_try_again", "Try again"),
           ("allow_continue_anyway", "Continue anyway"), ("allow_collect_logs", "Collect logs"))


def _yes_no(value: bool | None) -> str:
    return "not in capture" if value is None else ("yes" if value else "no")


def blocking_apps(report: EspReport) -> list[str]:
    """Names of the apps the ESP tracked (and so blocked on) in its Apps steps."""
    names: list[str] = []
    for step_id in APP_STEPS:
        step = report.step(step_id)
        if step is not None:
            names.extend(item.name or item.id for item in step.items if item.kind != "provider")
    return names


class EspSettingsPanel(QFrame):
    """A compact grid of the profile's ESP settings (plain text; all values from the report)."""

    ROWS = ("ESP timeout", "Skip device status page", "Skip user status page", "Buttons shown",
            "Buttons hidden", "Blocking apps")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("espSettings")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        grid = QGridLayout(self)
        grid.setContentsMargins(8, 4, 8, 4)
        grid.setVerticalSpacing(2)
        heading = plain_label("ESP settings")
        heading.setFont(derived(heading.font(), bold=True))
        grid.addWidget(heading, 0, 0, 1, 2)
        self.values = {}
        for row, caption in enumerate(self.ROWS, start=1):
            label = plain_label(caption)
            label.setForegroundRole(QPalette.ColorRole.PlaceholderText)
            value = plain_label(selectable=True, wrap=True,
                                name="setting_" + caption.lower().replace(" ", "_"))
            grid.addWidget(label, row, 0)
            grid.addWidget(value, row, 1)
            self.values[caption] = value
        grid.setColumnStretch(1, 1)

    def set_report(self, report: EspReport | None) -> None:
        if report is None:
            for value in self.values.values():
                value.setText("")
            return
        settings = report.settings
        shown = [title for name, title in BUTTONS if getattr(settings, name) is True]
        hidden = [title for name, title in BUTTONS if getattr(settings, name) is False]
        apps = blocking_apps(report)
        timeout = settings.timeout_minutes
        texts = {
            "ESP timeout": f"{timeout} min" if timeout is not None else "not in capture",
            "Skip device status page": _yes_no(settings.skip_device_status_page),
            "Skip user status page": _yes_no(settings.skip_user_status_page),
            "Buttons shown": ", ".join(shown) or "none recorded",
            "Buttons hidden": ", ".join(hidden) or "none recorded",
            "Blocking apps": (f"{len(apps)}: " + ", ".join(apps[:4])
                              + (f" and {len(apps) - 4} more" if len(apps) > 4 else ""))
            if apps else "none tracked",
        }
        for caption, text in texts.items():
            self.values[caption].setText(text)
        self.values["Blocking apps"].setToolTip(tooltip("\n".join(apps)) or "")
        for caption, flag in (("Skip device status page", settings.skip_device_status_page),
                              ("Skip user status page", settings.skip_user_status_page)):
            font = self.values[caption].font()
            font.setBold(bool(flag))  # a skipped page changes what the steps mean
            self.values[caption].setFont(font)

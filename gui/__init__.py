"""ESPView desktop app (PySide6): shows an :class:`core.esp.model.EspReport`, parses nothing."""


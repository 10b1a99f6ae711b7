"""ESPView core: reads Autopilot/ESP evidence and analyses it. Never imports Qt."""

__version__ = "0.1.0"

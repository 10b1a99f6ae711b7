"""Back/Forward between the places the user visited (Alt+Left / Alt+Right), as a browser does.

A place is a ``(page, detail)`` pair the window can restore: a step and its tab, a timeline
row's provenance, a registry key path, a finding's row.
"""

from __future__ import annotations

Location = tuple[str, str]


class History:
    """Visited places with a cursor; visiting after going back drops the forward part."""

    LIMIT = 200

    def __init__(self) -> None:
        self._places: list[Location] = []
        self._at = -1

    def clear(self) -> None:
        self._places.clear()
        self._at = -1

    def visit(self, place: Location) -> None:
        if self._at >= 0 and self._places[self._at] == place:
            return
        del self._places[self._at + 1:]
        self._places.append(place)
        if len(self._places) > self.LIMIT:
            del self._places[0]
        self._at = len(self._places) - 1

    @property
    def current(self) -> Location | None:
        return self._places[self._at] if self._at >= 0 else None

    @property
    def can_back(self) -> bool:
        return self._at > 0

    @property
    def can_forward(self) -> bool:
        return self._at < len(self._places) - 1

    def back(self) -> Location | None:
        if not self.can_back:
            return None
        self._at -= 1
        return self._places[self._at]

    def forward(self) -> Location | None:
        if not self.can_forward:
            return None
        self._at += 1
        return self._places[self._at]

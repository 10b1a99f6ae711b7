"""Evidence: everything read from one input, ready for analysis.

:func:`load_evidence` (below) turns any supported path into an :class:`Evidence`; analysis
(:mod:`core.esp`) is a pure function of it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from core.events.model import EventRecord
from core.logs.model import LogLine
from core.problems import Problem
from core.registry.memory import MemoryView
from core.registry.model import RegistryView, RegKey

if TYPE_CHECKING:
    from core.sidefiles import SideFiles


@dataclass(frozen=True, slots=True)
class SourceInfo:
    """What was opened: ``kind`` is cab|zip|folder|reg|hive|evtx|log|live."""

    kind: str
    path: str
    files: tuple[str, ...] = ()


class CompositeView(RegistryView):
    """Several registry sources as one (an Intune zip holds several ``export.reg`` files).

    A key is looked up in each source in order; the first source that has it wins. Sources
    rarely overlap, and when they do the first (the primary dump) is the most complete.
    """

    def __init__(self, views: list[RegistryView]) -> None:
        self.views = views
        self.kind = views[0].kind if len(views) == 1 else "composite"

    def key(self, path: str) -> RegKey | None:
        for view in self.views:
            found = view.key(path)
            if found is not None:
                return found
        return None

    def roots(self) -> list[RegKey]:
        seen: dict[str, RegKey] = {}
        for view in self.views:
            for root in view.roots():
                seen.setdefault(root.path.casefold(), root)
        return list(seen.values())

    @property
    def problems(self) -> list[Problem]:
        return [p for view in self.views for p in view.problems]


@dataclass(slots=True)
class Evidence:
    """Registry view + event records + log lines + side files + problems, with provenance."""

    source: SourceInfo
    registry: RegistryView = field(default_factory=MemoryView)
    events: list[EventRecord] = field(default_factory=list)  # sorted by time
    logs: list[LogLine] = field(default_factory=list)  # sorted by time where known
    side_files: SideFiles | Any = None
    problems: list[Problem] = field(default_factory=list)

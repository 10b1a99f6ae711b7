"""Share of event records with a readable (template-based) message, per real capture.

Run: ``python -m tests.benchmarks.message_share``. For each ``mdmdiag-*`` cab it prints the
number of records, the share with a message from ``messages.toml`` (our own words, fields,
value maps, decoded codes) and, for comparison, the share the ESP event catalogue
(``events.toml`` entries, which carry no text) names; then the (provider, id) pairs still on
the generic ``Field=value`` line, most frequent first.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

from core.esp.knowledge import load
from core.events.messages import render_message
from core.evidence import load_evidence

REPO = Path(__file__).resolve().parents[2]
REAL = (REPO / ".." / "shared" / "fixtures" / "real").resolve()


def main() -> int:
    cabs = sorted(REAL.glob("mdmdiag-*/MDMDiagReport.cab"))
    if not cabs:
        print(f"no real cabs found under {REAL}")
        return 1
    knowledge = load()
    generic: Counter[tuple[str, int]] = Counter()
    for cab in cabs:
        events = load_evidence(cab).events
        templated = 0
        for event in events:
            if render_message(event)[1]:
                templated += 1
            else:
                generic[(event.provider, event.event_id)] += 1
        catalogue = sum(1 for e in events if knowledge.event(e.channel, e.event_id) is not None)
        total = max(len(events), 1)
        print(
            f"{cab.parent.name:<28} {len(events):6d} records  "
            f"messages {100 * templated / total:5.1f}%  "
            f"(event catalogue alone {100 * catalogue / total:5.1f}%)"
        )
    for (provider, event_id), count in generic.most_common(20):
        print(f"  generic: {count:5d} × {provider} {event_id}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

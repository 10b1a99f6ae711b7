"""The real captures (read at run time, structure only): every step shows what explains it,
and the SCEP failures of the failed step are tied to it."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from core.esp.analyze import analyze
from core.evidence import load_evidence
from tests.core.esp.invariants import assert_steps_explain_themselves
from tests.core.esp.link_counts import link_counts

pytestmark = pytest.mark.real

BUNDLES = ["mdmdiag-itziktdk-MyRes", "mdmdiag-joopjaeng-jaeng", "mdmdiag-shahzadssd-logfile"]


@pytest.mark.parametrize("bundle", BUNDLES)
def test_every_step_explains_itself_on_real_captures(real_dir: Path, bundle: str) -> None:
    evidence = load_evidence(real_dir / bundle / "MDMDiagReport.cab")
    report = analyze(evidence)
    assert_steps_explain_themselves(report)
    for phase in report.phases:
        assert phase.status_reason
        for step in phase.steps:
            assert step.status_reason
            if step.started is not None:
                assert step.started_source
    counts = link_counts(evidence, report)
    assert counts.tied_events <= counts.relevant_events


def test_real_failed_certificates_step_lists_its_failures(real_dir: Path) -> None:
    evidence = load_evidence(real_dir / BUNDLES[0] / "MDMDiagReport.cab")
    report = analyze(evidence)
    failed = report.first_failed_step
    assert failed is not None
    assert len([e for e in failed.events if e.level == "Error"]) >= 10
    assert failed.started is not None
    assert failed.ended is not None


def test_the_check_catches_a_step_that_hides_cited_evidence(real_dir: Path) -> None:
    evidence = load_evidence(real_dir / BUNDLES[0] / "MDMDiagReport.cab")
    report = analyze(evidence)
    failed = report.first_failed_step
    assert failed is not None
    hidden = dataclasses.replace(failed, events=())
    phases = tuple(
        dataclasses.replace(p, steps=tuple(hidden if s is failed else s for s in p.steps))
        for p in report.phases
    )
    broken = dataclasses.replace(report, phases=phases)  # type: ignore[arg-type]
    with pytest.raises(AssertionError):
        assert_steps_explain_themselves(broken)

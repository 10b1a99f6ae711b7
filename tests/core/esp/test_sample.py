"""The bundled sample (``resources/samples/sample.cab``): reproducible from its generator, and
its report tells a technician in the first lines what failed, why and what to do first."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from core.cli import sample_path
from core.esp.analyze import analyze
from core.evidence import load_evidence
from core.report.json_report import report_to_dict
from tests.builders.make_sample import FAILED_TEXT, SAMPLE, build

REPO = Path(__file__).resolve().parents[3]


def test_committed_sample_is_what_the_generator_writes() -> None:
    assert sample_path().resolve() == SAMPLE.resolve()
    data = SAMPLE.read_bytes()
    assert data == build().cab_bytes("mszip"), "run: python -m tests.builders.make_sample"
    assert len(data) < 200_000


def test_sample_verdict_and_evidence() -> None:
    report = analyze(load_evidence(SAMPLE))
    report_to_dict(report)  # schema-validated in the test session
    assert not report.source.problems
    assert report.device.deployment_mode == "user_driven"
    step = report.first_failed_step
    assert step is not None
    assert (step.id, step.status_text, step.hresult) == (
        "DeviceSetup.AppsSubcategory",
        FAILED_TEXT,
        "0x87D1041C",
    )
    apps = sorted((i.name, i.status, i.hresult) for i in step.items if i.kind == "win32")
    assert apps == [
        ("Contoso Notes", "succeeded", None),
        ("Contoso Print Helper", "succeeded", None),
        ("Contoso VPN Client", "failed", "0x87D1041C"),
    ]
    assert step.events
    assert step.hint is not None
    assert "detection rule" in step.hint.text
    top = report.findings[0]
    assert (top.id, top.step, top.severity) == ("win32_failed", step.id, "error")
    assert any("applicationDetectedByCurrentRule: False" in e for e in top.evidence)
    assert [p.status for p in report.phases] == ["succeeded", "failed", "not_started"]
    assert not [f for f in report.findings if f.severity == "error" and f.step != step.id]
    assert any(t.kind == "log" for t in report.timeline)


def test_sample_text_report_says_it_in_the_first_lines(tmp_path: Path) -> None:
    env = dict(os.environ, ESPVIEW_CACHE_DIR=str(tmp_path))
    done = subprocess.run(
        [sys.executable, "-m", "core.cli", "report", "--sample", "--text"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    head = "\n".join(done.stdout.splitlines()[:15])
    assert "Device setup › Apps" in head.splitlines()[0]  # what failed, where
    assert "0x87D1041C" in head
    assert "Contoso VPN Client" in head  # which app
    assert "detection rule" in head  # the cause and the first thing to do

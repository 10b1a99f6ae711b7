"""Suite-wide fixtures: where the real captures live, and a private cache per test session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from core import config
from core.config import Settings

REPO = Path(__file__).resolve().parent.parent
REAL = (REPO / ".." / "shared" / "fixtures" / "real").resolve()


@pytest.fixture(scope="session")
def real_dir() -> Path:
    """``../shared/fixtures/real`` (read-only real captures); skips the test when absent."""
    if not REAL.is_dir():
        pytest.skip("the real captures in ../shared/fixtures/real are not here")
    return REAL


@pytest.fixture(autouse=True, scope="session")
def _private_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Tests never touch the user's real cache folder: the suite is an edge that reads the
    environment into the settings (core.config) as the CLI does; subprocesses inherit it."""
    if "ESPVIEW_CACHE_DIR" not in os.environ:
        os.environ["ESPVIEW_CACHE_DIR"] = str(tmp_path_factory.mktemp("espview-cache"))
    config.use(Settings.from_environ(os.environ))


# Every report serialised anywhere in the suite is checked against the JSON Schema
# (core.report.json_report.report_to_dict validates when the settings say so).
os.environ.setdefault("ESPVIEW_VALIDATE_REPORTS", "1")
config.use(Settings.from_environ(os.environ))

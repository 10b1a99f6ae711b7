"""The rules' scenario tests run captures through the same pipeline as the scenarios."""

from tests.core.esp.scenarios.conftest import run  # noqa: F401 - shared fixture

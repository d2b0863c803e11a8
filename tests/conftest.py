"""Shared fixtures: real components are required under CI (CI=true), skipped loudly elsewhere."""

from __future__ import annotations

import os

import pytest

from sheets_sync.libreoffice import soffice_path

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require(component: str, available: bool, install_hint: str) -> None:
    """Skip a test whose real component is missing, except under CI where it fails."""
    if available:
        return
    message = f"{component} is not installed ({install_hint})"
    if IN_CI:
        pytest.fail(f"{message}: CI must install it (scripts/install-system-deps.sh)")
    pytest.skip(message)


@pytest.fixture(scope="session")
def soffice() -> str:
    """The LibreOffice executable (real recalculation engine)."""
    path = soffice_path()
    require("LibreOffice", path is not None, "apt-get install libreoffice-calc-nogui")
    assert path is not None
    return path


# Under CI, property tests run a fixed sequence of examples (reproducible runs, no example
# database carried between machines); locally they explore new examples every run.
try:
    from hypothesis import settings as _hypothesis_settings

    _hypothesis_settings.register_profile("ci", derandomize=True, database=None)
    if IN_CI:
        _hypothesis_settings.load_profile("ci")
except ImportError:  # pragma: no cover - hypothesis is a dev dependency
    pass

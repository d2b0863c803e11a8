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

"""Shared fixtures. Real-data tests read ``../shared/data`` and skip when it is absent."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("SCALINGLAB_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Path to the shared real data sets; skips the test when they are not present."""
    if not SHARED_DATA.is_dir():
        pytest.skip(
            f"real data not found at {SHARED_DATA}; set SCALINGLAB_SHARED_DATA "
            "to the shared/data folder to run this test"
        )
    return SHARED_DATA

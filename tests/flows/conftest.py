"""Fixtures for the flow tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fixtures_audio import make_bad_files


@pytest.fixture
def bad_files(tmp_path: Path) -> dict[str, Path]:
    return make_bad_files(tmp_path / "bad")

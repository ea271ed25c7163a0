"""Fixtures every test may use: the shared corpus and seeded synthetic signals."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
CORPUS = Path(os.environ.get("STEMCRATE_CORPUS", REPO.parent / "shared" / "corpus"))


@pytest.fixture(scope="session")
def corpus() -> Path:
    """The shared real-audio corpus (``../shared/corpus``)."""
    if not CORPUS.is_dir():
        pytest.fail(f"shared corpus not found at {CORPUS} (set STEMCRATE_CORPUS)")
    return CORPUS


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)


@pytest.fixture
def settings_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point every STEMCRATE_ setting at a fresh data home under ``tmp_path``."""
    home = tmp_path / "home"
    for key in list(os.environ):
        if key.startswith("STEMCRATE_") and key != "STEMCRATE_CORPUS":
            monkeypatch.delenv(key)
    monkeypatch.setenv("STEMCRATE_HOME", str(home))
    return home


@pytest.fixture(scope="session")
def prefect_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One real temporary Prefect server for the session; yields its API URL."""
    os.environ["PREFECT_HOME"] = str(tmp_path_factory.mktemp("prefect-home"))
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield str(PREFECT_API_URL.value())

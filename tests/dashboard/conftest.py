"""Fixtures for the dashboard tests: a real library, the served dashboard, Debian Chromium."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from tests.dashboard.library_data import BuiltLibrary, build_library

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
]
MAX_UPLOAD_MB = 2
PREFECT_UI = "http://prefect.invalid:4200"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def dash_library(tmp_path_factory: pytest.TempPathFactory, corpus: Path) -> BuiltLibrary:
    home = tmp_path_factory.mktemp("dashboard") / "home"
    return build_library(home, corpus, np.random.default_rng(7))


@pytest.fixture(scope="session")
def dashboard_url(dash_library: BuiltLibrary) -> Iterator[str]:
    """``stemcrate dashboard`` serving the test library (a real subprocess)."""
    port = free_port()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("STEMCRATE_", "PREFECT_")) or k == "STEMCRATE_CORPUS"}
    env.update({
        "STEMCRATE_HOME": str(dash_library.home),
        "STEMCRATE_MAX_UPLOAD_MB": str(MAX_UPLOAD_MB),
        "STEMCRATE_STAGES": "",  # uploads are ingested (analysis) without model stages
        "STEMCRATE_POLL_S": "0.5",
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
        "PYTHONUNBUFFERED": "1",
        "PREFECT_UI_URL": PREFECT_UI,
    })
    log = open(dash_library.home / "dashboard.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen(
        [sys.executable, "-m", "stemcrate.cli", "dashboard", "--port", str(port),
         "--no-browser"], env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 90
    while True:
        if proc.poll() is not None:
            log.close()
            pytest.fail("the dashboard exited:\n"
                        + (dash_library.home / "dashboard.log").read_text()[-3000:])
        try:
            with urllib.request.urlopen(url, timeout=5) as resp:
                if resp.status == 200:
                    break
        except OSError:
            pass
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail("the dashboard did not answer within 90 s")
        time.sleep(0.3)
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Debian Chromium not found at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: object, dashboard_url: str) -> Iterator[object]:
    """A fresh page; JavaScript dialogs are recorded in ``page.dialogs`` (and dismissed)."""
    context = browser.new_context(viewport={"width": 1400, "height": 900},  # type: ignore[attr-defined]
                                  accept_downloads=True)
    pg = context.new_page()
    pg.set_default_timeout(30_000)
    dialogs: list[str] = []
    pg.dialogs = dialogs

    def on_dialog(d: object) -> None:
        dialogs.append(d.message)  # type: ignore[attr-defined]
        d.dismiss()  # type: ignore[attr-defined]

    pg.on("dialog", on_dialog)
    yield pg
    context.close()

"""Whole-system tests: the real `stemcrate` command in subprocesses."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(predicate: Callable[[], object], *, timeout_s: float, what: str,
              poll_s: float = 0.5) -> object:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(poll_s)
    raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}")


class Stemcrate:
    """Starts `stemcrate …` subprocesses with one data home; kills them at the end."""

    def __init__(self, home: Path, env: dict[str, str]) -> None:
        self.home = home
        self.env = env
        self.procs: list[subprocess.Popen[str]] = []

    def start(self, *args: str) -> subprocess.Popen[str]:
        log = open(self.home / f"{args[0]}-{len(self.procs)}.log", "w")  # noqa: SIM115
        proc = subprocess.Popen([sys.executable, "-m", "stemcrate.cli", *args], env=self.env,
                                stdout=log, stderr=subprocess.STDOUT, text=True,
                                start_new_session=True)
        self.procs.append(proc)
        return proc

    def run(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "stemcrate.cli", *args], env=self.env,
                              capture_output=True, text=True, timeout=timeout)

    def logs(self) -> str:
        return "\n".join(p.read_text() for p in sorted(self.home.glob("*.log")))

    def kill_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                proc.wait()


@pytest.fixture
def stemcrate_cmd(tmp_path: Path) -> Iterator[Stemcrate]:
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("STEMCRATE_", "PREFECT_")) or k == "STEMCRATE_CORPUS"}
    env.update(STEMCRATE_HOME=str(home), STEMCRATE_POLL_S="0.5",
               PREFECT_HOME=str(home / "prefect"), PREFECT_LOGGING_LEVEL="WARNING",
               PREFECT_SERVER_ANALYTICS_ENABLED="false",
               STEMCRATE_PREFECT_PORT=str(free_port()), STEMCRATE_PORT=str(free_port()),
               STEMCRATE_SEPARATION_REPO=str(home / "no-models"))
    (home / "no-models").mkdir()
    crate = Stemcrate(home, env)
    yield crate
    crate.kill_all()


@pytest.fixture
def bad_files_system(tmp_path: Path) -> dict[str, Path]:
    from tests.fixtures_audio import make_bad_files

    return make_bad_files(tmp_path / "bad")

"""``stemcrate up``: the long-running parts, started and stopped together.

1. The Prefect API: ``PREFECT_API_URL`` when the user has one, else a local
   ``prefect server start`` child process (its database under ``<home>/prefect``).
2. The flow runner: a child process serving the ``ingest`` and ``process_track``
   deployments (no work pool to create).
3. The inbox watcher, submitting each ready file as an ``ingest/inbox`` flow run.
4. The catalogue owner: applies new manifests every ``poll_s`` (the dashboard does it too
   when it runs in this process); on start and every few minutes it re-submits tracks whose
   stages a dead process left ``pending``/``running``.
5. The dashboard, when built and not disabled.

Children get SIGTERM when this process dies (Linux ``PR_SET_PDEATHSIG``), and SIGTERM then
SIGKILL on a clean stop.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from stemcrate.config import Settings
from stemcrate.errors import StemcrateError

log = logging.getLogger("stemcrate")

RECOVERY_PERIOD_S = 300.0
STALE_AFTER_S = 4 * 3600.0  # longer than any task timeout


def _die_with_parent() -> None:  # runs in the child before exec
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except Exception:  # noqa: BLE001 - not Linux: children are stopped by stop() only
        pass


def port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def wait_http(url: str, *, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:  # noqa: S310 - loopback
                if resp.status < 500:
                    return True
        except OSError:
            pass
        time.sleep(0.5)
    return False


class Services:
    """Everything ``stemcrate up`` runs (see the module docstring)."""

    def __init__(self, settings: Settings, *, dashboard: bool = True, host: str = "127.0.0.1",
                 port: int = 5006, prefect_port: int = 4200) -> None:
        self.settings = settings
        self.want_dashboard = dashboard
        self.host = host
        self.port = port
        self.prefect_port = prefect_port
        self.children: list[subprocess.Popen[bytes]] = []
        self.prefect_ui_url = ""
        self.dashboard_url = ""
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._watcher: Any = None
        self._submitter: Any = None
        self._dashboard: Any = None
        self.logs = settings.home / "logs"

    # -- start ----------------------------------------------------------------------------
    def start(self, *, echo: Callable[[str], None] = print) -> None:
        self.logs.mkdir(parents=True, exist_ok=True)
        api = os.environ.get("PREFECT_API_URL")
        if api:
            echo(f"using the Prefect API at {api}")
        else:
            api = self._start_prefect_server(echo)
        os.environ["PREFECT_API_URL"] = api
        self.prefect_ui_url = os.environ.get("PREFECT_UI_URL") or api.rstrip("/").removesuffix(
            "/api")
        self._start_runner(echo)
        self._start_watcher()
        self._start_owner_loop()
        if self.want_dashboard:
            self._start_dashboard(echo)

    def _spawn(self, name: str, args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        log_file = open(self.logs / f"{name}.log", "ab")  # noqa: SIM115 - closed by the child
        proc = subprocess.Popen(args, env=env, stdout=log_file, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent)
        log_file.close()
        self.children.append(proc)
        return proc

    def _start_prefect_server(self, echo: Callable[[str], None]) -> str:
        host, port = "127.0.0.1", self.prefect_port
        if not port_free(host, port):
            raise StemcrateError(
                f"port {port} is in use, so a local Prefect server cannot start there: set "
                "STEMCRATE_PREFECT_PORT (or --prefect-port) to a free port, or set "
                "PREFECT_API_URL to use a Prefect server you already run")
        echo(f"starting a local Prefect server on {host}:{port} (log: {self.logs}/prefect.log)")
        env = dict(os.environ)
        env.pop("PREFECT_API_URL", None)
        env["PREFECT_SERVER_API_HOST"] = host
        env["PREFECT_SERVER_API_PORT"] = str(port)
        proc = self._spawn("prefect", [sys.executable, "-m", "prefect", "server", "start",
                                       "--host", host, "--port", str(port)], env)
        api = f"http://{host}:{port}/api"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise StemcrateError(f"the Prefect server exited (code {proc.returncode}); "
                                     f"see {self.logs}/prefect.log")
            if wait_http(f"{api}/health", timeout_s=1):
                return api
        raise StemcrateError(f"the Prefect server did not answer at {api} within 120 s; "
                             f"see {self.logs}/prefect.log")

    def _start_runner(self, echo: Callable[[str], None]) -> None:
        env = dict(os.environ)
        env.setdefault("PREFECT_RUNNER_POLL_FREQUENCY", "2")
        echo(f"starting the flow runner (log: {self.logs}/runner.log)")
        proc = self._spawn("runner", [sys.executable, "-m", "stemcrate.flows.runner"], env)
        from prefect import get_client

        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise StemcrateError(f"the flow runner exited (code {proc.returncode}); "
                                     f"see {self.logs}/runner.log")
            try:
                with get_client(sync_client=True) as client:
                    client.read_deployment_by_name("ingest/inbox")
                    client.read_deployment_by_name("process_track/default")
                return
            except Exception:  # noqa: BLE001 - not registered yet
                time.sleep(1)
        raise StemcrateError(f"the flow runner did not register its deployments within 120 s; "
                             f"see {self.logs}/runner.log")

    def _start_watcher(self) -> None:
        from stemcrate.flows.runner import DeploymentSubmitter
        from stemcrate.inbox import InboxWatcher

        self._submitter = DeploymentSubmitter(self.settings, on_done=self._release,
                                              poll_s=self.settings.poll_s)
        self._submitter.start()
        self._watcher = InboxWatcher(self.settings.inbox_path, self._submitter.submit,
                                     poll_s=self.settings.poll_s)
        self._watcher.start()

    def _release(self, path: Path) -> None:
        if self._watcher is not None:
            self._watcher.release(path)

    def _start_owner_loop(self) -> None:
        thread = threading.Thread(target=self._owner_loop, name="stemcrate-catalogue",
                                  daemon=True)
        thread.start()
        self._threads.append(thread)

    def _owner_loop(self) -> None:
        from stemcrate.flows.runner import stale_tracks
        from stemcrate.storage import open_library

        lib = open_library(self.settings)
        started = time.time()
        next_recovery = 0.0
        first = True
        while not self._stop.is_set():
            try:
                lib.sync()
                if time.monotonic() >= next_recovery:
                    if first:
                        lib.catalogue.reconcile(lib.store)
                    # on start, whatever was left pending/running before we started is
                    # dead; later, only what is older than any task could run
                    age = time.time() - started if first else STALE_AFTER_S
                    for tid in stale_tracks(self.settings, older_than_s=age):
                        log.warning("re-submitting unfinished stages of track %s", tid)
                        self._submitter.submit_process(tid)
                    first = False
                    next_recovery = time.monotonic() + RECOVERY_PERIOD_S
            except Exception:  # noqa: BLE001 - keep owning the catalogue
                log.exception("catalogue upkeep failed")
            self._stop.wait(self.settings.poll_s)

    def _start_dashboard(self, echo: Callable[[str], None]) -> None:
        try:
            from stemcrate.dashboard import serve_dashboard
        except ImportError:
            echo("dashboard not available in this build")
            return
        self._dashboard = serve_dashboard(self.settings, host=self.host, port=self.port,
                                          show=False, threaded=True,
                                          on_upload=None)
        self.dashboard_url = f"http://{self.host}:{self.port}"

    # -- stop -----------------------------------------------------------------------------
    def stop(self) -> None:
        self._stop.set()
        for part in (self._watcher, self._submitter):
            if part is not None:
                with contextlib.suppress(Exception):
                    part.stop()
        if self._dashboard is not None:
            with contextlib.suppress(Exception):
                self._dashboard.stop()
        for proc in reversed(self.children):
            if proc.poll() is None:
                proc.terminate()
        deadline = time.monotonic() + 15
        for proc in reversed(self.children):
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

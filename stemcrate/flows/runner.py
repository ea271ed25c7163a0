"""Running the flows: in-process (CLI, ``watch``, ``dashboard``) or through deployments (``up``).

* :class:`LocalRunner` runs ``ingest`` in a background thread of this process, one file
  at a time, and applies the results to the catalogue (this process owns it).
* :class:`DeploymentSubmitter` creates flow runs of the served ``ingest/inbox`` deployment
  on the Prefect API (``stemcrate up``), and watches them to release inbox files when they
  end, whatever the end (a ``Crashed`` run's file is picked up again by the next rescan).
* :func:`serve_flows` is the flow runner process of ``stemcrate up``.
* :func:`stale_tracks` finds tracks whose stages were left ``pending``/``running`` by a
  process that died, so ``up`` can re-submit them (idempotent: finished stages are cached).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from stemcrate.config import Settings

log = logging.getLogger("stemcrate")

INGEST_DEPLOYMENT = "ingest/inbox"
PROCESS_DEPLOYMENT = "process_track/default"


class LocalRunner:
    """Runs the ``ingest`` flow in-process for files handed to :meth:`submit`."""

    def __init__(self, settings: Settings, *, on_done: Callable[[Path], None] | None = None,
                 sync: bool = True) -> None:
        self.settings = settings
        self.on_done = on_done
        self.sync = sync
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="stemcrate-ingest")

    def submit(self, path: Path) -> Future[Any]:
        future = self._pool.submit(self._run, Path(path))
        return future

    def _run(self, path: Path) -> list[dict[str, Any]]:
        from stemcrate.flows.pipeline import ingest
        from stemcrate.storage import open_library

        try:
            inbox = self.settings.inbox_path
            inside = path.resolve().is_relative_to(inbox.resolve())
            return ingest([str(path)], inbox=str(inbox) if inside else None)
        except Exception:
            log.exception("ingest of %s failed", path)
            raise
        finally:
            if self.sync:
                try:
                    open_library(self.settings).sync()
                except Exception:  # noqa: BLE001
                    log.exception("applying results to the catalogue failed")
            if self.on_done is not None:
                self.on_done(path)

    def shutdown(self, *, wait: bool = True) -> None:
        self._pool.shutdown(wait=wait, cancel_futures=not wait)


_background: LocalRunner | None = None
_background_lock = threading.Lock()


def ingest_in_background(path: Path, settings: Settings) -> Future[Any]:
    """Ingest ``path`` in this process's background runner (created on first use)."""
    global _background
    with _background_lock:
        if _background is None:
            _background = LocalRunner(settings)
    return _background.submit(path)


class DeploymentSubmitter:
    """Submits inbox files as flow runs of the served ingest deployment (``up``)."""

    def __init__(self, settings: Settings, *, on_done: Callable[[Path], None],
                 poll_s: float = 2.0) -> None:
        self.settings = settings
        self.on_done = on_done
        self.poll_s = poll_s
        self._in_flight: dict[str, Path] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="stemcrate-runs",
                                        daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def submit(self, path: Path) -> None:
        from prefect.deployments import run_deployment

        inbox = self.settings.inbox_path
        run: Any = run_deployment(INGEST_DEPLOYMENT, timeout=0,
                                  parameters={"paths": [str(path)], "inbox": str(inbox)})
        log.info("submitted %s as flow run %s", path, run.id)
        with self._lock:
            self._in_flight[str(run.id)] = Path(path)

    def submit_process(self, track_id: str) -> str:
        from prefect.deployments import run_deployment

        run: Any = run_deployment(PROCESS_DEPLOYMENT, timeout=0,
                                  parameters={"track_id": track_id})
        return str(run.id)

    def _watch(self) -> None:
        from prefect import get_client

        while not self._stop.wait(self.poll_s):
            with self._lock:
                pending = dict(self._in_flight)
            if not pending:
                continue
            try:
                with get_client(sync_client=True) as client:
                    for run_id, path in pending.items():
                        run = client.read_flow_run(run_id)  # type: ignore[arg-type]
                        if run.state is not None and run.state.is_final():
                            with self._lock:
                                self._in_flight.pop(run_id, None)
                            self.on_done(path)
            except Exception:  # noqa: BLE001 - the API may be restarting; try again later
                log.warning("could not read flow run states", exc_info=True)


def serve_flows(limit: int = 2) -> None:
    """Serve the ``ingest`` and ``process_track`` deployments (blocks; the runner process)."""
    from prefect import serve

    from stemcrate.flows.pipeline import ingest, process_track

    deployments: list[Any] = [
        ingest.to_deployment(name="inbox", description="Ingest files dropped into the inbox"),
        process_track.to_deployment(name="default", description="Run stages for a track"),
    ]
    serve(
        *deployments,
        limit=limit,
        print_starting_message=False,
    )


def stale_tracks(settings: Settings, *, older_than_s: float = 0.0) -> list[str]:
    """Tracks with a stage left ``pending``/``running`` (longer than ``older_than_s``)."""
    from stemcrate.storage import open_library

    lib = open_library(settings)
    lib.sync()
    from datetime import datetime, timedelta, timezone

    cutoff = datetime.now(timezone.utc).replace(tzinfo=None) - timedelta(seconds=older_than_s)
    rows = lib.catalogue.query(
        "SELECT DISTINCT track_id FROM runs WHERE state IN ('pending', 'running') "
        "AND stage <> 'ingest' AND updated_at < CAST(? AS TIMESTAMP)", [cutoff.isoformat()])
    return [r["track_id"] for r in rows]


if __name__ == "__main__":
    serve_flows()

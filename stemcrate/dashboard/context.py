"""What every session of the dashboard shares: the library, the catalogue version, helpers.

One :class:`DashboardContext` lives per served dashboard. Its sync thread owns the
catalogue while the dashboard runs: every ``poll_s`` (clamped to 0.5–2 s) it applies the
pending manifests (:meth:`Library.sync`) and, when something changed, bumps ``version``;
each browser session polls that counter and refreshes its view (no reload needed).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from stemcrate.dashboard.queries import EmbeddingCache

if TYPE_CHECKING:
    from stemcrate.config import Settings
    from stemcrate.storage import Library

log = logging.getLogger("stemcrate.dashboard")


def prefect_ui_url() -> str | None:
    """The Prefect UI's base URL: ``PREFECT_UI_URL``, else ``PREFECT_API_URL`` minus ``/api``."""
    ui = os.environ.get("PREFECT_UI_URL")
    if ui:
        return ui.rstrip("/")
    api = os.environ.get("PREFECT_API_URL")
    if api:
        api = api.rstrip("/")
        return api[: -len("/api")] if api.endswith("/api") else api
    return None


class DashboardContext:
    """The shared state of one served dashboard (thread-safe)."""

    def __init__(self, settings: Settings, library: Library, *,
                 on_upload: Callable[[Path], None] | None = None,
                 auth: bool = False) -> None:
        self.settings = settings
        self.library = library
        self.on_upload = on_upload
        self.auth = auth
        self.version = 0
        self._seen: tuple[Any, str] = (None, "")
        self.sync_error: str | None = None
        self.embeddings = EmbeddingCache()
        self._sync_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.poll_s = min(max(float(settings.poll_s), 0.5), 2.0)

    # -- places ---------------------------------------------------------------------------
    @property
    def uploads_dir(self) -> Path:
        """Where uploads land: ``<inbox>/uploads`` (the inbox watcher ingests them)."""
        return self.settings.inbox_path / "uploads"

    @property
    def exports_dir(self) -> Path:
        """Where dashboard exports are written (served under ``/exports/``)."""
        return Path(self.settings.home) / "exports"

    @property
    def max_upload_bytes(self) -> int:
        return int(self.settings.max_upload_mb) * 1024 * 1024

    def media_url(self, uri: str | None) -> str | None:
        """The dashboard URL (``media/<key>``, relative) of a store URI, or ``None``."""
        if not uri:
            return None
        try:
            key = self.library.store.key_of(uri)
        except Exception:  # noqa: BLE001 - a URI of another store: not servable
            return None
        return "media/" + quote(key)

    # -- catalogue ownership --------------------------------------------------------------
    def sync(self) -> int:
        """Apply pending manifests now; bump ``version`` when any were applied."""
        with self._sync_lock:
            try:
                applied = self.library.sync()
                marker = self.library.catalogue.query(
                    "SELECT count(*) AS n, max(created_at) AS last FROM applied_manifests")[0]
                self.sync_error = None
            except Exception as exc:  # noqa: BLE001 - keep serving; show the error
                log.exception("applying manifests failed")
                self.sync_error = str(exc)
                return 0
            # another owner in this process (``up``'s loop, an ingest runner) may have applied
            # them first: compare what the catalogue holds, not what we applied
            seen = (marker["n"], str(marker["last"]))
            if applied or seen != self._seen:
                self._seen = seen
                self.version += 1
            return applied

    def start(self) -> None:
        """Start the background sync thread (idempotent)."""
        if self._thread is not None:
            return
        self.sync()

        def loop() -> None:
            while not self._stop.wait(self.poll_s):
                self.sync()

        self._thread = threading.Thread(target=loop, name="stemcrate-dashboard-sync",
                                        daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

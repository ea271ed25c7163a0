"""Serving the dashboard: :func:`serve_dashboard` (used by ``stemcrate dashboard`` and
``stemcrate up``).

Pages: ``/`` (library), ``/track?id=…``, ``/samples`` — plus the HTTP endpoints of
:mod:`stemcrate.dashboard.handlers` (``/media/<key>``, ``/upload``, ``/exports/…``).

The process that serves the dashboard owns the catalogue: a background thread applies
pending manifests every ``poll_s`` (0.5–2 s) and the open pages refresh themselves.

Login (for anything but localhost): set ``STEMCRATE_DASHBOARD_PASSWORD`` (or pass
``password=``) to turn on Panel's basic auth (a login page; a signed cookie; the media,
upload and export endpoints check the same cookie). ``STEMCRATE_DASHBOARD_COOKIE_SECRET``
keeps sessions valid across restarts (random per start otherwise). For OAuth, pass Panel's
``oauth_provider``/``oauth_key``/``oauth_secret``/``cookie_secret`` through ``**panel_kwargs``
(see Panel's "Authentication" guide).
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from stemcrate.config import Settings
    from stemcrate.dashboard.context import DashboardContext

log = logging.getLogger("stemcrate.dashboard")

PASSWORD_ENV = "STEMCRATE_DASHBOARD_PASSWORD"
COOKIE_SECRET_ENV = "STEMCRATE_DASHBOARD_COOKIE_SECRET"


def build_apps(ctx: DashboardContext) -> dict[str, Callable[[], Any]]:
    """The Panel page factories by route (each call builds a page for one session)."""
    from stemcrate.dashboard.views.library import library_view
    from stemcrate.dashboard.views.samples import samples_view
    from stemcrate.dashboard.views.track import track_view

    return {
        "/": lambda: library_view(ctx),
        "/track": lambda: track_view(ctx),
        "/samples": lambda: samples_view(ctx),
    }


def serve_dashboard(settings: Settings, *, host: str | None = None, port: int | None = None,
                    show: bool = False, on_upload: Callable[[Path], None] | None = None,
                    threaded: bool = False, password: str | None = None,
                    **panel_kwargs: Any) -> Any:
    """Serve the dashboard for ``settings``' library.

    Parameters
    ----------
    host, port : where to listen (default ``settings.host``/``settings.port``,
        127.0.0.1:5006).
    show : open a browser tab.
    on_upload : called (on a worker thread) with the final path of every uploaded file in
        ``<inbox>/uploads``; ``None`` leaves the file to the inbox watcher.
    threaded : ``False`` blocks serving until interrupted (the CLI); ``True`` starts the
        server on its own thread and returns a handle with ``.stop()`` (``stemcrate up``).
    password : turns on basic auth (default: ``$STEMCRATE_DASHBOARD_PASSWORD``).
    panel_kwargs : passed to ``panel.serve`` (e.g. OAuth options).

    Returns the Panel server once it stopped (blocking), or a :class:`DashboardHandle`
    (``threaded``).
    """
    import panel as pn

    from stemcrate.dashboard.context import DashboardContext
    from stemcrate.dashboard.handlers import patterns
    from stemcrate.storage import open_library

    host = host or settings.host
    port = int(port if port is not None else settings.port)
    password = password if password is not None else os.environ.get(PASSWORD_ENV) or None
    library = open_library(settings)
    ctx = DashboardContext(settings, library, on_upload=on_upload, auth=bool(password))
    ctx.uploads_dir.mkdir(parents=True, exist_ok=True)
    ctx.exports_dir.mkdir(parents=True, exist_ok=True)
    ctx.start()

    origins = ["*"] if host in ("0.0.0.0", "::", "") else sorted(
        {f"{host}:{port}", f"localhost:{port}", f"127.0.0.1:{port}"})
    kwargs: dict[str, Any] = {
        "port": port, "address": host, "show": show, "threaded": threaded,
        "websocket_origin": origins, "title": {"/": "stemcrate — library",
                                               "/track": "stemcrate — track",
                                               "/samples": "stemcrate — samples"},
        "extra_patterns": patterns(ctx),
    }
    if password:
        kwargs["basic_auth"] = password
        kwargs["cookie_secret"] = os.environ.get(COOKIE_SECRET_ENV) or secrets.token_hex(32)
    kwargs.update(panel_kwargs)
    log.info("dashboard on http://%s:%d (store %s)", host, port, library.store.url)
    try:
        server = pn.serve(build_apps(ctx), **kwargs)
    except BaseException:
        ctx.stop()
        raise
    if not threaded:
        ctx.stop()
        return server
    return DashboardHandle(server, ctx, f"http://{host}:{port}/")


class DashboardHandle:
    """A dashboard served on its own thread: ``url``, ``context``, ``stop()``."""

    def __init__(self, thread: Any, context: DashboardContext, url: str) -> None:
        self.thread = thread
        self.context = context
        self.url = url

    def stop(self) -> None:
        """Stop serving and the catalogue sync thread."""
        self.context.stop()
        try:
            self.thread.stop()
        except Exception:  # noqa: BLE001 - already stopped
            pass


def run_forever(settings: Settings, **kwargs: Any) -> None:
    """Serve until interrupted (what ``stemcrate dashboard`` runs)."""
    serve_dashboard(settings, threaded=False, **kwargs)

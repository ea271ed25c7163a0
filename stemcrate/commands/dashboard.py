"""``stemcrate dashboard``: serve the Panel dashboard (library, track, samples pages).

The process owns the catalogue while it runs (applies new results every ``poll_s``) and
watches the inbox (``stemcrate.inbox.InboxWatcher`` + an in-process ``LocalRunner``, as
``stemcrate watch`` does); uploads land in ``<inbox>/uploads`` and take that same path.
Set ``STEMCRATE_DASHBOARD_PASSWORD`` to require a login (Panel basic auth) when serving
beyond localhost.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:
    from stemcrate.config import Settings


def register(app: typer.Typer) -> None:
    @app.command("dashboard")
    def dashboard(
        host: str | None = typer.Option(None, help="Address to listen on (default: settings, "
                                                   "127.0.0.1)."),
        port: int | None = typer.Option(None, help="Port (default: settings, 5006)."),
        no_browser: bool = typer.Option(False, "--no-browser",
                                        help="Do not open a browser tab."),
    ) -> None:
        """Serve the dashboard: browse, search, play and mix stems, edit, upload, export."""
        from stemcrate.commands import fail
        from stemcrate.commands.common import load_settings

        settings = load_settings()
        from stemcrate.dashboard.server import PASSWORD_ENV, serve_dashboard

        watcher, runner, on_upload = _start_inbox(settings)
        host = host or settings.host
        port = port if port is not None else settings.port
        import os

        if host not in ("127.0.0.1", "localhost", "::1") and not os.environ.get(PASSWORD_ENV):
            typer.echo(f"warning: serving on {host} without a login; set {PASSWORD_ENV} "
                       "to require one", err=True)
        typer.echo(f"Dashboard: http://{host}:{port}/", err=True)
        typer.echo(f"Uploads land in {settings.inbox_path / 'uploads'}", err=True)
        try:
            serve_dashboard(settings, host=host, port=port, show=not no_browser,
                            on_upload=on_upload)
        except OSError as exc:
            fail(f"cannot serve on {host}:{port}: {exc}")
        finally:
            if watcher is not None:
                watcher.stop()
            if runner is not None:
                runner.shutdown(wait=False)


def _start_inbox(settings: Settings) -> tuple[Any, Any, Callable[[Path], None] | None]:
    """Watch the inbox (uploads land in ``<inbox>/uploads``, so they take the same ingest
    path as dropped files); without the watcher module, ingest each upload directly."""
    try:
        from stemcrate.flows.runner import LocalRunner
        from stemcrate.inbox import InboxWatcher
    except ImportError:
        try:
            from stemcrate.flows.runner import ingest_in_background
        except ImportError:
            return None, None, None

        def on_upload(path: Path) -> None:
            ingest_in_background(path, settings)

        return None, None, on_upload
    holder: dict[str, Any] = {}
    runner = LocalRunner(settings, on_done=lambda p: holder["w"].release(p))

    def submit(path: Path) -> None:
        runner.submit(path)

    watcher = InboxWatcher(settings.inbox_path, submit, poll_s=settings.poll_s)
    holder["w"] = watcher
    watcher.start()
    return watcher, runner, None

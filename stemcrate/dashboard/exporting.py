"""The export button: runs ``stemcrate.export.export_library`` off the event loop, writes the
zip under ``<home>/exports/<token>/`` and offers it as a download link
(``exports/<token>/<name>.zip``, served by :class:`~stemcrate.dashboard.handlers.ExportHandler`).
"""

from __future__ import annotations

import logging
import shutil
import threading
import uuid
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import panel as pn

from stemcrate.dashboard.context import DashboardContext
from stemcrate.dashboard.queries import SampleFilter, TrackFilter, sample_ids_page, track_where
from stemcrate.dashboard.views.common import CSS, esc

log = logging.getLogger("stemcrate.dashboard")


def matching_track_ids(ctx: DashboardContext, f: TrackFilter, *, limit: int) -> list[str]:
    where, params = track_where(f)
    return [r["track_id"] for r in ctx.library.catalogue.query(
        f"SELECT track_id FROM tracks WHERE {where} ORDER BY added_at DESC LIMIT ?",
        [*params, limit])]


def matching_sample_ids(ctx: DashboardContext, f: SampleFilter, *, limit: int) -> list[str]:
    with ctx.library.catalogue.reader() as con:
        ids, _total = sample_ids_page(con, f, offset=0, limit=limit)
    return ids


def run_export(ctx: DashboardContext, *, track_ids: list[str] | None = None,
               sample_ids: list[str] | None = None) -> Path:
    """Export into a fresh ``<home>/exports/<token>/`` and return the zip's path there."""
    from stemcrate.export import export_library

    token = uuid.uuid4().hex
    folder = ctx.exports_dir / token
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    name = f"stemcrate-{'samples' if sample_ids and not track_ids else 'export'}-{stamp}"
    result = Path(export_library(ctx.library, to=folder, track_ids=track_ids,
                                 sample_ids=sample_ids, zip=True, name=name))
    if result.is_dir():  # an exporter that made a folder: zip it here
        result = Path(shutil.make_archive(str(folder / name), "zip", root_dir=result.parent,
                                          base_dir=result.name))
    if not result.resolve().is_relative_to(folder.resolve()):
        target = folder / result.name
        shutil.move(str(result), target)
        result = target
    return result


class ExportControl:
    """A button that exports ``selection()`` (kwargs for :func:`run_export`) and then shows
    a download link."""

    def __init__(self, ctx: DashboardContext, *, label: str,
                 selection: Callable[[], dict[str, Any]]) -> None:
        self.ctx = ctx
        self.selection = selection
        self.button = pn.widgets.Button(name=label, button_type="primary",
                                        css_classes=["sc-export"])
        self.result = pn.pane.HTML("", stylesheets=[CSS], css_classes=["sc-export-result"])
        self.button.on_click(self._start)

    def view(self) -> pn.Row:
        return pn.Row(self.button, self.result)

    def _start(self, _event: Any) -> None:
        try:
            kwargs = self.selection()
        except Exception as exc:  # noqa: BLE001 - show it
            self.result.object = f'<span class="sc-error">{esc(exc)}</span>'
            return
        if not any(kwargs.values()):
            self.result.object = '<span class="sc-muted">Nothing to export.</span>'
            return
        self.button.disabled = True
        self.result.object = '<span class="sc-muted">Exporting…</span>'
        doc = pn.state.curdoc

        def work() -> None:
            try:
                path = run_export(self.ctx, **kwargs)
                rel = path.relative_to(self.ctx.exports_dir)
                html = (f'<a class="sc-download" href="exports/{esc(rel.as_posix())}" '
                        f'download="{esc(path.name)}">Download {esc(path.name)}</a>')
            except ImportError:
                html = ('<span class="sc-error">Export is not available in this '
                        "installation (stemcrate.export missing).</span>")
            except Exception as exc:  # noqa: BLE001 - show it, keep serving
                log.exception("export failed")
                html = f'<span class="sc-error">Export failed: {esc(exc)}</span>'

            def show() -> None:
                self.result.object = html
                self.button.disabled = False

            if doc is not None:
                doc.add_next_tick_callback(show)
            else:
                show()

        threading.Thread(target=work, name="stemcrate-export", daemon=True).start()

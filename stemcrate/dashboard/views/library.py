"""The library page: tracks with their analysis and the state of every stage.

Search, filter and sort run in SQL (:func:`stemcrate.dashboard.queries.library_page`); only
the current page (25–200 rows) is rendered, as an escaped HTML table whose titles link to
the track page. The page refreshes itself when the catalogue changes. Also here: the upload
drop zone and the export button (the tracks matching the filters, as a zip).
"""

from __future__ import annotations

import math
from typing import Any

import panel as pn

from stemcrate.dashboard import exporting
from stemcrate.dashboard.components import UploadZone
from stemcrate.dashboard.context import DashboardContext
from stemcrate.dashboard.queries import TRACK_SORTS, TrackFilter, library_page, track_keys
from stemcrate.dashboard.views.common import (
    CSS,
    STAGES,
    esc,
    fmt_date,
    fmt_duration,
    fmt_num,
    live,
    nav,
    state_badge,
)

STATE_CHOICES = {"any state": None, "failed": "failed", "running": "running",
                 "pending": "pending", "completed": "completed", "unavailable": "unavailable"}
MAX_EXPORT_TRACKS = 500


def render_table(rows: list[dict[str, Any]]) -> str:
    """The page's rows as an HTML table (every value escaped)."""
    stages = list(STAGES)
    for r in rows:
        for s in r.get("runs", {}):
            if s not in stages:
                stages.append(s)
    head = ["Title", "Artist", "Duration", "BPM", "Key", "LUFS", "Added", *stages]
    out = ['<table class="sc-table sc-library"><thead><tr>']
    out += [f"<th>{esc(h)}</th>" for h in head]
    out.append("</tr></thead><tbody>")
    for r in rows:
        tid = esc(r["track_id"])
        title = r.get("title") or r.get("original_name") or r["track_id"][:12]
        out.append(f'<tr class="sc-track-row" data-track-id="{tid}">')
        out.append(f'<td><a class="sc-track-link" href="track?id={tid}">{esc(title)}</a></td>')
        out.append(f"<td>{esc(r.get('artist'))}</td>")
        out.append(f'<td class="num">{fmt_duration(r.get("duration_s"))}</td>')
        out.append(f'<td class="num">{fmt_num(r.get("bpm"))}</td>')
        out.append(f"<td>{esc(r.get('key'))}</td>")
        out.append(f'<td class="num">{fmt_num(r.get("loudness_lufs"))}</td>')
        out.append(f"<td>{esc(fmt_date(r.get('added_at')))}</td>")
        runs = r.get("runs", {})
        for s in stages:
            out.append(f"<td>{state_badge(s, runs.get(s))}</td>")
        out.append("</tr>")
    out.append("</tbody></table>")
    if not rows:
        out.append('<p class="sc-muted sc-empty">No tracks match. Drop files below or into '
                   "the inbox folder to add some.</p>")
    return "".join(out)


def _text(widget: pn.widgets.TextInput) -> str:
    """What the user typed so far (``value_input``), else the committed value."""
    return str(widget.value_input if widget.value_input is not None else widget.value or "")


def library_view(ctx: DashboardContext) -> pn.viewable.Viewable:
    """The library page for one browser session."""
    search = pn.widgets.TextInput(name="Search", placeholder="title, artist, album, file name",
                                  width=280)
    keys = ["any key", *track_keys(ctx.library.catalogue)]
    key = pn.widgets.Select(name="Key", options=keys, value="any key", width=120)
    state = pn.widgets.Select(name="Stage state", options=list(STATE_CHOICES), width=130)
    bpm = pn.widgets.RangeSlider(name="BPM", start=0, end=250, value=(0, 250), step=1,
                                 width=200)
    sort = pn.widgets.Select(name="Sort", options=list(TRACK_SORTS), width=150)
    size = pn.widgets.Select(name="Per page", options=[25, 50, 100, 200], value=50, width=80)
    prev_btn = pn.widgets.Button(name="◀ Prev", width=80, css_classes=["sc-prev"])
    next_btn = pn.widgets.Button(name="Next ▶", width=80, css_classes=["sc-next"])
    info = pn.pane.HTML("", css_classes=["sc-page-info"])
    table = pn.pane.HTML("", stylesheets=[CSS], sizing_mode="stretch_width",
                         css_classes=["sc-library-table"])
    status = pn.pane.HTML("", stylesheets=[CSS])
    offset = {"value": 0}

    def current_filter() -> TrackFilter:
        lo, hi = bpm.value
        return TrackFilter(
            text=_text(search),
            key=None if key.value == "any key" else key.value,
            bpm_min=float(lo) if lo > 0 else None,
            bpm_max=float(hi) if hi < 250 else None,
            state=STATE_CHOICES.get(state.value), sort=sort.value)

    def refresh(*_: Any) -> None:
        page = library_page(ctx.library.catalogue, current_filter(), offset=offset["value"],
                            limit=int(size.value))
        if page.rows == [] and page.total and offset["value"] >= page.total:
            offset["value"] = max(0, (math.ceil(page.total / int(size.value)) - 1)
                                  * int(size.value))
            page = library_page(ctx.library.catalogue, current_filter(),
                                offset=offset["value"], limit=int(size.value))
        table.object = render_table(page.rows)
        pages = max(1, math.ceil(page.total / int(size.value)))
        number = offset["value"] // int(size.value) + 1
        info.object = (f'<span data-total="{page.total}">{page.total} tracks · page {number} '
                       f"of {pages}</span>")
        prev_btn.disabled = offset["value"] == 0
        next_btn.disabled = offset["value"] + int(size.value) >= page.total
        status.object = (f'<div class="sc-error">Catalogue: {esc(ctx.sync_error)}</div>'
                         if ctx.sync_error else "")

    def reset(*_: Any) -> None:
        offset["value"] = 0
        refresh()

    def move(step: int) -> None:
        offset["value"] = max(0, offset["value"] + step * int(size.value))
        refresh()

    for w in (key, state, bpm, sort, size):
        w.param.watch(reset, "value")
    search.param.watch(reset, ["value", "value_input"])
    prev_btn.on_click(lambda _e: move(-1))
    next_btn.on_click(lambda _e: move(1))

    upload = UploadZone(endpoint="upload", max_mb=int(ctx.settings.max_upload_mb),
                        sizing_mode="stretch_width")
    export = exporting.ExportControl(
        ctx, label="Export these tracks (zip)",
        selection=lambda: {"track_ids": exporting.matching_track_ids(
            ctx, current_filter(), limit=MAX_EXPORT_TRACKS)})

    refresh()
    live(ctx, refresh)
    return pn.Column(
        nav("library"),
        pn.Row(search, key, state, bpm, sort, size),
        pn.Row(prev_btn, next_btn, info, align="center"),
        status,
        table,
        pn.layout.Divider(),
        pn.Row(export.view(), sizing_mode="stretch_width"),
        pn.pane.HTML("<b>Add songs</b>", margin=(5, 10)),
        upload,
        sizing_mode="stretch_width",
    )

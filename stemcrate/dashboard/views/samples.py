"""The samples browser (``samples``, ``samples?track=<id>``, ``samples?like=<sample_id>``).

Filters (label, tag, stem, BPM, key, note, loudness, duration, source track) and free text
run in SQL, one page at a time (:func:`stemcrate.dashboard.queries.sample_page`). A click on
a card plays it; "More like this" lists the nearest samples by cosine similarity of their
embeddings. The selected sample can be renamed, relabelled (a correction for training) or
deleted; each edit is a manifest. The current selection exports as a sample pack.
"""

from __future__ import annotations

import math
from typing import Any

import panel as pn

from stemcrate.dashboard import edits, exporting
from stemcrate.dashboard.components import SampleGrid
from stemcrate.dashboard.context import DashboardContext
from stemcrate.dashboard.queries import (
    LABELS,
    SAMPLE_SORTS,
    SampleFilter,
    sample_page,
    samples_by_ids,
)
from stemcrate.dashboard.views.common import CSS, esc, live, nav, session_arg
from stemcrate.dashboard.views.library import _text
from stemcrate.dashboard.views.track import sample_card

ANY = "any"
STEMS = (ANY, "drums", "bass", "vocals", "other", "guitar", "piano")
MAX_EXPORT_SAMPLES = 5000


def _range(widget: pn.widgets.RangeSlider) -> tuple[float | None, float | None]:
    lo, hi = widget.value
    return (None if lo <= widget.start else float(lo), None if hi >= widget.end else float(hi))


def samples_view(ctx: DashboardContext) -> pn.viewable.Viewable:
    """The samples browser for one browser session."""
    cat = ctx.library.catalogue
    track_arg = session_arg("track")
    like_arg = session_arg("like")

    text = pn.widgets.TextInput(name="Search", placeholder="name, label, tag, note, track",
                                width=240)
    labels = pn.widgets.MultiChoice(name="Label", options=list(LABELS), width=260)
    tag = pn.widgets.TextInput(name="Tag", width=110)
    stem = pn.widgets.Select(name="Stem", options=list(STEMS), width=100)
    keys = [ANY, *[r["key"] for r in cat.query(
        "SELECT DISTINCT key FROM tracks WHERE key IS NOT NULL ORDER BY key")]]
    key = pn.widgets.Select(name="Key", options=keys, width=110)
    note = pn.widgets.TextInput(name="Note", placeholder="e.g. C#2", width=80)
    bpm = pn.widgets.RangeSlider(name="BPM", start=0, end=250, value=(0, 250), step=1,
                                 width=170)
    loud = pn.widgets.RangeSlider(name="Loudness (dB)", start=-80, end=0, value=(-80, 0),
                                  step=1, width=170)
    dur = pn.widgets.RangeSlider(name="Duration (s)", start=0, end=10, value=(0, 10),
                                 step=0.05, width=170)
    track = pn.widgets.TextInput(name="Source track", placeholder="title", width=160)
    sort = pn.widgets.Select(name="Sort", options=list(SAMPLE_SORTS), width=120)
    prev_btn = pn.widgets.Button(name="◀ Prev", width=80, css_classes=["sc-prev"])
    next_btn = pn.widgets.Button(name="Next ▶", width=80, css_classes=["sc-next"])
    info = pn.pane.HTML("", stylesheets=[CSS], css_classes=["sc-page-info"])
    grid = SampleGrid(sizing_mode="stretch_width")
    page_size = 60
    state: dict[str, Any] = {"offset": 0, "track_id": track_arg, "like": like_arg,
                             "rows": {}}

    # edit panel for the selected sample
    sel_info = pn.pane.HTML('<span class="sc-muted">Click a sample to play and select it.'
                            "</span>", stylesheets=[CSS], css_classes=["sc-selected"])
    name_in = pn.widgets.TextInput(name="Name", width=220, css_classes=["sc-sample-name"])
    label_in = pn.widgets.Select(name="Label", options=list(LABELS), width=150,
                                 css_classes=["sc-sample-label"])
    save = pn.widgets.Button(name="Save", button_type="primary", css_classes=["sc-sample-save"])
    like = pn.widgets.Button(name="More like this", css_classes=["sc-sample-like"])
    remove = pn.widgets.Button(name="Delete sample", button_type="danger",
                               css_classes=["sc-sample-delete"])
    clear = pn.widgets.Button(name="Show all (clear track / similar)",
                              css_classes=["sc-clear"])
    edit_msg = pn.pane.HTML("", stylesheets=[CSS])

    def current_filter() -> SampleFilter:
        return SampleFilter(
            text=_text(text),
            labels=list(labels.value), tag=tag.value or "", stem=None if stem.value == ANY
            else stem.value, key=None if key.value == ANY else key.value, note=note.value or "",
            bpm_min=_range(bpm)[0], bpm_max=_range(bpm)[1],
            loudness_min=_range(loud)[0], loudness_max=_range(loud)[1],
            duration_min=_range(dur)[0], duration_max=_range(dur)[1],
            track_id=state["track_id"], track_text=track.value or "", sort=sort.value)

    def refresh(*_: Any) -> None:
        if state["like"]:
            pairs = ctx.embeddings.similar(cat, ctx.version, state["like"], k=page_size)
            rows = samples_by_ids(cat, [state["like"]] + [p[0] for p in pairs])
            scores = dict(pairs)
            base = next((r for r in rows if r["sample_id"] == state["like"]), None)
            info.object = (
                f'<span class="sc-like-info">Samples like <b>'
                f'{esc(base.get("name") if base else state["like"])}</b> '
                f"({len(pairs)} by embedding similarity)</span>" if pairs or base else
                '<span class="sc-muted">No embedding for this sample yet.</span>')
            cards = []
            for r in rows:
                card = sample_card(ctx, r)
                if r["sample_id"] in scores:
                    card["meta"] += f" · sim {scores[r['sample_id']]:.2f}"
                else:
                    card["meta"] = "this one · " + card["meta"]
                cards.append(card)
            state["rows"] = {r["sample_id"]: r for r in rows}
            grid.samples = cards
            prev_btn.disabled = next_btn.disabled = True
            return
        page = sample_page(cat, current_filter(), offset=state["offset"], limit=page_size)
        state["rows"] = {r["sample_id"]: r for r in page.rows}
        grid.samples = [sample_card(ctx, r) for r in page.rows]
        pages = max(1, math.ceil(page.total / page_size))
        scope = ""
        if state["track_id"]:
            scope = " from one track"
        info.object = (f'<span data-total="{page.total}">{page.total} samples{scope} · page '
                       f"{state['offset'] // page_size + 1} of {pages}</span>")
        prev_btn.disabled = state["offset"] == 0
        next_btn.disabled = state["offset"] + page_size >= page.total

    def reset(*_: Any) -> None:
        state["offset"] = 0
        state["like"] = None
        refresh()

    def move(step: int) -> None:
        state["offset"] = max(0, state["offset"] + step * page_size)
        refresh()

    for w in (labels, tag, stem, key, note, bpm, loud, dur, track, sort):
        w.param.watch(reset, "value")
    text.param.watch(reset, ["value", "value_input"])
    prev_btn.on_click(lambda _e: move(-1))
    next_btn.on_click(lambda _e: move(1))

    def show_similar(sample_id: str) -> None:
        state["like"] = sample_id
        refresh()

    grid.on_similar(show_similar)

    def selected_row() -> dict[str, Any] | None:
        return state["rows"].get(grid.selected) if grid.selected else None

    def on_select(*_: Any) -> None:
        row = selected_row()
        if row is None:
            return
        sel_info.object = (f'<b class="sc-selected-name">{esc(row.get("name"))}</b> '
                           f'<span class="sc-muted">{esc(row.get("label"))} · '
                           f'{esc(row.get("stem"))} · from <a href="track?id='
                           f'{esc(row["track_id"])}">{esc(row.get("track_title"))}</a>'
                           f'{" · corrected" if row.get("corrected") else ""}</span>')
        name_in.value = row.get("name") or ""
        if row.get("label") in LABELS:
            label_in.value = row["label"]
        edit_msg.object = ""

    grid.param.watch(on_select, "selected")

    def do_save(_e: Any) -> None:
        row = selected_row()
        if row is None:
            edit_msg.object = '<span class="sc-error">Select a sample first.</span>'
            return
        done = []
        new_name = (name_in.value or "").strip()
        if new_name and new_name != (row.get("name") or ""):
            edits.rename_sample(ctx.library.store, row["track_id"], row["sample_id"], new_name)
            done.append("renamed")
        if label_in.value != row.get("label"):
            edits.retag_sample(ctx.library.store, row["track_id"], row["sample_id"],
                               label=label_in.value)
            done.append(f"relabelled as {label_in.value} (a correction)")
        if not done:
            edit_msg.object = '<span class="sc-muted">No change.</span>'
            return
        ctx.sync()
        refresh()
        on_select()
        edit_msg.object = f'<span class="sc-muted sc-edit-done">{esc(", ".join(done))}.</span>'

    def do_delete(_e: Any) -> None:
        row = selected_row()
        if row is None:
            return
        edits.delete(ctx.library.store, "sample", row["sample_id"], row["track_id"])
        ctx.sync()
        edit_msg.object = ('<span class="sc-muted sc-edit-done">Deleted (the file stays in '
                           "the store).</span>")
        refresh()

    def do_like(_e: Any) -> None:
        if grid.selected:
            show_similar(grid.selected)

    def do_clear(_e: Any) -> None:
        state["track_id"] = None
        reset()

    save.on_click(do_save)
    remove.on_click(do_delete)
    like.on_click(do_like)
    clear.on_click(do_clear)

    export = exporting.ExportControl(
        ctx, label="Export these samples as a pack (zip)",
        selection=lambda: {"sample_ids": (list(state["rows"]) if state["like"] else
                                          exporting.matching_sample_ids(
                                              ctx, current_filter(),
                                              limit=MAX_EXPORT_SAMPLES))})

    refresh()
    live(ctx, refresh, period_ms=2000)
    return pn.Column(
        nav("samples"),
        pn.Row(text, labels, tag, stem, key, note, sizing_mode="stretch_width"),
        pn.Row(bpm, loud, dur, track, sort),
        pn.Row(prev_btn, next_btn, info, clear, align="center"),
        pn.Row(sel_info, sizing_mode="stretch_width"),
        pn.Row(name_in, label_in, save, like, remove),
        edit_msg,
        grid,
        pn.layout.Divider(),
        export.view(),
        sizing_mode="stretch_width",
    )

"""The track page (``track?id=<track_id>``): waveform + stem mixer + lyrics, MIDI piano rolls,
the track's samples, stage states, and edits (rename, delete).

Each part says plainly what has not been computed yet ("Stems not computed yet — stage
separate: pending"). The page re-reads the catalogue when it changes and rebuilds only the
parts whose data changed (playback is not interrupted by unrelated updates).
"""

from __future__ import annotations

import io
import json
import logging
from typing import Any

import numpy as np
import panel as pn

from stemcrate.dashboard import edits
from stemcrate.dashboard.components import SampleGrid, StemPlayer
from stemcrate.dashboard.context import DashboardContext
from stemcrate.dashboard.queries import track_detail
from stemcrate.dashboard.views.common import (
    CSS,
    STAGES,
    esc,
    fmt_duration,
    fmt_num,
    live,
    missing,
    nav,
    session_arg,
    stage_note,
    state_badge,
)

log = logging.getLogger("stemcrate.dashboard")

STEM_ORDER = ("drums", "bass", "vocals", "other", "guitar", "piano")
MAX_PEAKS = 4000


def _read_json(ctx: DashboardContext, uri: str | None) -> Any:
    if not uri:
        return None
    try:
        return json.loads(ctx.library.store.get_bytes(ctx.library.store.key_of(uri)))
    except Exception:  # noqa: BLE001 - missing or foreign file: shown as not computed
        log.warning("cannot read %s", uri, exc_info=True)
        return None


def load_peaks(ctx: DashboardContext, uri: str | None) -> list[list[float]]:
    """The waveform overview as ``[[min, max], …]`` (at most :data:`MAX_PEAKS` pairs).

    Accepts ``{"peaks": [[min, max], …]}``, ``{"peaks": [abs, …]}``,
    ``{"min": [...], "max": [...]}`` or a bare list.
    """
    doc = _read_json(ctx, uri)
    if doc is None:
        return []
    if isinstance(doc, dict) and "min" in doc and "max" in doc:
        arr = np.stack([np.asarray(doc["min"], float), np.asarray(doc["max"], float)], axis=1)
    else:
        raw = doc.get("peaks", []) if isinstance(doc, dict) else doc
        arr = np.asarray(raw, dtype=float)
        if arr.ndim == 1:
            arr = np.stack([-np.abs(arr), np.abs(arr)], axis=1)
        elif arr.ndim == 2 and arr.shape[1] > 2:  # channels × (min, max)?: take the envelope
            arr = np.stack([arr.min(axis=1), arr.max(axis=1)], axis=1)
    if arr.size == 0 or arr.ndim != 2:
        return []
    if len(arr) > MAX_PEAKS:
        step = int(np.ceil(len(arr) / MAX_PEAKS))
        pad = (-len(arr)) % step
        arr = np.concatenate([arr, np.zeros((pad, 2))]) if pad else arr
        blocks = arr.reshape(-1, step, 2)
        arr = np.stack([blocks[:, :, 0].min(axis=1), blocks[:, :, 1].max(axis=1)], axis=1)
    arr = np.nan_to_num(np.clip(arr, -1.0, 1.0))
    return [[round(float(a), 4), round(float(b), 4)] for a, b in arr]


def load_segments(ctx: DashboardContext, uri: str | None) -> list[dict[str, Any]]:
    """Lyrics segments ``[{"start", "end", "text", "words": [...]}]`` from the lyrics JSON."""
    doc = _read_json(ctx, uri)
    segs = doc.get("segments", []) if isinstance(doc, dict) else (doc or [])
    out = []
    for s in segs:
        try:
            words = [{"word": str(w.get("word", "")), "start": float(w["start"]),
                      "end": float(w["end"])} for w in s.get("words") or []
                     if w.get("start") is not None and w.get("end") is not None]
            out.append({"start": float(s["start"]), "end": float(s["end"]),
                        "text": str(s.get("text", "")).strip(), "words": words})
        except (KeyError, TypeError, ValueError):
            continue
    return out


def piano_roll(ctx: DashboardContext, uri: str, *, title: str) -> pn.viewable.Viewable:
    """A Bokeh piano roll of a MIDI file in the store (read with pretty_midi)."""
    import pretty_midi
    from bokeh.models import ColumnDataSource
    from bokeh.plotting import figure

    try:
        data = ctx.library.store.get_bytes(ctx.library.store.key_of(uri))
        pm = pretty_midi.PrettyMIDI(io.BytesIO(data))
    except Exception as exc:  # noqa: BLE001 - a broken file: say so
        return missing(f"{title}: cannot read MIDI ({exc})")
    notes = [(n.start, n.end, n.pitch, n.velocity, inst.is_drum)
             for inst in pm.instruments for n in inst.notes]
    if not notes:
        return missing(f"{title}: the MIDI file has no notes")
    arr = np.asarray(notes, dtype=float)
    src = ColumnDataSource({"left": arr[:, 0], "right": arr[:, 1],
                            "bottom": arr[:, 2] - 0.4, "top": arr[:, 2] + 0.4,
                            "pitch": arr[:, 2].astype(int), "velocity": arr[:, 3]})
    fig = figure(height=220, sizing_mode="stretch_width", title=title,
                 x_axis_label="time (s)", y_axis_label="MIDI note",
                 tools="xpan,xwheel_zoom,reset,hover",
                 tooltips=[("note", "@pitch"), ("velocity", "@velocity"),
                           ("start", "@left{0.00} s")])
    fig.quad(left="left", right="right", bottom="bottom", top="top", source=src,
             fill_color="#2a6fdb", fill_alpha=0.8, line_color="#173f8a")
    fig.toolbar.logo = None
    return pn.pane.Bokeh(fig, sizing_mode="stretch_width")


def sample_card(ctx: DashboardContext, s: dict[str, Any]) -> dict[str, Any]:
    """A sample row as a :class:`SampleGrid` card (text only; the browser sets textContent)."""
    bits = [s.get("label") or "?", s.get("stem") or ""]
    if s.get("note"):
        bits.append(str(s["note"]))
    if s.get("duration_s") is not None:
        bits.append(f"{s['duration_s']:.2f} s")
    if s.get("bpm"):
        bits.append(f"{s['bpm']:.0f} BPM")
    if s.get("key"):
        bits.append(str(s["key"]))
    if s.get("corrected"):
        bits.append("corrected")
    return {"id": s["sample_id"], "title": s.get("name") or s["sample_id"][:10],
            "meta": " · ".join(b for b in bits if b),
            "url": ctx.media_url(s.get("uri")) or ""}


def _stems_for(detail: dict[str, Any]) -> list[dict[str, Any]]:
    """The stems of the newest separation run (one row per stem)."""
    rows = detail["stems"]
    if not rows:
        return []
    newest = rows[0]["run_key"]
    chosen = [r for r in rows if r["run_key"] == newest]
    return sorted(chosen, key=lambda r: (STEM_ORDER.index(r["stem"])
                                         if r["stem"] in STEM_ORDER else 99, r["stem"]))


def _signature(detail: dict[str, Any] | None) -> dict[str, Any]:
    if detail is None:
        return {}
    t = detail["track"]
    return {
        "head": (t.get("title"), t.get("artist"), t.get("album"), t.get("bpm"), t.get("key")),
        "runs": sorted((k, v.get("state"), v.get("error")) for k, v in detail["runs"].items()),
        "stems": [(r["stem"], r["uri"]) for r in _stems_for(detail)],
        "midi": [(r["stem"], r["uri"]) for r in detail["midi"]],
        "lyrics": [r.get("json_uri") for r in detail["lyrics"][:1]],
        "samples": [(s["sample_id"], s.get("name"), s.get("label")) for s in detail["samples"]],
    }


def track_view(ctx: DashboardContext) -> pn.viewable.Viewable:
    """The track page for one browser session."""
    track_id = session_arg("id") or ""
    header = pn.pane.HTML("", stylesheets=[CSS], sizing_mode="stretch_width",
                          css_classes=["sc-track-header"])
    player = StemPlayer(sizing_mode="stretch_width")
    player_notes = pn.Column(sizing_mode="stretch_width")
    midi_box = pn.Column(sizing_mode="stretch_width")
    lyrics_note = pn.Column(sizing_mode="stretch_width")
    samples_note = pn.Column(sizing_mode="stretch_width")
    grid = SampleGrid(sizing_mode="stretch_width", like_href="samples?like=")
    seen: dict[str, Any] = {}

    title_in = pn.widgets.TextInput(name="Title", width=260, css_classes=["sc-edit-title"])
    artist_in = pn.widgets.TextInput(name="Artist", width=200, css_classes=["sc-edit-artist"])
    save = pn.widgets.Button(name="Rename", button_type="primary", css_classes=["sc-rename"])
    remove = pn.widgets.Button(name="Delete track", button_type="danger",
                               css_classes=["sc-delete"])
    edit_msg = pn.pane.HTML("", stylesheets=[CSS])

    def refresh(*_: Any) -> None:
        detail = track_detail(ctx.library.catalogue, track_id) if track_id else None
        sig = _signature(detail)
        if detail is None:
            header.object = ('<h2>Track not found</h2><p class="sc-muted">It may have been '
                             'deleted. <a href="./">Back to the library</a></p>')
            player.stems = []
            return
        t = detail["track"]
        runs = detail["runs"]
        if sig.get("head") != seen.get("head") or sig.get("runs") != seen.get("runs"):
            badges = " ".join(f"<span>{esc(s)}: {state_badge(s, runs.get(s))}</span>"
                              for s in [*STAGES, *[k for k in runs if k not in STAGES]])
            header.object = (
                f'<h2 class="sc-title">{esc(t.get("title") or t.get("original_name"))}</h2>'
                f'<div class="sc-artist">{esc(t.get("artist"))}'
                f'{" — " + esc(t.get("album")) if t.get("album") else ""}</div>'
                f'<div class="sc-muted">{fmt_duration(t.get("duration_s"))} · '
                f'{fmt_num(t.get("bpm"))} BPM · key {esc(t.get("key"))} · '
                f'{fmt_num(t.get("loudness_lufs"))} LUFS · '
                f'{esc(t.get("original_name"))}</div>'
                f'<div class="sc-stages" style="display:flex;gap:12px;flex-wrap:wrap;'
                f'margin-top:6px">{badges}</div>')
            if not title_in.value and not artist_in.value:
                title_in.value = t.get("title") or ""
                artist_in.value = t.get("artist") or ""
        if sig.get("stems") != seen.get("stems") or "peaks" not in seen:
            stems = _stems_for(detail)
            if stems:
                player.stems = [{"name": r["stem"], "url": ctx.media_url(r["uri"]) or ""}
                                for r in stems]
                player.message = ""
                player_notes.objects = []
            else:
                url = ctx.media_url(t.get("original_uri"))
                player.stems = [{"name": "original", "url": url}] if url else []
                player.message = stage_note("Stems", "separate", runs) + \
                    " (playing the original)"
                player_notes.objects = []
            player.duration = float(t.get("duration_s") or 0.0)
            player.peaks = load_peaks(ctx, t.get("peaks_uri"))
            seen["peaks"] = True
            if not player.peaks:
                player_notes.objects = [missing("Waveform overview not computed yet")]
        if sig.get("lyrics") != seen.get("lyrics"):
            lyr = detail["lyrics"][0] if detail["lyrics"] else None
            if lyr is None:
                player.segments = []
                lyrics_note.objects = [missing(stage_note("Lyrics", "lyrics", runs))]
            elif not lyr.get("has_lyrics"):
                player.segments = []
                lyrics_note.objects = [missing("No lyrics found in the vocal stem")]
            else:
                player.segments = load_segments(ctx, lyr.get("json_uri"))
                lyrics_note.objects = [] if player.segments else [
                    missing("Lyrics text without timings")]
        if sig.get("midi") != seen.get("midi"):
            if detail["midi"]:
                newest = detail["midi"][0]["run_key"]
                rolls = [(f"{r['stem']} ({r.get('kind') or 'notes'})",
                          piano_roll(ctx, r["uri"], title=f"MIDI — {r['stem']}"))
                         for r in detail["midi"] if r["run_key"] == newest]
                midi_box.objects = [pn.Tabs(*rolls, sizing_mode="stretch_width")]
            else:
                midi_box.objects = [missing(stage_note("MIDI", "midi", runs))]
        if sig.get("samples") != seen.get("samples"):
            grid.samples = [sample_card(ctx, s) for s in detail["samples"]]
            samples_note.objects = [] if detail["samples"] else [
                missing(stage_note("Samples", "slice", runs))]
        seen.update(sig)

    def do_rename(_e: Any) -> None:
        fields = {"title": (title_in.value or "").strip(),
                  "artist": (artist_in.value or "").strip()}
        fields = {k: v for k, v in fields.items() if v}
        if not fields:
            edit_msg.object = '<span class="sc-error">Nothing to rename.</span>'
            return
        edits.rename_track(ctx.library.store, track_id, **fields)
        ctx.sync()
        edit_msg.object = '<span class="sc-muted">Renamed (saved as an edit manifest).</span>'
        refresh()

    def do_delete(_e: Any) -> None:
        edits.delete(ctx.library.store, "track", track_id, track_id)
        ctx.sync()
        edit_msg.object = ('<span class="sc-muted">Deleted (files stay in the store). '
                           '<a href="./">Back to the library</a></span>')
        refresh()

    save.on_click(do_rename)
    remove.on_click(do_delete)
    refresh()
    live(ctx, refresh)
    return pn.Column(
        nav("track"),
        header,
        player_notes,
        player,
        lyrics_note,
        pn.pane.HTML("<h3>MIDI</h3>", margin=(0, 10)),
        midi_box,
        pn.pane.HTML(f'<h3>Samples</h3><a href="samples?track={esc(track_id)}">'
                     "open in the samples browser</a>", margin=(0, 10)),
        samples_note,
        grid,
        pn.layout.Divider(),
        pn.Row(title_in, artist_in, save, remove),
        edit_msg,
        sizing_mode="stretch_width",
    )


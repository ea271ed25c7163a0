"""Slicing and classification: stems become labelled one-shot samples (+ drum MIDI)."""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np
from prefect import task

from stemcrate.config import Settings
from stemcrate.errors import StageUnavailableError
from stemcrate.storage import Library, keys
from stemcrate.storage.manifest import Manifest, Provenance, existing_manifest, write_manifest
from stemcrate.tasks.common import (
    StageResult,
    cache_key,
    load_from_store,
    record_state,
    retry_transient_only,
    track_manifest,
)
from stemcrate.tasks.stems_common import SLICE_KIND, stems_for, track_bpm

STAGE = "slice"
SLICE_VERSION = "1"


def slice_track(track_id: str, *, library: Library, settings: Settings,
                stems_run_key: str | None = None) -> StageResult:
    """Slice and classify every stem of a track; write ``samples`` (+ drum ``midi``)."""
    try:
        from stemcrate.audio.classify import embed_many
        from stemcrate.audio.drum_midi import drum_midi
        from stemcrate.audio.slicing import slice_and_classify
    except ImportError as exc:
        record_state(library.store, track_id, STAGE, "unavailable", error=str(exc))
        raise StageUnavailableError(f"slicing engine not installed: {exc}") from exc
    from stemcrate.audio.decode import encode_audio

    store = library.store
    stems = stems_for(store, track_id, STAGE, settings, stems_run_key)
    run_key = f"{stems.data['run_key']}-s{SLICE_VERSION}"
    identity_root = f"{STAGE}/{run_key}"
    if all(existing_manifest(store, "samples", track_id, f"{identity_root}/{s['stem']}")
           for s in stems.data["stems"]):
        record_state(store, track_id, STAGE, "cached", run_key=run_key)
        return StageResult(track_id, STAGE, "cached", run_key)
    record_state(store, track_id, STAGE, "running", run_key=run_key)
    track = track_manifest(store, track_id)
    bpm = track_bpm(track)
    uris: list[str] = []
    total = 0
    for stem in stems.data["stems"]:
        name = stem["stem"]
        kind = SLICE_KIND.get(name, "other")
        y, sr = load_from_store(store, stem["uri"])
        slices = slice_and_classify(y, sr, kind=kind)
        vectors: Any = embed_many([sl.audio for sl in slices], sr) if slices else []
        rows = []
        for i, (sl, vector) in enumerate(zip(slices, vectors, strict=True)):
            sid = hashlib.sha256(f"{track_id}/{run_key}/{name}/{sl.start}".encode()
                                 ).hexdigest()[:20]
            label = sl.label or "fx"
            fname = f"{i:04d}-{keys.safe_part(label)}.wav"
            uri = store.put_bytes(keys.stage_output(track_id, "samples", run_key,
                                                    f"{name}/{fname}"),
                                  encode_audio(sl.audio, sr, format="wav", bit_depth=24))
            rows.append({
                "sample_id": sid, "name": f"{label} {i + 1:03d}",
                "start_s": sl.start / sr, "end_s": sl.end / sr, "uri": uri,
                "label": label, "confidence": _num(sl.confidence),
                "tags": list(sl.tags), "note": sl.note, "midi_note": sl.midi_note,
                "loudness_db": _num(sl.loudness_db), "peak_db": _num(sl.peak_db),
                "count": int(sl.count),
                "embedding": [round(float(v), 5) for v in np.asarray(vector).ravel()],
            })
            uris.append(uri)
        total += len(rows)
        write_manifest(store, Manifest(
            kind="samples", track_id=track_id, identity=f"{identity_root}/{name}",
            data={"run_key": run_key, "stem": name, "kind": kind, "samples": rows},
            provenance=Provenance(stage=STAGE, params={"kind": kind, "version": SLICE_VERSION},
                                  model="stemcrate-classifier"),
        ))
        if kind == "drums" and slices:
            midi = drum_midi(slices, bpm=bpm)
            import io

            buf = io.BytesIO()
            midi.write(buf)
            muri = store.put_bytes(keys.stage_output(track_id, "midi", run_key,
                                                     f"{name}-drums.mid"), buf.getvalue())
            notes = [n.pitch for inst in midi.instruments for n in inst.notes]
            write_manifest(store, Manifest(
                kind="midi", track_id=track_id, identity=f"drum-midi/{run_key}",
                data={"run_key": f"{run_key}-drums", "bpm": bpm, "items": [{
                    "stem": name, "kind": "drums", "uri": muri, "note_count": len(notes),
                    "pitch_min": min(notes) if notes else None,
                    "pitch_max": max(notes) if notes else None}]},
                provenance=Provenance(stage=STAGE, params={"bpm": bpm}),
            ))
            uris.append(muri)
    record_state(store, track_id, STAGE, "completed", run_key=run_key)
    return StageResult(track_id, STAGE, "completed", run_key, uris, detail={"samples": total})


def _num(value: Any) -> float | None:
    if value is None:
        return None
    f = float(value)
    return f if np.isfinite(f) else None


def _slice_cache_key(context: Any, parameters: dict[str, Any]) -> str:
    settings: Settings = parameters["settings"]
    return cache_key(STAGE, parameters["track_id"],
                     {"stems": parameters.get("stems_run_key"), "store": settings.store,
                      "model": settings.separation_model, "version": SLICE_VERSION})


@task(
    name="slice-classify",
    retries=2,
    retry_delay_seconds=[5, 30],
    retry_condition_fn=retry_transient_only,
    timeout_seconds=3600,
    cache_key_fn=_slice_cache_key,
    persist_result=True,
)
def slice_task(track_id: str, settings: Settings,
               stems_run_key: str | None = None) -> dict[str, Any]:
    from stemcrate.storage import open_library

    return slice_track(track_id, library=open_library(settings), settings=settings,
                       stems_run_key=stems_run_key).to_dict()

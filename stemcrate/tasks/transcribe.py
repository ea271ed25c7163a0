"""Transcription: melodic stems become MIDI (Basic Pitch), the vocal stem lyrics (Whisper)."""

from __future__ import annotations

from typing import Any

from prefect import task

from stemcrate.config import Settings
from stemcrate.errors import ModelUnavailableError, StageUnavailableError
from stemcrate.storage import Library, keys
from stemcrate.storage.manifest import Manifest, Provenance, existing_manifest, write_manifest
from stemcrate.tasks.common import (
    StageResult,
    cache_key,
    describe,
    load_from_store,
    record_state,
    retry_transient_only,
    track_manifest,
)
from stemcrate.tasks.stems_common import MELODIC_STEMS, stems_for, track_bpm

MIDI_VERSION = "1"
LYRICS_VERSION = "1"


def midi_track(track_id: str, *, library: Library, settings: Settings,
               stems_run_key: str | None = None, pitch_bends: bool = False) -> StageResult:
    """Transcribe every melodic stem of a track to MIDI; write one ``midi`` manifest."""
    stage = "midi"
    try:
        from stemcrate.audio.midi import transcribe_midi
    except ImportError as exc:
        record_state(library.store, track_id, stage, "unavailable", error=str(exc))
        raise StageUnavailableError(f"MIDI engine not installed: {exc}") from exc
    store = library.store
    stems = stems_for(store, track_id, stage, settings, stems_run_key)
    params = {"pitch_bends": pitch_bends, "version": MIDI_VERSION}
    run_key = f"{stems.data['run_key']}-m{keys.params_hash(params, length=8)}"
    identity = f"{stage}/{run_key}"
    if existing_manifest(store, "midi", track_id, identity) is not None:
        record_state(store, track_id, stage, "cached", run_key=run_key)
        return StageResult(track_id, stage, "cached", run_key)
    record_state(store, track_id, stage, "running", run_key=run_key)
    bpm = track_bpm(track_manifest(store, track_id))
    items = []
    for stem in stems.data["stems"]:
        if stem["stem"] not in MELODIC_STEMS:
            continue
        y, sr = load_from_store(store, stem["uri"])
        result = transcribe_midi(y, sr, kind=stem["stem"], bpm=bpm, pitch_bends=pitch_bends)
        uri = store.put_bytes(keys.stage_output(track_id, "midi", run_key, f"{stem['stem']}.mid"),
                              result.to_bytes())
        lo, hi = result.pitch_range or (None, None)
        items.append({"stem": stem["stem"], "kind": "notes", "uri": uri,
                      "note_count": int(result.note_count), "pitch_min": lo, "pitch_max": hi})
    write_manifest(store, Manifest(
        kind="midi", track_id=track_id, identity=identity,
        data={"run_key": run_key, "bpm": bpm, "items": items},
        provenance=Provenance(stage=stage, params=params, model="basic-pitch (nmp.onnx)"),
    ))
    record_state(store, track_id, stage, "completed", run_key=run_key)
    return StageResult(track_id, stage, "completed", run_key, [i["uri"] for i in items])


def lyrics_track(track_id: str, *, library: Library, settings: Settings,
                 stems_run_key: str | None = None, language: str | None = None) -> StageResult:
    """Transcribe the vocal stem of a track; write LRC, enhanced LRC, SRT, JSON + manifest."""
    stage = "lyrics"
    try:
        from stemcrate.audio import lyrics as engine
    except ImportError as exc:
        record_state(library.store, track_id, stage, "unavailable", error=str(exc))
        raise StageUnavailableError(f"lyrics engine not installed: {exc}") from exc
    store = library.store
    stems = stems_for(store, track_id, stage, settings, stems_run_key)
    vocal = next((s for s in stems.data["stems"] if s["stem"] == "vocals"), None)
    if vocal is None:
        reason = "needs a vocals stem (the separation model made none)"
        record_state(store, track_id, stage, "unavailable", error=reason)
        raise StageUnavailableError(reason)
    params = {"engine": settings.lyrics_engine, "model": settings.lyrics_model,
              "language": language, "version": LYRICS_VERSION}
    run_key = f"{stems.data['run_key']}-l{keys.params_hash(params, length=8)}"
    identity = f"{stage}/{run_key}"
    if existing_manifest(store, "lyrics", track_id, identity) is not None:
        record_state(store, track_id, stage, "cached", run_key=run_key)
        return StageResult(track_id, stage, "cached", run_key)
    record_state(store, track_id, stage, "running", run_key=run_key)
    y, sr = load_from_store(store, vocal["uri"])
    try:
        result = engine.transcribe_lyrics(y, sr, engine=settings.lyrics_engine,
                                          model=settings.lyrics_model, language=language,
                                          device=settings.device)
    except ModelUnavailableError as exc:
        record_state(store, track_id, stage, "unavailable", error=describe(exc))
        raise StageUnavailableError(describe(exc)) from exc
    from stemcrate.audio import lyrics_formats as fmt

    def put(name: str, text: str) -> str:
        return store.put_bytes(keys.stage_output(track_id, "lyrics", run_key, name),
                               text.encode("utf-8"))

    data: dict[str, Any] = {
        "run_key": run_key, "engine": settings.lyrics_engine, "model": settings.lyrics_model,
        "language": result.language, "text": result.text, "has_lyrics": result.has_lyrics,
        "json_uri": put("lyrics.json", fmt.to_json(result)),
        "lrc_uri": put("lyrics.lrc", fmt.to_lrc(result)),
        "elrc_uri": put("lyrics.enhanced.lrc", fmt.to_lrc(result, enhanced=True)),
        "srt_uri": put("lyrics.srt", fmt.to_srt(result)),
    }
    write_manifest(store, Manifest(
        kind="lyrics", track_id=track_id, identity=identity, data=data,
        provenance=Provenance(stage=stage, params=params, model=settings.lyrics_model),
    ))
    record_state(store, track_id, stage, "completed", run_key=run_key)
    return StageResult(track_id, stage, "completed", run_key,
                       [str(data[k]) for k in ("json_uri", "lrc_uri", "elrc_uri", "srt_uri")])


def _midi_cache_key(context: Any, parameters: dict[str, Any]) -> str:
    settings: Settings = parameters["settings"]
    return cache_key("midi", parameters["track_id"],
                     {"stems": parameters.get("stems_run_key"), "store": settings.store,
                      "model": settings.separation_model, "version": MIDI_VERSION})


def _lyrics_cache_key(context: Any, parameters: dict[str, Any]) -> str:
    settings: Settings = parameters["settings"]
    return cache_key("lyrics", parameters["track_id"],
                     {"stems": parameters.get("stems_run_key"), "store": settings.store,
                      "separation": settings.separation_model,
                      "engine": settings.lyrics_engine, "version": LYRICS_VERSION},
                     settings.lyrics_model)


@task(name="midi", retries=2, retry_delay_seconds=[5, 30],
      retry_condition_fn=retry_transient_only, timeout_seconds=3600,
      cache_key_fn=_midi_cache_key, persist_result=True)
def midi_task(track_id: str, settings: Settings,
              stems_run_key: str | None = None) -> dict[str, Any]:
    from stemcrate.storage import open_library

    return midi_track(track_id, library=open_library(settings), settings=settings,
                      stems_run_key=stems_run_key).to_dict()


@task(name="lyrics", retries=2, retry_delay_seconds=[5, 30],
      retry_condition_fn=retry_transient_only, timeout_seconds=3600,
      cache_key_fn=_lyrics_cache_key, persist_result=True)
def lyrics_task(track_id: str, settings: Settings,
                stems_run_key: str | None = None) -> dict[str, Any]:
    from stemcrate.storage import open_library

    return lyrics_track(track_id, library=open_library(settings), settings=settings,
                        stems_run_key=stems_run_key).to_dict()

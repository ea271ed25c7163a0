"""Separation: tracks become stems (Demucs v4), batched across tracks.

Stems are written losslessly and never rescaled: FLAC 24-bit (or WAV 24-bit, the
``stem_format`` setting), or 32-bit float WAV for a stem whose peak exceeds full scale,
so nothing is clipped.
"""

from __future__ import annotations

from typing import Any

import numpy as np
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

STAGE = "separate"
TRACKS_PER_BATCH = 8


def separation_params(settings: Settings, *, model: str | None = None,
                      two_stems: str | None = None) -> dict[str, Any]:
    return {"model": model or settings.separation_model, "two_stems": two_stems,
            "format": settings.stem_format}


def separate(track_ids: list[str], *, library: Library, settings: Settings,
             model: str | None = None, two_stems: str | None = None) -> list[StageResult]:
    """Separate ``track_ids`` (batched) and write ``stems`` manifests; one result per track.

    A track already separated with the same model, weights and parameters is ``cached``.
    A model that cannot be had makes every track's stage ``unavailable`` with the reason
    and raises :class:`StageUnavailableError` (so no result is cached for it).
    """
    store = library.store
    params = separation_params(settings, model=model, two_stems=two_stems)
    try:
        from stemcrate.audio.separation import model_info, separate_tracks
    except ImportError as exc:
        raise StageUnavailableError(f"separation engine not installed: {exc}") from exc
    try:
        info = model_info(params["model"], repo=settings.separation_repo)
    except ModelUnavailableError as exc:
        for tid in track_ids:
            record_state(store, tid, STAGE, "unavailable", error=describe(exc))
        raise StageUnavailableError(describe(exc)) from exc
    full = dict(params, weights_hash=info.get("weights_hash"))
    run_key = f"{keys.safe_part(params['model'])}-{keys.params_hash(full)}"
    identity = f"{STAGE}/{run_key}"

    results: dict[str, StageResult] = {}
    todo: list[str] = []
    for tid in track_ids:
        done = existing_manifest(store, "stems", tid, identity)
        if done is not None:
            results[tid] = StageResult(tid, STAGE, "cached", run_key,
                                       [s["uri"] for s in done.data["stems"]])
            record_state(store, tid, STAGE, "cached", run_key=run_key)
        else:
            todo.append(tid)

    for start in range(0, len(todo), TRACKS_PER_BATCH):
        batch = todo[start:start + TRACKS_PER_BATCH]
        audio = []
        for tid in batch:
            record_state(store, tid, STAGE, "running", run_key=run_key)
            audio.append(load_from_store(store, track_manifest(store, tid).data["original_uri"]))
        outputs = separate_tracks(audio, model=params["model"], repo=settings.separation_repo,
                                  device=settings.device, two_stems=two_stems)
        for tid, (_y, sr), stems in zip(batch, audio, outputs, strict=True):
            results[tid] = _write_stems(library, tid, stems, sr, run_key=run_key,
                                        params=full, info=info, settings=settings)
            record_state(store, tid, STAGE, "completed", run_key=run_key)
    return [results[tid] for tid in track_ids]


def _write_stems(library: Library, track_id: str, stems: dict[str, Any], sr: int, *,
                 run_key: str, params: dict[str, Any], info: dict[str, Any],
                 settings: Settings) -> StageResult:
    from stemcrate.audio.decode import encode_audio

    store = library.store
    rows = []
    for name, y in stems.items():
        y = np.asarray(y, dtype=np.float32)
        if float(np.max(np.abs(y))) > 1.0:  # never clip, never rescale: float WAV
            data, ext = encode_audio(y, sr, format="wav", bit_depth=32), "wav"
        else:
            fmt = settings.stem_format
            data, ext = encode_audio(y, sr, format=fmt, bit_depth=24), fmt
        uri = store.put_bytes(keys.stage_output(track_id, "stems", run_key, f"{name}.{ext}"),
                              data)
        rows.append({"stem": name, "uri": uri, "sample_rate": sr, "channels": int(y.shape[0]),
                     "frames": int(y.shape[1]), "duration_s": y.shape[1] / float(sr)})
    manifest = Manifest(
        kind="stems", track_id=track_id, identity=f"{STAGE}/{run_key}",
        data={"run_key": run_key, "model": params["model"],
              "weights_hash": info.get("weights_hash"), "format": settings.stem_format,
              "two_stems": params.get("two_stems"), "stems": rows},
        provenance=Provenance(stage=STAGE, params=params, model=params["model"],
                              weights_hash=info.get("weights_hash")),
    )
    write_manifest(store, manifest)
    return StageResult(track_id, STAGE, "completed", run_key, [r["uri"] for r in rows])


def _separate_cache_key(context: Any, parameters: dict[str, Any]) -> str:
    settings: Settings = parameters["settings"]
    params = separation_params(settings, model=parameters.get("model"),
                               two_stems=parameters.get("two_stems"))
    params["store"] = settings.store
    params["repo"] = str(settings.separation_repo)
    return cache_key(STAGE, list(parameters["track_ids"]), params, params["model"])


@task(
    name="separate",
    retries=2,
    retry_delay_seconds=[5, 30],
    retry_condition_fn=retry_transient_only,
    timeout_seconds=3 * 3600,
    cache_key_fn=_separate_cache_key,
    persist_result=True,
)
def separate_task(track_ids: list[str], settings: Settings, model: str | None = None,
                  two_stems: str | None = None) -> list[dict[str, Any]]:
    """Prefect task over :func:`separate` (all tracks of a run batched together)."""
    from stemcrate.storage import open_library

    results = separate(track_ids, library=open_library(settings), settings=settings,
                       model=model, two_stems=two_stems)
    return [r.to_dict() for r in results]

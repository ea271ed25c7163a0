"""Shared by the stages that read stems (slice, midi, lyrics)."""

from __future__ import annotations

from typing import Any

from stemcrate.config import Settings
from stemcrate.errors import StageUnavailableError
from stemcrate.storage.manifest import Manifest
from stemcrate.storage.store import ObjectStore
from stemcrate.tasks.common import latest_stems, record_state

# which slicer/transcriber settings suit each Demucs stem
SLICE_KIND = {"drums": "drums", "bass": "bass", "vocals": "vocals", "other": "other",
              "guitar": "other", "piano": "other", "no_vocals": "other"}
MELODIC_STEMS = ("bass", "other", "vocals", "piano", "guitar")


def stems_for(store: ObjectStore, track_id: str, stage: str, settings: Settings,
              stems_run_key: str | None) -> Manifest:
    """The stems manifest a stage reads (the given run, else the newest for the model).

    Records the stage ``unavailable`` and raises StageUnavailableError when the track has
    no stems yet.
    """
    manifest = None
    if stems_run_key:
        from stemcrate.storage.manifest import existing_manifest

        manifest = existing_manifest(store, "stems", track_id, f"separate/{stems_run_key}")
    if manifest is None:
        manifest = latest_stems(store, track_id, settings.separation_model)
    if manifest is None:
        reason = "needs stems: run the separate stage first (no stems for this track)"
        record_state(store, track_id, stage, "unavailable", error=reason)
        raise StageUnavailableError(reason)
    return manifest


def track_bpm(track: Manifest) -> float | None:
    bpm: Any = track.data.get("bpm")
    return float(bpm) if bpm else None

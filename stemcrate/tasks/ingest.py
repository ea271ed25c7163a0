"""Ingest: a file becomes a track (original kept byte for byte, tags, analysis, peaks).

The track id is the SHA-256 of the file's bytes, so the same bytes are one track: a second
ingest of them reports ``existing`` and does no work.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE

from stemcrate.config import Settings
from stemcrate.errors import InputError
from stemcrate.storage import Library, keys
from stemcrate.storage.manifest import (
    Manifest,
    Provenance,
    existing_manifest,
    utcnow,
    write_manifest,
)
from stemcrate.storage.store import file_content_id
from stemcrate.tasks.common import record_state, retry_transient_only

INGEST_IDENTITY = "ingest"
ANALYSIS_VERSION = "1"


@dataclass(frozen=True)
class IngestOutcome:
    """What happened to one file: ``added`` (new track) or ``existing`` (already there)."""

    path: str
    track_id: str
    status: str
    title: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "track_id": self.track_id, "status": self.status,
                "title": self.title}


def check_complete(path: Path, decoded_s: float) -> None:
    """Raise InputError when the file's header promises much more audio than decodes.

    Catches truncated mp3/flac/ogg/m4a files, which decoders read partially without error.
    """
    try:
        import mutagen

        info = mutagen.File(path)
    except Exception:  # noqa: BLE001 - an unreadable header is judged by decoding alone
        return
    expected = float(getattr(getattr(info, "info", None), "length", 0.0) or 0.0)
    if expected > 0 and expected - decoded_s > max(0.5, 0.02 * expected):
        raise InputError(path, f"truncated: the header says {expected:.2f} s but only "
                               f"{decoded_s:.2f} s of audio could be decoded")


def ingest_file(path: str | Path, *, library: Library, settings: Settings) -> IngestOutcome:
    """Ingest one file into the store and write its ``track`` manifest.

    Raises :class:`InputError` (naming the file and the cause) for empty, truncated,
    undecodable or too short files. Never modifies or deletes ``path``.
    """
    from stemcrate.audio.analysis import analyse
    from stemcrate.audio.decode import audio_info, load_audio
    from stemcrate.audio.tags import read_tags

    src = Path(path)
    if not src.is_file():
        raise InputError(src, "file not found")
    size = src.stat().st_size
    if size == 0:
        raise InputError(src, "empty file (0 bytes)")
    track_id = file_content_id(src)
    store = library.store
    known = existing_manifest(store, "track", track_id, INGEST_IDENTITY)
    if known is not None:
        return IngestOutcome(str(src), track_id, "existing", known.data.get("title"))

    record_state(store, track_id, "ingest", "running")
    info = audio_info(src)
    y, sr = load_audio(src)
    duration = y.shape[1] / float(sr)
    if duration < settings.min_duration_s:
        raise InputError(src, f"too short: {duration:.2f} s of audio "
                              f"(the minimum is {settings.min_duration_s:.2f} s)")
    check_complete(src, duration)
    analysis = analyse(y, sr)
    tags = read_tags(src)

    ext = src.suffix.lower() or ".bin"
    original_uri = store.put_file(keys.original(track_id, ext), src)
    doc = analysis.to_dict()
    peaks_uri = store.put_bytes(keys.analysis(track_id, "peaks.json"),
                                json.dumps({"peaks": doc.pop("peaks", []),
                                            "duration_s": duration}).encode())
    title = str(tags.get("title") or src.stem)
    data: dict[str, Any] = {
        "track_id": track_id, "title": title, "artist": tags.get("artist"),
        "album": tags.get("album"), "album_artist": tags.get("album_artist"),
        "genre": tags.get("genre"), "year": tags.get("year"),
        "track_number": tags.get("track_number"),
        "duration_s": duration, "sample_rate": sr, "channels": int(y.shape[0]),
        "bit_depth": info.bit_depth, "format": ext.lstrip("."),
        "bpm": doc.get("bpm"), "bpm_confidence": doc.get("bpm_confidence"),
        "key": doc.get("key"), "key_confidence": doc.get("key_confidence"),
        "loudness_lufs": doc.get("loudness_lufs"),
        "peak_dbfs": doc.get("peak_dbfs", doc.get("true_peak_dbfs")),
        "original_uri": original_uri, "original_name": src.name, "size_bytes": size,
        "peaks_uri": peaks_uri, "tags": {k: v for k, v in tags.items() if v is not None},
        "added_at": utcnow(),
    }
    manifest = Manifest(
        kind="track", track_id=track_id, identity=INGEST_IDENTITY, data=data,
        provenance=Provenance(stage="ingest", params={"analysis": ANALYSIS_VERSION}),
    )
    write_manifest(store, manifest)
    record_state(store, track_id, "ingest", "completed")
    return IngestOutcome(str(src), track_id, "added", title)


# Ingest's cache is the store itself: the track id is the file's content id, and an
# existing ``track`` manifest makes a re-ingest a no-op that answers "existing". A Prefect
# result cache would answer "added" again for a duplicate, so it is off for this task.
@task(
    name="ingest-file",
    retries=2,
    retry_delay_seconds=[2, 10],
    retry_condition_fn=retry_transient_only,
    timeout_seconds=900,
    cache_policy=NO_CACHE,
    log_prints=True,
)
def ingest_file_task(path: str, settings: Settings) -> dict[str, Any]:
    """Prefect task over :func:`ingest_file`; returns the outcome as a dict."""
    from stemcrate.storage import open_library

    return ingest_file(path, library=open_library(settings), settings=settings).to_dict()

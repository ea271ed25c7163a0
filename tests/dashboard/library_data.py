"""A small real library for the dashboard tests and screenshots (clearly test data).

Built straight into a store + catalogue with the real storage code: originals are corpus
excerpts; "stems" are filtered versions of them (low-pass = bass, high-pass = drums,
band-pass = other, a quiet mid band = vocals) — test data, not separations; samples are
slices of those stems; one MIDI file (pretty_midi) and one lyrics JSON; run states cover
completed, pending and failed (with an error text). One track has a hostile title.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy.signal import butter, sosfiltfilt

from stemcrate.audio.decode import encode_audio, load_audio
from stemcrate.storage import Library, keys
from stemcrate.storage.catalogue import Catalogue
from stemcrate.storage.manifest import (
    Manifest,
    Provenance,
    event_identity,
    utcnow,
    write_manifest,
)
from stemcrate.storage.store import ObjectStore, content_id

HOSTILE_TITLE = "<img src=x onerror=alert(1)>"
HOSTILE_ARTIST = "<script>alert(2)</script>"


@dataclass
class BuiltLibrary:
    home: Path
    library: Library
    track_ids: dict[str, str] = field(default_factory=dict)  # short name → track id
    sample_ids: list[str] = field(default_factory=list)


def _peaks(y: np.ndarray, n: int = 800) -> list[list[float]]:
    mono = y.mean(axis=0)
    blocks = np.array_split(mono, n)
    return [[round(float(b.min()), 4), round(float(b.max()), 4)] for b in blocks]


def _filter(y: np.ndarray, sr: int, kind: str, freq: float | list[float]) -> np.ndarray:
    sos = butter(4, freq, btype=kind, fs=sr, output="sos")
    return sosfiltfilt(sos, y, axis=1).astype(np.float32)


FLOW_RUN_ID = "0b7d6a4e-1c2f-4a53-9d1e-5f0c2b7e8a91"


def _run(store: ObjectStore, track_id: str, stage: str, state: str,
         error: str | None = None, flow_run_id: str | None = None) -> None:
    write_manifest(store, Manifest(
        kind="run", track_id=track_id, identity=event_identity(f"run/{stage}"),
        data={"stage": stage, "state": state, "error": error, "flow_run_id": flow_run_id},
        provenance=Provenance(stage=stage)))


def add_track(store: ObjectStore, source: Path, *, seconds: float, title: str,
              artist: str | None, bpm: float, key: str) -> tuple[str, np.ndarray, int]:
    y, sr = load_audio(source, sr=44100)
    y = y[:, : int(seconds * sr)]
    if y.shape[0] == 1:
        y = np.repeat(y, 2, axis=0)
    data = encode_audio(y, sr, format="wav", bit_depth=16)
    track_id = content_id(data)
    original_uri = store.put_bytes(keys.original(track_id, ".wav"), data)
    peaks_uri = store.put_bytes(keys.analysis(track_id, "peaks.json"), json.dumps(
        {"peaks": _peaks(y), "duration_s": y.shape[1] / sr}).encode())
    write_manifest(store, Manifest(
        kind="track", track_id=track_id, identity="ingest",
        data={"track_id": track_id, "title": title, "artist": artist, "album": None,
              "duration_s": y.shape[1] / sr, "sample_rate": sr, "channels": 2,
              "bit_depth": 16, "format": "wav", "bpm": bpm, "key": key,
              "loudness_lufs": float(20 * np.log10(np.sqrt(np.mean(y ** 2)) + 1e-9)),
              "original_uri": original_uri, "original_name": source.name,
              "size_bytes": len(data), "peaks_uri": peaks_uri, "tags": {},
              "added_at": utcnow()},
        provenance=Provenance(stage="ingest")))
    _run(store, track_id, "ingest", "completed")
    return track_id, y, sr


def build_library(home: Path, corpus: Path, rng: np.random.Generator) -> BuiltLibrary:
    """Write the test library under ``home`` (store ``home/store``, catalogue
    ``home/catalogue.duckdb``) and apply its manifests."""
    import pretty_midi

    store = ObjectStore((home / "store").resolve().as_uri())
    catalogue = Catalogue(home / "catalogue.duckdb")
    built = BuiltLibrary(home, Library(store, catalogue))

    # 1. a fully processed track
    tid, y, sr = add_track(store, corpus / "Kevin_MacLeod_-_Vibe_Ace.ogg", seconds=8.0,
                           title="Vibe Ace", artist="Kevin MacLeod", bpm=120.0, key="C major")
    built.track_ids["vibe"] = tid
    stems = {"drums": _filter(y, sr, "highpass", 2500.0),
             "bass": _filter(y, sr, "lowpass", 200.0),
             "other": _filter(y, sr, "bandpass", [300.0, 2000.0]),
             "vocals": 0.5 * _filter(y, sr, "bandpass", [800.0, 1200.0])}
    run_key = "testfilters"
    stem_rows = []
    for name, sig in stems.items():
        uri = store.put_bytes(keys.stage_output(tid, "separate", run_key, f"{name}.wav"),
                              encode_audio(sig, sr, format="wav", bit_depth=16))
        stem_rows.append({"stem": name, "uri": uri, "sample_rate": sr, "channels": 2,
                          "duration_s": sig.shape[1] / sr})
    write_manifest(store, Manifest(
        kind="stems", track_id=tid, identity=f"separate/{run_key}",
        data={"run_key": run_key, "model": "test-filters", "format": "wav",
              "stems": stem_rows},
        provenance=Provenance(stage="separate", model="test-filters")))
    labels = {"drums": ["kick", "snare", "hihat_closed"], "bass": ["bass", "bass"],
              "other": ["melodic"], "vocals": ["vocal"]}
    for name, lbls in labels.items():
        samples = []
        for i, label in enumerate(lbls):
            start = 0.5 + 1.7 * i
            seg = stems[name][:, int(start * sr): int((start + 0.6) * sr)]
            sid = content_id(f"{tid}/{name}/{i}".encode())[:24]
            uri = store.put_bytes(keys.stage_output(tid, "slice", run_key, f"{name}_{i}.wav"),
                                  encode_audio(seg, sr, format="wav", bit_depth=16))
            emb = rng.normal(size=16).astype(float)
            samples.append({"sample_id": sid, "start_s": start, "end_s": start + 0.6,
                            "uri": uri, "name": f"{name} {label} {i + 1}", "label": label,
                            "confidence": 0.9, "tags": [name, "test"],
                            "note": "C2" if name == "bass" else None,
                            "midi_note": 36 if name == "bass" else None,
                            "loudness_db": float(20 * np.log10(np.abs(seg).max() + 1e-9)),
                            "peak_db": -1.0, "embedding": emb.tolist()})
            built.sample_ids.append(sid)
        write_manifest(store, Manifest(
            kind="samples", track_id=tid, identity=f"slice/{run_key}/{name}",
            data={"run_key": run_key, "stem": name, "samples": samples},
            provenance=Provenance(stage="slice")))
    pm = pretty_midi.PrettyMIDI(initial_tempo=120.0)
    inst = pretty_midi.Instrument(program=33, name="bass")
    for i in range(16):
        inst.notes.append(pretty_midi.Note(velocity=90, pitch=int(36 + (i * 5) % 12),
                                           start=i * 0.5, end=i * 0.5 + 0.4))
    pm.instruments.append(inst)
    buf = io.BytesIO()
    pm.write(buf)
    midi_uri = store.put_bytes(keys.stage_output(tid, "midi", run_key, "bass.mid"),
                               buf.getvalue())
    write_manifest(store, Manifest(
        kind="midi", track_id=tid, identity=f"midi/{run_key}",
        data={"run_key": run_key, "bpm": 120.0,
              "items": [{"stem": "bass", "kind": "notes", "uri": midi_uri,
                         "note_count": 16, "pitch_min": 36, "pitch_max": 47}]},
        provenance=Provenance(stage="midi")))
    words = ["these", "are", "test", "lyrics", "for", "the", "dashboard"]
    lyr: dict[str, Any] = {"segments": [
        {"start": 0.0, "end": 3.5, "text": " ".join(words[:4]),
         "words": [{"word": w, "start": 0.8 * i, "end": 0.8 * i + 0.7}
                   for i, w in enumerate(words[:4])]},
        {"start": 3.5, "end": 7.5, "text": " ".join(words[4:]),
         "words": [{"word": w, "start": 3.5 + 1.2 * i, "end": 3.5 + 1.2 * i + 1.0}
                   for i, w in enumerate(words[4:])]}]}
    json_uri = store.put_bytes(keys.stage_output(tid, "lyrics", run_key, "lyrics.json"),
                               json.dumps(lyr).encode())
    lrc = "".join(f"[00:{s['start']:05.2f}]{s['text']}\n" for s in lyr["segments"])
    srt = "".join(f"{i + 1}\n00:00:{int(s['start']):02d},000 --> 00:00:{int(s['end']):02d},000\n"
                  f"{s['text']}\n\n" for i, s in enumerate(lyr["segments"]))
    lrc_uri = store.put_bytes(keys.stage_output(tid, "lyrics", run_key, "lyrics.lrc"),
                              lrc.encode())
    srt_uri = store.put_bytes(keys.stage_output(tid, "lyrics", run_key, "lyrics.srt"),
                              srt.encode())
    write_manifest(store, Manifest(
        kind="lyrics", track_id=tid, identity=f"lyrics/{run_key}",
        data={"run_key": run_key, "engine": "test", "model": "test", "language": "en",
              "text": " ".join(words), "has_lyrics": True, "json_uri": json_uri,
              "lrc_uri": lrc_uri, "srt_uri": srt_uri},
        provenance=Provenance(stage="lyrics")))
    for stage in ("separate", "slice", "midi", "lyrics"):
        _run(store, tid, stage, "completed", flow_run_id=FLOW_RUN_ID)

    # 2. a track whose stages are pending / failed
    tid2, _, _ = add_track(store, corpus / "admiralbob77_-_Choice_-_Drum-bass.ogg",
                           seconds=6.0, title="Choice", artist="admiralbob77", bpm=92.0,
                           key="A minor")
    built.track_ids["choice"] = tid2
    _run(store, tid2, "separate", "pending")
    _run(store, tid2, "midi", "failed", error="test failure: basic pitch model missing")

    # 3. a track with a hostile title and artist
    tid3, _, _ = add_track(store, corpus / "sorohanro_-_solo-trumpet-06.ogg", seconds=4.0,
                           title=HOSTILE_TITLE, artist=HOSTILE_ARTIST, bpm=90.0, key="F major")
    built.track_ids["hostile"] = tid3

    catalogue.apply_pending(store)
    return built

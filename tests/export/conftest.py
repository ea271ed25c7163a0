"""A small real library for the export tests, built once per module in a temporary home.

Clearly test data: an excerpt of the corpus trumpet loop (90 BPM, in F) as the original;
"stems" that are filtered versions of it at different gains (24-bit FLAC, as the pipeline
stores them); a MIDI file made with pretty_midi at 120 BPM (as Basic Pitch writes it);
lyrics as LRC/SRT/JSON; and one-shot samples cut from the stems with labels and notes. A
second track has a hostile title and a 32-bit float original. Everything goes through
ObjectStore.put_bytes + write_manifest + Catalogue.apply_pending, as the pipeline does.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import scipy.signal as ss
import soundfile as sf

from stemcrate.audio.decode import encode_audio, load_audio
from stemcrate.storage import Library, keys
from stemcrate.storage.catalogue import Catalogue
from stemcrate.storage.manifest import Manifest, Provenance, write_manifest
from stemcrate.storage.store import ObjectStore, content_id

HOSTILE_TITLE = "../../etc/<img src=x onerror=alert(1)>"
MIDI_NOTES = [(0.0, 0.5, 41, 100), (0.5, 1.0, 45, 90), (1.0, 1.5, 48, 80), (2.0, 3.25, 53, 70)]


@dataclass
class LibraryFixture:
    home: Path
    library: Library
    track_id: str
    hostile_id: str
    stems: dict[str, str] = field(default_factory=dict)  # stem -> key (main track)
    hostile_stems: dict[str, str] = field(default_factory=dict)
    samples: dict[str, dict[str, Any]] = field(default_factory=dict)  # sample_id -> info
    bpm: float = 90.0


def _filter(y: np.ndarray, sr: int, kind: str, freq: float | tuple[float, float]) -> np.ndarray:
    sos = ss.butter(4, freq, btype=kind, fs=sr, output="sos")
    return ss.sosfiltfilt(sos, y, axis=-1).astype(np.float32)


def _track_manifest(track_id: str, data: dict[str, Any]) -> Manifest:
    return Manifest(kind="track", track_id=track_id, identity="ingest", data=data,
                    provenance=Provenance(stage="ingest"))


def _add_track(store: ObjectStore, y: np.ndarray, sr: int, *, title: str, artist: str | None,
               bit_depth: int, key: str | None, bpm: float) -> str:
    if bit_depth == 32:
        original = encode_audio(y, sr, format="wav", bit_depth=32)
        ext, fmt = ".wav", "WAV"
    else:
        original = encode_audio(y, sr, format="flac", bit_depth=16)
        ext, fmt = ".flac", "FLAC"
    track_id = content_id(original)
    uri = store.put_bytes(keys.original(track_id, ext), original)
    write_manifest(store, _track_manifest(track_id, {
        "track_id": track_id, "title": title, "artist": artist, "album": "Export Tests",
        "duration_s": y.shape[1] / sr, "sample_rate": sr, "channels": y.shape[0],
        "bit_depth": bit_depth, "format": fmt, "bpm": bpm, "key": key,
        "original_uri": uri, "original_name": f"test{ext}", "size_bytes": len(original)}))
    return track_id


def _add_stems(store: ObjectStore, track_id: str, stems: dict[str, np.ndarray], sr: int,
               run_key: str = "htdemucs-test") -> dict[str, str]:
    out, items = {}, []
    for name, y in stems.items():
        key = keys.stage_output(track_id, "separate", run_key, f"{name}.flac")
        uri = store.put_bytes(key, encode_audio(y, sr, format="flac", bit_depth=24))
        out[name] = key
        items.append({"stem": name, "uri": uri, "sample_rate": sr, "channels": y.shape[0],
                      "duration_s": y.shape[1] / sr})
    write_manifest(store, Manifest(
        kind="stems", track_id=track_id, identity=f"separate/{run_key}",
        data={"run_key": run_key, "model": "htdemucs", "format": "flac", "stems": items},
        provenance=Provenance(stage="separate", model="htdemucs")))
    return out


def _midi_bytes() -> bytes:
    import pretty_midi

    pm = pretty_midi.PrettyMIDI()  # 120 BPM, like Basic Pitch
    inst = pretty_midi.Instrument(program=33, name="bass")
    for start, end, pitch, vel in MIDI_NOTES:
        inst.notes.append(pretty_midi.Note(velocity=vel, pitch=pitch, start=start, end=end))
    pm.instruments.append(inst)
    buf = io.BytesIO()
    pm.write(buf)
    return buf.getvalue()


@pytest.fixture(scope="package")
def lib(tmp_path_factory: pytest.TempPathFactory, corpus: Path) -> LibraryFixture:
    home = tmp_path_factory.mktemp("export-home")
    store = ObjectStore(str(home / "store"))
    catalogue = Catalogue(home / "catalogue.duckdb")
    library = Library(store, catalogue)

    y, sr = load_audio(corpus / "sorohanro_-_solo-trumpet-06.ogg")
    y = y[:, : int(3.5 * sr)]
    y = (0.9 * y / np.max(np.abs(y))).astype(np.float32)
    track_id = _add_track(store, y, sr, title="Trumpet Loop", artist="Sorohanro",
                          bit_depth=16, key="F minor", bpm=90.0)
    stems = {"bass": 0.8 * _filter(y, sr, "lowpass", 300.0),
             "drums": 0.3 * _filter(y, sr, "highpass", 4000.0),
             "other": 0.5 * _filter(y, sr, "bandpass", (300.0, 4000.0))}
    fx = LibraryFixture(home=home, library=library, track_id=track_id, hostile_id="")
    fx.stems = _add_stems(store, track_id, stems, sr)

    # MIDI (bass) at 120 BPM, as a transcriber writes it.
    run = "basic-pitch-test"
    midi_uri = store.put_bytes(keys.stage_output(track_id, "midi", run, "bass.mid"),
                               _midi_bytes())
    write_manifest(store, Manifest(
        kind="midi", track_id=track_id, identity=f"midi/{run}",
        data={"run_key": run, "bpm": 90.0, "items": [
            {"stem": "bass", "kind": "notes", "uri": midi_uri, "note_count": len(MIDI_NOTES),
             "pitch_min": 41, "pitch_max": 53}]},
        provenance=Provenance(stage="midi", model="basic-pitch")))

    # Lyrics.
    run = "whisper-test"
    lrc = "[00:00.50]Test line one\n[00:02.00]Test line two\n"
    srt = ("1\n00:00:00,500 --> 00:00:02,000\nTest line one\n\n"
           "2\n00:00:02,000 --> 00:00:03,000\nTest line two\n")
    lyr = {"lrc_uri": store.put_bytes(keys.stage_output(track_id, "lyrics", run, "l.lrc"),
                                      lrc.encode()),
           "srt_uri": store.put_bytes(keys.stage_output(track_id, "lyrics", run, "l.srt"),
                                      srt.encode()),
           "json_uri": store.put_bytes(keys.stage_output(track_id, "lyrics", run, "l.json"),
                                       json.dumps({"segments": []}).encode())}
    write_manifest(store, Manifest(
        kind="lyrics", track_id=track_id, identity=f"lyrics/{run}",
        data={"run_key": run, "engine": "faster-whisper", "model": "tiny.en",
              "language": "en", "text": "Test line one Test line two", "has_lyrics": True,
              **lyr},
        provenance=Provenance(stage="lyrics", model="tiny.en")))

    # Samples cut from the stems: (stem, label, note, midi_note, start, end, store format).
    cuts = [("bass", "kick", "C1", 24, 0.0, 0.4, "wav16"),
            ("bass", "kick", None, None, 1.0, 1.3, "flac24"),
            ("bass", "bass", "F2", 41, 0.5, 1.1, "wav24"),
            ("other", "vocal", None, None, 1.5, 2.2, "flac24"),
            ("drums", "hihat_closed", None, None, 2.0, 2.1, "wav24")]
    run = "slice-test"
    by_stem: dict[str, list[dict[str, Any]]] = {}
    for i, (stem, label, note, midi_note, start, end, fmt) in enumerate(cuts):
        seg = stems[stem][:, int(start * sr):int(end * sr)]
        if fmt == "wav16":
            data = encode_audio(seg, sr, format="wav", bit_depth=16)
        elif fmt == "wav24":
            data = encode_audio(seg, sr, format="wav", bit_depth=24)
        else:
            data = encode_audio(seg, sr, format="flac", bit_depth=24)
        ext = ".flac" if fmt.startswith("flac") else ".wav"
        sid = f"{track_id[:8]}-{stem}-{i}"
        key = keys.stage_output(track_id, "slice", run, f"{sid}{ext}")
        uri = store.put_bytes(key, data)
        info = {"sample_id": sid, "start_s": start, "end_s": end, "uri": uri,
                "name": f"{label} {i}", "label": label, "confidence": 0.9,
                "tags": ["test", label], "note": note, "midi_note": midi_note, "key_": key}
        fx.samples[sid] = info
        by_stem.setdefault(stem, []).append({k: v for k, v in info.items() if k != "key_"})
    for stem, rows in by_stem.items():
        write_manifest(store, Manifest(
            kind="samples", track_id=track_id, identity=f"slice/{run}/{stem}",
            data={"run_key": run, "stem": stem, "samples": rows},
            provenance=Provenance(stage="slice")))

    # A second track: hostile title, 32-bit float original, one stem.
    y2 = (0.5 * y[:, : int(1.5 * sr)]).astype(np.float32)
    fx.hostile_id = _add_track(store, y2, sr, title=HOSTILE_TITLE, artist=None, bit_depth=32,
                               key="C major", bpm=120.0)
    fx.hostile_stems = _add_stems(store, fx.hostile_id,
                                  {"vocals": 0.7 * _filter(y2, sr, "highpass", 200.0)}, sr)

    assert catalogue.apply_pending(store) > 0
    return fx


def read_store_audio(store: ObjectStore, key: str, dtype: str) -> tuple[np.ndarray, Any]:
    """A stored audio file's raw sample values (``int32`` left-justified or float)."""
    with store.open(key) as fh:
        data, _ = sf.read(fh, dtype=dtype, always_2d=True)
        fh.seek(0)
        info = sf.info(fh)
    return data, info

"""The DuckDB catalogue: migrations, idempotent apply, rebuild, edits, concurrent access."""

from __future__ import annotations

import multiprocessing as mp
import os
import subprocess
import sys
from pathlib import Path

from stemcrate.storage import keys
from stemcrate.storage.catalogue import SCHEMA_VERSION, Catalogue
from stemcrate.storage.manifest import Manifest, Provenance, event_identity, write_manifest
from stemcrate.storage.store import ObjectStore

VIEWS = ("tracks", "stems", "samples", "midi", "lyrics", "runs")


def _track(tid: str, title: str) -> Manifest:
    return Manifest("track", tid, "ingest",
                    {"track_id": tid, "title": title, "artist": "A", "duration_s": 3.0,
                     "sample_rate": 44100, "channels": 2, "bpm": 90.0, "key": "F major",
                     "loudness_lufs": -14.2, "tags": {"genre": "jazz"}},
                    Provenance("ingest"))


def _populate(store: ObjectStore, n: int = 3) -> None:
    for i in range(n):
        tid = f"{i:064x}"
        write_manifest(store, _track(tid, f"Song {i}"))
        write_manifest(store, Manifest("stems", tid, "separate/r1", {
            "run_key": "r1", "model": "htdemucs", "weights_hash": "w", "format": "flac",
            "stems": [{"stem": s, "uri": store.uri(f"tracks/{tid}/stems/r1/{s}.flac"),
                       "sample_rate": 44100, "channels": 2, "duration_s": 3.0}
                      for s in ("drums", "bass", "other", "vocals")]},
            Provenance("separate", model="htdemucs")))
        write_manifest(store, Manifest("samples", tid, "slice/r1/drums", {
            "run_key": "r1", "stem": "drums", "samples": [
                {"sample_id": f"s{i}-{j}", "start_s": j * 0.5, "end_s": j * 0.5 + 0.2,
                 "uri": store.uri(f"tracks/{tid}/samples/{j}.wav"), "label": "kick",
                 "confidence": 0.9, "tags": ["808", "short"], "note": None,
                 "midi_note": None, "loudness_db": -12.0, "peak_db": -1.0, "count": 1,
                 "embedding": [0.5, 0.5, 0.5, 0.5]} for j in range(4)]},
            Provenance("slice")))
        write_manifest(store, Manifest("midi", tid, "midi/r1", {
            "run_key": "r1", "bpm": 90.0, "items": [
                {"stem": "bass", "uri": store.uri(f"tracks/{tid}/midi/bass.mid"),
                 "note_count": 12, "pitch_min": 28, "pitch_max": 40}]}, Provenance("midi")))
        write_manifest(store, Manifest("lyrics", tid, "lyrics/r1", {
            "run_key": "r1", "engine": "faster-whisper", "model": "tiny.en",
            "language": "en", "text": "hello", "has_lyrics": True,
            "json_uri": "j", "lrc_uri": "l", "elrc_uri": "e", "srt_uri": "s"},
            Provenance("lyrics")))
        for state in ("pending", "running", "completed"):
            write_manifest(store, Manifest("run", tid, event_identity("separate"),
                                           {"stage": "separate", "state": state},
                                           Provenance("separate")))


def _dump(cat: Catalogue) -> dict[str, list]:
    out = {}
    for view in VIEWS:
        rows = cat.query(f"SELECT * FROM {view}")
        out[view] = sorted(repr(sorted(r.items())) for r in rows)
    return out


def test_migrations_create_public_views(tmp_path: Path) -> None:
    cat = Catalogue(tmp_path / "c.duckdb")
    assert cat.schema_version() == SCHEMA_VERSION
    cols = {r["column_name"] for r in cat.query(
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'tracks'")}
    for needed in ("track_id", "title", "artist", "album", "duration_s", "sample_rate",
                   "channels", "bpm", "key", "loudness_lufs", "added_at"):
        assert needed in cols
    with cat.writer():  # reopening never re-applies a migration
        pass
    assert cat.schema_version() == SCHEMA_VERSION


def test_apply_is_idempotent_and_rebuild_gives_same_rows(tmp_path: Path) -> None:
    store = ObjectStore(str(tmp_path / "store"))
    cat = Catalogue(tmp_path / "c.duckdb")
    _populate(store)
    first = cat.apply_pending(store)
    assert first > 0
    assert cat.apply_pending(store) == 0
    assert store.list(keys.PENDING_PREFIX) == []
    # an edit is a manifest too, so rebuild keeps it
    tid = f"{1:064x}"
    write_manifest(store, Manifest("edit", tid, event_identity("edit"), {
        "target": "track", "target_id": tid, "action": "rename", "value": {"title": "Renamed"}},
        Provenance("edit")))
    write_manifest(store, Manifest("edit", tid, event_identity("edit"), {
        "target": "sample", "target_id": "s1-0", "action": "retag", "value": {"label": "tom"}},
        Provenance("edit")))
    write_manifest(store, Manifest("edit", tid, event_identity("edit"), {
        "target": "track", "target_id": f"{2:064x}", "action": "delete"}, Provenance("edit")))
    cat.apply_pending(store)
    before = _dump(cat)
    assert len(before["tracks"]) == 2
    assert cat.query("SELECT title FROM tracks WHERE track_id = ?", [tid])[0]["title"] == \
        "Renamed"
    row = cat.query("SELECT label, model_label, corrected FROM samples WHERE sample_id='s1-0'")
    assert row == [{"label": "tom", "model_label": "kick", "corrected": True}]
    assert cat.query("SELECT state FROM runs")[0]["state"] == "completed"
    cat.path.unlink()
    cat.rebuild(store)
    assert _dump(cat) == before


def test_late_run_state_never_overwrites_newer(tmp_path: Path) -> None:
    store = ObjectStore(str(tmp_path / "store"))
    cat = Catalogue(tmp_path / "c.duckdb")
    tid = "t" * 64
    write_manifest(store, _track(tid, "x"))
    old = Manifest("run", tid, event_identity("slice"), {"stage": "slice", "state": "running"},
                   Provenance("slice"), created_at="2020-01-01T00:00:00.000000Z")
    new = Manifest("run", tid, event_identity("slice"), {"stage": "slice", "state": "failed",
                                                        "error": "boom"}, Provenance("slice"))
    cat.apply([new])
    cat.apply([old])
    assert cat.query("SELECT state, error FROM runs") == [{"state": "failed", "error": "boom"}]


def _writer(store_dir: str, cat_path: str, n: int) -> None:
    store = ObjectStore(store_dir)
    cat = Catalogue(cat_path)
    for i in range(n):
        tid = f"{i + 1000:064x}"
        write_manifest(store, _track(tid, f"W{i}"))
        cat.apply_pending(store)


def test_readers_and_cli_never_fail_while_the_pipeline_writes(tmp_path: Path) -> None:
    store_dir, cat_path = str(tmp_path / "store"), str(tmp_path / "c.duckdb")
    Catalogue(cat_path).query("SELECT 1")
    ctx = mp.get_context("spawn")
    writer = ctx.Process(target=_writer, args=(store_dir, cat_path, 40))
    writer.start()
    reader = Catalogue(cat_path)
    env = dict(os.environ, STEMCRATE_HOME=str(tmp_path), STEMCRATE_STORE=store_dir,
               STEMCRATE_CATALOGUE=cat_path)
    counts = []
    cli_runs = 0
    while writer.is_alive():
        counts.append(reader.query("SELECT count(*) AS n FROM tracks")[0]["n"])
        if cli_runs < 3:
            proc = subprocess.run([sys.executable, "-m", "stemcrate.cli", "ls", "tracks",
                                   "--json"], env=env, capture_output=True, text=True,
                                  timeout=120)
            assert proc.returncode == 0, proc.stderr
            cli_runs += 1
    writer.join()
    assert writer.exitcode == 0
    assert counts == sorted(counts)  # readers see a growing, consistent catalogue
    assert reader.query("SELECT count(*) AS n FROM tracks")[0]["n"] == 40
    assert cli_runs >= 1

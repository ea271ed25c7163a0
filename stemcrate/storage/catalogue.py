"""The DuckDB catalogue: an index over the manifests in the store.

DuckDB allows one read-write process or many read-only ones, never both. Every access here
therefore goes through a short-lived connection guarded by an inter-process lock file
(``<catalogue>.lock``, ``flock``): writers hold it exclusively while they apply manifests,
readers share it while they query. Nobody ever waits on DuckDB's own lock, so the CLI, the
dashboard and a pipeline applying results never fail with a lock error; a connection is
never shared between threads (each call opens its own).

Tasks never open the catalogue. Whoever owns it (``stemcrate up``/``dashboard`` while
running, else the CLI at the end of its run) calls :meth:`Catalogue.apply_pending`, which
applies new manifests idempotently. :meth:`Catalogue.rebuild` recreates the database from
the store alone and gives the same rows.

Public views (plain DuckDB users may query them): ``tracks``, ``stems``, ``samples``,
``midi``, ``lyrics``, ``runs`` (see :data:`MIGRATIONS` for their columns).
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stemcrate.errors import CatalogueError
from stemcrate.storage import keys
from stemcrate.storage.manifest import Manifest, read_manifest, utcnow
from stemcrate.storage.store import ObjectStore

if TYPE_CHECKING:
    import duckdb

TRACK_COLUMNS = (
    "track_id", "title", "artist", "album", "album_artist", "genre", "year", "track_number",
    "duration_s", "sample_rate", "channels", "bit_depth", "format", "bpm", "bpm_confidence",
    "key", "key_confidence", "loudness_lufs", "peak_dbfs", "original_uri", "original_name",
    "size_bytes", "peaks_uri", "tags", "added_at",
)
SAMPLE_COLUMNS = (
    "sample_id", "track_id", "stem", "run_key", "start_s", "end_s", "duration_s", "uri",
    "name", "label", "model_label", "confidence", "tags", "note", "midi_note", "loudness_db",
    "peak_db", "count", "embedding", "corrected", "created_at",
)

# Each migration is applied once, in order, inside one transaction; never edit a published
# one: add the next.
MIGRATIONS: list[tuple[int, list[str]]] = [
    (1, [
        """CREATE TABLE t_tracks (
            track_id VARCHAR PRIMARY KEY, title VARCHAR, artist VARCHAR, album VARCHAR,
            album_artist VARCHAR, genre VARCHAR, year INTEGER, track_number INTEGER,
            duration_s DOUBLE, sample_rate INTEGER, channels INTEGER, bit_depth INTEGER,
            format VARCHAR, bpm DOUBLE, bpm_confidence DOUBLE, key VARCHAR,
            key_confidence DOUBLE, loudness_lufs DOUBLE, peak_dbfs DOUBLE,
            original_uri VARCHAR, original_name VARCHAR, size_bytes BIGINT, peaks_uri VARCHAR,
            tags JSON, added_at TIMESTAMP, deleted BOOLEAN DEFAULT false)""",
        """CREATE TABLE t_stems (
            track_id VARCHAR, run_key VARCHAR, stem VARCHAR, model VARCHAR,
            weights_hash VARCHAR, uri VARCHAR, format VARCHAR, sample_rate INTEGER,
            channels INTEGER, duration_s DOUBLE, created_at TIMESTAMP,
            PRIMARY KEY (track_id, run_key, stem))""",
        """CREATE TABLE t_samples (
            sample_id VARCHAR PRIMARY KEY, track_id VARCHAR, stem VARCHAR, run_key VARCHAR,
            start_s DOUBLE, end_s DOUBLE, duration_s DOUBLE, uri VARCHAR, name VARCHAR,
            label VARCHAR, model_label VARCHAR, confidence DOUBLE, tags VARCHAR[],
            note VARCHAR, midi_note INTEGER, loudness_db DOUBLE, peak_db DOUBLE,
            count INTEGER, embedding FLOAT[], corrected BOOLEAN DEFAULT false,
            deleted BOOLEAN DEFAULT false, created_at TIMESTAMP)""",
        """CREATE TABLE t_midi (
            track_id VARCHAR, run_key VARCHAR, stem VARCHAR, kind VARCHAR, uri VARCHAR,
            note_count INTEGER, pitch_min INTEGER, pitch_max INTEGER, bpm DOUBLE,
            created_at TIMESTAMP, PRIMARY KEY (track_id, run_key, stem))""",
        """CREATE TABLE t_lyrics (
            track_id VARCHAR, run_key VARCHAR, engine VARCHAR, model VARCHAR,
            language VARCHAR, text VARCHAR, has_lyrics BOOLEAN, json_uri VARCHAR,
            lrc_uri VARCHAR, elrc_uri VARCHAR, srt_uri VARCHAR, created_at TIMESTAMP,
            PRIMARY KEY (track_id, run_key))""",
        """CREATE TABLE t_runs (
            track_id VARCHAR, stage VARCHAR, state VARCHAR, error VARCHAR,
            flow_run_id VARCHAR, run_key VARCHAR, updated_at TIMESTAMP,
            PRIMARY KEY (track_id, stage))""",
        """CREATE TABLE t_edits (
            manifest_id VARCHAR PRIMARY KEY, track_id VARCHAR, target VARCHAR,
            target_id VARCHAR, action VARCHAR, value JSON, created_at TIMESTAMP)""",
        """CREATE TABLE applied_manifests (
            manifest_id VARCHAR PRIMARY KEY, kind VARCHAR, created_at TIMESTAMP)""",
        """CREATE VIEW tracks AS SELECT * EXCLUDE (deleted) FROM t_tracks WHERE NOT deleted""",
        """CREATE VIEW stems AS SELECT s.* FROM t_stems s
            JOIN t_tracks t USING (track_id) WHERE NOT t.deleted""",
        """CREATE VIEW samples AS SELECT s.* EXCLUDE (deleted), t.title AS track_title,
            t.bpm AS bpm, t.key AS key FROM t_samples s JOIN t_tracks t USING (track_id)
            WHERE NOT s.deleted AND NOT t.deleted""",
        """CREATE VIEW midi AS SELECT m.* FROM t_midi m
            JOIN t_tracks t USING (track_id) WHERE NOT t.deleted""",
        """CREATE VIEW lyrics AS SELECT l.* FROM t_lyrics l
            JOIN t_tracks t USING (track_id) WHERE NOT t.deleted""",
        """CREATE VIEW runs AS SELECT r.* FROM t_runs r""",
        "CREATE INDEX idx_samples_track ON t_samples (track_id)",
        "CREATE INDEX idx_samples_label ON t_samples (label)",
    ]),
]
SCHEMA_VERSION = MIGRATIONS[-1][0]

_RESULT_TABLES = ("t_tracks", "t_stems", "t_samples", "t_midi", "t_lyrics", "t_runs",
                  "t_edits", "applied_manifests")


class Catalogue:
    """The catalogue file at ``path`` (created and migrated on first write)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path).expanduser()
        self.lock_path = self.path.with_name(self.path.name + ".lock")

    # -- connections ----------------------------------------------------------------------
    @contextmanager
    def _locked(self, exclusive: bool) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    @contextmanager
    def writer(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """An exclusive read-write connection (schema migrated), closed on exit."""
        import duckdb

        with self._locked(exclusive=True):
            try:
                con = duckdb.connect(str(self.path))
            except duckdb.Error as exc:
                raise CatalogueError(f"cannot open catalogue {self.path}: {exc}") from exc
            try:
                self._migrate(con)
                yield con
            finally:
                con.close()

    @contextmanager
    def reader(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A shared read-only connection, closed on exit (creates the file if missing)."""
        import duckdb

        if not self.path.exists():  # writers migrate; a new file gets the schema first
            with self.writer():
                pass
        with self._locked(exclusive=False):
            try:
                con = duckdb.connect(str(self.path), read_only=True)
            except duckdb.Error as exc:
                raise CatalogueError(f"cannot open catalogue {self.path}: {exc}") from exc
            try:
                yield con
            finally:
                con.close()

    @staticmethod
    def _migrate(con: duckdb.DuckDBPyConnection) -> None:
        con.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER, "
                    "applied_at TIMESTAMP)")
        row = con.execute("SELECT max(version) FROM schema_version").fetchone()
        current = int(row[0]) if row and row[0] is not None else 0
        for version, statements in MIGRATIONS:
            if version <= current:
                continue
            con.execute("BEGIN TRANSACTION")
            try:
                for sql in statements:
                    con.execute(sql)
                con.execute("INSERT INTO schema_version VALUES (?, now())", [version])
                con.execute("COMMIT")
            except Exception:
                con.execute("ROLLBACK")
                raise

    # -- queries --------------------------------------------------------------------------
    def query(self, sql: str, params: Sequence[Any] | None = None) -> list[dict[str, Any]]:
        """Run a read-only query; rows as dicts."""
        with self.reader() as con:
            cur = con.execute(sql, list(params or []))
            names = [d[0] for d in cur.description or []]
            return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    def schema_version(self) -> int:
        rows = self.query("SELECT max(version) AS v FROM schema_version")
        return int(rows[0]["v"] or 0)

    # -- applying manifests ---------------------------------------------------------------
    def apply_pending(self, store: ObjectStore) -> int:
        """Apply the manifests whose pending markers are in ``store``; return how many.

        Idempotent: a manifest already applied is skipped, and its marker removed.
        """
        markers = store.list(keys.PENDING_PREFIX)
        if not markers:
            return 0
        manifests: list[tuple[str, Manifest]] = []
        for marker in markers:
            try:
                mkey = store.get_bytes(marker).decode()
                manifests.append((marker, read_manifest(store, mkey)))
            except Exception:  # noqa: BLE001 - a marker whose manifest vanished: drop it
                continue
        manifests.sort(key=lambda m: (m[1].created_at, m[1].manifest_id))
        applied = self.apply([m for _, m in manifests])
        for marker in markers:
            store.delete(marker)
        return applied

    def reconcile(self, store: ObjectStore) -> int:
        """Apply every manifest in the store not yet applied (heals lost markers)."""
        with self.reader() as con:
            done = {r[0] for r in con.execute(
                "SELECT manifest_id FROM applied_manifests").fetchall()}
        todo = []
        for key in store.list(keys.MANIFESTS_PREFIX):
            mid = key.rsplit("/", 1)[-1].removesuffix(".json")
            if mid not in done:
                todo.append(read_manifest(store, key))
        todo.sort(key=lambda m: (m.created_at, m.manifest_id))
        return self.apply(todo)

    def rebuild(self, store: ObjectStore) -> int:
        """Recreate the catalogue from the store alone; return the manifests applied."""
        manifests = [read_manifest(store, k) for k in store.list(keys.MANIFESTS_PREFIX)]
        manifests.sort(key=lambda m: (m.created_at, m.manifest_id))
        with self.writer() as con:
            con.execute("BEGIN TRANSACTION")
            for table in _RESULT_TABLES:
                con.execute(f"DELETE FROM {table}")
            con.execute("COMMIT")
        applied = self.apply(manifests)
        for marker in store.list(keys.PENDING_PREFIX):
            store.delete(marker)
        return applied

    def apply(self, manifests: Sequence[Manifest]) -> int:
        """Apply ``manifests`` in order, each once; return how many were new."""
        if not manifests:
            return 0
        count = 0
        with self.writer() as con:
            done = {r[0] for r in con.execute(
                "SELECT manifest_id FROM applied_manifests").fetchall()}
            con.execute("BEGIN TRANSACTION")
            try:
                for m in manifests:
                    if m.manifest_id in done:
                        continue
                    _APPLY[m.kind](con, m)
                    con.execute("INSERT INTO applied_manifests VALUES (?, ?, ?)",
                                [m.manifest_id, m.kind, m.created_at])
                    done.add(m.manifest_id)
                    count += 1
                con.execute("COMMIT")
            except Exception as exc:
                con.execute("ROLLBACK")
                raise CatalogueError(f"cannot apply manifests to {self.path}: {exc}") from exc
        return count


# -- per-kind appliers ------------------------------------------------------------------
def _apply_track(con: duckdb.DuckDBPyConnection, m: Manifest) -> None:
    d = dict(m.data)
    d["tags"] = json.dumps(d.get("tags") or {})
    d.setdefault("added_at", m.created_at)
    con.execute("DELETE FROM t_tracks WHERE track_id = ?", [m.track_id])
    cols = ", ".join(TRACK_COLUMNS)
    marks = ", ".join("?" for _ in TRACK_COLUMNS)
    con.execute(f"INSERT INTO t_tracks ({cols}) VALUES ({marks})",
                [d.get(c) for c in TRACK_COLUMNS])


def _apply_stems(con: duckdb.DuckDBPyConnection, m: Manifest) -> None:
    d = m.data
    con.execute("DELETE FROM t_stems WHERE track_id = ? AND run_key = ?",
                [m.track_id, d["run_key"]])
    for s in d["stems"]:
        con.execute(
            "INSERT INTO t_stems VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [m.track_id, d["run_key"], s["stem"], d.get("model"), d.get("weights_hash"),
             s["uri"], d.get("format"), s.get("sample_rate"), s.get("channels"),
             s.get("duration_s"), m.created_at])


def _apply_samples(con: duckdb.DuckDBPyConnection, m: Manifest) -> None:
    import pandas as pd

    d = m.data
    con.execute("DELETE FROM t_samples WHERE track_id = ? AND run_key = ? AND stem = ?",
                [m.track_id, d["run_key"], d["stem"]])
    rows = []
    for s in d["samples"]:
        rows.append({
            "sample_id": s["sample_id"], "track_id": m.track_id, "stem": d["stem"],
            "run_key": d["run_key"], "start_s": s["start_s"], "end_s": s["end_s"],
            "duration_s": s["end_s"] - s["start_s"], "uri": s["uri"], "name": s.get("name"),
            "label": s.get("label"), "model_label": s.get("label"),
            "confidence": s.get("confidence"), "tags": list(s.get("tags") or []),
            "note": s.get("note"), "midi_note": s.get("midi_note"),
            "loudness_db": s.get("loudness_db"), "peak_db": s.get("peak_db"),
            "count": s.get("count", 1), "embedding": s.get("embedding"),
            "corrected": False, "created_at": m.created_at,
        })
    if not rows:
        return
    frame = pd.DataFrame(rows, columns=list(SAMPLE_COLUMNS))
    con.register("_new_samples", frame)
    try:
        cols = ", ".join(SAMPLE_COLUMNS)
        con.execute("DELETE FROM t_samples WHERE sample_id IN "
                    "(SELECT sample_id FROM _new_samples)")
        con.execute(
            f"INSERT INTO t_samples ({cols}) SELECT sample_id, track_id, stem, run_key, "
            "start_s, end_s, duration_s, uri, name, label, model_label, confidence, "
            "CAST(tags AS VARCHAR[]), note, CAST(midi_note AS INTEGER), loudness_db, peak_db, "
            "CAST(count AS INTEGER), CAST(embedding AS FLOAT[]), corrected, "
            "CAST(created_at AS TIMESTAMP) FROM _new_samples")
    finally:
        con.unregister("_new_samples")


def _apply_midi(con: duckdb.DuckDBPyConnection, m: Manifest) -> None:
    d = m.data
    con.execute("DELETE FROM t_midi WHERE track_id = ? AND run_key = ?",
                [m.track_id, d["run_key"]])
    for item in d["items"]:
        con.execute("INSERT INTO t_midi VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [m.track_id, d["run_key"], item["stem"], item.get("kind", "notes"),
                     item["uri"], item.get("note_count"), item.get("pitch_min"),
                     item.get("pitch_max"), d.get("bpm"), m.created_at])


def _apply_lyrics(con: duckdb.DuckDBPyConnection, m: Manifest) -> None:
    d = m.data
    con.execute("DELETE FROM t_lyrics WHERE track_id = ? AND run_key = ?",
                [m.track_id, d["run_key"]])
    con.execute("INSERT INTO t_lyrics VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [m.track_id, d["run_key"], d.get("engine"), d.get("model"), d.get("language"),
                 d.get("text"), d.get("has_lyrics"), d.get("json_uri"), d.get("lrc_uri"),
                 d.get("elrc_uri"), d.get("srt_uri"), m.created_at])


def _apply_run(con: duckdb.DuckDBPyConnection, m: Manifest) -> None:
    d = m.data
    row = con.execute("SELECT updated_at FROM t_runs WHERE track_id = ? AND stage = ?",
                      [m.track_id, d["stage"]]).fetchone()
    if row is not None and row[0] is not None:
        if str(row[0]).replace(" ", "T") > m.created_at.rstrip("Z"):
            return  # an older state arriving late never overwrites a newer one
    con.execute("DELETE FROM t_runs WHERE track_id = ? AND stage = ?",
                [m.track_id, d["stage"]])
    con.execute("INSERT INTO t_runs VALUES (?, ?, ?, ?, ?, ?, ?)",
                [m.track_id, d["stage"], d["state"], d.get("error"), d.get("flow_run_id"),
                 d.get("run_key"), m.created_at])


def _apply_edit(con: duckdb.DuckDBPyConnection, m: Manifest) -> None:
    d = m.data
    target, target_id, action = d["target"], d["target_id"], d["action"]
    value = d.get("value") or {}
    con.execute("INSERT INTO t_edits VALUES (?, ?, ?, ?, ?, ?, ?)",
                [m.manifest_id, m.track_id, target, target_id, action, json.dumps(value),
                 m.created_at])
    table, id_col = {"track": ("t_tracks", "track_id"),
                     "sample": ("t_samples", "sample_id")}[target]
    if action in ("delete", "restore"):
        con.execute(f"UPDATE {table} SET deleted = ? WHERE {id_col} = ?",
                    [action == "delete", target_id])
    elif action == "rename":
        allowed = {"track": ("title", "artist", "album", "genre"),
                   "sample": ("name",)}[target]
        for col in allowed:
            if col in value:
                con.execute(f"UPDATE {table} SET {col} = ? WHERE {id_col} = ?",
                            [value[col], target_id])
    elif action == "retag" and target == "sample":
        if "label" in value:
            con.execute("UPDATE t_samples SET label = ?, corrected = (model_label <> ?) "
                        "WHERE sample_id = ?", [value["label"], value["label"], target_id])
        if "tags" in value:
            con.execute("UPDATE t_samples SET tags = ? WHERE sample_id = ?",
                        [list(value["tags"]), target_id])
    elif action == "retag" and target == "track":
        for col in ("genre", "bpm", "key"):
            if col in value:
                con.execute(f"UPDATE t_tracks SET {col} = ? WHERE track_id = ?",
                            [value[col], target_id])
    else:
        raise CatalogueError(f"unknown edit {action!r} on {target!r}")


_APPLY = {
    "track": _apply_track, "stems": _apply_stems, "samples": _apply_samples,
    "midi": _apply_midi, "lyrics": _apply_lyrics, "run": _apply_run, "edit": _apply_edit,
}

__all__ = ["Catalogue", "SCHEMA_VERSION", "utcnow"]

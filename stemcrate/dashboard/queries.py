"""The catalogue queries the dashboard issues (one place, so the benchmark times the same SQL).

Every function takes a :class:`~stemcrate.storage.catalogue.Catalogue` and opens its own
short-lived read-only connection (``Catalogue.reader()``): Panel callbacks run on several
threads, and a DuckDB connection must never be shared between them.

Pages are cut in SQL (``LIMIT``/``OFFSET`` plus one ``count(*)``), so a library of 100 k
tracks or 1 M samples never travels to the browser, nor even into Python, whole. Sort
columns come from fixed whitelists; every user value is a bound parameter.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from stemcrate.storage.catalogue import Catalogue

LABELS = ("kick", "snare", "clap", "hihat_closed", "hihat_open", "cymbal", "tom",
          "percussion", "bass", "vocal", "melodic", "fx")
"""The sample label vocabulary (design.md)."""

TRACK_SORTS = {
    "added (newest)": "added_at DESC NULLS LAST, rowid",
    "added (oldest)": "added_at ASC NULLS LAST, rowid",
    "title": "lower(title) ASC NULLS LAST, rowid",
    "artist": "lower(artist) ASC NULLS LAST, lower(title), rowid",
    "duration": "duration_s DESC NULLS LAST, rowid",
    "BPM": "bpm ASC NULLS LAST, rowid",
    "key": "key ASC NULLS LAST, rowid",
    "loudness": "loudness_lufs DESC NULLS LAST, rowid",
}
"""Track sorts over ``t_tracks`` (ties broken by ``rowid``: a total order, cheap to sort)."""
SAMPLE_SORTS = {
    "newest": "s.created_at DESC NULLS LAST, s.rowid",
    "name": "lower(s.name) ASC NULLS LAST, s.rowid",
    "label": "s.label ASC NULLS LAST, s.rowid",
    "duration": "s.duration_s ASC NULLS LAST, s.rowid",
    "loudness": "s.loudness_db DESC NULLS LAST, s.rowid",
    "BPM": "t.bpm ASC NULLS LAST, s.rowid",
    "source track": "lower(t.title) ASC NULLS LAST, s.start_s, s.rowid",
}
"""Sample sorts over ``t_samples s`` (joined with ``t_tracks t`` for the last two); ties are
broken by ``rowid`` (a total order, and far cheaper to sort than the 64-character ids)."""
TRACK_FIELDS = ("track_id", "title", "artist", "album", "duration_s", "bpm", "key",
                "loudness_lufs", "added_at", "original_name", "original_uri", "peaks_uri",
                "sample_rate", "channels", "format")
SAMPLE_FIELDS = ("sample_id", "track_id", "track_title", "stem", "name", "label",
                 "model_label", "confidence", "tags", "note", "midi_note", "loudness_db",
                 "duration_s", "start_s", "bpm", "key", "uri", "corrected")


@dataclass
class Page:
    """One page of rows and the number of rows matching the filters."""

    rows: list[dict[str, Any]]
    total: int
    offset: int
    limit: int


@dataclass
class TrackFilter:
    """What the library view filters on (``None``/empty = no filter)."""

    text: str = ""
    key: str | None = None
    bpm_min: float | None = None
    bpm_max: float | None = None
    state: str | None = None  # a run state some stage of the track is in (e.g. "failed")
    sort: str = "added (newest)"


@dataclass
class SampleFilter:
    """What the samples browser filters on (``None``/empty = no filter)."""

    text: str = ""
    labels: Sequence[str] = ()
    tag: str = ""
    stem: str | None = None
    key: str | None = None
    note: str = ""
    bpm_min: float | None = None
    bpm_max: float | None = None
    loudness_min: float | None = None
    loudness_max: float | None = None
    duration_min: float | None = None
    duration_max: float | None = None
    track_id: str | None = None
    track_text: str = ""
    sort: str = "newest"
    ids: Sequence[str] = field(default_factory=tuple)


def _rows(cur: Any) -> list[dict[str, Any]]:
    names = [d[0] for d in cur.description or []]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _ranked(order: str, rowid: str, source: str, where: str) -> tuple[str, str]:
    """A subquery over ``source``/``where`` giving ``rid`` (``rowid``) and the sort keys of
    ``order`` as plain columns, and the ``ORDER BY`` over them.

    Sorting on keys computed once per row (rather than on expressions the sort re-evaluates,
    such as ``lower(name)``) makes a deep ``OFFSET`` over 1 M rows about twice as fast.
    """
    keys, terms = [f"{rowid} AS rid"], []
    for i, term in enumerate(order.split(", ")):
        expr, _, how = term.partition(" ")
        if expr.endswith("rowid"):
            terms.append(f"rid {how}".strip())
            continue
        keys.append(f"{expr} AS _k{i}")
        terms.append(f"_k{i} {how}".strip())
    return f"(SELECT {', '.join(keys)} FROM {source} WHERE {where})", ", ".join(terms)


def track_where(f: TrackFilter) -> tuple[str, list[Any]]:
    """The ``WHERE`` clause (over the ``tracks`` view) and its parameters for ``f``."""
    parts: list[str] = ["TRUE"]
    params: list[Any] = []
    if f.text.strip():
        parts.append("(title ILIKE ? ESCAPE '\\' OR artist ILIKE ? ESCAPE '\\' "
                     "OR album ILIKE ? ESCAPE '\\' OR original_name ILIKE ? ESCAPE '\\')")
        params += [_like(f.text.strip())] * 4
    if f.key:
        parts.append("key = ?")
        params.append(f.key)
    if f.bpm_min is not None:
        parts.append("bpm >= ?")
        params.append(f.bpm_min)
    if f.bpm_max is not None:
        parts.append("bpm <= ?")
        params.append(f.bpm_max)
    if f.state:
        parts.append("track_id IN (SELECT track_id FROM runs WHERE state = ?)")
        params.append(f.state)
    return " AND ".join(parts), params


def library_page(cat: Catalogue, f: TrackFilter, *, offset: int = 0,
                 limit: int = 50) -> Page:
    """One page of tracks matching ``f``, each with ``runs``: {stage: run row}.

    Read on one connection: the page is cut on row ids alone (cheap to sort), then its rows
    are read back by a join on ``rowid`` together with their runs (a join with the 50-row
    page lets DuckDB fetch just those rows; an ``IN (…)`` list of ids scans the id columns).
    A filter is evaluated once for the count and the page.
    """
    where, params = track_where(f)
    order = TRACK_SORTS.get(f.sort, TRACK_SORTS["added (newest)"])
    ranked, korder = _ranked(order, "rowid", "t_tracks", f"NOT deleted AND {where}")
    run_cols = ("stage", "state", "error", "flow_run_id", "updated_at")
    rows_of_page = (
        f"SELECT {', '.join('t.' + c for c in TRACK_FIELDS)}, "
        f"{', '.join('r.' + c for c in run_cols)} FROM t_tracks t JOIN p ON t.rowid = p.rid "
        "LEFT JOIN runs r ON r.track_id = t.track_id ORDER BY {}, r.stage")
    bounds = [int(limit), int(offset)]
    found: list[tuple[Any, ...]] = []
    total: int | None = None
    with cat.reader() as con:
        if where != "TRUE":
            found = con.execute(
                f"WITH m AS MATERIALIZED (SELECT rid, row_number() OVER (ORDER BY {korder}) "
                f"AS rn FROM {ranked}), p AS (SELECT "
                f"rid, rn FROM m ORDER BY rn LIMIT ? OFFSET ?) SELECT (SELECT count(*) FROM m), "
                f"* FROM ({rows_of_page.format('p.rn')})", [*params, *bounds]).fetchall()
            total = int(found[0][0]) if found else None
            found = [r[1:] for r in found]
        if total is None:
            total = int(con.execute(f"SELECT count(*) FROM tracks WHERE {where}",
                                    params).fetchone()[0])  # type: ignore[index]
            if where == "TRUE" and total > offset:
                found = con.execute(
                    f"WITH p AS (SELECT rid FROM {ranked} ORDER BY {korder} LIMIT ? OFFSET ?) "
                    + rows_of_page.format(order.replace("rowid", "t.rowid")), bounds).fetchall()
    rows: list[dict[str, Any]] = []
    by_id: dict[str, dict[str, Any]] = {}
    width = len(TRACK_FIELDS)
    for values in found:
        tid = values[0]
        if tid not in by_id:
            by_id[tid] = dict(zip(TRACK_FIELDS, values[:width], strict=True), runs={})
            rows.append(by_id[tid])
        if values[width] is not None:  # a stage (LEFT JOIN: NULL when the track has none)
            run = dict(zip(run_cols, values[width:], strict=True), track_id=tid)
            by_id[tid]["runs"][run["stage"]] = run
    return Page(rows, total, offset, limit)


def track_keys(cat: Catalogue) -> list[str]:
    """The distinct musical keys in the library (for the key filter)."""
    return [r["key"] for r in cat.query(
        "SELECT DISTINCT key FROM tracks WHERE key IS NOT NULL ORDER BY key")]


SAMPLE_SORT_NEEDS_TRACK = ("BPM", "source track")


def sample_where(f: SampleFilter, *, deleted_tracks: Sequence[str] = (),
                 text_in_titles: bool = True) -> tuple[str, list[Any]]:
    """The ``WHERE`` clause over ``t_samples s`` and its parameters for ``f``.

    The ``samples`` view joins ``t_tracks`` (for the title, BPM and key), which stops DuckDB
    from using top-N and cheap counts over 1 M rows; so pages are cut on ``t_samples``
    alone, track-level filters become a semi-join (``s.track_id IN (SELECT … FROM
    t_tracks …)``) and deleted tracks an explicit exclusion list (``deleted_tracks``).
    The rows of a page are then read by id (:func:`samples_by_ids`), as the view gives them.
    ``text_in_titles=False`` (no track title contains ``f.text``: see :func:`_where_on`)
    leaves out the free text's semi-join on track titles, which reads every sample's
    track id.
    """
    parts: list[str] = ["NOT s.deleted"]
    params: list[Any] = []
    if deleted_tracks:
        parts.append("s.track_id NOT IN (" + ", ".join("?" for _ in deleted_tracks) + ")")
        params += list(deleted_tracks)
    if f.text.strip():
        q = f.text.strip()
        titles = (" OR s.track_id IN (SELECT track_id FROM t_tracks "
                  "WHERE title ILIKE ? ESCAPE '\\')" if text_in_titles else "")
        parts.append("(s.name ILIKE ? ESCAPE '\\' OR s.label ILIKE ? ESCAPE '\\' "
                     "OR s.note ILIKE ? ESCAPE '\\' OR list_contains(s.tags, ?)"
                     f"{titles})")
        params += [_like(q), _like(q), _like(q), q] + ([_like(q)] if text_in_titles else [])
    if f.labels:
        parts.append("s.label IN (" + ", ".join("?" for _ in f.labels) + ")")
        params += list(f.labels)
    if f.tag.strip():
        parts.append("list_contains(s.tags, ?)")
        params.append(f.tag.strip())
    if f.stem:
        parts.append("s.stem = ?")
        params.append(f.stem)
    if f.note.strip():
        parts.append("(s.note = ? OR s.note ILIKE ? ESCAPE '\\')")
        params += [f.note.strip(), _like(f.note.strip()).lstrip("%")]
    for col, lo, hi in (("s.loudness_db", f.loudness_min, f.loudness_max),
                        ("s.duration_s", f.duration_min, f.duration_max)):
        if lo is not None:
            parts.append(f"{col} >= ?")
            params.append(lo)
        if hi is not None:
            parts.append(f"{col} <= ?")
            params.append(hi)
    if f.track_id:
        parts.append("s.track_id = ?")
        params.append(f.track_id)
    if f.ids:
        parts.append("s.sample_id IN (" + ", ".join("?" for _ in f.ids) + ")")
        params += list(f.ids)
    track_parts: list[str] = []
    if f.key:
        track_parts.append("key = ?")
        params.append(f.key)
    if f.bpm_min is not None:
        track_parts.append("bpm >= ?")
        params.append(f.bpm_min)
    if f.bpm_max is not None:
        track_parts.append("bpm <= ?")
        params.append(f.bpm_max)
    if f.track_text.strip():
        track_parts.append("title ILIKE ? ESCAPE '\\'")
        params.append(_like(f.track_text.strip()))
    if track_parts:
        parts.append("s.track_id IN (SELECT track_id FROM t_tracks WHERE "
                     + " AND ".join(track_parts) + ")")
    return " AND ".join(parts), params


def _deleted_tracks(con: Any) -> list[str]:
    return [r[0] for r in con.execute("SELECT track_id FROM t_tracks WHERE deleted").fetchall()]


def _where_on(con: Any, f: SampleFilter) -> tuple[str, list[Any]]:
    """:func:`sample_where` for ``f`` on ``con`` (deleted tracks looked up; the free text's
    title semi-join left out when no track title contains the text)."""
    q = f.text.strip()
    in_titles = bool(q) and con.execute(
        "SELECT EXISTS (SELECT 1 FROM t_tracks WHERE title ILIKE ? ESCAPE '\\')",
        [_like(q)]).fetchone()[0]
    return sample_where(f, deleted_tracks=_deleted_tracks(con), text_in_titles=in_titles)


def sample_ids_page(con: Any, f: SampleFilter, *, offset: int, limit: int) -> tuple[list[str], int]:
    """The ids of one page of samples matching ``f`` and the number matching, on ``con``."""
    where, params = _where_on(con, f)
    order = SAMPLE_SORTS.get(f.sort, SAMPLE_SORTS["newest"])
    source = ("t_samples s JOIN t_tracks t ON t.track_id = s.track_id"
              if f.sort in SAMPLE_SORT_NEEDS_TRACK else "t_samples s")
    if f.text.strip():  # an expensive filter: evaluate it once for the count and the page
        rows = con.execute(
            f"WITH m AS MATERIALIZED (SELECT s.sample_id, row_number() OVER (ORDER BY {order}) "
            f"AS rn FROM {source} WHERE {where}) SELECT (SELECT count(*) FROM m) AS n, "
            "sample_id FROM m ORDER BY rn LIMIT ? OFFSET ?",
            [*params, int(limit), int(offset)]).fetchall()
        if rows:
            return [r[1] for r in rows], int(rows[0][0])
    total = int(con.execute(f"SELECT count(*) FROM {source} WHERE {where}",
                            params).fetchone()[0])
    ids = [r[0] for r in con.execute(
        f"SELECT s.sample_id FROM {source} WHERE {where} ORDER BY {order} LIMIT ? OFFSET ?",
        [*params, int(limit), int(offset)]).fetchall()]
    return ids, total


def sample_page(cat: Catalogue, f: SampleFilter, *, offset: int = 0,
                limit: int = 60) -> Page:
    """One page of samples matching ``f`` (rows as the ``samples`` view gives them, without
    embeddings), read on one connection.

    The page is cut on row ids alone (cheap to sort), then its rows are read back by a join
    on ``rowid`` (DuckDB fetches those rows directly) together with their tracks' title,
    BPM and key. An expensive free-text filter is evaluated once for the count and the page.
    """
    order = SAMPLE_SORTS.get(f.sort, SAMPLE_SORTS["newest"])
    source = ("t_samples s JOIN t_tracks t ON t.track_id = s.track_id"
              if f.sort in SAMPLE_SORT_NEEDS_TRACK else "t_samples s")
    cols = ", ".join(f"s.{c}" for c in SAMPLE_FIELDS if c not in ("track_title", "bpm", "key"))
    rows_of_page = (f"SELECT {cols}, t.title AS track_title, t.bpm, t.key FROM t_samples s "
                    "JOIN p ON s.rowid = p.rid JOIN t_tracks t ON t.track_id = s.track_id "
                    f"ORDER BY {order}")
    with cat.reader() as con:
        where, params = _where_on(con, f)
        ranked, korder = _ranked(order, "s.rowid", source, where)
        bounds = [int(limit), int(offset)]
        if f.text.strip():
            rows = _rows(con.execute(
                f"WITH m AS MATERIALIZED (SELECT rid, row_number() OVER (ORDER BY {korder}) "
                f"AS rn FROM {ranked}), "
                "p AS (SELECT rid, rn FROM m ORDER BY rn LIMIT ? OFFSET ?) "
                f"SELECT (SELECT count(*) FROM m) AS _total, * FROM ({rows_of_page})",
                [*params, *bounds]))
            total = int(rows[0].pop("_total")) if rows else None
            for r in rows[1:]:
                r.pop("_total")
        else:
            rows, total = [], None
        if total is None:
            total = int(con.execute(f"SELECT count(*) FROM {source} WHERE {where}",
                                    params).fetchone()[0])  # type: ignore[index]
            if total > offset and not f.text.strip():
                rows = _rows(con.execute(
                    f"WITH p AS (SELECT rid FROM {ranked} ORDER BY {korder} LIMIT ? OFFSET ?) "
                    + rows_of_page, [*params, *bounds]))
    return Page(rows, total, offset, limit)


def _samples_by_ids(con: Any, ids: Sequence[str]) -> list[dict[str, Any]]:
    if not ids:
        return []
    cols = ", ".join(f"s.{c}" for c in SAMPLE_FIELDS
                     if c not in ("track_title", "bpm", "key"))
    marks = ", ".join("?" for _ in ids)
    found = {r["sample_id"]: r for r in _rows(con.execute(
        f"SELECT {cols} FROM t_samples s WHERE s.sample_id IN ({marks}) AND NOT s.deleted",
        list(ids)))}
    tids = sorted({r["track_id"] for r in found.values()})
    tracks: dict[str, dict[str, Any]] = {}
    if tids:
        tmarks = ", ".join("?" for _ in tids)
        tracks = {r["track_id"]: r for r in _rows(con.execute(
            f"SELECT track_id, title, bpm, key FROM t_tracks WHERE track_id IN ({tmarks}) "
            "AND NOT deleted", tids))}
    out = []
    for i in ids:
        row = found.get(i)
        track = tracks.get(row["track_id"]) if row else None
        if row is None or track is None:
            continue
        row.update(track_title=track["title"], bpm=track["bpm"], key=track["key"])
        out.append(row)
    return out


def samples_by_ids(cat: Catalogue, ids: Sequence[str]) -> list[dict[str, Any]]:
    """The samples with these ids, in the order given (missing/deleted ones left out)."""
    with cat.reader() as con:
        return _samples_by_ids(con, ids)


def track_detail(cat: Catalogue, track_id: str) -> dict[str, Any] | None:
    """Everything the track view shows, in one read: the track row, runs, stems, MIDI,
    lyrics and samples (``None`` when the track does not exist or was deleted)."""
    cols = ", ".join(SAMPLE_FIELDS)
    with cat.reader() as con:
        rows = _rows(con.execute("SELECT * FROM tracks WHERE track_id = ?", [track_id]))
        if not rows:
            return None
        detail: dict[str, Any] = {"track": rows[0]}
        detail["runs"] = {r["stage"]: r for r in _rows(con.execute(
            "SELECT * FROM runs WHERE track_id = ? ORDER BY stage", [track_id]))}
        detail["stems"] = _rows(con.execute(
            "SELECT * FROM stems WHERE track_id = ? ORDER BY created_at DESC, stem",
            [track_id]))
        detail["midi"] = _rows(con.execute(
            "SELECT * FROM midi WHERE track_id = ? ORDER BY created_at DESC, stem",
            [track_id]))
        detail["lyrics"] = _rows(con.execute(
            "SELECT * FROM lyrics WHERE track_id = ? ORDER BY created_at DESC", [track_id]))
        detail["samples"] = _rows(con.execute(
            f"SELECT {cols} FROM samples WHERE track_id = ? ORDER BY stem, start_s LIMIT 500",
            [track_id]))
    return detail


PARTITION_FROM = 50_000
"""From this many embeddings on, the similarity index builds IVF partitions (fast queries)."""


class EmbeddingCache:
    """Sample embeddings as one L2-normalised float32 matrix, reloaded when the catalogue
    changed (``version``), for "more like this" (cosine similarity by a matrix product).

    Uses ``stemcrate.audio.similarity.SimilarityIndex`` (``neighbours``; IVF partitions
    from :data:`PARTITION_FROM` rows on) when that module exists, else a plain product.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._version: int | None = None
        self._ids: list[str] = []
        self._matrix = np.zeros((0, 0), dtype=np.float32)
        self._index: Any = None
        self._pos: dict[str, int] = {}

    def load(self, cat: Catalogue, version: int) -> None:
        with self._lock:
            if self._version == version:
                return
            with cat.reader() as con:
                # several embedding models may coexist: keep the commonest dimension
                dims = con.execute(
                    "SELECT len(embedding) AS d, count(*) AS n FROM t_samples "
                    "WHERE NOT deleted AND embedding IS NOT NULL AND len(embedding) > 0 "
                    "GROUP BY d ORDER BY n DESC, d LIMIT 1").fetchall()
                ids: list[str] = []
                matrix = np.zeros((0, 0), dtype=np.float32)
                if dims:
                    dim = int(dims[0][0])
                    got = con.execute(
                        "SELECT sample_id, embedding FROM samples "
                        "WHERE embedding IS NOT NULL AND len(embedding) = ?", [dim]).fetchnumpy()
                    ids = [str(i) for i in got["sample_id"]]
                    if ids:
                        matrix = np.stack(list(got["embedding"])).astype(np.float32)
                        matrix = matrix.reshape(len(ids), dim)
            if matrix.size:
                norms = np.linalg.norm(matrix, axis=1, keepdims=True)
                matrix = matrix / np.maximum(norms, 1e-12)
            self._ids, self._matrix, self._version = ids, matrix, version
            self._pos = {sid: i for i, sid in enumerate(ids)}
            self._index = None
            try:
                from stemcrate.audio.similarity import SimilarityIndex

                index = SimilarityIndex(ids, matrix)
                if len(ids) >= PARTITION_FROM:
                    index.build_partitions()
                self._index = index
            except Exception:  # noqa: BLE001 - optional module: the matrix product is enough
                self._index = None

    def similar(self, cat: Catalogue, version: int, sample_id: str, *,
                k: int = 24) -> list[tuple[str, float]]:
        """The ``k`` samples nearest to ``sample_id`` by cosine, best first, itself excluded."""
        self.load(cat, version)
        with self._lock:
            ids, matrix, index, pos = self._ids, self._matrix, self._index, self._pos
        row = pos.get(sample_id)
        if row is None:
            return []
        if index is not None:
            try:
                return [(str(i), float(sc)) for i, sc in index.neighbours(sample_id, k)]
            except Exception:  # noqa: BLE001 - fall back on the plain product
                pass
        scores = matrix @ matrix[row]
        top = np.argpartition(-scores, min(k + 1, len(scores) - 1))[: k + 1]
        top = top[np.argsort(-scores[top])]
        return [(ids[i], float(scores[i])) for i in top if ids[i] != sample_id][:k]

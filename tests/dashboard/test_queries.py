"""The dashboard's catalogue queries against a plain-Python reference over the public views,
and the HTTP helpers (ranges, keys, upload names) — no browser needed."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest

from stemcrate.dashboard.handlers import parse_range, safe_upload_name, valid_key
from stemcrate.dashboard.queries import (
    SampleFilter,
    TrackFilter,
    library_page,
    sample_page,
    samples_by_ids,
)
from stemcrate.storage.catalogue import Catalogue

BENCH = Path(__file__).resolve().parents[2] / "bench" / "dashboard.py"


@pytest.fixture(scope="module")
def cat(tmp_path_factory: pytest.TempPathFactory) -> Catalogue:
    spec = importlib.util.spec_from_file_location("bench_dashboard", BENCH)
    assert spec and spec.loader
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    c = Catalogue(tmp_path_factory.mktemp("queries") / "catalogue.duckdb")
    bench.build(c, 300, 10, 0)
    with c.writer() as con:  # some deleted tracks and samples, as edits leave them
        con.execute("UPDATE t_tracks SET deleted = true WHERE track_id IN "
                    "(SELECT track_id FROM t_tracks ORDER BY track_id LIMIT 7)")
        con.execute("UPDATE t_samples SET deleted = true WHERE sample_id IN "
                    "(SELECT sample_id FROM t_samples ORDER BY sample_id LIMIT 40)")
    return c


def _matches(r: dict[str, Any], f: SampleFilter) -> bool:
    def has(text: Any, q: str) -> bool:
        return text is not None and q.lower() in str(text).lower()

    q = f.text.strip()
    if q and not (has(r["name"], q) or has(r["label"], q) or has(r["note"], q)
                  or q in (r["tags"] or []) or has(r["track_title"], q)):
        return False
    checks = [
        not f.labels or r["label"] in f.labels,
        not f.tag or f.tag in (r["tags"] or []),
        not f.stem or r["stem"] == f.stem,
        not f.key or r["key"] == f.key,
        not f.note or (r["note"] or "").lower().startswith(f.note.lower()),
        f.bpm_min is None or (r["bpm"] is not None and r["bpm"] >= f.bpm_min),
        f.bpm_max is None or (r["bpm"] is not None and r["bpm"] <= f.bpm_max),
        f.loudness_min is None or r["loudness_db"] >= f.loudness_min,
        f.duration_max is None or r["duration_s"] <= f.duration_max,
        not f.track_id or r["track_id"] == f.track_id,
        not f.track_text or has(r["track_title"], f.track_text),
    ]
    return all(checks)


CASES = [
    SampleFilter(),
    SampleFilter(labels=["kick", "snare"]),
    SampleFilter(text="tag7"),
    SampleFilter(text="SAMPLE 12"),
    SampleFilter(text="song 42"),
    SampleFilter(stem="bass", note="C2"),
    SampleFilter(bpm_min=100, bpm_max=120, key="A minor", loudness_min=-30,
                 duration_max=1.0),
    SampleFilter(tag="tag13", sort="name"),
    SampleFilter(track_text="Song 1", sort="source track"),
    SampleFilter(labels=["fx"], sort="BPM"),
]


@pytest.mark.parametrize("f", CASES, ids=lambda f: repr(f)[:60])
def test_sample_pages_match_the_samples_view(cat: Catalogue, f: SampleFilter) -> None:
    every = cat.query("SELECT * EXCLUDE (embedding) FROM samples")
    expected = {r["sample_id"] for r in every if _matches(r, f)}
    got: list[str] = []
    offset = 0
    while True:
        page = sample_page(cat, f, offset=offset, limit=60)
        assert page.total == len(expected)
        got += [r["sample_id"] for r in page.rows]
        if not page.rows:
            break
        offset += 60
    assert len(got) == len(set(got)) == len(expected)
    assert set(got) == expected
    if got:  # rows come back as the view gives them
        view = {r["sample_id"]: r for r in every}
        for r in samples_by_ids(cat, got[:5]):
            assert r["track_title"] == view[r["sample_id"]]["track_title"]
            assert r["bpm"] == view[r["sample_id"]]["bpm"]


def test_sample_sort_orders(cat: Catalogue) -> None:
    rows = sample_page(cat, SampleFilter(sort="loudness"), limit=100).rows
    loud = [r["loudness_db"] for r in rows]
    assert loud == sorted(loud, reverse=True)
    rows = sample_page(cat, SampleFilter(sort="BPM"), limit=100).rows
    bpms = [r["bpm"] for r in rows]
    assert bpms == sorted(bpms)


def test_library_pages_filter_sort_and_carry_runs(cat: Catalogue) -> None:
    tracks = cat.query("SELECT * FROM tracks")
    assert len(tracks) == 293
    page = library_page(cat, TrackFilter(sort="title"), limit=25)
    assert page.total == 293 and len(page.rows) == 25
    titles = [r["title"].lower() for r in page.rows]
    assert titles == sorted(titles)
    assert set(page.rows[0]["runs"]) == {"ingest", "separate", "slice", "midi", "lyrics"}
    failed = library_page(cat, TrackFilter(state="failed"), limit=500)
    want = {r["track_id"] for r in cat.query(
        "SELECT DISTINCT r.track_id FROM runs r JOIN tracks USING (track_id) "
        "WHERE state = 'failed'")}
    assert {r["track_id"] for r in failed.rows} == want and failed.total == len(want)
    hits = library_page(cat, TrackFilter(text="artist 42", bpm_min=100), limit=500)
    assert hits.rows and all("artist 42" in r["artist"].lower() and r["bpm"] >= 100
                             for r in hits.rows)
    assert library_page(cat, TrackFilter(text="100%_"), limit=5).total == 0  # escaped


def test_range_headers() -> None:
    assert parse_range(None, 1000) is None
    assert parse_range("bytes=0-99", 1000) == (0, 99)
    assert parse_range("bytes=900-", 1000) == (900, 999)
    assert parse_range("bytes=-100", 1000) == (900, 999)
    assert parse_range("bytes=990-5000", 1000) == (990, 999)
    assert parse_range("bytes=1000-", 1000) is False
    assert parse_range("bytes=5-1", 1000) is False
    assert parse_range("bytes=0-1,5-6", 1000) is None  # multi-range: whole file


def test_keys_and_upload_names_are_confined() -> None:
    assert valid_key("tracks/abc/original.wav") == "tracks/abc/original.wav"
    for bad in ("../catalogue.duckdb", "tracks/../../x", "tracks/%2e%2e/x", "/etc/passwd",
                "manifests/a/b.json", "tracks//x", "tracks/a\\..\\b", "tracks/x%00.wav"):
        assert valid_key(bad) is None, bad
    assert safe_upload_name("../../etc/My Song.WAV") == "My Song.wav"
    assert safe_upload_name("C:\\Users\\me\\<b>x?.flac") == "b_x.flac"
    assert safe_upload_name("notes.txt") is None
    assert safe_upload_name(".wav") is None


@pytest.mark.parametrize("sort", ["key", "artist", "added (newest)"])
@pytest.mark.parametrize("text", ["", "artist 4"])
def test_library_pages_walk_every_track_once_as_the_view_gives_it(
        cat: Catalogue, sort: str, text: str) -> None:
    view = {r["track_id"]: r for r in cat.query("SELECT * FROM tracks")}
    runs = cat.query("SELECT * FROM runs")
    want = {t for t, r in view.items() if text in r["artist"].lower()}
    seen: list[str] = []
    offset = 0
    while True:
        page = library_page(cat, TrackFilter(text=text, sort=sort), offset=offset, limit=40)
        assert page.total == len(want)
        if not page.rows:
            break
        for row in page.rows:
            assert {k: v for k, v in row.items() if k != "runs"} == {
                k: view[row["track_id"]][k] for k in row if k != "runs"}
            assert row["runs"] == {r["stage"]: {k: r[k] for k in row["runs"][r["stage"]]}
                                   for r in runs if r["track_id"] == row["track_id"]}
        seen += [r["track_id"] for r in page.rows]
        offset += 40
    assert len(seen) == len(set(seen)) and set(seen) == want
    if sort == "key":  # ties (24 keys over 293 tracks) still page as a total order
        keys = [view[t]["key"] for t in seen]
        assert keys == sorted(keys)

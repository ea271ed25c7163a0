"""Benchmark the dashboard on a synthetic catalogue of 100 k tracks and 1 M samples.

    .venv/bin/python bench/dashboard.py [--tracks 100000] [--samples-per-track 10]
                                        [--embedding-dim 0] [--repeats 15] [--no-browser]
                                        [--home DIR] [--reference-from GITREV]

Builds the catalogue in a temporary data home (rows inserted with DuckDB SQL over
``range()`` into a file created by ``Catalogue(...).writer()``, the real schema), then times
the queries the dashboard really issues (:mod:`stemcrate.dashboard.queries`, each with its
own short-lived read-only connection, as in the app) and prints p50/p95 per query and
overall. Finally it serves the dashboard on that catalogue and measures, with Playwright in
Debian Chromium, the time from navigation to the first rendered library row (cold, then
warm). Target: p95 ≤ 200 ms for every query on this machine.

``--reference-from REV`` also times the query functions of ``stemcrate/dashboard/queries.py``
as they were at git revision ``REV`` (read with ``git show``), interleaved with the current
ones on the same catalogue, so before/after numbers come from the same run.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import socket
import statistics
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from stemcrate.dashboard.queries import (  # noqa: E402
    EmbeddingCache,
    SampleFilter,
    TrackFilter,
    library_page,
)
from stemcrate.storage.catalogue import Catalogue  # noqa: E402

KEYS = [f"{n} {m}" for n in ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
        for m in ("major", "minor")]
STEMS = ["drums", "bass", "vocals", "other"]
LABELS = ["kick", "snare", "clap", "hihat_closed", "hihat_open", "cymbal", "tom", "percussion",
          "bass", "vocal", "melodic", "fx"]
NOTES = ["C1", "D1", "E1", "F1", "G1", "A1", "B1", "C2", "D2", "E2", "F2", "G2"]


def build(cat: Catalogue, n_tracks: int, per_track: int, dim: int) -> None:
    """Insert the synthetic rows (all columns the dashboard reads)."""
    keys_sql = "[" + ", ".join(f"'{k}'" for k in KEYS) + "]"
    stems_sql = "[" + ", ".join(f"'{s}'" for s in STEMS) + "]"
    labels_sql = "[" + ", ".join(f"'{s}'" for s in LABELS) + "]"
    notes_sql = "[" + ", ".join(f"'{s}'" for s in NOTES) + "]"
    emb = ("list_transform(range(" + str(dim) + "), lambda x: (random() - 0.5)::FLOAT)"
           if dim else "NULL")
    with cat.writer() as con:
        con.execute(f"""
            INSERT INTO t_tracks (track_id, title, artist, album, duration_s, sample_rate,
                channels, bit_depth, format, bpm, key, loudness_lufs, original_uri,
                original_name, size_bytes, peaks_uri, tags, added_at, deleted)
            SELECT md5(i::VARCHAR) || md5((i + 7)::VARCHAR), 'Song ' || i,
                   'Artist ' || (i % 5000), 'Album ' || (i % 20000), 60 + (i % 300),
                   44100, 2, 16, 'wav', 70 + (i % 110), {keys_sql}[i % 24 + 1],
                   -30 + (i % 25), 'file:///bench/' || i || '.wav', 'song_' || i || '.wav',
                   1000000, NULL, '{{}}', TIMESTAMP '2024-01-01' + to_seconds(i), false
            FROM range({n_tracks}) t(i)""")
        con.execute("""
            INSERT INTO t_runs
            SELECT t.track_id, s.stage,
                   CASE WHEN hash(t.track_id || s.stage) % 50 = 0 THEN 'failed'
                        WHEN hash(t.track_id || s.stage) % 50 = 1 THEN 'pending'
                        ELSE 'completed' END,
                   CASE WHEN hash(t.track_id || s.stage) % 50 = 0
                        THEN 'synthetic failure' END,
                   NULL, 'rk', TIMESTAMP '2024-06-01'
            FROM t_tracks t, (VALUES ('ingest'), ('separate'), ('slice'), ('midi'),
                                     ('lyrics')) s(stage)""")
        con.execute(f"""
            INSERT INTO t_samples (sample_id, track_id, stem, run_key, start_s, end_s,
                duration_s, uri, name, label, model_label, confidence, tags, note, midi_note,
                loudness_db, peak_db, count, embedding, corrected, deleted, created_at)
            SELECT md5('s' || i), md5((i // {per_track})::VARCHAR)
                       || md5((i // {per_track} + 7)::VARCHAR),
                   {stems_sql}[i % 4 + 1], 'rk', (i % {per_track}) * 1.5,
                   (i % {per_track}) * 1.5 + 0.1 + (i % 37) / 10.0, 0.1 + (i % 37) / 10.0,
                   'file:///bench/s' || i || '.wav', 'sample ' || i,
                   {labels_sql}[i % 12 + 1], {labels_sql}[i % 12 + 1], 0.8,
                   [{stems_sql}[i % 4 + 1], 'tag' || (i % 50)],
                   CASE WHEN i % 4 = 1 THEN {notes_sql}[i % 12 + 1] END,
                   CASE WHEN i % 4 = 1 THEN 24 + i % 12 END,
                   -60 + (i % 55), -1.0, 1, {emb}, false, false,
                   TIMESTAMP '2024-01-01' + to_seconds(i)
            FROM range({n_tracks * per_track}) t(i)""")
        con.execute("CHECKPOINT")


def timed(fn: Callable[[], Any], repeats: int, *, warm: bool = True) -> list[float]:
    if warm:
        fn()  # warm the OS cache once, as a running dashboard would be
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def reference_queries(rev: str) -> Any:
    """``stemcrate.dashboard.queries`` as it was at git revision ``rev`` (a module)."""
    import subprocess

    source = subprocess.run(["git", "show", f"{rev}:stemcrate/dashboard/queries.py"],
                            cwd=REPO, check=True, capture_output=True, text=True).stdout
    spec = importlib.util.spec_from_loader(f"queries_at_{rev}", loader=None)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    exec(compile(source, f"queries.py@{rev}", "exec"), module.__dict__)  # noqa: S102
    return module


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def first_render(home: Path, n_tracks: int) -> list[float]:
    """Serve the dashboard on ``home`` and time navigation → first library row (ms)."""
    import subprocess

    from playwright.sync_api import sync_playwright

    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("STEMCRATE_")}
    env["STEMCRATE_HOME"] = str(home)
    proc = subprocess.Popen([sys.executable, "-m", "stemcrate.cli", "dashboard", "--port",
                             str(port), "--no-browser"], env=env, cwd=REPO,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(url, timeout=10):
                    break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("the dashboard did not start") from None
                time.sleep(0.3)
        args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync"]
        times = []
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=args)
            for _ in range(4):
                page = browser.new_page()
                t0 = time.perf_counter()
                page.goto(url)
                page.locator("tr.sc-track-row").first.wait_for(timeout=60_000)
                times.append((time.perf_counter() - t0) * 1000)
                shown = page.locator("tr.sc-track-row").count()
                assert shown <= 200, shown
                page.close()
            browser.close()
        return times
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tracks", type=int, default=100_000)
    ap.add_argument("--samples-per-track", type=int, default=10)
    ap.add_argument("--embedding-dim", type=int, default=0)
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--no-browser", action="store_true")
    ap.add_argument("--home", type=Path, default=None, help="reuse/keep this data home")
    ap.add_argument("--reference-from", metavar="GITREV", default=None,
                    help="also time the queries as they were at this git revision")
    args = ap.parse_args()

    home = args.home or Path(tempfile.mkdtemp(prefix="stemcrate-bench-dash-"))
    cat = Catalogue(home / "catalogue.duckdb")
    if not cat.path.exists():
        t0 = time.perf_counter()
        build(cat, args.tracks, args.samples_per_track, args.embedding_dim)
        print(f"built {args.tracks:,} tracks, {args.tracks * args.samples_per_track:,} "
              f"samples in {time.perf_counter() - t0:.1f} s "
              f"({cat.path.stat().st_size / 1e6:.0f} MB) at {home}")
    counts = cat.query("SELECT (SELECT count(*) FROM tracks) AS t, "
                       "(SELECT count(*) FROM samples) AS s")[0]
    print(f"catalogue: {counts['t']:,} tracks, {counts['s']:,} samples")
    some_track = cat.query("SELECT track_id FROM tracks ORDER BY track_id LIMIT 1 OFFSET 4242"
                           )[0]["track_id"]

    def library_queries(q: Any) -> dict[str, Callable[[], Any]]:
        return {
            "library: first page (newest)": lambda: q.library_page(cat, TrackFilter()),
            "library: search 'artist 42'": lambda: q.library_page(
                cat, TrackFilter(text="artist 42")),
            "library: key + BPM range": lambda: q.library_page(
                cat, TrackFilter(key="F minor", bpm_min=90, bpm_max=130)),
            "library: failed stages": lambda: q.library_page(cat, TrackFilter(state="failed")),
            "library: sort by title": lambda: q.library_page(cat, TrackFilter(sort="title")),
            "library: page 1000 (offset 50k)": lambda: q.library_page(
                cat, TrackFilter(sort="artist"), offset=50_000),
            "track page detail": lambda: q.track_detail(cat, some_track),
        }

    def sample_queries(q: Any) -> dict[str, Callable[[], Any]]:
        return {
            "samples: first page (newest)": lambda: q.sample_page(cat, SampleFilter()),
            "samples: label kick+snare": lambda: q.sample_page(
                cat, SampleFilter(labels=["kick", "snare"])),
            "samples: free text 'tag7'": lambda: q.sample_page(cat, SampleFilter(text="tag7")),
            "samples: stem bass + note C2": lambda: q.sample_page(
                cat, SampleFilter(stem="bass", note="C2")),
            "samples: BPM + key + loudness + duration": lambda: q.sample_page(
                cat, SampleFilter(bpm_min=100, bpm_max=120, key="A minor", loudness_min=-30,
                                  duration_min=0.2, duration_max=1.0)),
            "samples: tag filter": lambda: q.sample_page(cat, SampleFilter(tag="tag13")),
            "samples: of one track": lambda: q.sample_page(
                cat, SampleFilter(track_id=some_track)),
            "samples: source track text": lambda: q.sample_page(
                cat, SampleFilter(track_text="Song 4242")),
            "samples: page 5000 (offset 300k)": lambda: q.sample_page(
                cat, SampleFilter(sort="name"), offset=300_000),
        }

    current = sys.modules[library_page.__module__]
    ref = reference_queries(args.reference_from) if args.reference_from else None
    all_ms: dict[str, list[float]] = {"library": [], "samples": []}
    ref_ms: dict[str, list[float]] = {"library": [], "samples": []}
    head = f"{'query':45s} {'p50 ms':>8s} {'p95 ms':>8s}"
    if ref is not None:
        head += f"   {'ref p50':>8s} {'ref p95':>8s}  (at {args.reference_from})"
    print("\n" + head)
    for group, make in (("library", library_queries), ("samples", sample_queries)):
        now = make(current)
        before = make(ref) if ref is not None else {}
        for name, fn in now.items():
            if name in before:  # interleave, so both see the same load on the machine
                before[name]()
                ms, old = [], []
                for _ in range(args.repeats):
                    old += timed(before[name], 1, warm=False)
                    ms += timed(fn, 1, warm=False)
                ref_ms[group] += old
                extra = f"   {pct(old, 50):8.1f} {pct(old, 95):8.1f}"
            else:
                ms, extra = timed(fn, args.repeats), ""
            all_ms[group] += ms
            print(f"{name:45s} {pct(ms, 50):8.1f} {pct(ms, 95):8.1f}{extra}")
    for group, ms in all_ms.items():
        extra = (f"   {pct(ref_ms[group], 50):8.1f} {pct(ref_ms[group], 95):8.1f}"
                 if ref_ms[group] else "")
        print(f"{'ALL ' + group + ' queries':45s} {pct(ms, 50):8.1f} {pct(ms, 95):8.1f}{extra}")

    if args.embedding_dim:
        cache = EmbeddingCache()
        t0 = time.perf_counter()
        cache.load(cat, 0)
        print(f"\nembeddings loaded for 'more like this' in {time.perf_counter() - t0:.1f} s")
        sid = cat.query("SELECT sample_id FROM samples LIMIT 1 OFFSET 777")[0]["sample_id"]
        ms = timed(lambda: cache.similar(cat, 0, sid, k=60), args.repeats)
        print(f"{'more like this (k=60)':45s} {pct(ms, 50):8.1f} {pct(ms, 95):8.1f}")

    if not args.no_browser:
        times = first_render(home, args.tracks)
        print(f"\nlibrary page, navigation → first row rendered (Chromium): cold "
              f"{times[0]:.0f} ms, warm median {statistics.median(times[1:]):.0f} ms")


if __name__ == "__main__":
    main()

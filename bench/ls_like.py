"""``stemcrate ls samples --like …`` at library scale: ranking inside DuckDB against fetching
every embedding and ranking in numpy.

    .venv/bin/python bench/ls_like.py [--n 1000000] [--queries 5]

Builds a DuckDB file of ``--n`` samples with seeded pseudo-random embeddings of the
classifier's EMBEDDING_DIM (a ``FLOAT[]`` column, as the catalogue stores them) and times,
in the same run and interleaved (best of ``--queries``), the ten nearest samples to one
sample's embedding:

* reference: fetch every embedding, normalise and rank in numpy (what a command without the
  SQL ranking would do for a single query),
* ours: the command's own expression (:data:`stemcrate.commands.library.SIMILARITY`),
  ordered and limited inside DuckDB,

checking both return the same ten samples, and prints seconds per query and the ratio.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import duckdb
import numpy as np

from stemcrate.audio.classify import EMBEDDING_DIM
from stemcrate.commands.library import SIMILARITY


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=5)
    args = parser.parse_args()
    d = EMBEDDING_DIM
    with tempfile.TemporaryDirectory() as tmp:
        con = duckdb.connect(str(Path(tmp) / "bench.duckdb"))
        t = time.perf_counter()
        con.execute(
            "CREATE TABLE samples AS SELECT lpad(i::VARCHAR, 24, '0') AS sample_id, "
            f"list_transform(range({d}), lambda j: (hash(i * {d} + j) % 2000000)::FLOAT "
            f"/ 1000000 - 1)::FLOAT[] AS embedding FROM range({args.n}) t(i)")
        print(f"built {args.n} samples x {d} in {time.perf_counter() - t:.1f} s")
        row = con.execute("SELECT embedding FROM samples WHERE sample_id = ?",
                          ["0" * 23 + "7"]).fetchone()
        assert row is not None
        query = [float(v) for v in row[0]]
        best = {"reference": float("inf"), "ours": float("inf")}
        found: dict[str, list[str]] = {}
        for _ in range(args.queries):
            t = time.perf_counter()
            got = con.execute("SELECT sample_id, embedding FROM samples").fetchnumpy()
            m = np.stack(list(got["embedding"])).astype(np.float32)
            m /= np.linalg.norm(m, axis=1, keepdims=True)
            q = np.asarray(query, dtype=np.float32)
            scores = m @ (q / np.linalg.norm(q))
            top = np.argpartition(-scores, 10)[:10]
            found["reference"] = [str(got["sample_id"][i])
                                  for i in top[np.argsort(-scores[top])]]
            best["reference"] = min(best["reference"], time.perf_counter() - t)
            t = time.perf_counter()
            rows = con.execute(f"SELECT sample_id, {SIMILARITY} AS similarity FROM samples "
                               "ORDER BY similarity DESC, sample_id LIMIT 10",
                               [query]).fetchall()
            found["ours"] = [str(r[0]) for r in rows]
            best["ours"] = min(best["ours"], time.perf_counter() - t)
    same = len(set(found["ours"]) & set(found["reference"]))
    for k, v in best.items():
        print(f"{k:<10} {v:8.3f} s per query")
    print(f"same ten nearest: {same} of 10")
    print(f"ratio ours/reference speed: {best['reference'] / best['ours']:.1f}x")


if __name__ == "__main__":
    main()

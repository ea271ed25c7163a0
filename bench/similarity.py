"""Query latency and recall of the "more like this" index at library scale.

Builds a :class:`~stemcrate.audio.similarity.SimilarityIndex` over N unit vectors of the
classifier's EMBEDDING_DIM (64 when the classifier is not importable) and prints, for
single queries with k=10: exact-search p50/p95 latency, then the IVF partitions' build time,
p50/p95 latency and recall@10 against exact search at a few ``nprobe`` values. Two data
sets: uniformly random unit vectors (no structure: the worst case for any partitioning) and
clustered vectors (2,000 Gaussian clusters whose spread equals the distance from the
origin to their centres, as real embeddings of kicks, snares, … group).

    .venv/bin/python bench/similarity.py [--n 1000000] [--queries 200]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np

from stemcrate.audio.similarity import SimilarityIndex


def embedding_dim() -> tuple[int, str]:
    try:
        from stemcrate.audio.classify import EMBEDDING_DIM
    except ImportError:
        return 64, "64 (stemcrate.audio.classify not importable)"
    return int(EMBEDDING_DIM), f"{EMBEDDING_DIM} (stemcrate.audio.classify.EMBEDDING_DIM)"


def unit(x: np.ndarray) -> np.ndarray:
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x


def dataset(kind: str, n: int, dim: int, rng: np.random.Generator) -> np.ndarray:
    if kind == "random":
        return unit(rng.standard_normal((n, dim), dtype=np.float32))
    centres = unit(rng.standard_normal((2000, dim), dtype=np.float32))
    x = centres[rng.integers(0, 2000, size=n)]
    x += rng.standard_normal((n, dim), dtype=np.float32) * np.float32(1.0 / np.sqrt(dim))
    return unit(x)


def latencies(fn: Callable[[np.ndarray], list], queries: np.ndarray
              ) -> tuple[np.ndarray, list]:
    out, lat = [], []
    for q in queries:
        t = time.perf_counter()
        out.append(fn(q))
        lat.append(time.perf_counter() - t)
    return np.asarray(lat) * 1e3, out


def run(kind: str, n: int, dim: int, nq: int, k: int) -> None:
    rng = np.random.default_rng(0)
    matrix = dataset(kind, n, dim, rng)
    ids = [f"s{i:07d}" for i in range(n)]
    index = SimilarityIndex(ids, matrix, normalise=False)
    del matrix
    # queries: stored vectors with a little noise ("more like this" on a library sample)
    picks = rng.integers(0, n, size=nq)
    queries = unit(index.matrix[picks] + rng.standard_normal((nq, dim), dtype=np.float32)
                   * np.float32(0.2 / np.sqrt(dim)))
    index.query(queries[0], k, exact=True)  # warm-up
    ms, exact = latencies(lambda q: index.query(q, k, exact=True), queries)
    print(f"[{kind}] {n:,} x {dim}, float32 {index.matrix.nbytes / 2**20:.0f} MiB")
    print(f"  exact   : p50 {np.percentile(ms, 50):7.1f} ms  p95 {np.percentile(ms, 95):7.1f} ms")
    t = time.perf_counter()
    index.build_partitions()
    assert index.centroids is not None
    nlist = index.centroids.shape[0]
    print(f"  IVF build: {nlist} partitions in {time.perf_counter() - t:.1f} s")
    for nprobe in (max(1, nlist // 64), max(1, nlist // 32), max(1, nlist // 8)):

        def probe(q: np.ndarray, p: int = nprobe) -> list:
            return index.query(q, k, nprobe=p)

        ms, approx = latencies(probe, queries)
        recall = np.mean([len({i for i, _ in a} & {i for i, _ in e}) / k
                          for a, e in zip(approx, exact, strict=True)])
        print(f"  IVF nprobe {nprobe:4d}: p50 {np.percentile(ms, 50):6.1f} ms  "
              f"p95 {np.percentile(ms, 95):6.1f} ms  recall@{k} {recall:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--data", choices=("random", "clustered", "both"), default="both")
    args = parser.parse_args()
    dim, dim_note = embedding_dim()
    print(f"embedding dim {dim_note}; k={args.k}; {args.queries} single queries each")
    for kind in ("random", "clustered") if args.data == "both" else (args.data,):
        run(kind, args.n, dim, args.queries, args.k)


if __name__ == "__main__":
    main()

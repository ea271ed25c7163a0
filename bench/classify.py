"""One-shot classification throughput: the shipped model against a reference model.

    .venv/bin/python bench/classify.py [--clips 300] [--repeats 3] [--reference-weights NPZ]

Builds ``--clips`` seeded synthetic one-shots (0.05–1.5 s, decaying tones and noise bursts,
44.1 kHz) and times, in the same run and interleaved (best of ``--repeats``):

* reference: preparation + handcrafted features alone (what every model version computes),
  or with ``--reference-weights`` the whole model of another ``classifier.npz`` (e.g. the
  previous weights: ``git show HEAD~1:stemcrate/audio/weights/classifier.npz > old.npz``),
* ours: the shipped model (the same plus the log-mel patch, the aiSFX embedding, the MLPs
  and the CNN + features networks),

printing clips/s for each and the ratio ours / reference (< 1 means ours costs more time).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from stemcrate.audio import classify as C
from stemcrate.audio.features import extract_prepared, prepare


def _clips(n: int, sr: int) -> list[np.ndarray]:
    rng = np.random.default_rng(7)
    out = []
    for i in range(n):
        dur = float(rng.uniform(0.05, 1.5))
        t = np.arange(int(dur * sr)) / sr
        env = np.exp(-t / rng.uniform(0.02, 0.5))
        if i % 2:
            x = np.sin(2 * np.pi * rng.uniform(40, 2000) * t) * env
        else:
            x = rng.standard_normal(t.size) * env
        out.append(x.astype(np.float32))
    return out


def _reference(clips: list[np.ndarray], sr: int, weights: Path | None) -> object:
    if weights is not None:
        return C._classify_many(C.load_model(weights), clips, sr, None)
    return np.stack([extract_prepared(prepare(c, sr)) for c in clips])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--reference-weights", type=Path, default=None,
                        help="time this classifier.npz's whole model as the reference")
    args = parser.parse_args()
    sr = 44100
    clips = _clips(args.clips, sr)
    C.classify_many(clips[:4], sr)  # load weights, warm caches
    best = {"reference": float("inf"), "ours": float("inf")}
    for _ in range(args.repeats):
        t = time.perf_counter()
        with C._one_blas_thread():
            _reference(clips, sr, args.reference_weights)
        best["reference"] = min(best["reference"], time.perf_counter() - t)
        t = time.perf_counter()
        C.classify_many(clips, sr)
        best["ours"] = min(best["ours"], time.perf_counter() - t)
    for k, v in best.items():
        print(f"{k:<10} {args.clips / v:8.1f} clips/s  ({v:.2f} s for {args.clips})")
    print(f"ratio ours/reference throughput: {best['reference'] / best['ours']:.2f}x")


if __name__ == "__main__":
    main()

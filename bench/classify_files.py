"""``stemcrate classify`` on a folder of files: batched against one file per model call.

    .venv/bin/python bench/classify_files.py [--files 200] [--repeats 3]

Writes ``--files`` seeded synthetic one-shots (0.05–1.5 s decaying tones and noise bursts,
WAV, half at 44.1 kHz and half at 48 kHz) to a temporary folder and times, in the same run
and interleaved (best of ``--repeats``), what the command runs for that folder:

* reference: one file per model call (what ``stemcrate classify`` did before batching),
* ours: :data:`stemcrate.commands.classify.BATCH` files per call (per sample rate),

checking both give the same labels, and prints files/s for each and the ratio
ours / reference (> 1 means batching is faster).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

from stemcrate.commands import classify as cmd


def _write(folder: Path, n: int) -> list[Path]:
    rng = np.random.default_rng(7)
    paths = []
    for i in range(n):
        sr = (44100, 48000)[i % 2]
        dur = float(rng.uniform(0.05, 1.5))
        t = np.arange(int(dur * sr)) / sr
        env = np.exp(-t / rng.uniform(0.02, 0.5))
        x = (np.sin(2 * np.pi * rng.uniform(40, 2000) * t) if i % 3
             else rng.standard_normal(t.size)) * env
        path = folder / f"{i:04d}.wav"
        sf.write(path, (0.8 * x).astype(np.float32), sr)
        paths.append(path)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    batch = cmd.BATCH
    with tempfile.TemporaryDirectory() as tmp:
        _write(Path(tmp), args.files)
        entries = cmd.audio_files([Path(tmp)])
        cmd._classify_files(entries[:4], None)  # load weights, warm caches
        best = {"reference": float("inf"), "ours": float("inf")}
        labels: dict[str, list[object]] = {}
        for _ in range(args.repeats):
            for name, size in (("reference", 1), ("ours", batch)):
                cmd.BATCH = size
                t = time.perf_counter()
                rows = cmd._classify_files(entries, None)
                best[name] = min(best[name], time.perf_counter() - t)
                labels[name] = [r["label"] for r in rows]
        cmd.BATCH = batch
    same = np.mean([a == b for a, b in zip(labels["reference"], labels["ours"], strict=True)])
    for k, v in best.items():
        print(f"{k:<10} {args.files / v:8.1f} files/s  ({v:.2f} s for {args.files})")
    print(f"same label: {same:.3f} of {args.files} files")
    print(f"ratio ours/reference throughput: {best['reference'] / best['ours']:.2f}x "
          f"(batches of {batch})")


if __name__ == "__main__":
    main()

"""Track analysis on the shared corpus, and the cost of a 5-minute stereo track.

    .venv/bin/python bench/analysis.py [--corpus ../shared/corpus] [--minutes 5]

Prints, for every corpus file, the analysis (BPM with confidence, key with confidence,
integrated loudness, true peak) and the wall and CPU seconds ``analyse`` took (decoding not
included); then times each stage on a track of ``--minutes`` built by repeating the longest
corpus file (44.1 kHz stereo). Run it single-threaded for the one-core figure:
``OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 NUMBA_NUM_THREADS=1``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from stemcrate.audio import analysis as A
from stemcrate.audio.decode import load_audio


def _timed(label: str, fn, *args):  # type: ignore[no-untyped-def]
    w, c = time.perf_counter(), time.process_time()
    out = fn(*args)
    wall, cpu = time.perf_counter() - w, time.process_time() - c
    print(f"  {label:<22} wall {wall:6.2f} s   cpu {cpu:6.2f} s")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path,
                        default=Path(__file__).resolve().parents[2] / "shared" / "corpus")
    parser.add_argument("--minutes", type=float, default=5.0)
    args = parser.parse_args()

    files = sorted(p for p in args.corpus.iterdir() if p.suffix in {".ogg", ".wav", ".flac"})
    # warm-up (librosa/numba caches) so the first file's time is not the import's
    A.analyse(np.zeros((1, 22050 * 3), dtype=np.float32) + 0.01, 22050)
    print(f"{'file':<45} {'dur s':>6} {'bpm':>7} {'conf':>5} {'key':<9} {'kconf':>5} "
          f"{'LUFS':>7} {'dBTP':>6} {'wall s':>6} {'cpu s':>6}")
    longest = None
    for path in files:
        y, sr = load_audio(path)
        w, c = time.perf_counter(), time.process_time()
        r = A.analyse(y, sr)
        wall, cpu = time.perf_counter() - w, time.process_time() - c
        bpm = f"{r.bpm:7.2f}" if r.bpm is not None else "   None"
        lufs = f"{r.loudness_lufs:7.2f}" if r.loudness_lufs is not None else "   None"
        tp = f"{r.true_peak_dbfs:6.2f}" if r.true_peak_dbfs is not None else "  None"
        print(f"{path.name:<45} {r.duration_s:6.1f} {bpm} {r.bpm_confidence:5.2f} "
              f"{r.key or 'None':<9} {r.key_confidence:5.2f} {lufs} {tp} {wall:6.2f} {cpu:6.2f}")
        if longest is None or y.shape[1] / sr > longest[0].shape[1] / longest[1]:
            longest = (y, sr)
    if longest is None:
        return
    y, sr = longest
    reps = int(np.ceil(args.minutes * 60 * sr / y.shape[1]))
    big = np.ascontiguousarray(np.tile(y, reps)[:, : int(args.minutes * 60 * sr)])
    print(f"\n{args.minutes:g}-minute track ({big.shape[0]} ch, {sr} Hz):")
    mono = big.mean(axis=0)
    low = _timed("mono mix + resample", A._resample, mono, sr, A.ANALYSIS_SR)
    _timed("tempo", A.estimate_tempo, low, A.ANALYSIS_SR)
    _timed("key", A.estimate_key, low, A.ANALYSIS_SR)
    _timed("loudness", A.integrated_loudness, big, sr)
    _timed("true peak", A.true_peak_dbfs, big, sr)
    _timed("waveform peaks", A.waveform_peaks, mono, 2000)
    _timed("analyse (all)", A.analyse, big, sr)


if __name__ == "__main__":
    main()

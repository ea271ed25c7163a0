"""Read Gravis UltraSound ``.pat`` patches (the format of FreePats) as they were recorded.

A drum one-shot is its recording, but TiMidity++ does not play FreePats' drums at their
recorded pitch: it plays a drum patch at the pitch of its drum key relative to the patch's
root frequency unless the patch is marked fixed-pitch (scale factor 0). Many of FreePats'
drum patches (its kicks, toms, hand clap, claves, congas…) have a root near C4 with pitch
tracking on, so TiMidity moves each by about (key − 60) semitones, its length scaled to
match: the kick on key 35 comes out 25 semitones down and 4.2× as long, the hand clap on
key 39 21 semitones down, the claves on key 75 15 semitones up. :func:`one_shot` reads the
sample data itself.

Format (little-endian): a 129-byte header ("GF1PATCH110"), a 63-byte instrument header, a
47-byte layer header whose byte 6 is the number of samples, then per sample a 96-byte header
followed by its data. Sample header offsets used here: 8 data length in bytes (uint32),
20 sample rate in Hz (uint16), 30 root frequency in mHz (uint32), 55 mode bits (bit 0 16-bit,
bit 1 unsigned), 58 scale factor (uint16; 0 = fixed pitch).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from stemcrate.audio.features import FEATURE_SR, resample
from stemcrate.errors import InputError

F64 = npt.NDArray[np.float64]
MAGIC = (b"GF1PATCH110", b"GF1PATCH100")
_DATA_START = 129 + 63 + 47  # first sample header
_SAMPLE_HEADER = 96


@dataclass(frozen=True)
class PatchSample:
    """One sample of a patch: ``audio`` mono float64 in [-1, 1) at ``sr`` Hz."""

    audio: F64
    sr: int
    root_hz: float
    fixed_pitch: bool


def read_patch(path: Path) -> list[PatchSample]:
    """Every sample of the GUS patch ``path``, in file order (a drum patch has one)."""
    data = path.read_bytes()
    if not data.startswith(MAGIC) or len(data) < _DATA_START:
        raise InputError(path, "not a GUS patch (no GF1PATCH header)")
    count = data[_DATA_START - 47 + 6]
    out, off = [], _DATA_START
    for i in range(count):
        if off + _SAMPLE_HEADER > len(data):
            raise InputError(path, f"sample {i + 1} of {count} is cut off")
        (size,) = struct.unpack_from("<I", data, off + 8)
        (rate,) = struct.unpack_from("<H", data, off + 20)
        (root,) = struct.unpack_from("<I", data, off + 30)
        mode = data[off + 55]
        (scale,) = struct.unpack_from("<H", data, off + 58)
        raw = data[off + _SAMPLE_HEADER: off + _SAMPLE_HEADER + size]
        if len(raw) < size or rate == 0:
            raise InputError(path, f"sample {i + 1} has {len(raw)} of {size} bytes, "
                                     f"rate {rate} Hz")
        wide, unsigned = bool(mode & 1), bool(mode & 2)
        kind = ("<u2" if unsigned else "<i2") if wide else ("u1" if unsigned else "i1")
        pcm = np.frombuffer(raw[: size - size % 2] if wide else raw, dtype=kind).astype(
            np.float64)
        full = 32768.0 if wide else 128.0
        audio = (pcm - full if unsigned else pcm) / full
        out.append(PatchSample(audio, int(rate), root / 1000.0, scale == 0))
        off += _SAMPLE_HEADER + size
    return out


def one_shot(path: Path, *, sr: int = FEATURE_SR) -> F64:
    """The first sample of the patch ``path`` as recorded: mono float64 at ``sr`` Hz (no
    transposition, no loop, no envelope)."""
    samples = read_patch(path)
    if not samples:
        raise InputError(path, "the patch has no samples")
    s = samples[0]
    return resample(s.audio, s.sr, sr)

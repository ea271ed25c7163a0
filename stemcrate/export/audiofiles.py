"""Container conversion that copies sample values exactly (no gain, no rescaling, no dither).

Stems are exported at the original's bit depth or better and are never rescaled against each
other: their sample values are copied, only the container changes (FLAC → WAV, 16 → 24 bit).
PCM is read as left-justified ``int32`` and written back as integers (16 → 24 bit shifts the
bits, losing nothing); float is read and written as float. :func:`target_subtype` picks the
output encoding so that no conversion ever loses a bit:

=====================  =====================  ============================
stored stem            original track         exported (WAV)
=====================  =====================  ============================
PCM 16/24              16/24 bit or unknown   PCM 24
PCM 16/24              32 bit (float)         32-bit float (exact for ≤ 24-bit integers)
PCM 32                 any                    PCM 32
float / double         any                    float / double
=====================  =====================  ============================

FLAC holds integers up to 24 bits only, so a stem that needs float or 32-bit PCM is written
as WAV even when FLAC was asked for (:func:`target_format` says so).

Files that are not PCM or float (a lossy stem) are decoded through
:func:`stemcrate.audio.decode.load_audio` and written as 32-bit float.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import IO, Literal

import numpy as np

_INT_BITS = {"PCM_S8": 8, "PCM_U8": 8, "PCM_16": 16, "PCM_24": 24, "PCM_32": 32}
_FLOAT = {"FLOAT", "DOUBLE"}
BLOCK_FRAMES = 1 << 18


@dataclass(frozen=True)
class Written:
    """What a conversion wrote: format (``WAV``/``FLAC``), subtype, bits, rate, channels,
    frames."""

    format: str
    subtype: str
    bit_depth: int
    sample_rate: int
    channels: int
    frames: int

    @property
    def duration_s(self) -> float:
        return self.frames / float(self.sample_rate) if self.sample_rate else 0.0


def target_subtype(source_subtype: str, original_bit_depth: int | None) -> str:
    """The lossless output subtype for a stem (see the table in the module docstring)."""
    if source_subtype in _FLOAT:
        return source_subtype
    bits = _INT_BITS.get(source_subtype)
    if bits is None:
        return "FLOAT"  # lossy or exotic source: decoded to float
    if bits >= 32:
        return "PCM_32"
    if original_bit_depth is not None and original_bit_depth >= 32:
        return "FLOAT"
    return "PCM_24"


def target_format(requested: Literal["wav", "flac"], subtype: str) -> Literal["wav", "flac"]:
    """``requested``, unless FLAC cannot hold ``subtype`` (float, 32-bit PCM): then ``wav``."""
    if requested == "flac" and subtype in ("PCM_16", "PCM_24"):
        return "flac"
    return "wav"


def convert_exact(source: IO[bytes], target: str | IO[bytes], *,
                  format: Literal["wav", "flac"] = "wav",
                  original_bit_depth: int | None = None,
                  subtype: str | None = None) -> Written:
    """Copy the audio of ``source`` into ``target`` as ``format``, sample values unchanged.

    Parameters
    ----------
    source : seekable binary file object of an audio file (from ``ObjectStore.open``)
    target : path or binary file object to write
    format : the container asked for; FLAC falls back to WAV when it cannot hold the values
    original_bit_depth : the original track's bit depth (``tracks.bit_depth``), so the copy
        is at least that deep
    subtype : force an output subtype (samples keep their own: pass the source's)

    Streams in blocks of ``BLOCK_FRAMES`` frames, so stems of any length fit in memory.
    """
    import soundfile as sf

    try:
        info = sf.info(source)
        src_subtype = str(info.subtype)
    except Exception:  # noqa: BLE001 - not readable by libsndfile: decode below
        src_subtype = ""
    source.seek(0)
    if src_subtype not in _INT_BITS and src_subtype not in _FLOAT:
        return _convert_decoded(source, target)
    out_subtype = subtype or target_subtype(src_subtype, original_bit_depth)
    fmt = target_format(format, out_subtype)
    dtype: Literal["int32", "float32", "float64"]
    if out_subtype in _FLOAT:
        dtype = "float64" if "DOUBLE" in (src_subtype, out_subtype) else "float32"
    elif src_subtype in _FLOAT:
        dtype = "float64"  # forced float → int (only when a caller asks for it)
    else:
        dtype = "int32"
    frames = 0
    with sf.SoundFile(source) as src:
        with sf.SoundFile(target, "w", samplerate=src.samplerate, channels=src.channels,
                          format=fmt.upper(), subtype=out_subtype) as dst:
            for block in src.blocks(blocksize=BLOCK_FRAMES, dtype=dtype, always_2d=True):
                dst.write(block)
                frames += block.shape[0]
        rate, channels = int(src.samplerate), int(src.channels)
    bits = _INT_BITS.get(out_subtype) or (64 if out_subtype == "DOUBLE" else 32)
    return Written(fmt.upper(), out_subtype, bits, rate, channels, frames)


def _convert_decoded(source: IO[bytes], target: str | IO[bytes]) -> Written:
    import soundfile as sf

    from stemcrate.audio.decode import load_audio

    y, sr = load_audio(source)
    sf.write(target, np.ascontiguousarray(y.T), sr, format="WAV", subtype="FLOAT")
    return Written("WAV", "FLOAT", 32, sr, int(y.shape[0]), int(y.shape[1]))


def wav_bytes_exact(source: IO[bytes]) -> tuple[bytes, Written]:
    """The audio of ``source`` as WAV bytes in its own encoding (PCM 16/24/32 or float).

    Used for samples: a FLAC sample becomes a WAV with the same bit depth and values.
    """
    import soundfile as sf

    try:
        subtype = str(sf.info(source).subtype)
    except Exception:  # noqa: BLE001
        subtype = ""
    source.seek(0)
    keep = subtype if (subtype in _FLOAT or subtype in ("PCM_16", "PCM_24", "PCM_32")) else None
    buf = io.BytesIO()
    written = convert_exact(source, buf, format="wav", subtype=keep) if keep else \
        _convert_decoded(source, buf)
    return buf.getvalue(), written

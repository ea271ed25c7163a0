"""Decoding and encoding audio files: the one place every stage reads audio through.

Decoders disagree on the length of Ogg/MP3 files (encoder delay, padding, Ogg pre-skip), so
every stage decodes with :func:`load_audio`, and "same length as the original" means the
length this function returns. libsndfile (``soundfile``) reads wav, flac, aiff, ogg
(vorbis/opus) and mp3; anything else (m4a/aac, wma, …) goes through FFmpeg's libraries
(``av``). A given file always takes the same path.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Literal

import numpy as np
import numpy.typing as npt

from stemcrate.errors import InputError

AUDIO_EXTENSIONS = frozenset(
    {".wav", ".wave", ".flac", ".mp3", ".ogg", ".oga", ".opus", ".m4a", ".mp4", ".aac",
     ".aif", ".aiff", ".aifc", ".wma", ".webm", ".mka"}
)

Source = str | os.PathLike[str] | IO[bytes]


@dataclass(frozen=True)
class AudioInfo:
    """What a file holds, without decoding all of it."""

    sample_rate: int
    channels: int
    frames: int
    format: str
    subtype: str
    bit_depth: int | None

    @property
    def duration_s(self) -> float:
        return self.frames / float(self.sample_rate) if self.sample_rate else 0.0


_SUBTYPE_BITS = {"PCM_S8": 8, "PCM_U8": 8, "PCM_16": 16, "PCM_24": 24, "PCM_32": 32,
                 "FLOAT": 32, "DOUBLE": 64, "ALAC_16": 16, "ALAC_20": 20, "ALAC_24": 24,
                 "ALAC_32": 32}


def _name(source: Source) -> str:
    if isinstance(source, (str, os.PathLike)):
        return str(source)
    return str(getattr(source, "name", "<stream>"))


def audio_info(source: Source) -> AudioInfo:
    """Sample rate, channels, length in frames and bit depth of ``source``.

    Raises :class:`InputError` naming the file when it is not readable audio.
    """
    import soundfile as sf

    try:
        info = sf.info(source)
        return AudioInfo(int(info.samplerate), int(info.channels), int(info.frames),
                         str(info.format), str(info.subtype), _SUBTYPE_BITS.get(info.subtype))
    except Exception:  # noqa: BLE001 - fall back to FFmpeg's decoders
        if not isinstance(source, (str, os.PathLike)) and hasattr(source, "seek"):
            source.seek(0)
    y, sr = _load_av(source)
    return AudioInfo(sr, y.shape[0], y.shape[1], "FFMPEG", "", None)


def load_audio(
    source: Source,
    *,
    sr: int | None = None,
    mono: bool = False,
    dtype: Literal["float32", "float64"] = "float32",
) -> tuple[npt.NDArray[np.floating], int]:
    """Decode ``source`` into a ``(channels, samples)`` array in [-1, 1].

    Parameters
    ----------
    source : path or binary file object
    sr : target sample rate in Hz; ``None`` keeps the file's own rate. Resampling uses
        soxr (VHQ).
    mono : average the channels into one (the result stays 2-D: ``(1, samples)``).
    dtype : ``float32`` (default) or ``float64``.

    Returns
    -------
    y : np.ndarray, shape ``(channels, samples)``, dtype ``dtype``
    sr : int, the sample rate of ``y`` in Hz

    Raises
    ------
    InputError : the file is empty, truncated beyond repair, or not audio; the message names
        the file and the cause.
    """
    name = _name(source)
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.exists():
            raise InputError(name, "file not found")
        if path.stat().st_size == 0:
            raise InputError(name, "empty file (0 bytes)")
    y, file_sr = _load_any(source)
    if y.size == 0 or y.shape[1] == 0:
        raise InputError(name, "no audio samples could be decoded")
    if not np.all(np.isfinite(y)):
        raise InputError(name, "decoded audio contains NaN or infinite samples")
    if mono and y.shape[0] > 1:
        y = y.mean(axis=0, keepdims=True)
    if sr is not None and sr != file_sr:
        import soxr

        y = soxr.resample(y.T, file_sr, sr, quality="VHQ").T
        file_sr = sr
    return np.ascontiguousarray(y, dtype=dtype), int(file_sr)


def _load_any(source: Source) -> tuple[npt.NDArray[np.float32], int]:
    import soundfile as sf

    name = _name(source)
    try:
        data, rate = sf.read(source, dtype="float32", always_2d=True)
        return np.ascontiguousarray(data.T), int(rate)
    except sf.LibsndfileError as exc:
        sf_error = str(exc)
    except RuntimeError as exc:  # older soundfile raises RuntimeError
        sf_error = str(exc)
    if not isinstance(source, (str, os.PathLike)) and hasattr(source, "seek"):
        source.seek(0)
    try:
        return _load_av(source)
    except InputError:
        raise
    except Exception as exc:  # noqa: BLE001 - every decoder failure is an input error
        raise InputError(name, f"not a readable audio file ({sf_error}; ffmpeg: {exc})") from exc


def _load_av(source: Source) -> tuple[npt.NDArray[np.float32], int]:
    import av

    name = _name(source)
    container: Any
    try:
        container = av.open(source if not isinstance(source, os.PathLike) else str(source))
    except Exception as exc:  # noqa: BLE001
        raise InputError(name, f"not a readable audio file ({exc})") from exc
    with container:
        streams = [s for s in container.streams if s.type == "audio"]
        if not streams:
            raise InputError(name, "no audio stream in the file")
        stream: Any = streams[0]
        if stream.codec_context is None:  # ffmpeg knows no decoder for it
            raise InputError(name, "its audio stream is in a codec ffmpeg cannot decode")
        chunks: list[npt.NDArray[np.float32]] = []
        rate = int(stream.codec_context.sample_rate or stream.rate or 0)
        try:
            frame: Any
            for frame in container.decode(stream):
                arr = frame.to_ndarray()
                if frame.format.is_planar:
                    arr = arr.reshape(len(frame.layout.channels), -1)
                else:
                    arr = arr.reshape(-1, len(frame.layout.channels)).T
                arr = _to_float(arr)
                chunks.append(arr)
                rate = int(frame.sample_rate)
        except Exception as exc:  # noqa: BLE001 - keep what decoded, like libsndfile does
            if not chunks:
                raise InputError(name, f"audio stream could not be decoded ({exc})") from exc
    if not chunks or rate <= 0:
        raise InputError(name, "no audio samples could be decoded")
    return np.ascontiguousarray(np.concatenate(chunks, axis=1), dtype=np.float32), rate


def _to_float(arr: npt.NDArray[np.generic]) -> npt.NDArray[np.float32]:
    if np.issubdtype(arr.dtype, np.floating):
        return arr.astype(np.float32, copy=False)
    info = np.iinfo(arr.dtype)  # type: ignore[arg-type,type-var]
    scale = float(max(abs(info.min), info.max))
    if info.min == 0:  # unsigned PCM
        return ((arr.astype(np.float32) - (info.max + 1) / 2.0) / ((info.max + 1) / 2.0))
    return arr.astype(np.float32) / scale


def write_audio(
    target: str | os.PathLike[str] | IO[bytes],
    y: npt.NDArray[np.floating],
    sr: int,
    *,
    format: Literal["flac", "wav"] = "flac",
    bit_depth: Literal[16, 24, 32] = 24,
) -> None:
    """Encode ``y`` (shape ``(channels, samples)``, float in [-1, 1]) at ``sr`` Hz.

    FLAC or WAV, integer PCM at ``bit_depth`` (32 means 32-bit float for WAV, PCM_24 for
    FLAC, which has no float). Samples beyond [-1, 1] are clipped by the encoder; callers
    that must not clip (stems) check their peak first.
    """
    import soundfile as sf

    arr = np.asarray(y)
    if arr.ndim == 1:
        arr = arr[None, :]
    if format == "flac":
        subtype = {16: "PCM_16", 24: "PCM_24", 32: "PCM_24"}[bit_depth]
    else:
        subtype = {16: "PCM_16", 24: "PCM_24", 32: "FLOAT"}[bit_depth]
    sf.write(target, arr.T, sr, format=format.upper(), subtype=subtype)


def encode_audio(
    y: npt.NDArray[np.floating],
    sr: int,
    *,
    format: Literal["flac", "wav"] = "flac",
    bit_depth: Literal[16, 24, 32] = 24,
) -> bytes:
    """Like :func:`write_audio`, returning the encoded bytes."""
    buf = io.BytesIO()
    write_audio(buf, y, sr, format=format, bit_depth=bit_depth)
    return buf.getvalue()


def mono_at(y: npt.ArrayLike, sr: int, target_sr: int) -> npt.NDArray[np.float32]:
    """``y`` (``(channels, samples)`` or ``(samples,)``) mixed to mono and resampled to
    ``target_sr`` Hz with soxr (VHQ): a contiguous float32 array of shape ``(samples,)``.

    Raises ValueError for other shapes or a non-positive rate.
    """
    arr = np.asarray(y, dtype=np.float32)
    if arr.ndim == 2:
        arr = arr.mean(axis=0)
    elif arr.ndim != 1:
        raise ValueError(f"audio must be (samples,) or (channels, samples), got {arr.shape}")
    if sr <= 0:
        raise ValueError(f"sample rate must be positive, got {sr}")
    if sr != target_sr:
        import soxr

        arr = soxr.resample(arr, sr, target_sr, quality="VHQ").astype(np.float32)
    return np.ascontiguousarray(arr)

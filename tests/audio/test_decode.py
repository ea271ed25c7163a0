"""Decoding every format ingest accepts, at any rate, bit depth and channel count."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from stemcrate.audio.decode import audio_info, encode_audio, load_audio
from stemcrate.errors import InputError


def _signal(sr: int, channels: int, seconds: float = 1.5) -> np.ndarray:
    t = np.arange(int(sr * seconds)) / sr
    return np.stack([0.4 * np.sin(2 * np.pi * (220 + 110 * c) * t) for c in range(channels)])


@pytest.mark.parametrize(("sr", "channels", "subtype"), [
    (8000, 1, "PCM_16"), (22050, 2, "PCM_24"), (44100, 6, "FLOAT"), (96000, 2, "PCM_32"),
])
def test_wav_any_rate_depth_channels(tmp_path: Path, sr: int, channels: int,
                                     subtype: str) -> None:
    y = _signal(sr, channels)
    path = tmp_path / "x.wav"
    sf.write(path, y.T, sr, subtype=subtype)
    out, out_sr = load_audio(path)
    assert out_sr == sr and out.shape == y.shape and out.dtype == np.float32
    assert np.max(np.abs(out - y)) < 1e-3
    info = audio_info(path)
    assert info.channels == channels and info.frames == y.shape[1]


@pytest.mark.parametrize(("ext", "args"), [
    (".flac", ["-sample_fmt", "s32", "-ar", "96000"]),
    (".mp3", ["-b:a", "192k", "-ar", "48000"]),
    (".ogg", ["-c:a", "libvorbis", "-ar", "44100"]),
    (".opus", ["-c:a", "libopus", "-ar", "48000"]),
    (".m4a", ["-c:a", "aac", "-ar", "44100"]),
    (".aiff", ["-ar", "32000"]),
])
def test_compressed_and_other_containers(tmp_path: Path, ext: str, args: list[str]) -> None:
    src = tmp_path / "src.wav"
    sf.write(src, _signal(44100, 2, 2.0).T, 44100, subtype="PCM_24")
    path = tmp_path / f"x{ext}"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(src), *args, str(path)],
                   check=True)
    y, sr = load_audio(path)
    expected_sr = int(args[args.index("-ar") + 1])
    assert sr == expected_sr
    assert y.shape[0] == 2
    assert abs(y.shape[1] / sr - 2.0) < 0.1  # encoder delay/padding: a few ms at most
    assert 0.3 < float(np.median(np.abs(y).max(axis=1))) < 1.0  # lossy codecs overshoot a little


def test_resample_and_mono(tmp_path: Path) -> None:
    path = tmp_path / "x.wav"
    sf.write(path, _signal(48000, 2).T, 48000)
    y, sr = load_audio(path, sr=16000, mono=True)
    assert sr == 16000 and y.shape == (1, 24000)


def test_bad_inputs_name_the_file_and_cause(tmp_path: Path) -> None:
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    with pytest.raises(InputError, match=r"empty\.wav: empty file"):
        load_audio(empty)
    text = tmp_path / "text.mp3"
    text.write_text("hello")
    with pytest.raises(InputError, match=r"text\.mp3: not a readable audio file"):
        load_audio(text)
    with pytest.raises(InputError, match="file not found"):
        load_audio(tmp_path / "nope.flac")


def test_a_stream_in_a_codec_ffmpeg_cannot_decode_is_named(tmp_path: Path) -> None:
    """A real broken file: LMMS ships kick04.ogg as an Ogg stream no decoder knows
    (ffprobe: "Unsupported codec with id 0"); the error says so instead of a crash text."""
    from stemcrate.audio.training.packs import LMMS

    src = LMMS.root / "drums" / "kick04.ogg"
    if not src.is_file():
        pytest.fail(f"{src} not found; install the Debian package {LMMS.package}")
    path = tmp_path / "kick 04.ogg"
    path.write_bytes(src.read_bytes())
    with pytest.raises(InputError, match=r"kick 04\.ogg: its audio stream is in a codec "
                                         r"ffmpeg cannot decode"):
        load_audio(path)


def test_encode_roundtrip_24bit_flac() -> None:
    y = _signal(44100, 2).astype(np.float32)
    import io

    data = encode_audio(y, 44100, format="flac", bit_depth=24)
    back, sr = load_audio(io.BytesIO(data))
    assert sr == 44100 and back.shape == y.shape
    assert np.max(np.abs(back - y)) < 2.0 ** -22

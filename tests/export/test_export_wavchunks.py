"""The RIFF smpl/acid writer: chunks parse back, and the audio stays readable and unchanged."""

from __future__ import annotations

import io
import struct

import numpy as np
import pytest
import soundfile as sf

from stemcrate.export.wavchunks import (
    RiffError,
    SampleLoop,
    add_sample_chunks,
    chunk_ids,
    read_sample_chunks,
)


def _wav(y: np.ndarray, sr: int, subtype: str) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, y.T, sr, format="WAV", subtype=subtype)
    return buf.getvalue()


@pytest.mark.parametrize("subtype,channels,frames", [
    ("PCM_16", 2, 4410), ("PCM_24", 1, 2205), ("FLOAT", 2, 1001), ("PCM_24", 1, 1001)])
def test_chunks_round_trip(rng: np.random.Generator, subtype: str, channels: int,
                           frames: int) -> None:
    sr = 44100
    y = (0.5 * rng.standard_normal((channels, frames))).clip(-1, 1).astype(np.float32)
    wav = _wav(y, sr, subtype)
    out = add_sample_chunks(wav, sample_rate=sr, root_note=36, tempo_bpm=92.5,
                            duration_s=frames / sr)
    ids = chunk_ids(out)
    assert ids.index("smpl") < ids.index("data") and ids.index("acid") < ids.index("data")
    assert struct.unpack_from("<I", out, 4)[0] == len(out) - 8  # RIFF size fixed

    chunks = read_sample_chunks(out)
    assert chunks.unity_note == 36
    assert chunks.sample_period_ns == round(1e9 / sr)
    assert chunks.loops == ()
    assert chunks.acid_root_note == 36 and chunks.root_note_set
    assert chunks.one_shot is True
    assert chunks.tempo_bpm == pytest.approx(92.5)
    assert chunks.meter == (4, 4)

    a, _ = sf.read(io.BytesIO(wav), dtype="float64", always_2d=True)
    b, sr_b = sf.read(io.BytesIO(out), dtype="float64", always_2d=True)
    assert sr_b == sr and np.array_equal(a, b)
    assert sf.info(io.BytesIO(out)).subtype == subtype


def test_unknown_note_and_tempo_and_a_loop(rng: np.random.Generator) -> None:
    sr = 48000
    wav = _wav(rng.uniform(-0.5, 0.5, (1, 4800)).astype(np.float32), sr, "PCM_24")
    out = add_sample_chunks(wav, sample_rate=sr, root_note=None, tempo_bpm=None,
                            duration_s=0.1, loop=SampleLoop(100, 4799))
    chunks = read_sample_chunks(out)
    assert chunks.unity_note == 60  # the default a sampler assumes
    assert chunks.loops == (SampleLoop(100, 4799),)
    assert chunks.tempo_bpm is None and "acid" not in chunk_ids(out)
    # writing again replaces, never duplicates
    again = add_sample_chunks(out, sample_rate=sr, root_note=45, tempo_bpm=120.0,
                              duration_s=0.1)
    assert chunk_ids(again).count("smpl") == 1 and chunk_ids(again).count("acid") == 1
    assert read_sample_chunks(again).unity_note == 45


def test_not_a_wav_is_refused() -> None:
    with pytest.raises(RiffError):
        add_sample_chunks(b"fLaC\0\0\0\0", sample_rate=44100, root_note=60, tempo_bpm=90,
                          duration_s=1.0)
    with pytest.raises(ValueError):
        add_sample_chunks(_wav(np.zeros((1, 10), np.float32), 44100, "PCM_16"),
                          sample_rate=44100, root_note=200, tempo_bpm=90, duration_s=1.0)

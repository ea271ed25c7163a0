"""Track analysis on real recordings and seeded synthetic signals."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pyloudnorm
import pytest

from stemcrate.audio.analysis import (
    TrackAnalysis,
    analyse,
    estimate_key,
    estimate_tempo,
    integrated_loudness,
    true_peak_dbfs,
    waveform_peaks,
)
from stemcrate.audio.decode import load_audio

TRUMPET = "sorohanro_-_solo-trumpet-06.ogg"


def click_track(bpm: float, seconds: float, sr: int, rng: np.random.Generator) -> np.ndarray:
    """Mono click track: 1.5 kHz pings (accent every 4th), ±2 ms timing jitter, noise floor."""
    out = rng.normal(0.0, 0.003, int(seconds * sr))
    t = np.arange(int(0.03 * sr)) / sr
    click = np.sin(2 * np.pi * 1500.0 * t) * np.exp(-t / 0.005)
    beat = 0
    while beat * 60.0 / bpm < seconds:
        start = int(round((beat * 60.0 / bpm + rng.normal(0.0, 0.002)) * sr))
        start = max(start, 0)
        n = min(click.size, out.size - start)
        if n > 0:
            out[start:start + n] += (1.0 if beat % 4 == 0 else 0.6) * click[:n]
        beat += 1
    return (0.5 * out / np.max(np.abs(out))).astype(np.float32)


def chord_progression(chords: list[list[int]], sr: int, rng: np.random.Generator,
                      seconds_each: float = 1.0, repeats: int = 3) -> np.ndarray:
    """Additive-synth chords: MIDI note lists, 6 harmonics (1/h), random phases, decays."""
    n = int(seconds_each * sr)
    t = np.arange(n) / sr
    env = np.exp(-t / 0.8) * np.minimum(1.0, t / 0.01)
    parts = []
    for _ in range(repeats):
        for chord in chords:
            seg = np.zeros(n)
            for note in chord:
                f0 = 440.0 * 2 ** ((note - 69) / 12)
                for h in range(1, 7):
                    if h * f0 < sr / 2:
                        seg += np.sin(2 * np.pi * h * f0 * t + rng.uniform(0, 2 * np.pi)) / h
            parts.append(seg * env)
    y = np.concatenate(parts)
    return (0.5 * y / np.max(np.abs(y))).astype(np.float32)


# ------------------------------------------------------------------------------ tempo


def test_trumpet_loop_is_90_bpm(corpus: Path) -> None:
    y, sr = load_audio(corpus / TRUMPET)
    result = analyse(y, sr)
    assert result.bpm is not None
    assert abs(result.bpm - 90.0) <= 2.0, result.bpm
    assert 0.0 < result.bpm_confidence <= 1.0


@pytest.mark.parametrize("bpm", [120.0, 97.0])
def test_click_track_tempo(bpm: float, rng: np.random.Generator) -> None:
    sr = 44100
    y = click_track(bpm, 20.3, sr, rng)
    est = estimate_tempo(y, sr)
    assert est.bpm is not None
    assert abs(est.bpm - bpm) <= 1.0, est
    assert est.confidence > 0.5
    assert est.loop_beats is None  # 20.3 s is not a whole number of bars here


def test_noise_has_low_tempo_confidence(rng: np.random.Generator) -> None:
    sr = 22050
    noise = rng.normal(0.0, 0.1, sr * 10).astype(np.float32)
    clicks = estimate_tempo(click_track(120.0, 10.0, sr, rng), sr)
    est = estimate_tempo(noise, sr)
    assert est.bpm is None or est.confidence < 0.3
    assert est.confidence < clicks.confidence


def drum_pattern(bpm: float, seconds: float, sr: int, rng: np.random.Generator,
                 *, play_bpm: float | None = None) -> np.ndarray:
    """Synthetic kit (kick sweep, noise snare, hi-hat 8ths) in 4/4 at ``play_bpm`` (default
    ``bpm``) starting on a kick at t=0, cut to ``seconds``."""
    play = play_bpm or bpm
    n = int(round(seconds * sr))
    out = np.zeros(n)
    t = np.arange(int(0.25 * sr)) / sr
    kick = np.sin(2 * np.pi * (50 + 100 * np.exp(-t / 0.03)) * t) * np.exp(-t / 0.12)
    snare = rng.normal(0, 0.5, t.size) * np.exp(-t / 0.05)
    hat = np.diff(rng.normal(0, 0.3, t.size + 1)) * np.exp(-t / 0.015)

    def put(sample: np.ndarray, at: float, gain: float) -> None:
        i = int(round(at * sr))
        k = min(sample.size, n - i)
        if 0 <= i < n:
            out[i:i + k] += gain * sample[:k]

    beat = 0
    while beat * 60.0 / play < seconds:
        at = beat * 60.0 / play
        put(kick if beat % 2 == 0 else snare, at, 0.8)
        put(hat, at, 0.3)
        put(hat, at + 30.0 / play, 0.2)
        beat += 1
    return (0.5 * out / np.max(np.abs(out))).astype(np.float32)


def test_whole_bar_loop_gets_its_exact_tempo(rng: np.random.Generator) -> None:
    sr = 44100
    loop = drum_pattern(100.0, 16 * 60.0 / 100.0, sr, rng)  # exactly 4 bars
    est = estimate_tempo(loop, sr)
    assert est.loop_beats == 16
    assert est.bpm == pytest.approx(100.0, abs=1e-6)
    # the same groove cut to a length that is no whole number of bars: audio tempo only
    cut = drum_pattern(100.0, 10.3, sr, rng)
    est = estimate_tempo(cut, sr)
    assert est.loop_beats is None
    assert est.bpm is not None and abs(est.bpm - 100.0) <= 1.0


def test_clearly_periodic_audio_is_not_overridden_by_loop_length(
        rng: np.random.Generator) -> None:
    # played tightly at 96 BPM but cut to 2 bars of 93 BPM: the audio wins
    sr = 44100
    y = drum_pattern(93.0, 8 * 60.0 / 93.0, sr, rng, play_bpm=96.0)
    est = estimate_tempo(y, sr)
    assert est.loop_beats is None
    assert est.bpm is not None and abs(est.bpm - 96.0) <= 1.0


# ------------------------------------------------------------------------------ key


@pytest.mark.parametrize(
    ("chords", "key"),
    [
        # D major: I - vi - IV - V  (D, Bm, G, A), bass an octave below the root
        ([[38, 62, 66, 69], [47, 59, 62, 66], [43, 59, 62, 67], [45, 61, 64, 69]], "D major"),
        # A minor: i - iv - V - i  (Am, Dm, E with G#, Am)
        ([[45, 57, 60, 64], [38, 57, 62, 65], [40, 56, 59, 64], [45, 57, 60, 64]], "A minor"),
        # Eb major: I - IV - ii - V  (Eb, Ab, Fm, Bb)
        ([[39, 63, 67, 70], [44, 63, 68, 72], [41, 65, 68, 72], [46, 62, 65, 70]], "Eb major"),
    ],
)
def test_chord_progression_key(chords: list[list[int]], key: str,
                               rng: np.random.Generator) -> None:
    y = chord_progression(chords, 22050, rng)
    est = estimate_key(y, 22050)
    assert est.key == key
    assert 0.0 < est.confidence <= 1.0


# ------------------------------------------------------------------------------ loudness


def _bursts(channels: int, sr: int, rng: np.random.Generator) -> np.ndarray:
    """Noise with loud and quiet sections, so both BS.1770 gates do something."""
    n = sr * 6
    y = rng.normal(0.0, 1.0, (channels, n))
    level = np.repeat(rng.choice([0.3, 0.05, 0.001, 0.0], size=12), n // 12)
    return (y * level[None, :n] * rng.uniform(0.5, 1.0, (channels, 1))).astype(np.float64)


@pytest.mark.parametrize("channels", [1, 2, 5])
def test_loudness_equals_pyloudnorm(channels: int, rng: np.random.Generator) -> None:
    sr = 44100
    y = _bursts(channels, sr, rng)
    expected = pyloudnorm.Meter(sr).integrated_loudness(y.T if channels > 1 else y[0])
    assert integrated_loudness(y, sr) == pytest.approx(expected, abs=1e-6)


def test_loudness_of_reference_sines() -> None:
    sr = 48000
    t = np.arange(sr * 10) / sr
    sine = np.sin(2 * np.pi * 1000.0 * t)
    # 1 kHz at -20 dBFS peak, mono: mean square -23.01 dB, K-weighting ~+0.69 dB at 1 kHz,
    # BS.1770's -0.691 offset: -23.0 LUFS
    mono = integrated_loudness((10 ** (-20 / 20) * sine)[None, :], sr)
    assert mono is not None and abs(mono - (-23.0)) <= 0.1
    # EBU Tech 3341 case 1: stereo 1 kHz at -23 dBFS in both channels reads -23.0 LUFS
    stereo = integrated_loudness(np.stack([10 ** (-23 / 20) * sine] * 2), sr)
    assert stereo is not None and abs(stereo - (-23.0)) <= 0.1


def test_loudness_5_1_leaves_out_lfe(rng: np.random.Generator) -> None:
    sr = 48000
    five = _bursts(5, sr, rng)
    lfe = rng.normal(0.0, 0.5, (1, five.shape[1]))
    six = np.concatenate([five[:3], lfe, five[3:]])  # L R C LFE Ls Rs
    assert integrated_loudness(six, sr) == pytest.approx(integrated_loudness(five, sr), abs=1e-9)


def test_true_peak_finds_inter_sample_peak() -> None:
    sr = 44100
    n = np.arange(sr)
    # fs/4 sine with a 45° phase: every sample sits at ±0.707 of the true amplitude
    y = np.sin(2 * np.pi * n / 4 + np.pi / 4)[None, :].astype(np.float32)
    sample_peak = 20 * math.log10(float(np.max(np.abs(y))))
    assert sample_peak == pytest.approx(-3.01, abs=0.02)
    tp = true_peak_dbfs(y, sr)
    assert tp is not None and abs(tp) <= 0.2


# ------------------------------------------------------------------------------ peaks


def test_waveform_peaks_shape_and_bounds(rng: np.random.Generator) -> None:
    sr = 44100
    y = (rng.normal(0.0, 0.2, (2, sr * 3))).clip(-1, 1).astype(np.float32)
    result = analyse(y, sr)
    mono = y.mean(axis=0)
    assert result.peaks.shape == (2000, 2)
    assert result.peaks.dtype == np.float32
    assert np.all(result.peaks[:, 0] <= result.peaks[:, 1])
    assert result.peaks[:, 0].min() == pytest.approx(mono.min())
    assert result.peaks[:, 1].max() == pytest.approx(mono.max())
    short = waveform_peaks(np.linspace(-1, 1, 300), 2000)
    assert short.shape == (300, 2)
    assert waveform_peaks(np.zeros(0), 2000).shape == (0, 2)


# ------------------------------------------------------------------------------ edge cases


def test_silence_does_not_crash() -> None:
    sr = 44100
    result = analyse(np.zeros((2, sr * 5), dtype=np.float32), sr)
    assert result.bpm is None and result.bpm_confidence == 0.0
    assert result.key is None and result.key_confidence == 0.0
    assert result.loudness_lufs is None
    assert result.true_peak_dbfs is None
    assert result.duration_s == pytest.approx(5.0)
    json.dumps(result.to_dict())


def test_very_short_clip() -> None:
    sr = 44100
    y = np.sin(2 * np.pi * 440 * np.arange(int(0.1 * sr)) / sr)[None, :].astype(np.float32)
    result = analyse(y * 0.5, sr)
    assert result.bpm is None
    assert result.loudness_lufs is None  # shorter than one 400 ms gating block
    assert result.true_peak_dbfs is not None and result.true_peak_dbfs < 0
    assert result.peaks.shape[0] == 2000


@pytest.mark.parametrize("sr", [8000, 44100, 96000])
@pytest.mark.parametrize("channels", [1, 2, 6])
def test_channel_counts_and_rates(sr: int, channels: int, rng: np.random.Generator) -> None:
    mono = click_track(120.0, 8.3, sr, rng)
    y = np.stack([mono * (0.9 ** c) for c in range(channels)])
    result = analyse(y, sr)
    assert result.channels == channels and result.sample_rate == sr
    assert result.duration_s == pytest.approx(mono.size / sr)
    assert result.bpm is not None and abs(result.bpm - 120.0) <= 1.0
    assert result.loudness_lufs is not None and math.isfinite(result.loudness_lufs)
    assert result.peaks.shape == (2000, 2)
    d = json.loads(json.dumps(result.to_dict()))
    assert d["channels"] == channels and len(d["peaks"]) == 2000


def test_rejects_bad_shapes() -> None:
    with pytest.raises(ValueError):
        analyse(np.zeros((2, 2, 2), dtype=np.float32), 44100)
    with pytest.raises(ValueError):
        analyse(np.zeros((44100, 2), dtype=np.float32), 44100)  # (samples, channels)


def test_to_dict_is_json(corpus: Path) -> None:
    y, sr = load_audio(corpus / TRUMPET)
    result = analyse(y, sr)
    assert isinstance(result, TrackAnalysis)
    d = json.loads(json.dumps(result.to_dict()))
    assert set(d) == {"duration_s", "sample_rate", "channels", "bpm", "bpm_confidence", "key",
                      "key_confidence", "loudness_lufs", "true_peak_dbfs", "peaks"}
    assert d["sample_rate"] == 44100 and d["channels"] == 2
    assert d["loudness_lufs"] == pytest.approx(result.loudness_lufs, abs=0.01)
    assert all(len(p) == 2 and p[0] <= p[1] for p in d["peaks"])
    assert all(round(v, 4) == v for p in d["peaks"][:50] for v in p)


@pytest.mark.slow
def test_every_corpus_file_analyses(corpus: Path) -> None:
    for path in sorted(corpus.glob("*.ogg")):
        y, sr = load_audio(path)
        result = analyse(y, sr)
        assert result.duration_s == pytest.approx(y.shape[1] / sr)
        assert result.loudness_lufs is not None and -40 < result.loudness_lufs < 0, path.name
        assert result.true_peak_dbfs is not None and result.true_peak_dbfs <= 0.5, path.name
        assert result.key is not None

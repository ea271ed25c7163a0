"""Features: deterministic, finite on edge cases, and sensitive to what they claim to measure."""

from __future__ import annotations

import numpy as np
import pytest

from stemcrate.audio import features as F


def _kick(sr: int, glide: bool = True, seconds: float = 0.6) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    f = 50 + (110 * np.exp(-t / 0.03) if glide else 0)
    return (np.sin(2 * np.pi * np.cumsum(f) / sr) * np.exp(-t / 0.25)).astype(np.float32)


def test_names_match_vector_length():
    assert len(F.FEATURE_NAMES) == F.N_FEATURES == len(set(F.FEATURE_NAMES))
    assert F.extract(_kick(44100), 44100).shape == (F.N_FEATURES,)


@pytest.mark.parametrize("case", ["grain_5ms", "silence", "empty", "one_sample", "clipped",
                                  "noise_burst", "dc", "nan"])
def test_edge_cases_finite_and_deterministic(case, rng):
    sr = 44100
    y = {
        "grain_5ms": rng.standard_normal(int(0.005 * sr)) * 0.3,
        "silence": np.zeros(sr // 2),
        "empty": np.zeros(0),
        "one_sample": np.array([0.5]),
        "clipped": np.clip(3.0 * np.sin(2 * np.pi * 80 * np.arange(sr) / sr), -1, 1),
        "noise_burst": rng.standard_normal(2000) * np.exp(-np.arange(2000) / 200),
        "dc": np.full(4000, 0.7),
        "nan": np.where(np.arange(3000) % 7 == 0, np.nan, np.sin(np.arange(3000) / 5)),
    }[case].astype(np.float32)
    a = F.extract(y, sr)
    b = F.extract(y.copy(), sr)
    assert a.dtype == np.float32 and a.shape == (F.N_FEATURES,)
    assert np.all(np.isfinite(a))
    np.testing.assert_array_equal(a, b)
    assert np.max(np.abs(a)) < 50


def test_mono_stereo_and_layouts_agree():
    sr = 44100
    k = _kick(sr)
    mono = F.extract(k, sr)
    np.testing.assert_allclose(F.extract(np.stack([k, k]), sr), mono, atol=1e-5)
    np.testing.assert_allclose(F.extract(np.stack([k, k], axis=1), sr), mono, atol=1e-5)
    # gain does not matter
    np.testing.assert_allclose(F.extract(k * 0.05, sr), mono, atol=1e-4)


@pytest.mark.parametrize("sr", [22050, 48000])
def test_sample_rates_give_nearly_the_same_features(sr):
    ref = F.extract(_kick(44100), 44100)
    other = F.extract(_kick(sr), sr)
    assert np.all(np.isfinite(other))
    # the same sound at another rate: nearly the same description
    assert np.corrcoef(ref, other)[0, 1] > 0.99
    assert np.median(np.abs(ref - other)) < 0.02


def test_pitch_glide_and_decay_are_measured():
    sr = 44100
    names = {n: i for i, n in enumerate(F.FEATURE_NAMES)}
    glide = F.extract(_kick(sr, glide=True), sr)
    flat = F.extract(_kick(sr, glide=False), sr)
    assert glide[names["glide_lowzc"]] > 0.25 > abs(flat[names["glide_lowzc"]])
    long = F.extract(_kick(sr, seconds=1.4), sr)
    t = np.arange(int(0.08 * sr)) / sr
    short = F.extract(np.sin(2 * np.pi * 50 * t) * np.exp(-t / 0.01), sr)
    assert long[names["decay_40db"]] > short[names["decay_40db"]]


def test_low_peak_tracks_a_kick_glide_and_a_stable_tom():
    sr = 44100
    names = {n: i for i, n in enumerate(F.FEATURE_NAMES)}
    kick = F.extract(_kick(sr, glide=True), sr)
    t = np.arange(int(0.6 * sr)) / sr
    tom = F.extract(np.sin(2 * np.pi * 120 * t) * np.exp(-t / 0.3), sr)

    def hz(v: np.ndarray, name: str) -> float:
        return float(20 * 2 ** (6 * v[names[name]]))

    for seg in ("lowpeak_0_40ms", "lowpeak_40_120ms", "lowpeak_120_300ms"):
        assert hz(tom, seg) == pytest.approx(120, rel=0.03)
    assert hz(kick, "lowpeak_0_40ms") > 1.5 * hz(kick, "lowpeak_120_300ms")
    assert hz(kick, "lowpeak_120_300ms") == pytest.approx(50, rel=0.1)
    assert kick[names["glide_lowpeak"]] > 0.5 > abs(tom[names["glide_lowpeak"]])


@pytest.mark.parametrize("f0", [41.2, 55.0, 110.0, 440.0])
def test_estimate_pitch(f0):
    sr = 48000
    t = np.arange(sr) / sr
    y = sum(np.sin(2 * np.pi * f0 * k * t) / k for k in range(1, 6)) * np.exp(-t / 0.5)
    est, harm = F.estimate_pitch(y, sr)
    assert harm > 0.9
    assert abs(12 * np.log2(est / f0)) < 0.3


def test_noise_has_no_pitch(rng):
    est, harm = F.estimate_pitch(rng.standard_normal(22050), 22050)
    assert harm < 0.5


def test_mel_patch_shape_level_and_length(rng):
    sr = F.FEATURE_SR
    t = np.arange(sr) / sr
    tone = np.sin(2 * np.pi * 100 * t) * np.exp(-t * 4)
    p = F.mel_patch(F.prepare(tone, sr))
    assert p.shape == (F.PATCH_MELS, F.PATCH_FRAMES) and p.dtype == np.float32
    assert 0.0 <= float(p.min()) and float(p.max()) <= 1.0
    assert int(np.argmax(p[:, 0])) < 6  # a 100 Hz tone sits in the lowest bands
    np.testing.assert_allclose(F.mel_patch(F.prepare(0.1 * tone, sr)), p, atol=1e-5)  # gain-free
    short = F.mel_patch(F.prepare(tone[: 10 * F.PATCH_HOP], sr))
    assert float(short[:, 14:].max()) == 0.0 and float(short[:, :8].max(axis=0).min()) > 0.5
    assert not F.mel_patch(F.prepare(np.zeros(500), sr)).any()
    noise = F.mel_patch(F.prepare(rng.standard_normal(sr // 4), sr))
    assert float(noise[-10:, 2].mean()) > float(p[-10:, 2].mean())  # noise is brighter


def _pink(n: int, rng: np.random.Generator) -> np.ndarray:
    """Pink-ish room noise (1/f power), unit RMS."""
    spec = np.fft.rfft(rng.standard_normal(n)) / np.sqrt(np.arange(n // 2 + 1) + 1.0)
    y = np.fft.irfft(spec, n)
    return y / np.sqrt(np.mean(y ** 2))


def _level_db(rms: float) -> float:
    return float(10 ** (rms / 20))


def test_onset_skips_a_recordings_noise_floor(rng):
    """A hit 0.5 s into a recording with room noise 50 dB down starts where the hit starts;
    with digital silence before it, as before (first sample above -50 dB)."""
    sr = F.FEATURE_SR
    hit = _kick(sr)
    lead = int(0.5 * sr)
    clean = np.concatenate([np.zeros(lead), hit])
    assert abs(F.onset(clean) - lead) <= 2
    noisy = clean + _pink(clean.size, rng) * _level_db(-50)
    assert abs(F.onset(noisy) - lead) < int(0.004 * sr)
    # the prepared clip starts at the hit, so its features match the clean hit's
    assert np.corrcoef(F.extract(noisy, sr), F.extract(hit, sr))[0, 1] > 0.97
    # a lone click in the lead-in is not the onset
    clicked = noisy.copy()
    clicked[lead // 2:lead // 2 + 20] += 0.05
    assert abs(F.onset(clicked) - lead) < int(0.004 * sr)


def test_onset_keeps_soft_beginnings(rng):
    """What belongs to the sound stays: a consonant-like noise 25 dB down before a vowel,
    and a slow fade-in (not steady, so not a noise floor)."""
    sr = F.FEATURE_SR
    t = np.arange(sr // 2) / sr
    vowel = np.sin(2 * np.pi * 180 * t) * np.exp(-t * 3)
    consonant = _pink(int(0.12 * sr), rng) * _level_db(-25)
    word = np.concatenate([np.zeros(200), consonant, vowel])
    assert F.onset(word) <= 201
    swell = np.sin(2 * np.pi * 300 * np.arange(sr) / sr) * np.linspace(0, 1, sr) ** 3
    first = int(np.flatnonzero(np.abs(swell) > 10 ** (-50 / 20))[0])
    assert F.onset(swell) == first
    assert F.onset(np.zeros(100)) == 0

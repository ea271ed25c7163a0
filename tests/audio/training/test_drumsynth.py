"""DrumSynth renderer: parsing, what each section claims to do, and every shipped preset."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import hilbert

from stemcrate.audio.training import drumsynth as ds

SR = ds.BASE_SR


def _write(tmp_path, body: str, name: str = "p.ds"):
    path = tmp_path / name
    path.write_text("[General]\nVersion=DrumSynth v2.0\n" + body)
    return path


def _tone(f1: float, f2: float, envelope: str, droop: float = 0, level: int = 128) -> str:
    return (f"[Tone]\nOn=1\nLevel={level}\nF1={f1}\nF2={f2}\nDroop={droop}\nPhase=0\n"
            f"Envelope={envelope}\n")


def _frequency(y: np.ndarray, t: float, sr: int = SR, width: float = 0.004) -> float:
    """Mean instantaneous frequency (Hz) over ``width`` seconds centred on ``t``."""
    phase = np.unwrap(np.angle(hilbert(y)))
    a, b = int((t - width / 2) * sr), int((t + width / 2) * sr)
    return float((phase[b] - phase[a]) / (2 * np.pi * (b - a) / sr))


def _centroid_and_flatness(y: np.ndarray, sr: int, lo: float = 2000, hi: float = 10000
                           ) -> tuple[float, float]:
    """Spectral centroid (Hz) and spectral flatness within ``lo``..``hi`` Hz."""
    power = np.abs(np.fft.rfft(y * np.hanning(y.size))) ** 2 + 1e-20
    freqs = np.fft.rfftfreq(y.size, 1 / sr)
    band = (freqs > lo) & (freqs < hi)
    flatness = np.exp(np.mean(np.log(power[band]))) / np.mean(power[band])
    return float((freqs * power).sum() / power.sum()), float(flatness)


def _peak_near(y: np.ndarray, t: float, sr: int = SR, width: float = 0.005) -> float:
    a = int((t - width / 2) * sr)
    return float(np.max(np.abs(y[a:a + int(width * sr)])))


# ---------------------------------------------------------------- parsing


def test_missing_keys_take_drumsynth_defaults(tmp_path):
    p = ds.read_preset(_write(tmp_path, "[Tone]\nOn=1\n[Overtones]\non=1\nMETHOD=1\n"))
    assert p.tone.on and p.tone.level == 128 and (p.tone.f1, p.tone.f2) == (200.0, 120.0)
    assert p.tone.phase == 90.0 and p.tone.envelope.points == ((0.0, 0.0), (100.0, 0.0))
    assert p.overtones.on and p.overtones.method == 1  # keys are case-insensitive
    assert not p.noise.on and p.noise.level == 0 and p.band1.f == 1000.0
    assert p.general.stretch == 100.0 and not p.distortion.on
    assert p.name == "p" and p.path == tmp_path / "p.ds"


def test_only_on_equal_one_switches_a_section_on(tmp_path):
    p = ds.read_preset(_write(tmp_path, "[Tone]\nOn=2\n[Noise]\nOn=1\n"))
    assert not p.tone.on and p.noise.on


@pytest.mark.parametrize("body, cause", [
    ("[Tone]\nOn=1\nF1=fast\n", "[Tone] F1"),
    ("[Tone]\nOn=1\nEnvelope=0,100 500\n", "[Tone] Envelope"),
    ("[Noise]\nOn=1\nthis line has no equals sign\n", "line"),
])
def test_malformed_preset_names_file_and_cause(tmp_path, body, cause):
    path = _write(tmp_path, body, name="broken.ds")
    with pytest.raises(ValueError) as err:
        ds.read_preset(path)
    assert str(path) in str(err.value) and cause in str(err.value)


@pytest.mark.parametrize("content", [b"not a preset at all", b"\x00\x01\x02binary",
                                     b"[General]\nVersion=Something else\n"])
def test_non_presets_raise_value_error(tmp_path, content):
    path = tmp_path / "junk.ds"
    path.write_bytes(content)
    with pytest.raises(ValueError, match="junk.ds"):
        ds.render(path)


def test_missing_file_raises_value_error(tmp_path):
    with pytest.raises(ValueError, match="nope.ds"):
        ds.read_preset(tmp_path / "nope.ds")


# ---------------------------------------------------------------- synthesis


def test_linear_glide_goes_from_f1_to_f2_over_the_envelope(tmp_path):
    # 0.5 s envelope, held at full level: pitch should pass the midpoint at 0.25 s
    path = _write(tmp_path, _tone(800, 200, "0,100 22050,100 22051,0"))
    y = ds.render(path, sr=SR)
    assert _frequency(y, 0.01) == pytest.approx(800 - 600 * 0.02, rel=0.02)
    assert _frequency(y, 0.25) == pytest.approx(500, rel=0.02)
    assert _frequency(y, 0.49) == pytest.approx(200 + 600 * 0.02, rel=0.03)


def test_droop_falls_faster_than_linear_and_reaches_f2(tmp_path):
    env = "0,100 22050,100 22051,0"
    linear = ds.render(_write(tmp_path, _tone(800, 200, env), "a.ds"), sr=SR)
    droop = ds.render(_write(tmp_path, _tone(800, 200, env, droop=40), "b.ds"), sr=SR)
    assert _frequency(droop, 0.1) < _frequency(linear, 0.1) - 100
    assert _frequency(droop, 0.49) == pytest.approx(200, rel=0.05)


def test_tr808_kick_pitch_falls_from_f1_towards_f2():
    path = ds.DRUMSYNTH_ROOT / "tr808" / "Kick.ds"
    p = ds.read_preset(path)
    assert (p.tone.f1, p.tone.f2) == (480.0, 48.0)
    y = ds.render(path, sr=SR)
    start, settled = _frequency(y, 0.0025, width=0.003), _frequency(y, 0.1, width=0.02)
    assert start > 200  # has begun its fall from 480 Hz within the first 4 ms
    assert settled == pytest.approx(48, rel=0.08)
    assert _frequency(y, 0.01) < start  # monotone-ish fall, measured on the output


def test_envelope_points_are_honoured(tmp_path):
    # 1 kHz at full level for 0.1 s, ramp to 50 % at 0.2 s, to 0 at 0.3 s
    path = _write(tmp_path, _tone(1000, 1000, "0,100 4410,100 8820,50 13230,0"))
    y = ds.render(path, sr=SR)
    assert _peak_near(y, 0.05) == pytest.approx(1.0, abs=0.02)
    assert _peak_near(y, 0.15) == pytest.approx(0.75, abs=0.03)
    assert _peak_near(y, 0.25) == pytest.approx(0.25, abs=0.03)
    assert 0.29 < y.size / SR <= 0.3  # trimmed where it falls below -60 dB


def test_stretch_scales_envelope_times(tmp_path):
    env = "0,100 4410,100 8820,0"
    base = ds.render(_write(tmp_path, _tone(500, 500, env), "a.ds"), sr=SR)
    slow = ds.render(_write(tmp_path, "Stretch=200\n" + _tone(500, 500, env), "b.ds"), sr=SR)
    assert slow.size / base.size == pytest.approx(2.0, rel=0.02)


def test_loud_levels_clip_at_16_bits(tmp_path):
    path = _write(tmp_path, "Level=12\n" + _tone(200, 200, "0,100 8820,100 8821,0", level=181))
    y = ds.render(path, sr=SR)
    assert np.mean(np.abs(y) > 0.999) > 0.3  # flat tops: the output clip is part of the model


def test_noise_slope_tilts_the_spectrum(tmp_path):
    def noise(slope: int, name: str) -> np.ndarray:
        body = f"[Noise]\nOn=1\nLevel=100\nSlope={slope}\nEnvelope=0,100 8820,100 8821,0\n"
        return ds.render(_write(tmp_path, body, name), sr=SR)

    dark, white, bright = noise(-90, "d.ds"), noise(0, "w.ds"), noise(90, "b.ds")
    centroids = [_centroid_and_flatness(y, SR)[0] for y in (dark, white, bright)]
    assert centroids[0] < 0.5 * centroids[1] and centroids[2] > 1.3 * centroids[1]


def test_noise_band_is_centred_on_f(tmp_path):
    body = "[NoiseBand]\nOn=1\nLevel=100\nF=3000\ndF=30\nEnvelope=0,100 8820,100 8821,0\n"
    y = ds.render(_write(tmp_path, body), sr=SR)
    power = np.abs(np.fft.rfft(y)) ** 2
    freqs = np.fft.rfftfreq(y.size, 1 / SR)
    assert 2700 < freqs[np.argmax(power)] < 3300
    assert power[(freqs > 2500) & (freqs < 3500)].sum() > 0.8 * power.sum()


def test_hat_is_noisy_and_bright_unlike_kick_and_cowbell():
    def measure(name: str) -> tuple[float, float]:
        return _centroid_and_flatness(ds.render(ds.DRUMSYNTH_ROOT / "tr808" / name),
                                      ds.FEATURE_SR)

    hat_centroid, hat_flatness = measure("Hat_o.ds")
    kick_centroid, _ = measure("Kick.ds")
    _, cowbell_flatness = measure("Cowbell.ds")  # bright too, but two square waves
    assert hat_centroid > 4000 and kick_centroid < 300
    assert hat_flatness > 0.05 and hat_flatness > 10 * cowbell_flatness


def test_seeded_noise_is_deterministic(tmp_path):
    path = _write(tmp_path, "[Noise]\nOn=1\nLevel=100\nEnvelope=0,100 2000,0\n"
                            + _tone(100, 60, "0,100 3000,0"))
    a, b, c = (ds.render(path, seed=s) for s in (3, 3, 4))
    assert np.array_equal(a, b)
    assert not np.allclose(a[: min(a.size, c.size)], c[: min(a.size, c.size)])
    tonal = _write(tmp_path, _tone(100, 60, "0,100 3000,0"), "t.ds")
    assert np.array_equal(ds.render(tonal, seed=1), ds.render(tonal, seed=2))


def test_output_contract(tmp_path):
    long = _write(tmp_path, "Stretch=1000\n" + _tone(300, 100, "0,100 40000,100 44100,0"))
    y = ds.render(long, max_seconds=1.5)
    assert y.dtype == np.float64 and y.ndim == 1
    assert y.size == int(1.5 * ds.FEATURE_SR) and np.max(np.abs(y)) == pytest.approx(1.0)
    silent = ds.render(_write(tmp_path, _tone(300, 100, "0,0 4410,0"), "s.ds"))
    assert not np.any(silent)


# ---------------------------------------------------------------- time-varying filters


def _naive_lowpass(x, fb, res):
    y, s1, s2 = np.empty_like(x), 0.0, 0.0
    for i, f in enumerate(fb):
        u = x[i] + res * (1 + 1 / f) * (s1 - s2)
        s1 = f * s1 + (1 - f) * u
        s2 = f * s2 + (1 - f) * s1
        y[i] = s2
    return y


def _naive_bandpass(x, k, q):
    y, low, band, prev = np.empty_like(x), 0.0, 0.0, 0.0
    for i, kk in enumerate(k):
        low += kk * band
        band += kk * (x[i] + prev - q * band - low)
        prev = x[i]
        y[i] = band
    return y


def test_filters_match_per_sample_recursions(rng):
    n = 6000
    x = rng.standard_normal(n)
    # held, slowly swept, stepped and quickly swept coefficients
    sweep = np.concatenate([np.full(1500, 0.2), np.linspace(0.2, 0.98, 3000),
                            np.full(500, 0.5), np.linspace(0.5, 0.01, 1000)])
    for res in (0.0, 0.6):
        want = _naive_lowpass(x, sweep, res)
        got = ds._resonant_lowpass(x, sweep, res)
        assert np.max(np.abs(got - want)) < 0.01 * np.max(np.abs(want))
    k = np.concatenate([np.full(2000, 0.3), np.linspace(0.3, 0.05, 3000), np.zeros(1000)])
    want = _naive_bandpass(x, k, 0.4)
    assert np.max(np.abs(ds._cymbal_bandpass(x, k, 0.4) - want)) < 0.01 * np.max(np.abs(want))


# ---------------------------------------------------------------- shipped presets


def test_presets_lists_every_shipped_preset_sorted():
    paths = ds.presets()
    assert len(paths) >= 700 and paths == sorted(paths)
    assert all(p.suffix == ".ds" for p in paths)


def test_every_shipped_preset_renders():
    bad = []
    for path in ds.presets():
        y = ds.render(path, max_seconds=2.0)
        if not (y.size and np.all(np.isfinite(y)) and np.max(np.abs(y)) == 1.0
                and y.size <= 2 * ds.FEATURE_SR):
            bad.append(path.relative_to(ds.DRUMSYNTH_ROOT))
    assert not bad, bad

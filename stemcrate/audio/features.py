"""Handcrafted one-shot features for the sample classifier (pure numpy/scipy, no model).

Public API
----------
``FEATURE_SR: int``            analysis sample rate (22 050 Hz); input is resampled to it.
``MAX_SECONDS: float``         only the first 1.5 s after the onset is analysed.
``FEATURE_NAMES: tuple[str]``  one name per feature, in order.
``N_FEATURES: int``            ``len(FEATURE_NAMES)``.
``prepare(y, sr) -> np.ndarray``  mono float32 (samples,) at FEATURE_SR, leading silence
                               and room noise trimmed (:func:`onset`), cut to MAX_SECONDS,
                               peak-normalised to 1.0.
``onset(x) -> int``            where a clip's sound starts, past digital silence or a
                               recording's steady noise floor.
``extract(y, sr) -> np.ndarray``  float32 (N_FEATURES,), finite and deterministic for any
                               input (empty, silent, 5 ms grains, clipped, mono/stereo, any sr).
``extract_prepared(x) -> np.ndarray``  the same from ``prepare``'s output.
``estimate_pitch(y, sr) -> tuple[float, float]``  (f0 in Hz or 0.0, harmonicity 0..1).

The features are built for the confusions measured on real one-shots (kick↔tom↔bass,
open↔closed hi-hats, very short vocal grains):

* envelope: level (dB re peak) at log-spaced times after the onset, decay times to
  -6/-12/-24/-40 dB, attack time, temporal centroid, effective length, level at the end
  (abrupt cut vs natural decay);
* spectrum: a 40-band log-mel profile in four time segments (0–30 ms, 30–100 ms, 100–300 ms,
  300 ms–end), spectral centroid/roll-off/flatness/bandwidth per segment, spectral flux and
  per-band modulation (formant movement in voices);
* pitch: zero-crossing frequency of the < 300 Hz band in five short segments (a kick's pitch
  glide from ~150 Hz to ~50 Hz within 50 ms), low-band energy ratio per segment, full-band
  zero-crossing rate, autocorrelation harmonicity and f0 in four windows, and glide deltas;
  the dominant low-band (30–500 Hz) spectral peak in three windows (0–40, 40–120,
  120–300 ms; zero-padded FFT, ≈ 2.7 Hz bins; windows cut below 40 ms count as missing)
  and its glide — a kick's body falls fast, a tom's rings at a stable pitch.

Everything is relative (peak-normalised, dB re peak), so gain does not matter.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import numpy.typing as npt
import soxr
from scipy.signal import butter, sosfilt

FEATURE_SR = 22050
MAX_SECONDS = 1.5
N_MELS = 40
N_FFT = 1024
HOP = 256
_ENV_HOP = 64
_ENV_WIN = 128
_FLOOR_DB = -80.0
_ENV_TIMES_MS = (0, 3, 6, 12, 25, 50, 100, 200, 400, 800, 1400)
_DECAY_DB = (6, 12, 24, 40)
_SEGMENTS_MS = ((0, 30), (30, 100), (100, 300), (300, 1500))
_LOW_SEGMENTS_MS = ((0, 15), (15, 40), (40, 100), (100, 250), (250, 600))
_AC_STARTS_MS = (0, 50, 150, 400)
_AC_WIN = 2048
_MOD_GROUPS = 8
_PEAK_SEGMENTS_MS = ((0, 40), (40, 120), (120, 300))
_PEAK_NFFT = 8192
_PEAK_MIN = int(0.04 * FEATURE_SR)

Array = npt.NDArray[np.float32]


def _names() -> tuple[str, ...]:
    names: list[str] = [f"env_{t}ms" for t in _ENV_TIMES_MS]
    names += [f"decay_{d}db" for d in _DECAY_DB]
    names += ["attack", "temporal_centroid", "duration", "end_level", "crest"]
    for a, b in _SEGMENTS_MS:
        names += [f"mel{k}_{a}_{b}ms" for k in range(N_MELS)]
    for a, b in _SEGMENTS_MS:
        names += [f"{d}_{a}_{b}ms" for d in ("centroid", "rolloff", "flatness", "bandwidth")]
    names += ["flux_mean", "flux_std"] + [f"mod{k}" for k in range(_MOD_GROUPS)]
    names += [f"lowzc_{a}_{b}ms" for a, b in _LOW_SEGMENTS_MS]
    names += [f"lowratio_{a}_{b}ms" for a, b in _LOW_SEGMENTS_MS]
    names += [f"zcr_{a}_{b}ms" for a, b in _SEGMENTS_MS]
    for s in _AC_STARTS_MS:
        names += [f"harm_{s}ms", f"f0_{s}ms"]
    names += ["glide_lowzc", "glide_f0"]
    names += [f"lowpeak_{a}_{b}ms" for a, b in _PEAK_SEGMENTS_MS] + ["glide_lowpeak"]
    return tuple(names)


FEATURE_NAMES: tuple[str, ...] = _names()
N_FEATURES = len(FEATURE_NAMES)


def to_mono(y: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Mono float64 (samples,) from (samples,), (channels, samples) or (samples, channels).

    Non-finite values become 0. A 2-D array whose first axis is longer than 16 while its
    second is ≤ 16 is taken as (samples, channels).
    """
    a = np.asarray(y, dtype=np.float64)
    if a.ndim == 0:
        a = a.reshape(1)
    if a.ndim == 2:
        if a.shape[0] > 16 and a.shape[1] <= 16:
            a = a.T
        a = a.mean(axis=0) if a.shape[0] > 0 else np.zeros(0)
    elif a.ndim > 2:
        raise ValueError(f"audio must be (samples,) or (channels, samples), got shape {a.shape}")
    return np.nan_to_num(a, nan=0.0, posinf=1.0, neginf=-1.0)


def resample(y: npt.NDArray[np.float64], sr: int, target: int = FEATURE_SR) -> npt.NDArray[
        np.float64]:
    """Resample mono ``y`` from ``sr`` to ``target`` Hz (soxr, high quality)."""
    if sr <= 0:
        raise ValueError(f"sample rate must be positive, got {sr}")
    if sr == target or y.size == 0:
        return y
    return np.asarray(soxr.resample(y, sr, target), dtype=np.float64)


def prepare(y: npt.ArrayLike, sr: int) -> Array:
    """Mono float32 (samples,) at FEATURE_SR, onset-aligned, ≤ MAX_SECONDS, peak 1.0.

    The clip starts 1 ms before its onset (:func:`onset`): leading digital silence and a
    recording's leading room noise are dropped. Silence stays silence (all zeros, length
    kept ≥ 1).
    """
    x = resample(to_mono(y), sr)
    if x.size == 0:
        return np.zeros(1, dtype=np.float32)
    peak = float(np.max(np.abs(x)))
    if peak <= 1e-9:
        return np.zeros(min(x.size, int(MAX_SECONDS * FEATURE_SR)), dtype=np.float32)
    start = max(0, onset(x) - FEATURE_SR // 1000)
    x = x[start:start + int(MAX_SECONDS * FEATURE_SR)]
    peak = float(np.max(np.abs(x)))
    return (x / peak).astype(np.float32)


_SILENCE_DB = -50.0  # below the peak: silence, whatever the lead-in
_LEAD_BLOCK = 64  # samples per level block (2.9 ms at FEATURE_SR)
_ABOVE_NOISE_DB = 12.0  # an onset rises this far above a lead-in's noise floor
_NOISE_SPREAD_DB = 6.0  # a lead-in this steady (median - 20th percentile) is noise
_NOISE_MAX_DB = -40.0  # a steady lead-in louder than this is the sound (a consonant)
_RISE_BLOCKS = 4  # the rise above the floor lasts this many blocks (12 ms)


def onset(x: npt.NDArray[np.floating]) -> int:
    """Index (samples) where the sound in mono ``x`` starts; 0 for silence.

    The first sample louder than -50 dB re the peak, or later when the part before the
    sound first comes within 20 dB of its peak is a steady noise floor (a recording's room
    tone, hiss or hum: at least 10 ms whose 2.9-ms block levels spread by < 6 dB between
    their 20th percentile and median): then the first block that starts 12 ms all 12 dB
    above that floor (a lone click in the lead-in is not an onset). A slow swell is
    not steady, so a fade-in is kept.
    """
    a = np.abs(np.asarray(x, dtype=np.float64))
    peak = float(a.max()) if a.size else 0.0
    if peak <= 1e-9:
        return 0
    first = int(np.flatnonzero(a > peak * 10 ** (_SILENCE_DB / 20))[0])
    main = int(np.flatnonzero(a > peak * 0.1)[0])
    n = main // _LEAD_BLOCK
    if n * _LEAD_BLOCK < FEATURE_SR // 100:
        return first
    m = min(a.size // _LEAD_BLOCK, n + _RISE_BLOCKS)
    blocks = np.asarray(x[: m * _LEAD_BLOCK], dtype=np.float64).reshape(m, _LEAD_BLOCK)
    power = np.mean(blocks ** 2, axis=1) / peak ** 2
    lead = _db(power[:n])
    floor, mid = float(np.percentile(lead, 20)), float(np.median(lead))
    if mid - floor > _NOISE_SPREAD_DB or floor > _NOISE_MAX_DB:
        return first
    # the quietest of the next _RISE_BLOCKS blocks from each block on
    level = _db(power)
    held = np.lib.stride_tricks.sliding_window_view(level, min(_RISE_BLOCKS, m)).min(axis=1)
    loud = np.flatnonzero(held > floor + _ABOVE_NOISE_DB)
    return max(first, int(loud[0]) * _LEAD_BLOCK if loud.size else main)


@lru_cache(maxsize=4)
def _mel_bank(sr: int = FEATURE_SR, n_fft: int = N_FFT, n_mels: int = N_MELS,
              fmin: float = 30.0) -> npt.NDArray[np.float64]:
    """Triangular mel filterbank (n_mels, n_fft // 2 + 1), Slaney-style area normalised."""
    def hz_to_mel(f: npt.ArrayLike) -> npt.NDArray[np.float64]:
        return 2595.0 * np.log10(1.0 + np.asarray(f, dtype=np.float64) / 700.0)

    def mel_to_hz(m: npt.ArrayLike) -> npt.NDArray[np.float64]:
        return 700.0 * (10 ** (np.asarray(m, dtype=np.float64) / 2595.0) - 1.0)

    freqs = np.linspace(0, sr / 2, n_fft // 2 + 1)
    edges = mel_to_hz(np.linspace(hz_to_mel(fmin), hz_to_mel(sr / 2), n_mels + 2))
    bank = np.zeros((n_mels, freqs.size))
    for k in range(n_mels):
        lo, c, hi = edges[k], edges[k + 1], edges[k + 2]
        up = (freqs - lo) / max(c - lo, 1e-9)
        down = (hi - freqs) / max(hi - c, 1e-9)
        bank[k] = np.maximum(0.0, np.minimum(up, down))
        # make very narrow low bands catch at least their nearest bin
        if bank[k].sum() == 0:
            bank[k, int(np.argmin(np.abs(freqs - c)))] = 1.0
        bank[k] /= bank[k].sum()
    return bank


@lru_cache(maxsize=1)
def _mel_bank_t() -> npt.NDArray[np.float64]:
    """The filterbank transposed and contiguous (n_fft // 2 + 1, n_mels): a fast matmul."""
    return np.ascontiguousarray(_mel_bank().T)


@lru_cache(maxsize=2)
def _lowpass(sr: int = FEATURE_SR) -> npt.NDArray[np.float64]:
    return np.asarray(butter(4, 300.0, btype="low", fs=sr, output="sos"), dtype=np.float64)


@lru_cache(maxsize=2)
def _window(n: int) -> npt.NDArray[np.float64]:
    return np.hanning(n + 2)[1:-1]


def _db(p: npt.ArrayLike) -> npt.NDArray[np.float64]:
    return np.asarray(10.0 * np.log10(np.maximum(np.asarray(p, dtype=np.float64), 1e-12)))


def _envelope(x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """RMS envelope in dB re its max, hop 64 samples (2.9 ms), floor -80 dB."""
    n = max(1, 1 + (x.size - 1) // _ENV_HOP)
    padded = np.concatenate([x, np.zeros(_ENV_WIN)])
    idx = np.arange(n)[:, None] * _ENV_HOP + np.arange(_ENV_WIN)[None, :]
    rms = np.sqrt(np.mean(padded[idx] ** 2, axis=1))
    env = _db(rms ** 2)
    env -= env.max()
    return np.maximum(env, _FLOOR_DB)


def _stft_power(x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Power spectrogram (frames, N_FFT//2+1); frames centred at k*HOP."""
    pad = N_FFT // 2
    padded = np.concatenate([np.zeros(pad), x, np.zeros(pad)])
    n = max(1, 1 + (padded.size - N_FFT) // HOP)
    idx = np.arange(n)[:, None] * HOP + np.arange(N_FFT)[None, :]
    frames = padded[idx] * _window(N_FFT)[None, :]
    return np.asarray(np.abs(np.fft.rfft(frames, axis=1)) ** 2)


@lru_cache(maxsize=64)
def _window_autocorr(n: int) -> npt.NDArray[np.float64]:
    return np.fft.irfft(np.abs(np.fft.rfft(_window(n), n=2 * _AC_WIN)) ** 2)[:_AC_WIN]


def _autocorr(seg: npt.NDArray[np.float64]) -> tuple[float, float]:
    """(harmonicity 0..1, f0 Hz) of one window by normalised autocorrelation (40–1000 Hz)."""
    if seg.size < 64 or float(np.sum(seg ** 2)) < 1e-10:
        return 0.0, 0.0
    w = seg * _window(seg.size)
    spec = np.fft.rfft(w, n=2 * _AC_WIN)
    r = np.fft.irfft(np.abs(spec) ** 2)[:_AC_WIN]
    # unbiased normalisation against the window's own overlap
    wr = _window_autocorr(seg.size)
    r = r / np.maximum(wr, 1e-9 * wr[0])
    if r[0] <= 0:
        return 0.0, 0.0
    r = r / r[0]
    lo = int(FEATURE_SR / 1000.0)
    hi = min(int(FEATURE_SR / 40.0), seg.size // 2)
    if hi <= lo + 2:
        return 0.0, 0.0
    part = r[lo:hi]
    k = int(np.argmax(part))
    best = float(part[k])
    # prefer the shortest lag whose peak is close to the best (avoid octave errors)
    peaks = np.flatnonzero((part[1:-1] > part[:-2]) & (part[1:-1] >= part[2:])) + 1
    for p in peaks:
        if part[p] >= 0.9 * best:
            k = int(p)
            break
    lag = float(k + lo)
    if 0 < k < part.size - 1:
        a, b, c = part[k - 1], part[k], part[k + 1]
        denom = a - 2 * b + c
        if abs(denom) > 1e-12:
            lag += 0.5 * (a - c) / denom
    return float(np.clip(part[k], 0.0, 1.0)), FEATURE_SR / lag


def _log_f0(f0: float) -> float:
    return float(np.log2(f0 / 20.0) / 6.0) if f0 > 0 else 0.0


def estimate_pitch(y: npt.ArrayLike, sr: int) -> tuple[float, float]:
    """Fundamental frequency (Hz, 0.0 if none) and harmonicity (0..1) of a one-shot.

    Looks at 93 ms windows in the first 0.6 s after the onset and returns the f0 of the most
    periodic one.
    """
    x = prepare(y, sr).astype(np.float64)
    return _best_pitch(x)


def pitch_of_prepared(prepared: npt.NDArray[np.floating]) -> tuple[float, float]:
    """:func:`estimate_pitch` of a clip already passed through :func:`prepare`."""
    return _best_pitch(np.asarray(prepared, dtype=np.float64))


def _best_pitch(x: npt.NDArray[np.float64]) -> tuple[float, float]:
    best = (0.0, 0.0)
    for start_ms in (0, 25, 50, 100, 200, 400):
        s = int(start_ms * FEATURE_SR / 1000)
        if s >= x.size - 256:
            break
        h, f0 = _autocorr(x[s:s + _AC_WIN])
        if h > best[1]:
            best = (f0, h)
    return best


def _low_peak(seg: npt.NDArray[np.float64]) -> float:
    """Frequency (Hz) of the strongest 30–500 Hz spectral peak; 0.0 for a silent window or
    one shorter than 40 ms (too short to resolve low pitches: leakage biases it down)."""
    if seg.size < _PEAK_MIN or float(np.sum(seg ** 2)) < 1e-10:
        return 0.0
    spec = np.abs(np.fft.rfft(seg * _window(seg.size), n=_PEAK_NFFT)) ** 2
    df = FEATURE_SR / _PEAK_NFFT
    lo, hi = int(30 / df), int(500 / df)
    part = spec[lo:hi]
    k = int(np.argmax(part))
    f = (k + lo) * df
    if 0 < k < part.size - 1:
        a, b, c = np.log(part[k - 1:k + 2] + 1e-20)
        denom = a - 2 * b + c
        if abs(denom) > 1e-12:
            f += 0.5 * (a - c) / denom * df
    return float(f)


def _segment_mask(n_frames: int, hop: int, a_ms: float, b_ms: float) -> npt.NDArray[np.bool_]:
    t = np.arange(n_frames) * hop / FEATURE_SR * 1000.0
    return (t >= a_ms) & (t < b_ms)


def extract(y: npt.ArrayLike, sr: int) -> Array:
    """Feature vector float32 (N_FEATURES,) of one clip (see the module docstring).

    ``y``: (samples,) or (channels, samples) float audio at ``sr`` Hz, any length.
    """
    return extract_prepared(prepare(y, sr))


def extract_prepared(prepared: npt.NDArray[np.floating]) -> Array:
    """Features of a clip already passed through :func:`prepare` (saves a second resample)."""
    x = np.asarray(prepared, dtype=np.float64)
    feats: list[float] = []
    ms = FEATURE_SR / 1000.0
    silent = float(np.max(np.abs(x))) <= 0.0

    # --- envelope -------------------------------------------------------------------------
    env = _envelope(x) if not silent else np.full(1, _FLOOR_DB)
    env_ms = np.arange(env.size) * _ENV_HOP / ms
    for t in _ENV_TIMES_MS:
        i = int(round(t * ms / _ENV_HOP))
        feats.append((env[i] if i < env.size else _FLOOR_DB) / -_FLOOR_DB)
    ipk = int(np.argmax(env))
    dur_ms = x.size / ms
    for d in _DECAY_DB:
        below = np.flatnonzero(env[ipk:] < -d)
        td = float(env_ms[ipk + below[0]]) if below.size else dur_ms + 50.0
        feats.append(float(np.log10(1.0 + td)) / 3.5)
    lin = 10 ** (env / 10)
    feats.append(float(np.log10(1.0 + env_ms[ipk])) / 3.5)
    feats.append(float(np.log10(1.0 + np.sum(env_ms * lin) / max(lin.sum(), 1e-12))) / 3.5)
    tail = env > -60.0
    eff_ms = env_ms[np.flatnonzero(tail)[-1]] + _ENV_WIN / ms if tail.any() else 0.0
    feats.append(float(np.log10(1.0 + eff_ms)) / 3.5)
    feats.append(float(np.mean(env[-4:])) / -_FLOOR_DB)
    rms = float(np.sqrt(np.mean(x ** 2)))
    feats.append(float(-_db(rms ** 2 + 1e-12)) / 60.0 if not silent else 0.0)

    # --- spectrum -------------------------------------------------------------------------
    power = _stft_power(x)
    mel = power @ _mel_bank_t()  # (frames, N_MELS)
    freqs = np.linspace(0, FEATURE_SR / 2, power.shape[1])
    seg_mel: list[npt.NDArray[np.float64]] = []
    seg_desc: list[list[float]] = []
    for a, b in _SEGMENTS_MS:
        m = _segment_mask(mel.shape[0], HOP, a, b)
        m &= np.arange(mel.shape[0]) * HOP <= x.size + HOP
        if m.any() and not silent:
            p = power[m].sum(axis=0)
            seg_mel.append(mel[m].sum(axis=0) / m.sum())
            tot = max(float(p.sum()), 1e-20)
            c = float(np.sum(freqs * p) / tot)
            cum = np.cumsum(p) / tot
            roll = float(freqs[min(int(np.searchsorted(cum, 0.85)), freqs.size - 1)])
            flat = float(np.exp(np.mean(np.log(p + 1e-20))) / (np.mean(p) + 1e-20))
            bw = float(np.sqrt(np.sum((freqs - c) ** 2 * p) / tot))
            seg_desc.append([np.log2(max(c, 20.0) / 20.0) / 10.0,
                             np.log2(max(roll, 20.0) / 20.0) / 10.0,
                             flat ** 0.5, np.log2(max(bw, 20.0) / 20.0) / 10.0])
        else:
            seg_mel.append(np.zeros(N_MELS))
            seg_desc.append([0.0, 0.0, 0.0, 0.0])
    ref = max(float(np.max([s.max() for s in seg_mel])), 1e-20)
    for s in seg_mel:
        feats.extend((np.maximum(_db(s / ref), _FLOOR_DB) / -_FLOOR_DB).tolist())
    for desc in seg_desc:
        feats.extend(desc)
    logmel = np.maximum(_db(mel / max(float(mel.max()), 1e-20)), _FLOOR_DB) / -_FLOOR_DB
    active = env.size > 0 and not silent
    if active and logmel.shape[0] > 2:
        lvl = logmel.max(axis=1)
        keep = lvl > -0.6  # frames within 48 dB of the loudest
        lm = logmel[keep] if keep.sum() > 2 else logmel
        flux = np.maximum(np.diff(lm, axis=0), 0).sum(axis=1)
        feats += [float(flux.mean()) / 4.0, float(flux.std()) / 4.0]
        groups = np.array_split(np.arange(N_MELS), _MOD_GROUPS)
        for g in groups:
            band = lm[:, g].mean(axis=1)
            band = band - lm.mean(axis=1)  # spectral shape, not level
            feats.append(float(np.std(np.diff(band))) * 5.0)
    else:
        feats += [0.0] * (2 + _MOD_GROUPS)

    # --- pitch / tonality -------------------------------------------------------------------
    low = sosfilt(_lowpass(), x) if not silent else np.zeros_like(x)
    lz: list[float] = []
    for a, b in _LOW_SEGMENTS_MS:
        seg = low[int(a * ms):int(b * ms)]
        if seg.size > 8 and float(np.sum(seg ** 2)) > 1e-8:
            zc = np.count_nonzero(np.diff(np.signbit(seg)))
            f = zc / 2.0 / (seg.size / FEATURE_SR)
            lz.append(_log_f0(max(f, 20.0)))
        else:
            lz.append(0.0)
    feats += lz
    for a, b in _LOW_SEGMENTS_MS:
        seg = x[int(a * ms):int(b * ms)]
        lseg = low[int(a * ms):int(b * ms)]
        e = float(np.sum(seg ** 2))
        feats.append(float(np.sum(lseg ** 2)) / e if e > 1e-10 else 0.0)
    for a, b in _SEGMENTS_MS:
        seg = x[int(a * ms):int(b * ms)]
        if seg.size > 8 and float(np.sum(seg ** 2)) > 1e-10:
            feats.append(float(np.count_nonzero(np.diff(np.signbit(seg)))) / seg.size * 4.0)
        else:
            feats.append(0.0)
    f0s: list[float] = []
    for s_ms in _AC_STARTS_MS:
        si = int(s_ms * ms)
        h, f0 = _autocorr(x[si:si + _AC_WIN]) if si < x.size else (0.0, 0.0)
        feats += [h, _log_f0(f0)]
        f0s.append(_log_f0(f0) if h > 0.3 else 0.0)
    feats.append((lz[0] - lz[3]) * 3.0 if lz[0] > 0 and lz[3] > 0 else 0.0)
    feats.append((f0s[0] - f0s[1]) * 3.0 if f0s[0] > 0 and f0s[1] > 0 else 0.0)
    pk = [_log_f0(_low_peak(low[int(a * ms):int(b * ms)])) for a, b in _PEAK_SEGMENTS_MS]
    feats += pk
    pk_end = pk[2] if pk[2] > 0 else pk[1]
    feats.append((pk[0] - pk_end) * 3.0 if pk[0] > 0 and pk_end > 0 else 0.0)

    out = np.nan_to_num(np.asarray(feats, dtype=np.float64), nan=0.0, posinf=0.0, neginf=0.0)
    if out.size != N_FEATURES:  # pragma: no cover - guards against editing mistakes
        raise AssertionError(f"feature count {out.size} != {N_FEATURES}")
    return out.astype(np.float32)


PATCH_MELS = 48
PATCH_FRAMES = 64
PATCH_HOP = HOP  # the patch reuses the features' STFT framing (_stft_power)
_PATCH_FLOOR_DB = -80.0


@lru_cache(maxsize=1)
def _patch_bank_t() -> npt.NDArray[np.float64]:
    return np.ascontiguousarray(_mel_bank(FEATURE_SR, N_FFT, PATCH_MELS).T)


def mel_patch(prepared: npt.NDArray[np.floating]) -> Array:
    """Log-mel "image" of a prepared clip for the CNN: float32 (PATCH_MELS, PATCH_FRAMES).

    48 mel bands (30 Hz – 11.025 kHz) × 64 frames (hop 256 at 22 050 Hz = 11.6 ms, so the
    first 0.74 s after the onset). Values are band power in dB re a full-scale sine, of the
    peak-normalised clip, mapped to 0..1 (0 = -80 dB or silence, 1 = +10 dB); frames after
    the clip's end are 0, so
    the patch also shows the length.
    """
    x = np.asarray(prepared, dtype=np.float64)[: PATCH_FRAMES * PATCH_HOP]
    out = np.zeros((PATCH_MELS, PATCH_FRAMES), dtype=np.float32)
    if x.size == 0 or float(np.max(np.abs(x))) <= 0.0:
        return out
    power = _stft_power(x)[:PATCH_FRAMES] / (np.sum(_window(N_FFT) ** 2) / 2)
    n = power.shape[0]
    db = _db(power @ _patch_bank_t())  # (n, PATCH_MELS)
    out[:, :n] = np.clip((db.T - _PATCH_FLOOR_DB) / (10.0 - _PATCH_FLOOR_DB), 0.0, 1.0)
    return out


def extract_many(clips: list[npt.NDArray[np.floating]] | tuple[npt.NDArray[np.floating], ...],
                 sr: int) -> npt.NDArray[np.float32]:
    """Feature matrix float32 (len(clips), N_FEATURES) for clips all at ``sr`` Hz."""
    if len(clips) == 0:
        return np.zeros((0, N_FEATURES), dtype=np.float32)
    return np.stack([extract(c, sr) for c in clips])

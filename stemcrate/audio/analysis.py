"""Track analysis: duration, tempo, key, loudness, peak level and a waveform overview.

Public API
----------
``analyse(y, sr, *, n_peak_bins=2000) -> TrackAnalysis``
    ``y`` is float audio shaped ``(channels, samples)`` in [-1, 1] as returned by
    :func:`stemcrate.audio.decode.load_audio` (a 1-D array is taken as mono), ``sr`` its
    sample rate in Hz. Any channel count and sample rate work (8 kHz … 192 kHz).
``TrackAnalysis``
    Frozen dataclass; ``to_dict()`` gives a JSON-serialisable ``dict`` (peaks as nested
    lists rounded to 4 decimals, ``None`` where a value is undefined).
``estimate_tempo(y, sr) -> TempoEstimate``, ``estimate_key(y, sr) -> KeyEstimate``,
``integrated_loudness(y, sr) -> float | None``, ``true_peak_dbfs(y, sr) -> float | None``,
``waveform_peaks(y, n_bins) -> np.ndarray``
    The pieces ``analyse`` is made of, usable alone.

What each number means
----------------------
duration_s, sample_rate, channels
    Of the array given (``samples / sr``).
bpm, bpm_confidence
    Tempo in beats per minute from the autocorrelation of a spectral-flux onset envelope
    (mono mix at 22 050 Hz, 256-sample hop), see :func:`estimate_tempo`. ``bpm`` is ``None``
    for silence, for clips shorter than 2 s and when no periodicity stands out (speech,
    noise: confidence under 0.1);
    ``bpm_confidence`` is then 0.
key, key_confidence
    ``"F major"`` / ``"A minor"`` style, tonics spelled the common way (majors C Db D Eb E
    F F# G Ab A Bb B; minors C C# D D# E F F# G G# A Bb B), from
    Krumhansl–Kessler profiles correlated with a CQT chroma, see :func:`estimate_key`.
    ``None`` / 0 for silence and unpitched audio.
loudness_lufs
    ITU-R BS.1770-4 integrated (gated) loudness in LUFS, K-weighting filters from
    ``pyloudnorm``. ``None`` (never ``-inf``) when the file is silent (every 400 ms block is
    below the -70 LUFS absolute gate) or shorter than one 400 ms gating block.
true_peak_dbfs
    BS.1770-4 true peak in dBTP: the largest absolute sample value of any channel after
    oversampling to at least 176.4 kHz (×4 below 88.2 kHz, ×2 below 176.4 kHz). ``None`` for
    digital silence.
peaks
    float32 ``(n_bins, 2)``: minimum and maximum of the mono mix (mean of the channels) in
    each of ``n_bins`` equal slices of the file; ``n_bins = min(2000, samples)``.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = [
    "ANALYSIS_SR",
    "KeyEstimate",
    "TempoEstimate",
    "TrackAnalysis",
    "analyse",
    "estimate_key",
    "estimate_tempo",
    "integrated_loudness",
    "true_peak_dbfs",
    "waveform_peaks",
]

FloatArray = npt.NDArray[np.floating[Any]]

#: Sample rate (Hz) of the mono mix that tempo and key are computed on.
ANALYSIS_SR = 22050
#: Sample rate (Hz) the key is computed at (the chroma spans C1–C8, below its Nyquist).
KEY_SR = 11025
#: Hop (samples at ``ANALYSIS_SR``) of the onset envelope: 86.1 frames per second.
TEMPO_HOP = 256
#: Shortest clip (s) a tempo is estimated for; below this ``bpm`` is None.
MIN_TEMPO_DURATION_S = 2.0
#: Clips up to this long (s) are treated as possible loops (see :func:`estimate_tempo`).
MAX_LOOP_DURATION_S = 30.0
#: How far (relative) the audio tempo may be from a whole-bar loop tempo and still snap.
LOOP_SNAP_TOLERANCE = 0.06
#: Weight of a whole-bar loop tempo against the audio's own candidates.
LOOP_WEIGHT = 2.0
#: Audio tempo confidence from which the loop length may only refine (within 1 %), not
#: override, the audio's tempo.
LOOP_MAX_AUDIO_CONFIDENCE = 0.4
#: Log-normal tempo prior: centre (BPM) and width (octaves).
PRIOR_CENTRE_BPM = 110.0
PRIOR_SIGMA_OCTAVES = 0.5
#: Below this confidence nothing is periodic enough to call a tempo (speech, noise, drones).
MIN_TEMPO_CONFIDENCE = 0.1
#: Signals whose mono mix never exceeds this (linear) are treated as silence.
SILENCE_PEAK = 10 ** (-90 / 20)

PITCH_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
_MAJOR_NAMES = ("C", "Db", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
_MINOR_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "Bb", "B")
# Krumhansl & Kessler (1982) probe-tone profiles, tonic first.
_KK_MAJOR = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
_KK_MINOR = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])


@dataclass(frozen=True)
class TempoEstimate:
    """Tempo in BPM (``None`` when there is none to report) and a confidence in [0, 1].

    ``loop_beats`` is the number of beats the clip holds when the tempo was taken from its
    length as a loop (else ``None``).
    """

    bpm: float | None
    confidence: float
    loop_beats: int | None = None


@dataclass(frozen=True)
class KeyEstimate:
    """Key name such as ``"F major"`` (``None`` for unpitched audio), confidence in [0, 1]."""

    key: str | None
    confidence: float


@dataclass(frozen=True)
class TrackAnalysis:
    """Everything :func:`analyse` measures about one track (see the module docstring)."""

    duration_s: float
    sample_rate: int
    channels: int
    bpm: float | None
    bpm_confidence: float
    key: str | None
    key_confidence: float
    loudness_lufs: float | None
    true_peak_dbfs: float | None
    peaks: npt.NDArray[np.float32] = field(repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form: floats rounded sensibly, ``peaks`` as ``[[min, max], …]``."""

        def rnd(v: float | None, nd: int) -> float | None:
            return None if v is None else round(float(v), nd)

        return {
            "duration_s": round(float(self.duration_s), 4),
            "sample_rate": int(self.sample_rate),
            "channels": int(self.channels),
            "bpm": rnd(self.bpm, 2),
            "bpm_confidence": round(float(self.bpm_confidence), 3),
            "key": self.key,
            "key_confidence": round(float(self.key_confidence), 3),
            "loudness_lufs": rnd(self.loudness_lufs, 2),
            "true_peak_dbfs": rnd(self.true_peak_dbfs, 2),
            "peaks": np.round(self.peaks.astype(np.float64), 4).tolist(),
        }


def analyse(y: FloatArray, sr: int, *, n_peak_bins: int = 2000) -> TrackAnalysis:
    """Measure one decoded track.

    Parameters
    ----------
    y : float array, shape ``(channels, samples)`` (or ``(samples,)`` for mono), values in
        [-1, 1], at ``sr`` Hz, as :func:`stemcrate.audio.decode.load_audio` returns it.
    sr : sample rate of ``y`` in Hz.
    n_peak_bins : number of waveform overview bins (fewer for files shorter than that many
        samples).

    Tempo is computed on the mono mix resampled to 22 050 Hz, key at 11 025 Hz;
    loudness and true peak on all channels at the full rate. A 5-minute stereo track takes a
    few seconds on one core.
    """
    arr = _as_2d(y, sr)
    channels, samples = arr.shape
    mono = arr.mean(axis=0, dtype=np.float64).astype(np.float32)
    low = _resample(mono, sr, ANALYSIS_SR)
    tempo = estimate_tempo(low, ANALYSIS_SR)
    key = estimate_key(low, ANALYSIS_SR)
    return TrackAnalysis(
        duration_s=samples / float(sr),
        sample_rate=int(sr),
        channels=int(channels),
        bpm=tempo.bpm,
        bpm_confidence=tempo.confidence,
        key=key.key,
        key_confidence=key.confidence,
        loudness_lufs=integrated_loudness(arr, sr),
        true_peak_dbfs=true_peak_dbfs(arr, sr),
        peaks=waveform_peaks(mono, n_peak_bins),
    )


# --------------------------------------------------------------------------- helpers


def _as_2d(y: FloatArray, sr: int) -> FloatArray:
    arr = np.asarray(y)
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2:
        raise ValueError(f"audio must be shaped (channels, samples), got {arr.shape}")
    if arr.shape[0] > arr.shape[1] and arr.shape[0] > 64:
        raise ValueError(f"audio must be shaped (channels, samples), got {arr.shape}")
    if not np.issubdtype(arr.dtype, np.floating):
        raise ValueError(f"audio must be floating point, got {arr.dtype}")
    if sr <= 0:
        raise ValueError(f"sample rate must be positive, got {sr}")
    return arr


def _resample(x: FloatArray, sr: int, target: int) -> npt.NDArray[np.float32]:
    """1-D ``x`` at ``sr`` Hz → float32 at ``target`` Hz (soxr HQ)."""
    x32 = np.ascontiguousarray(x, dtype=np.float32)
    if sr == target or x32.size == 0:
        return x32
    import soxr

    return np.ascontiguousarray(soxr.resample(x32, sr, target, quality="HQ"), dtype=np.float32)


# --------------------------------------------------------------------------- waveform


def waveform_peaks(mono: FloatArray, n_bins: int = 2000) -> npt.NDArray[np.float32]:
    """Min/max overview of a 1-D signal: float32 ``(min(n_bins, len), 2)``.

    Row ``i`` holds the minimum and maximum sample of slice ``i`` of ``n`` equal slices (slice
    edges at ``round(i * len / n)``). An empty signal gives shape ``(0, 2)``.
    """
    x = np.asarray(mono, dtype=np.float32).reshape(-1)
    n = min(int(n_bins), x.size)
    if n <= 0:
        return np.zeros((0, 2), dtype=np.float32)
    edges = np.round(np.arange(n) * (x.size / n)).astype(np.int64)
    out = np.empty((n, 2), dtype=np.float32)
    out[:, 0] = np.minimum.reduceat(x, edges)
    out[:, 1] = np.maximum.reduceat(x, edges)
    return out


# --------------------------------------------------------------------------- loudness


def _channel_weights(channels: int) -> npt.NDArray[np.float64]:
    """BS.1770-4 channel weights for the usual WAV channel orders.

    1–3 channels (mono, L R, L R C): 1.0 each. 4 (quad FL FR BL BR): surrounds 1.41.
    5 (L R C Ls Rs, pyloudnorm's order): 1, 1, 1, 1.41, 1.41. 6 (5.1 L R C LFE Ls Rs): the LFE
    is left out. 8 (7.1 L R C LFE BL BR SL SR): LFE out, the four surrounds 1.41. Any other
    count: 1.0 each.
    """
    table: dict[int, list[float]] = {
        4: [1.0, 1.0, 1.41, 1.41],
        5: [1.0, 1.0, 1.0, 1.41, 1.41],
        6: [1.0, 1.0, 1.0, 0.0, 1.41, 1.41],
        8: [1.0, 1.0, 1.0, 0.0, 1.41, 1.41, 1.41, 1.41],
    }
    return np.asarray(table.get(channels, [1.0] * channels), dtype=np.float64)


def integrated_loudness(y: FloatArray, sr: int) -> float | None:
    """ITU-R BS.1770-4 integrated loudness of ``y`` (``(channels, samples)``) in LUFS.

    K-weighting (pyloudnorm's filters at ``sr``), 400 ms blocks with 75 % overlap, absolute
    gate -70 LUFS, relative gate -10 LU; block positions as pyloudnorm computes them, so
    mono, stereo and 5-channel results equal ``pyloudnorm.Meter(sr).integrated_loudness``.
    Channel weights: see :func:`_channel_weights` (5.1 and 7.1 leave the LFE out).

    Returns ``None`` for silence (no block above the absolute gate) and for signals shorter
    than one 400 ms block.
    """
    import pyloudnorm
    from scipy.signal import sosfilt, tf2sos

    arr = _as_2d(y, sr)
    channels, samples = arr.shape
    block = 0.4
    if samples < block * sr or not np.any(arr):
        return None
    meter = pyloudnorm.Meter(sr)
    # pyloudnorm's two K-weighting biquads (pre-filter shelf, RLB high-pass), run as one
    # second-order-section cascade in float64
    sos = np.vstack([tf2sos(stage.b, stage.a) for stage in meter._filters.values()])
    arr = sosfilt(sos, arr.astype(np.float64), axis=-1)
    step = 0.25
    duration = samples / sr
    n_blocks = int(np.round((duration - block) / (block * step))) + 1
    j = np.arange(n_blocks)
    lo = (block * (j * step) * sr).astype(np.int64)
    hi = (block * (j * step + 1) * sr).astype(np.int64)
    hi = np.minimum(hi, samples)
    csum = np.concatenate([np.zeros((channels, 1)), np.cumsum(arr * arr, axis=-1)], axis=-1)
    z = (csum[:, hi] - csum[:, lo]) / (block * sr)  # (channels, blocks) mean squares
    weights = _channel_weights(channels)
    power = weights @ z
    with np.errstate(divide="ignore"):
        loud = -0.691 + 10.0 * np.log10(power)
    gated = loud >= -70.0
    if not np.any(gated):
        return None
    rel = -0.691 + 10.0 * np.log10(weights @ z[:, gated].mean(axis=1)) - 10.0
    final = (loud > rel) & (loud > -70.0)
    if not np.any(final):
        return None
    value = -0.691 + 10.0 * np.log10(weights @ z[:, final].mean(axis=1))
    return float(value) if math.isfinite(value) else None


# --------------------------------------------------------------------------- true peak


def true_peak_dbfs(y: FloatArray, sr: int) -> float | None:
    """BS.1770-4 true peak of ``y`` (``(channels, samples)``) in dBTP (dB re full scale).

    Each channel is oversampled (soxr HQ) ×4 below 88.2 kHz and ×2 below 176.4 kHz; the
    result is the largest absolute value seen, never below the sample peak. Only blocks whose
    sample peak is within 6 dB of the running maximum are oversampled (an inter-sample peak
    cannot exceed its neighbourhood's sample peak by more than the interpolator's gain), so
    quiet passages cost nothing. ``None`` for digital silence.
    """
    arr = _as_2d(y, sr)
    peak = float(np.max(np.abs(arr))) if arr.size else 0.0
    if peak <= 0.0:
        return None
    factor = 4 if sr < 88200 else 2 if sr < 176400 else 1
    best = peak
    if factor > 1:
        import soxr

        blk, margin = 8192, 64
        samples = arr.shape[1]
        n_blocks = -(-samples // blk)
        padded = np.zeros((arr.shape[0], n_blocks * blk), dtype=np.float32)
        padded[:, :samples] = arr
        block_peaks = np.abs(padded).reshape(arr.shape[0], n_blocks, blk).max(axis=-1)
        order = np.argsort(block_peaks, axis=None)[::-1]
        bound = 10 ** (6.0 / 20.0)
        for flat in order:
            ch, b = divmod(int(flat), n_blocks)
            if block_peaks[ch, b] * bound <= best:
                break
            start = max(0, b * blk - margin)
            stop = min(samples, (b + 1) * blk + margin)
            seg = np.ascontiguousarray(arr[ch, start:stop], dtype=np.float32)
            up = soxr.resample(seg, sr, sr * factor, quality="HQ")
            lo = (b * blk - start) * factor
            hi = lo + blk * factor
            best = max(best, float(np.max(np.abs(up[lo:hi]))) if up[lo:hi].size else best)
    return 20.0 * math.log10(best)


# --------------------------------------------------------------------------- tempo


def _onset_envelope(y: npt.NDArray[np.float32], sr: int) -> npt.NDArray[np.float64]:
    """Spectral flux of a log-mel spectrogram: float64 ``(frames,)`` at ``sr / TEMPO_HOP``."""
    import librosa

    mel = librosa.feature.melspectrogram(
        y=y, sr=sr, n_fft=1024, hop_length=TEMPO_HOP, n_mels=96, fmax=min(11025.0, sr / 2)
    )
    log_mel = librosa.power_to_db(mel, ref=np.max, top_db=80.0)
    env = librosa.onset.onset_strength(S=log_mel, sr=sr, hop_length=TEMPO_HOP)
    return np.asarray(env, dtype=np.float64)


def _autocorrelation(env: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Unbiased autocorrelation of the mean-removed envelope, normalised to 1 at lag 0."""
    x = env - env.mean()
    n = x.size
    spec = np.fft.rfft(x, 2 * n)
    ac = np.fft.irfft(spec * np.conj(spec), 2 * n)[:n]
    ac = ac / (n - np.arange(n))
    if ac[0] <= 0:
        return np.zeros(n)
    return np.asarray(ac / ac[0], dtype=np.float64)


def _refine_lag(ac: npt.NDArray[np.float64], lag: float) -> float:
    """Sub-frame beat period (frames) from the autocorrelation peaks at 1, 2, 3, 4 × lag."""
    n = ac.size
    estimates: list[tuple[float, float]] = []
    for k in (1, 2, 3, 4):
        centre = k * lag
        half = max(2, int(round(0.04 * centre)))
        lo, hi = int(centre) - half, int(centre) + half + 1
        if lo < 1 or hi >= n - 1 or centre > 0.5 * n:
            break
        i = lo + int(np.argmax(ac[lo:hi]))
        if i <= lo or i >= hi - 1:
            continue  # no interior maximum near this multiple
        a, b, c = ac[i - 1], ac[i], ac[i + 1]
        denom = a - 2 * b + c
        offset = 0.5 * (a - c) / denom if denom < 0 else 0.0
        if b > 0:
            estimates.append(((i + offset) / k, b * k))
    if not estimates:
        return lag
    vals = np.array([e[0] for e in estimates])
    wts = np.array([e[1] for e in estimates])
    return float(np.sum(vals * wts) / np.sum(wts))


def estimate_tempo(y: FloatArray, sr: int) -> TempoEstimate:
    """Tempo of a mono signal ``y`` (1-D, or ``(1, samples)``) at ``sr`` Hz.

    Method
    ------
    1. Onset envelope: spectral flux of a 96-band log-mel spectrogram (the signal is resampled
       to 22 050 Hz first if needed), hop 256 samples (11.6 ms).
    2. Salience of every tempo ``T`` in 30–300 BPM from the envelope's unbiased
       autocorrelation ``ac`` (1 at lag 0) at the beat period ``P``:
       ``s(T) = ac(P) + 0.5 * max(ac(2P), ac(3P))`` (a beat is backed by a duple or triple
       bar-level periodicity).
    3. Metrical grid, then octave: the beat period between 60 and 200 BPM whose levels
       (P/2, P, 2P or 3P, 4P or 6P) hold the most autocorrelation fixes the grid (so a
       dotted or triplet relative cannot win); of its members T/2, T and 2T (each at the
       salience peak within 4 %, and only those whose own ``ac`` is at least half the best
       member's) the one with the largest ``s(T)`` × a log-normal tempo prior centred on
       110 BPM (σ = half an octave: 70 and 180 BPM keep about 40 % weight, 45 and 270 BPM
       5 %) is the tempo, so the 70–180 band wins unless the audio clearly says otherwise.
       Within that band the octave can still be ambiguous (a 160 BPM rock beat may read as
       80, 75 BPM with busy hi-hats as 150).
    4. Sub-frame precision from the autocorrelation peaks at 1–4 beat periods.
    5. Loops: a clip up to 30 s that starts on a sound (loud in its first 30 ms, or an
       onset within 0.17 s) may be a loop cut to whole bars: 1, 2, 4, 8 or 16 bars of 4/4.
       When the audio's periodicity is weak (confidence under 0.4, e.g. a loosely played
       phrase), those tempi compete with the audio's pick, scored by the best salience
       within 6 % of them (a phrase drifts) times the prior times 2: the length of a loop
       measures its tempo far more precisely than a few seconds of loose onsets (the
       assumption DAWs make when they warp a short loop). When the audio is clearly
       periodic, a loop tempo only replaces an audio tempo within 1 % of it (exact value).
       When a loop tempo wins, it is reported exactly and ``loop_beats`` is set.

    ``confidence`` is the prominence of the chosen period in the autocorrelation: its value
    (1 = perfectly periodic) above the median over 30–300 BPM, scaled so that the median maps
    to 0 and 1 to 1, clipped to [0, 1]. ``bpm`` is ``None`` with confidence 0 for silence,
    clips under 2 s and when nothing is periodic (confidence under
    :data:`MIN_TEMPO_CONFIDENCE`, 0.1: speech, noise, drones).
    """
    x = np.asarray(y, dtype=np.float32).reshape(-1)
    if sr != ANALYSIS_SR:
        x = _resample(x, sr, ANALYSIS_SR)
    sr = ANALYSIS_SR
    duration = x.size / float(sr)
    none = TempoEstimate(None, 0.0)
    if duration < MIN_TEMPO_DURATION_S or not np.any(np.abs(x) > SILENCE_PEAK):
        return none
    env = _onset_envelope(x, sr)
    if env.size < 8 or float(np.max(env)) <= 1e-6:
        return none
    fps = sr / TEMPO_HOP
    ac = _autocorrelation(env)
    frames = np.arange(ac.size, dtype=np.float64)

    def at(lag: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        return np.interp(lag, frames, ac, right=0.0)

    grid = 30.0 * 2.0 ** (np.arange(0, int(math.log2(10.0) * 240) + 1) / 240.0)  # 30…300
    lags = 60.0 * fps / grid
    raw = at(lags)
    sal = raw + 0.5 * np.maximum(at(2.0 * lags), at(3.0 * lags))
    prior = np.exp(-0.5 * (np.log2(grid / PRIOR_CENTRE_BPM) / PRIOR_SIGMA_OCTAVES) ** 2)
    median = float(np.median(raw))

    logs = np.log2(grid)

    def best_near(tempo: float, tol: float) -> int | None:
        near = np.flatnonzero(np.abs(logs - math.log2(tempo)) <= tol)
        return None if near.size == 0 else int(near[np.argmax(sal[near])])

    # 3a. metrical grid: the beat period whose levels (P/2, P, 2P or 3P, 4P or 6P) hold the
    #     most autocorrelation, searched over 60-200 BPM
    fam_lags = lags[(grid >= 60.0) & (grid <= 200.0)]
    family = (at(fam_lags / 2) + at(fam_lags) + np.maximum(at(2 * fam_lags), at(3 * fam_lags))
              + np.maximum(at(4 * fam_lags), at(6 * fam_lags)))
    if family.size == 0 or float(np.max(family)) <= 0.0:
        return none
    base = 60.0 * fps / float(fam_lags[int(np.argmax(family))])
    # 3b. octave: the member of that grid (T/2, T, 2T) with the best salience × prior
    #     (a member whose own autocorrelation is under half the best member's is no beat)
    members = [i for m in (base / 2.0, base, base * 2.0)
               if (i := best_near(m, math.log2(1.04))) is not None]
    top = max((float(raw[i]) for i in members), default=0.0)
    candidates: list[tuple[float, float, int | None]] = [
        (float(sal[i] * prior[i]), float(grid[i]), None)
        for i in members if sal[i] > 0.0 and raw[i] >= 0.5 * top
    ]
    if not candidates:
        return none

    def confidence(period: float) -> float:
        value = float(at(np.array([period]))[0])
        return float(np.clip((value - median) / max(1e-9, 1.0 - median), 0.0, 1.0))

    score, choice, _ = max(candidates)
    period = _refine_lag(ac, 60.0 * fps / choice)
    bpm, conf = 60.0 * fps / period, confidence(period)
    loop_beats: int | None = None
    # 5. loops
    if duration <= MAX_LOOP_DURATION_S and _starts_on_sound(x, env, fps):
        loops: list[tuple[float, float, int]] = []
        for tempo, beats in _loop_tempi(duration):
            if conf >= LOOP_MAX_AUDIO_CONFIDENCE:
                # precise audio: the loop length only refines a tempo it already agrees with
                if abs(math.log(tempo / bpm)) <= math.log1p(0.01):
                    loops.append((score, tempo, beats))
                continue
            i = best_near(tempo, math.log2(1.0 + LOOP_SNAP_TOLERANCE))
            if i is not None and sal[i] > 0.0 and raw[i] >= 0.5 * top:
                weight = float(np.exp(-0.5 * (math.log2(tempo / PRIOR_CENTRE_BPM)
                                              / PRIOR_SIGMA_OCTAVES) ** 2))
                loops.append((LOOP_WEIGHT * float(sal[i]) * weight, tempo, beats))
        if loops:
            loop_score, loop_tempo, beats = max(loops)
            if loop_score >= score:
                bpm, loop_beats = loop_tempo, beats
                # the confidence of the audio's own best period near the loop tempo
                near = np.abs(np.log2(grid / bpm)) <= math.log2(1.0 + LOOP_SNAP_TOLERANCE)
                conf = confidence(float(lags[near][int(np.argmax(raw[near]))]))
    if conf < MIN_TEMPO_CONFIDENCE:
        return none
    return TempoEstimate(float(bpm), conf, loop_beats)


def _starts_on_sound(x: npt.NDArray[np.float32], env: npt.NDArray[np.float64],
                     fps: float) -> bool:
    """True when the clip starts on a sound, as a loop cut on a downbeat does: it is already
    loud in its first 30 ms (≥ 30 % of its loudest frame's RMS), or its first strong onset
    (≥ 30 % of the largest) comes within 0.17 s (a 16th note at 90 BPM)."""
    frame = TEMPO_HOP * 4
    n = x.size // TEMPO_HOP
    if n == 0:
        return False
    rms = np.sqrt(np.mean(np.square(x[: n * TEMPO_HOP].reshape(n, TEMPO_HOP),
                                    dtype=np.float64), axis=1))
    head = float(np.sqrt(np.mean(np.square(x[:frame], dtype=np.float64))))
    if float(np.max(rms)) > 0 and head >= 0.3 * float(np.max(rms)):
        return True
    strong = np.flatnonzero(env >= 0.3 * float(np.max(env)))
    return bool(strong.size) and strong[0] <= 0.17 * fps


def _loop_tempi(duration: float) -> list[tuple[float, int]]:
    """Tempi (BPM, beats) at which ``duration`` seconds hold 1, 2, 4, 8 or 16 whole bars of
    4/4, within 30–300 BPM."""
    out = []
    for bars in (1, 2, 4, 8, 16):
        beats = 4 * bars
        tempo = 60.0 * beats / duration
        if 30.0 <= tempo <= 300.0:
            out.append((tempo, beats))
    return out


# --------------------------------------------------------------------------- key


def estimate_key(y: FloatArray, sr: int) -> KeyEstimate:
    """Musical key of a mono signal ``y`` (1-D) at ``sr`` Hz (resampled to 11 025 Hz).

    A constant-Q chromagram (36 bins per octave, hop 93 ms, C1–C8, no per-frame
    normalisation, so loud passages count more) is summed over time, square-root compressed
    and correlated (Pearson) with the 24 rotations of the Krumhansl–Kessler major and minor
    profiles. ``confidence`` is the margin of the best correlation ``r1`` over the runner-up
    ``r2`` relative to the room left to a perfect fit: ``(r1 - r2) / (1 - r2)``, clipped to
    [0, 1] (relative major/minor pairs share most notes, so their margin is small by
    nature). ``None`` / 0 for silence,
    clips under 0.5 s and chroma that fits no key (``r1 <= 0``).
    """
    import librosa

    x = np.asarray(y, dtype=np.float32).reshape(-1)
    if sr != KEY_SR:
        x = _resample(x, sr, KEY_SR)
    sr = KEY_SR
    if x.size < 0.5 * sr or not np.any(np.abs(x) > SILENCE_PEAK):
        return KeyEstimate(None, 0.0)
    with warnings.catch_warnings():  # "empty frequency set" from the tuning estimate
        warnings.simplefilter("ignore", UserWarning)
        chroma = librosa.feature.chroma_cqt(
            y=x, sr=sr, hop_length=1024, norm=None, fmin=librosa.note_to_hz("C1"),
            n_octaves=7, bins_per_octave=36,
        )
    profile = np.sqrt(np.maximum(chroma.sum(axis=1), 0.0))
    if float(np.max(profile)) <= 0.0 or float(np.std(profile)) <= 1e-9 * float(np.max(profile)):
        return KeyEstimate(None, 0.0)
    scores = np.empty(24)
    for tonic in range(12):
        scores[tonic] = np.corrcoef(profile, np.roll(_KK_MAJOR, tonic))[0, 1]
        scores[12 + tonic] = np.corrcoef(profile, np.roll(_KK_MINOR, tonic))[0, 1]
    order = np.argsort(scores)[::-1]
    r1, r2 = float(scores[order[0]]), float(scores[order[1]])
    if not math.isfinite(r1) or r1 <= 0.0:
        return KeyEstimate(None, 0.0)
    best = int(order[0])
    name = f"{_MAJOR_NAMES[best]} major" if best < 12 else f"{_MINOR_NAMES[best - 12]} minor"
    conf = float(np.clip((r1 - r2) / max(1e-9, 1.0 - r2), 0.0, 1.0))
    return KeyEstimate(name, conf)

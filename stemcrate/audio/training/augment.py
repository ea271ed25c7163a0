"""Audio augmentation for training one-shots (all at 22 050 Hz, float64 mono).

:func:`augment` applies a random chain: varispeed pitch shift (±5 semitones; the length
changes with it, like a sampler), EQ (high/low-pass, tilt), saturation, reverb (decaying
noise impulse response), stem bleed (another clip 15–30 dB down), a recording's noise
floor (hiss, room tone, rumble or hum 38–72 dB down, often with lead-in and tail), onset
chop (0–4 ms cut off the front), loop context for drum hits (the still-ringing tail of an
earlier hit under this one, as a drum slicer cuts a hit out of a groove: a tom played right
after a lower tom, a hat over a ringing crash; the new hit stays the loudest onset and the
label stays its own), truncation to short grains (per label: never shorter than what keeps
the label true — an open hat cut to 30 ms is a closed hat), more often in loop context, where
the next hit cuts the slice, and for melodic and bass notes a grain cut from inside the note
(no attack: what a slicer chops out of a held note or chord, as vocal chops are cut out of
words; without it every attack-less harmonic grain looks like a voice).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy.signal import butter, fftconvolve, sosfilt

from stemcrate.audio.features import FEATURE_SR, resample
from stemcrate.audio.training.voice import chop

SR = FEATURE_SR
F64 = npt.NDArray[np.float64]

#: shortest truncation (seconds) that keeps each label true; None = never truncate
MIN_TRUNC: dict[str, float | None] = {
    "kick": 0.03, "snare": 0.03, "clap": 0.04, "hihat_closed": 0.02, "hihat_open": 0.25,
    "cymbal": 0.4, "tom": 0.05, "percussion": 0.02, "bass": 0.04, "vocal": 0.005,
    "melodic": 0.04, "fx": 0.15,
}


def _filter(x: F64, kind: str, f: float, order: int = 2) -> F64:
    f = float(np.clip(f, 20.0, SR / 2 * 0.95))
    return np.asarray(sosfilt(butter(order, f, btype=kind, fs=SR, output="sos"), x))


def pitch_shift(x: F64, semitones: float) -> F64:
    """Varispeed: resample so the pitch moves by ``semitones`` (length scales inversely)."""
    factor = 2.0 ** (semitones / 12.0)
    return resample(x, int(round(SR * factor)), SR)


def reverb(x: F64, rng: np.random.Generator) -> F64:
    t60 = rng.uniform(0.15, 1.2)
    n = int(t60 * SR)
    ir = rng.standard_normal(n) * np.exp(-6.9 * np.arange(n) / n)
    ir = _filter(ir, "low", rng.uniform(3000, 10000))
    ir /= np.sqrt(np.sum(ir ** 2)) + 1e-12
    wet = fftconvolve(x, ir)[: x.size + n // 2]
    mix = rng.uniform(0.1, 0.45)
    dry = np.concatenate([x, np.zeros(wet.size - x.size)])
    return np.asarray((1 - mix) * dry + mix * wet * (np.max(np.abs(x)) / (np.max(np.abs(wet))
                                                                          + 1e-12)))


#: how often a tonal clip becomes a grain cut from inside it (:func:`.voice.chop`)
MID_GRAIN_P: dict[str, float] = {"melodic": 0.35, "bass": 0.2}


#: labels of drum hits that get loop context (an earlier hit's tail under them)
DRUM_LABELS = frozenset({"kick", "snare", "clap", "hihat_closed", "hihat_open", "cymbal", "tom",
                         "percussion"})
#: how often a drum hit gets loop context; toms more often (the kick↔tom confusion: a tom
#: over a lower tom's tail sounds like a falling pitch)
LOOP_CONTEXT_P: dict[str, float] = {"tom": 0.6}
LOOP_CONTEXT_DEFAULT_P = 0.3
#: labels whose earlier hit is often the same instrument (tom fills)
SAME_BEFORE = frozenset({"tom"})


def with_previous_hit(y: F64, prev: F64, rng: np.random.Generator) -> F64:
    """``y`` (peak-normalised) with the tail of the earlier hit ``prev`` under it.

    The tail starts 40–400 ms into ``prev`` and 0–4 ms before ``y``'s onset (a slicer's
    pre-roll); its level where the slice starts is 3–24 dB below ``y``'s peak.
    """
    start = int(rng.uniform(0.04, 0.4) * SR)
    if start >= prev.size - 64:
        return y
    tail = prev[start:]
    level = float(np.max(np.abs(tail[: int(0.01 * SR)])))
    if level <= 1e-9:
        return y
    pre = int(rng.uniform(0.0, 0.004) * SR)
    out = np.zeros(pre + y.size)
    out[pre:] = y / (np.max(np.abs(y)) + 1e-12)
    n = min(tail.size, out.size)
    out[:n] += tail[:n] / level * 10 ** (-rng.uniform(3, 24) / 20)
    return out


#: how often a variant gets a recording's noise floor (:func:`with_noise_floor`)
NOISE_FLOOR_P = 0.35


def noise_floor(n: int, rng: np.random.Generator) -> F64:
    """``n`` samples of a recording's background, unit RMS: white hiss, pink room tone,
    brown rumble or mains hum (50 or 60 Hz and harmonics over faint hiss)."""
    kind = rng.random()
    if kind < 0.7:  # white / pink / brown: a 1/f^a power spectrum
        a = (0.0, 1.0, 2.0)[int(rng.integers(0, 3))]
        f = np.arange(n // 2 + 1, dtype=np.float64) + 1.0
        y = np.fft.irfft(np.fft.rfft(rng.standard_normal(n)) / f ** (a / 2), n)
    else:
        t = np.arange(n) / SR
        mains = (50.0, 60.0)[int(rng.integers(0, 2))]
        y = 0.1 * rng.standard_normal(n)
        for k in range(1, 6):  # the mains frequency and its harmonics
            y += rng.uniform(0.1, 1.0) / k * np.sin(2 * np.pi * mains * k * t
                                                    + rng.uniform(0, 2 * np.pi))
    return np.asarray(y / (np.sqrt(np.mean(y ** 2)) + 1e-12))


def with_noise_floor(y: F64, rng: np.random.Generator) -> F64:
    """``y`` (peak ≈ 1) as a recording hands it over: a noise floor 38–72 dB below the peak
    under the whole clip, often with 0–0.6 s of it before the sound and 0–0.4 s after."""
    pre = int(rng.uniform(0.0, 0.6) * SR) if rng.random() < 0.5 else 0
    post = int(rng.uniform(0.0, 0.4) * SR) if rng.random() < 0.5 else 0
    out = np.concatenate([np.zeros(pre), y, np.zeros(post)])
    peak = float(np.max(np.abs(y))) + 1e-12
    return out + noise_floor(out.size, rng) * peak * 10 ** (-rng.uniform(38, 72) / 20)


def augment(x: F64, label: str, rng: np.random.Generator,
            bleed: F64 | None = None, previous: F64 | None = None) -> F64:
    """One random augmented variant of clip ``x`` (label decides the allowed truncation).

    ``bleed``: any other clip (mixed in 15–30 dB down); ``previous``: another drum hit whose
    tail may ring under ``x`` (loop context, drum labels only).
    """
    y = x.copy()
    if rng.random() < 0.5:
        lim = 2.0 if label in ("hihat_closed", "hihat_open", "cymbal") else 5.0
        y = pitch_shift(y, rng.uniform(-lim, lim))
    if rng.random() < 0.5:
        r = rng.random()
        if r < 0.35:
            y = _filter(y, "low", float(np.exp(rng.uniform(np.log(1500), np.log(10000)))))
        elif r < 0.7:
            y = _filter(y, "high", float(np.exp(rng.uniform(np.log(30), np.log(300)))))
        else:  # tilt: blend with a low-passed copy
            lp = _filter(y, "low", rng.uniform(500, 3000), 1)
            a = rng.uniform(-0.6, 0.6)
            y = y + a * lp
    if rng.random() < 0.3:
        d = rng.uniform(1.5, 8.0)
        y = np.tanh(d * y / (np.max(np.abs(y)) + 1e-12)) / np.tanh(d)
    if rng.random() < 0.25:
        y = reverb(y, rng)
    peak = float(np.max(np.abs(y))) + 1e-12
    y = y / peak
    if bleed is not None and rng.random() < 0.2:
        b = bleed[: y.size] / (np.max(np.abs(bleed)) + 1e-12)
        off = int(rng.integers(0, max(1, y.size // 2)))
        b = b[: y.size - off]
        y[off:off + b.size] += b * 10 ** (-rng.uniform(15, 30) / 20)
    if rng.random() < 0.3:
        y = y[int(rng.uniform(0, 0.004) * SR):]
    in_loop = (previous is not None and label in DRUM_LABELS
               and rng.random() < LOOP_CONTEXT_P.get(label, LOOP_CONTEXT_DEFAULT_P))
    if in_loop and previous is not None:
        y = with_previous_hit(y, previous, rng)
    lo = MIN_TRUNC.get(label)
    p_trunc = 0.5 if label == "vocal" or in_loop else 0.15
    if rng.random() < MID_GRAIN_P.get(label, 0.0):
        grains = chop(y, 1, rng)
        y = grains[0] if grains else y
    elif lo is not None and rng.random() < p_trunc:
        dur = float(np.exp(rng.uniform(np.log(lo), np.log(max(lo * 1.01, 0.6)))))
        n = max(int(dur * SR), 16)
        if n < y.size:
            y = y[:n].copy()
            f = min(int(0.003 * SR), n // 4)
            if f > 0:
                y[-f:] *= np.linspace(1, 0, f)
    if rng.random() < NOISE_FLOOR_P:  # last: a lead-in is never what truncation keeps
        y = with_noise_floor(y, rng)
    y *= 10 ** (rng.uniform(-20, 0) / 20)
    return y

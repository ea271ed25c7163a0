"""Synthesised one-shots: 808/909-style drums, percussion, fx, synth basses and synth notes.

Every generator takes a seeded ``numpy.random.Generator`` and returns float64 mono audio
(samples,) at :data:`SR` (22 050 Hz), peak ≈ 1. :func:`generate` draws ``n`` clips of one
label and returns ``(clips, electronic_flags)``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt
from scipy.signal import butter, sosfilt

from stemcrate.audio.features import FEATURE_SR

SR = FEATURE_SR
F64 = npt.NDArray[np.float64]
Gen = Callable[[np.random.Generator], F64]


def _t(seconds: float) -> F64:
    return np.arange(int(seconds * SR)) / SR


def _norm(y: F64) -> F64:
    peak = float(np.max(np.abs(y))) if y.size else 0.0
    return y / peak if peak > 0 else y


def _bp(x: F64, lo: float, hi: float, order: int = 2) -> F64:
    hi = min(hi, SR / 2 * 0.95)
    lo = min(max(lo, 10.0), hi * 0.9)
    return np.asarray(sosfilt(butter(order, [lo, hi], btype="band", fs=SR, output="sos"), x))


def _hp(x: F64, f: float, order: int = 2) -> F64:
    return np.asarray(sosfilt(butter(order, min(f, SR / 2 * 0.95), btype="high", fs=SR,
                                     output="sos"), x))


def _lp(x: F64, f: float, order: int = 2) -> F64:
    return np.asarray(sosfilt(butter(order, min(f, SR / 2 * 0.95), btype="low", fs=SR,
                                     output="sos"), x))


def _osc(freq: F64 | float, n: int, shape: str = "sine", phase: float = 0.0) -> F64:
    f = np.broadcast_to(np.asarray(freq, dtype=np.float64), (n,))
    ph = 2 * np.pi * np.cumsum(f) / SR + phase
    if shape == "sine":
        return np.sin(ph)
    if shape == "square":
        return np.sign(np.sin(ph))
    if shape == "saw":
        return 2 * ((ph / (2 * np.pi)) % 1.0) - 1
    if shape == "tri":
        return 2 * np.abs(2 * ((ph / (2 * np.pi)) % 1.0) - 1) - 1
    raise ValueError(shape)


def _sat(y: F64, rng: np.random.Generator, p: float = 0.4) -> F64:
    if rng.random() < p:
        d = rng.uniform(1.5, 6.0)
        return np.tanh(d * y) / np.tanh(d)
    return y


def kick(rng: np.random.Generator) -> F64:
    """808/909-style kick: sine with an exponential pitch glide, click, optional drive."""
    style = rng.choice(["808", "909", "punch"])
    if style == "808":
        f_end, ratio, tau_f, tau_a = rng.uniform(38, 62), rng.uniform(1.5, 3.5), rng.uniform(
            0.01, 0.05), rng.uniform(0.15, 0.9)
    elif style == "909":
        f_end, ratio, tau_f, tau_a = rng.uniform(45, 70), rng.uniform(2.5, 5), rng.uniform(
            0.005, 0.02), rng.uniform(0.08, 0.3)
    else:
        f_end, ratio, tau_f, tau_a = rng.uniform(45, 80), rng.uniform(3, 8), rng.uniform(
            0.003, 0.015), rng.uniform(0.05, 0.18)
    t = _t(min(2.0, tau_a * 6 + 0.05))
    f = f_end * (1 + (ratio - 1) * np.exp(-t / tau_f))
    y = _osc(f, t.size) * np.exp(-t / tau_a)
    if rng.random() < 0.7:
        click = _hp(rng.standard_normal(t.size), rng.uniform(1000, 4000)) * np.exp(
            -t / rng.uniform(0.002, 0.008))
        y += click * rng.uniform(0.1, 0.5)
    return _norm(_sat(y, rng, 0.5))


def tom(rng: np.random.Generator) -> F64:
    """Electronic / synthetic tom: sine 80–320 Hz, mild downward glide, some noise."""
    f_end = float(np.exp(rng.uniform(np.log(80), np.log(320))))
    t = _t(rng.uniform(0.3, 1.2))
    f = f_end * (1 + rng.uniform(0.05, 0.6) * np.exp(-t / rng.uniform(0.02, 0.1)))
    tau = rng.uniform(0.08, 0.4)
    y = _osc(f, t.size) * np.exp(-t / tau)
    y += 0.3 * _osc(f * rng.uniform(1.4, 1.6), t.size) * np.exp(-t / (tau * 0.6)) * rng.random()
    y += rng.uniform(0, 0.3) * _bp(rng.standard_normal(t.size), 300, 3000) * np.exp(-t / 0.03)
    return _norm(_sat(y, rng, 0.3))


def snare(rng: np.random.Generator) -> F64:
    """808/909-style snare: one or two tones 150–330 Hz plus band-passed noise."""
    t = _t(rng.uniform(0.25, 0.6))
    f = rng.uniform(150, 330)
    tone = _osc(f * (1 + 0.2 * np.exp(-t / 0.01)), t.size) * np.exp(-t / rng.uniform(0.03, 0.12))
    tone += rng.random() * _osc(f * rng.uniform(1.4, 1.9), t.size) * np.exp(-t / 0.05)
    noise = _bp(rng.standard_normal(t.size), rng.uniform(800, 2500), rng.uniform(6000, 10500))
    noise *= np.exp(-t / rng.uniform(0.05, 0.2))
    mix = rng.uniform(0.3, 0.8)
    return _norm(_sat((1 - mix) * tone + mix * noise * 2, rng, 0.3))


def clap(rng: np.random.Generator) -> F64:
    """Clap: 3–5 band-passed noise bursts 6–15 ms apart, then a decaying tail."""
    t = _t(rng.uniform(0.25, 0.7))
    env = np.zeros(t.size)
    gap = rng.uniform(0.006, 0.016)
    nb = int(rng.integers(3, 6))
    for k in range(nb):
        s = k * gap + rng.uniform(0, 0.003)
        m = t >= s
        env[m] += np.exp(-(t[m] - s) / rng.uniform(0.002, 0.006)) * (0.6 + 0.4 * rng.random())
    s = (nb - 1) * gap
    m = t >= s
    env[m] += np.exp(-(t[m] - s) / rng.uniform(0.04, 0.25)) * rng.uniform(0.4, 0.9)
    c = rng.uniform(900, 2200)
    y = _bp(rng.standard_normal(t.size), c * 0.6, c * rng.uniform(2, 5)) * env
    return _norm(_sat(y, rng, 0.2))


_METAL = np.array([205.3, 304.4, 369.6, 522.7, 540.0, 800.0])


def _metal(rng: np.random.Generator, n: int) -> F64:
    if rng.random() < 0.6:
        freqs = _METAL * rng.uniform(0.8, 1.6)
        x = sum((_osc(float(f), n, "square", rng.uniform(0, 6.28)) for f in freqs), np.zeros(n))
        return np.asarray(x) + rng.uniform(0, 1.0) * rng.standard_normal(n)
    return rng.standard_normal(n)


def hihat(rng: np.random.Generator, open_: bool) -> F64:
    """Hi-hat: metallic square bank or noise, high-passed; closed 15–90 ms, open 0.2–1 s."""
    tau = rng.uniform(0.08, 0.35) if open_ else rng.uniform(0.006, 0.03)
    t = _t(min(1.6, tau * 7 + 0.02) if open_ else rng.uniform(0.06, 0.25))
    x = _hp(_bp(_metal(rng, t.size), 3000, 10500), rng.uniform(5000, 8500))
    env = np.exp(-t / tau)
    if open_ and rng.random() < 0.3:  # choked at the end
        env *= np.clip((t[-1] - t) / 0.03, 0, 1)
    return _norm(x * env)


def cymbal(rng: np.random.Generator) -> F64:
    """Crash / ride: metallic bank + noise, long decay 0.8–2.5 s; rides get a ping."""
    t = _t(1.6)
    tau = rng.uniform(0.5, 2.0)
    x = _bp(_metal(rng, t.size) + rng.standard_normal(t.size), rng.uniform(2500, 5000), 10500)
    y = x * np.exp(-t / tau)
    if rng.random() < 0.4:  # ride ping
        y += 0.5 * _osc(rng.uniform(3000, 6000), t.size) * np.exp(-t / 0.4)
    return _norm(y)


def percussion(rng: np.random.Generator) -> F64:
    """Cowbell, clave, rim, shaker, conga, woodblock, triangle."""
    kind = rng.choice(["cowbell", "clave", "rim", "shaker", "conga", "block", "triangle"])
    if kind == "cowbell":
        t = _t(rng.uniform(0.2, 0.6))
        y = (_osc(540 * rng.uniform(0.8, 1.2), t.size, "square")
             + _osc(800 * rng.uniform(0.8, 1.2), t.size, "square"))
        y = _bp(y, 500, 3000) * np.exp(-t / rng.uniform(0.05, 0.25))
    elif kind == "clave":
        t = _t(0.15)
        y = _osc(rng.uniform(1800, 3000), t.size) * np.exp(-t / rng.uniform(0.01, 0.04))
    elif kind == "rim":
        t = _t(0.12)
        y = (_osc(rng.uniform(400, 1800), t.size) * np.exp(-t / 0.01)
             + _hp(rng.standard_normal(t.size), 2000) * np.exp(-t / 0.004))
    elif kind == "shaker":
        t = _t(rng.uniform(0.08, 0.3))
        env = np.sin(np.pi * np.clip(t / t[-1], 0, 1)) ** rng.uniform(0.5, 3)
        y = _bp(rng.standard_normal(t.size), 3000, 10000) * env
    elif kind == "conga":
        t = _t(rng.uniform(0.2, 0.5))
        f = rng.uniform(180, 450)
        y = _osc(f * (1 + 0.1 * np.exp(-t / 0.02)), t.size) * np.exp(-t / rng.uniform(0.04, 0.15))
        y += 0.4 * _bp(rng.standard_normal(t.size), 500, 4000) * np.exp(-t / 0.008)
    elif kind == "block":
        t = _t(0.12)
        f = rng.uniform(600, 1500)
        y = (_osc(f, t.size) + 0.5 * _osc(f * 2.7, t.size)) * np.exp(-t / rng.uniform(0.01, 0.04))
    else:
        t = _t(1.2)
        f = rng.uniform(3000, 7000)
        y = (_osc(f, t.size) + 0.5 * _osc(f * 2.76, t.size)) * np.exp(-t / rng.uniform(0.2, 0.8))
    return _norm(y)


def fx(rng: np.random.Generator) -> F64:
    """Sweeps, risers, downlifters, zaps, noise bursts, glitches, reversed hits."""
    kind = rng.choice(["sweep", "riser", "down", "zap", "burst", "glitch", "reverse", "laser"])
    dur = rng.uniform(0.3, 1.5)
    t = _t(dur)
    n = t.size
    if kind in ("sweep", "riser", "down"):
        noise = rng.standard_normal(n)
        lo, hi = np.log(rng.uniform(150, 600)), np.log(rng.uniform(3000, 10000))
        path = np.linspace(lo, hi, n) if kind != "down" else np.linspace(hi, lo, n)
        y = np.zeros(n)
        blk = 512
        for s in range(0, n, blk):
            c = float(np.exp(path[s]))
            y[s:s + blk] = _bp(noise[max(0, s - 2048):s + blk], c * 0.7, c * 1.4)[-(
                min(s + blk, n) - s):]
        if kind == "riser":
            y = y * (t / t[-1]) ** 2 + 0.3 * _osc(np.exp(np.linspace(np.log(100), np.log(
                rng.uniform(800, 3000)), n)), n, "saw") * (t / t[-1]) ** 2
        elif kind == "down":
            y = y * np.exp(-t / (dur / 3))
        else:
            y = y * np.sin(np.pi * t / t[-1])
    elif kind in ("zap", "laser"):
        t = _t(rng.uniform(0.05, 0.4))
        f = rng.uniform(1500, 5000) * np.exp(-t / rng.uniform(0.01, 0.08)) + rng.uniform(60, 300)
        y = _osc(f, t.size, str(rng.choice(["square", "saw", "sine"]))) * np.exp(-t / 0.1)
    elif kind == "burst":
        env = np.exp(-t / rng.uniform(0.05, 0.5))
        y = _bp(rng.standard_normal(n), rng.uniform(100, 1000), rng.uniform(2000, 10000)) * env
    elif kind == "glitch":
        held = np.repeat(rng.standard_normal(n // 64 + 1), 64)[:n]
        y = held * np.sign(_osc(rng.uniform(5, 40), n, "square") + 0.5) * np.exp(-t / dur)
    else:
        src = cymbal(rng) if rng.random() < 0.5 else snare(rng)
        y = src[::-1][-n:] if src.size >= n else src[::-1]
    return _norm(y)


def bass(rng: np.random.Generator) -> F64:
    """Synth bass note: 808 sub, filtered saw/square, FM or sine; 30–180 Hz; 0.15–1.4 s."""
    f0 = 440.0 * 2 ** ((rng.integers(24, 55) - 69) / 12)  # C1..G3
    dur = rng.uniform(0.15, 1.4)
    t = _t(dur + 0.1)
    kind = rng.choice(["sub808", "saw", "square", "fm", "sine"])
    if kind == "sub808":
        f = f0 * (1 + rng.uniform(0, 0.3) * np.exp(-t / 0.02))
        y = _osc(f, t.size) * np.exp(-t / rng.uniform(0.6, 3.0))
        y = _sat(y, rng, 0.6)
    elif kind in ("saw", "square"):
        y = _osc(f0, t.size, kind) + 0.5 * _osc(f0 * 1.005, t.size, kind)
        cut = rng.uniform(200, 1500)
        y = _lp(y, cut, 2)
    elif kind == "fm":
        mod = np.sin(2 * np.pi * f0 * t) * rng.uniform(0.5, 3) * np.exp(-t / 0.1)
        y = np.sin(2 * np.pi * f0 * t + mod)
    else:
        y = _osc(f0, t.size) + 0.3 * _osc(2 * f0, t.size)
    rel = np.clip((dur - t) / 0.05 + 1, 0, 1)
    att = np.clip(t / rng.uniform(0.002, 0.02), 0, 1)
    return _norm(y * rel * att)


def melodic(rng: np.random.Generator) -> F64:
    """Synth note: pluck (Karplus-Strong), lead, pad, FM bell/e-piano; A2..C7."""
    midi = int(rng.integers(45, 97))
    f0 = 440.0 * 2 ** ((midi - 69) / 12)
    dur = rng.uniform(0.15, 1.4)
    t = _t(dur + 0.2)
    kind = rng.choice(["pluck", "lead", "pad", "bell", "epiano"])
    if kind == "pluck":
        period = max(2, int(round(SR / f0)))
        buf = rng.uniform(-1, 1, period)
        out = np.zeros(t.size)
        damp = rng.uniform(0.985, 0.999)
        for i in range(0, t.size, period):
            m = min(period, t.size - i)
            out[i:i + m] = buf[:m]
            buf = damp * 0.5 * (buf + np.roll(buf, -1))
        y = out
    elif kind == "lead":
        vib = 1 + 0.005 * np.sin(2 * np.pi * rng.uniform(4, 7) * t) * (t > 0.2)
        y = _lp(_osc(f0 * vib, t.size, str(rng.choice(["saw", "square"]))),
                rng.uniform(1000, 8000))
    elif kind == "pad":
        y = sum((_osc(f0 * d, t.size, "saw", rng.uniform(0, 6)) for d in (0.995, 1.0, 1.006)),
                np.zeros(t.size))
        y = _lp(np.asarray(y), rng.uniform(800, 4000)) * np.clip(t / rng.uniform(0.05, 0.4), 0, 1)
    elif kind == "bell":
        y = np.sin(2 * np.pi * f0 * t + 2 * np.sin(2 * np.pi * f0 * 3.5 * t) * np.exp(-t / 0.3))
        y *= np.exp(-t / rng.uniform(0.3, 1.5))
    else:
        y = np.sin(2 * np.pi * f0 * t + 1.2 * np.sin(2 * np.pi * f0 * t) * np.exp(-t / 0.2))
        y *= np.exp(-t / rng.uniform(0.4, 1.5))
    rel = np.clip((dur - t) / 0.08 + 1, 0, 1)
    return _norm(y * rel)


GENERATORS: dict[str, Gen] = {
    "kick": kick,
    "snare": snare,
    "clap": clap,
    "hihat_closed": lambda r: hihat(r, False),
    "hihat_open": lambda r: hihat(r, True),
    "cymbal": cymbal,
    "tom": tom,
    "percussion": percussion,
    "bass": bass,
    "melodic": melodic,
    "fx": fx,
}


def generate(label: str, n: int, rng: np.random.Generator) -> list[F64]:
    """``n`` synthesised clips of ``label`` (float64 mono at SR)."""
    gen = GENERATORS[label]
    return [gen(rng).astype(np.float64) for _ in range(n)]


def _resonant_lowpass(x: F64, cutoff: F64, q: float, block: int = 64) -> F64:
    """``x`` through a resonant two-pole low-pass (RBJ biquad, quality ``q``) whose cutoff
    (Hz, one value per sample) is updated every ``block`` samples, state carried across."""
    from scipy.signal import lfilter

    out = np.empty_like(x)
    zi = np.zeros(2)
    for s in range(0, x.size, block):
        f = float(np.clip(cutoff[min(s, cutoff.size - 1)], 20.0, SR * 0.45))
        w = 2 * np.pi * f / SR
        alpha = np.sin(w) / (2 * q)
        c = np.cos(w)
        b = np.array([(1 - c) / 2, 1 - c, (1 - c) / 2])
        a = np.array([1 + alpha, -2 * c, 1 - alpha])
        out[s:s + block], zi = lfilter(b / a[0], a / a[0], x[s:s + block], zi=zi)
    return out


def _plucked_string(f0: float, n: int, rng: np.random.Generator) -> F64:
    """Karplus–Strong string at ``f0`` Hz: a filtered noise burst circulating in a delay
    line with a damping average (an electric or upright bass pluck)."""
    from scipy.signal import lfilter

    period = max(2, int(round(SR / f0)))
    burst = _lp(rng.uniform(-1, 1, period), rng.uniform(800, 4000))
    g = rng.uniform(0.990, 0.9985)
    a = np.zeros(period + 2)
    a[0], a[period], a[period + 1] = 1.0, -g / 2, -g / 2
    x = np.zeros(n)
    x[:period] = burst
    return np.asarray(lfilter([1.0], a, x))


#: kinds of :func:`bass_oneshot`
BASS_KINDS = ("pluck", "acid", "reese", "wobble", "string", "layered")


def bass_oneshot(rng: np.random.Generator, kind: str | None = None) -> F64:
    """A sample-pack bass one-shot, 30–250 Hz, 0.12–1.5 s (``kind`` from
    :data:`BASS_KINDS`, random when None): ``pluck`` saw/square through a resonant low-pass
    whose cutoff falls from 1–6 kHz; ``acid`` the same with high resonance and a glide;
    ``reese`` detuned saws; ``wobble`` a low-pass swept by an LFO; ``string`` a plucked
    string (electric/upright bass); ``layered`` a sine sub under a filtered mid layer.
    Often saturated or folded, as processed basses are."""
    kind = kind or str(rng.choice(BASS_KINDS))
    f0 = 440.0 * 2 ** ((rng.integers(23, 59) - 69) / 12)  # B0..A#3
    dur = rng.uniform(0.12, 1.5)
    t = _t(dur + 0.05)
    n = t.size
    shape = "saw" if rng.random() < 0.7 else "square"
    if kind in ("pluck", "acid"):
        f = np.full(n, f0)
        if kind == "acid" and rng.random() < 0.5:
            f = f0 * 2 ** (rng.choice([-1, 1]) * rng.uniform(2, 12) / 12 * np.exp(-t / 0.03))
        y = _osc(f, n, shape) + (0.4 * _osc(f * 1.004, n, shape) if rng.random() < 0.5 else 0)
        top = rng.uniform(1000, 6000)
        cut = f0 * 1.5 + (top - f0 * 1.5) * np.exp(-t / rng.uniform(0.02, 0.35))
        q = rng.uniform(4, 14) if kind == "acid" else rng.uniform(0.7, 4)
        y = _resonant_lowpass(y, cut, q)
        y = y * np.exp(-t / rng.uniform(0.12, 1.2))
    elif kind == "reese":
        cents = rng.uniform(6, 30)
        y = np.zeros(n)
        for d in (-1, 0, 1):  # three saws, detuned
            y = y + _osc(f0 * 2 ** (d * cents / 1200), n, "saw", rng.uniform(0, 6.28))
        lfo = 1 + 0.3 * np.sin(2 * np.pi * rng.uniform(0.2, 2) * t)
        y = _resonant_lowpass(y, rng.uniform(300, 1500) * lfo, rng.uniform(0.7, 2))
    elif kind == "wobble":
        y = _osc(f0, n, shape) + 0.5 * _osc(f0 / 2, n, "sine")
        rate = rng.uniform(1, 8)
        lfo = 0.5 - 0.5 * np.cos(2 * np.pi * rate * t)
        y = _resonant_lowpass(y, 150 + lfo * rng.uniform(500, 2500), rng.uniform(1, 6))
    elif kind == "string":  # a bass guitar's range: above C3 it reads as a guitar
        y = _plucked_string(min(f0, 130.8), n, rng)
        y = _lp(y, rng.uniform(600, 3000))
    else:  # layered: sub sine + a filtered mid
        mid = _resonant_lowpass(_osc(f0 * 2, n, shape), np.full(n, rng.uniform(500, 3000)),
                                rng.uniform(0.7, 3))
        y = _osc(f0, n) + rng.uniform(0.2, 0.8) * mid
        y = y * np.exp(-t / rng.uniform(0.2, 2.0))
    r = rng.random()
    if r < 0.35:
        y = _sat(_norm(y), rng, 1.0)
    elif r < 0.45:  # wavefolding
        y = np.sin(rng.uniform(1.5, 4.0) * _norm(y))
    rel = np.clip((dur - t) / rng.uniform(0.01, 0.08) + 1, 0, 1)
    att = np.clip(t / rng.uniform(0.001, 0.015), 0, 1)
    return _norm(np.asarray(y) * rel * att)

"""Render DrumSynth presets (``.ds``) into one-shot audio.

DrumSynth is Paul Kellett's drum-synthesis format, also played by LMMS' AudioFileProcessor;
Debian's ``lmms-common`` ships 764 presets (TR-808/909/606, CR-78, Linn, acoustic, latin,
fx ...) under :data:`DRUMSYNTH_ROOT`. This module is an independent numpy implementation of
the synthesis model, written from a reading of how the format is interpreted.

Format
------
INI text. Section and key names are case-insensitive; the first occurrence of a section
or key wins; a missing or empty key takes DrumSynth's default. ``[General] Version`` must
read ``DrumSynth v1.x`` or ``DrumSynth v2.x``. A key ``On=1`` switches a section on (any
other value is off). Units:

* time: envelope point times are samples at 44.1 kHz, multiplied by ``Stretch``/100
  (clamped to 0.2..10). An envelope is ``t,level t,level ...`` with level 0..100 (%),
  linear between points. After its last point an envelope holds (it glides towards zero
  over 442 000 samples); tone, noise and both noise bands are switched off at the end of the
  1200-sample block in which their envelope ends. Overtone envelopes drop to zero at their
  last point.
* level: each section's ``Level`` is squared (128 -> 16384 on a 16-bit scale, 181 ~ full
  scale); ``[General] Level`` is a master gain in dB; the sum is clipped to +-32 700.
* frequency: Hz at 44.1 kHz, all transposed by ``[General] Tuning`` semitones.

Sections implemented
--------------------
``[Tone]``
    sine whose frequency goes from F1 to F2 over the envelope: linearly, or with
    ``Droop`` > 0 exponentially (larger droop = faster fall), reaching F2 at the envelope's
    end (the unstretched end, for droop). ``Phase`` is the start phase in degrees.
``[Noise]``
    uniform white noise, ``Slope`` -100..100 tilts it: negative = one-pole low-pass,
    positive = second-difference high-pass.
``[Overtones]``
    two oscillators F1/F2 (``Wave`` 0 sine, 1 rectified sine, 2 triangle, 3 saw,
    4 square; ``Track1/2=1`` locks an oscillator to the tone's pitch glide), each with its own
    envelope, combined by ``Method`` 0 add (``Param`` = balance), 1 FM and 2 ring modulation
    (``Param`` = depth), or 3 "808 cymbal": six pulse trains with periods between F1 and F2
    through a band-pass whose frequency follows envelope 2.
``[NoiseBand]``, ``[NoiseBand2]``
    a cosine at ``F`` Hz whose phase is jittered by random steps (``dF`` sets width).
``[General]``
    ``Filter=1`` puts everything through a resonant two-pole low-pass whose cutoff
    follows ``FilterEnv`` (``[Overtones] Filter=1`` filters the overtones only);
    ``HighPass=1`` subtracts the dry signal, turning it into a high-pass.
``[Distortion]``
    ``Bits`` (amplitude quantisation), ``Rate`` (averages and holds blocks of 1..20
    samples) and ``Clipping`` (dB of drive into a clip at the loudest section's level).

Differences from the reference renderer (LMMS 1.2.2's port of DrumSynth, which this was
checked against sample by sample):

* noise comes from a seeded numpy generator (``FixedSeq`` is ignored, as LMMS ignores it),
  so presets with noise or noise bands match statistically, not sample for sample;
* lines are read whole. LMMS's reader stops at 199 characters per line, which garbles a
  long envelope in a few shipped presets (``misc_fx/multi-ping`` is silent there,
  ``misc_fx/frequency_revolution`` and ``misc_fx/new_sweep`` sound different); ``key = value``
  with spaces is accepted; malformed numbers and envelope points raise instead of
  reading as 0;
* an envelope glides from its last level to zero over 442 000 samples (the original
  glides towards whatever the previous preset left in memory);
* time-varying filters update their coefficients when the cutoff has moved by ~0.1 %
  (every sample on fast sweeps) rather than every sample;
* arithmetic is float64 except where single precision is audible and therefore kept:
  oscillator phase accumulators (long sounds detune, near-equal oscillators lock) and
  the cymbal pulse periods (an integer period changes on which samples pulses land).
  The final 16-bit clip at +-32 700 and truncation are kept too.

``render`` returns float64 mono at ``sr`` (default :data:`FEATURE_SR`), peak-normalised,
trimmed once it stays below -60 dB re peak and at most ``max_seconds`` long.
"""

from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.signal import lfilter

from stemcrate.audio.features import FEATURE_SR, resample

__all__ = [
    "BASE_SR",
    "DRUMSYNTH_ROOT",
    "Distortion",
    "Envelope",
    "General",
    "NoiseBand",
    "Noise",
    "Overtones",
    "Preset",
    "Tone",
    "parse_preset",
    "presets",
    "read_preset",
    "render",
]

DRUMSYNTH_ROOT = Path("/usr/share/lmms/samples/drumsynth")
BASE_SR = 44100  # the format's time base: envelope times and frequencies refer to it

F64 = npt.NDArray[np.float64]

_BLOCK = 1200  # sections are switched on/off per block of this many samples
_HOLD = 442000.0  # samples over which an envelope glides to zero after its last point
_CLIP = 32700.0  # output clip level on the 16-bit scale
_FULL_SCALE = 32768.0
_TRIM_DB = -60.0
_STEP = 0.001  # coefficient resolution of the time-varying filters (log units, ~0.1 %)
_MAX_CHUNK = 4096
_SHORT_RUN = 24  # runs shorter than this are stepped per sample


# --------------------------------------------------------------------------------------
# preset model


@dataclass(frozen=True)
class Envelope:
    """Breakpoints ``(time, level)``: time in 44.1 kHz samples before Stretch, level 0..100."""

    points: tuple[tuple[float, float], ...]

    @property
    def end(self) -> float:
        """Time of the last point (the point list's end, not its maximum)."""
        return self.points[-1][0]


_SILENT = Envelope(((0.0, 0.0), (100.0, 0.0)))  # DrumSynth's value for a missing envelope


def _key(name: str) -> Any:
    return {"key": name}


@dataclass(frozen=True)
class General:
    tuning: float = field(default=0.0, metadata=_key("Tuning"))  # semitones
    stretch: float = field(default=100.0, metadata=_key("Stretch"))  # percent of time
    level: float = field(default=0.0, metadata=_key("Level"))  # master gain, dB
    filter: int = field(default=0, metadata=_key("Filter"))
    highpass: int = field(default=0, metadata=_key("HighPass"))
    resonance: float = field(default=0.0, metadata=_key("Resonance"))  # 0..100
    filter_env: Envelope = field(default=_SILENT, metadata=_key("FilterEnv"))


@dataclass(frozen=True)
class Tone:
    on: bool = field(default=False, metadata=_key("On"))
    level: int = field(default=128, metadata=_key("Level"))
    f1: float = field(default=200.0, metadata=_key("F1"))  # Hz at the start
    f2: float = field(default=120.0, metadata=_key("F2"))  # Hz at the envelope's end
    droop: float = field(default=0.0, metadata=_key("Droop"))  # 0 = linear glide
    phase: float = field(default=90.0, metadata=_key("Phase"))  # degrees
    envelope: Envelope = field(default=_SILENT, metadata=_key("Envelope"))


@dataclass(frozen=True)
class Noise:
    on: bool = field(default=False, metadata=_key("On"))
    level: int = field(default=0, metadata=_key("Level"))
    slope: int = field(default=0, metadata=_key("Slope"))  # -100 dark .. +100 bright
    envelope: Envelope = field(default=_SILENT, metadata=_key("Envelope"))


@dataclass(frozen=True)
class Overtones:
    on: bool = field(default=False, metadata=_key("On"))
    level: int = field(default=128, metadata=_key("Level"))
    f1: float = field(default=200.0, metadata=_key("F1"))
    f2: float = field(default=120.0, metadata=_key("F2"))
    wave1: int = field(default=0, metadata=_key("Wave1"))
    wave2: int = field(default=0, metadata=_key("Wave2"))
    track1: int = field(default=0, metadata=_key("Track1"))
    track2: int = field(default=0, metadata=_key("Track2"))
    method: int = field(default=2, metadata=_key("Method"))
    param: int = field(default=50, metadata=_key("Param"))
    filter: int = field(default=0, metadata=_key("Filter"))
    envelope1: Envelope = field(default=_SILENT, metadata=_key("Envelope1"))
    envelope2: Envelope = field(default=_SILENT, metadata=_key("Envelope2"))


@dataclass(frozen=True)
class NoiseBand:
    on: bool = field(default=False, metadata=_key("On"))
    level: int = field(default=128, metadata=_key("Level"))
    f: float = field(default=1000.0, metadata=_key("F"))  # centre, Hz
    df: int = field(default=50, metadata=_key("dF"))  # width 0..100
    envelope: Envelope = field(default=_SILENT, metadata=_key("Envelope"))


@dataclass(frozen=True)
class Distortion:
    on: bool = field(default=False, metadata=_key("On"))
    clipping: int = field(default=0, metadata=_key("Clipping"))  # dB of drive
    bits: int = field(default=0, metadata=_key("Bits"))  # quantisation step 4**bits
    rate: int = field(default=0, metadata=_key("Rate"))  # 0..6: hold 1, 2, 3, 4, 8, 10, 20


@dataclass(frozen=True)
class Preset:
    name: str
    version: str
    comment: str = ""
    general: General = General()
    tone: Tone = Tone()
    noise: Noise = Noise()
    overtones: Overtones = Overtones()
    band1: NoiseBand = NoiseBand()
    band2: NoiseBand = NoiseBand()
    distortion: Distortion = Distortion()
    path: Path | None = None


_SECTIONS: dict[str, tuple[str, type[Any]]] = {
    "general": ("General", General),
    "tone": ("Tone", Tone),
    "noise": ("Noise", Noise),
    "overtones": ("Overtones", Overtones),
    "band1": ("NoiseBand", NoiseBand),
    "band2": ("NoiseBand2", NoiseBand),
    "distortion": ("Distortion", Distortion),
}

_INT = re.compile(r"\s*([+-]?\d+)")
_FLOAT = re.compile(r"\s*([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)")


class _Source:
    """Error context: every message names the file."""

    def __init__(self, name: str) -> None:
        self.name = name

    def error(self, cause: str) -> ValueError:
        return ValueError(f"{self.name}: {cause}")


def _ini_sections(text: str, src: _Source) -> dict[str, dict[str, str]]:
    sections: dict[str, dict[str, str]] = {}
    current: dict[str, str] | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line[0] in ";#":
            continue
        if line.startswith("["):
            if not line.endswith("]"):
                raise src.error(f"line {number}: unterminated section header {line!r}")
            name = line[1:-1].strip().lower()
            # DrumSynth reads only the first section of a name: later ones go nowhere
            current = {} if name in sections else sections.setdefault(name, {})
            continue
        if "=" not in line:
            raise src.error(f"line {number}: expected key=value, got {line!r}")
        if current is None:
            raise src.error(f"line {number}: key outside any [section]")
        key, value = line.split("=", 1)
        current.setdefault(key.strip().lower(), value.strip())
    return sections


def _parse_envelope(value: str, where: str, src: _Source) -> Envelope:
    points: list[tuple[float, float]] = []
    for token in value.split():
        parts = token.split(",")
        if len(parts) != 2:
            raise src.error(f"{where}: envelope point {token!r} is not 'time,level'")
        try:
            points.append((float(parts[0]), float(parts[1])))
        except ValueError:
            raise src.error(f"{where}: envelope point {token!r} is not numeric") from None
    return Envelope(tuple(points)) if points else _SILENT


def _parse_value(value: str, default: object, where: str, src: _Source) -> object:
    if isinstance(default, Envelope):
        return _parse_envelope(value, where, src)
    pattern = _FLOAT if isinstance(default, float) else _INT
    match = pattern.match(value)  # like sscanf: a numeric prefix, the rest ignored
    if match is None:
        raise src.error(f"{where}={value!r} is not a number")
    if isinstance(default, bool):
        return int(match.group(1)) == 1
    if isinstance(default, int):
        return int(match.group(1))
    number = float(match.group(1))
    if not math.isfinite(number):
        raise src.error(f"{where}={value!r} is not finite")
    return number


def _build(cls: type[Any], section: str, values: dict[str, str], src: _Source) -> Any:
    kwargs: dict[str, object] = {}
    for f in dataclasses.fields(cls):
        key: str = f.metadata["key"]
        raw = values.get(key.lower(), "")
        if raw:
            kwargs[f.name] = _parse_value(raw, f.default, f"[{section}] {key}", src)
    return cls(**kwargs)


def parse_preset(text: str, *, name: str = "<preset>", path: Path | None = None) -> Preset:
    """Parse the INI text of a preset. Raises ValueError (starting with ``name``)."""
    src = _Source(str(path) if path is not None else name)
    if "\x00" in text:
        raise src.error("binary data, not an INI text preset")
    sections = _ini_sections(text, src)
    if "general" not in sections:
        raise src.error("no [General] section")
    version = sections["general"].get("version", "")
    if version[:9].lower() != "drumsynth" or version[11:12] not in ("1", "2"):
        raise src.error(f"Version={version!r} is not 'DrumSynth v1.x' or 'DrumSynth v2.x'")
    parts = {
        attr: _build(cls, title, sections.get(title.lower(), {}), src)
        for attr, (title, cls) in _SECTIONS.items()
    }
    comment = sections["general"].get("comment", "")
    return Preset(name=name, version=version, comment=comment, path=path, **parts)


def read_preset(path: Path) -> Preset:
    """Read and parse a ``.ds`` file. Raises ValueError naming the file on any failure."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ValueError(f"{path}: cannot read preset ({exc.strerror or exc})") from exc
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    return parse_preset(text, name=path.stem, path=path)


def presets(root: Path = DRUMSYNTH_ROOT) -> list[Path]:
    """Every ``.ds`` file under ``root`` (recursively), sorted."""
    return sorted(p for p in Path(root).rglob("*") if p.suffix.lower() == ".ds" and p.is_file())


# --------------------------------------------------------------------------------------
# building blocks


def _stretch(preset: Preset) -> float:
    return min(max(0.01 * preset.general.stretch, 0.2), 10.0)


def _envelope(env: Envelope, stretch: float, n: int, *, gate: bool = False) -> F64:
    """Sample an envelope (0..1) on ``n`` samples the way DrumSynth steps through it.

    A segment starts at the first sample on or after its point (at least one sample after
    the previous segment) and ramps towards the next point's level, so coincident points
    make a jump. ``gate``: the envelope is zero from its last point on (overtones);
    otherwise it keeps gliding from the last level towards zero over ``_HOLD`` samples.
    """
    out = np.zeros(n)
    times = [t * stretch for t, _ in env.points]
    levels = [0.01 * v for _, v in env.points]
    end = times[-1]
    start = 0
    for k, level in enumerate(levels):
        if start >= n or (gate and start >= end):
            break
        last = k + 1 == len(levels)
        target_t = _HOLD * stretch if last else times[k + 1]
        target_v = 0.0 if last else levels[k + 1]
        slope = (target_v - level) / max(1.0, target_t - start)
        stop = min(n, max(start + 1, math.ceil(target_t)))
        out[start:stop] = level + slope * np.arange(stop - start)
        start = stop
    return out


def _active(env: Envelope, stretch: float) -> int:
    """Samples a tone/noise/band section runs: to the end of the block its envelope ends in."""
    return _BLOCK * max(1, math.ceil(env.end * stretch / _BLOCK))


def _length(preset: Preset) -> int:
    """Full length in samples: two blocks past the block of the longest running envelope."""
    s = _stretch(preset)
    on_envs = []
    if preset.tone.on:
        on_envs.append(preset.tone.envelope)
    if preset.noise.on:
        on_envs.append(preset.noise.envelope)
    if preset.overtones.on:
        on_envs += [preset.overtones.envelope1, preset.overtones.envelope2]
    if preset.band1.on:
        on_envs.append(preset.band1.envelope)
    if preset.band2.on:
        on_envs.append(preset.band2.envelope)
    longest = max([e.end * s for e in on_envs], default=0.0)
    return 2 * _BLOCK + _BLOCK * int(longest / _BLOCK)


def _wave(phase: F64, shape: int) -> F64:
    """Oscillator shapes, 2*pi periodic: sine, |sine| folded, triangle, saw, square."""
    if shape == 0:
        return np.sin(phase)
    if shape == 1:
        return np.abs(2.0 * np.sin(0.5 * phase)) - 1.0
    cycle = np.mod(phase / (2.0 * np.pi), 1.0)
    if shape == 2:
        return 1.0 - 4.0 * np.abs(cycle - 0.5)
    if shape == 3:
        return 2.0 * cycle - 1.0
    return np.where(cycle < 0.5, 1.0, -1.0)


def _runs(track: F64) -> tuple[list[int], list[int]]:
    """Split a coefficient track into runs over which it changes by less than ~``_STEP``.

    Returns (starts, stops); runs are also cut every ``_MAX_CHUNK`` samples.
    """
    n = track.size
    mag = np.maximum(np.abs(track), 1e-12)
    level = np.floor(np.log(mag) / _STEP) * np.sign(track)
    edges = np.concatenate(([0], np.flatnonzero(np.diff(level) != 0) + 1, [n]))
    lengths = np.diff(edges)
    long = np.flatnonzero(lengths > _MAX_CHUNK)
    if long.size:
        extra = [np.arange(edges[i] + _MAX_CHUNK, edges[i + 1], _MAX_CHUNK) for i in long]
        edges = np.unique(np.concatenate([edges, *extra]))
    bounds = edges.tolist()
    return bounds[:-1], bounds[1:]


def _resonant_lowpass(x: F64, fb: F64, res: float) -> F64:
    """Two cascaded one-pole low-passes (pole ``fb`` per sample) with resonant feedback.

    State form: ``u = x + r*(s1 - s2)``, ``s1 <- fb*s1 + (1-fb)*u``, ``s2 <- fb*s2 + (1-fb)*s1``,
    output ``s2``, with ``r = res*(1 + 1/fb)``. Short runs are stepped sample by sample; over
    a longer run the pole is held at its mean and the run is filtered as the equivalent
    biquad, started from (s1, s2).
    """
    y = np.empty_like(x)
    fb = np.where(np.abs(fb) > 1e-9, fb, 1e-9)
    s1 = s2 = 0.0
    for lo, hi in zip(*_runs(1.0 - fb), strict=True):
        if hi - lo < _SHORT_RUN:
            for i in range(lo, hi):
                f = float(fb[i])
                u = float(x[i]) + res * (1.0 + 1.0 / f) * (s1 - s2)
                s1 = f * s1 + (1.0 - f) * u
                s2 = f * s2 + (1.0 - f) * s1
                y[i] = s2
            continue
        f = float(fb[lo:hi].mean())
        g = 1.0 - f
        r = res * (1.0 + 1.0 / f)
        p = f + g * r  # s1's own feedback
        q = -g * r  # s2 -> s1 feedback
        a = [1.0, -(f + p + g * q), p * f]
        zi = [g * p * s1 + (f + g * q) * s2, -p * f * s2]
        seg, _ = lfilter([g * g], a, x[lo:hi], zi=zi)
        s2, before = float(seg[-1]), float(seg[-2])
        s1 = (s2 - f * before) / g
        y[lo:hi] = seg
    return y


def _cymbal_bandpass(x: F64, k: F64, damping: float) -> F64:
    """State-variable band-pass with per-sample frequency ``k`` and damping ``damping``.

    ``low += k*band``; ``band += k*(x + x_prev - damping*band - low)``; output ``band``.
    Runs are handled as in :func:`_resonant_lowpass`.
    """
    y = np.empty_like(x)
    band = low = x_prev = 0.0
    for lo, hi in zip(*_runs(k), strict=True):
        if hi - lo < _SHORT_RUN:
            for i in range(lo, hi):
                kk = float(k[i])
                xi = float(x[i])
                low += kk * band
                band += kk * (xi + x_prev - damping * band - low)
                x_prev = xi
                y[i] = band
            continue
        kk = float(k[lo:hi].mean())
        c = 1.0 - kk * damping - kk * kk
        a = [1.0, -(1.0 + c), 1.0 - kk * damping]
        zi = [c * band - kk * low + kk * x_prev, -kk * x_prev - (1.0 - kk * damping) * band]
        seg, _ = lfilter([kk, 0.0, -kk], a, x[lo:hi], zi=zi)
        low += kk * (band + float(np.sum(seg[:-1])))
        band = float(seg[-1])
        x_prev = float(x[hi - 1])
        y[lo:hi] = seg
    return y


def _pulses(period: float, n: int) -> npt.NDArray[np.bool_]:
    """Samples at which a counter starting full, +1 per sample, wraps at ``period``."""
    if not math.isfinite(period):
        return np.zeros(n, dtype=bool)
    if period <= 1.0:
        return np.ones(n, dtype=bool)
    wraps = np.ceil((period + np.arange(1, n + 1)) / period) - 1.0
    return np.diff(wraps, prepend=0.0) > 0


def _phase(start: float, step: F64) -> F64:
    """Running phase ``start + cumsum(step)``, summed in single precision like DrumSynth.

    Kept on purpose: on long sounds the float32 rounding detunes oscillators by a
    noticeable amount, and nearly equal oscillators (F1 ~ F2) lock together.
    """
    acc = np.empty(step.size + 1, dtype=np.float32)
    acc[0] = start
    acc[1:] = step
    return np.cumsum(acc, dtype=np.float32)[1:].astype(np.float64)


def _int16(value: float) -> int:
    """C-style conversion to a 16-bit integer (truncate, then wrap)."""
    return (int(value) + 32768) % 65536 - 32768


# --------------------------------------------------------------------------------------
# synthesis


def _tone_and_phase(p: Preset, n: int, tune: float, s: float) -> tuple[F64, F64]:
    """The tone section's signal and its running phase (also drives tracked overtones)."""
    tone = p.tone
    w = 2.0 * math.pi * tune / BASE_SR
    f1 = w * tone.f1
    if abs(f1) < 0.001:
        f1 = 0.001
    f2 = w * tone.f2
    t = np.arange(n, dtype=np.float64)
    if tone.droop > 0:
        # exponential approach to a floor below F2, passing F2 at the (unstretched) end
        span = max(tone.envelope.end, 1.0)
        rate = -4.0 * 10.0 ** ((tone.droop - 20.0) / 30.0) / span
        floor = f1 + (f2 - f1) / (1.0 - math.exp(rate * span))
        step = floor + (f1 - floor) * np.exp(rate * t)
    else:
        floor = f2
        step = f1 + (f2 - f1) * t / max(tone.envelope.end * s, 1.0)
    active = min(n, _active(tone.envelope, s)) if tone.on else 0
    step[active:] = floor
    phase = _phase(math.radians(tone.phase), step)
    out = np.zeros(n)
    if active:
        env = _envelope(tone.envelope, s, active)
        out[:active] = tone.level**2 * env * np.sin(phase[:active])
    return out, phase


def _noise(p: Preset, n: int, s: float, rng: np.random.Generator) -> F64:
    out = np.zeros(n)
    sec = p.noise
    if not sec.on:
        return out
    m = min(n, _active(sec.envelope, s))
    white = rng.uniform(-1.0, 1.0, m)
    gain = float(sec.level**2)
    if sec.slope < 0:
        pole = -sec.slope / 105.0
        coloured = lfilter([1.0 - pole], [1.0, -pole], white)
        gain *= 1.0 + 0.0005 * sec.slope**2
    else:
        coloured = lfilter([1.0, -sec.slope / 50.0, sec.slope / 100.0], [1.0], white)
    out[:m] = gain * coloured * _envelope(sec.envelope, s, m)
    return out


def _band(sec: NoiseBand, n: int, tune: float, s: float, rng: np.random.Generator) -> F64:
    out = np.zeros(n)
    if not sec.on:
        return out
    m = min(n, _active(sec.envelope, s))
    freq = 2.0 * math.pi * tune * sec.f / BASE_SR
    denom = 10000.0 - 6600.0 * (math.sqrt(max(freq, 0.0)) - 0.19)
    depth = sec.df**2 / denom if denom != 0 else 0.0
    hold = max(1, 1 + int((40.0 - sec.df / 2.5) / (depth + 1.0 + freq)))
    jitter = np.repeat(rng.uniform(-0.5, 0.5, -(-m // hold)), hold)[:m]
    phase = _phase(math.pi / 4.0, freq + depth * jitter)
    out[:m] = sec.level**2 * np.cos(phase) * _envelope(sec.envelope, s, m)
    return out


def _cymbal_periods(p: Preset, tune: float) -> list[float]:
    """Periods (samples) of the six pulse trains of overtone method 3, F1 to F2 in 5 steps.

    Evaluated in single precision as DrumSynth does: whether a period lands exactly on an
    integer decides on which sample each pulse falls, and that compounds over time.
    """
    f32 = np.float32
    two_pi = f32(2.0) * f32(math.pi)

    def rate(hz: float) -> np.float32:
        return f32(f32(f32(f32(tune) * f32(2.0)) * f32(math.pi)) * f32(hz)) / f32(BASE_SR)

    sec = p.overtones
    tone_rate = rate(p.tone.f1)
    if abs(float(tone_rate)) < 0.001:
        tone_rate = f32(0.001)
    periods = []
    for hz, track in ((sec.f1, sec.track1), (sec.f2, sec.track2)):
        inc = rate(hz)
        if track == 1 and p.tone.on:
            inc = f32(inc / tone_rate)
        periods.append(f32(two_pi / inc) if inc != 0 else f32(np.inf))
    pa, pb = periods
    if not (np.isfinite(pa) and np.isfinite(pb)):
        return [math.inf] * 6
    return [float(f32(pa + f32(f32(pb - pa) * f32(0.2)) * f32(i))) for i in range(6)]


def _overtones(p: Preset, n: int, tune: float, s: float, tone_phase: F64) -> F64:
    sec = p.overtones
    if not sec.on:
        return np.zeros(n)
    w = 2.0 * math.pi * tune / BASE_SR
    tone_f1 = w * p.tone.f1
    if abs(tone_f1) < 0.001:
        tone_f1 = 0.001
    start = math.radians(p.tone.phase)
    phases: list[F64] = []
    for freq, track in ((w * sec.f1, sec.track1), (w * sec.f2, sec.track2)):
        if track == 1 and p.tone.on:
            phases.append(tone_phase * (freq / tone_f1))  # locked to the tone's glide
        else:
            phases.append(_phase(start, np.full(n, freq)))
    e1 = _envelope(sec.envelope1, s, n, gate=True)
    e2 = _envelope(sec.envelope2, s, n, gate=True)
    level = float(sec.level**2)
    mix2 = 0.01 * sec.param
    mix1 = 1.0 - mix2
    drive = sec.param**3 / 125000.0
    if sec.method == 0:
        return level * (mix1 * e1 * _wave(phases[0], sec.wave1)
                        + mix2 * e2 * _wave(phases[1], sec.wave2))
    if sec.method == 1:
        modulator = drive * e2 * _wave(phases[1], sec.wave2)
        return level * e1 * _wave(phases[0] + modulator, sec.wave1)
    if sec.method == 2:
        carrier = (1.0 - drive / 8.0) + (drive / 8.0) * e2 * _wave(phases[1], sec.wave2)
        return level * e1 * _wave(phases[0], sec.wave1) * carrier
    if sec.method == 3:
        hits = np.zeros(n, dtype=bool)
        for period in _cymbal_periods(p, tune):
            hits |= _pulses(period, n)
        width = 0.28 + mix1 * mix1
        damping = width * width
        k = e2 * (1.8 - 0.7 * damping) * 0.92
        return _cymbal_bandpass(np.where(hits, level * e1, 0.0), k, damping)
    return np.zeros(n)


def _synthesise(p: Preset, n: int, rng: np.random.Generator) -> F64:
    """The preset's first ``n`` samples at 44.1 kHz, on the 16-bit integer scale."""
    g = p.general
    s = _stretch(p)
    tune = 1.0594631 ** g.tuning
    tone, tone_phase = _tone_and_phase(p, n, tune, s)
    direct = tone + _noise(p, n, s, rng)
    direct += _band(p.band1, n, tune, s, rng) + _band(p.band2, n, tune, s, rng)
    over = _overtones(p, n, tune, s, tone_phase)

    mode = 2 * g.filter or p.overtones.filter  # 1: overtones only, 2: everything
    if mode in (1, 2):
        e = _envelope(g.filter_env, s, n)
        fb = np.where(e > 0.2, 1.001 - 10.0 ** (e - 1.0), 0.999 - 0.7824 * e)
        res = math.sqrt(max(0.0101 * g.resonance, 0.0))
        dry = over if mode == 1 else direct + over
        wet = _resonant_lowpass(dry, fb, res) - g.highpass * dry
        y = direct + wet if mode == 1 else wet
    else:
        y = direct + over

    gain = 10.0 ** (0.05 * g.level)
    clip = _CLIP
    d = p.distortion
    if d.on:
        sections = (p.tone, p.noise, p.overtones, p.band1, p.band2)
        loudest = max((float(x.level**2) for x in sections if x.on), default=0.0)
        ceiling = gain * _int16(loudest)
        clip = _CLIP if ceiling > _CLIP else float(_int16(ceiling))
        quantum = 2.0 ** (2 * d.bits)
        y = quantum * gain * 10.0 ** (0.05 * d.clipping) * np.trunc(y / quantum)
        hold = {5: 8, 6: 10, 7: 20}.get(1 + d.rate, max(1, 1 + d.rate))
        if hold > 1:
            padded = np.pad(y, (0, -y.size % hold))
            y = np.repeat(padded.reshape(-1, hold).mean(axis=1), hold)[: y.size]
    else:
        y = y * gain
    y = np.where(y > clip, clip, np.where(y < -clip, -clip, y))
    return np.trunc(np.nan_to_num(y, nan=0.0))


def render(
    preset: Preset | Path,
    *,
    sr: int = FEATURE_SR,
    max_seconds: float = 2.0,
    seed: int = 0,
) -> F64:
    """Render a preset (or a ``.ds`` path) to mono float64 at ``sr``.

    Peak-normalised to 1.0 (silence stays all zeros), cut after the last sample within
    60 dB of the peak, at most ``max_seconds`` long. ``seed`` fixes the noise.
    """
    if sr <= 0:
        raise ValueError(f"sample rate must be positive, got {sr}")
    if not max_seconds > 0:
        raise ValueError(f"max_seconds must be positive, got {max_seconds}")
    p = preset if isinstance(preset, Preset) else read_preset(Path(preset))
    n = min(_length(p), math.ceil(max_seconds * BASE_SR))
    y = _synthesise(p, n, np.random.default_rng(seed)) / _FULL_SCALE
    y = resample(y, BASE_SR, sr)[: int(max_seconds * sr)]
    peak = float(np.max(np.abs(y))) if y.size else 0.0
    if peak <= 0.0:
        return np.zeros(y.size)
    y = y / peak
    loud = np.flatnonzero(np.abs(y) >= 10.0 ** (_TRIM_DB / 20.0))
    return np.ascontiguousarray(y[: int(loud[-1]) + 1])

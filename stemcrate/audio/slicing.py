"""Slicing stems into one-shot samples: drum hits, bass/melodic notes, vocal phrases and chops.

Public API (pure functions, no storage)
---------------------------------------
``slice_audio(y, sr, *, kind, collapse=True) -> list[Slice]``
    ``y``: float audio, shape ``(channels, samples)`` (or ``(samples,)`` for mono), any
    sample rate ``sr`` in Hz. ``kind`` is the stem kind, one of :data:`STEM_KINDS`:

    * ``drums`` — transient onsets (spectral flux: the larger of librosa's onset strength over
      64 mel bands and over 24 bands above 5 kHz, so quiet hats under loud kicks count;
      refined to the sample where the attack starts); each hit lasts until the next onset or
      until its envelope decays :data:`DECAY_FLOOR_DB` below its peak, at most
      :data:`MAX_HIT_S`.
    * ``bass``, ``other``, ``piano``, ``guitar`` — note segmentation: onsets plus pitch changes
      (pYIN f0, a new note when the pitch moves ≥ 0.75 semitone for ≥ 4 frames); each note's
      median f0 gives ``midi_note``/``note`` when at least half its frames are voiced.
    * ``vocals`` — phrases (``part="phrase"``: regions within 30 dB of the stem's loud level
      (95th percentile of 11.6 ms frames) and 10 dB over its noise floor (5th percentile),
      holding ≥ 10 % voiced (pYIN) frames,
      gaps < 200 ms bridged, at most :data:`MAX_PHRASE_S`) and chops inside them
      (``part="chop"``: split at syllable onsets and note changes, 120 ms – 1.5 s, each
      reaching within 20 dB of the stem's loud level).

    Every cut sits on a zero crossing near the chosen boundary (of the mono mix), with a
    :data:`FADE_IN_S` raised-cosine fade-in and a :data:`FADE_OUT_S` fade-out, so the first
    and last samples are exactly 0 (no clicks). Near-silent slices (peak below
    :data:`SILENCE_DB` dBFS or :data:`RELATIVE_SILENCE_DB` dB under the track's peak) are
    dropped. With ``collapse=True`` near-identical slices within the track (correlation
    ≥ :data:`DUPLICATE_SIMILARITY` of their log-mel fingerprints over the common length,
    peak levels within 6 dB, similar length, same note) collapse to the best one (the
    longest, then the loudest); ``count`` says how many it stands for and ``occurrences``
    keeps every collapsed hit's position and level (drum MIDI plays them all). The list is
    sorted by ``start``.

``slice_and_classify(y, sr, *, kind, collapse=True) -> list[Slice]``
    The same, with ``label``/``confidence``/``tags`` filled by
    :func:`stemcrate.audio.classify.classify_many` (``stem_kind=kind``).

:class:`Slice` fields: ``start``/``end`` (samples in the source, at ``sr``; ``start_s``,
``end_s`` in seconds), ``onset`` (sample where the attack starts, ``start <= onset``),
``audio`` (float32 ``(channels, end - start)``, faded), ``loudness_db`` with
``loudness_unit`` (``"LUFS"``: integrated BS.1770 loudness when the slice is ≥ 0.4 s long,
else ``"dBFS RMS"``: RMS level of the slice in dBFS), ``peak_db`` (sample peak, dBFS),
``pitch_hz``/``midi_note``/``note`` (e.g. ``"C#2"``; None when not tonal: for notes and chops
the median pYIN f0 when ≥ half the frames are voiced; for drum hits :func:`drum_pitch`, the
dominant 30–1000 Hz spectral peak when it holds ≥ 20 % of the energy, or the fundamental under
it when that harmonic is louder: toms, 808s, snare bodies), ``part`` (``hit``, ``note``,
``phrase``, ``chop``), ``count``/``occurrences``, and the classifier's ``label``,
``confidence``, ``tags`` (a note name among them is the slice's ``note``: see
:func:`slice_and_classify`).
:meth:`Slice.to_dict` gives a JSON-ready dict without the audio.

Helpers also public: ``collapse_duplicates(slices)``, ``fingerprints(slices)``,
``loudness(audio, sr) -> (value, unit)``, ``drum_pitch(mono, sr) -> Hz | None``.
Cost (this shared 2-core machine, warm): drums ≈ 1.2 s for a 25 s stem; tonal and vocal stems run
pYIN, ≈ 0.3–0.5 × real time on one core of this machine.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float32]

DRUM_KINDS = frozenset({"drums"})
TONAL_KINDS = frozenset({"bass", "other", "piano", "guitar"})
VOCAL_KINDS = frozenset({"vocals"})
STEM_KINDS = tuple(sorted(DRUM_KINDS | TONAL_KINDS | VOCAL_KINDS))

FADE_IN_S = 0.002
FADE_OUT_S = 0.005
MAX_HIT_S = 2.0
MAX_NOTE_S = 4.0
MAX_PHRASE_S = 10.0
MIN_NOTE_S = 0.05
MIN_CHOP_S = 0.12
MAX_CHOP_S = 1.5
SILENCE_DB = -60.0
RELATIVE_SILENCE_DB = 45.0
DECAY_FLOOR_DB = 50.0
ABSOLUTE_FLOOR_DB = -75.0
DUPLICATE_SIMILARITY = 0.95
DRUM_TONALITY = 0.2
SUBHARMONIC_DB = 13.0
LUFS_MIN_S = 0.4
VOICE_RANGE_DB = 30.0
PHRASE_GAP_S = 0.2
CHOP_RANGE_DB = 20.0

_ANALYSIS_SR = 22050
_PITCH_HOP = 256  # at _ANALYSIS_SR: 11.6 ms
_PITCH_RANGE = {
    "bass": (30.0, 800.0),
    "other": (50.0, 2100.0),
    "piano": (27.5, 2100.0),
    "guitar": (70.0, 1400.0),
    "vocals": (65.0, 1100.0),
}


@dataclass(frozen=True)
class Occurrence:
    """One hit a (possibly collapsed) slice stands for: where it is in the source and how loud.

    ``start``/``onset``/``end`` are sample indices in the source at the slice's ``sr``;
    ``level_db`` is the RMS level in dBFS of the first 50 ms from the onset; ``peak_db`` the
    sample peak in dBFS.
    """

    start: int
    onset: int
    end: int
    level_db: float
    peak_db: float


@dataclass
class Slice:
    """One sample cut from a stem (see the module docstring for every field)."""

    start: int
    end: int
    sr: int
    audio: FloatArray
    kind: str
    loudness_db: float
    peak_db: float
    midi_note: int | None
    note: str | None
    count: int = 1
    label: str | None = None
    confidence: float | None = None
    tags: tuple[str, ...] = ()
    loudness_unit: str = "LUFS"
    pitch_hz: float | None = None
    part: str = "hit"
    onset: int = -1
    occurrences: tuple[Occurrence, ...] = field(default=())

    @property
    def start_s(self) -> float:
        return self.start / float(self.sr)

    @property
    def end_s(self) -> float:
        return self.end / float(self.sr)

    @property
    def onset_s(self) -> float:
        return (self.onset if self.onset >= 0 else self.start) / float(self.sr)

    @property
    def duration_s(self) -> float:
        return (self.end - self.start) / float(self.sr)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready description (no audio): positions in samples and seconds, levels, note,
        label, and the occurrences' onsets in seconds."""
        return {
            "start": self.start, "end": self.end, "sr": self.sr,
            "start_s": round(self.start_s, 6), "end_s": round(self.end_s, 6),
            "onset_s": round(self.onset_s, 6), "duration_s": round(self.duration_s, 6),
            "kind": self.kind, "part": self.part,
            "loudness_db": _round(self.loudness_db), "loudness_unit": self.loudness_unit,
            "peak_db": _round(self.peak_db),
            "pitch_hz": _round(self.pitch_hz), "midi_note": self.midi_note, "note": self.note,
            "count": self.count, "label": self.label,
            "confidence": _round(self.confidence, 4), "tags": list(self.tags),
            "occurrences_s": [round(o.onset / float(self.sr), 6) for o in self.occurrences],
        }


def _round(value: float | None, ndigits: int = 2) -> float | None:
    if value is None or not np.isfinite(value):
        return None
    return round(float(value), ndigits)


# --------------------------------------------------------------------------- public entry


def slice_audio(
    y: npt.NDArray[np.floating], sr: int, *, kind: str, collapse: bool = True
) -> list[Slice]:
    """Cut ``y`` (``(channels, samples)`` or ``(samples,)``, float, ``sr`` Hz) into samples.

    ``kind`` picks the method (see the module docstring); raises ``ValueError`` for an
    unknown kind. Returns slices sorted by ``start``; an empty list for silence or audio
    shorter than 50 ms.
    """
    if kind not in STEM_KINDS:
        raise ValueError(f"unknown stem kind {kind!r}; expected one of {', '.join(STEM_KINDS)}")
    audio = np.asarray(y, dtype=np.float32)
    if audio.ndim == 1:
        audio = audio[np.newaxis, :]
    if audio.ndim != 2:
        raise ValueError(f"audio must be (channels, samples), got shape {audio.shape}")
    if not np.all(np.isfinite(audio)):
        audio = np.nan_to_num(audio, nan=0.0, posinf=0.0, neginf=0.0)
    n = audio.shape[1]
    if n < int(0.05 * sr):
        return []
    mono = audio.mean(axis=0)
    track_peak = float(np.max(np.abs(mono))) if n else 0.0
    if _db(track_peak) < SILENCE_DB:
        return []
    if kind in DRUM_KINDS:
        spans = _drum_spans(mono, sr)
        slices = _build(audio, mono, sr, kind, spans, part="hit")
    elif kind in TONAL_KINDS:
        spans, pitches = _note_spans(mono, sr, kind)
        slices = _build(audio, mono, sr, kind, spans, part="note", pitches=pitches)
    else:
        phrases, chops, pitches = _vocal_spans(mono, sr)
        slices = _build(audio, mono, sr, kind, phrases, part="phrase")
        slices += _build(audio, mono, sr, kind, chops, part="chop", pitches=pitches)
    floor = max(SILENCE_DB, _db(track_peak) - RELATIVE_SILENCE_DB)
    slices = [s for s in slices if s.peak_db >= floor]
    if collapse:
        slices = collapse_duplicates(slices)
    slices.sort(key=lambda s: (s.start, s.part))
    return slices


def slice_and_classify(
    y: npt.NDArray[np.floating], sr: int, *, kind: str, collapse: bool = True
) -> list[Slice]:
    """:func:`slice_audio`, then label every slice with the sample classifier.

    Fills ``label``, ``confidence`` and ``tags`` from
    ``stemcrate.audio.classify.classify_many([s.audio …], sr, stem_kind=kind)``; a sample
    shows one note: the slice's, or the classifier's where the slicer found none.
    """
    slices = slice_audio(y, sr, kind=kind, collapse=collapse)
    if not slices:
        return slices
    from stemcrate.audio.classify import classify_many

    results = classify_many([s.audio for s in slices], sr, stem_kind=kind)
    return [
        _one_note(replace(s, label=r.label, confidence=float(r.confidence), tags=tuple(r.tags)))
        for s, r in zip(slices, results, strict=True)
    ]


_NOTE_TAG = re.compile(r"^[A-G]#?-?\d+$")


def _one_note(s: Slice) -> Slice:
    """``s`` showing one note. When the slice has a ``note``, it replaces the classifier's
    note-name tag (the classifier's own pitch estimate). When the slicer found no pitch (a
    grain too short for :func:`drum_pitch`, a hit under the tonality bar) but the classifier
    heard a clearly periodic sound, the slice takes the classifier's note (``midi_note`` and
    ``pitch_hz`` of that equal-tempered note)."""
    named = [t for t in s.tags if _NOTE_TAG.match(t)]
    if not named:
        return s
    if s.note is not None:
        return replace(s, tags=tuple(s.note if _NOTE_TAG.match(t) else t for t in s.tags))
    import librosa

    midi = int(librosa.note_to_midi(named[0]))
    return replace(s, note=named[0], midi_note=midi, pitch_hz=float(librosa.midi_to_hz(midi)))


# --------------------------------------------------------------------------- helpers


def _db(x: float) -> float:
    return float(20.0 * np.log10(max(float(x), 1e-12)))


def _hop(sr: int) -> int:
    """Analysis hop of about 5 ms, a power of two (256 at 44.1/48 kHz)."""
    return int(2 ** round(np.log2(max(sr * 0.005, 16))))


def _frame_db(mono: FloatArray, hop: int) -> FloatArray:
    """RMS level per frame in dBFS, frame ``2*hop`` centred on ``t*hop``."""
    import librosa

    rms = librosa.feature.rms(y=mono, frame_length=2 * hop, hop_length=hop, center=True)[0]
    return (20.0 * np.log10(np.maximum(rms, 1e-9))).astype(np.float32)


def _smoothed_abs(mono: FloatArray, width: int) -> FloatArray:
    from scipy.ndimage import maximum_filter1d

    return maximum_filter1d(np.abs(mono), size=max(width, 1), mode="nearest")


def _refine_onsets(mono: FloatArray, sr: int, onsets: Sequence[int]) -> list[int]:
    """Move each detected onset to the sample where its attack starts.

    In a window around the detection the hit's peak is found on a 1 ms max-envelope; walking
    back from the peak, the attack starts where the envelope last sat below 10 % of the way
    from the local floor to the peak.
    """
    env = _smoothed_abs(mono, int(0.001 * sr))
    n = len(mono)
    refined: list[int] = []
    back, fwd = int(0.025 * sr), int(0.02 * sr)
    prev = 0
    for o in sorted(int(v) for v in onsets):
        lo = max(prev, o - back, 0)
        hi = min(n, o + fwd)
        if hi - lo < 4:
            continue
        p = lo + int(np.argmax(env[lo:hi]))
        base = float(np.min(env[lo : p + 1]))
        thr = base + 0.1 * (float(env[p]) - base)
        below = np.nonzero(env[lo:p] < thr)[0]
        attack = lo + int(below[-1]) + 1 if below.size else lo
        if refined and attack - refined[-1] < int(0.015 * sr):
            continue
        refined.append(attack)
        prev = attack + int(0.005 * sr)
    return refined


def _onsets(mono: FloatArray, sr: int, *, delta: float = 0.07) -> list[int]:
    """Onset samples (refined to the attack) from spectral flux, ~5 ms hop: the larger of
    librosa's onset strength over 64 mel bands and over 24 bands above 5 kHz, each scaled to
    [0, 1], peak-picked with a ``delta`` threshold over the local mean."""
    import librosa

    hop = _hop(sr)
    n_fft = 2048 if sr > 30000 else 1024
    env = _normalised(librosa.onset.onset_strength(
        y=mono, sr=sr, hop_length=hop, n_fft=n_fft, n_mels=64))
    if sr >= 16000:  # hats and shakers: flux of the top band alone, so loud kicks don't hide them
        high = librosa.onset.onset_strength(
            y=mono, sr=sr, hop_length=hop, n_fft=n_fft, n_mels=24, fmin=min(5000.0, sr / 4))
        env = np.maximum(env, _normalised(high))
    frames = librosa.onset.onset_detect(
        onset_envelope=env, sr=sr, hop_length=hop, units="frames", backtrack=False,
        normalize=False,
        pre_max=max(1, int(0.03 * sr / hop)), post_max=1,
        pre_avg=max(1, int(0.1 * sr / hop)), post_avg=max(1, int(0.1 * sr / hop)) + 1,
        delta=delta, wait=max(1, int(0.03 * sr / hop)),
    )
    return _refine_onsets(mono, sr, [int(f) * hop for f in frames])


def _normalised(env: FloatArray) -> FloatArray:
    """``env`` scaled to [0, 1] (all zeros stay zeros)."""
    env = env - float(np.min(env)) if env.size else env
    top = float(np.max(env)) if env.size else 0.0
    return env / top if top > 0 else env


def _decay_end(frame_db: FloatArray, hop: int, onset: int, limit: int) -> int:
    """First sample after the hit's peak where its RMS falls ``DECAY_FLOOR_DB`` below the
    peak (or under ``ABSOLUTE_FLOOR_DB``); ``limit`` when it does not before then."""
    f0 = onset // hop
    f1 = min(len(frame_db), max(f0 + 1, limit // hop + 1))
    seg = frame_db[f0:f1]
    if seg.size == 0:
        return limit
    pk = int(np.argmax(seg[: max(1, int(0.1 * len(seg)) + 8)]))
    floor = max(float(seg[pk]) - DECAY_FLOOR_DB, ABSOLUTE_FLOOR_DB)
    below = np.nonzero(seg[pk:] < floor)[0]
    if below.size == 0:
        return limit
    return min(limit, (f0 + pk + int(below[0])) * hop)


def _drum_spans(mono: FloatArray, sr: int) -> list[tuple[int, int, int]]:
    """(onset, end) spans of drum hits as (onset, onset, end)."""
    onsets = _onsets(mono, sr)
    hop = _hop(sr)
    fdb = _frame_db(mono, hop)
    n = len(mono)
    pre = int(0.001 * sr)
    spans: list[tuple[int, int, int]] = []
    for i, o in enumerate(onsets):
        nxt = onsets[i + 1] - pre if i + 1 < len(onsets) else n
        limit = min(nxt, o + int(MAX_HIT_S * sr), n)
        end = _decay_end(fdb, hop, o, limit)
        if end - o >= int(0.01 * sr):
            spans.append((o, o, end))
    return spans


def _pyin(
    mono: FloatArray, sr: int, kind: str
) -> tuple[FloatArray, npt.NDArray[np.bool_], FloatArray]:
    """(f0 Hz with NaN when unvoiced, voiced flag, voiced probability) per 11.6 ms frame of
    the mono signal resampled to 22.05 kHz."""
    import librosa

    y22 = librosa.resample(mono, orig_sr=sr, target_sr=_ANALYSIS_SR, res_type="soxr_hq")
    fmin, fmax = _PITCH_RANGE[kind]
    frame = 2048 if fmin < 60 else 1024
    f0, flag, prob = librosa.pyin(
        y22, fmin=fmin, fmax=fmax, sr=_ANALYSIS_SR, frame_length=frame,
        hop_length=_PITCH_HOP, resolution=0.2, center=True,
    )
    return f0.astype(np.float32), flag.astype(bool), prob.astype(np.float32)


def _pitch_changes(midi: FloatArray, voiced: npt.NDArray[np.bool_]) -> list[int]:
    """Frames where a new note starts: voicing begins, or the pitch leaves the current note by
    ≥ 0.75 semitone for ≥ 4 voiced frames."""
    from scipy.signal import medfilt

    m = np.where(voiced, midi, np.nan)
    filled = np.where(np.isnan(m), 0.0, m)
    smooth = medfilt(filled, 5)
    smooth = np.where(voiced, smooth, np.nan)
    changes: list[int] = []
    current: float | None = None
    run: list[int] = []
    for t in range(len(smooth)):
        v = smooth[t]
        if np.isnan(v) or v <= 0:
            current, run = None, []
            continue
        if current is None:
            current = float(v)
            changes.append(t)
            run = []
            continue
        if abs(v - current) >= 0.75:
            run.append(t)
            if len(run) >= 4:
                changes.append(run[0])
                current = float(np.median(smooth[run[0] : t + 1]))
                run = []
        else:
            run = []
    return changes


def _merge_boundaries(points: Sequence[int], min_gap: int) -> list[int]:
    out: list[int] = []
    for p in sorted(points):
        if out and p - out[-1] < min_gap:
            continue
        out.append(p)
    return out


def _segment_pitch(
    f0: FloatArray, voiced: npt.NDArray[np.bool_], a: int, b: int, sr: int
) -> float | None:
    """Median f0 (Hz) of the analysis frames inside source samples [a, b) when at least half
    of them are voiced, else None."""
    scale = _ANALYSIS_SR / float(sr) / _PITCH_HOP
    fa, fb = int(round(a * scale)), max(int(round(b * scale)), int(round(a * scale)) + 1)
    # skip the attack frames, where pYIN is least reliable
    fa = min(fa + 1, fb - 1) if fb - fa > 3 else fa
    v = voiced[fa:fb]
    if v.size == 0 or v.mean() < 0.5:
        return None
    return float(np.nanmedian(f0[fa:fb][v]))


def _note_spans(
    mono: FloatArray, sr: int, kind: str
) -> tuple[list[tuple[int, int, int]], dict[int, float | None]]:
    """Note spans (cut start, onset, end) and each span's pitch keyed by its onset."""
    import librosa

    f0, voiced, _ = _pyin(mono, sr, kind)
    midi = np.where(voiced, librosa.hz_to_midi(np.where(voiced, f0, 1.0)), np.nan)
    frame_to_sample = sr * _PITCH_HOP / float(_ANALYSIS_SR)
    change_samples = [int(t * frame_to_sample) for t in _pitch_changes(midi, voiced)]
    onsets = _onsets(mono, sr, delta=0.1)
    # a pitch change explained by an onset near it (pYIN's 93 ms frames see a new note up to
    # ~50 ms early and settle up to ~100 ms late) is that onset; the others (legato) start
    # notes themselves
    points = list(onsets)
    before, after = int(0.1 * sr), int(0.07 * sr)
    on_arr = np.asarray(onsets, dtype=np.int64)
    extra = [c for c in change_samples
             if not np.any((on_arr >= c - before) & (on_arr <= c + after))]
    points += _refine_onsets(mono, sr, extra) if extra else []
    bounds = _merge_boundaries(points, int(MIN_NOTE_S * sr))
    hop = _hop(sr)
    fdb = _frame_db(mono, hop)
    n = len(mono)
    spans: list[tuple[int, int, int]] = []
    pitches: dict[int, float | None] = {}
    unvoiced_end = _voicing_ends(voiced, frame_to_sample)
    for i, o in enumerate(bounds):
        nxt = bounds[i + 1] if i + 1 < len(bounds) else n
        limit = min(nxt, o + int(MAX_NOTE_S * sr), n)
        end = _decay_end(fdb, hop, o, limit)
        hz = _segment_pitch(f0, voiced, o, end, sr)
        if hz is not None:
            # a tonal note ends where its voicing ends (plus a short release)
            ve = unvoiced_end(o + int(0.03 * sr))
            if ve is not None and ve + int(0.05 * sr) < end:
                end = max(o + int(MIN_NOTE_S * sr), ve + int(0.05 * sr))
        if end - o >= int(MIN_NOTE_S * sr):
            spans.append((o, o, end))
            pitches[o] = hz
    return spans, pitches


def _voicing_ends(voiced: npt.NDArray[np.bool_], frame_to_sample: float) -> Any:
    """A function: source sample → sample where the voiced run holding it ends (None when
    it is not voiced)."""
    n = len(voiced)

    def end_of_run(sample: int) -> int | None:
        t = int(sample / frame_to_sample)
        if t >= n or not voiced[t]:
            return None
        rest = np.nonzero(~voiced[t:])[0]
        stop = t + int(rest[0]) if rest.size else n
        return int(stop * frame_to_sample)

    return end_of_run


def _vocal_spans(
    mono: FloatArray, sr: int
) -> tuple[list[tuple[int, int, int]], list[tuple[int, int, int]], dict[int, float | None]]:
    """Phrases and chops of a vocal stem as (start, onset, end) spans, and chop pitches."""
    from scipy.ndimage import binary_closing, binary_opening

    f0, voiced, prob = _pyin(mono, sr, "vocals")
    frame_to_sample = sr * _PITCH_HOP / float(_ANALYSIS_SR)
    hop = int(round(frame_to_sample))
    n = len(mono)
    fdb = _frame_db(mono, hop)[: len(voiced)]
    if fdb.size < len(voiced):
        voiced = voiced[: fdb.size]
        f0 = f0[: fdb.size]
    loud = float(np.percentile(fdb, 95))
    noise = float(np.percentile(fdb, 5))
    active = fdb > max(loud - VOICE_RANGE_DB, noise + 10.0, SILENCE_DB)
    gap = max(1, int(PHRASE_GAP_S * sr / hop))
    active = binary_closing(np.pad(active, gap), structure=np.ones(gap))[gap:-gap]
    active = binary_opening(active, structure=np.ones(max(1, int(0.1 * sr / hop))))
    phrases: list[tuple[int, int, int]] = []
    edges = np.diff(np.concatenate([[0], active.astype(np.int8), [0]]))
    starts, stops = np.nonzero(edges == 1)[0], np.nonzero(edges == -1)[0]
    for a, b in zip(starts, stops, strict=True):
        if voiced[a:b].mean() < 0.1 or (b - a) * hop < int(0.15 * sr):
            continue  # breath, noise or bleed, not voice
        for pa, pb in _split_long(fdb, int(a), int(b), int(MAX_PHRASE_S * sr / hop)):
            phrases.append((int(pa * hop), int(pa * hop), int(min(pb * hop, n))))
    # chops: inside each phrase, at onsets and note changes
    onsets = _onsets(mono, sr, delta=0.1)
    import librosa

    midi = np.where(voiced, librosa.hz_to_midi(np.where(voiced, f0, 1.0)), np.nan)
    changes = [int(t * frame_to_sample) for t in _pitch_changes(midi, voiced)]
    chops: list[tuple[int, int, int]] = []
    pitches: dict[int, float | None] = {}
    for ph_start, _, ph_end in phrases:
        inner = [int(p) for p in onsets + changes
                 if ph_start + int(MIN_CHOP_S * sr) <= p < ph_end]
        bounds = [ph_start] + _merge_boundaries(inner, int(MIN_CHOP_S * sr))
        bounds = _merge_boundaries(bounds, int(MIN_CHOP_S * sr))
        for i, s in enumerate(bounds):
            e = bounds[i + 1] if i + 1 < len(bounds) else ph_end
            if e - s < int(MIN_CHOP_S * sr):
                continue
            e = min(e, s + int(MAX_CHOP_S * sr))
            fa, fb = int(s / hop), max(int(e / hop), int(s / hop) + 1)
            if float(np.max(fdb[fa:fb], initial=-200.0)) < loud - CHOP_RANGE_DB:
                continue  # a pause or a breath between syllables
            chops.append((s, s, e))
            pitches[s] = _segment_pitch(f0, voiced, s, e, sr)
    return phrases, chops, pitches


def _split_long(fdb: FloatArray, a: int, b: int, max_len: int) -> list[tuple[int, int]]:
    """Split frames [a, b) at their quietest frame until every part is ≤ ``max_len``."""
    if b - a <= max_len:
        return [(a, b)]
    margin = max(1, (b - a) // 4)
    cut = a + margin + int(np.argmin(fdb[a + margin : b - margin]))
    return _split_long(fdb, a, cut, max_len) + _split_long(fdb, cut, b, max_len)


def _snap_zero(mono: FloatArray, target: int, lo: int, hi: int) -> int:
    """The zero crossing in [lo, hi] nearest ``target`` (else the quietest sample there)."""
    lo, hi = max(lo, 1), min(hi, len(mono) - 1)
    if hi <= lo:
        return int(np.clip(target, 0, len(mono)))
    seg = mono[lo - 1 : hi + 1]
    cross = np.nonzero(seg[:-1] * seg[1:] <= 0)[0]
    if cross.size:
        cand = lo - 1 + cross + 1  # first sample after the sign change
        cand = np.where(np.abs(mono[cand - 1]) < np.abs(mono[cand]), cand - 1, cand)
        return int(cand[np.argmin(np.abs(cand - target))])
    return lo + int(np.argmin(np.abs(mono[lo:hi])))


def _fade(audio: FloatArray, sr: int) -> FloatArray:
    """Raised-cosine fade-in (``FADE_IN_S``) and fade-out (``FADE_OUT_S``), first and last
    samples exactly 0; fades shrink to a quarter of the slice when it is short."""
    n = audio.shape[1]
    out = audio.copy()
    nin = max(2, min(int(FADE_IN_S * sr), n // 4))
    nout = max(2, min(int(FADE_OUT_S * sr), n // 4))
    ramp_in = (0.5 - 0.5 * np.cos(np.linspace(0.0, np.pi, nin))).astype(np.float32)
    ramp_out = (0.5 + 0.5 * np.cos(np.linspace(0.0, np.pi, nout))).astype(np.float32)
    out[:, :nin] *= ramp_in
    out[:, n - nout :] *= ramp_out
    return out


def loudness(audio: FloatArray, sr: int) -> tuple[float, str]:
    """(loudness, unit) of ``audio`` (``(channels, n)`` float32): integrated LUFS (BS.1770,
    pyloudnorm) when at least 0.4 s long and above the gate, else RMS in dBFS."""
    n = audio.shape[1]
    if n >= int(LUFS_MIN_S * sr) and audio.shape[0] <= 5:
        import pyloudnorm

        with np.errstate(divide="ignore"):
            lufs = float(pyloudnorm.Meter(sr).integrated_loudness(audio.T.astype(np.float64)))
        if np.isfinite(lufs):
            return lufs, "LUFS"
    rms = float(np.sqrt(np.mean(np.square(audio, dtype=np.float64)))) if n else 0.0
    return _db(rms), "dBFS RMS"


def _build(
    audio: FloatArray,
    mono: FloatArray,
    sr: int,
    kind: str,
    spans: Sequence[tuple[int, int, int]],
    *,
    part: str,
    pitches: dict[int, float | None] | None = None,
) -> list[Slice]:
    """Cut the (start, onset, end) spans at zero crossings, fade them and measure them."""
    import librosa

    n = audio.shape[1]
    # drum attacks follow near-silence: a zero crossing is close; a tone cut between legato
    # notes may need up to half a period of a low bass note
    pre = int(0.001 * sr)
    search = int((0.003 if kind in DRUM_KINDS else 0.015) * sr)
    out: list[Slice] = []
    for start, onset, end in spans:
        target = max(0, start - pre)
        if onset > 0:
            s = _snap_zero(mono, target, max(0, onset - search - pre), onset)
        else:  # the source starts mid-sound: the first zero crossing
            s = _snap_zero(mono, 0, 0, search) if abs(mono[0]) > 1e-3 else 0
        e = min(n, _snap_zero(mono, end - 1, end - 1 - search, end - 1) + 1)  # exclusive
        if e - s < int(0.01 * sr):
            continue
        cut = _fade(audio[:, s:e], sr)
        peak = float(np.max(np.abs(cut)))
        lvl, unit = loudness(cut, sr)
        hz = pitches.get(start) if pitches is not None else None
        if hz is None and kind in DRUM_KINDS:
            hz = drum_pitch(cut.mean(axis=0), sr)
        midi = int(round(float(librosa.hz_to_midi(hz)))) if hz else None
        name = librosa.midi_to_note(midi, unicode=False) if midi is not None else None
        attack = audio[:, onset : min(n, onset + int(0.05 * sr))]
        level = _db(float(np.sqrt(np.mean(np.square(attack, dtype=np.float64))))) \
            if attack.size else -120.0
        occ = Occurrence(start=s, onset=onset, end=e, level_db=level, peak_db=_db(peak))
        out.append(Slice(
            start=s, end=e, sr=sr, audio=cut, kind=kind, loudness_db=lvl, peak_db=_db(peak),
            midi_note=midi, note=name, loudness_unit=unit, pitch_hz=hz, part=part,
            onset=onset, occurrences=(occ,),
        ))
    return out


def drum_pitch(mono: FloatArray, sr: int) -> float | None:
    """Pitch (Hz) of a tonal drum hit (808 kick, tom, snare body), or None when it is not
    clearly pitched.

    The strongest spectral peak between 30 and 1000 Hz of the hit's body (15–300 ms after
    its start, Hann window, ~1 Hz bins) counts as its pitch when the ±3 % band around it
    holds at least :data:`DRUM_TONALITY` of the energy between 20 Hz and 16 kHz. A bass note
    or a tuned 808 is often louder at its second or third harmonic than at its fundamental:
    when a spectral peak at most :data:`SUBHARMONIC_DB` below it lies within ±8 % of a third
    or a half of that frequency (≥ 30 Hz; the body's short window blurs a low peak by a few
    hertz), the pitch is that third or half (the lower one when both qualify).
    """
    body = mono[int(0.015 * sr) : int(0.3 * sr)].astype(np.float64)
    if body.size < int(0.04 * sr) or np.max(np.abs(body)) < 1e-4:
        return None
    nfft = 1 << int(np.ceil(np.log2(max(sr, body.size))))
    power = np.abs(np.fft.rfft(body * np.hanning(body.size), nfft)) ** 2
    freqs = np.fft.rfftfreq(nfft, 1.0 / sr)
    total = float(power[(freqs >= 20) & (freqs <= min(16000.0, sr / 2))].sum())
    band = (freqs >= 30) & (freqs <= 1000)
    fb, pb = freqs[band], power[band]
    if total <= 0 or pb.size == 0:
        return None
    top = int(np.argmax(pb))
    f0 = float(fb[top])
    near = (fb > f0 * 0.97) & (fb < f0 * 1.03)
    if float(pb[near].sum()) / total < DRUM_TONALITY:
        return None
    floor = float(pb[top]) * 10 ** (-SUBHARMONIC_DB / 10)
    for k in (3, 2):  # the fundamental under a louder harmonic
        idx = np.flatnonzero((fb > f0 / k * 0.92) & (fb < f0 / k * 1.08))
        if f0 / k < 30 or idx.size == 0:
            continue
        j = int(idx[np.argmax(pb[idx])])
        if 0 < j < pb.size - 1 and pb[j] >= max(pb[j - 1], pb[j + 1], floor):
            return f0 / k  # the harmonic's peak is the sharper one (relative to its frequency)
    return f0


# --------------------------------------------------------------------------- duplicates


def fingerprints(slices: Sequence[Slice]) -> tuple[FloatArray, npt.NDArray[np.int64]]:
    """Log-mel fingerprints for duplicate detection: ``(N, 16, 32)`` float32 (16 frames of
    11.6 ms from each slice's start at 22.05 kHz, 32 mel bands, dB over a 60 dB range
    scaled to [0, 1]) and each slice's frame count (frames past its end are 0)."""
    import librosa

    frames, bands = 16, 32
    need = (frames - 1) * _PITCH_HOP + 512
    feats = np.zeros((len(slices), frames, bands), dtype=np.float32)
    counts = np.zeros(len(slices), dtype=np.int64)
    basis = librosa.filters.mel(sr=_ANALYSIS_SR, n_fft=512, n_mels=bands)
    for i, s in enumerate(slices):
        m = s.audio.mean(axis=0)
        if s.sr != _ANALYSIS_SR:
            m = librosa.resample(m, orig_sr=s.sr, target_sr=_ANALYSIS_SR, res_type="soxr_hq")
        m = m[:need]
        used = max(1, min(frames, 1 + (len(m) - 512) // _PITCH_HOP)) if len(m) >= 512 else 1
        m = np.pad(m, (0, max(0, need - len(m))))
        spec = np.abs(librosa.stft(m, n_fft=512, hop_length=_PITCH_HOP, center=False)) ** 2
        mel = basis @ spec[:, :frames]
        db = 10.0 * np.log10(np.maximum(mel, 1e-12))
        db = np.clip((db - (db.max() - 60.0)) / 60.0, 0.0, 1.0).T
        db[used:] = 0.0
        feats[i] = db
        counts[i] = used
    return feats, counts


def _similar(fa: FloatArray, ta: int, fb: FloatArray, tb: int) -> float:
    t = min(ta, tb)
    a, b = fa[:t].ravel(), fb[:t].ravel()
    a, b = a - a.mean(), b - b.mean()
    den = float(np.linalg.norm(a) * np.linalg.norm(b))
    return float(a @ b) / den if den > 0 else 0.0


def collapse_duplicates(
    slices: Sequence[Slice], *, threshold: float = DUPLICATE_SIMILARITY
) -> list[Slice]:
    """Collapse near-identical slices of the same ``part`` to the best one (longest, then
    loudest), summing ``count`` and keeping every ``occurrence``.

    Near-identical: fingerprint correlation (cosine of the mean-removed vectors) ≥
    ``threshold`` over the common length, peaks within 6 dB, the shorter at least half the
    longer (or both longer than the 186 ms fingerprint) and the same MIDI note.
    """
    if len(slices) < 2:
        return list(slices)
    feats, counts = fingerprints(slices)
    order = sorted(range(len(slices)),
                   key=lambda i: (-(slices[i].end - slices[i].start), -slices[i].peak_db))
    reps: list[int] = []
    members: dict[int, list[int]] = {}
    window = int(0.186 * slices[0].sr)
    for i in order:
        si = slices[i]
        li = si.end - si.start
        for r in reps:
            sr_ = slices[r]
            lr = sr_.end - sr_.start
            if sr_.part != si.part or sr_.midi_note != si.midi_note:
                continue
            if abs(sr_.peak_db - si.peak_db) > 6.0:
                continue
            if min(li, lr) < 0.5 * max(li, lr) and min(li, lr) < window:
                continue
            if _similar(feats[i], int(counts[i]), feats[r], int(counts[r])) >= threshold:
                members[r].append(i)
                break
        else:
            reps.append(i)
            members[i] = [i]
    out: list[Slice] = []
    for r in reps:
        occ = tuple(sorted((o for m in members[r] for o in slices[m].occurrences),
                           key=lambda o: o.onset))
        count = sum(slices[m].count for m in members[r])
        out.append(replace(slices[r], count=count, occurrences=occ))
    return out

"""Drum MIDI from classified drum slices: General MIDI percussion on channel 10.

Public API
----------
``drum_midi(slices, *, bpm) -> pretty_midi.PrettyMIDI``
    ``slices``: :class:`stemcrate.audio.slicing.Slice` objects with ``label`` set (from
    :func:`stemcrate.audio.slicing.slice_and_classify` on a drums stem). Every occurrence of
    every slice (collapsed duplicates included) becomes one note on a drum track
    (``is_drum=True``, i.e. channel 10) at its onset time in seconds from the start of the
    source; the file's tempo meta event is ``bpm`` (120 when None), and pretty_midi converts
    the seconds to ticks with that tempo, so notes land on the beat grid in a DAW when the
    BPM is the track's. Notes: :data:`GM_DRUM_NOTES` (kick 36, snare 38, clap 39, closed hat
    42, open hat 46, cymbal 49), toms 45/47/50 (low/mid/high) by the pitch (or spectral
    centroid) of the track's tom hits, percussion by brightness (low conga 64 under 800 Hz
    spectral centroid, cowbell 56 up to 4 kHz, maracas 70 above). Slices labelled ``bass``,
    ``vocal``, ``melodic``, ``fx`` or unlabelled are skipped. Velocity: each hit's attack
    level (RMS dBFS of its first 50 ms) mapped linearly over the track's dynamic range (the
    loudest hit → 127, :data:`VELOCITY_RANGE_DB` below it → 20), clipped to [1, 127]. Note
    length: until the slice's end, at most a 16th note.

``write_drum_midi(slices, target, *, bpm) -> Path`` writes that file (``.mid``).
``drum_midi_bytes(slices, *, bpm) -> bytes`` gives the Standard MIDI File bytes.
``gm_note(label, …) -> int | None`` the GM note of one label.
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from stemcrate.audio.slicing import Slice

if TYPE_CHECKING:
    import pretty_midi

GM_DRUM_NOTES: dict[str, int] = {
    "kick": 36,
    "snare": 38,
    "clap": 39,
    "hihat_closed": 42,
    "hihat_open": 46,
    "cymbal": 49,
}
TOM_NOTES = (45, 47, 50)  # low, mid, high tom
PERCUSSION_NOTES = ((800.0, 64), (4000.0, 56), (float("inf"), 70))  # conga, cowbell, maracas
VELOCITY_RANGE_DB = 36.0
DEFAULT_BPM = 120.0


def _centroid(audio: np.ndarray, sr: int) -> float:
    """Spectral centroid (Hz) of the first 200 ms of ``audio`` (channels, n)."""
    mono = np.asarray(audio, dtype=np.float64).mean(axis=0)[: int(0.2 * sr)]
    if mono.size < 16:
        return 0.0
    power = np.abs(np.fft.rfft(mono * np.hanning(mono.size))) ** 2
    freqs = np.fft.rfftfreq(mono.size, 1.0 / sr)
    total = float(power.sum())
    return float((freqs * power).sum() / total) if total > 0 else 0.0


def _tom_pitch(s: Slice) -> float:
    return float(s.pitch_hz) if s.pitch_hz else _centroid(s.audio, s.sr)


def _tom_notes(toms: Sequence[Slice]) -> dict[int, int]:
    """Map each tom slice (by id) to 45/47/50: its pitch's rank among the distinct tom pitches
    of the track (pitches within a semitone count as one drum)."""
    if not toms:
        return {}
    pitches = sorted({round(12 * np.log2(max(_tom_pitch(s), 1.0) / 440.0)) for s in toms})
    groups: list[float] = []
    for p in pitches:
        if not groups or p - groups[-1] > 1:
            groups.append(p)
    k = len(groups)
    if k == 1:
        notes = [TOM_NOTES[1]]
    elif k == 2:
        notes = [TOM_NOTES[0], TOM_NOTES[2]]
    else:  # spread k drums over low/mid/high
        notes = [TOM_NOTES[min(2, int(3 * i / k))] for i in range(k)]
    out: dict[int, int] = {}
    for s in toms:
        p = round(12 * np.log2(max(_tom_pitch(s), 1.0) / 440.0))
        g = int(np.argmin([abs(p - q) for q in groups]))
        out[id(s)] = notes[g]
    return out


def gm_note(
    label: str | None, *, centroid_hz: float = 0.0, tom_note: int | None = None
) -> int | None:
    """General MIDI drum note for a classifier label (None for non-drum labels)."""
    if label is None:
        return None
    if label in GM_DRUM_NOTES:
        return GM_DRUM_NOTES[label]
    if label == "tom":
        return tom_note if tom_note is not None else TOM_NOTES[1]
    if label == "percussion":
        for limit, note in PERCUSSION_NOTES:
            if centroid_hz < limit:
                return note
    return None


def _velocity(level_db: float, loudest_db: float) -> int:
    frac = 1.0 - (loudest_db - level_db) / VELOCITY_RANGE_DB
    return int(np.clip(round(20 + 107 * frac), 1, 127))


def drum_midi(slices: Sequence[Slice], *, bpm: float | None) -> pretty_midi.PrettyMIDI:
    """A ``pretty_midi.PrettyMIDI`` with one drum track (see the module docstring)."""
    import pretty_midi

    tempo = float(bpm) if bpm and bpm > 0 else DEFAULT_BPM
    pm = pretty_midi.PrettyMIDI(resolution=960, initial_tempo=tempo)
    track = pretty_midi.Instrument(program=0, is_drum=True, name="Drums")
    toms = _tom_notes([s for s in slices if s.label == "tom"])
    events: list[tuple[float, float, int, float]] = []  # onset s, length s, note, level dB
    sixteenth = 60.0 / tempo / 4.0
    for s in slices:
        note = gm_note(s.label, centroid_hz=_centroid(s.audio, s.sr) if s.label == "percussion"
                       else 0.0, tom_note=toms.get(id(s)))
        if note is None:
            continue
        occurrences = s.occurrences or ()
        if not occurrences:
            events.append((s.onset_s, min(s.duration_s, sixteenth), note, s.peak_db))
            continue
        for o in occurrences:
            length = min((o.end - o.onset) / float(s.sr), sixteenth)
            events.append((o.onset / float(s.sr), max(length, 0.01), note, o.level_db))
    if events:
        loudest = max(e[3] for e in events)
        for onset, length, note, level in sorted(events):
            track.notes.append(pretty_midi.Note(
                velocity=_velocity(level, loudest), pitch=note, start=onset, end=onset + length))
    pm.instruments.append(track)
    return pm


def drum_midi_bytes(slices: Sequence[Slice], *, bpm: float | None) -> bytes:
    """The Standard MIDI File (type 1) bytes of :func:`drum_midi`."""
    buf = io.BytesIO()
    drum_midi(slices, bpm=bpm).write(buf)
    return buf.getvalue()


def write_drum_midi(
    slices: Sequence[Slice], target: str | os.PathLike[str], *, bpm: float | None
) -> Path:
    """Write :func:`drum_midi` to ``target`` (a ``.mid`` path; parents created); returns it."""
    path = Path(target)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(drum_midi_bytes(slices, bpm=bpm))
    os.replace(tmp, path)
    return path

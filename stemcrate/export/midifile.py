"""MIDI files for a DAW: the track's tempo written in, and the notes read back in beats.

A transcriber (Basic Pitch writes 120 BPM) places notes in seconds under whatever tempo it
chose. Dropped into a DAW running at the song's tempo, such a file would drift off the grid.
:func:`midi_at_tempo` therefore rewrites the file with a single tempo equal to the track's BPM
while keeping every note, control change and pitch bend at the same time in seconds (the
tick positions are recomputed), so the notes land where they sound in the audio and the
DAW's grid matches the song. A file that already has exactly that one tempo is copied
unchanged.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

TEMPO_TOLERANCE_BPM = 1e-3
RESOLUTION = 960


@dataclass(frozen=True)
class MidiNote:
    """One note: start and length in beats at the track tempo, MIDI key 0..127,
    velocity 0..1, MIDI channel 0..15."""

    time_beats: float
    duration_beats: float
    key: int
    velocity: float
    channel: int


@dataclass(frozen=True)
class MidiPart:
    """The notes of one instrument of a MIDI file."""

    name: str
    is_drum: bool
    program: int
    notes: tuple[MidiNote, ...]


def tempi(data: bytes) -> list[float]:
    """The tempo changes of a MIDI file in BPM (empty when it has no ``set_tempo``)."""
    import mido

    mid = mido.MidiFile(file=io.BytesIO(data))
    return [mido.tempo2bpm(msg.tempo) for track in mid.tracks for msg in track
            if msg.type == "set_tempo"]


def midi_at_tempo(data: bytes, bpm: float | None) -> bytes:
    """``data`` (a Standard MIDI File) with one tempo, ``bpm``, and events at the same seconds.

    ``bpm`` ``None`` (tempo unknown) returns ``data`` unchanged, as does a file whose only
    tempo is already ``bpm``.
    """
    if bpm is None or not bpm > 0:
        return data
    found = tempi(data)
    if len(found) == 1 and abs(found[0] - bpm) <= TEMPO_TOLERANCE_BPM:
        return data
    import pretty_midi

    src = pretty_midi.PrettyMIDI(io.BytesIO(data))
    # 960 ticks per beat (what DAWs use) keeps the re-timed events within ~0.3 ms.
    out = pretty_midi.PrettyMIDI(resolution=max(int(src.resolution), RESOLUTION),
                                 initial_tempo=float(bpm))
    out.instruments = src.instruments
    out.time_signature_changes = src.time_signature_changes
    out.key_signature_changes = src.key_signature_changes
    out.lyrics = src.lyrics
    out.text_events = src.text_events
    buf = io.BytesIO()
    out.write(buf)
    return buf.getvalue()


def read_parts(data: bytes, bpm: float) -> list[MidiPart]:
    """The notes of each instrument of a MIDI file, in beats at ``bpm``.

    Times are taken in seconds from the file (its own tempo map) and converted at ``bpm``, so
    they match audio that plays at ``bpm`` from beat 0.
    """
    import pretty_midi

    pm = pretty_midi.PrettyMIDI(io.BytesIO(data))
    per_s = bpm / 60.0
    parts = []
    for inst in pm.instruments:
        notes = tuple(
            MidiNote(time_beats=n.start * per_s, duration_beats=max(n.end - n.start, 0.0) * per_s,
                     key=int(n.pitch), velocity=min(max(n.velocity / 127.0, 0.0), 1.0),
                     channel=9 if inst.is_drum else 0)
            for n in sorted(inst.notes, key=lambda n: (n.start, n.pitch)))
        parts.append(MidiPart(name=inst.name or ("Drums" if inst.is_drum else "Notes"),
                              is_drum=bool(inst.is_drum), program=int(inst.program),
                              notes=notes))
    return parts

"""Drum MIDI from classified drum slices: GM notes, times, velocities, tempo, channel 10."""

from __future__ import annotations

from pathlib import Path

import mido
import numpy as np
import pretty_midi
import pytest

from stemcrate.audio.drum_midi import (
    GM_DRUM_NOTES,
    drum_midi,
    drum_midi_bytes,
    gm_note,
    write_drum_midi,
)
from stemcrate.audio.slicing import Occurrence, Slice, slice_and_classify
from tests.audio.test_slicing import GM_LABEL, SR, fluid_drum_loop, match


def make_slice(label: str, onsets_s: list[float], levels: list[float], *, pitch: float | None
               = None, length_s: float = 0.2, rng: np.random.Generator | None = None) -> Slice:
    """A labelled slice standing for hits at ``onsets_s`` with attack levels ``levels``."""
    rng = rng or np.random.default_rng(0)
    n = int(length_s * SR)
    t = np.arange(n) / SR
    tone = np.sin(2 * np.pi * (pitch or 3000.0) * t) if pitch else rng.standard_normal(n)
    audio = (0.5 * tone * np.exp(-t / 0.05)).astype(np.float32)[None, :]
    occ = tuple(Occurrence(start=int(o * SR) - 40, onset=int(o * SR), end=int(o * SR) + n,
                           level_db=lv, peak_db=lv + 6) for o, lv in zip(onsets_s, levels,
                                                                        strict=True))
    first = occ[0]
    return Slice(start=first.start, end=first.end, sr=SR, audio=audio, kind="drums",
                 loudness_db=levels[0], peak_db=levels[0] + 6, midi_note=None, note=None,
                 count=len(occ), label=label, confidence=0.9, pitch_hz=pitch,
                 onset=first.onset, occurrences=occ)


def notes_of(pm: pretty_midi.PrettyMIDI) -> list[tuple[float, int, int]]:
    assert len(pm.instruments) == 1 and pm.instruments[0].is_drum
    return [(round(n.start, 4), n.pitch, n.velocity) for n in pm.instruments[0].notes]


def test_gm_notes_times_velocities_and_tempo(tmp_path: Path) -> None:
    slices = [
        make_slice("kick", [0.0, 1.0, 2.0], [-10.0, -16.0, -10.0]),
        make_slice("snare", [0.5, 1.5], [-12.0, -12.0]),
        make_slice("hihat_closed", [0.25, 0.75], [-28.0, -46.0 - 10]),
        make_slice("hihat_open", [1.25], [-20.0]),
        make_slice("clap", [1.75], [-14.0]),
        make_slice("cymbal", [2.0], [-15.0]),
        make_slice("vocal", [0.1], [-5.0]),     # not a drum: skipped
        make_slice("melodic", [0.2], [-5.0]),   # not a drum: skipped
    ]
    pm = drum_midi(slices, bpm=96.0)
    got = notes_of(pm)
    expected_times = [(0.0, 36), (0.25, 42), (0.5, 38), (0.75, 42), (1.0, 36), (1.25, 46),
                      (1.5, 38), (1.75, 39), (2.0, 36), (2.0, 49)]
    assert sorted((t, p) for t, p, _ in got) == expected_times
    times, tempi = pm.get_tempo_changes()
    assert list(times) == [0.0] and tempi[0] == pytest.approx(96.0, abs=1e-3)
    vel = {(t, p): v for t, p, v in got}
    assert vel[(0.0, 36)] == 127 and vel[(2.0, 36)] == 127  # the loudest hits
    assert vel[(1.0, 36)] < vel[(0.0, 36)]  # 6 dB quieter
    assert vel[(0.75, 42)] < vel[(0.25, 42)] < vel[(1.0, 36)]
    assert all(1 <= v <= 127 for _, _, v in got)
    # written file: channel 10 (index 9), the tempo meta event, notes on the beat grid
    path = write_drum_midi(slices, tmp_path / "out" / "drums.mid", bpm=96.0)
    mid = mido.MidiFile(str(path))
    tempos = [m.tempo for tr in mid.tracks for m in tr if m.type == "set_tempo"]
    assert tempos == [mido.bpm2tempo(96.0)]
    note_ons = [m for tr in mid.tracks for m in tr if m.type == "note_on" and m.velocity > 0]
    assert note_ons and all(m.channel == 9 for m in note_ons)
    ticks_per_beat = mid.ticks_per_beat
    reloaded = pretty_midi.PrettyMIDI(str(path))
    for n in reloaded.instruments[0].notes:  # 0.25 s at 96 BPM = 0.4 beats
        beats = n.start * 96.0 / 60.0
        assert abs(beats * ticks_per_beat - round(beats * ticks_per_beat)) < 1e-6
    assert sorted((round(n.start, 3), n.pitch) for n in reloaded.instruments[0].notes) \
        == expected_times
    assert drum_midi_bytes(slices, bpm=96.0)[:4] == b"MThd"


def test_toms_by_pitch_and_percussion_by_brightness() -> None:
    slices = [
        make_slice("tom", [0.0], [-10.0], pitch=82.0),
        make_slice("tom", [0.5], [-10.0], pitch=110.0),
        make_slice("tom", [1.0], [-10.0], pitch=146.0),
        make_slice("tom", [1.5], [-10.0], pitch=84.0),   # the low tom again
        make_slice("percussion", [2.0], [-10.0], pitch=400.0),
        make_slice("percussion", [2.5], [-10.0], pitch=1800.0),
        make_slice("percussion", [3.0], [-10.0], pitch=None),  # white noise: bright
    ]
    got = [p for _, p, _ in notes_of(drum_midi(slices, bpm=None))]
    assert got == [45, 47, 50, 45, 64, 56, 70]
    two = [make_slice("tom", [0.0], [-10.0], pitch=90.0),
           make_slice("tom", [0.5], [-10.0], pitch=150.0)]
    assert [p for _, p, _ in notes_of(drum_midi(two, bpm=120))] == [45, 50]
    pm = drum_midi(two[:1], bpm=None)
    assert pm.get_tempo_changes()[1][0] == pytest.approx(120.0)
    assert [p for _, p, _ in notes_of(pm)] == [47]
    assert gm_note("kick") == 36 and gm_note("fx") is None and gm_note(None) is None
    assert GM_DRUM_NOTES["hihat_open"] == 46


def test_empty_and_unlabelled_slices_give_an_empty_drum_track() -> None:
    s = make_slice("kick", [0.0], [-10.0])
    s.label = None
    pm = drum_midi([s], bpm=100.0)
    assert pm.instruments[0].is_drum and pm.instruments[0].notes == []
    assert drum_midi([], bpm=100.0).instruments[0].notes == []


def test_drum_loop_to_midi(tmp_path: Path) -> None:
    """Rendered loop -> slices -> classifier -> GM notes at the right times (≥ 90 %)."""
    y, hits = fluid_drum_loop(tmp_path)
    slices = slice_and_classify(y, SR, kind="drums")
    pm = drum_midi(slices, bpm=100.0)
    assert pm.get_tempo_changes()[1][0] == pytest.approx(100.0)
    notes = pm.instruments[0].notes
    recall, precision, _ = match([n.start for n in notes], [t for t, _, _ in hits])
    assert recall >= 0.95 and precision >= 0.9

    def family(pitch: int) -> str:
        return "tom" if pitch in (41, 43, 45, 47, 48, 50) else GM_LABEL.get(pitch, str(pitch))

    right = 0
    for t, note, _ in hits:
        near = [n for n in notes if abs(n.start - t) < 0.02]
        right += any(family(n.pitch) == family(note) for n in near)
    print(f"drum MIDI notes right: {right}/{len(hits)}")
    assert right / len(hits) >= 0.9

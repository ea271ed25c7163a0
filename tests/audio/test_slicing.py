"""Slicing stems into one-shots: drum hits, notes, vocal phrases/chops; clicks, silence,
duplicates. Drum loops are assembled from known one-shots at known times: rendered with
FluidSynth (GM soundfont, channel 10) or cut from a real sampled Hydrogen kit."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from stemcrate.audio.decode import load_audio
from stemcrate.audio.slicing import STEM_KINDS, Slice, slice_and_classify, slice_audio

SR = 44100
FLUID_R3 = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")
HYDROGEN_KIT = Path("/usr/share/hydrogen/data/drumkits/ColomboAcousticDrumkit")

# GM drum note -> classifier label
GM_LABEL = {35: "kick", 36: "kick", 38: "snare", 40: "snare", 39: "clap", 42: "hihat_closed",
            44: "hihat_closed", 46: "hihat_open", 49: "cymbal", 57: "cymbal", 45: "tom",
            47: "tom", 48: "tom", 50: "tom", 56: "percussion"}

# (16th step, GM note, velocity): two bars at 100 BPM, no two hits at the same time
LOOP_BPM = 100.0
LOOP_PATTERN = [
    (0, 36, 118), (2, 42, 80), (4, 38, 110), (6, 42, 72), (7, 36, 95), (8, 36, 112),
    (10, 46, 85), (12, 38, 115), (14, 42, 78), (15, 42, 60), (16, 49, 110), (18, 42, 82),
    (20, 38, 105), (21, 39, 100), (22, 36, 100), (24, 36, 120), (26, 42, 75),
    (28, 45, 105), (29, 47, 100), (30, 50, 100), (31, 39, 112), (34, 36, 110), (36, 38, 118),
]
LOOP_START_S = 0.25


def needs_fluidsynth() -> None:
    if shutil.which("fluidsynth") is None or not FLUID_R3.exists():
        pytest.fail("fluidsynth and /usr/share/sounds/sf2/FluidR3_GM.sf2 are needed "
                    "(Debian packages fluidsynth, fluid-soundfont-gm)")


def render_midi(notes: Sequence[tuple[float, float, int, int]], tmp: Path, *, drum: bool,
                program: int = 0, font: Path = FLUID_R3, reverb: bool = True) -> np.ndarray:
    """Render (start_s, end_s, pitch, velocity) notes with FluidSynth; (2, n) float32."""
    import pretty_midi

    needs_fluidsynth()
    pm = pretty_midi.PrettyMIDI(initial_tempo=120.0, resolution=960)
    inst = pretty_midi.Instrument(program=program, is_drum=drum)
    for start, end, pitch, vel in notes:
        inst.notes.append(pretty_midi.Note(velocity=vel, pitch=pitch, start=start, end=end))
    pm.instruments.append(inst)
    tmp.mkdir(parents=True, exist_ok=True)
    mid, wav = tmp / "in.mid", tmp / "out.wav"
    pm.write(str(mid))
    cmd = ["fluidsynth", "-ni", "-g", "1.0", "-r", str(SR), "-F", str(wav)]
    if not reverb:
        cmd += ["-R", "0", "-C", "0"]
    subprocess.run(cmd + [str(font), str(mid)], check=True, capture_output=True, timeout=60)
    y, sr = load_audio(wav)
    assert sr == SR
    return y


def loop_hits(bpm: float = LOOP_BPM) -> list[tuple[float, int, int]]:
    """(time_s, GM note, velocity) of :data:`LOOP_PATTERN`."""
    step = 60.0 / bpm / 4.0
    return [(LOOP_START_S + s * step, note, vel) for s, note, vel in LOOP_PATTERN]


def fluid_drum_loop(tmp: Path) -> tuple[np.ndarray, list[tuple[float, int, int]]]:
    hits = loop_hits()
    y = render_midi([(t, t + 0.1, n, v) for t, n, v in hits], tmp, drum=True)
    return y, hits


def attack_offset(y: np.ndarray) -> int:
    """Sample where a one-shot's attack starts (first sample above 10 % of its peak)."""
    m = np.abs(y).max(axis=0)
    return int(np.argmax(m >= 0.1 * m.max()))


def hydrogen_sample(name: str) -> np.ndarray:
    path = HYDROGEN_KIT / name
    if not path.exists():
        pytest.fail(f"{path} missing (Debian package hydrogen-drumkits)")
    y, sr = load_audio(path, sr=SR)
    if y.shape[0] == 1:
        y = np.repeat(y, 2, axis=0)
    return y[:2]


def choke(shot: np.ndarray, seconds: float) -> np.ndarray:
    """An open hi-hat closed by the next hat: cut after ``seconds`` with a 20 ms fade."""
    n = int(seconds * SR)
    out = shot[:, :n].copy()
    fade = int(0.02 * SR)
    out[:, -fade:] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)
    return out


def assemble(placements: Sequence[tuple[float, np.ndarray, float]], length_s: float
             ) -> tuple[np.ndarray, list[float]]:
    """Mix (time_s, one-shot (2, n), gain) at known times; returns the mix and the true
    onset times (placement + the one-shot's own attack offset)."""
    out = np.zeros((2, int(length_s * SR)), dtype=np.float32)
    onsets = []
    for t, shot, gain in placements:
        a = int(round(t * SR))
        n = min(shot.shape[1], out.shape[1] - a)
        out[:, a : a + n] += gain * shot[:, :n]
        onsets.append(t + attack_offset(shot) / SR)
    return out, onsets


def hydrogen_loop() -> tuple[np.ndarray, list[float]]:
    """A real-kit groove with simultaneous hits (kick+hat) at 96 BPM, 2 bars."""
    kick = hydrogen_sample("bassdrum-4mics-br-stereo-normal3.flac")
    snare = hydrogen_sample("snare-opaque-normal-mic-normal_shot2.flac")
    hat = hydrogen_sample("hihat-closed-1.flac")
    step = 60.0 / 96.0 / 4.0
    ohat = choke(hydrogen_sample("hihat-open-4.flac"), 2 * step)
    tom = hydrogen_sample("tom-mid-1.flac")
    crash = hydrogen_sample("crash16i__crash1.flac")
    rng = np.random.default_rng(7)
    placements = []
    for bar in range(2):
        for s in range(16):
            t = 0.2 + (bar * 16 + s) * step
            g = float(rng.uniform(0.5, 1.0))
            if s in (0, 10) or (bar == 1 and s == 7):
                placements.append((t, kick, g))
            if s in (4, 12):
                placements.append((t, snare, g))
            if s % 2 == 0 and s not in (14,):
                placements.append((t, hat, 0.5 * g))
            if s == 14:
                placements.append((t, ohat if bar == 0 else tom, g))
    placements.append((0.2 + 32 * step, crash, 0.8))
    placements.append((0.2 + 32 * step, kick, 0.9))
    y, onsets = assemble(placements, 0.2 + 32 * step + 2.5)
    merged: list[float] = []
    for t in sorted(onsets):  # hits within 25 ms of each other sound as one onset
        if not merged or t - merged[-1] > 0.025:
            merged.append(t)
    return y, merged


def match(detected: Sequence[float], reference: Sequence[float], tol: float = 0.02
          ) -> tuple[float, float, list[float]]:
    """Greedy one-to-one matching within ``tol`` s: (recall, precision, errors in s)."""
    det = sorted(detected)
    used: set[int] = set()
    errors = []
    for r in sorted(reference):
        best, best_err = None, tol
        for i, d in enumerate(det):
            if i not in used and abs(d - r) <= best_err:
                best, best_err = i, abs(d - r)
        if best is not None:
            used.add(best)
            errors.append(det[best] - r)
    recall = len(errors) / max(1, len(reference))
    precision = len(errors) / max(1, len(det))
    return recall, precision, errors


def nearest(slices: Sequence[Slice], t: float) -> Slice:
    """The slice whose onset is closest to ``t`` seconds."""
    return min(slices, key=lambda s: abs(s.onset_s - t))


def onsets_of(slices: Sequence[Slice]) -> list[float]:
    return [o.onset / s.sr for s in slices for o in s.occurrences]


@pytest.fixture(scope="module")
def fluid_loop(tmp_path_factory: pytest.TempPathFactory):
    return fluid_drum_loop(tmp_path_factory.mktemp("fluid_loop"))


@pytest.fixture(scope="module")
def fluid_slices(fluid_loop):
    y, _ = fluid_loop
    return slice_audio(y, SR, kind="drums")


# --------------------------------------------------------------------------- drums


def test_fluidsynth_drum_loop_onsets(fluid_loop, fluid_slices) -> None:
    _, hits = fluid_loop
    recall, precision, errors = match(onsets_of(fluid_slices), [t for t, _, _ in hits])
    print(f"FluidSynth loop: recall {recall:.3f} precision {precision:.3f} "
          f"mean |error| {1000 * np.mean(np.abs(errors)):.1f} ms")
    assert recall >= 0.95
    assert precision >= 0.9
    # every hit's slice starts just before its attack, never after it
    assert sum(s.count for s in fluid_slices) == len(onsets_of(fluid_slices))


def test_real_kit_loop_onsets_with_simultaneous_hits() -> None:
    y, onsets = hydrogen_loop()
    slices = slice_audio(y, SR, kind="drums")
    recall, precision, errors = match(onsets_of(slices), onsets)
    print(f"Hydrogen loop: {len(onsets)} onsets, recall {recall:.3f} "
          f"precision {precision:.3f} mean |error| {1000 * np.mean(np.abs(errors)):.1f} ms")
    assert recall >= 0.95
    assert precision >= 0.9


def test_drum_hits_end_at_next_onset_or_decay(fluid_slices) -> None:
    starts = sorted(o.start for s in fluid_slices for o in s.occurrences)
    for s in fluid_slices:
        assert 0 < s.end - s.start <= int(2.0 * SR) + 1
        assert s.start <= s.onset < s.end
        later = [x for x in starts if x > s.onset]
        if later:  # ends before the next hit's cut (a few samples of zero-crossing slack)
            assert s.end <= later[0] + int(0.001 * SR)
        assert s.audio.shape == (2, s.end - s.start)
        assert s.audio.dtype == np.float32
    # the last hit (a clap) rings out and stops at its decay floor or the 2 s cap
    assert fluid_slices[-1].end_s > fluid_slices[-1].onset_s + 0.3


def test_drum_slices_have_levels_and_tonal_notes(fluid_loop, fluid_slices) -> None:
    for s in fluid_slices:
        assert -60.0 <= s.peak_db <= 0.0
        assert np.isfinite(s.loudness_db) and s.loudness_db <= s.peak_db
        expect = "LUFS" if s.duration_s >= 0.4 else "dBFS RMS"
        assert s.loudness_unit in (expect, "dBFS RMS")
    _, hits = fluid_loop
    # the three toms (45, 47, 50) are pitched, rising in that order
    tom_times = [t for t, n, _ in hits if n in (45, 47, 50)]
    toms = [nearest(fluid_slices, t) for t in tom_times]
    notes = [s.midi_note for s in toms]
    assert all(n is not None for n in notes), notes
    assert sorted(n or 0 for n in notes) == [n or 0 for n in notes] and len(set(notes)) == 3
    assert all(s.note is not None and s.pitch_hz for s in toms)


def test_drum_loop_slices_classified(fluid_loop) -> None:
    """Slices of the FluidSynth loop (one per hit) get the instrument's label ≥ 90 %."""
    y, hits = fluid_loop
    slices = slice_and_classify(y, SR, kind="drums", collapse=False)
    right, rows = 0, []
    for t, note, _ in hits:
        s = nearest(slices, t)
        ok = abs(s.onset_s - t) < 0.02 and s.label == GM_LABEL[note]
        right += ok
        rows.append(f"{t:.3f} {GM_LABEL[note]:>12} -> {s.label} ({s.confidence:.2f})")
    accuracy = right / len(hits)
    print("\n".join(rows) + f"\naccuracy {accuracy:.3f}")
    assert all(s.label is not None and 0 <= (s.confidence or 0) <= 1 for s in slices)
    assert accuracy >= 0.9


# --------------------------------------------------------------------------- clicks


def assert_click_free(s: Slice, source: np.ndarray) -> None:
    peak = float(np.max(np.abs(s.audio)))
    assert peak > 0
    assert np.all(s.audio[:, 0] == 0) and np.all(s.audio[:, -1] == 0)
    edge = max(2, int(0.0005 * s.sr))
    # no step at either end: the first/last 0.5 ms stay small next to the slice's peak
    assert np.max(np.abs(s.audio[:, :edge])) <= 0.05 * peak
    assert np.max(np.abs(s.audio[:, -edge:])) <= 0.05 * peak
    # the cut itself sits near a zero crossing of the source (mono mix)
    mono = source.mean(axis=0)
    for pos in (s.start, s.end - 1):
        assert abs(mono[pos]) <= 0.1 * peak + 1e-4


def test_no_clicks_drums(fluid_loop, fluid_slices) -> None:
    y, _ = fluid_loop
    for s in fluid_slices:
        assert_click_free(s, y)


def test_no_clicks_on_sustained_tone() -> None:
    """A sustained loud sine cut between notes: fades keep both ends at zero."""
    t = np.arange(int(2.0 * SR)) / SR
    freq = np.where(t < 1.0, 110.0, 164.8)
    phase = 2 * np.pi * np.cumsum(freq) / SR
    y = (0.7 * np.sin(phase)).astype(np.float32)[None, :]
    slices = slice_audio(y, SR, kind="bass")
    assert len(slices) == 2
    for s in slices:
        assert_click_free(s, y)
    assert [s.note for s in slices] == ["A2", "E3"]


# --------------------------------------------------------------------------- silence


def test_silence_gives_no_slices() -> None:
    silent = np.zeros((2, SR * 3), dtype=np.float32)
    hiss = (np.random.default_rng(3).standard_normal((2, SR * 3)) * 1e-4).astype(np.float32)
    for kind in STEM_KINDS:
        assert slice_audio(silent, SR, kind=kind) == []
        assert slice_audio(hiss, SR, kind=kind) == []
    assert slice_audio(np.ones(100, dtype=np.float32), SR, kind="drums") == []


def test_quiet_bleed_next_to_loud_hits_is_dropped() -> None:
    kick = hydrogen_sample("bassdrum-4mics-br-stereo-normal3.flac")
    y, _ = assemble([(0.2, kick, 1.0), (0.8, kick, 0.002), (1.4, kick, 1.0)], 2.5)
    slices = slice_audio(y, SR, kind="drums", collapse=False)
    assert len(slices) == 2  # the -54 dB ghost is under the relative floor
    assert all(abs(s.onset_s - t) < 0.02 for s, t in zip(slices, (0.2, 1.4), strict=True))


def test_unknown_kind_raises() -> None:
    with pytest.raises(ValueError, match="unknown stem kind"):
        slice_audio(np.zeros((1, SR)), SR, kind="kazoo")


# --------------------------------------------------------------------------- duplicates


def test_identical_hits_collapse_keeping_the_count() -> None:
    kick = hydrogen_sample("bassdrum-4mics-br-stereo-normal3.flac")
    snare = hydrogen_sample("snare-opaque-normal-mic-normal_shot2.flac")
    hat = hydrogen_sample("hihat-closed-1.flac")
    beat = 0.5
    placements = []
    for i in range(8):
        shot = kick if i % 2 == 0 else snare
        placements.append((0.1 + i * beat, shot, 0.9))
        placements.append((0.1 + i * beat + beat / 2, hat, 0.5))
    y, onsets = assemble(placements, 0.1 + 8 * beat + 1.0)
    full = slice_audio(y, SR, kind="drums", collapse=False)
    collapsed = slice_audio(y, SR, kind="drums")
    assert len(full) == 16
    assert sum(s.count for s in collapsed) == len(full)
    # kicks and snares are identical hits: one slice each with every repeat counted; the
    # hats sit on different tails (kick or snare) and may stay two groups
    assert len(collapsed) <= 4
    groups = []
    for s in collapsed:
        idx = {int(np.argmin(np.abs(np.asarray(onsets) - o.onset / SR)))
               for o in s.occurrences}
        shots = {id(placements[j][1]) for j in idx}
        assert len(shots) == 1, "different one-shots were merged"
        groups.append((shots.pop(), s.count))
    assert (id(kick), 4) in groups and (id(snare), 4) in groups
    assert sum(c for shot, c in groups if shot == id(hat)) == 8
    # the survivors keep every hit's position
    recall, precision, _ = match(onsets_of(collapsed), onsets)
    assert recall == 1.0 and precision == 1.0


# --------------------------------------------------------------------------- notes


@pytest.mark.parametrize("kind,program,notes", [
    ("bass", 33, [40, 43, 45, 40, 47, 45, 43, 38]),   # fingered bass, E2..B2
    ("other", 0, [60, 64, 67, 72, 71, 67, 65, 62]),   # piano
    ("other", 80, [69, 71, 72, 74, 72, 71, 69, 67]),  # square lead, legato steps
])
def test_note_slicing_finds_the_melody(tmp_path: Path, kind: str, program: int,
                                       notes: list[int]) -> None:
    events, t = [], 0.3
    for i, n in enumerate(notes):
        dur = 0.4 if i % 2 else 0.25
        events.append((t, t + dur, n, 100))
        t += dur + (0.12 if i % 3 == 0 else 0.0)
    y = render_midi(events, tmp_path, drum=False, program=program, reverb=False)
    slices = slice_audio(y, SR, kind=kind, collapse=False)
    got = [(round(s.onset_s, 3), s.midi_note) for s in slices]
    print(got)
    pitched = [s for s in slices if s.midi_note is not None]
    assert [s.midi_note for s in pitched] == notes, got
    for (start, _, n, _), s in zip(events, pitched, strict=True):
        assert abs(s.onset_s - start) < 0.05
        assert s.part == "note"
        import librosa

        assert s.note == librosa.midi_to_note(n, unicode=False)
        assert s.pitch_hz is not None
        assert abs(12 * np.log2(s.pitch_hz / librosa.midi_to_hz(n))) < 0.5
    assert len(slices) == len(notes)


def test_repeated_bass_notes_collapse_by_note(tmp_path: Path) -> None:
    notes = [40, 40, 43, 40, 40, 43, 45, 40]
    events = [(0.2 + i * 0.35, 0.2 + i * 0.35 + 0.3, n, 100) for i, n in enumerate(notes)]
    y = render_midi(events, tmp_path, drum=False, program=33, reverb=False)
    slices = slice_audio(y, SR, kind="bass")
    by_note = {s.midi_note: s.count for s in slices}
    assert sum(s.count for s in slices) == len(notes)
    assert by_note.get(40) == 5 and by_note.get(43) == 2 and by_note.get(45) == 1


# --------------------------------------------------------------------------- vocals


def test_vocal_phrases_follow_the_pauses() -> None:
    """Three sung 'phrases' (harmonic tones with vibrato and a note change) split by rests."""
    rng = np.random.default_rng(5)
    parts = [(0.3, 1.5, [220.0, 246.9]), (2.1, 3.3, [261.6, 293.7]), (3.9, 5.4, [329.6, 220.0])]
    n = int(6.0 * SR)
    t = np.arange(n) / SR
    f = np.zeros(n)
    amp = np.zeros(n)
    for a, b, (f1, f2) in parts:
        mid = (a + b) / 2
        f[(t >= a) & (t < mid)] = f1
        f[(t >= mid) & (t < b)] = f2
        amp[(t >= a) & (t < b)] = 0.3
    f = f * (1 + 0.01 * np.sin(2 * np.pi * 5.5 * t))
    phase = 2 * np.pi * np.cumsum(f) / SR
    voice = sum((0.6 ** k) * np.sin(k * phase) for k in range(1, 6))
    from scipy.ndimage import uniform_filter1d

    amp = uniform_filter1d(amp, int(0.03 * SR))
    y = (amp * voice + 1e-4 * rng.standard_normal(n)).astype(np.float32)[None, :]
    slices = slice_audio(y, SR, kind="vocals")
    phrases = [s for s in slices if s.part == "phrase"]
    chops = [s for s in slices if s.part == "chop"]
    assert len(phrases) == 3
    for s, (a, b, _) in zip(phrases, parts, strict=True):
        assert abs(s.start_s - a) < 0.06 and abs(s.end_s - b) < 0.1
        assert s.loudness_unit == "LUFS"
    assert chops
    for c in chops:
        assert any(p.start <= c.start and c.end <= p.end + 1 for p in phrases)
    import librosa

    expected = {librosa.hz_to_note(f0, unicode=False) for _, _, fs in parts for f0 in fs}
    found = {c.note for c in chops if c.note}
    assert len(found & expected) >= 4


def test_speech_phrases_and_chops(corpus: Path) -> None:
    y, sr = load_audio(corpus / "198-209-0000.ogg")
    slices = slice_audio(y, sr, kind="vocals")
    phrases = [s for s in slices if s.part == "phrase"]
    chops = [s for s in slices if s.part == "chop"]
    # read speech with audible pauses between its clauses
    assert 4 <= len(phrases) <= 10
    assert sum(p.duration_s for p in phrases) > 0.6 * (y.shape[1] / sr)
    for a, b in zip(phrases, phrases[1:], strict=False):
        assert b.start >= a.end  # phrases do not overlap
    assert len(chops) >= 2 * len(phrases)
    assert all(0.1 <= c.duration_s <= 1.5 for c in chops)
    assert all(s.audio.shape[0] == 1 for s in slices)


def test_real_kit_hits_classified() -> None:
    """Real recorded one-shots (Hydrogen's Colombo acoustic kit) cut from a groove: the
    classifier names ≥ 85 % of them (held to a lower bar than the rendered loop: these are
    sources the classifier never trained on, with tails cut by the next hit)."""
    shots = {
        "kick": hydrogen_sample("bassdrum-4mics-br-stereo-normal3.flac"),
        "snare": hydrogen_sample("snare-opaque-normal-mic-normal_shot2.flac"),
        "hihat_closed": hydrogen_sample("hihat-closed-1.flac"),
        "hihat_open": choke(hydrogen_sample("hihat-open-4.flac"), 0.3),
        "tom": hydrogen_sample("tom-mid-1.flac"),
        "cymbal": hydrogen_sample("crash16i__crash1.flac"),
    }
    order = ["kick", "hihat_closed", "snare", "hihat_closed", "kick", "kick", "hihat_open",
             "snare", "tom", "hihat_closed", "cymbal", "snare", "kick", "hihat_closed"]
    y, onsets = assemble([(0.1 + i * 0.3, shots[lab], 0.8) for i, lab in enumerate(order)],
                         0.1 + len(order) * 0.3 + 1.5)
    slices = slice_and_classify(y, SR, kind="drums", collapse=False)
    got = [nearest(slices, t).label for t in onsets]
    accuracy = float(np.mean([g == lab for g, lab in zip(got, order, strict=True)]))
    print(list(zip(order, got, strict=True)), f"accuracy {accuracy:.3f}")
    assert accuracy >= 0.85


# --------------------------------------------------------------------------- drum pitch


def _hit(partials: Sequence[tuple[float, float]], *, seconds: float = 0.6, decay_s: float = 0.25,
         noise: float = 0.0, seed: int = 0) -> np.ndarray:
    """A decaying hit: (frequency Hz, amplitude) partials plus optional white noise, mono."""
    t = np.arange(int(seconds * SR)) / SR
    y = sum(a * np.sin(2 * np.pi * f * t) for f, a in partials)
    y = y + noise * np.random.default_rng(seed).standard_normal(t.size)
    return np.asarray(y * np.exp(-t / decay_s), dtype=np.float64)


@pytest.mark.parametrize(("f0", "amps"), [
    (55.0, (0.4, 1.0, 0.5, 0.25)),  # A1 bass note, its octave the loudest
    (41.2, (0.3, 0.5, 1.0, 0.4)),  # E1, its twelfth the loudest
    (98.0, (0.5, 1.0, 0.3)),  # G2
])
def test_drum_pitch_is_the_fundamental_under_a_louder_harmonic(f0, amps) -> None:
    from stemcrate.audio.slicing import drum_pitch

    hz = drum_pitch(_hit([(f0 * (k + 1), a) for k, a in enumerate(amps)]), SR)
    assert hz is not None and abs(12 * np.log2(hz / f0)) < 0.3, hz


@pytest.mark.parametrize(("partials", "noise", "expect"), [
    ([(110.0, 1.0), (175.0, 0.5), (235.0, 0.3)], 0.0, 110.0),  # tom: inharmonic modes
    ([(52.0, 1.0)], 0.0, 52.0),  # 808: a sine
    ([(185.0, 1.0)], 0.05, 185.0),  # snare body under its wires' noise
])
def test_drum_pitch_keeps_a_fundamental_that_is_the_loudest(partials, noise, expect) -> None:
    from stemcrate.audio.slicing import drum_pitch

    hz = drum_pitch(_hit(partials, noise=noise, seed=3), SR)
    assert hz is not None and abs(12 * np.log2(hz / expect)) < 0.3, hz


def test_drum_hit_notes_of_a_real_track_agree_with_yin_and_with_their_tags(corpus) -> None:
    """The corpus's drum-and-bass track sliced as drums: the note of each pitched hit is the
    one librosa's YIN hears (median f0) for ≥ 80 % of them (the strongest-peak pitch alone
    agreed for 45 %: mostly an octave high, on bass notes under the hits), and a sample
    shows one note: its tags never name another than the slice's."""
    import librosa

    y, sr = load_audio(corpus / "admiralbob77_-_Choice_-_Drum-bass.ogg")
    slices = slice_and_classify(y, sr, kind="drums", collapse=False)
    pitched = [s for s in slices if s.pitch_hz is not None]
    assert len(pitched) >= 30
    agree = []
    for s in pitched:
        ref = float(np.median(librosa.yin(s.audio.mean(axis=0), fmin=30, fmax=1000, sr=sr,
                                          frame_length=4096)))
        agree.append(abs(12 * np.log2((s.pitch_hz or 1.0) / ref)) < 1.0)
    print(f"{np.mean(agree):.3f} of {len(pitched)} pitched hits agree with YIN")
    assert np.mean(agree) >= 0.8
    for s in slices:
        named = [t for t in s.tags if t[0] in "ABCDEFG" and t[-1].isdigit()]
        assert named in ([], [s.note]), (s.note, s.tags)
        if named:  # a note the classifier heard that the slicer did not: the slice's now
            assert s.midi_note == librosa.note_to_midi(named[0]) and s.pitch_hz

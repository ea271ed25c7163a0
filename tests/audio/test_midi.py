"""Basic Pitch through its ONNX model: same notes as Basic Pitch's own predict(), real audio."""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from stemcrate.audio.decode import load_audio
from stemcrate.audio.midi import (
    FRAMES_PER_SECOND,
    MIDI_KINDS,
    MODEL_SAMPLE_RATE,
    MidiParams,
    get_session,
    model_info,
    model_path,
    params_for,
    transcribe_midi,
)
from stemcrate.errors import InputError

SOUNDFONT = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")
TRUMPET = "sorohanro_-_solo-trumpet-06.ogg"
FRAME_S = 1.0 / FRAMES_PER_SECOND


def _render(tmp_path: Path, notes: list[tuple[float, float, int]], program: int,
            name: str) -> tuple[Path, list[tuple[float, float, int]]]:
    """Write a one-instrument MIDI file and render it with FluidSynth (44.1 kHz WAV)."""
    import pretty_midi

    if shutil.which("fluidsynth") is None or not SOUNDFONT.is_file():
        pytest.fail("fluidsynth and fluid-soundfont-gm are needed (Debian packages)")
    pm = pretty_midi.PrettyMIDI(initial_tempo=120)
    inst = pretty_midi.Instrument(program=program)
    for start, end, pitch in notes:
        inst.notes.append(pretty_midi.Note(velocity=100, pitch=pitch, start=start, end=end))
    pm.instruments.append(inst)
    mid = tmp_path / f"{name}.mid"
    wav = tmp_path / f"{name}.wav"
    pm.write(str(mid))
    subprocess.run(["fluidsynth", "-ni", "-g", "1.0", "-F", str(wav), "-r", "44100",
                    str(SOUNDFONT), str(mid)], check=True, capture_output=True, timeout=60)
    return wav, notes


def _melody(seed: int, *, low: int, high: int, n: int = 16,
            dur: float = 0.3, gap: float = 0.1) -> list[tuple[float, float, int]]:
    rng = np.random.default_rng(seed)
    pitches = rng.integers(low, high + 1, size=n)
    t = 0.25
    out = []
    for p in pitches:
        out.append((t, t + dur, int(p)))
        t += dur + gap
    return out


def _note_f1(ref: list[tuple[float, float, int]], est: list) -> float:
    import mir_eval

    ref_i = np.array([[s, e] for s, e, _ in ref])
    ref_p = np.array([440.0 * 2 ** ((p - 69) / 12) for _, _, p in ref])
    if not est:
        return 0.0
    est_i = np.array([[n[0], max(n[1], n[0] + 1e-3)] for n in est])
    est_p = np.array([440.0 * 2 ** ((n[2] - 69) / 12) for n in est])
    _, _, f1, _ = mir_eval.transcription.precision_recall_f1_overlap(
        ref_i, ref_p, est_i, est_p, onset_tolerance=0.05, offset_ratio=None)
    return float(f1)


@pytest.mark.parametrize("kind", [None, "guitar"])
def test_same_notes_as_basic_pitch_predict(corpus: Path, tmp_path: Path,
                                           kind: str | None) -> None:
    """Our ONNX path gives Basic Pitch's own notes for the same samples and parameters."""
    from basic_pitch.inference import predict

    y, sr = load_audio(corpus / TRUMPET, sr=MODEL_SAMPLE_RATE, mono=True)
    wav = tmp_path / "trumpet.wav"  # float WAV at 22 050 Hz: librosa reads it back unchanged
    sf.write(wav, y[0], sr, subtype="FLOAT")
    params = params_for(kind)
    assert not params.monophonic
    _, their_midi, their_events = predict(wav, str(model_path()), **params.predict_kwargs(),
                                          midi_tempo=90.0)
    ours = transcribe_midi(y, sr, kind=kind, bpm=90.0, pitch_bends=True)

    theirs = sorted((float(s), float(e), int(p), int(round(127 * a)))
                    for s, e, p, a, _ in their_events)
    assert len(theirs) >= 5, "the trumpet loop has a melody"
    assert ours.note_count == len(theirs)
    for mine, ref in zip(ours.notes, theirs, strict=True):
        assert mine.pitch == ref[2]
        assert abs(mine.start_s - ref[0]) <= FRAME_S + 1e-6
        assert abs(mine.end_s - ref[1]) <= FRAME_S + 1e-6
        assert abs(mine.velocity - ref[3]) <= 1
    their_bends = sum(len(i.pitch_bends) for i in their_midi.instruments)
    assert sum(len(i.pitch_bends) for i in ours.midi.instruments) == their_bends
    assert ours.midi.get_tempo_changes()[1][0] == pytest.approx(90.0)
    # the loop is in F: its notes sit in a trumpet's range
    lo, hi = ours.pitch_range or (0, 0)
    assert 52 <= lo <= hi <= 84


@pytest.mark.slow
def test_fluidsynth_melody_note_f1(tmp_path: Path) -> None:
    """A rendered flute melody is transcribed with note F1 >= 0.8 (50 ms onsets)."""
    wav, ref = _render(tmp_path, _melody(7, low=67, high=84), program=73, name="flute")
    y, sr = load_audio(wav)
    result = transcribe_midi(y, sr)
    f1 = _note_f1(ref, list(result.notes))
    assert f1 >= 0.8, f"note F1 {f1:.3f}: {result.notes}"


def test_bass_kind_range_and_one_line(tmp_path: Path) -> None:
    """Bass settings keep notes in the bass range and never overlap (one line)."""
    wav, ref = _render(tmp_path, _melody(3, low=28, high=52, n=12, dur=0.35),
                       program=33, name="bass")
    y, sr = load_audio(wav)
    result = transcribe_midi(y, sr, kind="bass", bpm=100)
    assert result.note_count >= 6
    lo, hi = result.pitch_range or (0, 0)
    assert lo >= 23 and hi <= 67  # 30 Hz .. 400 Hz
    for a, b in zip(result.notes, result.notes[1:], strict=False):
        assert b.start_s >= a.end_s - 1e-9
    assert _note_f1(ref, list(result.notes)) >= 0.8
    assert result.midi.instruments[0].program == 33


def test_vocals_kind_reduces_chords_to_one_line(tmp_path: Path) -> None:
    """Piano chords transcribed with vocal settings come out as one non-overlapping line."""
    chords = [(0.2 + i * 0.6, 0.7 + i * 0.6, p) for i, root in enumerate([60, 65, 67, 60])
              for p in (root, root + 4, root + 7)]
    wav, _ = _render(tmp_path, chords, program=0, name="chords")
    y, sr = load_audio(wav)
    poly = transcribe_midi(y, sr)
    mono = transcribe_midi(y, sr, kind="vocals")
    assert poly.note_count > mono.note_count >= 2

    def overlaps(notes: list) -> int:
        return sum(1 for a, b in zip(notes, notes[1:], strict=False) if b.start_s < a.end_s - 1e-9)

    assert overlaps(poly.notes) > 0
    assert overlaps(mono.notes) == 0


def test_midi_bytes_roundtrip_tempo_and_bends(corpus: Path, tmp_path: Path) -> None:
    import pretty_midi

    y, sr = load_audio(corpus / TRUMPET)  # stereo 44.1 kHz: mixed and resampled inside
    plain = transcribe_midi(y, sr, bpm=90)
    bent = transcribe_midi(y, sr, bpm=90, pitch_bends=True)
    assert plain.notes == bent.notes
    assert sum(len(i.pitch_bends) for i in plain.midi.instruments) == 0
    assert sum(len(i.pitch_bends) for i in bent.midi.instruments) > 0
    back = pretty_midi.PrettyMIDI(io.BytesIO(plain.to_bytes()))
    assert back.get_tempo_changes()[1][0] == pytest.approx(90.0, abs=0.01)  # µs/beat ints
    assert sum(len(i.notes) for i in back.instruments) == plain.note_count
    path = plain.write(tmp_path / "out" / "t.mid")
    assert path.read_bytes() == plain.to_bytes()
    assert plain.summary()["note_count"] == plain.note_count
    assert plain.duration_s == pytest.approx(y.shape[1] / sr)


def test_silence_gives_no_notes() -> None:
    result = transcribe_midi(np.zeros((2, 44100 * 3), dtype=np.float32), 44100)
    assert result.note_count == 0
    assert result.pitch_range is None
    assert result.to_bytes().startswith(b"MThd")


def test_model_loaded_once_and_described() -> None:
    assert get_session() is get_session("auto")
    info = model_info()
    assert info["path"].endswith("nmp.onnx")
    assert len(info["sha256"]) == 64
    assert "CPUExecutionProvider" in info["providers"]


def test_bad_inputs() -> None:
    with pytest.raises(ValueError, match="drums"):
        transcribe_midi(np.zeros(22050, dtype=np.float32), 22050, kind="drums")
    with pytest.raises(InputError):
        transcribe_midi(np.zeros((1, 0), dtype=np.float32), 22050)
    with pytest.raises(ValueError, match="bpm"):
        transcribe_midi(np.zeros(22050, dtype=np.float32), 22050, bpm=0)
    assert set(MIDI_KINDS) == {"bass", "other", "vocals", "piano", "guitar"}
    assert params_for(None) == MidiParams()  # Basic Pitch's own defaults

"""``stemcrate slice FILE --kind … --to DIR [--json]``: files written, JSON printed."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pretty_midi
import pytest
from typer.testing import CliRunner

from stemcrate.audio.decode import load_audio, write_audio
from stemcrate.cli import app
from tests.audio.test_slicing import SR, assemble, hydrogen_sample, match

FIELDS = {"path", "start_s", "end_s", "label", "confidence", "tags", "note", "loudness",
          "loudness_unit", "peak_db", "count"}


@pytest.fixture(scope="module")
def drum_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[float]]:
    kick = hydrogen_sample("bassdrum-4mics-br-stereo-normal3.flac")
    snare = hydrogen_sample("snare-opaque-normal-mic-normal_shot2.flac")
    hat = hydrogen_sample("hihat-closed-1.flac")
    beat = 60.0 / 110.0
    placements = []
    for i in range(8):
        placements.append((0.1 + i * beat, kick if i % 2 == 0 else snare, 0.9))
        placements.append((0.1 + (i + 0.5) * beat, hat, 0.4 + 0.05 * i))
    y, onsets = assemble(placements, 0.1 + 8 * beat + 1.0)
    path = tmp_path_factory.mktemp("cli") / "groove.wav"
    write_audio(path, y, SR, format="wav", bit_depth=24)
    return path, onsets


def run(args: list[str]):
    return CliRunner().invoke(app, args, catch_exceptions=False)


def test_slice_writes_wavs_and_prints_json(drum_file, tmp_path: Path) -> None:
    path, onsets = drum_file
    out = tmp_path / "slices"
    result = run(["slice", str(path), "--kind", "drums", "--to", str(out), "--json",
                  "--no-classify"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert rows and all(FIELDS <= set(r) for r in rows)
    written = sorted(out.glob("*.wav"))
    assert len(written) == len(rows)
    assert sum(r["count"] for r in rows) == len(onsets)  # identical hits collapse, counted
    for i, r in enumerate(rows):
        p = Path(r["path"])
        assert p.parent == out and p.exists()
        assert p.name.startswith(f"groove_{i:03d}_drums")
        y, sr = load_audio(p)
        assert sr == SR and y.shape[0] == 2
        assert y.shape[1] == pytest.approx((r["end_s"] - r["start_s"]) * SR, abs=2)
        assert r["loudness_unit"] in ("LUFS", "dBFS RMS") and r["peak_db"] <= 0
        assert r["label"] is None
    starts = [r["start_s"] for r in rows]
    assert starts == sorted(starts) and abs(starts[0] - onsets[0]) < 0.02
    # plain output: one tab-separated line per slice
    plain = run(["slice", str(path), "--kind", "drums", "--to", str(tmp_path / "p"),
                 "--no-classify", "--no-collapse"])
    assert plain.exit_code == 0
    lines = [ln for ln in plain.stdout.splitlines() if ln.strip()]
    assert len(lines) == len(onsets)
    assert all(ln.split("\t")[0].endswith(".wav") for ln in lines)


def test_slice_classifies_and_writes_drum_midi(drum_file, tmp_path: Path) -> None:
    path, onsets = drum_file
    out = tmp_path / "labelled"
    result = run(["slice", str(path), "--kind", "drums", "--to", str(out), "--json",
                  "--midi", "--bpm", "110"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    labels = {r["label"] for r in rows}
    assert {"kick", "snare", "hihat_closed"} <= labels
    for r in rows:
        assert 0.0 <= r["confidence"] <= 1.0
        assert f"_{r['label']}" in Path(r["path"]).name
    midi = pretty_midi.PrettyMIDI(str(out / "groove_drums.mid"))
    assert midi.get_tempo_changes()[1][0] == pytest.approx(110.0, abs=0.01)  # µs/beat ints
    starts = [n.start for n in midi.instruments[0].notes]
    recall, precision, _ = match(starts, onsets)
    assert recall >= 0.95 and precision >= 0.9
    assert {n.pitch for n in midi.instruments[0].notes} >= {36, 38, 42}


def test_slice_melodic_stem_names_notes(tmp_path: Path) -> None:
    t = np.arange(int(1.6 * SR)) / SR
    freq = np.where(t < 0.8, 110.0, 146.83)  # A2 then D3
    y = (0.5 * np.sin(2 * np.pi * np.cumsum(freq) / SR) * (t > 0.05)).astype(np.float32)
    src = tmp_path / "bassline.flac"
    write_audio(src, y[None, :], SR)
    result = run(["slice", str(src), "--kind", "bass", "--to", str(tmp_path / "o"), "--json",
                  "--no-classify"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [r["note"] for r in rows] == ["A2", "D3"]
    assert [Path(r["path"]).name for r in rows] == ["bassline_000_bass_A2.wav",
                                                    "bassline_001_bass_D3.wav"]


def test_slice_errors(tmp_path: Path, drum_file) -> None:
    bad = run(["slice", str(tmp_path / "missing.wav"), "--kind", "drums", "--to",
               str(tmp_path)])
    assert bad.exit_code != 0 and "missing.wav" in bad.output
    kind = run(["slice", str(drum_file[0]), "--kind", "kazoo", "--to", str(tmp_path)])
    assert kind.exit_code != 0 and "kazoo" in kind.output
    midi = run(["slice", str(drum_file[0]), "--kind", "bass", "--to", str(tmp_path), "--midi"])
    assert midi.exit_code != 0 and "--midi" in midi.output

"""``stemcrate midi`` and ``stemcrate lyrics`` end to end on real files."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from stemcrate.cli import app

TRUMPET = "sorohanro_-_solo-trumpet-06.ogg"


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_midi_command_writes_mid(runner: CliRunner, corpus: Path, tmp_path: Path,
                                 settings_env: Path) -> None:
    import pretty_midi

    out = tmp_path / "midi"
    result = runner.invoke(app, ["midi", str(corpus / TRUMPET), "--to", str(out), "--bpm", "90",
                                 "--pitch-bends", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    target = out / "sorohanro_-_solo-trumpet-06.mid"
    assert data["output"] == str(target) and target.is_file()
    assert data["kind"] is None and data["tempo_bpm"] == 90.0
    midi = pretty_midi.PrettyMIDI(io.BytesIO(target.read_bytes()))
    notes = [n for inst in midi.instruments for n in inst.notes]
    assert len(notes) == data["note_count"] >= 5
    assert data["pitch_range"] == [min(n.pitch for n in notes), max(n.pitch for n in notes)]
    assert sum(len(i.pitch_bends) for i in midi.instruments) > 0

    plain = runner.invoke(app, ["midi", str(corpus / TRUMPET), "--to", str(out),
                                "--kind", "vocals"])
    assert plain.exit_code == 0, plain.output
    assert "notes" in plain.stdout


def test_midi_command_errors(runner: CliRunner, tmp_path: Path, settings_env: Path) -> None:
    missing = runner.invoke(app, ["midi", str(tmp_path / "nope.wav"), "--to", str(tmp_path)])
    assert missing.exit_code == 1
    assert "nope.wav" in missing.stderr and "not found" in missing.stderr
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"not audio at all" * 100)
    corrupt = runner.invoke(app, ["midi", str(bad), "--to", str(tmp_path)])
    assert corrupt.exit_code == 1 and "bad.wav" in corrupt.stderr
    kind = runner.invoke(app, ["midi", str(bad), "--to", str(tmp_path), "--kind", "drums"])
    assert kind.exit_code == 2  # not a melodic stem kind


def test_lyrics_command_writes_all_formats(runner: CliRunner, tmp_path: Path,
                                           settings_env: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    if shutil.which("espeak-ng") is None:
        pytest.fail("espeak-ng is needed (Debian package)")
    wav = tmp_path / "speech.wav"
    sentence = "Please call Stella and ask her to bring these things with her from the store."
    subprocess.run(["espeak-ng", "-s", "150", "-w", str(wav), sentence],
                   check=True, capture_output=True, timeout=30)
    monkeypatch.setenv("STEMCRATE_LYRICS_MODEL", "tiny.en")  # the bundled real weights
    out = tmp_path / "lyrics"
    result = runner.invoke(app, ["lyrics", str(wav), "--to", str(out), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["engine"] == "faster-whisper" and data["model"] == "tiny.en"
    assert data["has_lyrics"] and data["language"] == "en"
    assert "bring these things" in data["text"].lower()
    for name in ("speech.lyrics.json", "speech.lrc", "speech.enhanced.lrc", "speech.srt"):
        assert (out / name).is_file()
    stored = json.loads((out / "speech.lyrics.json").read_text())
    assert stored["text"] == data["text"]
    assert (out / "speech.srt").read_text().startswith("1\n00:00:0")
    assert data["words"] == sum(len(s["words"]) for s in stored["segments"]) >= 8


def test_lyrics_command_no_lyrics_and_missing_model(runner: CliRunner, tmp_path: Path,
                                                    settings_env: Path, rng,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    import soundfile as sf

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # no whisper downloads here

    noise = tmp_path / "noise.wav"
    sf.write(noise, 0.05 * rng.standard_normal(16000 * 4), 16000)
    result = runner.invoke(app, ["lyrics", str(noise), "--to", str(tmp_path / "o"),
                                 "--model", "tiny.en"])
    assert result.exit_code == 0, result.output
    assert "no lyrics" in result.stdout
    assert (tmp_path / "o" / "noise.srt").read_text() == ""

    missing = runner.invoke(app, ["lyrics", str(noise), "--to", str(tmp_path / "o"),
                                  "--model", str(tmp_path / "no-such-model")])
    assert missing.exit_code == 1
    assert "no-such-model" in missing.stderr and "not found" in missing.stderr
    engine = runner.invoke(app, ["lyrics", str(noise), "--to", str(tmp_path / "o"),
                                 "--engine", "openai-whisper", "--model", "tiny"])
    assert engine.exit_code == 1
    assert "openai-whisper" in engine.stderr and "STEMCRATE_LYRICS_MODEL" in engine.stderr

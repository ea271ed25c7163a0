"""``stemcrate separate`` and ``stemcrate models`` on real audio with a small random model."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import typer
from typer.testing import CliRunner

from stemcrate.audio.decode import audio_info, load_audio, write_audio
from stemcrate.audio.demucs_testing import write_test_model_repo
from stemcrate.commands import separate as separate_cmd


@pytest.fixture
def app() -> typer.Typer:
    app = typer.Typer()
    separate_cmd.register(app)
    return app


@pytest.fixture(scope="module")
def model_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_test_model_repo(tmp_path_factory.mktemp("models"), segment=2)


def test_separate_writes_24bit_flac_stems(tmp_path: Path, corpus: Path, model_repo: Path,
                                          settings_env: Path, app: typer.Typer) -> None:
    y, sr = load_audio(corpus / "admiralbob77_-_Choice_-_Drum-bass.ogg")
    song = tmp_path / "song.wav"
    write_audio(song, y[:, 3 * sr:int(5.5 * sr)], sr, format="wav", bit_depth=24)
    n = audio_info(song).frames
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["separate", str(song), "--to", str(out), "--repo",
                                      str(model_repo), "--device", "cpu", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    (entry,) = report["written"]
    assert entry["model"] == "htdemucs" and entry["samples"] == n
    stems = {name: Path(p) for name, p in entry["stems"].items()}
    assert sorted(stems) == ["bass", "drums", "other", "vocals"]
    total = np.zeros((2, n))
    for name, path in stems.items():
        assert path == out / "htdemucs" / "song" / f"{name}.flac"
        info = sf.info(path)
        assert info.format == "FLAC" and info.subtype == "PCM_24"
        assert info.samplerate == sr and info.frames == n and info.channels == 2
        data, _ = load_audio(path)
        total += data
    assert np.abs(total).max() > 1e-3


def test_two_stems_wav_and_bad_file(tmp_path: Path, corpus: Path, model_repo: Path,
                                    settings_env: Path, monkeypatch: pytest.MonkeyPatch,
                                    app: typer.Typer) -> None:
    monkeypatch.setenv("STEMCRATE_SEPARATION_REPO", str(model_repo))  # the settings default
    y, _ = load_audio(corpus / "198-209-0000.ogg")  # mono speech, 16 kHz
    voice = tmp_path / "voice.flac"
    write_audio(voice, y[:, :16000 * 2], 16000)
    junk = tmp_path / "junk.wav"
    junk.write_bytes(b"not audio at all" * 10)
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["separate", str(voice), str(junk), "--to", str(out),
                                      "--two-stems", "vocals", "--format", "wav",
                                      "--device", "cpu"])
    assert result.exit_code == 1  # the bad file is reported, the good one still done
    assert "junk.wav" in result.output
    for name in ("vocals", "no_vocals"):
        info = sf.info(out / "htdemucs" / "voice" / f"{name}.wav")
        assert info.subtype == "PCM_24" and info.samplerate == 16000 and info.frames == 32000
    assert not (out / "htdemucs" / "voice" / "drums.wav").exists()


def test_missing_model_and_models_list_pull(tmp_path: Path, model_repo: Path,
                                            settings_env: Path, app: typer.Typer) -> None:
    runner = CliRunner()
    song = tmp_path / "a.wav"
    write_audio(song, np.zeros((2, 4410), np.float32), 44100, format="wav")
    result = runner.invoke(app, ["separate", str(song), "--to", str(tmp_path / "o"), "--model",
                                 "htdemucs_6s", "--repo", str(model_repo)])
    assert result.exit_code == 1
    assert "htdemucs_6s" in result.output and "stemcrate models pull" in result.output

    result = runner.invoke(app, ["models", "list", "--repo", str(model_repo), "--json"])
    assert result.exit_code == 0, result.output
    rows = {r["name"]: r for r in json.loads(result.stdout)}
    assert rows["htdemucs"]["usable"] and not rows["htdemucs_ft"]["usable"]

    dest = tmp_path / "pulled"
    result = runner.invoke(app, ["models", "pull", "htdemucs", "--from", str(model_repo),
                                 "--to", str(dest)])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["models", "list", "--repo", str(dest), "--json"])
    rows = {r["name"]: r for r in json.loads(result.stdout)}
    assert rows["htdemucs"]["usable"] and rows["htdemucs"]["where"] == "folder"

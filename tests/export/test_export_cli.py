"""``stemcrate export`` end to end, with STEMCRATE_HOME pointing at the test library."""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from stemcrate.cli import app
from tests.export.conftest import LibraryFixture


@pytest.fixture
def env(lib: LibraryFixture, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    for key in list(os.environ):
        if key.startswith("STEMCRATE_") and key != "STEMCRATE_CORPUS":
            monkeypatch.delenv(key)
    monkeypatch.setenv("STEMCRATE_HOME", str(lib.home))
    return {"STEMCRATE_HOME": str(lib.home)}


def test_cli_exports_a_track_as_json(env: dict[str, str], lib: LibraryFixture,
                                     tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["export", "--track", lib.track_id, "--to",
                                      str(tmp_path), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["tracks"] == 1 and summary["samples"] == len(lib.samples)
    root = Path(summary["path"])
    assert root.parent == tmp_path and root.is_dir()
    files = [p for p in root.rglob("*") if p.is_file()]
    assert summary["files"] == len(files)
    assert (root / "Sorohanro - Trumpet Loop" / "Stems" / "bass.wav").is_file()


def test_cli_label_pack_as_zip(env: dict[str, str], tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["export", "--label", "kick", "--bpm-max", "95",
                                      "--to", str(tmp_path), "--zip", "--name", "Kicks"])
    assert result.exit_code == 0, result.output
    path = Path(result.stdout.strip())
    assert path == tmp_path / "Kicks.zip"
    with zipfile.ZipFile(path) as zf:
        names = set(zf.namelist())
    assert names == {"Kicks/index.csv", "Kicks/Samples/kick/Kick_01_C1_90bpm.wav",
                     "Kicks/Samples/kick/Kick_02_90bpm.wav"}


def test_cli_errors_are_clear(env: dict[str, str], tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["export", "--track", "missing-id", "--to", str(tmp_path)])
    assert result.exit_code == 1
    assert "no such track" in result.stderr and "missing-id" in result.stderr
    result = runner.invoke(app, ["export", "--search", "no such song", "--to", str(tmp_path)])
    assert result.exit_code == 1 and "nothing to export" in result.stderr
    result = runner.invoke(app, ["export", "--format", "mp3", "--to", str(tmp_path)])
    assert result.exit_code == 1 and "wav or flac" in result.stderr
    assert list(tmp_path.iterdir()) == []  # failed exports leave nothing behind

"""The CLI as a user runs it: instant help, ingest, ls, catalogue rebuild, doctor."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("torch", "demucs", "whisper", "faster_whisper", "panel", "bokeh", "prefect", "duckdb",
         "librosa", "onnxruntime", "tensorflow", "pandas", "scipy")


def _run(args: list[str], env: dict[str, str], timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "stemcrate.cli", *args], env=env,
                          capture_output=True, text=True, timeout=timeout)


def test_help_imports_nothing_heavy() -> None:
    code = ("import sys\nfrom stemcrate.cli import app\nfrom typer.main import get_command\n"
            "get_command(app)\nprint(','.join(sorted(m for m in sys.modules)))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    loaded = set(proc.stdout.strip().split(","))
    assert not [m for m in HEAVY if m in loaded], "heavy modules imported by --help"
    help_text = subprocess.run([sys.executable, "-m", "stemcrate.cli", "--help"],
                               capture_output=True, text=True, check=True).stdout
    for command in ("up", "ingest", "process", "watch", "ls", "catalogue", "doctor"):
        assert command in help_text


@pytest.fixture
def cli_env(settings_env: Path, prefect_server: str, tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ, PREFECT_API_URL=prefect_server, STEMCRATE_HOME=str(settings_env),
               STEMCRATE_SEPARATION_REPO=str(tmp_path))
    return env


def test_ingest_ls_rebuild(cli_env: dict[str, str], corpus: Path, tmp_path: Path) -> None:
    from tests.fixtures_audio import make_bad_files

    trumpet = corpus / "sorohanro_-_solo-trumpet-06.ogg"
    bad = make_bad_files(tmp_path / "bad")
    proc = _run(["ingest", "--no-process", str(trumpet), str(bad["text"]),
                 str(tmp_path / "missing.wav")], cli_env)
    assert proc.returncode == 1  # some inputs failed, the good one still went in
    assert "notes.wav" in proc.stderr and "not a readable audio file" in proc.stderr
    assert "missing.wav" in proc.stderr
    track_id = proc.stdout.split()[0]
    assert len(track_id) == 64
    assert bad["text"].exists()  # set aside, never deleted

    again = _run(["ingest", "--no-process", "--json", str(trumpet)], cli_env)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)[0]["status"] == "existing"

    ls = _run(["ls", "tracks", "--json"], cli_env)
    rows = json.loads(ls.stdout)
    assert [r["track_id"] for r in rows] == [track_id]
    assert abs(rows[0]["bpm"] - 90) <= 2

    catalogue = Path(cli_env["STEMCRATE_HOME"]) / "catalogue.duckdb"
    catalogue.unlink()
    rebuilt = _run(["catalogue", "rebuild", "--json"], cli_env)
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert json.loads(rebuilt.stdout)["tracks"] == 1
    assert json.loads(_run(["ls", "tracks", "--json"], cli_env).stdout) == rows

    runs = json.loads(_run(["ls", "runs", "--json"], cli_env).stdout)
    assert {"ingest"} <= {r["stage"] for r in runs}


def test_doctor_reports(cli_env: dict[str, str]) -> None:
    proc = _run(["doctor", "--json"], cli_env)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["device"]["resolved"] in ("cpu", "cuda")
    assert report["programs"]["ffmpeg"] != "missing"
    assert "models" in report

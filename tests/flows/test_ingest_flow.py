"""The ingest flow on a real Prefect server: analysis, duplicates, bad input, the inbox."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from stemcrate.config import get_settings
from stemcrate.storage import open_library

pytestmark = pytest.mark.usefixtures("prefect_server")

TRUMPET = "sorohanro_-_solo-trumpet-06.ogg"


def test_trumpet_is_ingested_and_analysed(settings_env: Path, corpus: Path) -> None:
    from stemcrate.flows.pipeline import ingest

    src = corpus / TRUMPET
    outcomes = ingest([str(src)], process=False)
    assert [o["status"] for o in outcomes] == ["added"]
    lib = open_library(get_settings())
    lib.sync()
    rows = lib.catalogue.query("SELECT * FROM tracks")
    assert len(rows) == 1
    row = rows[0]
    assert row["track_id"] == outcomes[0]["track_id"]
    assert abs(row["bpm"] - 90.0) <= 2.0
    assert row["sample_rate"] == 44100 and row["channels"] == 2
    assert 5.2 < row["duration_s"] < 5.4
    assert -40 < row["loudness_lufs"] < 0
    assert row["title"]
    # the original is kept byte for byte, and the source is untouched
    key = lib.store.key_of(row["original_uri"])
    assert lib.store.get_bytes(key) == src.read_bytes()
    runs = lib.catalogue.query("SELECT stage, state FROM runs")
    assert {"stage": "ingest", "state": "completed"} in runs


def test_same_bytes_twice_is_one_track(settings_env: Path, corpus: Path, tmp_path: Path) -> None:
    from stemcrate.flows.pipeline import ingest

    copy = tmp_path / "renamed copy.ogg"
    shutil.copy(corpus / TRUMPET, copy)
    outcomes = ingest([str(corpus / TRUMPET), str(copy)], process=False)
    assert [o["status"] for o in outcomes] == ["added", "existing"]
    assert outcomes[0]["track_id"] == outcomes[1]["track_id"]
    lib = open_library(get_settings())
    lib.sync()
    assert lib.catalogue.query("SELECT count(*) AS n FROM tracks")[0]["n"] == 1


def test_bad_files_fail_clearly_into_failed_and_the_rest_goes_on(
        settings_env: Path, corpus: Path, bad_files: dict[str, Path]) -> None:
    from stemcrate.flows.pipeline import ingest

    settings = get_settings()
    inbox = settings.inbox_path
    inbox.mkdir(parents=True)
    dropped = []
    for path in list(bad_files.values()) + [corpus / TRUMPET]:
        target = inbox / path.name
        shutil.copy(path, target)
        dropped.append(target)
    outcomes = ingest([str(p) for p in dropped], inbox=str(inbox), process=False)
    by_name = {Path(o["path"]).name: o for o in outcomes}
    causes = {"truncated": "truncated", "text": "not a readable audio file",
              "empty": "empty file", "short": "too short"}
    for kind, cause in causes.items():
        name = bad_files[kind].name
        outcome = by_name[name]
        assert outcome["status"] == "failed"
        assert name in outcome["error"] and cause in outcome["error"], outcome["error"]
        failed = inbox / "failed" / name
        assert failed.exists(), f"{name} not set aside in failed/"
        assert failed.read_bytes() == bad_files[kind].read_bytes()  # kept as it was
        error_txt = failed.parent / (name + ".error.txt")
        text = error_txt.read_text()
        assert name in text and cause in text
    assert by_name[TRUMPET]["status"] == "added"
    assert (inbox / "processed" / TRUMPET).exists()
    assert not any(p.exists() for p in dropped)  # moved, not copied
    lib = open_library(settings)
    lib.sync()
    assert lib.catalogue.query("SELECT count(*) AS n FROM tracks")[0]["n"] == 1


def test_stage_without_model_is_unavailable_not_faked(settings_env: Path, corpus: Path,
                                                      tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from stemcrate.flows.pipeline import ingest

    empty_repo = tmp_path / "no-models"
    empty_repo.mkdir()
    monkeypatch.setenv("STEMCRATE_SEPARATION_REPO", str(empty_repo))
    outcomes = ingest([str(corpus / TRUMPET)], process=True)
    assert outcomes[0]["stages"]["separate"] == "unavailable"
    lib = open_library(get_settings())
    lib.sync()
    runs = {r["stage"]: r for r in lib.catalogue.query("SELECT * FROM runs")}
    assert runs["separate"]["state"] == "unavailable"
    assert "htdemucs" in runs["separate"]["error"]
    assert str(empty_repo) in runs["separate"]["error"]
    for stage in ("slice", "midi", "lyrics"):
        assert runs[stage]["state"] == "unavailable"
        assert "stems" in runs[stage]["error"]
    assert lib.catalogue.query("SELECT count(*) AS n FROM stems")[0]["n"] == 0

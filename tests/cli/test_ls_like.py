"""``stemcrate ls samples --like FILE|SAMPLE_ID``: "more like this" from the command line, on
a catalogue whose samples are real one-shots embedded as the pipeline embeds slices."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from stemcrate.audio.classify import embed_many
from stemcrate.audio.decode import encode_audio, load_audio
from stemcrate.audio.training import kits
from stemcrate.cli import app
from stemcrate.storage import keys
from stemcrate.storage.catalogue import Catalogue
from stemcrate.storage.manifest import Manifest, Provenance, write_manifest
from stemcrate.storage.store import ObjectStore, content_id
from tests.dashboard.library_data import add_track

KIT = kits.HYDROGEN_DRUMKITS / "ForzeeStereo"  # a real kit held out of training
LABELS = ("kick", "snare", "hihat_closed")


@pytest.fixture
def library(settings_env: Path, corpus: Path) -> dict[str, list[tuple[str, Path]]]:
    """A catalogue of one track whose drums samples are four of the kit's kicks, snares and
    closed hats each (the rest of the kit is kept back as query files). Returns label →
    [(sample id, file)] of the samples, and under ``"query"`` the files kept back."""
    if not KIT.is_dir():
        pytest.fail("hydrogen-drumkits is needed (Debian package hydrogen-drumkits)")
    by_label: dict[str, list[Path]] = {}
    for label, path in kits.kit_samples(KIT):
        by_label.setdefault(label, []).append(path)
    store = ObjectStore((settings_env / "store").resolve().as_uri())
    catalogue = Catalogue(settings_env / "catalogue.duckdb")
    tid, _, _ = add_track(store, corpus / "Kevin_MacLeod_-_Vibe_Ace.ogg", seconds=4.0,
                          title="Vibe Ace", artist="Kevin MacLeod", bpm=120.0, key="C major")
    out: dict[str, list[tuple[str, Path]]] = {"query": []}
    rows: list[dict[str, object]] = []
    for label in LABELS:
        paths = by_label[label]
        assert len(paths) >= 5, (label, len(paths))
        out["query"].append((label, paths[-1]))
        clips = [load_audio(p) for p in paths[:4]]
        embeddings = embed_many([y for y, _ in clips], clips[0][1])
        for i, (path, (y, sr), emb) in enumerate(zip(paths[:4], clips, embeddings,
                                                     strict=True)):
            sid = content_id(f"{tid}/{label}/{i}".encode())[:24]
            uri = store.put_bytes(keys.stage_output(tid, "slice", "t", f"{label}_{i}.wav"),
                                  encode_audio(y, sr, format="wav", bit_depth=16))
            rows.append({"sample_id": sid, "start_s": float(len(rows)), "uri": uri,
                         "end_s": len(rows) + y.shape[1] / sr, "name": path.name,
                         "label": label, "confidence": 0.9, "tags": [], "note": None,
                         "midi_note": None, "loudness_db": -12.0, "peak_db": -1.0,
                         "embedding": [float(v) for v in emb]})
            out.setdefault(label, []).append((sid, path))
    write_manifest(store, Manifest(
        kind="samples", track_id=tid, identity="slice/t/drums",
        data={"run_key": "t", "stem": "drums", "samples": rows},
        provenance=Provenance(stage="slice")))
    catalogue.apply_pending(store)
    return out


def _ls(*args: str) -> tuple[int, str, str]:
    res = CliRunner().invoke(app, ["ls", "samples", *args])
    return res.exit_code, res.stdout, res.stderr


def test_more_like_a_file_ranks_the_library_by_sound(library) -> None:
    for label, query in library["query"]:
        code, out, err = _ls("--like", str(query), "--limit", "4", "--json")
        assert code == 0, err
        rows = json.loads(out)
        sims = [r["similarity"] for r in rows]
        assert len(rows) == 4 and sims == sorted(sims, reverse=True) and sims[0] <= 1.0
        assert "embedding" not in rows[0]
        same = sum(r["label"] == label for r in rows)
        print(label, query.name, [(r["label"], r["similarity"]) for r in rows])
        assert same >= 3, (label, [(r["label"], r["similarity"]) for r in rows])
    # with a label filter: only that label, still nearest first
    code, out, _ = _ls("--like", str(library["query"][0][1]), "--label", "snare", "--json")
    rows = json.loads(out)
    assert code == 0 and {r["label"] for r in rows} == {"snare"} and len(rows) == 4
    # the table shows the similarity first
    code, out, _ = _ls("--like", str(library["query"][0][1]), "--limit", "2")
    assert code == 0 and "similarity" in out.splitlines()[1]


def test_more_like_a_sample_leaves_itself_out(library) -> None:
    sid, _ = library["kick"][0]
    code, out, err = _ls("--like", sid[:10], "--limit", "0", "--json")
    assert code == 0, err
    rows = json.loads(out)
    assert sid not in {r["sample_id"] for r in rows} and len(rows) == 3 * 4 - 1
    assert [r["label"] for r in rows[:2]] == ["kick", "kick"]
    # the same ranking as the file the sample was made from, itself aside
    code, out, _ = _ls("--like", str(library["kick"][0][1]), "--limit", "0", "--json")
    by_file = [r["sample_id"] for r in json.loads(out)]
    assert by_file[0] == sid and by_file[1:] == [r["sample_id"] for r in rows]


def test_like_refuses_what_it_cannot_use(library, tmp_path) -> None:
    code, _, err = _ls("--like", "nosuchthing")
    assert code == 1 and "'nosuchthing': neither a file nor a sample id" in err
    code, _, err = _ls("--like", "")  # every id starts with it
    assert code == 1 and "more than one sample id" in err
    junk = tmp_path / "junk.wav"
    junk.write_bytes(b"not audio")
    code, _, err = _ls("--like", str(junk))
    assert code == 1 and "junk.wav: not a readable audio file" in err
    res = CliRunner().invoke(app, ["ls", "tracks", "--like", str(library["kick"][0][1])])
    assert res.exit_code == 1 and "--like ranks samples" in res.stderr

"""export_library on a real (small) library: layout, exact stems, MIDI tempo, sample chunks,
the .dawproject, safety, no overwrites, ZIP and sample packs."""

from __future__ import annotations

import csv
import io
import os
import zipfile
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import mido
import numpy as np
import pretty_midi
import pytest
import soundfile as sf

from stemcrate.export import ExportError, export_library, run_export
from stemcrate.export.wavchunks import chunk_ids, read_sample_chunks
from tests.export.conftest import HOSTILE_TITLE, MIDI_NOTES, LibraryFixture, read_store_audio

TRACK_DIR = "Sorohanro - Trumpet Loop"


def _files(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def _index(root: Path) -> list[dict[str, str]]:
    with open(root / "index.csv", newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def full_export(lib: LibraryFixture, tmp_path_factory: pytest.TempPathFactory) -> Path:
    calls: list[tuple[int, int]] = []
    to = tmp_path_factory.mktemp("exports")
    path = export_library(lib.library, to=to, track_ids=[lib.track_id, lib.hostile_id],
                          progress=lambda d, t: calls.append((d, t)), name="Full")
    assert calls[0][0] == 0 and calls[-1][0] == calls[-1][1] > 0
    assert all(b[0] >= a[0] for a, b in zip(calls, calls[1:], strict=False))
    return path


def test_layout(full_export: Path, lib: LibraryFixture) -> None:
    assert full_export.is_dir() and full_export.name == "Full"
    files = _files(full_export)
    expected = {
        "index.csv",
        f"{TRACK_DIR}/{TRACK_DIR}.dawproject",
        f"{TRACK_DIR}/Stems/bass.wav", f"{TRACK_DIR}/Stems/drums.wav",
        f"{TRACK_DIR}/Stems/other.wav",
        f"{TRACK_DIR}/MIDI/bass.mid",
        f"{TRACK_DIR}/Samples/kick/Kick_01_C1_90bpm.wav",
        f"{TRACK_DIR}/Samples/kick/Kick_02_90bpm.wav",
        f"{TRACK_DIR}/Samples/bass/Bass_01_F2_90bpm.wav",
        f"{TRACK_DIR}/Samples/vocal/Vocal_01_Fmin_90bpm.wav",
        f"{TRACK_DIR}/Samples/hihat_closed/ClosedHat_01_90bpm.wav",
        f"{TRACK_DIR}/Lyrics/{TRACK_DIR}.lrc", f"{TRACK_DIR}/Lyrics/{TRACK_DIR}.srt",
    }
    assert expected <= files
    rows = _index(full_export)
    assert {r["path"] for r in rows} == files - {"index.csv"}
    by_path = {r["path"]: r for r in rows}
    kick = by_path[f"{TRACK_DIR}/Samples/kick/Kick_01_C1_90bpm.wav"]
    assert (kick["kind"], kick["label"], kick["note"], kick["bpm"], kick["key"]) == \
        ("sample", "kick", "C1", "90", "F minor")
    assert kick["source_uri"] == lib.samples[kick["sample_id"]]["uri"]
    stem = by_path[f"{TRACK_DIR}/Stems/bass.wav"]
    assert stem["kind"] == "stem" and stem["stem"] == "bass" and stem["track_id"] == lib.track_id
    assert stem["source_uri"] == lib.library.store.uri(lib.stems["bass"])
    assert (full_export / f"{TRACK_DIR}/Lyrics/{TRACK_DIR}.lrc").read_text().startswith(
        "[00:00.50]Test line one")


def test_stems_are_bit_exact_and_deep_enough(full_export: Path, lib: LibraryFixture) -> None:
    store = lib.library.store
    peaks = []
    for stem, key in lib.stems.items():
        stored, stored_info = read_store_audio(store, key, "int32")
        out = full_export / TRACK_DIR / "Stems" / f"{stem}.wav"
        info = sf.info(out)
        assert info.format == "WAV" and info.subtype == "PCM_24"  # original is 16-bit
        exported, _ = sf.read(out, dtype="int32", always_2d=True)
        assert info.samplerate == stored_info.samplerate
        assert np.array_equal(exported, stored)  # every sample value, no gain, no rescaling
        peaks.append(np.abs(exported).max())
    assert len(set(peaks)) == len(peaks)  # the stems kept their own, different levels

    # the float original's stem is exported as 32-bit float, values unchanged
    (key,) = lib.hostile_stems.values()
    stored, _ = read_store_audio(store, key, "float64")
    (folder,) = [p for p in full_export.iterdir() if p.is_dir() and p.name != TRACK_DIR]
    out = folder / "Stems" / "vocals.wav"
    assert sf.info(out).subtype == "FLOAT"
    exported, _ = sf.read(out, dtype="float64", always_2d=True)
    assert np.array_equal(exported, stored)


def test_flac_stems(lib: LibraryFixture, tmp_path: Path) -> None:
    path = export_library(lib.library, to=tmp_path, track_ids=[lib.track_id, lib.hostile_id],
                          filters={"stem": ["bass", "vocals"]}, stem_format="flac")
    bass = path / TRACK_DIR / "Stems" / "bass.flac"
    assert sf.info(bass).subtype == "PCM_24"
    stored, _ = read_store_audio(lib.library.store, lib.stems["bass"], "int32")
    assert np.array_equal(sf.read(bass, dtype="int32", always_2d=True)[0], stored)
    assert not (path / TRACK_DIR / "Stems" / "drums.flac").exists()  # --stem bass only
    # FLAC cannot hold 32-bit float: that stem stays a float WAV
    vocals = [p for p in path.rglob("vocals.*")]
    assert [p.suffix for p in vocals] == [".wav"] and sf.info(vocals[0]).subtype == "FLOAT"


def test_midi_tempo_is_the_track_bpm(full_export: Path, lib: LibraryFixture) -> None:
    data = (full_export / TRACK_DIR / "MIDI" / "bass.mid").read_bytes()
    mid = mido.MidiFile(file=io.BytesIO(data))
    tempos = [mido.tempo2bpm(m.tempo) for t in mid.tracks for m in t if m.type == "set_tempo"]
    assert len(tempos) == 1 and tempos[0] == pytest.approx(lib.bpm, abs=1e-3)
    pm = pretty_midi.PrettyMIDI(io.BytesIO(data))
    notes = sorted((n.start, n.end, n.pitch, n.velocity) for n in pm.instruments[0].notes)
    assert len(notes) == len(MIDI_NOTES)
    for (s, e, p, v), (s0, e0, p0, v0) in zip(notes, MIDI_NOTES, strict=True):
        assert (p, v) == (p0, v0)
        assert s == pytest.approx(s0, abs=1e-3) and e == pytest.approx(e0, abs=1e-3)


def test_samples_carry_root_note_and_tempo(full_export: Path, lib: LibraryFixture) -> None:
    rows = [r for r in _index(full_export) if r["kind"] == "sample"]
    assert len(rows) == len(lib.samples)
    for row in rows:
        path = full_export / row["path"]
        wav = path.read_bytes()
        chunks = read_sample_chunks(wav)
        info = lib.samples[row["sample_id"]]
        expected_note = info["midi_note"] if info["midi_note"] is not None else 60
        assert chunks.unity_note == expected_note
        assert chunks.root_note_set is (info["midi_note"] is not None)
        assert chunks.tempo_bpm == pytest.approx(lib.bpm)
        assert chunks.one_shot is True
        assert chunk_ids(wav).index("smpl") < chunk_ids(wav).index("data")
        # soundfile still reads it, and the values are the stored sample's values
        exported, sr = sf.read(path, dtype="float64", always_2d=True)
        stored, stored_info = read_store_audio(lib.library.store, info["key_"], "float64")
        assert sr == stored_info.samplerate and np.array_equal(exported, stored)
        assert row["label"] in path.parent.name and str(int(lib.bpm)) + "bpm" in path.name


def _ids(root: ET.Element) -> dict[str, ET.Element]:
    return {e.get("id"): e for e in root.iter() if e.get("id")}  # type: ignore[misc]


def test_dawproject(full_export: Path, lib: LibraryFixture) -> None:
    path = full_export / TRACK_DIR / f"{TRACK_DIR}.dawproject"
    with zipfile.ZipFile(path) as zf:
        names = set(zf.namelist())
        project = ET.fromstring(zf.read("project.xml"))
        meta = ET.fromstring(zf.read("metadata.xml"))
        embedded = {n: zf.read(n) for n in names if n.startswith("audio/")}
    assert {"project.xml", "metadata.xml"} <= names
    assert meta.tag == "MetaData" and meta.findtext("Title") == "Trumpet Loop"
    assert meta.findtext("Artist") == "Sorohanro"
    assert project.tag == "Project" and project.get("version") == "1.0"
    assert project.find("Application") is not None
    tempo = project.find("Transport/Tempo")
    assert tempo is not None and tempo.get("unit") == "bpm"
    assert float(tempo.get("value", "nan")) == pytest.approx(lib.bpm)

    ids = _ids(project)
    tracks = project.findall("Structure/Track")
    audio_tracks = [t for t in tracks if t.get("contentType") == "audio"]
    note_tracks = [t for t in tracks if t.get("contentType") == "notes"]
    assert sorted(t.get("name", "") for t in audio_tracks) == sorted(lib.stems)
    assert len(note_tracks) == 1
    master = [t for t in tracks if t.find("Channel").get("role") == "master"]  # type: ignore
    assert len(master) == 1
    for t in audio_tracks + note_tracks:  # every channel routes to the master's channel
        dest = t.find("Channel").get("destination")  # type: ignore[union-attr]
        assert dest is not None, t.get("name")
        assert ids[dest].get("role") == "master"
        # Channel children in the order the XSD sequence requires
        order = [c.tag for c in t.find("Channel")]  # type: ignore[union-attr]
        assert order == sorted(order, key=["Devices", "Mute", "Pan", "Sends", "Volume"].index)

    top = project.find("Arrangement/Lanes")
    assert top is not None and top.get("timeUnit") == "beats"
    lanes = {ln.get("track"): ln for ln in top.findall("Lanes")}
    per_s = lib.bpm / 60.0
    for t in audio_tracks:
        clip = lanes[t.get("id")].find("Clips/Clip")
        assert clip is not None and float(clip.get("time", "nan")) == 0.0
        warps = clip.find("Warps")
        assert warps is not None and warps.get("contentTimeUnit") == "seconds"
        audio = warps.find("Audio")
        assert audio is not None
        file_path = audio.find("File").get("path")  # type: ignore[union-attr]
        assert file_path in embedded
        info = sf.info(io.BytesIO(embedded[file_path]))
        assert int(audio.get("sampleRate", "0")) == info.samplerate
        assert int(audio.get("channels", "0")) == info.channels
        assert float(audio.get("duration", "nan")) == pytest.approx(info.duration)
        warp_pts = [(float(w.get("time", "nan")), float(w.get("contentTime", "nan")))
                    for w in warps.findall("Warp")]
        assert warp_pts[-1][0] == pytest.approx(info.duration * per_s)
        assert warp_pts[-1][1] == pytest.approx(info.duration)
        # the embedded audio is the exported stem, byte for byte
        exported = (full_export / TRACK_DIR / "Stems" / f"{t.get('name')}.wav").read_bytes()
        assert embedded[file_path] == exported

    notes = lanes[note_tracks[0].get("id")].findall("Clips/Clip/Notes/Note")
    got = sorted((float(n.get("time", "nan")), float(n.get("duration", "nan")),
                  int(n.get("key", "-1")), float(n.get("vel", "nan"))) for n in notes)
    assert len(got) == len(MIDI_NOTES)
    for (t0, d0, k0, v0), (s, e, p, v) in zip(got, MIDI_NOTES, strict=True):
        assert k0 == p and v0 == pytest.approx(v / 127.0)
        assert t0 == pytest.approx(s * per_s, abs=1e-6)
        assert d0 == pytest.approx((e - s) * per_s, abs=1e-6)
    for n in notes:  # required attributes of Note in Project.xsd
        assert {"time", "duration", "channel", "key"} <= set(n.keys())


XSD_DIR = os.environ.get("STEMCRATE_DAWPROJECT_XSD")


@pytest.mark.skipif(not XSD_DIR, reason="set STEMCRATE_DAWPROJECT_XSD to a folder holding the "
                    "official Project.xsd and MetaData.xsd (github.com/bitwig/dawproject)")
def test_dawproject_validates_against_official_xsd(full_export: Path) -> None:
    xmlschema = pytest.importorskip("xmlschema")
    project_xsd = xmlschema.XMLSchema(str(Path(str(XSD_DIR)) / "Project.xsd"))
    metadata_xsd = xmlschema.XMLSchema(str(Path(str(XSD_DIR)) / "MetaData.xsd"))
    for path in full_export.rglob("*.dawproject"):
        with zipfile.ZipFile(path) as zf:
            project_xsd.validate(io.BytesIO(zf.read("project.xml")))
            metadata_xsd.validate(io.BytesIO(zf.read("metadata.xml")))


def test_hostile_title_stays_inside(full_export: Path, lib: LibraryFixture) -> None:
    parent = full_export.parent
    assert [p.name for p in parent.iterdir()] == [full_export.name]  # nothing beside it
    root = full_export.resolve()
    for p in full_export.rglob("*"):
        assert os.path.commonpath([root, p.resolve()]) == str(root)
    (hostile,) = [r for r in _index(full_export) if r["track_id"] == lib.hostile_id
                  and r["kind"] == "stem"]
    assert hostile["track"] == HOSTILE_TITLE  # the index keeps the real title, as data
    folder = hostile["path"].split("/")[0]
    assert "/" not in folder and ".." not in folder and "<" not in folder
    assert (full_export / hostile["path"]).is_file()
    with zipfile.ZipFile(next(full_export.rglob("*.dawproject"))) as zf:
        for name in zf.namelist():
            assert not name.startswith("/") and ".." not in name.split("/")
    dawprojects = [p for p in full_export.rglob("*.dawproject")
                   if p.parent.name == folder]
    with zipfile.ZipFile(dawprojects[0]) as zf:
        meta = ET.fromstring(zf.read("metadata.xml"))
    assert meta.findtext("Title") == HOSTILE_TITLE  # text, not markup


def test_never_overwrites(lib: LibraryFixture, tmp_path: Path) -> None:
    first = export_library(lib.library, to=tmp_path, sample_ids=list(lib.samples)[:1],
                           name="Same")
    marker = first / "Samples" / "my-notes.txt"
    marker.write_text("mine")
    before = {p: p.read_bytes() for p in first.rglob("*") if p.is_file()}
    second = export_library(lib.library, to=tmp_path, sample_ids=list(lib.samples)[:2],
                            name="Same")
    assert second != first and second.name == "Same (2)"
    assert {p: p.read_bytes() for p in first.rglob("*") if p.is_file()} == before
    z1 = export_library(lib.library, to=tmp_path, sample_ids=list(lib.samples)[:1],
                        name="Same", zip=True)
    z2 = export_library(lib.library, to=tmp_path, sample_ids=list(lib.samples)[:1],
                        name="Same", zip=True)
    assert (z1.name, z2.name) == ("Same.zip", "Same (2).zip")
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp left


def test_zip_has_the_same_layout(full_export: Path, lib: LibraryFixture,
                                 tmp_path: Path) -> None:
    path = export_library(lib.library, to=tmp_path, track_ids=[lib.track_id, lib.hostile_id],
                          zip=True, name="Full")
    assert path.suffix == ".zip" and path.is_file()
    with zipfile.ZipFile(path) as zf:
        names = [n for n in zf.namelist() if not n.endswith("/")]
        assert all(n.startswith("Full/") for n in names)
        assert {n.removeprefix("Full/") for n in names} == _files(full_export)
        stem = zf.read(f"Full/{TRACK_DIR}/Stems/bass.wav")
    assert stem == (full_export / TRACK_DIR / "Stems" / "bass.wav").read_bytes()


def test_sample_pack(lib: LibraryFixture, tmp_path: Path) -> None:
    kicks = [sid for sid, s in lib.samples.items() if s["label"] == "kick"]
    vocal = [sid for sid, s in lib.samples.items() if s["label"] == "vocal"]
    report = run_export(lib.library, to=tmp_path, sample_ids=kicks + vocal, name="My Pack")
    assert report.path.name == "My Pack" and report.tracks == 0 and report.samples == 3
    files = _files(report.path)
    assert files == {"index.csv", "Samples/kick/Kick_01_C1_90bpm.wav",
                     "Samples/kick/Kick_02_90bpm.wav", "Samples/vocal/Vocal_01_Fmin_90bpm.wav"}
    rows = _index(report.path)
    assert {r["sample_id"] for r in rows} == set(kicks + vocal)
    assert all(r["track"] == "Sorohanro - Trumpet Loop" for r in rows)


def test_filters_select_in_sql(lib: LibraryFixture, tmp_path: Path) -> None:
    def tracks_of(filters: dict[str, Any]) -> set[str]:
        rep = run_export(lib.library, to=tmp_path, filters=filters)
        return {r.track_id for r in rep.rows}

    assert tracks_of({"search": "trumpet"}) == {lib.track_id}
    assert tracks_of({"bpm_min": 100}) == {lib.hostile_id}
    assert tracks_of({"bpm_max": 95, "key": "f minor"}) == {lib.track_id}
    assert tracks_of({}) == {lib.track_id, lib.hostile_id}
    # text with LIKE wildcards and quotes is data, not SQL
    with pytest.raises(ExportError, match="nothing to export"):
        run_export(lib.library, to=tmp_path, filters={"search": "%' OR 1=1 --"})
    # a label filter makes a sample pack of the matching samples
    rep = run_export(lib.library, to=tmp_path, filters={"label": "kick", "bpm_max": 95})
    assert rep.tracks == 0 and {r.label for r in rep.rows} == {"kick"} and rep.samples == 2
    rep = run_export(lib.library, to=tmp_path, filters={"tag": "vocal"})
    assert [Path(r.path).name for r in rep.rows] == ["Vocal_01_Fmin_90bpm.wav"]
    with pytest.raises(ExportError, match="unknown export filter"):
        run_export(lib.library, to=tmp_path, filters={"genre": "x"})
    with pytest.raises(ExportError, match="no such track"):
        run_export(lib.library, to=tmp_path, track_ids=["nope"])


def test_corrupt_artefact_fails_clearly_and_leaves_nothing(tmp_path: Path) -> None:
    from stemcrate.storage import Library, keys
    from stemcrate.storage.catalogue import Catalogue
    from stemcrate.storage.manifest import Manifest, Provenance, write_manifest
    from stemcrate.storage.store import ObjectStore

    store = ObjectStore(str(tmp_path / "store"))
    library = Library(store, Catalogue(tmp_path / "catalogue.duckdb"))
    tid = "f" * 64
    write_manifest(store, Manifest(kind="track", track_id=tid, identity="ingest",
                                   data={"track_id": tid, "title": "Broken", "bpm": 100.0},
                                   provenance=Provenance(stage="ingest")))
    uri = store.put_bytes(keys.stage_output(tid, "slice", "r", "x.wav"), b"RIFF not audio")
    write_manifest(store, Manifest(
        kind="samples", track_id=tid, identity="slice/r/drums",
        data={"run_key": "r", "stem": "drums", "samples": [
            {"sample_id": "s1", "start_s": 0.0, "end_s": 0.1, "uri": uri, "label": "kick"}]},
        provenance=Provenance(stage="slice")))
    library.sync()
    out = tmp_path / "out"
    with pytest.raises(ExportError, match="x.wav"):
        export_library(library, to=out, track_ids=[tid])
    with pytest.raises(ExportError, match="x.wav"):
        export_library(library, to=out, sample_ids=["s1"], zip=True)
    assert list(out.iterdir()) == []

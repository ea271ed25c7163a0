"""``stemcrate classify`` on one-shots rendered from sources held out of training."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from stemcrate.audio.decode import write_audio
from stemcrate.audio.training import render, voice
from stemcrate.audio.training.train import scores
from stemcrate.commands.classify import register

# docs/classifier_report.md: macro-F1 0.903 on the held-out synthetic sources (TimGM6mb +
# unseen espeak voices; this handful scores 0.90 with the shipped weights: a clap called
# snare, a closed hat called percussion). The bar sits a little below the reported number.
MIN_MACRO_F1 = 0.86

TIMGM = render.SF2 / "TimGM6mb.sf2"  # held out of training


@pytest.fixture(scope="module")
def app() -> typer.Typer:
    a = typer.Typer()
    register(a)

    @a.callback()
    def _root() -> None:  # keep sub-command names even with few commands
        pass

    return a


@pytest.fixture(scope="module")
def held_out_files(tmp_path_factory) -> list[tuple[Path, str]]:
    if shutil.which("fluidsynth") is None or not TIMGM.exists():
        pytest.fail("fluidsynth and the TimGM6mb soundfont are needed (Debian: fluidsynth, "
                    "timgm6mb-soundfont)")
    out = tmp_path_factory.mktemp("heldout")
    notes = []
    for kit, elec in ((0, False), (25, True)):
        for key in (36, 38, 39, 42, 46, 49, 45, 56):
            notes.append(render.Note(render.GM_DRUMS[key], 9, 128, kit, key, 100, 0.2, elec))
    for prog, key in ((33, 33), (34, 40), (38, 45), (32, 36)):
        notes.append(render.Note("bass", 0, 0, prog, key, 100, 0.8, False))
    for prog, key in ((0, 60), (48, 67), (56, 70), (24, 64)):
        notes.append(render.Note("melodic", 0, 0, prog, key, 100, 0.8, False))
    clips = render.render(TIMGM, notes)
    files = []
    for i, (clip, note) in enumerate(zip(clips, notes, strict=True)):
        if clip.size == 0:
            continue
        path = out / f"{i:02d}_{note.label}.wav"
        write_audio(path, clip[None, :].astype(np.float32), render.SR, format="wav")
        files.append((path, note.label))
    # a few word-length chops of a held-out espeak-ng voice
    rng = np.random.default_rng(7)
    speech = voice.speak("Check one two, hold on to the night.", voice.TEST_VOICES[0],
                         pitch=50, speed=150)
    for j, c in enumerate(c for c in voice.chop(speech, 12, rng) if c.size > 0.3 * voice.SR):
        if j >= 3:
            break
        path = out / f"v{j}_vocal.wav"
        write_audio(path, c[None, :].astype(np.float32), voice.SR, format="wav")
        files.append((path, "vocal"))
    return files


def test_classify_json_on_held_out_one_shots(app, held_out_files):
    from stemcrate.audio.classify import LABELS

    res = CliRunner().invoke(app, ["classify", "--json", *[str(p) for p, _ in held_out_files]])
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout)
    assert [r["path"] for r in rows] == [str(p) for p, _ in held_out_files]
    for r in rows:
        assert r["label"] in LABELS
        assert 0.0 < r["confidence"] <= 1.0
        assert isinstance(r["tags"], list) and all(isinstance(t, str) for t in r["tags"])
        assert ("short" in r["tags"]) != ("long" in r["tags"])
    truth = np.array([LABELS.index(lab) for _, lab in held_out_files])
    pred = np.array([LABELS.index(r["label"]) for r in rows])
    sc = scores(truth, pred)
    wrong = [(p.name, r["label"]) for (p, lab), r in zip(held_out_files, rows, strict=True)
             if r["label"] != lab]
    print(f"macro-F1 {sc.macro_f1:.3f}; wrong: {wrong}")
    assert sc.macro_f1 >= MIN_MACRO_F1, (sc.macro_f1, wrong)
    # bass notes carry a note name
    for (_p, lab), r in zip(held_out_files, rows, strict=True):
        if lab == "bass" and r["label"] == "bass":
            assert any(t[0] in "ABCDEFG" and t[-1].isdigit() for t in r["tags"]), r


def test_classify_text_output_and_stem_kind(app, held_out_files):
    path = next(p for p, lab in held_out_files if lab == "bass")
    res = CliRunner().invoke(app, ["classify", str(path), "--stem-kind", "bass"])
    assert res.exit_code == 0, res.output
    cols = res.stdout.strip().split("\t")
    assert cols[0] == str(path) and cols[1] == "bass"
    bad = CliRunner().invoke(app, ["classify", str(path), "--stem-kind", "kazoo"])
    assert bad.exit_code != 0 and "stem_kind" in bad.output


def test_classify_reports_unreadable_files(app, tmp_path, held_out_files):
    junk = tmp_path / "junk.wav"
    junk.write_bytes(b"not audio at all")
    good = held_out_files[0][0]
    res = CliRunner().invoke(app, ["classify", "--json", str(good), str(junk)])
    assert res.exit_code == 1
    assert "junk.wav" in res.output
    rows = json.loads(res.stdout[res.stdout.index("["):])
    assert rows[0]["label"] and "error" in rows[1]


def test_train_classifier_help(app):
    res = CliRunner().invoke(app, ["train-classifier", "--help"])
    assert res.exit_code == 0
    assert "--out" in res.output and "--report" in res.output
    assert "--cross-validate" in res.output


def test_train_classifier_cross_validate_takes_no_weights_options(app, tmp_path):
    for args in (["--out", str(tmp_path / "w")], ["--report", str(tmp_path / "r.md")],
                 ["--evaluate", str(tmp_path / "w.npz")]):
        res = CliRunner().invoke(app, ["train-classifier", "--cross-validate", *args])
        assert res.exit_code == 1 and "--cross-validate trains no shipped model" in res.output
    assert not (tmp_path / "w").exists() and not (tmp_path / "r.md").exists()


def test_train_classifier_names_missing_training_data(app, tmp_path, monkeypatch):
    """A missing soundfont / kit / pack stops training before any work, naming the package."""
    from stemcrate.audio.training import dataset

    real = dataset.required_files
    monkeypatch.setattr(dataset, "required_files", lambda: [
        *real(), (tmp_path / "nowhere" / "samples", "lmms-common")])
    res = CliRunner().invoke(app, ["train-classifier", "--out", str(tmp_path / "w"),
                                   "--cache", str(tmp_path / "c")])
    assert res.exit_code == 1
    assert "nowhere/samples not found; install the Debian package lmms-common" in res.output
    assert "make system-deps" in res.output
    assert not (tmp_path / "w").exists() and not (tmp_path / "c").exists()  # nothing started


def test_train_classifier_evaluate_scores_weights_without_training(app, tmp_path, monkeypatch,
                                                                   held_out_files):
    """``--evaluate`` scores a weights file on the held-out sources through the report's own
    scoring (here one held-out source: the TimGM6mb handful) and trains nothing."""
    from stemcrate.audio.classify import WEIGHTS_PATH
    from stemcrate.audio.decode import load_audio
    from stemcrate.audio.training import dataset

    def loader() -> dataset.Loaded:
        audio = [np.asarray(load_audio(p, sr=dataset.SR, mono=True)[0][0], dtype=np.float64)
                 for p, _ in held_out_files]
        return audio, [lab for _, lab in held_out_files], [-1] * len(audio)

    monkeypatch.setattr(dataset, "sources", lambda corpus: {
        "timgm-handful": dataset.Source("test_sf", loader, "timgm-handful"),
        "unused-train": dataset.Source("train", lambda: pytest.fail("trained"), "x")})
    cache = tmp_path / "c"
    res = CliRunner().invoke(app, ["train-classifier", "--evaluate", str(WEIGHTS_PATH),
                                   "--cache", str(cache)])
    assert res.exit_code == 0, res.output
    line = next(ln for ln in res.output.splitlines() if ln.startswith("test_sf: macro-F1"))
    f1 = float(line.split()[2])
    print(line)
    assert f1 >= MIN_MACRO_F1
    assert f"n={len(held_out_files)}" in line
    # the same model as `stemcrate classify` on the files (clips differ only by int16 caching)
    rows = json.loads(CliRunner().invoke(app, ["classify", "--json",
                                               *(str(p) for p, _ in held_out_files)]).stdout)
    right = sum(r["label"] == lab for r, (_, lab) in zip(rows, held_out_files, strict=True))
    acc = float(line.split()[4])
    assert abs(acc - right / len(held_out_files)) <= 1 / len(held_out_files) + 1e-9
    assert "Summary:" in res.output
    assert len(list((cache / "clips").glob("timgm-handful-*.npz"))) == 1  # clips cached
    assert not list(cache.glob("features-*.npz"))  # no training features written

    # with --report: the report of these weights, as a training run writes it, saying so
    report = tmp_path / "r.md"
    res = CliRunner().invoke(app, ["train-classifier", "--evaluate", str(WEIGHTS_PATH),
                                   "--cache", str(cache), "--report", str(report)])
    assert res.exit_code == 0, res.output
    text = report.read_text(encoding="utf-8")
    assert "Evaluated by" in text and "--evaluate" in text and "no training" in text
    assert f"**macro-F1 = {f1:.3f}**" in text and f"n = {len(held_out_files)}" in text
    assert "Training + evaluation took" not in text and "unused-train" in text
    assert "**The shipped model is exactly the model evaluated here**" in text
    assert "## Confusion matrix (All held-out sources together" in text
    bad = CliRunner().invoke(app, ["train-classifier", "--evaluate", str(WEIGHTS_PATH),
                                   "--out", str(tmp_path / "w")])
    assert bad.exit_code == 1 and "--evaluate" in bad.output
    assert not (tmp_path / "w").exists()
    missing = CliRunner().invoke(app, ["train-classifier", "--evaluate",
                                       str(tmp_path / "none.npz")])
    assert missing.exit_code == 1 and "none.npz: no such weights file" in missing.output


def test_classify_folders_in_batches_and_bad_paths_do_not_stop_the_rest(
        app, tmp_path, monkeypatch, held_out_files):
    """A folder is classified as its audio files (recursively, sorted, hidden ones and
    non-audio left out) in batches that mix sample rates; a missing path is an error row in
    its place, reported on stderr, and the others are still labelled as one by one."""
    import soxr

    from stemcrate.audio.decode import load_audio
    from stemcrate.commands import classify as cmd

    lib = tmp_path / "lib"
    (lib / "drums").mkdir(parents=True)
    (lib / ".trash").mkdir()
    picked = held_out_files[:: max(1, len(held_out_files) // 6)][:6]
    for j, (p, _) in enumerate(picked):
        y, sr = load_audio(p)
        if j % 2:  # every other file at 44.1 kHz, so a batch holds two rates
            y, sr = soxr.resample(y.T, sr, 44100).T.copy(), 44100
        write_audio(lib / "drums" / f"{j}_{p.name}", y, sr, format="wav")
    shutil.copy(picked[0][0], lib / ".trash" / "hidden.wav")
    silent = lib / "drums" / "zz_silent.wav"
    write_audio(silent, np.zeros((2, 4410), dtype=np.float32), 44100, format="wav")
    (lib / "notes.txt").write_text("not audio")
    expected = sorted((lib / "drums").glob("*.wav"))
    assert [p for p, _ in cmd.audio_files([lib])] == expected

    monkeypatch.setattr(cmd, "BATCH", 4)  # more than one batch
    res = CliRunner().invoke(app, ["classify", "--json", str(lib), str(tmp_path / "gone.wav")])
    assert res.exit_code == 1
    assert "gone.wav: no such file or folder" in res.stderr
    rows = json.loads(res.stdout)
    assert [r["path"] for r in rows] == [*map(str, expected), str(tmp_path / "gone.wav")]
    assert expected[-1] == silent
    for r in rows[-2:]:
        assert "error" in r and "label" not in r
    assert "zz_silent.wav: silent (its peak is below -100 dBFS)" in res.stderr
    assert f"{len(expected) - 1} files labelled: " in res.stderr
    assert res.stderr.rstrip().endswith("; 2 not labelled (see the errors above)")
    for r in rows[:-2]:
        one = json.loads(CliRunner().invoke(app, ["classify", "--json", r["path"]]).stdout)[0]
        assert one["label"] == r["label"]
        assert one["tags"] == r["tags"]
        for k, v in one["probabilities"].items():
            assert abs(v - r["probabilities"][k]) <= 2e-4, (r["path"], k)

    empty = tmp_path / "empty"
    empty.mkdir()
    res = CliRunner().invoke(app, ["classify", str(empty)])
    assert res.exit_code == 1 and "empty: no audio files in this folder" in res.stderr

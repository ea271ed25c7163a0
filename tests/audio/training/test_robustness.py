"""The robustness check: the same clips as other files, scored through the classifier."""

from __future__ import annotations

import numpy as np
import pytest

from stemcrate.audio import classify as clf
from stemcrate.audio.decode import load_audio
from stemcrate.audio.training import dataset as ds
from stemcrate.audio.training import kits
from stemcrate.audio.training import robustness as rb

FORZEE = kits.HYDROGEN_DRUMKITS / "ForzeeStereo"


@pytest.fixture(scope="module")
def real_hits() -> tuple[list[np.ndarray], list[str]]:
    """Ten real recorded hits of a held-out kit (two of each of five labels), at 22.05 kHz."""
    if not FORZEE.is_dir():
        pytest.fail("hydrogen-drumkits is needed (Debian package hydrogen-drumkits)")
    clips: list[np.ndarray] = []
    labels: list[str] = []
    for label, path in kits.kit_samples(FORZEE):
        if label in ("kick", "snare", "hihat_closed", "cymbal", "tom") and labels.count(label) < 2:
            y, _ = load_audio(path, sr=ds.SR, mono=True, dtype="float64")
            clips.append(y[0])
            labels.append(label)
    assert len(labels) == 10
    return clips, labels


def test_transforms_keep_labels_and_a_destroyed_clip_does_not(real_hits):
    clips, labels = real_hits
    transforms = {"unchanged": rb.TRANSFORMS["unchanged (22.05 kHz mono float)"],
                  "48 kHz": rb.TRANSFORMS["resampled to 48 kHz"],
                  "padded": rb.TRANSFORMS["2 s of digital silence after"],
                  "mp3": rb.TRANSFORMS["MP3 (LAME through libsndfile, its best quality)"],
                  "reversed": lambda x, sr: (x[::-1].copy(), sr)}
    res = rb.check(clf.load_model(), clips, labels, ds.SR, transforms=transforms)
    by = {r.transform: r for r in res}
    assert [r.transform for r in res] == list(transforms)
    assert by["unchanged"].agreement == 1.0 and by["unchanged"].scores.n == 10
    assert by["unchanged"].scores.accuracy >= 0.8  # real held-out hits
    assert by["padded"].agreement >= 0.8
    assert by["48 kHz"].agreement >= 0.9 and by["mp3"].agreement >= 0.8
    # a reversed hit swells instead of decaying: labels must move, or the check cannot fail
    assert by["reversed"].agreement < 0.8
    lines = rb.table(res)
    assert len(lines) == 2 + len(transforms) and lines[2].startswith("| unchanged | ")


def test_every_default_transform_hands_over_playable_audio():
    x = np.sin(2 * np.pi * 110 * np.arange(4000) / ds.SR) * np.exp(-np.arange(4000) / 800)
    for name, f in rb.TRANSFORMS.items():
        y, sr = f(x, ds.SR)
        assert sr in (ds.SR, 44100, 48000, 96000), name
        assert np.all(np.isfinite(y)) and np.max(np.abs(y)) > 0, name


def test_bad_input_is_refused():
    model = clf.load_model()
    with pytest.raises(ValueError, match="0 clips"):
        rb.check(model, [], [], ds.SR)
    with pytest.raises(ValueError, match="unknown labels: gong"):
        rb.check(model, [np.ones(100)], ["gong"], ds.SR)


def test_the_training_report_gets_the_robustness_table(tmp_path):
    from stemcrate.audio.training import train as tr

    sc = tr.scores(np.array([0, 1, 1]), np.array([0, 1, 0]))
    res = [rb.Robustness("unchanged", sc, 1.0), rb.Robustness("as MP3", sc, 0.5)]
    weights = tmp_path / "classifier.npz"
    weights.write_bytes(b"x")
    out = tmp_path / "report.md"
    tr._report(out, {"test_real": sc}, "cmd", 60.0, 3, ["a"], {"test_real": ["b"]}, weights,
               "test_real", rb.table(res))
    text = out.read_text(encoding="utf-8")
    assert "## The same real recordings, handed over as other files" in text
    assert "| as MP3 | " in text and text.index("as MP3") < text.index("## What the numbers")


def test_the_report_says_which_copies_each_split_left_out(tmp_path):
    from stemcrate.audio.training import train as tr

    sc = tr.scores(np.array([0, 1, 1]), np.array([0, 1, 0]))
    weights = tmp_path / "classifier.npz"
    weights.write_bytes(b"x")
    out = tmp_path / "report.md"
    tr._report(out, {"test_sf": sc, "test_real": sc}, "cmd", None, None, ["a"],
               {"test_real": ["b", "c"], "test_sf": ["d"]}, weights, "test_real",
               copies={"b": 81, "c": 0, "d": 0})
    text = out.read_text(encoding="utf-8")
    real = text[text.index("## Held-out REAL"):text.index("## Confusion")]
    assert "Each recording counted once" in real and "81 of b" in real and " of c" not in real
    sf = text[text.index("## Held-out synthetic"):text.index("## Held-out REAL")]
    assert "**macro-F1" in sf and "counted once" not in sf
    assert "Evaluated by" in text and "Training vectors" not in text
    assert "**The model evaluated here is" in text and "shipped model" not in text

"""Grouped cross-validation over training sources (the MLP half of the recipe)."""

from __future__ import annotations

import numpy as np
import pytest

from stemcrate.audio.training import crossval, train
from stemcrate.audio.training import dataset as ds

CLIPS = 100  # per label and source


def _features(rng: np.random.Generator) -> ds.FeatureSet:
    """Sources a, b, c: kick (0) and snare (1) apart on feature 0 in all three; clap (2)
    only in c. Per clip one clean vector and two augmented variants."""
    xs, ys, srcs, clean = [], [], [], []
    for src, labels in (("a", (0, 1)), ("b", (0, 1)), ("c", (0, 1, 2))):
        for lab in labels:
            for _ in range(CLIPS):
                centre = np.zeros(6)
                centre[0] = (-2.0, 2.0, 0.0)[lab]
                centre[1] = 4.0 if lab == 2 else 0.0
                for variant in range(3):
                    xs.append(centre + rng.normal(0, 0.5, 6))
                    ys.append(lab)
                    srcs.append(src)
                    clean.append(variant == 0)
    n = len(ys)
    return ds.FeatureSet(np.array(xs, dtype=np.float32), np.zeros((n, 1, 1), np.float16),
                         np.zeros((n, 2), np.float16), np.array(ys, dtype=np.int64),
                         np.full(n, -1, dtype=np.int64), np.array(srcs), np.array(clean))


def test_folds_are_predicted_without_their_own_vectors(rng, monkeypatch):
    fs = _features(rng)
    epochs: list[int] = []
    monkeypatch.setattr(train, "EPOCHS", 8)  # the recipe's MLP, shorter
    cv = crossval.cross_validate(fs, (("b",), ("c",)), seeds=1, progress=epochs.append)
    assert len(epochs) == 2 * 8
    b, c = cv.folds
    # only clean clips are scored: two labels' in b, three in c
    assert (b.scores.n, c.scores.n, cv.pooled.n) == (2 * CLIPS, 3 * CLIPS, 5 * CLIPS)
    assert b.scores.accuracy >= 0.95  # kick/snare are learnt from a and c
    # clap exists only in c: when c is held out nothing has taught it, so no clip of c can
    # be called clap (a leak of c's vectors into its own training would teach it)
    clap = c.scores.per_class["clap"]
    assert clap[1] == 0.0 and clap[3] == CLIPS  # recall 0 over all its clips
    assert c.scores.accuracy == pytest.approx(2 / 3, abs=0.05)
    assert set(cv.pooled.per_class) == {"kick", "snare", "clap"}
    lines = crossval.describe(cv)
    assert lines[0].startswith("  b: accuracy") and "macro-F1" in lines[2]


def test_a_fold_must_have_vectors_and_leave_some(rng, monkeypatch):
    monkeypatch.setattr(train, "EPOCHS", 1)
    fs = _features(rng)
    with pytest.raises(ValueError, match="fold nowhere: no training vectors"):
        crossval.cross_validate(fs, (("nowhere",),), seeds=1)
    with pytest.raises(ValueError, match="holds them all"):
        crossval.cross_validate(fs, (("a", "b", "c"),), seeds=1)


def test_default_folds_are_training_sources():
    sources = ds.sources(None)
    named = [s for fold in crossval.FOLDS for s in fold]
    assert len(named) == len(set(named))
    assert all(sources[s].split == "train" for s in named)

"""Grouped cross-validation over the classifier's *training* sources.

A change to the training recipe (data, augmentation, weighting, the MLP's settings) should
be chosen without looking at the held-out sources, or the report stops being a held-out
measurement. :func:`cross_validate` gives the number to choose on instead: each fold is one
group of recorded (not synthesised) training sources; the MLP half of the classifier is
trained on every other training source and predicts the fold's clean clips, and the
out-of-fold predictions of all folds are scored together.

Only the MLPs are cross-validated: one CNN network takes 10–14 minutes on two CPU cores, so
the seven folds of the CNN half would take hours. The folds are harder than the hold-out
(a fold removes, for instance, every real voice at once), so their scores are lower than
the report's; they are for comparing two recipes, not for quoting. Their resolution: the
shipped recipe scored 0.542 and 0.535 pooled macro-F1 with two different pairs of seeds
(2026-12-02, the features of `d236a3c`), so a change has to beat the baseline by more than
about 0.01 to count.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from stemcrate.audio.training import dataset as ds
from stemcrate.audio.training import mlp
from stemcrate.audio.training import train as tr

#: groups of training sources held out together (sources that share recordings, speakers
#: or a renderer are one group). The GM soundfonts, synthesis, espeak/flite and the synth
#: basses are always trained on: they are what the real recordings are measured against.
FOLDS: tuple[tuple[str, ...], ...] = (
    ("hydrogen-train",), ("sf-Black_Pearl_4_LV2",), ("sonic-pi-train",), ("lmms-train",),
    ("klettres-train", "hedgewars-train"), ("drumsynth-train", "drumsynth-knobs-train"),
    ("hedgewars-sfx-train",))


@dataclass(frozen=True)
class FoldScore:
    sources: tuple[str, ...]
    scores: tr.Scores  # of this fold's clean clips, predicted without them


@dataclass(frozen=True)
class CrossValidation:
    pooled: tr.Scores  # every fold's out-of-fold predictions scored together
    folds: list[FoldScore]


def cross_validate(fs: ds.FeatureSet, folds: Sequence[Sequence[str]] = FOLDS, *,
                   seeds: int = 2, progress: Callable[[int], None] | None = None
                   ) -> CrossValidation:
    """Out-of-fold scores of the MLP recipe of :func:`.train.run` on the training features.

    ``fs``: the training :class:`~.dataset.FeatureSet` (clean clips and augmented variants,
    ``fs.source`` naming each vector's source). For each fold, ``seeds`` MLPs are trained on
    the vectors of every source outside it (standardised with those vectors' mean and
    spread, as :func:`.train.run` does) and their mean probabilities label the fold's
    *clean* vectors. ``progress`` gets one call per epoch trained (:data:`.train.EPOCHS`
    per MLP).

    Raises ValueError when a fold has no vectors in ``fs`` or holds every vector.
    """
    y = fs.y
    pred = np.full(y.size, -1, dtype=np.int64)
    out: list[FoldScore] = []
    for fold in folds:
        held = np.isin(fs.source, list(fold))
        if not held.any() or held.all():
            raise ValueError(f"fold {', '.join(fold)}: "
                             + ("no training vectors" if not held.any() else "holds them all"))
        rows = ~held
        xe = tr.mlp_vectors(fs)
        z = tr.standardise(xe, *tr.standardisation(xe[rows]))
        idx = np.flatnonzero(held & fs.clean)
        probs = np.zeros((idx.size, len(ds.LABELS)), dtype=np.float32)
        for s in range(seeds):
            p = tr.train_mlp(z[rows], y[rows], fs.electronic[rows], seed=tr.SEED + s,
                             progress=progress)
            probs += mlp.softmax(mlp.forward(p, z[idx])[2])
        pred[idx] = np.argmax(probs, axis=1)
        out.append(FoldScore(tuple(fold), tr.scores(y[idx], pred[idx])))
    done = pred >= 0
    return CrossValidation(tr.scores(y[done], pred[done]), out)


def describe(cv: CrossValidation) -> list[str]:
    """Lines to print: each fold's accuracy, the pooled macro-F1 and the per-class F1."""
    lines = [f"  {' + '.join(f.sources)}: accuracy {f.scores.accuracy:.3f} n={f.scores.n}"
             for f in cv.folds]
    p = cv.pooled
    lines.append(f"cross-validation (MLP half, out of fold): macro-F1 {p.macro_f1:.3f} "
                 f"accuracy {p.accuracy:.3f} n={p.n}")
    lines.append("  F1: " + " ".join(f"{lab} {v[2]:.3f}" for lab, v in p.per_class.items()))
    return lines


def run(cache_dir: Path, corpus: Path | None, *, seeds: int = 2,
        log: Callable[[str], None] | None = None) -> CrossValidation:
    """Cross-validate the current recipe (what ``stemcrate train-classifier
    --cross-validate`` calls): the training features come from the features cache under
    ``cache_dir`` when it holds this recipe's, else they are computed and cached as a
    training run computes them (so a later ``train-classifier`` reuses them)."""
    say = log or (lambda m: print(m, file=sys.stderr))
    t0 = time.time()
    task, stop = tr._progress()
    try:
        feats, _, _ = tr.features(cache_dir, corpus, task=task, log=say)
        step = task(f"cross-validation ({len(FOLDS)} folds × {seeds} MLPs)",
                    len(FOLDS) * seeds * tr.EPOCHS)
        cv = cross_validate(feats, seeds=seeds, progress=step)
    finally:
        stop()
    for line in describe(cv):
        say(line)
    say(f"cross-validated in {(time.time() - t0) / 60:.1f} min")
    return cv

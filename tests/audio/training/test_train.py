"""The training run's feature cache (``train.features``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from stemcrate.audio.training import dataset as ds
from stemcrate.audio.training import train as T


def _loader(label: str, seed: int) -> ds.Source:
    def load() -> ds.Loaded:
        rng = np.random.default_rng(seed)
        n = int(0.2 * ds.SR)
        env = np.exp(-np.arange(n) / (0.02 * ds.SR))
        clips = [rng.standard_normal(n) * env * 0.5 for _ in range(3)]
        return clips, [label] * 3, [1] * 3

    return ds.Source("train" if seed == 0 else "test_real", load, f"synthetic {label} {seed}")


def test_features_cache_is_topped_up_with_new_held_out_sources(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch
                                                              ) -> None:
    """A cache written without some held-out sources (e.g. without the corpus) is used for
    the training vectors, and the sources it lacks are featurised and added, not missed."""
    monkeypatch.setattr(T, "TARGET_PER_LABEL", 4)
    first = {"tr": _loader("snare", 0), "a": _loader("snare", 1)}
    both = {**first, "b": _loader("snare", 2)}
    calls: list[dict[str, ds.Source]] = [first, both]
    monkeypatch.setattr(ds, "sources", lambda corpus: calls[0])
    featurized: list[bool] = []  # the augment flag of each featurize call
    real_featurize = ds.featurize

    def featurize(clip_sets: list[ds.Clips], **kw: Any) -> ds.FeatureSet:
        featurized.append(kw["augment"])
        return real_featurize(clip_sets, **kw)

    monkeypatch.setattr(ds, "featurize", featurize)
    task = lambda desc, total: (lambda k: None)  # noqa: E731
    tr1, te1, _ = T.features(tmp_path, None, task=task, log=lambda m: None)
    assert set(te1) == {"a"} and featurized == [True, False]
    calls.pop(0)
    featurized.clear()
    tr2, te2, _ = T.features(tmp_path, None, task=task, log=lambda m: None)
    assert featurized == [False]  # only "b": the training vectors came from the cache
    assert set(te2) == {"a", "b"} and te2["b"].X.shape[0] == 3
    np.testing.assert_array_equal(tr1.X, tr2.X)
    np.testing.assert_array_equal(te1["a"].X, te2["a"].X)
    (cache,) = tmp_path.glob("features-*.npz")
    assert {k.split("|")[0] for k in np.load(cache).files} == {"train", "test/a", "test/b"}


def test_code_digest_ignores_prose_but_not_code() -> None:
    src = '"""Module."""\nX = 1  # one\n\n\ndef f(a):\n    """Doc."""\n    return a * X\n'
    prose = '"""Other words."""\nX = 1\n\n\ndef f(a):\n    """More doc."""\n    return a * X\n'
    code = '"""Module."""\nX = 1\n\n\ndef f(a):\n    """Doc."""\n    return a + X\n'
    undocumented = 'X = 1\n\n\ndef f(a):\n    return a * X\n'
    assert T._code_digest(src) == T._code_digest(prose) == T._code_digest(undocumented)
    assert T._code_digest(src) != T._code_digest(code)


def test_every_held_out_source_is_in_a_reported_split() -> None:
    """A source whose split the report does not know would be scored nowhere."""
    splits = {s.split for s in ds.sources(None).values()}
    assert splits - {"train"} <= set(T.SPLITS)
    assert set(T.SPLITS) <= splits  # and no split is left empty
    assert all(s in T._SHORT for s in T.SPLITS)


def test_a_one_label_split_says_what_its_clips_were_called() -> None:
    fx, vocal, clap = (ds.LABELS.index(x) for x in ("fx", "vocal", "clap"))
    y = np.full(6, fx)
    sc = T.scores(y, np.array([fx, fx, fx, vocal, vocal, clap]))
    assert sc.per_class["fx"][:2] == (1.0, 0.5)
    assert T.called(sc) == "What its 6 clips were called: `fx` 3, `vocal` 2, `clap` 1."

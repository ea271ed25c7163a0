"""The CNN + features network: numpy inference equals PyTorch, export folds batch norm, the
trainer learns and is reproducible, old weights are refused clearly."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from stemcrate.audio import classifier_net, classify
from stemcrate.audio.features import PATCH_FRAMES, PATCH_MELS
from stemcrate.audio.training import net as tnet
from stemcrate.errors import ModelUnavailableError


def test_numpy_forward_equals_torch_with_batch_norm_folded(rng):
    import torch

    torch.manual_seed(3)
    model = tnet.build(30, 12)
    with torch.no_grad():  # non-trivial running statistics, so folding is really tested
        for bn in model.bns:
            bn.running_mean.uniform_(-0.5, 0.5)
            bn.running_var.uniform_(0.5, 2.0)
            bn.weight.uniform_(0.5, 1.5)
            bn.bias.uniform_(-0.2, 0.2)
    x = rng.standard_normal((7, 30)).astype(np.float32)
    m = rng.random((7, PATCH_MELS, PATCH_FRAMES)).astype(np.float32)
    want_logits, want_el = tnet.torch_forward(model, x, m)
    params = tnet.export(model)
    assert not any(k.startswith("bn") for k in params)
    logits, el, emb = classifier_net.forward(params, x, m)
    np.testing.assert_allclose(logits, want_logits, atol=2e-5)
    np.testing.assert_allclose(el, want_el, atol=2e-5)
    assert emb.shape == (7, tnet.EMBED) and emb.dtype == np.float32 and np.all(emb >= 0)


def _toy(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                                    np.ndarray]:
    """Class 0: energy in the low mel rows; class 1: in the high rows. Features are noise,
    so only the CNN branch can tell them apart."""
    y = rng.integers(0, 2, n)
    m = rng.random((n, PATCH_MELS, PATCH_FRAMES)).astype(np.float32) * 0.2
    for i in range(n):
        rows = slice(0, 12) if y[i] == 0 else slice(36, 48)
        m[i, rows, : rng.integers(4, PATCH_FRAMES)] += 0.7
    x = rng.standard_normal((n, 6)).astype(np.float32)
    return x, m, y.astype(np.int64), np.full(n, -1, dtype=np.int64)


def test_trainer_learns_from_the_patch_and_is_reproducible(rng):
    x, m, y, el = _toy(rng, 256)
    p = tnet.train(x, m, y, el, 2, epochs=3, batch=32, seed=5, input_noise=0.0)
    p2 = tnet.train(x, m, y, el, 2, epochs=3, batch=32, seed=5, input_noise=0.0)
    for k in p:
        np.testing.assert_array_equal(p[k], p2[k])  # seeded: identical weights
    xt, mt, yt, _ = _toy(np.random.default_rng(99), 100)
    pred = np.argmax(classifier_net.forward(p, xt, mt)[0], axis=1)
    assert float(np.mean(pred == yt)) >= 0.9


def test_weights_without_the_network_are_refused(tmp_path: Path):
    with np.load(classify.WEIGHTS_PATH, allow_pickle=False) as z:
        old = {k: z[k] for k in z.files if not k.startswith("cnn")}
    path = tmp_path / "classifier.npz"
    np.savez(path, **old)  # type: ignore[arg-type]
    with pytest.raises(ModelUnavailableError, match="train-classifier"):
        classify.load_model(path)


def test_several_networks_are_averaged(tmp_path: Path):
    """Weights with networks cnn0_*, cnn1_* load as a seed ensemble whose probabilities are
    the networks' mean: two copies of one network give that network's predictions."""
    import re

    rng = np.random.default_rng(3)
    feats = rng.normal(size=(6, len(classify.FEATURE_NAMES))).astype(np.float32)
    patches = rng.normal(size=(6, 48, 64)).astype(np.float32)
    sfx = np.abs(rng.normal(size=(6, 512))).astype(np.float32)
    with np.load(classify.WEIGHTS_PATH, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    first = {m[2]: v for k, v in arrays.items()
             if (m := re.fullmatch(r"cnn(\d*)_(.+)", k)) and k != "cnn_weight" and
             int(m[1] or 0) == 0}
    rest = {k: v for k, v in arrays.items() if not re.fullmatch(r"cnn\d*_.+", k)}
    rest["cnn_weight"] = arrays["cnn_weight"]
    one, two = tmp_path / "one.npz", tmp_path / "two.npz"
    np.savez(one, **rest, **{f"cnn0_{k}": v for k, v in first.items()})  # type: ignore[arg-type]
    np.savez(two, **rest, **{f"cnn{i}_{k}": v for i in (0, 1)  # type: ignore[arg-type]
                             for k, v in first.items()})
    m1, m2 = classify.load_model(one), classify.load_model(two)
    assert len(m1.nets) == 1 and len(m2.nets) == 2
    p1, e1 = classify.predict_prepared(m1, feats, patches, sfx)
    p2, e2 = classify.predict_prepared(m2, feats, patches, sfx)
    np.testing.assert_allclose(p1, p2, atol=1e-6)
    np.testing.assert_allclose(e1, e2, atol=1e-6)


def test_the_shipped_model_reads_the_sfx_embedding(tmp_path: Path):
    """The shipped MLPs read the handcrafted features joined with the aiSFX embedding (the
    networks the features alone): the weights carry its standardisation, the MLPs' first
    layers take both, and predicting without the embedding is refused, not guessed."""
    from stemcrate.audio import sfx_embedding

    model = classify.load_model()
    assert model.sfx is not None
    mean, std = model.sfx
    assert mean.shape == std.shape == (sfx_embedding.EMBEDDING_DIM,) and (std > 0).all()
    width = len(classify.FEATURE_NAMES) + sfx_embedding.EMBEDDING_DIM
    assert all(m["w1"].shape[0] == width for m in model.members)
    assert all(n["f1_w"].shape[0] == len(classify.FEATURE_NAMES) for n in model.nets)
    rng = np.random.default_rng(4)
    feats = rng.normal(size=(3, len(classify.FEATURE_NAMES))).astype(np.float32)
    patches = rng.normal(size=(3, 48, 64)).astype(np.float32)
    with pytest.raises(ValueError, match="aiSFX"):
        classify.predict_prepared(model, feats, patches)
    # the embedding is read: other embeddings, other probabilities
    p_a = classify.predict_prepared(model, feats, patches, np.tile(mean, (3, 1)))[0]
    p_b = classify.predict_prepared(model, feats, patches, np.tile(mean + 3 * std, (3, 1)))[0]
    assert np.abs(p_a - p_b).max() > 0.01

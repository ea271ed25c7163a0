"""A small multilayer perceptron in numpy (training: Adam, class-balanced cross-entropy).

Architecture (all float32): standardised features (F,) → dense 256 + ReLU → dense H + ReLU
(the embedding layer) → dense 12 (softmax over labels) and dense 1 (sigmoid: electronic).
The forward pass used at inference lives in :mod:`stemcrate.audio.classify`; this module
only trains and returns the parameter arrays.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

F32 = npt.NDArray[np.float32]


def _init(rng: np.random.Generator, n_in: int, n_out: int) -> tuple[F32, F32]:
    w = rng.standard_normal((n_in, n_out)) * np.sqrt(2.0 / n_in)
    return w.astype(np.float32), np.zeros(n_out, dtype=np.float32)


def forward(p: dict[str, F32], x: F32) -> tuple[F32, F32, F32, F32]:
    """(h1, h2, logits (N, C), electronic logit (N,)) for standardised ``x`` (N, F)."""
    h1 = np.maximum(x @ p["w1"] + p["b1"], 0)
    h2 = np.maximum(h1 @ p["w2"] + p["b2"], 0)
    return h1, h2, h2 @ p["w3"] + p["b3"], (h2 @ p["we"] + p["be"])[:, 0]


def softmax(z: F32) -> F32:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return np.asarray(e / e.sum(axis=1, keepdims=True), dtype=np.float32)


def train(x: F32, y: npt.NDArray[np.int64], electronic: npt.NDArray[np.int64], n_classes: int,
          *, hidden: tuple[int, int] = (256, 96), epochs: int = 40, batch: int = 256,
          lr: float = 2e-3, weight_decay: float = 1e-4, input_noise: float = 0.15,
          label_smoothing: float = 0.05, seed: int = 0,
          progress: Callable[[int], None] | None = None) -> dict[str, F32]:
    """Train on standardised ``x`` (N, F) with labels ``y`` (N,), electronic ∈ {1, 0, -1}."""
    rng = np.random.default_rng(seed)
    n, f = x.shape
    p: dict[str, F32] = {}
    p["w1"], p["b1"] = _init(rng, f, hidden[0])
    p["w2"], p["b2"] = _init(rng, hidden[0], hidden[1])
    p["w3"], p["b3"] = _init(rng, hidden[1], n_classes)
    p["we"], p["be"] = _init(rng, hidden[1], 1)
    counts = np.bincount(y, minlength=n_classes).astype(np.float64)
    cw = (counts.sum() / np.maximum(counts, 1) / n_classes).astype(np.float32)
    m = {k: np.zeros_like(v) for k, v in p.items()}
    v = {k: np.zeros_like(val) for k, val in p.items()}
    b1, b2, eps = 0.9, 0.999, 1e-8
    steps_per_epoch = max(1, n // batch)
    total = epochs * steps_per_epoch
    step = 0
    onehot = np.eye(n_classes, dtype=np.float32)
    for _epoch in range(epochs):
        order = rng.permutation(n)
        for s in range(steps_per_epoch):
            idx = order[s * batch:(s + 1) * batch]
            xb = x[idx] + rng.standard_normal((idx.size, f)).astype(np.float32) * input_noise
            yb, eb = y[idx], electronic[idx]
            h1, h2, logits, el = forward(p, xb)
            prob = softmax(logits)
            target = onehot[yb] * (1 - label_smoothing) + label_smoothing / n_classes
            wts = cw[yb][:, None]
            g3 = (prob - target) * wts / idx.size
            known = (eb >= 0).astype(np.float32)
            sig = 1 / (1 + np.exp(-el))
            ge = ((sig - np.maximum(eb, 0)) * known * 0.3 / idx.size)[:, None].astype(np.float32)
            grads: dict[str, F32] = {}
            grads["w3"] = h2.T @ g3
            grads["b3"] = g3.sum(axis=0)
            grads["we"] = h2.T @ ge
            grads["be"] = ge.sum(axis=0)
            gh2 = (g3 @ p["w3"].T + ge @ p["we"].T) * (h2 > 0)
            grads["w2"] = h1.T @ gh2
            grads["b2"] = gh2.sum(axis=0)
            gh1 = (gh2 @ p["w2"].T) * (h1 > 0)
            grads["w1"] = xb.T @ gh1
            grads["b1"] = gh1.sum(axis=0)
            step += 1
            a = lr * 0.5 * (1 + np.cos(np.pi * step / total))
            for k in p:
                g = grads[k] + (weight_decay * p[k] if k.startswith("w") else 0)
                m[k] = (b1 * m[k] + (1 - b1) * g).astype(np.float32)
                v[k] = (b2 * v[k] + (1 - b2) * g * g).astype(np.float32)
                mh = m[k] / (1 - b1 ** step)
                vh = v[k] / (1 - b2 ** step)
                p[k] = (p[k] - a * mh / (np.sqrt(vh) + eps)).astype(np.float32)
        if progress is not None:
            progress(1)
    return p

"""Forward pass of the one-shot classifier network in numpy (no torch needed at inference).

The network (trained by :mod:`stemcrate.audio.training.net` with PyTorch) joins two views of
a clip:

* a small CNN over the log-mel patch (:func:`stemcrate.audio.features.mel_patch`, float32
  (48 mels, 64 frames)): four 3×3 conv layers (batch norm folded into the weights at export)
  with ReLU, 2×2 max-pooling after the first three, then mean and max over time per remaining
  frequency row → dense 128 + ReLU;
* the standardised handcrafted features (:mod:`stemcrate.audio.features`) → dense 192 + ReLU;

both joined → dense 128 + ReLU (the embedding) → 12 label logits and 1 "electronic" logit.

Parameters are a flat ``dict[str, float32 array]`` (names ``c{i}_w`` (Cout, Cin, 3, 3),
``c{i}_b``, ``cproj_w`` (in, out), ``cproj_b``, ``f1_w``, ``f1_b``, ``h_w``, ``h_b``,
``out_w``, ``out_b``, ``el_w``, ``el_b``), as stored in ``classifier.npz``.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

F32 = npt.NDArray[np.float32]
N_CONV = 4
_CHUNK = 32  # clips per conv pass: big enough for BLAS, small enough for the caches


def _conv3x3(x: F32, w: F32, b: F32) -> F32:
    """'Same' 3×3 convolution: x (N, C, H, W), w (Cout, C, 3, 3) → (N, Cout, H, W)."""
    n, c, h, wd = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    cols = np.lib.stride_tricks.sliding_window_view(xp, (3, 3), axis=(2, 3))  # N,C,H,W,3,3
    cols = cols.transpose(0, 2, 3, 1, 4, 5).reshape(n * h * wd, c * 9)
    out = cols @ w.reshape(w.shape[0], c * 9).T + b
    return np.ascontiguousarray(out.reshape(n, h, wd, -1).transpose(0, 3, 1, 2))


def _maxpool2(x: F32) -> F32:
    """2×2 max-pooling of (N, C, H, W) (odd edges dropped), as four strided maxima."""
    h, w = x.shape[2] // 2 * 2, x.shape[3] // 2 * 2
    return np.maximum(np.maximum(x[:, :, 0:h:2, 0:w:2], x[:, :, 1:h:2, 0:w:2]),
                      np.maximum(x[:, :, 0:h:2, 1:w:2], x[:, :, 1:h:2, 1:w:2]))


def _conv_features(p: dict[str, F32], patches: F32) -> F32:
    """The CNN branch up to its pooled vector: (N, 48, 64) → (N, 2 · C4 · 6)."""
    h = patches[:, None].astype(np.float32)
    for i in range(N_CONV):
        h = np.maximum(_conv3x3(h, p[f"c{i}_w"], p[f"c{i}_b"]), 0)
        if i < N_CONV - 1:
            h = _maxpool2(h)
    return np.concatenate([h.mean(axis=3), h.max(axis=3)], axis=1).reshape(h.shape[0], -1)


def forward(p: dict[str, F32], feats: F32, patches: F32) -> tuple[F32, F32, F32]:
    """(label logits (N, 12), electronic logits (N,), embedding (N, 128)).

    ``feats``: standardised features float32 (N, F); ``patches``: float32 (N, 48, 64).
    """
    pooled = np.concatenate([_conv_features(p, patches[i:i + _CHUNK])
                             for i in range(0, max(len(patches), 1), _CHUNK)])
    c = np.maximum(pooled @ p["cproj_w"] + p["cproj_b"], 0)
    f = np.maximum(feats @ p["f1_w"] + p["f1_b"], 0)
    e = np.maximum(np.concatenate([c, f], axis=1) @ p["h_w"] + p["h_b"], 0)
    return (e @ p["out_w"] + p["out_b"]).astype(np.float32), \
        (e @ p["el_w"] + p["el_b"])[:, 0].astype(np.float32), e.astype(np.float32)

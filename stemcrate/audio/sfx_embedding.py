"""A pretrained sound-effects embedding (aiSFX) as one more view of a one-shot.

Ma & Lerch, "Representation Learning for the Automatic Indexing of Sound Effects Libraries"
(ISMIR 2022): a 9-layer CNN over a 96-band log-mel spectrogram, trained on recorded
sound-effects libraries (Pro Sound Effects, Soundly, UCS, Sound Ideas; about 500 classes
across nine datasets). The PyPI package ``aisfx`` ships its checkpoint (25 MB, CC BY 4.0);
we load only its embedding network, with PyTorch, and never download anything.

It hears recorded material that none of our rendered or synthesised training sources is,
so the classifier joins its 512 values to the handcrafted features.

Public API
----------
``EMBEDDING_DIM: int``  512.
``load_network()``  the embedding network (loaded once per process); raises
    :class:`~stemcrate.errors.ModelUnavailableError` naming what is missing.
``spectrogram(prepared) -> np.ndarray``  float32 (frames, 96): the network's input for a
    clip from :func:`stemcrate.audio.features.prepare` (mono, FEATURE_SR = 22 050 Hz, peak
    1.0, ≤ 1.5 s); resampled to 44.1 kHz, 2048-sample Hann frames every 1024 samples
    (23 ms), htk mel bands 0–22.05 kHz each summing to 1, ``log10(1e4·power + 1)`` scaled by
    the training data's maximum (9.458) as the package does.
``embed_prepared(clips) -> np.ndarray``  float32 (N, 512), one row per prepared clip (max
    over time of the last convolution block, mean over frequency). A clip is padded with
    silence to a whole number of 8 frames (≥ 16), so its embedding does not depend on what
    else is in the batch.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import soxr

from stemcrate.errors import ModelUnavailableError

if TYPE_CHECKING:
    import torch

EMBEDDING_DIM = 512
SR = 44100
N_MELS = 96
N_FFT = 2048
HOP = 1024
_SPEC_MAX = 9.457798957824707  # the package's 'original' normalisation (its training data)
_FRAME_STEP = 8  # frames are padded to a multiple of this (three 2× poolings)
_MIN_FRAMES = 16
_BATCH = 64

_LOCK = threading.Lock()
_NET: list[Any] = []


@lru_cache(maxsize=1)
def _mel_basis() -> npt.NDArray[np.float32]:
    import librosa

    return librosa.filters.mel(sr=SR, n_fft=N_FFT, n_mels=N_MELS, fmin=0.0, fmax=SR / 2,
                               htk=True, norm=1.0).astype(np.float32)  # (96, 1025)


def spectrogram(prepared: npt.NDArray[np.floating]) -> npt.NDArray[np.float32]:
    """The network's input for one prepared clip: float32 (frames, 96), see the module doc."""
    from stemcrate.audio.features import FEATURE_SR

    x = np.asarray(prepared, dtype=np.float32)
    y = soxr.resample(x, FEATURE_SR, SR, quality="HQ") if x.size else x
    y = np.pad(y, (N_FFT // 2, N_FFT // 2))
    n = 1 + max(0, y.size - N_FFT) // HOP
    if y.size < N_FFT:
        y = np.pad(y, (0, N_FFT - y.size))
    frames = np.lib.stride_tricks.sliding_window_view(y, N_FFT)[::HOP][:n]
    power = np.abs(np.fft.rfft(frames * _hann(), axis=1)) ** 2  # (frames, 1025)
    mel = power.astype(np.float32) @ _mel_basis().T
    return (np.log10(mel * 1e4 + 1.0) / _SPEC_MAX).astype(np.float32)


@lru_cache(maxsize=1)
def _hann() -> npt.NDArray[np.float32]:
    return (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(N_FFT) / N_FFT)).astype(np.float32)


def _checkpoint() -> str:
    try:
        from aisfx.inference import get_path_modelWeights
    except ImportError as exc:
        raise ModelUnavailableError(
            "the aiSFX sound-effects embedding is not installed (pip install --no-deps "
            "aisfx==0.1.2; `make deps` does it)") from exc
    return str(get_path_modelWeights())


def load_network() -> torch.nn.Module:
    """The embedding network, loaded once per process (thread-safe), in eval mode on CPU."""
    with _LOCK:
        if _NET:
            return _NET[0]  # type: ignore[no-any-return]
        path = _checkpoint()
        import torch
        from aisfx.models.cnn2d import EmbeddingNet

        scalar = getattr(np, "_core", np.core).multiarray.scalar
        try:
            # weights only: the pickle names numpy 1's scalar type, allowed under that name
            with torch.serialization.safe_globals(
                    [(scalar, "numpy.core.multiarray.scalar"), np.dtype,
                     type(np.dtype(np.int64)), type(np.dtype(np.float64))]):
                state, _datasets = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as exc:  # noqa: BLE001 - any unreadable checkpoint is one error
            raise ModelUnavailableError(f"aiSFX checkpoint {path} is unreadable: {exc}"
                                        ) from exc
        net = EmbeddingNet("max", 3, 1, 64)
        net.load_state_dict({k.removeprefix("embedding_net."): v for k, v in state.items()
                             if k.startswith("embedding_net.")})
        net.eval()
        _NET.append(net)
        return net


def embed_prepared(clips: Sequence[npt.NDArray[np.floating]]) -> npt.NDArray[np.float32]:
    """float32 (N, 512): the aiSFX embedding of each prepared clip (see the module doc)."""
    import torch

    net = load_network()
    specs = [spectrogram(c) for c in clips]
    out = np.zeros((len(specs), EMBEDDING_DIM), dtype=np.float32)
    padded: dict[int, list[int]] = {}
    for i, s in enumerate(specs):
        t = max(_MIN_FRAMES, -(-s.shape[0] // _FRAME_STEP) * _FRAME_STEP)
        padded.setdefault(t, []).append(i)
    with torch.inference_mode():
        for t, idx in padded.items():
            for b in range(0, len(idx), _BATCH):
                part = idx[b:b + _BATCH]
                x = np.zeros((len(part), t, N_MELS), dtype=np.float32)
                for j, i in enumerate(part):
                    x[j, :specs[i].shape[0]] = specs[i]
                out[part] = net(torch.from_numpy(x)).numpy()
    return out

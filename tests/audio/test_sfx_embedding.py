"""The aiSFX embedding: real checkpoint from the aisfx wheel, input spectrogram, determinism."""

from __future__ import annotations

import numpy as np
import pytest

from stemcrate.audio import sfx_embedding as S
from stemcrate.audio.features import FEATURE_SR, prepare
from stemcrate.errors import ModelUnavailableError


def _tone(f0: float, seconds: float) -> np.ndarray:
    t = np.arange(int(seconds * FEATURE_SR)) / FEATURE_SR
    return (np.sin(2 * np.pi * f0 * t) * np.exp(-t / 0.3)).astype(np.float32)


def test_spectrogram_frames_bands_and_scale():
    # 1 s at 22.05 kHz is 44 100 samples at 44.1 kHz: 1 + 44100 // 1024 = 44 centred frames
    s = S.spectrogram(prepare(_tone(1000.0, 1.0), FEATURE_SR))
    assert s.shape == (44, S.N_MELS) and s.dtype == np.float32
    assert np.isfinite(s).all() and s.min() >= 0
    # a full-scale tone is near the top of the training data's range (the package's scale)
    assert 0.8 < s.max() <= 1.05
    # the tone's energy sits in the band that holds 1 kHz, not at the top of the spectrum
    band_hz = np.array([np.argmax(row) for row in S._mel_basis()]) * S.SR / S.N_FFT
    assert abs(band_hz[int(np.argmax(s[2]))] - 1000.0) < 150
    assert S.spectrogram(np.zeros(0, np.float32)).shape == (1, S.N_MELS)


def test_embedding_real_checkpoint_deterministic_and_batch_independent(rng):
    clips = [prepare(_tone(f, d), FEATURE_SR) for f, d in ((60, 0.6), (440, 1.5), (3000, 0.02))]
    noise = rng.standard_normal(4000).astype(np.float32) * np.exp(-np.arange(4000) / 400)
    clips.append(prepare(noise, FEATURE_SR))
    e = S.embed_prepared(clips)
    assert e.shape == (4, S.EMBEDDING_DIM) and e.dtype == np.float32
    assert np.isfinite(e).all() and (e >= 0).all()  # max over ReLU maps
    # a clip's embedding does not depend on the batch it came in
    np.testing.assert_allclose(S.embed_prepared(clips[1:2])[0], e[1], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(S.embed_prepared(clips)[3], e[3], rtol=1e-4, atol=1e-5)
    # different sounds, different embeddings; the pretrained network is what loaded
    # (its batch-norm statistics are the checkpoint's, not a fresh layer's 0 and 1)
    cos = (e @ e.T) / np.outer(np.linalg.norm(e, axis=1), np.linalg.norm(e, axis=1))
    assert cos[0, 3] < 0.99 and cos[1, 2] < 0.99
    var = S.load_network().state_dict()["conv_block1.bn1.running_var"]
    assert float(var.abs().sum()) != pytest.approx(float(var.numel()))
    assert S.embed_prepared([]).shape == (0, S.EMBEDDING_DIM)


def test_missing_package_is_a_clear_error(monkeypatch: pytest.MonkeyPatch):
    import builtins

    real_import = builtins.__import__

    def no_aisfx(name: str, *args: object, **kwargs: object) -> object:
        if name.startswith("aisfx"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(builtins, "__import__", no_aisfx)
    with pytest.raises(ModelUnavailableError, match="aisfx"):
        S._checkpoint()

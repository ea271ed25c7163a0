"""The batched Demucs engine against demucs itself, on real audio and real model code paths.

The models are small randomly initialised HTDemucs written into a local model folder in
demucs' own format and loaded through ``demucs.pretrained.get_model(name, repo=…)``.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from stemcrate.audio import demucs_models
from stemcrate.audio.decode import load_audio, write_audio
from stemcrate.audio.demucs_models import list_models, load_model, model_fingerprint, pull_model
from stemcrate.audio.demucs_testing import write_test_model_repo
from stemcrate.audio.separation import model_info, separate_tracks
from stemcrate.errors import InputError, ModelUnavailableError

MIX = "Kevin_MacLeod_-_Vibe_Ace.ogg"


@pytest.fixture(scope="module")
def model_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("models")
    write_test_model_repo(folder)  # htdemucs: one model, 4-s segments (~0.36 M parameters)
    # cheaper 2-s-segment models for the tests that need no long audio
    write_test_model_repo(folder, name="small", seed=3, segment=2)
    write_test_model_repo(folder, name="bag2", n_models=2, seed=10, segment=2)  # like _ft
    return folder


@pytest.fixture(scope="module")
def mix(corpus: Path) -> tuple[np.ndarray, int]:
    """Real music, stereo 44.1 kHz, from 10 s in."""
    y, sr = load_audio(corpus / MIX)
    return y[:, 10 * sr:], sr


def _wav(tmp_path: Path, y: np.ndarray, sr: int) -> Path:
    path = tmp_path / "mix.wav"
    write_audio(path, y, sr, format="wav", bit_depth=32)  # float WAV: both readers agree
    return path


def _separator(name: str, repo: Path, path: Path, shifts: int = 0) -> dict[str, np.ndarray]:
    from demucs.api import Separator

    separator = Separator(name, repo=repo, device="cpu", shifts=shifts, overlap=0.25)
    _, stems = separator.separate_audio_file(path)
    return {k: v.numpy() for k, v in stems.items()}


def _max_diff(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> float:
    assert list(a) == list(b)
    return max(float(np.abs(a[k] - b[k]).max()) for k in a)


@pytest.mark.slow
def test_matches_demucs_separator(tmp_path: Path, model_repo: Path,
                                  mix: tuple[np.ndarray, int]) -> None:
    y, sr = mix
    path = _wav(tmp_path, y[:, :10 * sr], sr)  # 4 overlapping segments
    ref = _separator("htdemucs", model_repo, path)
    y_wav, sr_wav = load_audio(path)
    (ours,) = separate_tracks([(y_wav, sr_wav)], model="htdemucs", repo=model_repo,
                              device="cpu", overlap=0.25, shifts=0, precision="fp32",
                              batch_size=4)
    assert list(ours) == ["drums", "bass", "other", "vocals"]
    for stem in ours.values():
        assert stem.dtype == np.float32 and stem.shape == y_wav.shape
    assert max(float(np.abs(s).max()) for s in ours.values()) > 1e-3  # not all silence
    assert _max_diff(ours, ref) < 1e-4


@pytest.mark.slow
def test_bag_and_shifts_match_demucs(tmp_path: Path, model_repo: Path,
                                     mix: tuple[np.ndarray, int]) -> None:
    """A bag of two models with one-hot weights, and one random shift seeded alike."""
    y, sr = mix
    path = _wav(tmp_path, y[:, :int(1.5 * sr)], sr)
    y_wav, _ = load_audio(path)
    ref = _separator("bag2", model_repo, path)
    (ours,) = separate_tracks([(y_wav, sr)], model="bag2", repo=model_repo, device="cpu")
    assert _max_diff(ours, ref) < 1e-4

    random.seed(7)
    ref_shift = _separator("small", model_repo, path, shifts=1)
    random.seed(7)
    (ours_shift,) = separate_tracks([(y_wav, sr)], model="small", repo=model_repo,
                                    device="cpu", shifts=1)
    assert _max_diff(ours_shift, ref_shift) < 1e-4
    (unshifted,) = separate_tracks([(y_wav, sr)], model="small", repo=model_repo,
                                   device="cpu")
    assert _max_diff(ours_shift, unshifted) > 1e-4  # the shift really moved the segments


def test_mono_22050_and_multitrack_batch(model_repo: Path, mix: tuple[np.ndarray, int]) -> None:
    import soxr

    y, sr = mix
    mono = soxr.resample(y[:, :int(1.2 * sr)].mean(axis=0), sr, 22050)[None, :]
    stereo = y[:, 20 * sr:int(22.5 * sr)]  # two 2-s segments
    kw: dict[str, Any] = {"model": "small", "repo": model_repo, "device": "cpu"}
    alone_mono = separate_tracks([(mono, 22050)], **kw)[0]
    alone_stereo = separate_tracks([(stereo, sr)], **kw)[0]
    together = separate_tracks([(mono, 22050), (stereo, sr)], batch_size=3, **kw)
    for stem in together[0].values():  # mono in: stereo stems (as demucs), input's length
        assert stem.shape == (2, mono.shape[1]) and stem.dtype == np.float32
    for stem in together[1].values():
        assert stem.shape == stereo.shape
    # segments of both tracks shared batches, and each track came out as if alone
    assert _max_diff(together[0], alone_mono) < 1e-5
    assert _max_diff(together[1], alone_stereo) < 1e-5


def test_two_stems_sum_the_others(model_repo: Path, mix: tuple[np.ndarray, int]) -> None:
    y, sr = mix
    clip = y[:, :int(1.5 * sr)]
    kw: dict[str, Any] = {"model": "small", "repo": model_repo, "device": "cpu"}
    (four,) = separate_tracks([(clip, sr)], **kw)
    (two,) = separate_tracks([(clip, sr)], two_stems="vocals", **kw)
    assert list(two) == ["vocals", "no_vocals"]
    np.testing.assert_allclose(two["vocals"], four["vocals"], atol=1e-6)
    np.testing.assert_allclose(two["no_vocals"], four["drums"] + four["bass"] + four["other"],
                               atol=1e-5)
    with pytest.raises(ValueError, match="guitar"):
        separate_tracks([(clip, sr)], two_stems="guitar", **kw)


def test_missing_model_says_what_and_where(tmp_path: Path, model_repo: Path) -> None:
    with pytest.raises(ModelUnavailableError) as info:
        separate_tracks([(np.zeros((2, 44100), np.float32), 44100)], model="htdemucs_6s",
                        repo=model_repo, device="cpu")
    message = str(info.value)
    assert "htdemucs_6s" in message and str(model_repo) in message
    assert "stemcrate models pull htdemucs_6s" in message and "STEMCRATE_SEPARATION_REPO" in message

    broken = tmp_path / "broken"
    write_test_model_repo(broken, name="htdemucs_ft", n_models=2)
    victim = sorted(broken.glob("*.th"))[0]
    victim.unlink()
    with pytest.raises(ModelUnavailableError, match=victim.name.split("-")[0]):
        load_model("htdemucs_ft", broken)
    with pytest.raises(ModelUnavailableError, match="does not exist"):
        load_model("htdemucs", tmp_path / "nowhere")

    rows = {r.name: r for r in list_models(broken)}
    assert not rows["htdemucs_ft"].usable and not rows["htdemucs"].usable
    rows = {r.name: r for r in list_models(model_repo)}
    assert rows["htdemucs"].usable and rows["htdemucs"].where == "folder"
    assert rows["bag2"].usable and not rows["htdemucs_ft"].usable


def test_empty_track_is_an_input_error(model_repo: Path) -> None:
    with pytest.raises(InputError, match="track #1"):
        separate_tracks([(np.zeros((2, 100), np.float32), 44100),
                         (np.zeros((2, 0), np.float32), 44100)], repo=model_repo, device="cpu")


def test_out_of_memory_halves_the_batch(model_repo: Path, mix: tuple[np.ndarray, int],
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    y, sr = mix
    clip = y[:, :int(2.5 * sr)]  # 2-s segments every 1.5 s: 2 segments
    kw: dict[str, Any] = {"model": "small", "repo": model_repo, "device": "cpu", "batch_size": 2}
    (expected,) = separate_tracks([(clip, sr)], **kw)

    sub = load_model("small", model_repo, "cpu").models[0]
    real_forward = sub.forward
    calls: list[int] = []

    def flaky_forward(x):  # type: ignore[no-untyped-def]
        calls.append(x.shape[0])
        if len(calls) == 1:
            raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return real_forward(x)

    monkeypatch.setattr(sub, "forward", flaky_forward)
    (ours,) = separate_tracks([(clip, sr)], **kw)
    assert calls == [2, 1, 1]  # the failed batch of 2 again, as two batches of 1
    assert _max_diff(ours, expected) < 1e-5

    def broken_forward(x):  # type: ignore[no-untyped-def]
        calls.append(x.shape[0])
        raise RuntimeError("shape mismatch somewhere")

    calls.clear()
    monkeypatch.setattr(sub, "forward", broken_forward)
    with pytest.raises(RuntimeError, match="shape mismatch"):
        separate_tracks([(clip, sr)], **kw)
    assert calls == [2]  # only out-of-memory errors are retried


def test_bf16_autocast_stays_close(model_repo: Path, mix: tuple[np.ndarray, int]) -> None:
    """The reduced-precision path (the CUDA default) runs through the same code on CPU."""
    y, sr = mix
    clip = y[:, :int(1.5 * sr)]
    kw: dict[str, Any] = {"model": "small", "repo": model_repo, "device": "cpu"}
    (fp32,) = separate_tracks([(clip, sr)], precision="fp32", **kw)
    (bf16,) = separate_tracks([(clip, sr)], precision="bf16", **kw)
    for name in fp32:
        assert bf16[name].dtype == np.float32 and np.all(np.isfinite(bf16[name]))
        err = np.sum((bf16[name] - fp32[name]) ** 2)
        sdr = 10 * np.log10(np.sum(fp32[name] ** 2) / max(err, 1e-20))
        assert sdr > 20, (name, sdr)
        assert not np.array_equal(bf16[name], fp32[name])


def test_fingerprint_info_and_pull(tmp_path: Path, model_repo: Path) -> None:
    info = model_info("htdemucs", model_repo)
    assert info["sources"] == ["drums", "bass", "other", "vocals"]
    assert info["samplerate"] == 44100 and info["n_models"] == 1
    assert len(info["weights_sha256"]) == 64 and info["origin"].startswith("folder")
    assert info["weights_hash"] == info["weights_sha256"]
    assert model_fingerprint("bag2", model_repo) != info["weights_sha256"]

    copy = tmp_path / "copy"
    pulled = pull_model("htdemucs", to=copy, source_repo=model_repo)
    assert pulled.fingerprint == info["weights_sha256"]
    assert (copy / "htdemucs.yaml").exists() and len(list(copy.glob("*.th"))) == 1
    demucs_models.clear_cache()
    assert model_fingerprint("htdemucs", copy) == info["weights_sha256"]  # read from disk
    other = write_test_model_repo(tmp_path / "other", seed=99)
    assert model_fingerprint("htdemucs", other) != info["weights_sha256"]

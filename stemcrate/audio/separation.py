"""Stem separation with Demucs v4: a batched engine equivalent to ``demucs.apply.apply_model``.

Stock ``apply_model`` runs a track's overlapping segments through the model one at a time.
This engine cuts every track into exactly the same segments (same segment length, overlap,
centred padding and triangular transition weights), runs segments of one track *and of
several tracks* together in batches, and overlap-adds the results with the same weights. In
fp32 on CPU the stems equal ``demucs.api.Separator``'s to ~1e-6. Bags of models (htdemucs_ft)
are combined like demucs does (per-source weights); random shifts (``shifts > 0``) draw their
offsets from Python's ``random`` in demucs' order.

Public API (for the pipeline; the CLI ``stemcrate separate`` uses the same)
-------------------------------------------------------------------------
``separate_tracks(tracks, *, model="htdemucs", repo=None, device="auto", two_stems=None,
batch_size=None, overlap=0.25, shifts=0, precision="auto", progress=None)
-> list[dict[str, np.ndarray]]``
    ``tracks``: a sequence of ``(y, sr)``, ``y`` float array ``(channels, samples)`` (or 1-D
    mono) at ``sr`` Hz, any rate and channel count (mono is duplicated and more than two
    channels keep the first two, as demucs does). Returns one dict per track, stem name ->
    ``float32`` array ``(model.audio_channels, samples)`` (stereo for the stock models) with
    the track's own ``samples`` and sample rate ``sr``, sample-aligned with the input
    (resampled to the model's rate and back, like demucs, when ``sr`` differs).
    ``model``/``repo``: demucs model name; ``repo`` a local model folder
    (``settings.separation_repo``), ``None`` = the hub. ``device``: ``auto`` | ``cpu`` |
    ``cuda`` | ``cuda:N``. ``two_stems="vocals"`` returns ``vocals`` and ``no_vocals`` (sum of
    the other stems). ``batch_size``: segments per model call (default: from free GPU
    memory, 4 on CPU); an out-of-memory error halves it and retries. ``precision``: ``auto``
    (bf16 autocast on CUDA, fp16 where bf16 is unsupported; fp32 on CPU) | ``fp32`` | ``bf16``
    | ``fp16``. ``progress(done, total)`` is called after every batch (segments).
    Raises :class:`~stemcrate.errors.ModelUnavailableError` when the model cannot be had,
    :class:`~stemcrate.errors.InputError` for an empty track, ``ValueError`` for bad options.
``model_info(model="htdemucs", repo=None) -> dict``
    ``name, sources, samplerate, audio_channels, segment_s, n_models, weights_sha256 (alias
    weights_hash), origin, demucs_version`` (for provenance manifests; loads the model once,
    on CPU).
``stem_names(model="htdemucs", repo=None, two_stems=None) -> list[str]``
    The stem names ``separate_tracks`` returns for these options.

Models are loaded once per process per (name, repo, device) and kept
(:mod:`stemcrate.audio.demucs_models`).
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import numpy.typing as npt

from stemcrate.audio.demucs_models import (
    DEFAULT_MODEL,
    load_model,
    model_fingerprint,
    model_origin,
    submodels,
)
from stemcrate.errors import InputError

if TYPE_CHECKING:
    import torch

Precision = Literal["auto", "fp32", "bf16", "fp16"]
ProgressFn = Callable[[int, int], None]

CPU_BATCH_SIZE = 4
"""Default segments per model call on CPU (batching gains little there; memory matters)."""
MAX_GPU_BATCH_SIZE = 64
"""Upper bound of the automatic batch size on CUDA (H100: 32-64 is where throughput peaks)."""
_GPU_BYTES_PER_SEGMENT = {"fp32": 1.5 * 2**30, "bf16": 0.8 * 2**30, "fp16": 0.8 * 2**30}

_BATCH_MEMORY: dict[tuple[str, str, str, str], int] = {}
_BATCH_LOCK = threading.Lock()

__all__ = ["Precision", "model_info", "resolve_device", "resolve_precision",
           "separate_tracks", "stem_names"]


# --------------------------------------------------------------------------- options

def resolve_device(device: str = "auto") -> str:
    """``auto`` -> ``cuda`` when a GPU is visible, else ``cpu``; anything else unchanged."""
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    dev = torch.device(device)  # raises on nonsense
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} asked for, but torch sees no CUDA GPU here "
                         f"(use --device cpu or auto)")
    return device


def resolve_precision(precision: Precision, device: str) -> Literal["fp32", "bf16", "fp16"]:
    """``auto`` -> bf16 on CUDA (fp16 if the card has no bf16), fp32 elsewhere."""
    import torch

    if precision == "auto":
        if not device.startswith("cuda"):
            return "fp32"
        return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    if precision not in ("fp32", "bf16", "fp16"):
        raise ValueError(f"precision must be auto, fp32, bf16 or fp16, not {precision!r}")
    return precision


def _autocast(precision: str, device: str) -> AbstractContextManager[Any]:
    import torch

    if precision == "fp32":
        return nullcontext()
    dtype = torch.bfloat16 if precision == "bf16" else torch.float16
    return torch.autocast(device_type=torch.device(device).type, dtype=dtype)


def _is_oom(exc: BaseException) -> bool:
    import torch

    oom_type = getattr(torch, "OutOfMemoryError", None) or getattr(
        torch.cuda, "OutOfMemoryError", None)
    if oom_type is not None and isinstance(exc, oom_type):
        return True
    text = str(exc).lower()
    return "out of memory" in text or "can't allocate memory" in text


def _initial_batch_size(device: str, precision: str, n_items: int) -> int:
    import torch

    if not device.startswith("cuda"):
        return max(1, min(CPU_BATCH_SIZE, n_items))
    free, _total = torch.cuda.mem_get_info(torch.device(device))
    fit = int(0.8 * free // _GPU_BYTES_PER_SEGMENT[precision])
    return max(1, min(MAX_GPU_BATCH_SIZE, fit, n_items))


# --------------------------------------------------------------------------- segments

@dataclass
class _Job:
    """One pass of one track through one sub-model (one per shift when ``shifts > 0``).

    ``base`` is the normalised mix ``(channels, n)`` on the device; the pass sees the view
    ``base[..., offset:offset + length]`` (demucs' ``TensorChunk``) and its output is
    ``out[..., trim:trim + track_length]``.
    """

    track: int
    base: torch.Tensor
    offset: int
    length: int
    trim: int
    out: torch.Tensor | None = None
    weight_sum: torch.Tensor | None = None


def _padded(base: torch.Tensor, offset: int, length: int, target: int) -> torch.Tensor:
    """``TensorChunk(base, offset, length).padded(target)``: centred, context from ``base``."""
    import torch.nn.functional as F

    delta = target - length
    start = offset - delta // 2
    end = start + target
    total = base.shape[-1]
    lo, hi = max(0, start), min(total, end)
    return F.pad(base[..., lo:hi], (lo - start, end - hi))


def _transition_weight(segment_length: int, device: torch.device) -> torch.Tensor:
    import torch

    weight = torch.cat([torch.arange(1, segment_length // 2 + 1, device=device),
                        torch.arange(segment_length - segment_length // 2, 0, -1,
                                     device=device)])
    return weight / weight.max()  # transition_power = 1, as demucs' default


def _run_model(sub: Any, batch: torch.Tensor, precision: str, device: str) -> torch.Tensor:
    import torch

    with torch.inference_mode(), _autocast(precision, device):
        out = sub(batch)
    return out.float()


def _apply_submodel(
    sub: Any,
    jobs: list[_Job],
    *,
    overlap: float,
    precision: str,
    device: str,
    batch_size: int,
    batch_key: tuple[str, str, str, str],
    tick: Callable[[int], None],
) -> int:
    """Fill ``job.out`` (``(sources, channels, job.length)``) for every job; returns the batch
    size that worked (smaller than ``batch_size`` after an out-of-memory error)."""
    import torch

    segment_length = int(sub.samplerate * sub.segment)
    stride = int((1 - overlap) * segment_length)
    if stride <= 0:
        raise ValueError(f"overlap {overlap} leaves no stride (must be < 1)")
    dev = torch.device(device)
    weight = _transition_weight(segment_length, dev)
    items: list[tuple[_Job, int, int]] = []
    for job in jobs:
        job.out = torch.zeros(len(sub.sources), job.base.shape[0], job.length, device=dev)
        job.weight_sum = torch.zeros(job.length, device=dev)
        for off in range(0, job.length, stride):
            items.append((job, off, min(job.length - off, segment_length)))

    i = 0
    while i < len(items):
        chunk = items[i:i + batch_size]
        batch = torch.stack([_padded(job.base, job.offset + off, n, segment_length)
                             for job, off, n in chunk])
        failed = False
        try:
            out = _run_model(sub, batch, precision, device)
        except RuntimeError as exc:
            if not _is_oom(exc) or batch_size == 1:
                raise
            failed = True
        if failed:
            del batch
            batch_size = max(1, batch_size // 2)
            with _BATCH_LOCK:
                _BATCH_MEMORY[batch_key] = batch_size
            if dev.type == "cuda":
                torch.cuda.empty_cache()
            continue
        for k, (job, off, n) in enumerate(chunk):
            assert job.out is not None and job.weight_sum is not None
            delta = segment_length - n
            piece = out[k, ..., delta // 2:delta // 2 + n]  # demucs' center_trim
            job.out[..., off:off + n] += weight[:n] * piece
            job.weight_sum[off:off + n] += weight[:n]
        i += len(chunk)
        tick(len(chunk))
    for job in jobs:
        assert job.out is not None and job.weight_sum is not None
        job.out /= job.weight_sum
    return batch_size


def _run_bag(
    bag: Any,
    mixes: list[torch.Tensor],
    shift_offsets: list[list[list[int]]],
    estimates: list[torch.Tensor | None],
    totals: list[float],
    *,
    shifts: int,
    overlap: float,
    precision: str,
    device: str,
    batch_size: int,
    batch_key: tuple[str, str, str, str],
    tick: Callable[[int], None],
) -> None:
    """Every sub-model over every track (x shifts), summed with demucs' per-source bag
    weights into ``estimates`` (normalised scale, model rate); ``totals`` gets the weight sums.
    """
    import torch

    dev = torch.device(device)
    bs = batch_size
    with torch.inference_mode():
        for s_idx, (sub, model_weights) in enumerate(zip(submodels(bag), bag.weights,
                                                          strict=True)):
            jobs: list[_Job] = []
            for t, mix in enumerate(mixes):
                length = mix.shape[-1]
                if shifts:
                    max_shift = int(0.5 * sub.samplerate)
                    base = torch.nn.functional.pad(mix, (max_shift, max_shift))
                    for off in shift_offsets[s_idx][t]:
                        jobs.append(_Job(t, base, off, length + max_shift - off,
                                         max_shift - off))
                else:
                    jobs.append(_Job(t, mix, 0, length, 0))
            bs = _apply_submodel(sub, jobs, overlap=overlap, precision=precision, device=device,
                                 batch_size=bs, batch_key=batch_key, tick=tick)
            per_track: list[torch.Tensor | None] = [None] * len(mixes)
            for job in jobs:
                assert job.out is not None
                piece = job.out[..., job.trim:job.trim + mixes[job.track].shape[-1]]
                acc = per_track[job.track]
                per_track[job.track] = piece if acc is None else acc + piece
                job.out = job.weight_sum = None
            w = torch.tensor([float(x) for x in model_weights], device=dev)
            for t, res in enumerate(per_track):
                assert res is not None
                if shifts:
                    res = res / shifts
                res = res * w[:, None, None]
                acc = estimates[t]
                estimates[t] = res if acc is None else acc + res
            for k, inst_weight in enumerate(model_weights):
                totals[k] += float(inst_weight)


# --------------------------------------------------------------------------- public

def stem_names(model: str = DEFAULT_MODEL, repo: Path | None = None,
               two_stems: str | None = None) -> list[str]:
    """The stem names :func:`separate_tracks` returns (loads the model on CPU)."""
    sources = list(load_model(model, repo, "cpu").sources)
    if two_stems is None:
        return sources
    if two_stems not in sources:
        raise ValueError(f"two_stems={two_stems!r} is not a stem of {model} "
                         f"({', '.join(sources)})")
    return [two_stems, f"no_{two_stems}"]


def model_info(model: str = DEFAULT_MODEL, repo: Path | None = None) -> dict[str, Any]:
    """Provenance of a separation model (loads it once, on CPU).

    Returns ``{"name", "sources" (list[str]), "samplerate" (Hz), "audio_channels",
    "segment_s" (float, seconds), "n_models", "weights_sha256" (hex; also as "weights_hash"),
    "origin"
    (``folder …`` / ``hub cache …`` / ``hub (downloaded)``), "demucs_version"}``.
    """
    import demucs

    bag = load_model(model, repo, "cpu")
    return {
        "name": model,
        "sources": list(bag.sources),
        "samplerate": int(bag.samplerate),
        "audio_channels": int(bag.audio_channels),
        "segment_s": float(min(float(m.segment) for m in submodels(bag))),
        "n_models": len(bag.models),
        "weights_sha256": model_fingerprint(model, repo),
        "weights_hash": model_fingerprint(model, repo),  # alias the pipeline reads
        "origin": model_origin(model, repo),
        "demucs_version": str(getattr(demucs, "__version__", "")),
    }


def separate_tracks(
    tracks: Sequence[tuple[npt.ArrayLike, int]],
    *,
    model: str = DEFAULT_MODEL,
    repo: Path | None = None,
    device: str = "auto",
    two_stems: str | None = None,
    batch_size: int | None = None,
    overlap: float = 0.25,
    shifts: int = 0,
    precision: Precision = "auto",
    progress: ProgressFn | None = None,
) -> list[dict[str, npt.NDArray[np.float32]]]:
    """Separate each ``(y, sr)`` of ``tracks`` into stems (see the module docstring).

    Returns, per track, ``{stem: float32 array (audio_channels, samples)}`` at the track's
    own sample rate and length.
    """
    import julius
    import torch
    from demucs.audio import convert_audio_channels
    from demucs.htdemucs import HTDemucs

    if not 0 <= overlap < 1:
        raise ValueError(f"overlap must be in [0, 1), not {overlap}")
    if shifts < 0:
        raise ValueError(f"shifts must be >= 0, not {shifts}")
    if batch_size is not None and batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, not {batch_size}")
    dev_name = resolve_device(device)
    prec = resolve_precision(precision, dev_name)
    bag = load_model(model, repo, dev_name)
    names = stem_names(model, repo, two_stems)
    sources = list(bag.sources)
    if not tracks:
        return []
    for sub in submodels(bag):
        if not isinstance(sub, HTDemucs):
            raise ValueError(f"model {model} holds a {type(sub).__name__}; the batched engine "
                             f"handles HTDemucs (Demucs v4) models only")
    dev = torch.device(dev_name)
    model_sr = int(bag.samplerate)

    # ---- inputs: demucs' channel handling and resampling, then Separator's normalisation
    mixes: list[torch.Tensor] = []
    stats: list[tuple[torch.Tensor, torch.Tensor]] = []
    originals: list[tuple[int, int]] = []
    for index, (y, sr) in enumerate(tracks):
        arr = np.asarray(y, dtype=np.float32)
        if arr.ndim == 1:
            arr = arr[None, :]
        if arr.ndim != 2 or arr.shape[1] == 0 or arr.shape[0] == 0:
            raise InputError(f"track #{index}", f"expected (channels, samples) audio with "
                             f"samples, got shape {arr.shape}")
        wav = torch.from_numpy(np.ascontiguousarray(arr)).to(dev)
        wav = convert_audio_channels(wav, bag.audio_channels)
        if int(sr) != model_sr:
            wav = julius.resample_frac(wav, int(sr), model_sr)
        ref = wav.mean(0)
        mean, std = ref.mean(), ref.std() + 1e-8
        mixes.append(((wav - mean) / std).contiguous())
        stats.append((mean, std))
        originals.append((int(sr), arr.shape[1]))

    # ---- shift offsets drawn up front, in demucs' order (sub-model, track, shift)
    shift_offsets: list[list[list[int]]] = []
    total_items = 0
    for sub in submodels(bag):
        seg = int(sub.samplerate * sub.segment)
        stride = max(1, int((1 - overlap) * seg))
        max_shift = int(0.5 * sub.samplerate)
        per_sub: list[list[int]] = []
        for mix in mixes:
            offs = [random.randint(0, max_shift) for _ in range(shifts)]
            per_sub.append(offs)
            views = [mix.shape[-1] + max_shift - o for o in offs] or [mix.shape[-1]]
            total_items += sum(-(-v // stride) for v in views)
        shift_offsets.append(per_sub)

    # ---- batch size, remembered per model/device/precision after an OOM
    batch_key = (model, str(repo), dev_name, prec)
    if batch_size is None:
        with _BATCH_LOCK:
            remembered = _BATCH_MEMORY.get(batch_key)
        bs = remembered or _initial_batch_size(dev_name, prec, total_items)
    else:
        bs = batch_size
    done = 0

    def tick(n: int) -> None:
        nonlocal done
        done += n
        if progress is not None:
            progress(done, total_items)

    if progress is not None:
        progress(0, total_items)

    # ---- every sub-model over every track (x shifts), demucs' bag weighting
    estimates: list[torch.Tensor | None] = [None] * len(mixes)
    totals = [0.0] * len(sources)
    cudnn_benchmark = torch.backends.cudnn.benchmark
    if dev.type == "cuda":
        torch.backends.cudnn.benchmark = True  # fixed segment shapes: autotuned convs pay
    try:
        _run_bag(bag, mixes, shift_offsets, estimates, totals, shifts=shifts, overlap=overlap,
                 precision=prec, device=dev_name, batch_size=bs, batch_key=batch_key,
                 tick=tick)
    finally:
        torch.backends.cudnn.benchmark = cudnn_benchmark

    # ---- back to the track's scale, rate and length
    results: list[dict[str, npt.NDArray[np.float32]]] = []
    tot = torch.tensor(totals, device=dev)[:, None, None]
    for t, est in enumerate(estimates):
        assert est is not None
        mean, std = stats[t]
        stems = (est / tot) * std + mean
        sr, n = originals[t]
        if sr != model_sr:
            stems = julius.resample_frac(stems, model_sr, sr, output_length=n)
        stems_np = stems.float().cpu().numpy()
        out = {name: np.ascontiguousarray(stems_np[k]) for k, name in enumerate(sources)}
        if two_stems is not None:
            rest = np.zeros_like(out[two_stems])
            for s in sources:
                if s != two_stems:
                    rest += out[s]
            out = {two_stems: out[two_stems], f"no_{two_stems}": rest}
        assert list(out) == names
        results.append(out)
    return results

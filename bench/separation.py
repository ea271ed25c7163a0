"""Stock ``demucs.apply.apply_model`` against stemcrate's batched engine, same model and audio.

The model is htdemucs-shaped (``HTDemucs(sources, segment=Fraction(39, 5),
bottom_channels=512, dconv_mode=3)``, ~42 M parameters) with random weights (same cost as real
ones), saved into a temporary local model folder and loaded through demucs' own loader.
Stock is run like ``demucs.api.Separator.separate_tensor`` (normalise, ``apply_model`` with
``shifts=0``, fp32), ours through ``separate_tracks``. Prints both real-time factors (audio
seconds per wall second), their ratio, and the SDR of ours against stock.

    .venv/bin/python bench/separation.py                       # CPU here: 30 s of audio
    .venv/bin/python bench/separation.py --device cuda --seconds 180 --batch-size 64
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "corpus"
TRACKS = ["Kevin_MacLeod_-_Vibe_Ace.ogg", "147793__setuniman__sweet-waltz-0i-22mi.ogg",
          "admiralbob77_-_Choice_-_Drum-bass.ogg"]


def corpus_audio(seconds: float, corpus: Path) -> tuple[np.ndarray, int]:
    """``seconds`` of real music at 44.1 kHz stereo: corpus tracks end to end, repeated."""
    from stemcrate.audio.decode import load_audio

    pieces = [load_audio(corpus / name, sr=44100)[0] for name in TRACKS]
    pieces = [np.repeat(p, 2, axis=0) if p.shape[0] == 1 else p[:2] for p in pieces]
    need = int(seconds * 44100)
    out, have, i = [], 0, 0
    while have < need:
        piece = pieces[i % len(pieces)][:, :need - have]
        out.append(piece)
        have += piece.shape[1]
        i += 1
    return np.ascontiguousarray(np.concatenate(out, axis=1)), 44100


def stock_separate(bag, wav, device: str, overlap: float):  # type: ignore[no-untyped-def]
    """``demucs.api.Separator.separate_tensor`` with shifts=0: the stock path."""
    from demucs.apply import apply_model

    ref = wav.mean(0)
    mean, std = ref.mean(), ref.std() + 1e-8
    out = apply_model(bag, ((wav - mean) / std)[None], shifts=0, split=True, overlap=overlap,
                      device=device)
    return out[0] * std + mean


def sdr(ref: np.ndarray, est: np.ndarray) -> float:
    err = float(np.sum((ref.astype(np.float64) - est) ** 2))
    return 10 * np.log10(float(np.sum(ref.astype(np.float64) ** 2)) / max(err, 1e-30))


def sync(device: str) -> None:
    import torch

    if device.startswith("cuda"):
        torch.cuda.synchronize()


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="audio length (s)")
    parser.add_argument("--device", default="cpu", help="cpu | cuda | auto")
    parser.add_argument("--batch-size", type=int, default=None,
                        help="segments per model call (default: the engine's choice)")
    parser.add_argument("--precision", default="auto", choices=["auto", "fp32", "bf16", "fp16"])
    parser.add_argument("--tracks", type=int, default=1,
                        help="split the audio into this many tracks (one engine call)")
    parser.add_argument("--overlap", type=float, default=0.25)
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--skip-stock", action="store_true")
    parser.add_argument("--warmup", action="store_true",
                        help="warm up on CPU too (always done on CUDA)")
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)

    import torch

    from stemcrate.audio import separation
    from stemcrate.audio.demucs_models import load_model, submodels
    from stemcrate.audio.demucs_testing import SOURCES_4, write_test_model_repo

    if args.threads:
        torch.set_num_threads(args.threads)
    device = separation.resolve_device(args.device)
    precision = separation.resolve_precision(args.precision, device)
    y, sr = corpus_audio(args.seconds, args.corpus)
    with tempfile.TemporaryDirectory() as tmp:
        repo = write_test_model_repo(Path(tmp), name="bench_htdemucs", sources=SOURCES_4,
                                     segment=Fraction(39, 5), bottom_channels=512,
                                     dconv_mode=3, channels=48, t_layers=5)
        bag = load_model("bench_htdemucs", repo, device)
    params = sum(p.numel() for p in bag.parameters())
    seg_len = int(float(submodels(bag)[0].segment) * sr)
    n_segments = -(-y.shape[1] // int((1 - args.overlap) * seg_len))
    print(f"device {device} ({torch.cuda.get_device_name(device) if device.startswith('cuda') else 'CPU, ' + str(torch.get_num_threads()) + ' threads'}); "  # noqa: E501
          f"model {params / 1e6:.1f} M params; audio {y.shape[1] / sr:.1f} s in {args.tracks} "
          f"track(s), {n_segments} segments; ours: {precision}, batch "
          f"{args.batch_size or 'auto'}", file=sys.stderr)

    wav = torch.from_numpy(y)
    if device.startswith("cuda") or args.warmup:
        # warm-up (one segment each: CUDA context, kernels, allocator, cudnn autotuning)
        warm = y[:, :seg_len]
        separation.separate_tracks([(warm, sr)], model="bench_htdemucs", repo=repo,
                                   device=device, precision=precision,
                                   batch_size=args.batch_size)
        if not args.skip_stock:
            stock_separate(bag, wav[:, :seg_len], device, args.overlap)

    bounds = np.linspace(0, y.shape[1], args.tracks + 1).astype(int)
    tracks = [(y[:, a:b], sr) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    if device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()
    sync(device)
    t0, c0 = time.perf_counter(), resource.getrusage(resource.RUSAGE_SELF).ru_utime
    ours = separation.separate_tracks(tracks, model="bench_htdemucs", repo=repo, device=device,
                                      precision=precision, batch_size=args.batch_size,
                                      overlap=args.overlap)
    sync(device)
    t_ours = time.perf_counter() - t0
    cpu_ours = resource.getrusage(resource.RUSAGE_SELF).ru_utime - c0
    peak_ours = torch.cuda.max_memory_allocated() / 2**30 if device.startswith("cuda") else 0.0
    audio_s = y.shape[1] / sr
    result: dict = {"device": device, "audio_s": audio_s, "params_m": params / 1e6,
                    "precision": precision, "batch_size": args.batch_size,
                    "tracks": args.tracks, "ours_s": t_ours, "ours_rtf": audio_s / t_ours,
                    "ours_cpu_s": cpu_ours, "ours_peak_gib": peak_ours}
    if device.startswith("cuda"):
        result["gpu"] = torch.cuda.get_device_name(device)
    if not args.skip_stock:
        sync(device)
        t0, c0 = time.perf_counter(), resource.getrusage(resource.RUSAGE_SELF).ru_utime
        stock = [stock_separate(bag, wav[:, a:b], device, args.overlap)
                 for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
        sync(device)
        t_stock = time.perf_counter() - t0
        cpu_stock = resource.getrusage(resource.RUSAGE_SELF).ru_utime - c0
        per_stem = {}
        for k, name in enumerate(bag.sources):
            ref = np.concatenate([s[k].float().cpu().numpy() for s in stock], axis=1)
            est = np.concatenate([o[name] for o in ours], axis=1)
            per_stem[name] = sdr(ref, est)
        result.update({"stock_s": t_stock, "stock_rtf": audio_s / t_stock,
                       "stock_cpu_s": cpu_stock, "speedup": t_stock / t_ours,
                       "sdr_db": per_stem, "sdr_min_db": min(per_stem.values())})
        print(f"stock apply_model: {t_stock:7.2f} s  {audio_s / t_stock:7.2f}x real time "
              f"(fp32)")
    print(f"stemcrate batched: {t_ours:7.2f} s  {audio_s / t_ours:7.2f}x real time "
          f"({precision})")
    if not args.skip_stock:
        print(f"ratio (ours/stock throughput): {result['speedup']:.2f}x; SDR of ours vs stock: "
              + ", ".join(f"{k} {v:.1f} dB" for k, v in result["sdr_db"].items()))
    if args.json:
        print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()

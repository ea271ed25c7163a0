"""How the classifier holds up when the same sound arrives as a different file.

Real one-shots come at 44.1, 48 or 96 kHz, in stereo (now and then with one channel the
other's polarity-inverted copy, which sums to silence), quiet or normalised hot, padded with
silence, as MP3, with a DC offset. :func:`check` re-presents labelled clips through each of
:data:`TRANSFORMS` and labels them with :func:`stemcrate.audio.classify.classify_many` (what
``stemcrate classify`` runs after decoding a file), then scores each transform: macro-F1
against the true labels and the share of clips whose label is the one the unchanged clip
got. The training report runs it on the held-out real recordings.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import soundfile as sf
import soxr

from stemcrate.audio import classify as clf
from stemcrate.audio.training import dataset as ds
from stemcrate.audio.training import train as tr

F64 = npt.NDArray[np.float64]
#: a transform: (mono float64 clip, its rate in Hz) → (audio as a file would hand it over:
#: (samples,) or (channels, samples) float, its rate in Hz)
Transform = Callable[[F64, int], tuple[npt.NDArray[np.floating], int]]


def _rate(target: int) -> Transform:
    return lambda x, sr: (np.asarray(soxr.resample(x, sr, target), dtype=np.float64), target)


def _gain(db: float) -> Transform:
    return lambda x, sr: (x * 10 ** (db / 20), sr)


def _pad(before_s: float, after_s: float) -> Transform:
    return lambda x, sr: (np.concatenate([np.zeros(int(before_s * sr)), x,
                                          np.zeros(int(after_s * sr))]), sr)


def _int16_at(db: float) -> Transform:
    def f(x: F64, sr: int) -> tuple[npt.NDArray[np.floating], int]:
        peak = max(float(np.max(np.abs(x))), 1e-12)
        return np.round(x / peak * 10 ** (db / 20) * 32767) / 32767, sr
    return f


def _mp3() -> Transform:
    def f(x: F64, sr: int) -> tuple[npt.NDArray[np.floating], int]:
        buf = io.BytesIO()
        peak = max(float(np.max(np.abs(x))), 1.0)
        sf.write(buf, x / peak, sr, format="MP3", compression_level=0.0)
        buf.seek(0)
        y, rate = sf.read(buf, dtype="float64")
        return y, int(rate)
    return f


#: name → transform; the first is the unchanged clip every other is compared with
TRANSFORMS: dict[str, Transform] = {
    "unchanged (22.05 kHz mono float)": lambda x, sr: (x, sr),
    "resampled to 44.1 kHz": _rate(44100),
    "resampled to 48 kHz": _rate(48000),
    "resampled to 96 kHz": _rate(96000),
    "stereo, right channel 3 dB down": lambda x, sr: (np.stack([x, x * 10 ** (-3 / 20)]), sr),
    "stereo, right channel the left polarity-inverted": lambda x, sr: (np.stack([x, -x]), sr),
    "30 dB quieter": _gain(-30.0),
    "polarity inverted": lambda x, sr: (-x, sr),
    "0.3 s of digital silence before": _pad(0.3, 0.0),
    "2 s of digital silence after": _pad(0.0, 2.0),
    "DC offset of 2 % of the peak": lambda x, sr: (x + 0.02 * float(np.max(np.abs(x))), sr),
    "MP3 (LAME through libsndfile, its best quality)": _mp3(),
    "16-bit with its peak at -40 dBFS": _int16_at(-40.0),
}


@dataclass(frozen=True)
class Robustness:
    transform: str
    scores: tr.Scores  # against the true labels
    agreement: float  # share of clips labelled as the unchanged clip was


def check(model: clf.Model, clips: Sequence[F64], labels: Sequence[str], sr: int, *,
          transforms: dict[str, Transform] | None = None,
          progress: Callable[[int], None] | None = None) -> list[Robustness]:
    """Score ``model`` (as :func:`~stemcrate.audio.classify.load_model` returns it) on
    ``clips`` (mono float64 (samples,) at ``sr`` Hz, true ``labels`` from
    :data:`.dataset.LABELS`) under each transform (default :data:`TRANSFORMS`; the first is
    the reference for ``agreement``). ``progress`` gets one call per transform. Raises
    ValueError for an empty set, a label count that does not match, or an unknown label."""
    if not clips or len(clips) != len(labels):
        raise ValueError(f"need clips with one label each, got {len(clips)} clips and "
                         f"{len(labels)} labels")
    unknown = sorted(set(labels) - set(ds.LABELS))
    if unknown:
        raise ValueError(f"unknown labels: {', '.join(unknown)}")
    y = np.array([ds.LABELS.index(lab) for lab in labels], dtype=np.int64)
    out: list[Robustness] = []
    ref: npt.NDArray[np.int64] | None = None
    for name, f in (transforms or TRANSFORMS).items():
        moved = [f(np.asarray(c, dtype=np.float64), sr) for c in clips]
        pred = np.zeros(y.size, dtype=np.int64)
        for rate in sorted({r for _, r in moved}):
            idx = [i for i, (_, r) in enumerate(moved) if r == rate]
            got = clf.classify_many([moved[i][0] for i in idx], rate, model=model)
            pred[idx] = [ds.LABELS.index(g.label) for g in got]
        ref = pred if ref is None else ref
        out.append(Robustness(name, tr.scores(y, pred), float(np.mean(pred == ref))))
        if progress is not None:
            progress(1)
    return out


def table(results: Sequence[Robustness]) -> list[str]:
    """Markdown table lines: transform, macro-F1, accuracy, agreement with the first."""
    lines = ["| the same clips, as | macro-F1 | accuracy | same label as unchanged |",
             "|---|---:|---:|---:|"]
    lines += [f"| {r.transform} | {r.scores.macro_f1:.3f} | {r.scores.accuracy:.3f} | "
              f"{r.agreement:.3f} |" for r in results]
    return lines

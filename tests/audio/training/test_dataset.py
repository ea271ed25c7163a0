"""Held-out sources count each recording once (dataset.distinct_recordings)."""

from __future__ import annotations

import numpy as np

from stemcrate.audio.training import dataset as ds


def _hit(rng: np.random.Generator, n: int = 4000) -> np.ndarray:
    t = np.arange(n) / ds.SR
    return (np.sin(2 * np.pi * rng.uniform(100, 2000) * t) + 0.3 * rng.standard_normal(n)
            ) * np.exp(-t * rng.uniform(5, 40))


def _int16(y: np.ndarray) -> np.ndarray:
    return np.round(y * 32767) / 32767


def test_copies_at_other_levels_are_left_out_and_everything_else_kept():
    rng = np.random.default_rng(7)
    a, b = _hit(rng), _hit(rng)
    clips = [
        _int16(0.9 * a),                    # 0: a recording
        _int16(0.9 * b),                    # 1: another, same length
        _int16(0.45 * a),                   # 2: a, 6 dB down (a velocity layer made by gain)
        _int16(0.1 * a),                    # 3: a, 19 dB down (more int16 rounding)
        _int16(0.9 * a[:3000]),             # 4: a cut shorter: another clip
        _int16(0.9 * (a + 0.05 * b)),       # 5: a with b under it 26 dB down: another take
        np.zeros(4000),                     # 6: silence, kept (nothing to compare)
        np.zeros(4000),                     # 7
        _int16(0.3 * b),                    # 8: b again
    ]
    assert ds.distinct_recordings(clips) == [0, 1, 4, 5, 6, 7]
    # a stricter bar than rounding allows keeps the quiet copy; a looser one merges the take
    assert 3 in ds.distinct_recordings(clips, min_correlation=1.0 - 1e-12)
    assert 5 not in ds.distinct_recordings(clips, min_correlation=0.99)
    assert ds.distinct_recordings([]) == []


def test_held_out_sources_load_each_recording_once_and_training_sources_everything(tmp_path):
    rng = np.random.default_rng(8)
    a, b = _hit(rng), _hit(rng)

    def loader() -> ds.Loaded:
        return [a, 0.5 * a, b, 0.25 * a], ["tom", "tom", "kick", "tom"], [0, 0, 1, 0]

    held = ds.load_source("held", ds.Source("test_real", loader, "held"), tmp_path)
    assert held.labels == ["tom", "kick"] and held.electronic == [0, 1]
    assert held.copies == 2 and len(held.audio) == 2
    again = ds.load_source("held", ds.Source("test_real", loader, "held"), tmp_path)  # cached
    assert again.copies == 2 and np.allclose(again.audio[1], b, atol=1e-4)
    train = ds.load_source("train", ds.Source("train", loader, "train"), tmp_path)
    assert len(train.audio) == 4 and train.copies == 0

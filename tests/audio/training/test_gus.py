"""GUS patch reading (FreePats' drums as recorded, not as TiMidity transposes them)."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

from stemcrate.audio.features import FEATURE_SR
from stemcrate.audio.training import gus, render
from stemcrate.errors import InputError


def write_patch(path: Path, pcm: np.ndarray, *, rate: int, mode: int,
                root_mhz: int = 261626, scale: int = 1024) -> None:
    """A one-sample GUS patch holding ``pcm`` (raw integer samples of the dtype ``mode``
    implies)."""
    data = pcm.tobytes()
    head = b"GF1PATCH110\x00ID#000002\x00".ljust(129, b"\x00")
    inst = b"\x00" * 63
    layer = bytearray(47)
    layer[6] = 1
    sample = bytearray(96)
    struct.pack_into("<I", sample, 8, len(data))
    struct.pack_into("<H", sample, 20, rate)
    struct.pack_into("<III", sample, 22, 20000, 8000000, root_mhz)
    sample[55] = mode
    struct.pack_into("<hH", sample, 56, 60, scale)
    path.write_bytes(head + inst + bytes(layer) + bytes(sample) + data)


def test_reads_16_bit_signed_and_8_bit_unsigned_samples(tmp_path):
    t = np.arange(8000) / 32000
    tone = 0.5 * np.sin(2 * np.pi * 440 * t)
    write_patch(tmp_path / "a.pat", np.round(tone * 32768).astype("<i2"), rate=32000, mode=1)
    write_patch(tmp_path / "b.pat", np.round(tone * 128 + 128).astype(np.uint8), rate=32000,
                mode=2, scale=0)
    (a,) = gus.read_patch(tmp_path / "a.pat")
    (b,) = gus.read_patch(tmp_path / "b.pat")
    assert a.sr == 32000 and a.root_hz == pytest.approx(261.626) and not a.fixed_pitch
    assert b.fixed_pitch
    np.testing.assert_allclose(a.audio, tone, atol=1 / 32768)
    np.testing.assert_allclose(b.audio, tone, atol=1 / 128)
    y = gus.one_shot(tmp_path / "a.pat")
    assert abs(y.size - 0.25 * FEATURE_SR) <= 2  # resampled, not transposed: same length
    spec = np.abs(np.fft.rfft(y))
    assert np.fft.rfftfreq(y.size, 1 / FEATURE_SR)[np.argmax(spec)] == pytest.approx(440, abs=5)


def test_bad_patches_name_the_file(tmp_path):
    wav = tmp_path / "kick.wav"
    wav.write_bytes(b"RIFF" + b"\x00" * 300)
    with pytest.raises(InputError, match="kick.wav: not a GUS patch"):
        gus.read_patch(wav)
    cut = tmp_path / "cut.pat"
    write_patch(cut, np.zeros(1000, dtype="<i2"), rate=44100, mode=1)
    cut.write_bytes(cut.read_bytes()[:-500])
    with pytest.raises(InputError, match="cut.pat: sample 1 has 1500 of 2000 bytes"):
        gus.read_patch(cut)


def test_patch_files_follow_the_dir_line(tmp_path):
    cfg = tmp_path / "set.cfg"
    cfg.write_text("dir /pats\nbank 0\n 33 Tone_000/033.pat\ndrumset 0\n"
                   " 36\tDrum_000/036_Kick_2.pat amp=100\n# 38 Drum_000/x.pat\n"
                   "drumset 1\n 40 Drum_001/y.pat\n")
    assert render.patch_files(cfg) == ({33: Path("/pats/Tone_000/033.pat")},
                                       {36: Path("/pats/Drum_000/036_Kick_2.pat")})


def test_freepats_drums_are_their_recordings():
    """The held-out FreePats kick, toms and clap last as long as their recordings (TiMidity
    would play the kick on key 35 25 semitones down, 4.2x as long)."""
    from stemcrate.audio.training import dataset as ds

    _, files = render.patch_files(render.FREEPATS_CFG)
    audio, labels, _ = ds._render_patches(render.FREEPATS_CFG, 1)
    by_length = {a.size for a, lab in zip(audio, labels, strict=True)
                 if lab in ("kick", "tom", "clap")}
    for key in (35, 36, 39, 41, 50):
        (s,) = gus.read_patch(files[key])
        n = round(s.audio.size * FEATURE_SR / s.sr)
        assert any(abs(n - m) <= 2 for m in by_length), (key, n, sorted(by_length))
    assert max(by_length) < 0.7 * FEATURE_SR  # a TiMidity-transposed kick/tom runs > 1 s

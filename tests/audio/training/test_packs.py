"""The held-out real sound effects: the game packs and OpenTTD's catalogue."""

from __future__ import annotations

import io
import struct
from pathlib import Path

import numpy as np
import pytest

from stemcrate.audio.decode import load_audio
from stemcrate.audio.training import dataset as ds
from stemcrate.audio.training import packs


def test_game_sfx_packs_hold_every_named_effect_as_audio_of_at_least_a_quarter_second():
    """Every effect each pack names is in its Debian package (installed by `make test`),
    readable, not silent and about 0.25 s or longer (the rule the Hedgewars effects follow;
    one minetest footstep is 0.249 s)."""
    names = 0
    for pack in packs.GAME_SFX:
        assert set(pack.labels.values()) == {"fx"}, pack.name
        assert [n for n, _ in pack.split("all")] == sorted(pack.labels)
        for name in pack.labels:
            y, sr = load_audio(pack.path(name), sr=22050, mono=True)
            assert y.shape[1] >= 0.245 * sr, (pack.name, name)
            assert float(np.max(np.abs(y))) > 1e-3, (pack.name, name)
            names += 1
        with pytest.raises(FileNotFoundError, match=pack.package):
            pack.path("no_such_effect")
    assert names > 120
    assert all(p in packs.PACKS for p in packs.GAME_SFX)  # so `missing_files` checks them


def test_split_all_is_every_sample_and_other_halves_are_refused():
    pack = packs.SONIC_PI
    assert sorted(pack.split("all")) == sorted(pack.split("train") + pack.split("test"))
    with pytest.raises(ValueError, match="'all'"):
        pack.split("validation")


def test_opensfx_catalogue_is_read_and_the_skipped_entries_left_out():
    effects = packs.opensfx()
    titles = [t for t, _ in effects]
    assert len(effects) == 73 - len(packs.OPENSFX_SKIP)
    assert any(t.startswith('"Explosion"') for t in titles)
    assert not any("Year" in t or "Unused" in t or "Oooh" in t for t in titles)
    for _, wav in effects:
        assert wav[:4] == b"RIFF"
        y, sr = load_audio(io.BytesIO(wav), mono=True)
        assert y.shape[1] > 0 and sr > 0


def _catalogue(path: Path, entries: list[tuple[str, bytes]]) -> None:
    table = 8 * len(entries)
    body = b""
    offsets = []
    for title, data in entries:
        t = title.encode() + b"\0"
        offsets.append((table + len(body), 1 + len(t) + len(data)))
        body += bytes([len(t)]) + t + data
    path.write_bytes(b"".join(struct.pack("<II", o | 0x80000000, s) for o, s in offsets)
                     + body)


def test_opensfx_reads_a_catalogue_it_is_given(tmp_path):
    """Entries are found through the offset table, titles decoded, and the indices of the
    skip list (the real catalogue's jingles, 0 and 1) left out."""
    import soundfile as sf

    wavs = []
    for f in (110.0, 220.0, 330.0, 440.0, 550.0):
        p = tmp_path / f"{f}.wav"
        sf.write(p, 0.5 * np.sin(2 * np.pi * f * np.arange(4410) / 44100), 44100)
        wavs.append(p.read_bytes())
    cat = tmp_path / "x.cat"
    _catalogue(cat, [(f"effect {i}", w) for i, w in enumerate(wavs)])
    got = packs.opensfx(cat)
    assert [t for t, _ in got] == ["effect 2", "effect 3", "effect 4"]
    assert [w for _, w in got] == wavs[2:]
    with pytest.raises(FileNotFoundError, match="openttd-opensfx"):
        packs.opensfx(tmp_path / "absent.cat")


def test_game_sfx_clips_are_labelled_fx_and_cut_to_the_pack_recipe():
    audio, labels, elec = ds.game_sfx_clips()
    n_files = sum(len(p.labels) for p in packs.GAME_SFX)
    assert len(audio) > n_files  # the packs plus OpenTTD's effects
    assert set(labels) == {"fx"} and set(elec) == {-1}
    assert all(int(0.245 * ds.SR) <= a.size <= int(1.6 * ds.SR) for a in audio)
    # held out (reported on their own), never trained on
    assert ds.sources(None)["game-sfx"].split == "test_effects"
    assert not [n for n in ds.sources(None) if n.startswith("game-sfx") and
                ds.sources(None)[n].split == "train"]

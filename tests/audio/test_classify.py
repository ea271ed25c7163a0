"""The one-shot classifier: API contract, stem priors, tags, embeddings, training code."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from stemcrate.audio import classify as C
from stemcrate.audio.decode import load_audio
from stemcrate.audio.training import augment, kits, mlp
from stemcrate.audio.training.dataset import TEST_KITS
from stemcrate.audio.training.train import scores

FORZEE = kits.HYDROGEN_DRUMKITS / "ForzeeStereo"  # a real kit held out of training


@pytest.fixture(scope="module")
def real_kit() -> dict[str, list[Path]]:
    assert "ForzeeStereo" in TEST_KITS
    if not FORZEE.is_dir():
        pytest.fail("hydrogen-drumkits is needed (Debian package hydrogen-drumkits)")
    out: dict[str, list[Path]] = {}
    for label, path in kits.kit_samples(FORZEE):
        out.setdefault(label, []).append(path)
    return out


def _sine_note(f0: float, sr: int = 44100, seconds: float = 0.8) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    y = sum(np.sin(2 * np.pi * f0 * k * t) * 0.6 ** k for k in range(1, 8))
    env = np.minimum(1, t / 0.005) * np.minimum(1, (seconds - t) / 0.05)
    return (0.5 * y * env).astype(np.float32)


def test_labels_and_model_loaded_once():
    assert C.LABELS == ("kick", "snare", "clap", "hihat_closed", "hihat_open", "cymbal", "tom",
                        "percussion", "bass", "vocal", "melodic", "fx")
    assert C.load_model() is C.load_model()
    # small enough to commit: 8 MLPs + 4 CNN networks are ~6.7 MB
    assert C.WEIGHTS_PATH.is_file() and C.WEIGHTS_PATH.stat().st_size < 8_000_000
    from stemcrate.audio.training import train  # the shipped file follows the recipe

    assert (len(C.load_model().members), len(C.load_model().nets)) == (train.MEMBERS, train.NETS)
    assert C.model_id().startswith("stemcrate-oneshot-mlp-cnn@")


def test_classification_contract(rng):
    y = rng.standard_normal(2000).astype(np.float32) * np.exp(-np.arange(2000) / 300)
    c = C.classify(y, 44100)
    assert isinstance(c, C.Classification)
    assert c.label in C.LABELS
    assert set(c.probabilities) == set(C.LABELS)
    assert abs(sum(c.probabilities.values()) - 1) < 1e-5
    assert c.confidence == pytest.approx(max(c.probabilities.values()))
    assert c.probabilities[c.label] == pytest.approx(c.confidence)
    with pytest.raises(ValueError):
        C.classify(y, 44100, stem_kind="kazoo")


def test_classify_many_matches_classify_and_edge_cases(rng):
    clips = [np.zeros(4410, dtype=np.float32), rng.standard_normal(220).astype(np.float32),
             np.stack([_sine_note(110.0), _sine_note(110.0)])]
    many = C.classify_many(clips, 44100)
    assert [m.label for m in many] == [C.classify(c, 44100).label for c in clips]
    assert C.classify_many([], 44100) == []
    assert "grain" in many[1].tags


def test_channels_that_cancel_are_heard_through_the_loudest(real_kit):
    """A real kick whose right channel is the left one polarity-inverted (some stereo
    wideners leave that) sums to silence; it is heard, and labelled, as its left channel.
    Ordinary stereo is still heard as the channels' mean."""
    y, sr = load_audio(real_kit["kick"][0])
    left = y[0]
    mono = C.classify(left, sr)
    for flipped in (np.stack([left, -left]), np.stack([left, -left]).T):
        assert np.array_equal(C.downmix(flipped), left.astype(np.float64))
        got = C.classify(flipped, sr)
        assert got.label == mono.label == "kick"
        assert got.probabilities == pytest.approx(mono.probabilities, abs=1e-5)
    wide = np.stack([left, -0.7 * left])  # a mean 16.5 dB down is still the mean
    assert np.allclose(C.downmix(wide), 0.15 * left)
    assert np.allclose(C.downmix(np.stack([left, 0.5 * left])), 0.75 * left)
    assert np.array_equal(C.downmix(left), left.astype(np.float64))


def test_a_dc_offset_is_removed_where_a_clips_end_shows_it(real_kit):
    """Real one-shots of a held-out kit with a DC offset added (2 % and 10 % of the peak) are
    heard as without it: the offset is removed and the label and probabilities are those of
    the clean file. (Its toms and cymbals ring to the end of their files, so nothing there holds
    still and their offsets stay: see ``remove_dc_offset``.)"""
    for label in ("kick", "snare", "hihat_closed"):
        y, sr = load_audio(real_kit[label][0])
        x = C.downmix(y)
        clean = C.classify(x, sr)
        for share in (0.02, 0.10):
            offset = share * float(np.max(np.abs(x)))
            fixed = C.remove_dc_offset(x + offset, sr)  # less its end's mean: ~ the offset
            assert np.max(np.abs(fixed - x)) < 1e-3 * offset / share
            got = C.classify(np.stack([x, x]) + offset, sr)
            assert got.label == clean.label, (label, share)
            assert got.probabilities == pytest.approx(clean.probabilities, abs=0.03)


def test_dc_removal_leaves_clips_without_an_offset_alone(rng):
    """A clip that ends in digital silence, noise, a grain cut from inside a low note (its
    end on the crest of a 30 Hz wave: still, but no offset) and a clip too short to tell
    come back unchanged; an offset over silence is removed, before and after the sound."""
    sr = 22050
    hit = np.concatenate([rng.standard_normal(2000) * np.exp(-np.arange(2000) / 300),
                          np.zeros(3000)])
    t = np.arange(int(0.04 * sr)) / sr
    crest = np.sin(2 * np.pi * 30 * t + np.pi / 2 - 2 * np.pi * 30 * 0.035)
    for x in (hit, rng.standard_normal(4000), crest, np.full(40, 0.3)):
        assert np.array_equal(C.remove_dc_offset(x, sr), x)
    assert np.allclose(C.remove_dc_offset(hit + 0.05, sr), hit)
    assert np.allclose(C.remove_dc_offset(hit[::-1] - 0.05, sr), hit[::-1])
    assert np.array_equal(C.remove_dc_offset(np.zeros(0), sr), np.zeros(0))


def test_real_held_out_kit(real_kit):
    """Real acoustic kicks/hats/toms/cymbals from a kit never trained on."""
    truth, pred = [], []
    for label in ("kick", "hihat_closed", "hihat_open", "tom", "cymbal"):
        paths = real_kit[label][:4]
        clips = [load_audio(p)[0] for p in paths]
        sr = load_audio(paths[0])[1]
        for c in C.classify_many(clips, sr, stem_kind="drums"):
            truth.append(C.LABELS.index(label))
            pred.append(C.LABELS.index(c.label))
    sc = scores(np.array(truth), np.array(pred))
    assert sc.accuracy >= 0.7, sc.per_class


def test_stem_kind_prior_moves_probabilities(corpus):
    """Real read speech (LibriSpeech, never trained on), chopped into 0.4 s pieces."""
    y, sr = load_audio(corpus / "198-209-0000.ogg", mono=True)
    chops = [y[:, int(s * sr):int((s + 0.4) * sr)] for s in np.arange(0.5, 6.0, 0.5)]
    free = C.classify_many(chops, sr)
    drums = C.classify_many(chops, sr, stem_kind="drums")
    vocals = C.classify_many(chops, sr, stem_kind="vocals")
    for f, d, v in zip(free, drums, vocals, strict=True):
        assert d.probabilities["vocal"] < f.probabilities["vocal"]
        assert v.probabilities["vocal"] >= f.probabilities["vocal"]
    n_vocal = sum(v.label == "vocal" for v in vocals)
    assert n_vocal >= 0.8 * len(chops)
    assert n_vocal >= sum(f.label == "vocal" for f in free)


def test_bass_note_tags_and_prior():
    y = _sine_note(55.0, seconds=0.9)  # A1
    c = C.classify(y, 44100, stem_kind="bass")
    assert c.label == "bass"
    assert "tonal" in c.tags and "A1" in c.tags
    assert C.note_name(55.0) == "A1" and C.note_name(261.63) == "C4"


def test_808_kick_tags():
    sr = 44100
    t = np.arange(int(0.9 * sr)) / sr
    f = 48 + 100 * np.exp(-t / 0.02)
    y = np.sin(2 * np.pi * np.cumsum(f) / sr) * np.exp(-t / 0.35)
    c = C.classify(y, sr)
    assert c.label == "kick", c
    assert "pitch-drop" in c.tags


def test_embeddings_unit_norm_and_neighbours(real_kit):
    kicks = [load_audio(p) for p in real_kit["kick"][:2]]
    hat = load_audio(real_kit["hihat_closed"][0])
    e = [C.embed(y, sr) for y, sr in (*kicks, hat)]
    for v in e:
        assert v.dtype == np.float32 and v.shape == (C.EMBEDDING_DIM,)
        assert abs(float(np.linalg.norm(v)) - 1) < 1e-5
    assert float(e[0] @ e[1]) > float(e[0] @ e[2])
    assert C.embed_many([], 44100).shape == (0, C.EMBEDDING_DIM)
    silent = C.embed(np.zeros(1000, dtype=np.float32), 22050)
    assert np.all(np.isfinite(silent))


def test_mlp_training_learns_a_toy_problem(rng):
    x = rng.standard_normal((600, 5)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64) + 2 * (x[:, 1] > 0).astype(np.int64)
    el = (x[:, 2] > 0).astype(np.int64)
    p = mlp.train(x, y, el, 4, hidden=(32, 16), epochs=30, batch=64, seed=1, input_noise=0.0)
    pred = np.argmax(mlp.forward(p, x)[2], axis=1)
    assert np.mean(pred == y) > 0.9
    p2 = mlp.train(x, y, el, 4, hidden=(32, 16), epochs=30, batch=64, seed=1, input_noise=0.0)
    np.testing.assert_array_equal(p["w1"], p2["w1"])  # seeded: reproducible


def test_scores_per_class():
    s = scores(np.array([0, 0, 1, 1]), np.array([0, 1, 1, 1]))
    assert s.per_class["kick"] == pytest.approx((1.0, 0.5, 2 / 3, 2))
    assert s.per_class["snare"][0] == pytest.approx(2 / 3)
    assert s.macro_f1 == pytest.approx((2 / 3 + 0.8) / 2)


def test_report_summary_against_the_goal():
    from stemcrate.audio.training.train import summary

    good = scores(np.array([0, 0, 1, 1]), np.array([0, 0, 1, 1]))
    weak = scores(np.array([0, 0, 1, 1]), np.array([0, 1, 1, 1]))
    assert "goal is reached on every held-out set" in summary({"test_sf": good})
    text = summary({"test_sf": good, "test_real": weak})
    assert "not reached on held-out real recordings" in text
    assert "weakest `kick` 0.67 (n = 2)" in text and "synthetic sources: 1.000" in text


def test_loop_context_puts_an_earlier_tail_under_the_new_hit(rng):
    sr = augment.SR
    t = np.arange(int(0.5 * sr)) / sr
    hit = np.sin(2 * np.pi * 200 * t) * np.exp(-t / 0.05)
    prev = np.sin(2 * np.pi * 90 * t) * np.exp(-t / 0.4)
    for _ in range(20):
        out = augment.with_previous_hit(hit, prev, rng)
        pre = out.size - hit.size
        assert 0 <= pre <= int(0.004 * sr) + 1
        tail = out[pre:] - hit
        # the earlier hit rings under the new one, 3-24 dB below the new hit's peak
        level = float(np.max(np.abs(tail[: int(0.01 * sr)])))
        assert 10 ** (-24.5 / 20) <= level <= 10 ** (-2.5 / 20)
        assert int(np.argmax(np.abs(out))) >= pre
    # a drum label in loop context: finite, no longer than varispeed + reverb + pre-roll allow
    for _ in range(20):
        y = augment.augment(hit, "tom", rng, bleed=None, previous=prev)
        assert np.all(np.isfinite(y)) and 0 < y.size <= 3 * hit.size


@pytest.mark.parametrize("pack_name", ["sonic-pi", "lmms"])
def test_sample_pack_split_keeps_families_apart(pack_name):
    from stemcrate.audio.training import packs

    pack = {p.name: p for p in packs.PACKS}[pack_name]
    train, test = pack.split("train"), pack.split("test")
    names = [n for n, _ in train + test]
    assert sorted(names) == sorted(pack.labels)  # every labelled sample, once
    fam_train = {packs.family(n) for n, _ in train}
    assert not fam_train & {packs.family(n) for n, _ in test}
    held_out = {lab for _, lab in test}
    assert {"kick", "snare", "percussion", "bass"} <= held_out
    # the Debian package (installed by `make test`) holds every one, as readable audio
    from stemcrate.audio.decode import load_audio

    for name in names:
        y, _ = load_audio(pack.path(name), sr=22050, mono=True)
        assert y.shape[1] > 0 and float(np.max(np.abs(y))) > 1e-3, name
    with pytest.raises(FileNotFoundError, match=pack.package):
        pack.path("no_such_sample")
    with pytest.raises(ValueError):
        pack.split("validation")


def test_pack_families_and_chops():
    from stemcrate.audio.training import dataset as ds
    from stemcrate.audio.training import packs

    assert packs.family("tabla_ghe3") == packs.family("tabla_ghe7") == "tabla_ghe"
    assert packs.family("drum_tom_hi_soft") == "drum_tom_hi"
    assert packs.family("drums/kick_soft02") == packs.family("drums/kick01") == "drums/kick"
    # a long tonal sample gives its first 1.6 s plus chops; a drum hit gives one clip
    pack = packs.Pack("t", "lmms-common", packs.LMMS.root,
                      {"instruments/flute01": "melodic", "drums/kick01": "kick"},
                      packs.LMMS.electronic)
    audio, labels, _ = ds.pack_clips(pack, "train")
    assert labels.count("kick") == 1 and labels.count("melodic") == 1 + 8
    assert all(a.size <= int(1.6 * ds.SR) for a in audio)
    assert min(a.size for a in audio) < int(0.07 * ds.SR)  # grains among the chops
    again, _, _ = ds.pack_clips(pack, "train")
    assert all(np.array_equal(a, b) for a, b in zip(audio, again, strict=True))  # seeded


def test_hydrogen_instrument_names_to_labels():
    for name, label in [("Open Hat", "hihat_open"), ("Hat Open", "hihat_open"),
                        ("Open HH", "hihat_open"), ("VariBreaks Hat 1 Op", "hihat_open"),
                        ("Closed Hat", "hihat_closed"), ("Pedal Hat", "hihat_closed"),
                        ("Hat Semi-Open", None), ("Kick Long", "kick"), ("Clave", "percussion"),
                        ("Hand Clap", "clap"), ("Snare Rimshot", "snare"), ("Ride 2", "cymbal"),
                        ("c3 - bass drum 1", "kick"), ("Hi Hat Free", None),
                        ("Snare (Pearl Free Floating Maple 14x3.5)", "snare"),
                        ("Snare 2 Rimshot (Pearl Free Floating Maple 14x3.5)", "snare")]:
        assert kits.label_for(name) == label, name


def test_held_out_kit_snares_are_labelled_and_snares_off_left_out(real_kit):
    """ForzeeStereo's snares ("Pearl Free Floating Maple") are snares; its snares-off layers
    (SnareOff*.wav, a tom-like sound under a "Snare 2" name) are not used."""
    names = [p.name for p in real_kit["snare"]]
    assert len(names) == 10 and all(n.startswith(("Snare-", "SnareRim-")) for n in names)
    every = [p.name for paths in real_kit.values() for p in paths]
    assert not [n for n in every if "SnareOff" in n]


def test_training_inputs_are_installed():
    from stemcrate.audio.training import dataset as ds

    assert ds.missing_files() == []  # `make test` installs every Debian package listed


def test_tonal_notes_also_become_attackless_grains(rng):
    """Melodic/bass variants include grains cut from inside the note (no attack), as vocal
    chops are; drum hits do not lose their attack that way."""
    sr = augment.SR
    t = np.arange(int(1.2 * sr)) / sr
    x = 0.3 * np.sin(2 * np.pi * 330 * t)
    x[: int(0.01 * sr)] = rng.uniform(-1, 1, int(0.01 * sr))  # a loud 10 ms attack

    def attackless(label: str) -> float:
        n = 0
        for _ in range(200):
            y = augment.augment(x, label, rng)
            head = np.max(np.abs(y[: int(0.016 * sr)]))
            rest = np.max(np.abs(y[int(0.016 * sr):])) if y.size > int(0.03 * sr) else head
            n += head < 1.5 * rest
        return n / 200

    # saturation alone flattens the attack of some variants of either label
    melodic, kick = attackless("melodic"), attackless("kick")
    assert melodic > kick + 0.15, (melodic, kick)


def test_flite_vocals_are_chopped_speech(rng):
    from stemcrate.audio.training import voice

    clips = voice.flite_vocals(("slt", "kal16"), 12, rng)
    assert len(clips) >= 18
    lengths = np.array([c.size / voice.SR for c in clips])
    assert lengths.min() >= 0.004 and lengths.max() <= 1.51
    assert (lengths < 0.06).any()  # grains among them
    assert all(np.all(np.isfinite(c)) and np.max(np.abs(c)) > 1e-3 for c in clips)


def test_clip_cache_is_named_by_recipe(tmp_path):
    """The clip cache name follows what a source renders or reads (not where the corpus is),
    so a changed definition is rebuilt instead of reused."""
    import dataclasses

    from stemcrate.audio.training import dataset as ds
    from stemcrate.audio.training import packs

    def name(source: object) -> Path:
        return ds.cache_path(tmp_path, "s", source)  # type: ignore[arg-type]

    here = ds._source("train", ds._render_gm, "FluidR3_GM.sf2", 11)
    assert name(here) == name(ds._source("train", ds._render_gm, "FluidR3_GM.sf2", 11))
    assert name(here) != name(ds._source("train", ds._render_gm, "FluidR3_GM.sf2", 12))
    c1 = ds._source("test_real", ds._corpus_chops, Path("/a/corpus"), "f.ogg", "vocal", 5, 1)
    c2 = ds._source("test_real", ds._corpus_chops, Path("/b/corpus"), "f.ogg", "vocal", 5, 1)
    assert name(c1) == name(c2)
    # a pack's recipe holds its labels: relabelling one sample renames the cache
    relabelled = dataclasses.replace(packs.LMMS, labels={**packs.LMMS.labels,
                                                         "drums/zap01": "percussion"})
    assert name(ds._source("train", ds.pack_clips, packs.LMMS, "train")) != name(
        ds._source("train", ds.pack_clips, relabelled, "train"))


def test_drum_machine_presets_labelled_and_split_by_machine():
    """DrumSynth presets: labels from machine + name (unclear names left out); the held-out
    machines are wholly in the test half; no preset is in both halves."""
    from stemcrate.audio.training import drum_machines as dm

    for kit, name, label in [("tr808", "Hat_o", "hihat_open"), ("tr909", "Hat-c2", "hihat_closed"),
                             ("linn", "linn_cab", "percussion"), ("cr78", "Kick", "kick"),
                             ("misc_hats", "dusty_simple_oh", "hihat_open"),
                             ("misc_hats", "slick_hat_half_open", None),
                             ("misc_hats", "simple_ride", "cymbal"),
                             ("misc", "fatness", None), ("misc", "amen_bd", "kick"),
                             ("misc", "clappy_snare", "snare"), ("misc_claps", "clap2", "clap"),
                             ("misc_bass", "jarre_bass_drum", "kick"),
                             ("misc_bass", "smooth_bass", "bass"), ("acoustic", "Brush1", None)]:
        assert dm.label_for(kit, name) == label, (kit, name)
    every = dm.labelled()
    assert len(every) > 500 and all(lab in C.LABELS for _, lab in every)
    train, test = dm.split("train"), dm.split("test")
    assert sorted(train + test) == every and not set(train) & set(test)
    assert not [n for n, _ in train if n.split("/")[0] in dm.TEST_KITS]
    assert {n.split("/")[0] for n, _ in test} >= set(dm.TEST_KITS)
    labels = {lab for _, lab in test if lab}
    assert {"kick", "snare", "clap", "hihat_closed", "hihat_open", "tom", "percussion"} <= labels
    with pytest.raises(ValueError):
        dm.split("both")


def test_recorded_voices_split_by_speaker_and_start_at_the_voice(rng):
    """Real voices: training and test speakers never overlap; a clip starts at the voice,
    not at the recording's room noise before it."""
    from stemcrate.audio.features import _db
    from stemcrate.audio.training import voice

    assert not set(voice.KLETTRES_TRAIN) & set(voice.KLETTRES_TEST)
    assert not set(voice.HEDGEWARS_TRAIN) & set(voice.HEDGEWARS_TEST)
    files = voice.recorded_files(voice.KLETTRES, ("en",), 4)
    assert len(files) == 4 and all(f.parent.parent.name == "en" for f in files)
    clips = voice.recorded_vocals(files, 2, rng)
    assert len(clips) >= 8
    for c in clips[:1]:  # the first recording starts with ~0.7 s of room noise
        head = float(np.max(_db(c[: int(0.03 * voice.SR)] ** 2)))
        assert head > -20.0, head  # within 20 dB of full scale in the first 30 ms
    with pytest.raises(FileNotFoundError):
        voice.recorded_files(voice.KLETTRES, ("no-such-language",), 4)


def test_noise_floor_augmentation(rng):
    """A recording's noise floor: 38–72 dB under the peak, sometimes with a lead-in, which
    ``prepare``'s onset skips again."""
    from stemcrate.audio.features import FEATURE_SR, onset

    t = np.arange(int(0.4 * FEATURE_SR)) / FEATURE_SR
    hit = np.sin(2 * np.pi * 120 * t) * np.exp(-t * 10)
    levels, misses, bare = [], [], 0
    for _ in range(40):
        y = augment.with_noise_floor(hit, rng)
        assert np.all(np.isfinite(y)) and y.size >= hit.size
        start = int(np.flatnonzero(np.abs(y) > 0.05)[0])  # where the hit is
        if start > int(0.05 * FEATURE_SR):
            levels.append(10 * np.log10(np.mean(y[:start] ** 2)))
            misses.append(abs(onset(y) - start))
        bare += start < int(0.002 * FEATURE_SR)  # no lead-in: the hit comes first
    assert bare >= 8 and len(levels) >= 8 and all(-74 < lv < -36 for lv in levels), levels
    assert np.median(misses) < 0.005 * FEATURE_SR, misses


def test_patch_set_renders_only_its_own_patches(tmp_path):
    """FreePats through TiMidity: only the programs and drum keys the patch set maps are
    rendered (TiMidity's system config would answer the rest with FluidR3, a training
    soundfont); its voices are vocal, its basses bass."""
    from stemcrate.audio.training import dataset as ds
    from stemcrate.audio.training import render

    cfg = tmp_path / "set.cfg"
    cfg.write_text("dir /x\nbank 0\n 33 Tone_000/033_Finger_Bass.pat amp=90\n"
                   " 53\tTone_000/053_Voice_Oohs.pat\n#  0 Tone_000/000_Piano.pat\n"
                   "drumset 0\n 36 Drum_000/036_Kick_2.pat\nbank 1\n 40 Tone_001/x.pat\n")
    assert render.patch_map(cfg) == (frozenset({33, 53}), frozenset({36}))
    programs, keys = render.patch_map(render.FREEPATS_CFG)
    assert {32, 33, 34, 35, 36, 37, 38, 53} <= programs and 39 not in programs
    audio, labels, elec = ds._render_patches(render.FREEPATS_CFG, 1)
    assert {"kick", "snare", "tom", "bass", "melodic", "vocal"} <= set(labels)
    assert all(a.size and np.max(np.abs(a)) > 1e-3 for a in audio)
    assert {e for e, lab in zip(elec, labels, strict=True) if lab == "vocal"} == {-1}


def test_bass_oneshots_are_low_tonal_notes(rng):
    """Every kind of synthesised pack bass is a finite, peak-normalised, low and clearly
    pitched note; plucked strings stay in a bass guitar's range."""
    from stemcrate.audio.features import estimate_pitch
    from stemcrate.audio.training import synth

    for kind in synth.BASS_KINDS:
        clips = [synth.bass_oneshot(rng, kind) for _ in range(6)]
        for y in clips:
            assert np.all(np.isfinite(y)) and np.max(np.abs(y)) == pytest.approx(1.0)
            assert 0.1 < y.size / synth.SR < 1.6
        pitches = [estimate_pitch(y, synth.SR) for y in clips]
        assert np.median([h for _, h in pitches]) > 0.8, (kind, pitches)
        top = 140.0 if kind == "string" else 480.0  # A#3 and its octave (a layered mid)
        # (a resonant filter can lead the estimator to its resonance: most notes, not all)
        assert sum(0 < f < top for f, _ in pitches) >= 4, (kind, pitches)


def test_drum_machine_knobs_turn_tune_and_decay():
    """Knob settings stay in range (hats keep a decay that leaves them hats), and a turned
    preset renders longer or shorter as its decay says."""
    from stemcrate.audio.training import dataset as ds
    from stemcrate.audio.training import drum_machines as dm
    from stemcrate.audio.training import drumsynth

    rng = np.random.default_rng(3)
    for label in ("kick", "hihat_closed", "hihat_open"):
        lo, hi = dm.DECAY_RANGE.get(label, dm.DEFAULT_DECAY)
        for tune, decay in dm.knob_settings(label, 50, rng):
            assert abs(tune) <= dm.TUNE_SEMITONES and lo <= decay <= hi
    import dataclasses

    kick = drumsynth.read_preset(dm.ROOT / "tr808" / "Kicklong.ds")

    def length(decay: float) -> int:
        g = dataclasses.replace(kick.general, stretch=kick.general.stretch * decay)
        return drumsynth.render(dataclasses.replace(kick, general=g), sr=ds.SR).size

    assert length(0.5) < length(1.0) < length(1.8)


def test_hedgewars_effects_pack():
    """The game's sound effects: all fx, each ≥ 0.25 s of readable audio, halves by family."""
    from stemcrate.audio.training import packs

    pack = packs.HEDGEWARS_SFX
    train, test = pack.split("train"), pack.split("test")
    assert len(train) >= 15 and len(test) >= 15 and not set(train) & set(test)
    assert {lab for _, lab in train + test} == {"fx"}
    for name, _ in train + test:
        y, sr = load_audio(pack.path(name), mono=True)
        assert y.shape[1] >= 0.25 * sr, name

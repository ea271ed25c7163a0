"""The training/evaluation data set: sources, the held-out split, the clip cache, features.

Sources and split (held out BY SOURCE — no test source is ever seen in training):

=====================  ======================================================  ==========
source                 what                                                    split
=====================  ======================================================  ==========
sf:FluidR3_GM          GM drums (8 kits) + bass/melodic/fx programs             train
sf:MuseScore_General   same jobs (MuseScore General, derived from FluidR3)      train
sf:Black_Pearl_4_LV2   real recorded kit (avldrums), GM keys                    train
hydrogen:<train kits>  real sampled kits (see TRAIN_KITS)                       train
synth                  808/909-style drums, percussion, fx, synth bass/notes    train
espeak:train           espeak-ng speech and vowels, 12 voices, chopped          train
sf:TimGM6mb            GM drums + bass/melodic/fx (independent soundfont)       test_sf
espeak:test            6 other espeak-ng voices, chopped                        test_sf
sf:Red_Zeppelin_4_LV2  real recorded kit (avldrums)                             test_real
hydrogen:<test kits>   real sampled kits (see TEST_KITS)                        test_real
librispeech            corpus 198-209-0000.ogg (real read speech), chopped      test_real
trumpet                corpus solo trumpet, chopped                             test_real
sonic-pi-train         Sonic Pi's real one-shots (drum machines, acoustic       train
                       drums, tabla, basses, guitar, fx), half of the families
sonic-pi-test          the other half of the families                          test_sonicpi
=====================  ======================================================  ==========

The Sonic Pi samples (Debian ``sonic-pi-samples``) are split by *family* (``tabla_ghe1..8``
is one family, so is ``drum_tom_hi_hard``/``_soft``): within each label the families sorted
by name alternate between training and test. The two halves come from one collection, so
``test_sonicpi`` is reported on its own, apart from the fully independent ``test_real``.

Rendered clips are cached as int16 ``.npz`` under ``build/classifier-data/clips/`` (never
committed); everything is seeded, so a rebuild gives the same clips.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from stemcrate.audio.features import FEATURE_SR, extract_prepared, mel_patch, prepare
from stemcrate.audio.training import augment as aug
from stemcrate.audio.training import kits, render, synth, voice

SR = FEATURE_SR
F64 = npt.NDArray[np.float64]
LABELS = ("kick", "snare", "clap", "hihat_closed", "hihat_open", "cymbal", "tom", "percussion",
          "bass", "vocal", "melodic", "fx")
TRAIN_KITS = ("Audiophob", "BJA_Pacific", "ColomboAcousticDrumkit", "ElectricEmpireKit",
              "Millo-Drums_v.1", "Millo_MultiLayered2", "Millo_MultiLayered3",
              "The Black Pearl 1.0", "circAfrique v4", "rumpf_kit_z01_h2")
TEST_KITS = ("ForzeeStereo", "HardElectro1", "Gimme A Hand 1.0", "VariBreaks")
CACHE_VERSION = "v1"
SONIC_PI = Path("/usr/share/sonic-pi/samples")


def _named(label: str, names: str) -> dict[str, str]:
    return {n: label for n in names.split()}


#: the Sonic Pi samples whose label is clear (loops, drones, beeps and noises are left out)
SONIC_PI_LABELS: dict[str, str] = {
    **_named("kick", "bd_808 bd_ada bd_boom bd_fat bd_gas bd_haus bd_klub bd_mehackit bd_pure "
                     "bd_sone bd_tek bd_zome bd_zum drum_bass_hard drum_bass_soft "
                     "drum_heavy_kick elec_hollow_kick elec_soft_kick"),
    **_named("snare", "sn_dolf sn_dub sn_generic sn_zome drum_snare_hard drum_snare_soft "
                      "elec_filt_snare elec_hi_snare elec_lo_snare elec_mid_snare elec_snare"),
    **_named("hihat_closed", "drum_cymbal_closed drum_cymbal_pedal"),
    **_named("hihat_open", "drum_cymbal_open"),
    **_named("cymbal", "drum_cymbal_hard drum_cymbal_soft drum_splash_hard drum_splash_soft "
                       "elec_cymbal"),
    **_named("tom", "drum_tom_hi_hard drum_tom_hi_soft drum_tom_lo_hard drum_tom_lo_soft "
                    "drum_tom_mid_hard drum_tom_mid_soft elec_fuzz_tom"),
    **_named("percussion", "drum_cowbell elec_triangle elec_wood tabla_dhec tabla_ghe1 "
                           "tabla_ghe2 tabla_ghe3 tabla_ghe4 tabla_ghe5 tabla_ghe6 tabla_ghe7 "
                           "tabla_ghe8 tabla_ke1 tabla_ke2 tabla_ke3 tabla_na tabla_na_o "
                           "tabla_na_s tabla_re tabla_tas1 tabla_tas2 tabla_tas3 tabla_te1 "
                           "tabla_te2 tabla_te_m tabla_te_ne tabla_tun1 tabla_tun2 tabla_tun3"),
    **_named("clap", "perc_snap perc_snap2"),
    **_named("bass", "bass_dnb_f bass_drop_c bass_hard_c bass_hit_c bass_thick_c bass_trance_c "
                     "bass_voxy_c bass_voxy_hit_c bass_woodsy_c glitch_bass_g"),
    **_named("melodic", "guit_e_fifths guit_em9 guit_harmonics guit_e_slide ambi_piano"),
    **_named("vocal", "ambi_choir"),
    **_named("fx", "vinyl_backspin vinyl_rewind vinyl_scratch perc_swoosh ambi_swoosh "
                   "ambi_dark_woosh misc_cineboom ambi_lunar_land"),
}
#: Sonic Pi families from drum machines / synths (the "electronic" head's target)
_SONIC_PI_ELECTRONIC = ("bd_", "elec_", "sn_", "bass_", "glitch_")


def sonic_pi_family(name: str) -> str:
    """``tabla_ghe3`` → ``tabla_ghe``, ``drum_tom_hi_soft`` → ``drum_tom_hi``."""
    return re.sub(r"_(hard|soft|o|s|m|ne)$", "", re.sub(r"\d+$", "", name))


def sonic_pi_split(half: str) -> list[tuple[str, str]]:
    """(name, label) of the ``"train"`` or ``"test"`` half: per label, the families sorted
    by name alternate train, test, train, … (a label with one family is train only)."""
    out = []
    for label in LABELS:
        fams = sorted({sonic_pi_family(n) for n, lab in SONIC_PI_LABELS.items()
                       if lab == label})
        mine = set(fams[0::2] if half == "train" else fams[1::2])
        out += sorted((n, label) for n, lab in SONIC_PI_LABELS.items()
                      if lab == label and sonic_pi_family(n) in mine)
    return out


def _sonic_pi(half: str) -> tuple[list[F64], list[str], list[int]]:
    from stemcrate.audio.decode import load_audio

    if not SONIC_PI.is_dir():
        raise FileNotFoundError(f"{SONIC_PI} not found: install the Debian package "
                                "sonic-pi-samples")
    audio, labels, elec = [], [], []
    for name, label in sonic_pi_split(half):
        y, _ = load_audio(SONIC_PI / f"{name}.flac", sr=SR, mono=True)
        audio.append(np.asarray(y[0, : int(1.6 * SR)], dtype=np.float64))
        labels.append(label)
        elec.append(-1 if label in ("vocal", "melodic", "fx")
                    else int(name.startswith(_SONIC_PI_ELECTRONIC)))
    return audio, labels, elec


@dataclass
class Clips:
    """Labelled clips of one source: mono float64 at 22 050 Hz; electronic: 1, 0 or -1."""

    source: str
    split: str
    audio: list[F64]
    labels: list[str]
    electronic: list[int]


def _sf(name: str) -> Path:
    for d in (render.SF2, render.SF3):
        p = d / name
        if p.exists():
            return p
    raise FileNotFoundError(name)


def _render_gm(font: str, seed: int) -> tuple[list[F64], list[str], list[int]]:
    rng = np.random.default_rng(seed)
    notes = render.gm_drum_notes(rng) + render.tonal_notes(rng)
    clips = render.render(_sf(font), notes)
    keep = [(c, n) for c, n in zip(clips, notes, strict=True) if c.size]
    return [c for c, _ in keep], [n.label for _, n in keep], [int(n.electronic) for _, n in keep]


def _render_kit_sf(font: str, seed: int) -> tuple[list[F64], list[str], list[int]]:
    rng = np.random.default_rng(seed)
    notes = render.gm_drum_notes(rng, kits={0: False}, velocities=(30, 55, 80, 105, 127),
                                 channel=0, bank=0, key_map=render.AVL_DRUMS)
    clips = render.render(_sf(font), notes)
    keep = [(c, n) for c, n in zip(clips, notes, strict=True) if c.size]
    return [c for c, _ in keep], [n.label for _, n in keep], [0] * len(keep)


def _hydrogen(names: tuple[str, ...]) -> tuple[list[F64], list[str], list[int]]:
    audio, labels, elec = [], [], []
    for name in names:
        for label, clip in kits.load_kit(kits.HYDROGEN_DRUMKITS / name):
            audio.append(clip)
            labels.append(label)
            elec.append(int(name in kits.ELECTRONIC_KITS))
    return audio, labels, elec


def _synth(seed: int, per_label: int = 220) -> tuple[list[F64], list[str], list[int]]:
    rng = np.random.default_rng(seed)
    audio, labels = [], []
    for label in synth.GENERATORS:
        clips = synth.generate(label, per_label, rng)
        audio += clips
        labels += [label] * len(clips)
    return audio, labels, [1] * len(audio)


def _espeak(voices: tuple[str, ...], per_voice: int, seed: int) -> tuple[list[F64], list[str],
                                                                         list[int]]:
    clips = voice.espeak_vocals(voices, per_voice, np.random.default_rng(seed))
    return clips, ["vocal"] * len(clips), [-1] * len(clips)


def _corpus_chops(corpus: Path, name: str, label: str, n: int, seed: int) -> tuple[
        list[F64], list[str], list[int]]:
    from stemcrate.audio.decode import load_audio

    y, _ = load_audio(corpus / name, sr=SR, mono=True)
    clips = voice.chop(np.asarray(y[0], dtype=np.float64), n, np.random.default_rng(seed))
    return clips, [label] * len(clips), [-1] * len(clips)


def sources(corpus: Path | None) -> dict[str, tuple[str, Callable[[], tuple[list[F64],
                                                                          list[str], list[int]]]]]:
    """name → (split, loader). Corpus-based real test sources need ``corpus``."""
    out: dict[str, tuple[str, Callable[[], tuple[list[F64], list[str], list[int]]]]] = {
        "sf-FluidR3_GM": ("train", lambda: _render_gm("FluidR3_GM.sf2", 11)),
        "sf-MuseScore_General": ("train", lambda: _render_gm("MuseScore_General.sf3", 12)),
        "sf-Black_Pearl_4_LV2": ("train", lambda: _render_kit_sf("Black_Pearl_4_LV2.sf2", 13)),
        "hydrogen-train": ("train", lambda: _hydrogen(TRAIN_KITS)),
        "synth": ("train", lambda: _synth(14)),
        "espeak-train": ("train", lambda: _espeak(voice.TRAIN_VOICES, 90, 15)),
        "sonic-pi-train": ("train", lambda: _sonic_pi("train")),
        "sf-TimGM6mb": ("test_sf", lambda: _render_gm("TimGM6mb.sf2", 21)),
        "espeak-test": ("test_sf", lambda: _espeak(voice.TEST_VOICES, 60, 22)),
        "sf-Red_Zeppelin_4_LV2": ("test_real",
                                  lambda: _render_kit_sf("Red_Zeppelin_4_LV2.sf2", 23)),
        "hydrogen-test": ("test_real", lambda: _hydrogen(TEST_KITS)),
        "sonic-pi-test": ("test_sonicpi", lambda: _sonic_pi("test")),
    }
    if corpus is not None and (corpus / "198-209-0000.ogg").exists():
        c = corpus
        out["librispeech"] = ("test_real", lambda: _corpus_chops(
            c, "198-209-0000.ogg", "vocal", 150, 24))
        out["trumpet"] = ("test_real", lambda: _corpus_chops(
            c, "sorohanro_-_solo-trumpet-06.ogg", "melodic", 60, 25))
    return out


def load_source(name: str, split: str, loader: Callable[[], tuple[list[F64], list[str],
                                                                  list[int]]],
                cache: Path) -> Clips:
    """The clips of one source, from the int16 cache when present, else built and cached."""
    path = cache / "clips" / f"{name}-{CACHE_VERSION}.npz"
    if path.exists():
        z = np.load(path, allow_pickle=False)
        offs = z["offsets"]
        pcm = z["pcm"].astype(np.float64) / 32767.0
        audio = [pcm[offs[i]:offs[i + 1]] * float(z["scale"][i]) for i in range(offs.size - 1)]
        return Clips(name, split, audio, [str(x) for x in z["labels"]],
                     [int(x) for x in z["electronic"]])
    audio, labels, elec = loader()
    path.parent.mkdir(parents=True, exist_ok=True)
    scale = np.array([max(float(np.max(np.abs(a))), 1e-9) for a in audio])
    offs = np.concatenate([[0], np.cumsum([a.size for a in audio])]).astype(np.int64)
    pcm = np.concatenate([a / s for a, s in zip(audio, scale, strict=True)]) if audio else (
        np.zeros(0))
    tmp = path.with_suffix(".tmp.npz")
    np.savez_compressed(tmp, pcm=np.round(pcm * 32767).astype(np.int16), offsets=offs,
                        scale=scale, labels=np.array(labels), electronic=np.array(elec))
    tmp.replace(path)
    return load_source(name, split, loader, cache)


#: sources whose clips get more augmented variants than their label's share (few real clips)
VARIANTS_OF_SOURCE = {"sonic-pi-train": 8}


def variants_per_clip(labels: list[str], target: int) -> dict[str, int]:
    """Feature vectors per training clip of each label: ≈ target in all, each clip ≥ 3 (the
    clean one + 2 augmented variants, so even the big classes see augmentation), ≤ 8."""
    counts = {lab: labels.count(lab) for lab in set(labels)}
    return {lab: int(np.clip(round(target / max(n, 1)), 3, 8)) for lab, n in counts.items()}


def seed_of(*parts: object) -> int:
    h = hashlib.sha256("/".join(map(str, parts)).encode()).digest()
    return int.from_bytes(h[:4], "little")


@dataclass
class FeatureSet:
    X: npt.NDArray[np.float32]  # (N, N_FEATURES) handcrafted features
    M: npt.NDArray[np.float16]  # (N, PATCH_MELS, PATCH_FRAMES) log-mel patches
    y: npt.NDArray[np.int64]
    electronic: npt.NDArray[np.int64]
    source: npt.NDArray[np.str_]
    clean: npt.NDArray[np.bool_]


@dataclass
class _Job:
    """What a featurize worker needs (inherited by forked workers, never pickled)."""

    clip_sets: list[Clips]
    per: dict[str, int]
    augment: bool
    seed: int
    pool: list[F64]
    drums: list[F64]
    by_label: dict[str, list[F64]]


_JOB: list[_Job] = []


#: features (V, F), patches (V, 48, 64), label index, electronic, source of one clip's V
#: vectors (the clean clip first, then its augmented variants)
_ClipResult = tuple[npt.NDArray[np.float32], npt.NDArray[np.float16], int, int, str]


def _featurize_clip(ref: tuple[int, int]) -> _ClipResult:
    """Features + patches of clip ``ref`` = (set index, clip index) and its variants; each clip
    has its own seeded generator, so the result does not depend on worker scheduling."""
    job = _JOB[0]
    cs = job.clip_sets[ref[0]]
    a, lab = cs.audio[ref[1]], cs.labels[ref[1]]
    rng = np.random.default_rng(seed_of(job.seed, cs.source, ref[1]))
    n = max(job.per.get(lab, 1), VARIANTS_OF_SOURCE.get(cs.source, 0)) if job.augment else 1
    xs, ms = [], []
    for k in range(n):
        if k == 0:
            z = a
        else:
            bleed = job.pool[int(rng.integers(0, len(job.pool)))]
            # the hit before: for toms half the time another tom (fills), else any drum
            same = (job.by_label[lab] if lab in aug.SAME_BEFORE and rng.random() < 0.5
                    else job.drums)
            prev = same[int(rng.integers(0, len(same)))]
            z = aug.augment(a, lab, rng, bleed, prev)
        x = prepare(z, SR)
        xs.append(extract_prepared(x))
        ms.append(mel_patch(x).astype(np.float16))
    return np.stack(xs), np.stack(ms), LABELS.index(lab), cs.electronic[ref[1]], cs.source


def featurize(clip_sets: list[Clips], *, augment: bool, target_per_label: int, seed: int,
              progress: Callable[[int], None] | None = None,
              processes: int | None = None) -> FeatureSet:
    """Features and log-mel patches of every clip; with ``augment`` each clip also yields
    augmented variants. Runs on ``processes`` worker processes (default: every CPU)."""
    import multiprocessing as mp
    import os

    all_labels = [lab for cs in clip_sets for lab in cs.labels]
    per = variants_per_clip(all_labels, target_per_label) if augment else {}
    pool = [a for cs in clip_sets for a in cs.audio]
    drums = [a for cs in clip_sets for a, lab in zip(cs.audio, cs.labels, strict=True)
             if lab in aug.DRUM_LABELS] or pool
    by_label: dict[str, list[F64]] = {}
    for cs in clip_sets:
        for a, lab in zip(cs.audio, cs.labels, strict=True):
            by_label.setdefault(lab, []).append(a)
    _JOB[:] = [_Job(clip_sets, per, augment, seed, pool, drums, by_label)]
    refs = [(i, j) for i, cs in enumerate(clip_sets) for j in range(len(cs.audio))]
    procs = processes or os.cpu_count() or 1
    X, M, y, el, src, clean = [], [], [], [], [], []
    with contextlib.ExitStack() as stack:
        stack.callback(_JOB.clear)
        results: Iterator[_ClipResult]
        if procs > 1 and len(refs) > 64:
            workers = stack.enter_context(mp.get_context("fork").Pool(procs))
            results = workers.imap(_featurize_clip, refs, chunksize=16)
        else:
            results = map(_featurize_clip, refs)
        for xs, ms, label, elec, source in results:
            X.append(xs)
            M.append(ms)
            y += [label] * len(xs)
            el += [elec] * len(xs)
            src += [source] * len(xs)
            clean += [True] + [False] * (len(xs) - 1)
            if progress is not None:
                progress(1)
    return FeatureSet(np.concatenate(X).astype(np.float32), np.concatenate(M),
                      np.asarray(y, dtype=np.int64), np.asarray(el, dtype=np.int64),
                      np.asarray(src), np.asarray(clean))

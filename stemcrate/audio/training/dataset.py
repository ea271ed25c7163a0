"""The training/evaluation data set: sources, the held-out split, the clip cache, features.

Sources and split (held out BY SOURCE — no test source is ever seen in training):

=====================  ======================================================  ==========
source                 what                                                    split
=====================  ======================================================  ==========
sf:FluidR3_GM          GM drums (8 kits) + bass/melodic/fx programs             train
sf:MuseScore_General   same jobs (MuseScore General, derived from FluidR3)      train
sf:csound_GMbank       same jobs (Csound's small GM bank, Debian csound-sf)     train
sf:Black_Pearl_4_LV2   real recorded kit (avldrums), GM keys                    train
hydrogen:<train kits>  real sampled kits (see TRAIN_KITS; GMRockKit and the      train
                       TR808 emulation come with Debian hydrogen-data)
synth                  808/909-style drums, percussion, fx, synth bass/notes    train
espeak:train           espeak-ng speech and vowels, 12 voices, chopped          train
flite:train            flite speech and vowels, 4 voices (kal16 diphone; awb,   train
                       rms, slt statistical voices of recorded speakers)
sf:TimGM6mb            GM drums + bass/melodic/fx (independent soundfont)       test_sf
espeak:test            6 other espeak-ng voices, chopped                        test_sf
sf:Red_Zeppelin_4_LV2  real recorded kit (avldrums)                             test_real
hydrogen:<test kits>   real sampled kits (see TEST_KITS)                        test_real
librispeech            corpus 198-209-0000.ogg (real read speech), chopped      test_real
trumpet                corpus solo trumpet, chopped                             test_real
sonic-pi-train         Sonic Pi's real one-shots (drum machines, acoustic       train
                       drums, tabla, basses, guitar, fx), half of the families
lmms-train             LMMS's samples (drums, basses, instruments, pads, fx),   train
                       half of the families
sonic-pi-test          the other half of the Sonic Pi families                  test_packs
lmms-test              the other half of the LMMS families                      test_packs
klettres-train         real recorded letters/syllables, 14 languages' speakers  train
hedgewars-train        real recorded shouted/sung game voices, 9 voice packs    train
klettres-test          6 other languages' speakers                              test_real
hedgewars-test         6 other voice packs                                      test_real
freepats               FreePats: real sampled drums (read from the patches), 7  test_real
                       basses, pianos, organs, guitars, strings, winds
                       (TiMidity++; Debian freepats)
drumsynth-train        LMMS DrumSynth presets: TR-808/909, CR-78, acoustic,     train
                       Latin and electronic kits, 2 of 3 of the misc presets
drumsynth-knobs-train  the training presets again, 2 renders each with tune and   train
                       decay knobs turned
synth-basses           sample-pack bass one-shots: plucks, acid, reese, wobble,  train
                       plucked strings, layered sub (:func:`.synth.bass_oneshot`)
hedgewars-sfx-train    half of Hedgewars' sound effects (by family)             train
hedgewars-sfx-test     the other half                                           test_real
game-sfx               205 effects of 7 other Debian games (bzflag, chromium-   test_effects
                       bsu, frozen-bubble, tuxpaint, minetest, pingus,
                       OpenTTD's OpenSFX) and the freedesktop sound theme
drumsynth-test         5 machines never trained on (CR-8000, LinnDrum,          test_machines
                       TR-606, TR-77, an R&B kit), 1 of 3 of the misc presets
=====================  ======================================================  ==========

The sample packs (:mod:`.packs`) are split by *family* (``tabla_ghe1..8`` is one family, so
is ``drum_tom_hi_hard``/``_soft``): within each label the families sorted by name alternate
between training and test. The two halves of a pack come from one collection, so
``test_packs`` is reported on its own, apart from the fully independent ``test_real``. Long
tonal samples (bass, vocal, melodic) also give grains and phrases cut from them
(:func:`.voice.chop`), as a slicer would cut them from a stem.

Rendered clips are cached as int16 ``.npz`` under ``build/classifier-data/clips/`` (never
committed), named after the source and a digest of its recipe (the loader call with its
arguments — soundfont, seed, voices, kits, the pack's labels — and the label rules it
applies), so a source whose definition changes is rebuilt; a change to the rendering *code*
itself needs :data:`CACHE_VERSION` bumped. Everything is seeded, so a rebuild gives the same
clips.

A held-out source holds each recording once (:func:`distinct_recordings`): FreePats plays
each drum patch at three velocities and some kits' velocity layers are one sample at other
levels, and since the classifier does not depend on level (the robustness check's "30 dB
quieter" keeps every label), such copies would count one recording's answer several times.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from stemcrate.audio import sfx_embedding
from stemcrate.audio.classify import LABELS
from stemcrate.audio.features import FEATURE_SR, extract_prepared, mel_patch, prepare
from stemcrate.audio.training import augment as aug
from stemcrate.audio.training import drum_machines, kits, packs, render, synth, voice

SR = FEATURE_SR
F64 = npt.NDArray[np.float64]
TRAIN_KITS = ("Audiophob", "BJA_Pacific", "ColomboAcousticDrumkit", "ElectricEmpireKit",
              "GMRockKit", "Millo-Drums_v.1", "Millo_MultiLayered2", "Millo_MultiLayered3",
              "TR808EmulationKit", "The Black Pearl 1.0", "circAfrique v4", "rumpf_kit_z01_h2")
TEST_KITS = ("ForzeeStereo", "HardElectro1", "Gimme A Hand 1.0", "VariBreaks")
CACHE_VERSION = "v2"  # v2: GM voice programs rendered as vocal
Loaded = tuple[list[F64], list[str], list[int]]
#: how a pack's samples become clips (part of its cache recipe)
PACK_RECIPE = "first 1.6 s + up to 8 chops of tonal samples over 1 s"


def required_files() -> list[tuple[Path, str]]:
    """(file or folder, Debian package that installs it) of everything the sources read."""
    fonts = (("FluidR3_GM.sf2", "fluid-soundfont-gm"),
             ("MuseScore_General.sf3", "musescore-general-soundfont-small"),
             ("sf_GMbank.sf2", "csound-soundfont"), ("TimGM6mb.sf2", "timgm6mb-soundfont"),
             ("Black_Pearl_4_LV2.sf2", "avldrums.lv2-soundfont"),
             ("Red_Zeppelin_4_LV2.sf2", "avldrums.lv2-soundfont"))
    out = [((render.SF3 if f.endswith(".sf3") else render.SF2) / f, pkg) for f, pkg in fonts]
    out += [(kits.HYDROGEN_DRUMKITS / k, "hydrogen-data" if k in kits.HYDROGEN_DATA_KITS
             else "hydrogen-drumkits") for k in TRAIN_KITS + TEST_KITS]
    out += [(p.root, p.package) for p in packs.PACKS]
    out += [(voice.KLETTRES, "klettres-data"), (voice.HEDGEWARS_VOICES, "hedgewars-data"),
            (drum_machines.ROOT, drum_machines.PACKAGE), (render.FREEPATS_CFG, "freepats"),
            (Path("/usr/bin/timidity"), "timidity"), (packs.OPENSFX, "openttd-opensfx")]
    return out


def missing_files() -> list[str]:
    """One line per missing training input, naming the Debian package to install."""
    return [f"{path} not found; install the Debian package {pkg}"
            for path, pkg in required_files() if not path.exists()]


def pack_clips(pack: packs.Pack, half: str) -> Loaded:
    """One half of a sample pack: each sample's first 1.6 s, plus for long tonal samples
    up to 8 chops (grains 5–60 ms, notes, phrases up to 1.5 s) from anywhere in it."""
    from stemcrate.audio.decode import load_audio

    if not pack.root.is_dir():
        raise FileNotFoundError(f"{pack.root} not found: install the Debian package "
                                f"{pack.package}")
    audio, labels, elec = [], [], []
    for name, label in pack.split(half):
        y, _ = load_audio(pack.path(name), sr=SR, mono=True)
        whole = np.asarray(y[0], dtype=np.float64)
        e = pack.electronic(name, label)
        clips = [whole[: int(1.6 * SR)]]
        if label in packs.TONAL and whole.size > SR:
            n = min(8, int(whole.size / SR / 0.75))
            clips += voice.chop(whole, n, np.random.default_rng(seed_of(pack.name, name)))
        audio += clips
        labels += [label] * len(clips)
        elec += [e] * len(clips)
    return audio, labels, elec


def game_sfx_clips() -> Loaded:
    """Every effect of :data:`packs.GAME_SFX` and those of OpenTTD's catalogue
    (:func:`packs.opensfx`) that last ≥ 0.25 s, each as its first 1.6 s, labelled ``fx``
    (held out: never trained on)."""
    import io

    from stemcrate.audio.decode import load_audio

    audio, labels, elec = [], [], []
    for pack in packs.GAME_SFX:
        a, lab, e = pack_clips(pack, "all")
        audio += a
        labels += lab
        elec += e
    for _, wav in packs.opensfx():
        y, _ = load_audio(io.BytesIO(wav), sr=SR, mono=True, dtype="float64")
        if y.shape[1] < 0.25 * SR:
            continue
        audio.append(np.asarray(y[0, : int(1.6 * SR)], dtype=np.float64))
        labels.append("fx")
        elec.append(-1)
    return audio, labels, elec


@dataclass
class Clips:
    """Labelled clips of one source: mono float64 at 22 050 Hz; electronic: 1, 0 or -1."""

    source: str
    split: str
    audio: list[F64]
    labels: list[str]
    electronic: list[int]
    copies: int = 0  # clips left out as copies of another at another level (held out only)


@dataclass(frozen=True)
class Source:
    """A source of labelled clips: its split, how to build them, and the recipe (what it
    renders or reads) whose digest names the clip cache."""

    split: str
    loader: Callable[[], Loaded]
    recipe: str


def _sf(name: str) -> Path:
    for d in (render.SF2, render.SF3):
        p = d / name
        if p.exists():
            return p
    raise FileNotFoundError(name)


def _kept(clips: list[F64], notes: list[render.Note], *, acoustic: bool = False) -> Loaded:
    """The rendered notes that sounded, with labels and electronic flags (unknown for
    voices; 0 for all of an ``acoustic`` kit)."""
    keep = [(c, n) for c, n in zip(clips, notes, strict=True) if c.size]
    return ([c for c, _ in keep], [n.label for _, n in keep],
            [-1 if n.label == "vocal" else 0 if acoustic else int(n.electronic)
             for _, n in keep])


def _render_gm(font: str, seed: int) -> Loaded:
    rng = np.random.default_rng(seed)
    notes = render.gm_drum_notes(rng) + render.tonal_notes(rng)
    return _kept(render.render(_sf(font), notes), notes)


def _render_kit_sf(font: str, seed: int) -> Loaded:
    rng = np.random.default_rng(seed)
    notes = render.gm_drum_notes(rng, kits={0: False}, velocities=(30, 55, 80, 105, 127),
                                 channel=0, bank=0, key_map=render.AVL_DRUMS)
    return _kept(render.render(_sf(font), notes), notes, acoustic=True)


def _render_patches(cfg: Path, seed: int) -> Loaded:
    """Drums, basses, melodic and fx notes of a TiMidity patch set, only what it maps itself
    (:func:`.render.patch_map`; its drums are drum set 0, so bank 0 on channel 10).

    The drums are the patches' recordings (:func:`.gus.one_shot`, at three levels from the
    notes' velocities), not TiMidity's renders: TiMidity plays 17 of the 40 FreePats drums
    used here transposed, by up to 25 semitones (its kicks two octaves down). Basses and
    melodic notes are rendered, as a sampler plays them.
    """
    from stemcrate.audio.training import gus

    rng = np.random.default_rng(seed)
    programs, keys = render.patch_map(cfg)
    drums = {k: lab for k, lab in render.GM_DRUMS.items() if k in keys}
    drum_notes = render.gm_drum_notes(rng, kits={0: False}, velocities=(40, 80, 120), bank=0,
                                      key_map=drums)
    tonal = render.tonal_notes(rng, n_bass=10, n_melodic=2, n_fx=3, n_vocal=8,
                               programs=programs)
    _, files = render.patch_files(cfg)
    recorded = {k: gus.one_shot(files[k], sr=SR)[: int(render.CLIP_S * SR)] for k in drums}
    hits = []
    for n in drum_notes:
        hit = recorded[n.key] * (n.velocity / 127) ** 2
        fade = min(hit.size, int(0.005 * SR))
        hit[hit.size - fade:] *= np.linspace(1, 0, fade)
        hits.append(hit)
    return _kept(hits + render.render(cfg, tonal), drum_notes + tonal)


def _hydrogen(names: tuple[str, ...]) -> Loaded:
    audio, labels, elec = [], [], []
    for name in names:
        for label, clip in kits.load_kit(kits.HYDROGEN_DRUMKITS / name):
            audio.append(clip)
            labels.append(label)
            elec.append(int(name in kits.ELECTRONIC_KITS))
    return audio, labels, elec


def _synth(seed: int, per_label: int = 220) -> Loaded:
    rng = np.random.default_rng(seed)
    audio, labels = [], []
    for label in synth.GENERATORS:
        clips = synth.generate(label, per_label, rng)
        audio += clips
        labels += [label] * len(clips)
    return audio, labels, [1] * len(audio)


def _synth_basses(seed: int, n: int) -> Loaded:
    rng = np.random.default_rng(seed)
    clips = [synth.bass_oneshot(rng) for _ in range(n)]
    return clips, ["bass"] * n, [-1] * n  # synth or plucked string: not tagged either way


def _espeak(voices: tuple[str, ...], per_voice: int, seed: int) -> Loaded:
    clips = voice.espeak_vocals(voices, per_voice, np.random.default_rng(seed))
    return clips, ["vocal"] * len(clips), [-1] * len(clips)


def _flite(voices: tuple[str, ...], per_voice: int, seed: int) -> Loaded:
    clips = voice.flite_vocals(voices, per_voice, np.random.default_rng(seed))
    return clips, ["vocal"] * len(clips), [-1] * len(clips)


def _recorded(root: Path, groups: tuple[str, ...], per_group: int, chops: int,
              seed: int) -> Loaded:
    files = voice.recorded_files(root, groups, per_group)
    clips = voice.recorded_vocals(files, chops, np.random.default_rng(seed))
    return clips, ["vocal"] * len(clips), [-1] * len(clips)


def _drum_machines(half: str, knobs: int = 0) -> Loaded:
    """The presets of one half; with ``knobs``, instead that many renders of each with its
    tune and decay knobs turned (:func:`.drum_machines.knob_settings`)."""
    import dataclasses

    from stemcrate.audio.training import drumsynth

    audio, labels, elec = [], [], []
    for name, label in drum_machines.split(half):
        preset = drumsynth.read_preset(drum_machines.ROOT / f"{name}.ds")
        settings = (drum_machines.knob_settings(label, knobs, np.random.default_rng(
            seed_of("knobs", name))) if knobs else [(0.0, 1.0)])
        for k, (tune, decay) in enumerate(settings):
            g = preset.general
            turned = dataclasses.replace(preset, general=dataclasses.replace(
                g, tuning=g.tuning + tune, stretch=g.stretch * decay))
            seed = seed_of("drumsynth", name, k) if knobs else seed_of("drumsynth", name)
            clip = drumsynth.render(turned, sr=SR, max_seconds=1.6, seed=seed)
            if clip.size and float(np.max(np.abs(clip))) > 1e-4:
                audio.append(clip)
                labels.append(label)
                elec.append(drum_machines.electronic(name, label))
    return audio, labels, elec


def _corpus_chops(corpus: Path, name: str, label: str, n: int, seed: int) -> Loaded:
    from stemcrate.audio.decode import load_audio

    y, _ = load_audio(corpus / name, sr=SR, mono=True)
    clips = voice.chop(np.asarray(y[0], dtype=np.float64), n, np.random.default_rng(seed))
    return clips, [label] * len(clips), [-1] * len(clips)


def _token(arg: object) -> str:
    """How one loader argument enters a recipe (a folder by its name only, so the corpus'
    location on this machine does not rename the cache)."""
    return arg.name if isinstance(arg, Path) else repr(arg)


def _source(split: str, fn: Callable[..., Loaded], *args: object,
            extra: tuple[object, ...] = ()) -> Source:
    """A :class:`Source` that calls ``fn(*args)``; its recipe is that call plus ``extra``
    (what else decides the clips, e.g. the label rules)."""
    recipe = f"{fn.__name__}({', '.join(map(_token, args))})" + "".join(map(_token, extra))
    return Source(split, functools.partial(fn, *args), recipe)


def sources(corpus: Path | None) -> dict[str, Source]:
    """name → :class:`Source`. Corpus-based real test sources need ``corpus``."""
    kit_rules = (sorted(kits.ELECTRONIC_KITS), kits.RULES, kits.SKIP_FILES)
    machine_rules = (drum_machines.TEST_KITS, drum_machines.labelled())
    kl, hw = voice.KLETTRES, voice.HEDGEWARS_VOICES
    out = {
        "sf-FluidR3_GM": _source("train", _render_gm, "FluidR3_GM.sf2", 11),
        "sf-MuseScore_General": _source("train", _render_gm, "MuseScore_General.sf3", 12),
        "sf-csound_GMbank": _source("train", _render_gm, "sf_GMbank.sf2", 16),
        "sf-Black_Pearl_4_LV2": _source("train", _render_kit_sf, "Black_Pearl_4_LV2.sf2", 13),
        "hydrogen-train": _source("train", _hydrogen, TRAIN_KITS, extra=kit_rules),
        "synth": _source("train", _synth, 14),
        "espeak-train": _source("train", _espeak, voice.TRAIN_VOICES, 90, 15),
        "flite-train": _source("train", _flite, voice.FLITE_VOICES, 90, 17),
        "sonic-pi-train": _source("train", pack_clips, packs.SONIC_PI, "train",
                                  extra=(PACK_RECIPE,)),
        "lmms-train": _source("train", pack_clips, packs.LMMS, "train", extra=(PACK_RECIPE,)),
        "hedgewars-sfx-train": _source("train", pack_clips, packs.HEDGEWARS_SFX, "train",
                                       extra=(PACK_RECIPE,)),
        "synth-basses": _source("train", _synth_basses, 41, 600),
        "drumsynth-knobs-train": _source("train", _drum_machines, "train", 2,
                                         extra=machine_rules),
        "klettres-train": _source("train", _recorded, kl, voice.KLETTRES_TRAIN, 45, 1, 31),
        "hedgewars-train": _source("train", _recorded, hw, voice.HEDGEWARS_TRAIN, 70, 1, 32),
        "drumsynth-train": _source("train", _drum_machines, "train", extra=machine_rules),
        "sf-TimGM6mb": _source("test_sf", _render_gm, "TimGM6mb.sf2", 21),
        "espeak-test": _source("test_sf", _espeak, voice.TEST_VOICES, 60, 22),
        "sf-Red_Zeppelin_4_LV2": _source("test_real", _render_kit_sf,
                                         "Red_Zeppelin_4_LV2.sf2", 23),
        "hydrogen-test": _source("test_real", _hydrogen, TEST_KITS, extra=kit_rules),
        "sonic-pi-test": _source("test_packs", pack_clips, packs.SONIC_PI, "test",
                                 extra=(PACK_RECIPE,)),
        "lmms-test": _source("test_packs", pack_clips, packs.LMMS, "test",
                             extra=(PACK_RECIPE,)),
        "klettres-test": _source("test_real", _recorded, kl, voice.KLETTRES_TEST, 60, 0, 33),
        "hedgewars-test": _source("test_real", _recorded, hw, voice.HEDGEWARS_TEST, 70, 0, 34),
        "drumsynth-test": _source("test_machines", _drum_machines, "test",
                                  extra=machine_rules),
        "freepats": _source("test_real", _render_patches, render.FREEPATS_CFG, 26,
                            extra=("drums read from the patches",)),
        "hedgewars-sfx-test": _source("test_real", pack_clips, packs.HEDGEWARS_SFX, "test",
                                      extra=(PACK_RECIPE,)),
        "game-sfx": _source("test_effects", game_sfx_clips,
                            extra=(PACK_RECIPE, [p.labels for p in packs.GAME_SFX],
                                   sorted(packs.OPENSFX_SKIP))),
    }
    if corpus is not None and (corpus / "198-209-0000.ogg").exists():
        out["librispeech"] = _source("test_real", _corpus_chops, corpus, "198-209-0000.ogg",
                                     "vocal", 150, 24)
        out["trumpet"] = _source("test_real", _corpus_chops, corpus,
                                 "sorohanro_-_solo-trumpet-06.ogg", "melodic", 60, 25)
    return out


def cache_path(cache: Path, name: str, source: Source) -> Path:
    """Where the clips of ``source`` are cached: the name plus a digest of its recipe."""
    digest = f"{seed_of(CACHE_VERSION, name, source.recipe):08x}"
    return cache / "clips" / f"{name}-{digest}.npz"


def distinct_recordings(audio: list[F64], *, min_correlation: float = 0.999) -> list[int]:
    """Indices (ascending) of the clips that are not a copy of an earlier clip at another
    level: a copy has the same length and a normalised correlation ≥ ``min_correlation``
    with it (one recording scaled, as velocity layers made by turning a sample down are;
    int16 rounding keeps such copies at ≥ 0.9999). Silent clips and clips under 64 samples
    are always kept. Only clips whose coarse envelopes (64 blocks' RMS) already match are
    compared sample by sample."""
    keep: list[int] = []
    groups: dict[int, tuple[list[F64], list[F64]]] = {}  # length → (envelopes, unit clips)
    for i, a in enumerate(audio):
        norm = float(np.linalg.norm(a))
        if norm == 0 or a.size < 64:
            keep.append(i)
            continue
        unit = a / norm
        env = np.sqrt(np.add.reduceat(unit ** 2, np.linspace(0, a.size, 64, endpoint=False
                                                              ).astype(np.int64)))
        envs, units = groups.setdefault(a.size, ([], []))
        if envs:
            close = np.flatnonzero(np.stack(envs) @ env >= 0.998)
            if any(float(np.dot(unit, units[j])) >= min_correlation for j in close):
                continue
        envs.append(env)
        units.append(unit)
        keep.append(i)
    return keep


def load_source(name: str, source: Source, cache: Path) -> Clips:
    """The clips of one source, from the int16 cache when present, else built and cached;
    a held-out source's with each recording once (:func:`distinct_recordings`)."""
    path = cache_path(cache, name, source)
    if path.exists():
        z = np.load(path, allow_pickle=False)
        offs = z["offsets"]
        pcm = z["pcm"].astype(np.float64) / 32767.0
        audio = [pcm[offs[i]:offs[i + 1]] * float(z["scale"][i]) for i in range(offs.size - 1)]
        labels = [str(x) for x in z["labels"]]
        elec = [int(x) for x in z["electronic"]]
        if source.split == "train":
            return Clips(name, source.split, audio, labels, elec)
        keep = distinct_recordings(audio)
        return Clips(name, source.split, [audio[i] for i in keep], [labels[i] for i in keep],
                     [elec[i] for i in keep], copies=len(audio) - len(keep))
    audio, labels, elec = source.loader()
    path.parent.mkdir(parents=True, exist_ok=True)
    scale = np.array([max(float(np.max(np.abs(a))), 1e-9) for a in audio])
    offs = np.concatenate([[0], np.cumsum([a.size for a in audio])]).astype(np.int64)
    pcm = np.concatenate([a / s for a, s in zip(audio, scale, strict=True)]) if audio else (
        np.zeros(0))
    tmp = path.with_suffix(".tmp.npz")
    np.savez_compressed(tmp, pcm=np.round(pcm * 32767).astype(np.int16), offsets=offs,
                        scale=scale, labels=np.array(labels), electronic=np.array(elec))
    tmp.replace(path)
    return load_source(name, source, cache)


#: sources whose clips get more augmented variants than their label's share (few real clips)
VARIANTS_OF_SOURCE = {"sonic-pi-train": 8, "lmms-train": 8, "hedgewars-sfx-train": 8,
                      "drumsynth-train": 6}


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
    E: npt.NDArray[np.float16]  # (N, sfx_embedding.EMBEDDING_DIM) aiSFX embeddings
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


#: features (V, F), patches (V, 48, 64), aiSFX embeddings (V, 512), label index, electronic,
#: source of one clip's V vectors (the clean clip first, then its augmented variants)
_ClipResult = tuple[npt.NDArray[np.float32], npt.NDArray[np.float16], npt.NDArray[np.float16],
                    int, int, str]


def _featurize_clip(ref: tuple[int, int]) -> _ClipResult:
    """Features + patches of clip ``ref`` = (set index, clip index) and its variants; each clip
    has its own seeded generator, so the result does not depend on worker scheduling."""
    job = _JOB[0]
    cs = job.clip_sets[ref[0]]
    a, lab = cs.audio[ref[1]], cs.labels[ref[1]]
    rng = np.random.default_rng(seed_of(job.seed, cs.source, ref[1]))
    n = max(job.per.get(lab, 1), VARIANTS_OF_SOURCE.get(cs.source, 0)) if job.augment else 1
    xs, ms, prepared = [], [], []
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
        prepared.append(x)
        xs.append(extract_prepared(x))
        ms.append(mel_patch(x).astype(np.float16))
    es = sfx_embedding.embed_prepared(prepared).astype(np.float16)
    return (np.stack(xs), np.stack(ms), es, LABELS.index(lab), cs.electronic[ref[1]],
            cs.source)


def _one_thread() -> None:
    """Pool initializer: one PyTorch thread per worker (the workers already fill the CPUs)."""
    import torch

    torch.set_num_threads(1)


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
    X, M, E, y, el, src, clean = [], [], [], [], [], [], []
    with contextlib.ExitStack() as stack:
        stack.callback(_JOB.clear)
        results: Iterator[_ClipResult]
        if procs > 1 and len(refs) > 64:
            workers = stack.enter_context(mp.get_context("fork").Pool(procs, _one_thread))
            results = workers.imap(_featurize_clip, refs, chunksize=16)
        else:
            results = map(_featurize_clip, refs)
        for xs, ms, es, label, elec, source in results:
            X.append(xs)
            M.append(ms)
            E.append(es)
            y += [label] * len(xs)
            el += [elec] * len(xs)
            src += [source] * len(xs)
            clean += [True] + [False] * (len(xs) - 1)
            if progress is not None:
                progress(1)
    return FeatureSet(np.concatenate(X).astype(np.float32), np.concatenate(M), np.concatenate(E),
                      np.asarray(y, dtype=np.int64), np.asarray(el, dtype=np.int64),
                      np.asarray(src), np.asarray(clean))

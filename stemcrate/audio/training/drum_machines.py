"""Classic drum-machine sounds: LMMS's DrumSynth presets, labelled by kit and name, split.

Debian's ``lmms-common`` ships 764 DrumSynth presets (``.ds``, rendered by
:mod:`.drumsynth`) in folders per machine or theme: emulations of the Roland TR-808, TR-909,
TR-606, CR-78, CR-8000, Ace Tone TR-77 and LinnDrum, of acoustic and Latin kits, and large
``misc_*`` collections of electronic kicks, snares, claps, hats, percussion, basses, synths
and effects. A preset's label comes from its machine and name (:func:`label_for`); names
that do not pin down a class (``misc/fatness``, ``misc_electro/confusion``) are left out.

Split (:func:`split`): five whole machines are held out (:data:`TEST_KITS`: nothing of them
is trained on, so they measure a drum machine never heard); in every other folder the
presets of each label, sorted by name, go two to training, one to test, in turn. For
training, each preset is also rendered with its tune and decay knobs turned
(:func:`knob_settings`), as a player sets up a machine.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from stemcrate.audio.classify import LABELS

ROOT = Path("/usr/share/lmms/samples/drumsynth")
PACKAGE = "lmms-common"
#: machines held out whole
TEST_KITS = ("cr8000", "linn", "r_n_b", "tr606", "tr77")

_K, _S, _C, _HC, _HO, _CY, _T, _P, _B, _M, _FX = (
    "kick", "snare", "clap", "hihat_closed", "hihat_open", "cymbal", "tom", "percussion",
    "bass", "melodic", "fx")

#: machine kits: every preset named (None = left out: the name does not say what it is)
_KITS: dict[str, dict[str, str | None]] = {
    "tr808": {"Clave": _P, "Cowbell": _P, "Handclap": _C, "Hat_c": _HC, "Hat_o": _HO,
              "Kick": _K, "Kickhard": _K, "Kicklong": _K, "Ride": _CY, "Rimshot": _P,
              "Snare": _S, "Snr_snap": _S, "Tom_hi": _T, "Tom_lo": _T, "Tom_mid": _T},
    "tr909": {"Clap": _C, "TR909_Clap": _C, "Hat-c": _HC, "Hat-c2": _HC, "Hat-o": _HO,
              "Hat-o2": _HO, "Kick": _K, "Kick_1": _K, "Kick_2": _K, "Kick_3": _K,
              "TR909_Kick": _K, "Snare": _S, "Snare2": _S},
    "tr606": {"TR606_Cymbal": _CY, "TR606_Hat_C": _HC, "TR606_Hat_O": _HO,
              "TR606_Kick": _K, "TR606_Snare": _S, "TR606_Tom_H": _T, "TR606_Tom_L": _T},
    "tr77": {"Tr77_cui1": _P, "Tr77_cui2": _P, "Tr77_cym": _CY, "Tr77_hat": _HC,
             "Tr77_kick": _K, "Tr77_snare": _S, "Tr77_tom1": _T, "Tr77_tom2": _T},
    "cr78": {"Bongo_h": _P, "Bongo_l": _P, "Clave": _P, "Conga": _P, "Cymbal": _CY,
             "Hihat": _HC, "Kick": _K, "Maracas": _P, "Rim": _P, "Snare": _S, "Tamb": _P},
    "cr8000": {"Clap": _C, "Clave": _P, "Conga_l": _P, "Conga_m": _P, "Cowbell": _P,
               "Cymbal": _CY, "Hat_c": _HC, "Hat_o": _HO, "Kick": _K, "Rim": _P, "Snare": _S},
    "linn": {"linn_cab": _P, "linn_cga1": _P, "linn_cga2": _P, "linn_cga3": _P,
             "linn_cgam": _P, "linn_clp": _C, "linn_cow": _P, "linn_kik": _K, "linn_snr": _S,
             "linn_stk": _P, "linn_tamb": _P, "linn_tom1": _T, "linn_tom2": _T,
             "linn_tom3": _T, "linn_tom4": _T, "linn_tom5": _T},
    "acoustic": {"Brush1": None, "Brush2": None, "JazzKick": _K, "JazzSnr": _S,
                 "JazzSnr_H": _S, "K_Muffle": _K, "Kick": _K, "Plain_Kick": _K, "Ride": _CY,
                 "Ride2": _CY, "Ride3": _CY, "Snare": _S},
    "latin": {"Bongo_h": _P, "Bongo_m2": _P, "Bongo_mu": _P, "bongo_l": _P, "Clave_we": _P,
              "Maracas": _P, "Shaker_1": _P, "Shaker_2": _P, "Tamb_hit": _P, "Tamb_shk": _P,
              "Triangle": _P, "guiro": _P, "taiko": _P, "one_clap": _C, "ThumbPno": _M,
              "Gamelan": None},
    "electro": {"H_closed": _HC, "H_open": _HO, "K_8bit": _K, "K_Linn": _K, "K_reverb": _K,
                "S_8bit": _S, "S_Linn": _S, "S_reverb": _S, "s_eq": _S, "Syntom_1": _T,
                "Syntom_2": _T, "Boom": None, "Hi-q": None, "Hi-q_2": None},
    "farfisa": {"Fisa_Bongo": _P, "Fisa_Cym": _CY, "Fisa_Hat": _HC, "Fisa_Kick": _K,
                "Fisa_Snare": _S, "Fisa_Tom": _T, "Fisa_K_H": None, "Fisa_K_K": None,
                "Fisa_S_B": None},
    "r_n_b": {"Hat_O": _HO, "hat": _HC, "S_hollow": _S, "popsnare": _S, "s_pitch": _S,
              "s_spit": _S, "clapfilt": _C, "popclap": _C, "k_hard": _K, "k_muffle": _K,
              "k_soft": _K, "old_kik": _K, "hat_rattle": None, "snare&hat": None,
              "x_backwd": None},
    "jorgensohn": {"kick": _K, "snare5": _S, "ride6": _CY, "ramacymlong": _CY,
                   "ramacymshort": _CY, "wood": _P, "wood2": _P, "vibra": _M,
                   "hihatopclo": None, "zurrr": None},
    "ferraro": {"curb_meat_bass": _B, "eel_bass": _B, "worm_bass": _B, "gerbil_snare": _S,
                "jaguar_hats": _HC, "radio_hats": _HC},
    "instrument": {"E_Piano": _M, "Oboe": _M, "Temple_Bell": _M, "flute": _M, "pizzi": _M,
                   "soft_piano": _M, "square_lead": _M, "techno_stab": _M, "tinkle": _M,
                   "trumpet": _M, "violin": _M, "whistler": _M, "FM_Bass": _B,
                   "Moog_bass": _B, "mute_bass": _B, "upright_bass": _B, "sweep": _FX},
}

#: collections labelled by name: (folder, regular expression on the lower-cased name, label
#: or None = left out); first match wins, an unmatched name is left out
_RULES: tuple[tuple[str, str, str | None], ...] = (
    ("effects", r"^loop$", None),
    ("effects", r".", _FX),
    ("misc_claps", r".", _C),
    ("misc_hats", r"half_open|^get_out$|^bring_me_out$|^sleepy_\d$|threshold_noise$|"
                  r"shaker_ride|^hardly_hh$", None),
    ("misc_hats", r"ride|cymbal", _CY),
    ("misc_hats", r"open|_oh$|^oh_so", _HO),
    ("misc_hats", r"hat|hh|^hh$", _HC),
    ("misc_perc", r"tom", _T),
    ("misc_perc", r"cowbell|tamb|shake|shaaka|clav|wood|knock|timbale|tabla|rim|sleigh", _P),
    ("misc_bass", r"bass_drum|_bd$", _K),
    ("misc_bass", r"laser", _FX),
    ("misc_bass", r"bass", _B),
    ("misc_synth", r"bass", _B),
    ("misc_synth", r"tom_c$", None),
    ("misc_synth", r"chord|piano|organ|strings|pad|guitar|lead|melodic|_c$|_cm$", _M),
    ("misc_fx", r"chord|stab|elekperc|click|yeah|owww|wooo|^coo$|howdy|hip-hop_stop", None),
    ("misc_fx", r".", _FX),
    ("misc_electro", r"rockin_electro_bass_drum|_bd$", _K),
    ("misc_electro", r"rim", _P),
    ("misc_electro", r"triangle", _P),
    ("misc_electro", r"tom", _T),
    ("misc_electro", r"cymbal", _CY),
    ("misc_electro", r"_fx$", _FX),
    ("misc", r"909_hard_snare|snare|_sn$|_sn_|^sn_|snr", _S),
    ("misc", r"clap", _C),
    ("misc", r"rim", _P),
    ("misc", r"kick|_bd$|^bd_|bass_drum|kik|808", _K),
    ("misc", r"tom$", _T),
)


def label_for(kit: str, name: str) -> str | None:
    """Our label for the preset ``<kit>/<name>.ds``, or None (left out)."""
    if kit in _KITS:
        return _KITS[kit].get(name)
    low = name.lower()
    for folder, pattern, label in _RULES:
        if folder == kit and re.search(pattern, low):
            return label
    return None


def labelled(root: Path = ROOT) -> list[tuple[str, str]]:
    """(``kit/name``, label) of every labelled preset under ``root``, sorted."""
    out = []
    for path in sorted(root.glob("*/*.ds")):
        label = label_for(path.parent.name, path.stem)
        if label is not None:
            out.append((f"{path.parent.name}/{path.stem}", label))
    return out


def split(half: str, root: Path = ROOT) -> list[tuple[str, str]]:
    """(``kit/name``, label) of the ``"train"`` or ``"test"`` half (see the module doc)."""
    if half not in ("train", "test"):
        raise ValueError(f"half must be 'train' or 'test', not {half!r}")
    items = labelled(root)
    held = [(n, lab) for n, lab in items if n.split("/")[0] in TEST_KITS]
    rest = [(n, lab) for n, lab in items if n.split("/")[0] not in TEST_KITS]
    out = held if half == "test" else []
    for label in LABELS:
        mine = [it for it in rest if it[1] == label]
        test = set(range(1, len(mine), 3))
        out += [it for i, it in enumerate(mine) if (i in test) == (half == "test")]
    return sorted(out)


#: how far a player turns a machine's knobs: tune (semitones) and decay (× the preset's
#: time scale); hats and cymbals keep a decay that leaves them what they are (a closed hat
#: stretched 2× rings like an open one)
TUNE_SEMITONES = 4.0
DECAY_RANGE: dict[str, tuple[float, float]] = {
    "hihat_closed": (0.6, 1.3), "hihat_open": (0.85, 1.6), "cymbal": (0.85, 1.6)}
DEFAULT_DECAY = (0.5, 1.8)


def knob_settings(label: str, n: int, rng: np.random.Generator) -> list[tuple[float, float]]:
    """``n`` random (tune in semitones, decay factor) settings for a preset of ``label``."""
    lo, hi = DECAY_RANGE.get(label, DEFAULT_DECAY)
    return [(float(rng.uniform(-TUNE_SEMITONES, TUNE_SEMITONES)),
             float(np.exp(rng.uniform(np.log(lo), np.log(hi))))) for _ in range(n)]


def electronic(name: str, label: str) -> int:
    """1 for a drum machine's drums, -1 (unknown) for tonal, fx and emulated acoustic or
    Latin kits."""
    if label in ("bass", "melodic", "fx", "vocal") or name.split("/")[0] in ("acoustic",
                                                                             "latin"):
        return -1
    return 1

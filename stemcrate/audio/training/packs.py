"""Real one-shot sample packs that Debian ships, labelled by file name and split by family.

=============  ======================  ==============================================
pack           Debian package          what
=============  ======================  ==============================================
sonic-pi       ``sonic-pi-samples``    drum machines, acoustic drums, tabla, basses,
                                       guitar, piano, choir, fx (FLAC)
lmms           ``lmms-common``         LMMS's drums, basses, instruments, pads, fx (OGG)
hedgewars-sfx  ``hedgewars-data``      the game's sound effects: explosions, guns,
                                       engines, beams, warps, splashes (OGG)
=============  ======================  ==============================================

Loops, drones, beeps, noises and samples whose sound the name does not pin down are left
out. A *family* is a sample's name without its number and its hardness/variant suffix
(``tabla_ghe1..8`` is one family, so are ``drum_tom_hi_hard``/``_soft`` and ``kick01``/
``kick_soft02``); :meth:`Pack.split` sends whole families to one half, so no family is in
both the training and the held-out half.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from stemcrate.audio.classify import LABELS

#: labels whose long samples are also cut into grains and phrases (like a slicer would)
TONAL = frozenset({"bass", "vocal", "melodic"})
_EXTENSIONS = (".flac", ".ogg", ".wav")


def _named(label: str, names: str, prefix: str = "") -> dict[str, str]:
    return {prefix + n: label for n in names.split()}


def family(name: str) -> str:
    """``tabla_ghe3`` → ``tabla_ghe``, ``drum_tom_hi_soft`` → ``drum_tom_hi``,
    ``drums/kick_soft02`` → ``drums/kick``."""
    return re.sub(r"_(hard|soft|o|s|m|ne)$", "", re.sub(r"\d+$", "", name))


@dataclass(frozen=True)
class Pack:
    """One sample pack: ``labels`` maps a sample's name (its path under ``root`` without the
    extension) to its label; ``electronic(name, label)`` gives 1, 0 or -1 (unknown)."""

    name: str
    package: str
    root: Path
    labels: Mapping[str, str]
    electronic: Callable[[str, str], int] = field(repr=False)

    def path(self, name: str) -> Path:
        """The file of sample ``name`` (raises FileNotFoundError naming the package)."""
        for ext in _EXTENSIONS:
            p = self.root / f"{name}{ext}"
            if p.is_file():
                return p
        raise FileNotFoundError(f"{self.root / name}.*: not found; install the Debian package "
                                f"{self.package}")

    def split(self, half: str) -> list[tuple[str, str]]:
        """(name, label) of the ``"train"`` or ``"test"`` half: per label, the families
        sorted by name alternate train, test, train, … (a label with one family is train
        only)."""
        if half not in ("train", "test"):
            raise ValueError(f"half must be 'train' or 'test', not {half!r}")
        out = []
        for label in LABELS:
            fams = sorted({family(n) for n, lab in self.labels.items() if lab == label})
            mine = set(fams[0::2] if half == "train" else fams[1::2])
            out += sorted((n, label) for n, lab in self.labels.items()
                          if lab == label and family(n) in mine)
        return out


def _sonic_pi_electronic(name: str, label: str) -> int:
    if label in ("vocal", "melodic", "fx"):
        return -1
    return int(name.startswith(("bd_", "elec_", "sn_", "bass_", "glitch_")))


SONIC_PI = Pack("sonic-pi", "sonic-pi-samples", Path("/usr/share/sonic-pi/samples"), {
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
}, _sonic_pi_electronic)

_LMMS_ELECTRONIC = re.compile(r"electro|808|909|rave|techno|acid|hardcore|distorted|zap|synth|"
                              r"juno|korg|nord|matrix|horror|nasty|hiphop|punch|space|orion")


def _lmms_electronic(name: str, label: str) -> int:
    if label in ("vocal", "melodic", "fx"):
        return -1
    if "acoustic" in name:
        return 0
    return 1 if _LMMS_ELECTRONIC.search(name) else -1


#: LMMS 1.2's samples (kick04, scratch01, harpsichord01, hit01 and wind_chimes01 are not
#: readable audio in the Debian package and are left out)
LMMS = Pack("lmms", "lmms-common", Path("/usr/share/lmms/samples"), {
    **_named("kick", "bassdrum01 bassdrum02 bassdrum03 bassdrum04 bassdrum_acoustic01 "
                     "bassdrum_acoustic02 kick01 kick02 kick03 kick_distorted01 kick_hard01 "
                     "kick_hardcore01 kick_hiphop01 kick_long01 kick_soft01 kick_soft02",
             "drums/"),
    **_named("snare", "snare01 snare02 snare03 snare04 snare05 snare06 snare07 "
                      "snare_acoustic01 snare_electro01 snare_harsh01 snare_hiphop01 "
                      "snare_hiphop02 snare_muffled01 snare_muffled02 snare_rim01 "
                      "snare_short01 nasty_snare01", "drums/"),
    **_named("clap", "clap01 clap02 clap03 clap04", "drums/"),
    **_named("clap", "snaph01", "misc/"),
    **_named("hihat_closed", "hihat_closed01 hihat_closed02 hihat_closed03 hihat_closed04 "
                             "hihat_closed05 hihat_foot_pedal01", "drums/"),
    **_named("hihat_open", "hihat_opened01 hihat_opened02 hihat_opened03", "drums/"),
    **_named("cymbal", "crash01 crash02 ride01 ride02", "drums/"),
    **_named("tom", "tom01 tom02 tom03 tom04 tom05 tom_hi01 tom_low01 tom_mid01", "drums/"),
    **_named("percussion", "clav01 clav02 rim01 nasty_rim01 sidestick01 shaker01 shaker02 "
                           "shaker03 wood01", "drums/"),
    **_named("bass", "bass01 bass_acid01 bass_acid02 bass_hard01 bass_hard02 bass_punch01 "
                     "horror_bass01 matrix1000_pluck01 rave_bass01 rave_bass02 rave_bass03 "
                     "rave_bass04 synth_acid01 synth_acid02 techno_synth01", "basses/"),
    **_named("bass", "bassslap01 bassslap02", "instruments/"),
    **_named("melodic", "cello01 church_organ01 church_organ02 church_organ03 church_organ04 "
                        "e_organ01 e_piano_accord01 e_piano_accord02 flute01 piano01 piano02 "
                        "steel_guitar01 steel_guitar_heavy_distorted01 "
                        "steel_guitar_medium_distorted01 steel_guitar_slight_distorted01 "
                        "trumpet01 violin_double_stop01 violin_fingered01 violin_pizzicato01",
             "instruments/"),
    **_named("melodic", "latin_brass01 latin_guitar01 latin_guitar02 latin_guitar03", "latin/"),
    **_named("melodic", "bell_choir01 bell_choir02 heaven_strings01 juno_pad01 orion_string01 "
                        "space_strings01 space_strings02 space_strings03 strings01",
             "stringsnpads/"),
    **_named("melodic", "dong01 dong02 dong03", "misc/"),
    **_named("vocal", "chorus01 chorus02", "stringsnpads/"),
    **_named("fx", "chroma_sound_effect01 explode01 filter_sweep01 start01 start02 stop01 "
                   "warp01 warp02", "effects/"),
    **_named("fx", "zap01 zap02 zap03", "drums/"),
    **_named("fx", "electric_ping01 buzz!", "misc/"),
}, _lmms_electronic)

#: Hedgewars' sound effects that last ≥ 0.25 s (its shorter impacts are as much a
#: percussion hit as an effect; its notes and voices are left out)
HEDGEWARS_SFX = Pack("hedgewars-sfx", "hedgewars-data",
                     Path("/usr/share/games/hedgewars/Data/Sounds"), _named(
                         "fx", "beewater blowtorch drillgun explosion firepunch_hit flamethrower "
                               "frozen_hog_impact gun hog_freeze ice_beam ice_beam_idle "
                               "invulnerable jetpackboost landgun lasersight lowgravity minigun "
                               "molotov mortar plane planewater portalshot rcplane ropeshot "
                               "shotgunfire sinegun splash steam suddendeath TARDIS throwpowerup "
                               "ufo warp whipcrack"), lambda name, label: -1)

PACKS = (SONIC_PI, LMMS, HEDGEWARS_SFX)

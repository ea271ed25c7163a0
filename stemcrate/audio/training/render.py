"""Render labelled one-shots from General MIDI soundfonts (FluidSynth) or GUS patch sets
(TiMidity++: FreePats).

A job list (label, channel, bank/program, note, velocity, hold seconds) becomes one MIDI file
with one note per :data:`SLOT_S`-second slot; the ``fluidsynth`` CLI (a ``.sf2``/``.sf3``
font) or ``timidity`` (a ``.cfg`` patch set) renders it offline to a 22 050 Hz WAV (reverb
and chorus off), which is cut back into clips of at most :data:`CLIP_S` seconds. Clips that
stay silent (a kit without that note) are dropped.

TiMidity always reads its system configuration too, which maps every program to
FluidR3_GM (a training soundfont): render only the programs and drum keys the patch set
itself maps (:func:`patch_map`), or FluidR3 answers for the rest. Its drum patches are
read from the files instead (:func:`patch_files`, :mod:`.gus`): TiMidity transposes
most of FreePats' drums away from their recorded pitch.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from stemcrate.audio.features import FEATURE_SR

SR = FEATURE_SR
SLOT_S = 2.5
CLIP_S = 1.6
SF2 = Path("/usr/share/sounds/sf2")
SF3 = Path("/usr/share/sounds/sf3")
FREEPATS_CFG = Path("/etc/timidity/freepats.cfg")

#: GM percussion key map (channel 10) → label; unlisted keys are not rendered.
GM_DRUMS: dict[int, str] = {
    35: "kick", 36: "kick", 37: "percussion", 38: "snare", 39: "clap", 40: "snare",
    41: "tom", 43: "tom", 45: "tom", 47: "tom", 48: "tom", 50: "tom",
    42: "hihat_closed", 44: "hihat_closed", 46: "hihat_open",
    49: "cymbal", 51: "cymbal", 52: "cymbal", 53: "cymbal", 55: "cymbal", 57: "cymbal",
    59: "cymbal",
    54: "percussion", 56: "percussion", 60: "percussion", 61: "percussion", 62: "percussion",
    63: "percussion", 64: "percussion", 65: "percussion", 66: "percussion", 67: "percussion",
    68: "percussion", 69: "percussion", 70: "percussion", 75: "percussion", 76: "percussion",
    77: "percussion", 80: "percussion", 81: "percussion",
}
#: the avldrums kits (Black Pearl, Red Zeppelin): 46 is a semi-open hat, 50 a crash,
#: 48 a hat swish (skipped), 60 a china cymbal, 64 maracas.
AVL_DRUMS: dict[int, str] = {
    36: "kick", 37: "percussion", 38: "snare", 39: "clap", 40: "snare", 41: "tom", 43: "tom",
    45: "tom", 47: "tom", 42: "hihat_closed", 44: "hihat_closed", 46: "hihat_open",
    49: "cymbal", 50: "cymbal", 51: "cymbal", 52: "cymbal", 53: "cymbal", 55: "cymbal",
    57: "cymbal", 58: "cymbal", 59: "cymbal", 60: "cymbal", 54: "percussion",
    56: "percussion", 64: "percussion",
}
#: GM drum kits (bank 128 programs) and whether they sound electronic.
GM_KITS: dict[int, bool] = {0: False, 8: False, 16: False, 24: True, 25: True, 32: False,
                            40: False, 48: False}
BASS_PROGRAMS = (32, 33, 34, 35, 36, 37, 38, 39, 43)
ELECTRONIC_PROGRAMS = frozenset({38, 39, *range(80, 104)})
MELODIC_PROGRAMS = (*range(0, 32), *range(40, 47), 48, 49, 50, 51, *range(56, 85),
                    *range(86, 91), *range(92, 96), *range(104, 112), 112, 114)
#: GM programs of sampled voices: Choir Aahs, Voice Oohs (sung vowels, a vocal one-shot)
VOCAL_PROGRAMS = (52, 53)
#: GM fx programs that sound like effects (the pad-like FX 2/3/5 and orchestra hit are left out)
FX_PROGRAMS = (96, 99, 101, 102, 103, 119, 120, 121, 122, 123, 124, 125, 126, 127)


@dataclass(frozen=True)
class Note:
    """One note to render: ``label`` is the class; ``electronic`` the acoustic/electronic tag."""

    label: str
    channel: int
    bank: int
    program: int
    key: int
    velocity: int
    hold_s: float
    electronic: bool


def gm_drum_notes(rng: np.random.Generator, *, kits: dict[int, bool] | None = None,
                  velocities: tuple[int, ...] = (45, 85, 120), channel: int = 9,
                  bank: int = 128, key_map: dict[int, str] | None = None) -> list[Note]:
    """Every mapped drum key (``key_map``, default GM) of every kit at each velocity."""
    out = []
    for prog, elec in (kits if kits is not None else GM_KITS).items():
        for key, label in (key_map if key_map is not None else GM_DRUMS).items():
            for v in velocities:
                vel = int(np.clip(v + rng.integers(-8, 9), 1, 127))
                out.append(Note(label, channel, bank, prog, key, vel, 0.2, elec))
    return out


def tonal_notes(rng: np.random.Generator, *, n_bass: int = 14, n_melodic: int = 4,
                n_fx: int = 4, n_vocal: int = 12,
                programs: frozenset[int] | None = None) -> list[Note]:
    """Bass notes E1–E3 on the bass programs, melodic notes A2–C7, fx notes, sung vowels
    C3–G5 on the voice programs (drawn last, so the others do not depend on them); only
    ``programs`` when given."""
    def have(progs: tuple[int, ...]) -> tuple[int, ...]:
        return progs if programs is None else tuple(p for p in progs if p in programs)

    out = []
    for prog in have(BASS_PROGRAMS):
        for _ in range(n_bass):
            out.append(Note("bass", 0, 0, prog, int(rng.integers(28, 53)),
                            int(rng.integers(50, 128)), float(rng.uniform(0.15, 1.4)),
                            prog in ELECTRONIC_PROGRAMS))
    for prog in have(MELODIC_PROGRAMS):
        for _ in range(n_melodic):
            out.append(Note("melodic", 0, 0, prog, int(rng.integers(45, 97)),
                            int(rng.integers(50, 128)), float(rng.uniform(0.15, 1.4)),
                            prog in ELECTRONIC_PROGRAMS))
    for prog in have(FX_PROGRAMS):
        for _ in range(n_fx):
            out.append(Note("fx", 0, 0, prog, int(rng.integers(36, 85)),
                            int(rng.integers(60, 128)), float(rng.uniform(0.3, 1.5)), True))
    for prog in have(VOCAL_PROGRAMS):
        for _ in range(n_vocal):
            out.append(Note("vocal", 0, 0, prog, int(rng.integers(48, 80)),
                            int(rng.integers(50, 128)), float(rng.uniform(0.3, 1.5)), False))
    return out


def write_midi(notes: list[Note], path: Path) -> None:
    """One note per SLOT_S slot; bank select + program change before each note."""
    import mido

    tpb = 480
    ticks_per_s = tpb * 2  # tempo 120 BPM
    mid = mido.MidiFile(ticks_per_beat=tpb)
    track = mido.MidiTrack()
    mid.tracks.append(track)
    track.append(mido.MetaMessage("set_tempo", tempo=500000, time=0))
    now = 0
    for i, n in enumerate(notes):
        start = int(round(i * SLOT_S * ticks_per_s))
        events = [
            mido.Message("control_change", channel=n.channel, control=0,
                         value=min(n.bank, 127), time=0),
            mido.Message("program_change", channel=n.channel, program=n.program, time=0),
            mido.Message("note_on", channel=n.channel, note=n.key, velocity=n.velocity, time=0),
        ]
        events[0].time = max(0, start - 1 - now)
        now = start - 1 if start >= 1 else 0
        events[2].time = 1 if start >= 1 else 0
        for e in events:
            track.append(e)
        now = start
        off = start + int(round(n.hold_s * ticks_per_s))
        track.append(mido.Message("note_off", channel=n.channel, note=n.key, velocity=0,
                                  time=off - now))
        now = off
    end = int(round(len(notes) * SLOT_S * ticks_per_s))
    track.append(mido.MetaMessage("end_of_track", time=max(0, end - now)))
    mid.save(str(path))


def patch_files(cfg: Path) -> tuple[dict[int, Path], dict[int, Path]]:
    """(program → patch file of tone bank 0, key → patch file of drum set 0) that the
    TiMidity config ``cfg`` maps to a patch of its own (relative names are under its last
    ``dir`` line, else next to ``cfg``)."""
    root = cfg.parent
    banks: dict[str, dict[int, Path]] = {"bank": {}, "drumset": {}}
    current: dict[int, Path] | None = None
    for line in cfg.read_text(encoding="utf-8", errors="replace").splitlines():
        words = line.split("#")[0].split()
        if len(words) >= 2 and words[0] == "dir":
            root = Path(words[1])
        elif len(words) >= 2 and words[0] in banks:
            current = banks[words[0]] if words[1] == "0" else None
        elif current is not None and len(words) >= 2 and words[0].isdigit() and (
                words[1].endswith(".pat")):
            current[int(words[0])] = root / words[1]
    return banks["bank"], banks["drumset"]


def patch_map(cfg: Path) -> tuple[frozenset[int], frozenset[int]]:
    """(programs of tone bank 0, keys of drum set 0) that the TiMidity config ``cfg`` maps
    to a patch file of its own (:func:`patch_files`)."""
    tones, drums = patch_files(cfg)
    return frozenset(tones), frozenset(drums)


def _synthesise(font: Path, mid: Path, wav: Path, gain: float) -> None:
    if font.suffix == ".cfg":
        exe, pkg = shutil.which("timidity"), "timidity"
        cmd = [str(exe), "-c", str(font), "-Ow", "--output-mono", "-s", str(SR),
               "-EFreverb=0", "-EFchorus=0", f"-A{int(gain * 200)}", "-o", str(wav), str(mid)]
    else:
        exe, pkg = shutil.which("fluidsynth"), "fluidsynth"
        cmd = [str(exe), "-ni", "-q", "-g", str(gain), "-R", "0", "-C", "0",
               "-o", "synth.polyphony=64", "-F", str(wav), "-r", str(SR), str(font), str(mid)]
    if exe is None:
        raise RuntimeError(f"the {pkg} CLI is not installed (Debian package {pkg})")
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def render(font: Path, notes: list[Note], *, gain: float = 0.5) -> list[npt.NDArray[np.float64]]:
    """Render ``notes`` with ``font`` (a soundfont, or a TiMidity ``.cfg`` patch set); returns
    one mono float64 clip (≤ CLIP_S s) per note.

    Silent notes yield an empty array (the caller drops them).
    """
    import soundfile as sf

    with tempfile.TemporaryDirectory(prefix="stemcrate-render-") as tmp:
        mid = Path(tmp) / "in.mid"
        wav = Path(tmp) / "out.wav"
        write_midi(notes, mid)
        _synthesise(font, mid, wav, gain)
        audio, sr = sf.read(str(wav), dtype="float64", always_2d=True)
    if sr != SR:
        raise RuntimeError(f"{font.name} rendered at {sr} Hz, expected {SR}")
    mono = audio.mean(axis=1)
    overall = float(np.max(np.abs(mono))) if mono.size else 0.0
    clips = []
    for i in range(len(notes)):
        s = int(round(i * SLOT_S * SR))
        c = mono[s:s + int(CLIP_S * SR)]
        peak = float(np.max(np.abs(c))) if c.size else 0.0
        if peak < max(1e-4, overall * 1e-3):
            clips.append(np.zeros(0))
            continue
        fade = min(c.size, int(0.02 * SR))
        c = c.copy()
        c[-fade:] *= np.linspace(1, 0, fade)
        clips.append(c)
    return clips

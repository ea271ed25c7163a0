"""Vocal one-shots: synthesised speech and sung vowels, and real recorded voices.

espeak-ng is a formant synthesiser; flite's ``awb``, ``rms`` and ``slt`` voices are
statistical voices trained on recorded speakers and ``kal16`` is a diphone voice (recorded
speech cut and joined), so between them the vocal class sees several kinds of voice source.

Real recorded voices (:func:`recorded_vocals`) come from two Debian packages, each grouped
by speaker so that training and test never share a voice:

* ``klettres-data`` (:data:`KLETTRES`): letters and syllables spoken by native speakers of
  20 languages (a folder per language), real microphone recordings with their room noise
  and lead-in, like vocal one-shots cut from a session;
* ``hedgewars-data`` (:data:`HEDGEWARS_VOICES`): 15 voice packs of shouted and sung game
  lines ("Amazing", "Incoming", "Ow", laughs and coughs: a folder per actor and character),
  like the shouts and ad-libs of a vocal sample pack.

Chops follow what a vocal slicer produces: 30% very short grains (5–60 ms), 30% syllables
(60–300 ms), 40% words/phrases (0.3–1.5 s), each starting where the voice is active, with
2 ms fades.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import numpy.typing as npt

from stemcrate.audio.features import FEATURE_SR

SR = FEATURE_SR
F64 = npt.NDArray[np.float64]

TEXTS = (
    "Hold on to the night, we are never going home.",
    "I can feel it coming in the air tonight.",
    "Take me higher, take me to the light.",
    "Every little thing is gonna be alright.",
    "She said the river runs deep and cold in winter.",
    "Do you remember the summer when we met?",
    "Turn it up, turn it up, let me hear you say yeah.",
    "The quick brown fox jumps over the lazy dog.",
    "Somewhere over the mountains the sun is rising.",
    "Nobody knows the trouble I have seen.",
    "Baby come back, I need you now.",
    "Check one two, check one two, microphone check.",
)
SUNG = ("aaaaaaah", "ooooooh", "oooh yeah", "la la la la", "na na na na", "heeeey",
        "mmmmmm", "eeeeeee", "whoa oh oh", "yeah yeah yeah", "doo doo doo", "ha ha ha")
TRAIN_VOICES = ("en+m1", "en+m3", "en+f1", "en+f2", "en-us+m2", "en-us+f5", "en+klatt",
                "en-gb-scotland+m4", "en+Andy", "en+Annie", "en+david", "en+linda")
TEST_VOICES = ("en-us+f3", "en+f4", "en-us+m7", "en+Michael", "en+steph", "en+grandpa")
FLITE_VOICES = ("kal16", "awb", "rms", "slt")

KLETTRES = Path("/usr/share/klettres")
HEDGEWARS_VOICES = Path("/usr/share/games/hedgewars/Data/Sounds/voices")
#: klettres languages held out (their speakers are never trained on); the rest train
KLETTRES_TEST = ("de", "fr", "it", "nl", "ru", "tn")
KLETTRES_TRAIN = ("ar", "cs", "da", "en", "en_GB", "es", "he", "hu", "lt", "ml", "nb", "nds",
                  "pt_BR", "uk")
#: hedgewars voice packs held out (Russian and Russian_pl may share an actor: both out)
HEDGEWARS_TEST = ("British", "Pirate", "Russian", "Russian_pl", "Singer", "Surfer")
HEDGEWARS_TRAIN = ("Classic", "Default", "Default_es", "Default_pl", "Default_ru",
                   "Default_uk", "HillBilly", "Mobster", "Robot")


def speak(text: str, voice: str, *, pitch: int, speed: int) -> F64:
    """espeak-ng ``text`` → mono float64 at 22 050 Hz."""
    exe = shutil.which("espeak-ng")
    if exe is None:
        raise RuntimeError("espeak-ng is not installed (Debian package espeak-ng)")
    import soundfile as sf

    with tempfile.TemporaryDirectory(prefix="stemcrate-voice-") as tmp:
        wav = Path(tmp) / "v.wav"
        subprocess.run([exe, "-v", voice, "-p", str(pitch), "-s", str(speed), "-w", str(wav),
                        text], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        y, sr = sf.read(str(wav), dtype="float64", always_2d=True)
    y = y.mean(axis=1)
    if sr != SR:
        from stemcrate.audio.features import resample

        y = resample(y, sr, SR)
    return y


def chop(y: F64, n: int, rng: np.random.Generator, sr: int = SR) -> list[F64]:
    """``n`` chops of ``y`` starting at active points (within 30 dB of the loudest frame)."""
    hop = int(0.005 * sr)
    frames = y[: y.size // hop * hop].reshape(-1, hop)
    if frames.shape[0] == 0:
        return []
    e = 10 * np.log10(np.mean(frames ** 2, axis=1) + 1e-12)
    active = np.flatnonzero(e > e.max() - 30)
    out: list[F64] = []
    for _ in range(n):
        r = rng.random()
        if r < 0.3:
            dur = float(np.exp(rng.uniform(np.log(0.005), np.log(0.06))))
        elif r < 0.6:
            dur = rng.uniform(0.06, 0.3)
        else:
            dur = rng.uniform(0.3, 1.5)
        s = int(active[rng.integers(0, active.size)]) * hop
        c = y[s:s + int(dur * sr)].copy()
        if c.size < int(0.004 * sr):
            continue
        f = min(int(0.002 * sr), c.size // 4)
        if f > 0:
            c[:f] *= np.linspace(0, 1, f)
            c[-f:] *= np.linspace(1, 0, f)
        out.append(c)
    return out


def speak_flite(text: str, voice: str, *, f0_hz: float, stretch: float) -> F64:
    """flite ``text`` with mean pitch ``f0_hz`` and durations × ``stretch`` → mono float64 at
    22 050 Hz."""
    exe = shutil.which("flite")
    if exe is None:
        raise RuntimeError("flite is not installed (Debian package flite)")
    import soundfile as sf

    with tempfile.TemporaryDirectory(prefix="stemcrate-voice-") as tmp:
        wav = Path(tmp) / "v.wav"
        subprocess.run([exe, "-voice", voice, "--setf", f"int_f0_target_mean={f0_hz:.0f}",
                        "--setf", f"duration_stretch={stretch:.2f}", "-t", text, "-o", str(wav)],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        y, sr = sf.read(str(wav), dtype="float64", always_2d=True)
    y = y.mean(axis=1)
    if sr != SR:
        from stemcrate.audio.features import resample

        y = resample(y, sr, SR)
    return y


def _say_espeak(text: str, voice: str, rng: np.random.Generator, sung: bool) -> F64:
    if sung:
        return speak(text, voice, pitch=int(rng.integers(20, 99)),
                     speed=int(rng.integers(60, 110)))
    return speak(text, voice, pitch=int(rng.integers(20, 90)), speed=int(rng.integers(120, 200)))


def _say_flite(text: str, voice: str, rng: np.random.Generator, sung: bool) -> F64:
    if sung:
        return speak_flite(text, voice, f0_hz=float(rng.uniform(100, 400)),
                           stretch=float(rng.uniform(1.5, 3.0)))
    return speak_flite(text, voice, f0_hz=float(rng.uniform(85, 240)),
                       stretch=float(rng.uniform(0.8, 1.3)))


def _chopped(voices: tuple[str, ...], per_voice: int, rng: np.random.Generator,
             say: Callable[[str, str, np.random.Generator, bool], F64]) -> list[F64]:
    out: list[F64] = []
    for v in voices:
        for _ in range(3):
            text = TEXTS[int(rng.integers(0, len(TEXTS)))]
            sung = SUNG[int(rng.integers(0, len(SUNG)))]
            speech = say(text, v, rng, False)
            vowels = say(sung, v, rng, True)
            per = per_voice // 6
            out += chop(speech, per, rng) + chop(vowels, per, rng)
    return out


def espeak_vocals(voices: tuple[str, ...], per_voice: int, rng: np.random.Generator) -> list[F64]:
    """Chopped espeak-ng speech and sustained vowels, ``per_voice`` chops per voice."""
    return _chopped(voices, per_voice, rng, _say_espeak)


def flite_vocals(voices: tuple[str, ...], per_voice: int, rng: np.random.Generator) -> list[F64]:
    """Chopped flite speech and sustained vowels, ``per_voice`` chops per voice."""
    return _chopped(voices, per_voice, rng, _say_flite)


def recorded_files(root: Path, groups: tuple[str, ...], per_group: int) -> list[Path]:
    """Up to ``per_group`` audio files (evenly spread over the sorted names) of each speaker
    folder ``root/<group>`` (searched recursively)."""
    out: list[Path] = []
    for g in groups:
        files = sorted(p for p in (root / g).rglob("*") if p.suffix in (".ogg", ".wav",
                                                                          ".flac"))
        if not files:
            raise FileNotFoundError(f"no recordings in {root / g}")
        if len(files) > per_group:
            files = [files[int(i)] for i in np.linspace(0, len(files) - 1, per_group)]
        out += files
    return out


def recorded_vocals(files: list[Path], chops: int, rng: np.random.Generator) -> list[F64]:
    """Each recording from its onset (:func:`stemcrate.audio.features.onset`, past its room
    noise), its first 1.6 s, plus ``chops`` grains or syllables cut from it (:func:`chop`)."""
    from stemcrate.audio.decode import load_audio
    from stemcrate.audio.features import onset

    out: list[F64] = []
    for f in files:
        y, _ = load_audio(f, sr=SR, mono=True)
        whole = np.asarray(y[0], dtype=np.float64)
        whole = whole[max(0, onset(whole) - int(0.005 * SR)):]
        if whole.size < int(0.01 * SR) or float(np.max(np.abs(whole))) <= 1e-4:
            continue
        out.append(whole[: int(1.6 * SR)])
        if chops:
            out += chop(whole, chops, rng)
    return out

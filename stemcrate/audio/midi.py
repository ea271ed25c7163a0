"""Audio to MIDI with Spotify Basic Pitch, run through its shipped ONNX model (no TensorFlow).

Public API
----------
``transcribe_midi(y, sr, *, kind=None, bpm=None, pitch_bends=False, device="auto")``
    -> :class:`MidiResult`

    ``y`` is audio as float ``(channels, samples)`` or ``(samples,)`` at ``sr`` Hz (any rate;
    mixed to mono and resampled to Basic Pitch's 22 050 Hz with soxr VHQ, the resampler
    :func:`stemcrate.audio.decode.load_audio` uses). ``kind`` picks parameters suited to a
    stem (one of :data:`MIDI_KINDS`: ``bass``, ``other``, ``vocals``, ``piano``, ``guitar``);
    ``None`` means Basic Pitch's own defaults, unchanged. ``bpm`` becomes the MIDI file's
    tempo (note times in seconds do not depend on it; the tick grid and a DAW's bar lines do).
    ``pitch_bends`` adds Basic Pitch's per-note pitch-bend curves (dropped where notes overlap,
    as Basic Pitch does).

:class:`MidiResult`
    ``.midi`` (``pretty_midi.PrettyMIDI``), ``.notes`` (list of :class:`Note`:
    ``(start_s, end_s, pitch, velocity)``, MIDI pitch 21..108, velocity 0..127), ``.note_count``,
    ``.pitch_range`` (``(lowest, highest)`` MIDI pitch, or ``None`` without notes), ``.kind``,
    ``.tempo_bpm``, ``.params`` (the :class:`MidiParams` used), ``.duration_s``,
    ``.to_bytes()`` (a Standard MIDI File) and ``.write(path)``.

``params_for(kind)`` -> :class:`MidiParams`; ``MIDI_KINDS``; ``model_path()`` (the ONNX file);
``model_info()`` -> ``{"name", "path", "sha256", "providers"}`` for a manifest's provenance;
``get_session(device="auto")`` -> the process-wide ``onnxruntime.InferenceSession``.

The model is loaded once per process and device and kept (Basic Pitch's first call pays for
loading). ONNX Runtime's ``CUDAExecutionProvider`` is used when it is available and ``device``
is ``auto`` or ``cuda``. The windowing, unwrapping and note creation are Basic Pitch's own
functions (``basic_pitch.inference.window_audio_file`` / ``unwrap_output`` and
``basic_pitch.note_creation.model_output_to_notes``), so with ``kind=None`` the notes are the
ones ``basic_pitch.inference.predict(path, ICASSP_2022 nmp.onnx)`` gives for the same samples.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import threading
from dataclasses import asdict, dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import numpy.typing as npt

from stemcrate.errors import InputError, ModelUnavailableError

if TYPE_CHECKING:
    import onnxruntime
    import pretty_midi

#: Basic Pitch's model rate, hop and window (``basic_pitch.constants``), repeated here so the
#: module imports without Basic Pitch; checked against it when the model loads.
MODEL_SAMPLE_RATE = 22050
FFT_HOP = 256
AUDIO_N_SAMPLES = MODEL_SAMPLE_RATE * 2 - FFT_HOP
N_OVERLAPPING_FRAMES = 30
#: Frames per second of Basic Pitch's output (one frame is ~11.6 ms).
FRAMES_PER_SECOND = MODEL_SAMPLE_RATE / FFT_HOP

MIDI_KINDS = ("bass", "other", "vocals", "piano", "guitar")

_ONNX_OUTPUTS = ("StatefulPartitionedCall:1", "StatefulPartitionedCall:2",
                 "StatefulPartitionedCall:0")  # note, onset, contour (Basic Pitch's order)
_ONNX_INPUT = "serving_default_input_2:0"
_BATCH_WINDOWS = 8  # windows per model call: ~2 s of audio each


class Note(NamedTuple):
    """One transcribed note: times in seconds, MIDI pitch, MIDI velocity (0..127)."""

    start_s: float
    end_s: float
    pitch: int
    velocity: int


@dataclass(frozen=True)
class MidiParams:
    """Basic Pitch's post-processing parameters (names as in ``basic_pitch.inference.predict``).

    ``monophonic`` is ours: overlapping notes are reduced to one line (the louder note wins a
    real overlap; a short overlap trims the earlier note), for sources that sing or play one
    note at a time. ``program`` is the General MIDI program of the written instrument.
    """

    onset_threshold: float = 0.5
    frame_threshold: float = 0.3
    minimum_note_length: float = 127.70  # milliseconds
    minimum_frequency: float | None = None  # Hz
    maximum_frequency: float | None = None  # Hz
    melodia_trick: bool = True
    monophonic: bool = False
    program: int = 4  # Electric Piano 1, Basic Pitch's own choice
    instrument_name: str = ""

    def predict_kwargs(self) -> dict[str, Any]:
        """The keyword arguments ``basic_pitch.inference.predict`` takes for these settings."""
        return {
            "onset_threshold": self.onset_threshold,
            "frame_threshold": self.frame_threshold,
            "minimum_note_length": self.minimum_note_length,
            "minimum_frequency": self.minimum_frequency,
            "maximum_frequency": self.maximum_frequency,
            "melodia_trick": self.melodia_trick,
        }


_DEFAULT = MidiParams()
_KIND_PARAMS: dict[str, MidiParams] = {
    # Bass guitar/synth bass: B0 (5-string, 30.9 Hz) up to ~G4; one note at a time; the upper
    # limit keeps harmonics of low notes from becoming notes of their own.
    "bass": MidiParams(onset_threshold=0.5, frame_threshold=0.3, minimum_note_length=100.0,
                       minimum_frequency=30.0, maximum_frequency=400.0, monophonic=True,
                       program=33, instrument_name="bass"),
    # Sung melody: C2..C6, one line, fewer short notes (vibrato and consonants otherwise turn
    # into blips), a higher onset threshold for the same reason.
    "vocals": MidiParams(onset_threshold=0.55, frame_threshold=0.35, minimum_note_length=150.0,
                         minimum_frequency=65.0, maximum_frequency=1050.0, monophonic=True,
                         program=54, instrument_name="vocals"),
    # Everything else in a mix: polyphonic keys, pads, leads: Basic Pitch's defaults.
    "other": replace(_DEFAULT, instrument_name="other"),
    # Piano (6-stem model): full 88-key range, shorter notes allowed (fast runs).
    "piano": MidiParams(onset_threshold=0.5, frame_threshold=0.3, minimum_note_length=80.0,
                        minimum_frequency=27.0, maximum_frequency=4300.0, program=0,
                        instrument_name="piano"),
    # Guitar (6-stem model): B1 (7-string/drop tunings) to the 24th fret of high E (E6).
    "guitar": MidiParams(onset_threshold=0.5, frame_threshold=0.3, minimum_note_length=100.0,
                         minimum_frequency=60.0, maximum_frequency=1400.0, program=25,
                         instrument_name="guitar"),
}


def params_for(kind: str | None) -> MidiParams:
    """The parameters used for a stem ``kind`` (``None``: Basic Pitch's defaults)."""
    if kind is None:
        return _DEFAULT
    try:
        return _KIND_PARAMS[kind]
    except KeyError:
        raise ValueError(
            f"no MIDI settings for stem kind {kind!r}; use one of {', '.join(MIDI_KINDS)}"
        ) from None


@dataclass
class MidiResult:
    """What :func:`transcribe_midi` returns (see the module docstring)."""

    midi: pretty_midi.PrettyMIDI
    notes: list[Note]
    kind: str | None
    tempo_bpm: float
    params: MidiParams
    duration_s: float

    @property
    def note_count(self) -> int:
        return len(self.notes)

    @property
    def pitch_range(self) -> tuple[int, int] | None:
        if not self.notes:
            return None
        pitches = [n.pitch for n in self.notes]
        return (min(pitches), max(pitches))

    def to_bytes(self) -> bytes:
        """The transcription as a Standard MIDI File (``.mid`` bytes)."""
        buf = io.BytesIO()
        self.midi.write(buf)
        return buf.getvalue()

    def write(self, path: str | os.PathLike[str]) -> Path:
        """Write the ``.mid`` file to ``path`` (atomically: temp file + rename)."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.tmp")
        tmp.write_bytes(self.to_bytes())
        os.replace(tmp, target)
        return target

    def summary(self) -> dict[str, Any]:
        """Plain data for a manifest / catalogue row / ``--json``."""
        return {
            "kind": self.kind,
            "note_count": self.note_count,
            "pitch_range": list(self.pitch_range) if self.pitch_range else None,
            "tempo_bpm": self.tempo_bpm,
            "duration_s": round(self.duration_s, 3),
            "params": asdict(self.params),
        }


# ----------------------------------------------------------------------------- the model

_SESSIONS: dict[str, onnxruntime.InferenceSession] = {}
_SESSION_LOCK = threading.Lock()


def _import_basic_pitch() -> None:
    """Import basic_pitch quietly (its ``__init__`` warns on the root logger about TF/CoreML)."""
    previous = logging.root.manager.disable
    logging.disable(logging.WARNING)
    try:
        import basic_pitch  # noqa: F401
        import basic_pitch.inference  # noqa: F401
    except ImportError as exc:
        raise ModelUnavailableError(
            f"Basic Pitch is not installed ({exc}); install it without TensorFlow: "
            "pip install --no-deps basic-pitch (plus onnxruntime, librosa, resampy, "
            "pretty_midi, mir_eval, scipy)"
        ) from exc
    finally:
        logging.disable(previous)


def model_path() -> Path:
    """The ONNX model Basic Pitch ships in its wheel (``saved_models/icassp_2022/nmp.onnx``)."""
    _import_basic_pitch()
    import basic_pitch

    path = Path(basic_pitch.build_icassp_2022_model_path(basic_pitch.FilenameSuffix.onnx))
    if not path.is_file():
        raise ModelUnavailableError(
            f"Basic Pitch ONNX model not found at {path}; reinstall basic-pitch "
            "(pip install --force-reinstall --no-deps basic-pitch)"
        )
    return path


@lru_cache(maxsize=1)
def _model_sha256() -> str:
    return hashlib.sha256(model_path().read_bytes()).hexdigest()


def _providers(device: str) -> list[str]:
    import onnxruntime as ort

    available = ort.get_available_providers()
    if device not in ("auto", "cpu", "cuda"):
        raise ValueError(f"device must be auto, cpu or cuda, not {device!r}")
    if device == "cuda" and "CUDAExecutionProvider" not in available:
        raise ModelUnavailableError(
            "Basic Pitch on cuda: ONNX Runtime here has no CUDAExecutionProvider "
            f"(available: {', '.join(available)}); install onnxruntime-gpu or use device=cpu"
        )
    if device != "cpu" and "CUDAExecutionProvider" in available:
        return ["CUDAExecutionProvider", "CPUExecutionProvider"]
    return ["CPUExecutionProvider"]


def get_session(device: str = "auto") -> onnxruntime.InferenceSession:
    """The process-wide ONNX Runtime session for Basic Pitch on ``device`` (loaded once)."""
    providers = _providers(device)
    key = providers[0]
    with _SESSION_LOCK:
        session = _SESSIONS.get(key)
        if session is None:
            import onnxruntime as ort

            path = model_path()
            _check_constants()
            opts = ort.SessionOptions()
            opts.log_severity_level = 3
            try:
                session = ort.InferenceSession(str(path), sess_options=opts, providers=providers)
            except Exception as exc:  # noqa: BLE001 - any load failure means "unavailable"
                raise ModelUnavailableError(
                    f"Basic Pitch ONNX model {path} could not be loaded: {exc}"
                ) from exc
            _SESSIONS[key] = session
        return session


def model_info(device: str = "auto") -> dict[str, Any]:
    """Provenance for manifests: model name, file, SHA-256 of its bytes, providers in use."""
    session = get_session(device)
    return {
        "name": "basic-pitch/icassp_2022/nmp.onnx",
        "path": str(model_path()),
        "sha256": _model_sha256(),
        "providers": list(session.get_providers()),
    }


def _check_constants() -> None:
    from basic_pitch import constants as c

    ours = (MODEL_SAMPLE_RATE, FFT_HOP, AUDIO_N_SAMPLES)
    theirs = (c.AUDIO_SAMPLE_RATE, c.FFT_HOP, c.AUDIO_N_SAMPLES)
    if ours != theirs:
        raise ModelUnavailableError(
            f"installed basic-pitch uses rate/hop/window {theirs}, stemcrate expects {ours}"
        )


# ----------------------------------------------------------------------------- inference


def _to_model_input(y: npt.NDArray[np.floating], sr: int) -> npt.NDArray[np.float32]:
    from stemcrate.audio.decode import mono_at

    return mono_at(y, sr, MODEL_SAMPLE_RATE)


def model_output(
    y: npt.NDArray[np.floating], sr: int, *, device: str = "auto"
) -> dict[str, npt.NDArray[np.float32]]:
    """Basic Pitch's raw posteriorgrams for ``y`` (any rate, mono or ``(channels, samples)``).

    Returns ``{"note": (frames, 88), "onset": (frames, 88), "contour": (frames, 264)}``,
    float32 in [0, 1], at :data:`FRAMES_PER_SECOND` frames per second.
    """
    _import_basic_pitch()
    from basic_pitch.inference import unwrap_output, window_audio_file

    audio = _to_model_input(y, sr)
    if audio.size == 0:
        raise InputError("<array>", "no audio samples to transcribe")
    session = get_session(device)
    overlap_len = N_OVERLAPPING_FRAMES * FFT_HOP
    hop_size = AUDIO_N_SAMPLES - overlap_len
    original_length = audio.shape[0]
    padded = np.concatenate([np.zeros(overlap_len // 2, dtype=np.float32), audio])
    windows = [w for w, _ in window_audio_file(padded, hop_size)]  # each (AUDIO_N_SAMPLES, 1)
    outputs: dict[str, list[npt.NDArray[np.float32]]] = {"note": [], "onset": [], "contour": []}
    for i in range(0, len(windows), _BATCH_WINDOWS):
        batch = np.stack(windows[i : i + _BATCH_WINDOWS]).astype(np.float32)
        note, onset, contour = session.run(list(_ONNX_OUTPUTS), {_ONNX_INPUT: batch})
        outputs["note"].append(note)
        outputs["onset"].append(onset)
        outputs["contour"].append(contour)
    return {
        k: unwrap_output(np.concatenate(v), original_length, N_OVERLAPPING_FRAMES)
        for k, v in outputs.items()
    }


def transcribe_midi(
    y: npt.NDArray[np.floating],
    sr: int,
    *,
    kind: str | None = None,
    bpm: float | None = None,
    pitch_bends: bool = False,
    device: str = "auto",
    params: MidiParams | None = None,
) -> MidiResult:
    """Transcribe ``y`` (float, ``(channels, samples)`` or ``(samples,)``, ``sr`` Hz) to MIDI.

    ``kind`` picks :func:`params_for` settings (``None``: Basic Pitch's defaults); ``params``
    overrides them entirely. ``bpm`` (> 0) is written as the MIDI tempo (default 120, Basic
    Pitch's). ``pitch_bends`` includes pitch-bend events. Raises :class:`InputError` for empty
    audio and ``ValueError`` for an unknown kind.
    """
    _import_basic_pitch()
    from basic_pitch.note_creation import model_output_to_notes

    chosen = params if params is not None else params_for(kind)
    tempo = float(bpm) if bpm is not None else 120.0
    if not np.isfinite(tempo) or tempo <= 0:
        raise ValueError(f"bpm must be a positive number, got {bpm!r}")
    out = model_output(y, sr, device=device)
    min_note_len = int(np.round(chosen.minimum_note_length / 1000 * FRAMES_PER_SECOND))
    _, events = model_output_to_notes(
        out,
        onset_thresh=chosen.onset_threshold,
        frame_thresh=chosen.frame_threshold,
        min_note_len=min_note_len,
        min_freq=chosen.minimum_frequency,
        max_freq=chosen.maximum_frequency,
        include_pitch_bends=pitch_bends,
        multiple_pitch_bends=False,
        melodia_trick=chosen.melodia_trick,
        midi_tempo=tempo,
    )
    events = [(float(s), float(e), int(p), float(a), b) for s, e, p, a, b in events]
    if chosen.monophonic:
        events = _monophonic(events)
    midi = _events_to_midi(events, tempo=tempo, params=chosen, pitch_bends=pitch_bends)
    notes = sorted(
        (Note(round(n.start, 6), round(n.end, 6), int(n.pitch), int(n.velocity))
         for inst in midi.instruments for n in inst.notes),
        key=lambda n: (n.start_s, n.pitch),
    )
    duration = np.asarray(y).shape[-1] / float(sr)
    return MidiResult(midi=midi, notes=notes, kind=kind, tempo_bpm=tempo, params=chosen,
                      duration_s=float(duration))


_Event = tuple[float, float, int, float, Any]


def _monophonic(events: list[_Event]) -> list[_Event]:
    """Reduce overlapping notes to one line: in a real overlap (more than half of the shorter
    note) the louder note wins; otherwise the earlier note is trimmed to the later's start."""
    kept: list[_Event] = []
    for ev in sorted(events, key=lambda e: (e[0], -e[3])):
        if not kept or ev[0] >= kept[-1][1]:
            kept.append(ev)
            continue
        prev = kept[-1]
        overlap = min(prev[1], ev[1]) - ev[0]
        shorter = min(prev[1] - prev[0], ev[1] - ev[0])
        if overlap > 0.5 * shorter:
            if ev[3] > prev[3]:
                kept[-1] = ev
        else:
            kept[-1] = (prev[0], ev[0], prev[2], prev[3], prev[4])
            kept.append(ev)
    return kept


def _events_to_midi(
    events: list[_Event], *, tempo: float, params: MidiParams, pitch_bends: bool
) -> pretty_midi.PrettyMIDI:
    from basic_pitch.note_creation import note_events_to_midi

    midi = note_events_to_midi(events if pitch_bends else
                               [(s, e, p, a, None) for s, e, p, a, _ in events],
                               multiple_pitch_bends=False, midi_tempo=tempo)
    if not midi.instruments:
        import pretty_midi

        midi.instruments.append(pretty_midi.Instrument(program=params.program))
    for inst in midi.instruments:
        inst.program = params.program
        inst.name = params.instrument_name
    return midi

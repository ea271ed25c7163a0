"""Writers for lyrics: JSON, LRC (line-synced), enhanced LRC (word-synced) and SRT.

Public API
----------
``to_json(result) -> str``
    ``LyricsResult.to_dict()`` as JSON: language, text, has_lyrics, engine, model,
    duration_s, speech_regions and ``segments`` (text, start, end, avg_logprob,
    no_speech_prob, compression_ratio, ``words``: text, start, end, probability); seconds.
``to_lrc(result, *, enhanced=False) -> str``
    One ``[mm:ss.xx]line`` per segment. ``enhanced=True`` adds word times in the A2 /
    "enhanced LRC" form: ``[mm:ss.xx]<mm:ss.xx>word <mm:ss.xx>word … <mm:ss.xx>`` (the last
    tag is where the line's last word ends). Header tags: ``[la:xx]`` (language, when known)
    and ``[re:stemcrate]``. Without lyrics, only the header.
``to_srt(result) -> str``
    Numbered cues ``HH:MM:SS,mmm --> HH:MM:SS,mmm``, one per segment, long lines wrapped at
    42 characters; empty string without lyrics.
``lrc_timestamp(seconds)`` / ``srt_timestamp(seconds)`` format one time.
``write_lyrics(result, directory, stem) -> dict[str, Path]`` writes all four files
(``<stem>.lyrics.json``, ``<stem>.lrc``, ``<stem>.enhanced.lrc``, ``<stem>.srt``) atomically
and returns them by format name (``json``, ``lrc``, ``enhanced_lrc``, ``srt``).
"""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path

from stemcrate.audio.lyrics import LyricsResult, Segment

SRT_LINE_WIDTH = 42


def lrc_timestamp(seconds: float) -> str:
    """``mm:ss.xx`` (minutes grow past 99 when needed), rounded to centiseconds."""
    cs = max(0, int(round(seconds * 100)))
    minutes, cs = divmod(cs, 6000)
    return f"{minutes:02d}:{cs // 100:02d}.{cs % 100:02d}"


def srt_timestamp(seconds: float) -> str:
    """``HH:MM:SS,mmm``, rounded to milliseconds."""
    ms = max(0, int(round(seconds * 1000)))
    hours, ms = divmod(ms, 3_600_000)
    minutes, ms = divmod(ms, 60_000)
    secs, ms = divmod(ms, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d},{ms:03d}"


def to_json(result: LyricsResult) -> str:
    """The result as pretty-printed JSON (UTF-8 text, not ASCII-escaped)."""
    return json.dumps(result.to_dict(), indent=2, ensure_ascii=False) + "\n"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _header(result: LyricsResult) -> list[str]:
    lines = []
    if result.language:
        lines.append(f"[la:{result.language}]")
    lines.append("[re:stemcrate]")
    return lines


def _enhanced_line(segment: Segment) -> str:
    if not segment.words:
        return f"[{lrc_timestamp(segment.start)}]{_one_line(segment.text)}"
    parts = [f"<{lrc_timestamp(w.start)}>{_one_line(w.text)}" for w in segment.words]
    end = f"<{lrc_timestamp(segment.words[-1].end)}>"
    return f"[{lrc_timestamp(segment.start)}]" + " ".join(parts) + " " + end


def to_lrc(result: LyricsResult, *, enhanced: bool = False) -> str:
    """LRC text for ``result``: line-synced, or word-synced when ``enhanced``."""
    lines = _header(result)
    for segment in sorted(result.segments, key=lambda s: s.start):
        if enhanced:
            lines.append(_enhanced_line(segment))
        else:
            lines.append(f"[{lrc_timestamp(segment.start)}]{_one_line(segment.text)}")
    return "\n".join(lines) + "\n"


def to_srt(result: LyricsResult) -> str:
    """SubRip text for ``result`` (one cue per segment; empty without lyrics)."""
    cues: list[str] = []
    for i, segment in enumerate(sorted(result.segments, key=lambda s: s.start), start=1):
        end = max(segment.end, segment.start + 0.001)
        body = "\n".join(textwrap.wrap(_one_line(segment.text), SRT_LINE_WIDTH)) or "…"
        cues.append(f"{i}\n{srt_timestamp(segment.start)} --> {srt_timestamp(end)}\n{body}\n")
    return "\n".join(cues)


def write_lyrics(result: LyricsResult, directory: str | os.PathLike[str],
                 stem: str) -> dict[str, Path]:
    """Write JSON, LRC, enhanced LRC and SRT for ``result`` into ``directory``."""
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    outputs = {
        "json": (folder / f"{stem}.lyrics.json", to_json(result)),
        "lrc": (folder / f"{stem}.lrc", to_lrc(result)),
        "enhanced_lrc": (folder / f"{stem}.enhanced.lrc", to_lrc(result, enhanced=True)),
        "srt": (folder / f"{stem}.srt", to_srt(result)),
    }
    written: dict[str, Path] = {}
    for name, (path, text) in outputs.items():
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
        written[name] = path
    return written

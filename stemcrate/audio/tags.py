"""Reading a file's tags (title, artist, album …) with a file-name fallback.

Public API
----------
``read_tags(path) -> dict[str, str | int | None]``
    Always returns the same ten keys (:data:`TAG_KEYS`)::

        title, artist, album, album_artist, genre, comment, bpm_tag, key_tag  -> str | None
        year, track_number                                                    -> int | None

    It never raises: a missing file, an unknown format or broken tags give ``None`` values
    (and the file-name fallback for title/artist). ``title`` is never ``None``.
``title_from_filename(path) -> tuple[str | None, str]``
    The ``(artist, title)`` fallback on its own.

Where values come from
----------------------
mutagen reads ID3 (mp3, and the ``id3 ``/``ID3 `` chunk of wav and aiff), MP4 atoms (m4a,
mp4, aac in mp4), Vorbis comments (flac, ogg vorbis/opus/flac), APEv2 and ASF (wma). WAV
files without ID3 are read from their RIFF ``LIST/INFO`` chunk (INAM, IART, IPRD, IGNR,
ICRD, ICMT, ITRK/IPRT), which is where FFmpeg and most DAWs write them. Several values of
one field are joined with ``"; "``. Text is returned exactly as stored, apart from
surrounding whitespace and NUL characters: escaping it for HTML is the dashboard's job.

``year`` is the first 4-digit year (1000–2999) in the date field ("2019-04-02" → 2019);
``track_number`` the number before any "/" ("3/12" → 3), ``None`` unless a positive integer.
``bpm_tag`` and ``key_tag`` are the tagged tempo (ID3 TBPM, MP4 tmpo, Vorbis BPM/TEMPO) and
initial key (ID3 TKEY, Vorbis INITIALKEY/KEY, iTunes initialkey) as text, unvalidated.

File-name fallback (when there is no title tag, and for artist when there is no artist
tag): take the name without its extension; if it has no spaces, underscores count as
spaces; drop a leading 1–2 digit track number followed by a separator ("01 - ", "07. ",
"3_"); split once at the first " - ": the left part is the artist, the right the title.
So ``"01 - My Song_final.wav"`` → title ``"My Song_final"`` (no artist), and
``"Kevin_MacLeod_-_Vibe_Ace.ogg"`` → artist ``"Kevin MacLeod"``, title ``"Vibe Ace"``.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Iterable
from pathlib import Path
from typing import Any

__all__ = ["TAG_KEYS", "read_tags", "title_from_filename"]

TAG_KEYS = ("title", "artist", "album", "album_artist", "genre", "year", "track_number",
            "comment", "bpm_tag", "key_tag")

_TEXT_KEYS = ("title", "artist", "album", "album_artist", "genre", "comment", "bpm_tag",
              "key_tag")

# field -> names to try, in order, for each tag family
_ID3 = {
    "title": ["TIT2"], "artist": ["TPE1"], "album": ["TALB"], "album_artist": ["TPE2"],
    "genre": ["TCON"], "year": ["TDRC", "TYER", "TDOR", "TORY"], "track_number": ["TRCK"],
    "bpm_tag": ["TBPM"], "key_tag": ["TKEY"],
}
_ID3_TXXX = {"comment": ["comment", "description"], "bpm_tag": ["bpm", "tempo"],
             "key_tag": ["initialkey", "key"], "album_artist": ["album artist", "albumartist"]}
_MP4 = {
    "title": ["©nam"], "artist": ["©ART"], "album": ["©alb"], "album_artist": ["aART"],
    "genre": ["©gen", "gnre"], "year": ["©day"], "track_number": ["trkn"],
    "comment": ["©cmt", "desc"], "bpm_tag": ["tmpo"],
    "key_tag": ["----:com.apple.iTunes:initialkey", "----:com.apple.iTunes:KEY"],
}
_VORBIS = {
    "title": ["title"], "artist": ["artist"], "album": ["album"],
    "album_artist": ["albumartist", "album artist", "album_artist"], "genre": ["genre"],
    "year": ["date", "year", "originaldate"], "track_number": ["tracknumber", "track"],
    "comment": ["comment", "description"], "bpm_tag": ["bpm", "tempo"],
    "key_tag": ["initialkey", "key"],
}
_ASF = {
    "title": ["Title"], "artist": ["Author", "WM/AlbumArtist"], "album": ["WM/AlbumTitle"],
    "album_artist": ["WM/AlbumArtist"], "genre": ["WM/Genre"], "year": ["WM/Year"],
    "track_number": ["WM/TrackNumber"], "comment": ["Description"],
    "bpm_tag": ["WM/BeatsPerMinute"], "key_tag": ["WM/InitialKey"],
}
_RIFF_INFO = {
    b"INAM": "title", b"IART": "artist", b"IPRD": "album", b"IGNR": "genre", b"ICRD": "year",
    b"ICMT": "comment", b"ITRK": "track_number", b"IPRT": "track_number",
}


def read_tags(path: Path) -> dict[str, str | int | None]:
    """Tags of the audio file at ``path`` (see the module docstring); never raises."""
    path = Path(path)
    raw: dict[str, list[str]] = {}
    try:
        raw = _read_mutagen(path)
    except Exception:  # noqa: BLE001 - odd tags must never stop an ingest
        raw = {}
    if not raw and path.suffix.lower() in {".wav", ".wave"}:
        try:
            raw = _read_riff_info(path)
        except Exception:  # noqa: BLE001
            raw = {}
    out: dict[str, str | int | None] = {k: None for k in TAG_KEYS}
    for key in _TEXT_KEYS:
        out[key] = _join(raw.get(key, []))
    out["year"] = _parse_year(raw.get("year", []))
    out["track_number"] = _parse_track(raw.get("track_number", []))
    fallback_artist, fallback_title = title_from_filename(path)
    if out["title"] is None:
        out["title"] = fallback_title
    if out["artist"] is None and fallback_artist is not None:
        out["artist"] = fallback_artist
    return out


def title_from_filename(path: Path | str) -> tuple[str | None, str]:
    """``(artist or None, title)`` guessed from a file name (rule in the module docstring)."""
    name = Path(path).name
    stem = Path(name).stem
    text = stem
    if " " not in text:
        text = text.replace("_", " ")
    text = re.sub(r"\s+", " ", text).strip()
    numbered = re.match(r"^\d{1,2}(?:\s*[-.)_]\s*|\s+)(?=\S)", text)
    if numbered:
        text = text[numbered.end():].strip()
    artist: str | None = None
    if " - " in text:
        left, right = (part.strip() for part in text.split(" - ", 1))
        if left and right:
            artist, text = left, right
    title = text.strip(" -") or stem.strip() or name
    return artist, title


# ----------------------------------------------------------------------------- mutagen


def _read_mutagen(path: Path) -> dict[str, list[str]]:
    import mutagen

    f = mutagen.File(str(path))
    if f is None or f.tags is None:
        return {}
    tags = f.tags
    from mutagen.id3 import ID3

    if isinstance(tags, ID3):
        return _from_id3(tags)
    cls = type(tags).__name__
    if cls == "MP4Tags":
        return _from_mapping(tags, _MP4)
    if cls == "ASFTags":
        return _from_mapping(tags, _ASF)
    # Vorbis comments (FLAC, Ogg), APEv2: case-insensitive keys
    return _from_mapping(tags, _VORBIS, case_insensitive=True)


def _from_id3(tags: Any) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for key, frame_ids in _ID3.items():
        for frame_id in frame_ids:
            values = [str(v) for frame in tags.getall(frame_id) for v in _frame_text(frame)]
            if any(v.strip("\x00 ") for v in values):
                out[key] = values
                break
    comments = tags.getall("COMM")
    plain = [c for c in comments if not str(getattr(c, "desc", "")).strip()]
    chosen = plain or [c for c in comments
                       if not str(getattr(c, "desc", "")).lower().startswith("itun")]
    values = [str(v) for c in chosen for v in _frame_text(c)]
    if any(v.strip() for v in values):
        out["comment"] = values
    txxx = {str(getattr(fr, "desc", "")).strip().lower(): fr for fr in tags.getall("TXXX")}
    for key, descs in _ID3_TXXX.items():
        if key in out:
            continue
        for desc in descs:
            if desc in txxx:
                vals = [str(v) for v in _frame_text(txxx[desc])]
                if any(v.strip() for v in vals):
                    out[key] = vals
                    break
    return out


def _frame_text(frame: Any) -> list[Any]:
    text = getattr(frame, "text", None)
    if text is None:
        return [str(frame)]
    return list(text) if isinstance(text, (list, tuple)) else [text]


def _from_mapping(tags: Any, names: dict[str, list[str]], *,
                  case_insensitive: bool = False) -> dict[str, list[str]]:
    keys: dict[str, Any] = {}
    for k in list(tags.keys()):
        keys[k.lower() if case_insensitive else k] = k
    out: dict[str, list[str]] = {}
    for field, candidates in names.items():
        for cand in candidates:
            real = keys.get(cand.lower() if case_insensitive else cand)
            if real is None:
                continue
            try:
                texts = [_to_text(v) for v in _as_list(tags[real])]
            except Exception:  # noqa: BLE001 - one broken field must not hide the others
                continue
            values = [v for v in texts if v is not None]
            if any(v.strip() for v in values):
                out[field] = values
                break
    return out


def _as_list(value: Any) -> list[Any]:
    if isinstance(value, (list, tuple)) and not _is_pair(value):
        return list(value)
    return [value]


def _is_pair(value: Any) -> bool:
    return isinstance(value, tuple) and len(value) == 2 and all(
        isinstance(v, int) for v in value)


def _to_text(value: Any) -> str | None:
    if _is_pair(value):  # MP4 trkn/disk: (number, total)
        return str(value[0])
    if isinstance(value, (bytes, bytearray)):  # MP4 freeform atoms
        return _decode(bytes(value))
    value_attr = getattr(value, "value", None)  # APEv2 / ASF value objects
    if isinstance(value_attr, (str, int)):
        return str(value_attr)
    if isinstance(value_attr, (bytes, bytearray)):
        return _decode(bytes(value_attr))
    return str(value)


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


# ----------------------------------------------------------------------------- RIFF INFO


def _read_riff_info(path: Path, *, limit: int = 64 * 1024 * 1024) -> dict[str, list[str]]:
    """RIFF ``LIST/INFO`` fields of a WAV file (walks the top-level chunks only)."""
    out: dict[str, list[str]] = {}
    with path.open("rb") as fh:
        header = fh.read(12)
        if len(header) < 12 or header[:4] not in (b"RIFF", b"RF64") or header[8:12] != b"WAVE":
            return out
        pos = 12
        while pos < limit:
            fh.seek(pos)
            head = fh.read(8)
            if len(head) < 8:
                break
            cid, size = head[:4], struct.unpack("<I", head[4:])[0]
            if cid == b"LIST":
                body = fh.read(min(size, 1024 * 1024))
                if body[:4] == b"INFO":
                    _parse_info(body[4:], out)
            pos += 8 + size + (size & 1)
    return out


def _parse_info(body: bytes, out: dict[str, list[str]]) -> None:
    i = 0
    while i + 8 <= len(body):
        cid, size = body[i:i + 4], struct.unpack("<I", body[i + 4:i + 8])[0]
        value = body[i + 8:i + 8 + size].split(b"\x00", 1)[0]
        field = _RIFF_INFO.get(cid)
        if field and value.strip() and field not in out:
            out[field] = [_decode(value)]
        i += 8 + size + (size & 1)


# ----------------------------------------------------------------------------- values


def _join(values: Iterable[str]) -> str | None:
    cleaned = [v.strip().strip("\x00").strip() for v in values]
    cleaned = [v for v in cleaned if v]
    unique = list(dict.fromkeys(cleaned))
    return "; ".join(unique) if unique else None


def _parse_year(values: Iterable[str]) -> int | None:
    for v in values:
        m = re.search(r"(?<!\d)([12]\d{3})(?!\d)", str(v))
        if m:
            return int(m.group(1))
    return None


def _parse_track(values: Iterable[str]) -> int | None:
    for v in values:
        m = re.match(r"^\s*(\d+)\s*(?:/.*)?$", str(v))
        if m:
            n = int(m.group(1))
            return n if 0 < n < 100000 else None
    return None

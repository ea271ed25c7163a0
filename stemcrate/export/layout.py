"""What an export contains and what each file is called.

Selection: :func:`select_tracks` and :func:`select_samples` turn ids and filters into rows of
the catalogue views (``tracks``, ``samples``), always with parameterised SQL.

Naming: every name that comes from metadata (titles, artists, labels, stem names) goes through
:func:`safe_name`, so it is one plain file name (no separators, no ``..``, no control
characters, no reserved device names, length-limited); :class:`UniqueNames` makes names in one
folder unique (case-insensitively, as on macOS and Windows); :func:`sample_file_name` builds
sample-pack names such as ``Kick_01_C1_90bpm.wav`` or ``Vocal_03_Fmin_90bpm.wav``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from stemcrate.storage.catalogue import Catalogue

FILTER_KEYS = ("search", "label", "tag", "stem", "bpm_min", "bpm_max", "key")

_FORBIDDEN = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]')
_RESERVED = {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$",
             *(f"COM{i}" for i in range(10)), *(f"LPT{i}" for i in range(10))}
NAME_LIMIT_BYTES = 120  # well under the 255-byte limit of common filesystems, with suffixes

DRUM_LABELS = frozenset({"kick", "snare", "clap", "hihat_closed", "hihat_open", "cymbal", "tom",
                         "percussion"})
LABEL_NAMES = {"kick": "Kick", "snare": "Snare", "clap": "Clap", "hihat_closed": "ClosedHat",
               "hihat_open": "OpenHat", "cymbal": "Cymbal", "tom": "Tom",
               "percussion": "Perc", "bass": "Bass", "vocal": "Vocal", "melodic": "Melodic",
               "fx": "FX"}
NOTE_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")


def safe_name(text: object, *, fallback: str = "untitled",
              limit_bytes: int = NAME_LIMIT_BYTES) -> str:
    """``text`` as one safe file or folder name (never empty, never ``.``/``..``).

    Path separators, Windows-forbidden characters (``<>:"|?*``) and control characters become
    ``_``; other control/format characters are dropped; whitespace runs collapse to one space;
    leading/trailing spaces and dots are removed; Windows device names (``CON``, ``NUL``,
    ``COM1`` …) get a leading ``_``; the result is cut to ``limit_bytes`` of UTF-8.
    """
    s = unicodedata.normalize("NFC", "" if text is None else str(text))
    s = "".join("_" if unicodedata.category(ch) == "Cc" and not ch.isspace() else ch
                for ch in s if unicodedata.category(ch) not in ("Cf", "Cs", "Co", "Cn"))
    s = _FORBIDDEN.sub("_", re.sub(r"\s+", " ", s))
    s = re.sub(r"\.{2,}", ".", s).strip(" .")
    if not s:
        s = fallback
    if s.split(".")[0].strip().upper() in _RESERVED:
        s = "_" + s
    return _cut(s, limit_bytes)


def _cut(s: str, limit_bytes: int) -> str:
    raw = s.encode("utf-8")
    if len(raw) <= limit_bytes:
        return s
    cut = raw[:limit_bytes].decode("utf-8", errors="ignore")
    return cut.rstrip(" .") or "untitled"


class UniqueNames:
    """Hands out names unique within one folder: ``a.wav``, ``a (2).wav``, ``a (3).wav`` …

    Comparison ignores case, so the names stay distinct on case-insensitive filesystems.
    """

    def __init__(self, taken: Iterable[str] = ()) -> None:
        self._taken = {t.casefold() for t in taken}

    def claim(self, name: str) -> str:
        stem, dot, ext = name.rpartition(".")
        if not dot or not stem:
            stem, ext = name, ""
        ext = f".{ext}" if ext else ""
        candidate, n = name, 1
        while candidate.casefold() in self._taken:
            n += 1
            candidate = f"{_cut(stem, NAME_LIMIT_BYTES - 8)} ({n}){ext}"
        self._taken.add(candidate.casefold())
        return candidate


# -- musical names -------------------------------------------------------------------------
def note_name(midi_note: int) -> str:
    """Scientific pitch name of a MIDI note (60 → ``C4``, 36 → ``C2``, 61 → ``C#4``)."""
    return f"{NOTE_NAMES[midi_note % 12]}{midi_note // 12 - 1}"


_NOTE_RE = re.compile(r"^\s*([A-Ga-g])\s*([#♯b♭s]?)\s*(-?\d+)\s*$")
_KEY_RE = re.compile(r"^\s*([A-Ga-g])\s*([#♯b♭]?)[\s:_-]*(.*?)\s*$")
_PITCH = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}


def parse_note(text: str | None) -> int | None:
    """MIDI number of a note name such as ``C4``, ``F#2``, ``Bb1`` (``None`` if not a note)."""
    if not text:
        return None
    m = _NOTE_RE.match(text)
    if not m:
        return None
    pc = _PITCH[m.group(1).upper()] + {"#": 1, "♯": 1, "s": 1, "b": -1, "♭": -1}.get(
        m.group(2), 0)
    midi = (int(m.group(3)) + 1) * 12 + pc
    return midi if 0 <= midi <= 127 else None


def short_key(key: str | None) -> str | None:
    """A key the way sample packs write it: ``F minor``/``F:min``/``Fm`` → ``Fmin``."""
    if not key:
        return None
    m = _KEY_RE.match(key)
    if not m:
        return None
    accidental = {"#": "#", "♯": "#", "b": "b", "♭": "b"}.get(m.group(2), "")
    mode = m.group(3).lower()
    if mode in ("", "maj", "major", "ionian"):
        suffix = "maj"
    elif mode in ("m", "min", "minor", "aeolian"):
        suffix = "min"
    else:
        return None
    return f"{m.group(1).upper()}{accidental}{suffix}"


def bpm_text(bpm: float | None) -> str | None:
    """``90.02`` → ``90bpm`` (sample packs round the tempo to whole BPM)."""
    if bpm is None or not bpm > 0:
        return None
    return f"{int(round(bpm))}bpm"


def label_display(label: str | None) -> str:
    """The word a sample pack uses for a label (``hihat_closed`` → ``ClosedHat``)."""
    if not label:
        return "Sample"
    return LABEL_NAMES.get(label) or safe_name(label.replace("_", " ").title().replace(" ", ""),
                                                fallback="Sample", limit_bytes=40)


def sample_pitch_tag(*, label: str | None, note: str | None, midi_note: int | None,
                     key: str | None) -> str | None:
    """The note (``C1``) or, for tonal sounds without a note, the key (``Fmin``) of a sample."""
    if note and parse_note(note) is not None:
        return note.strip().replace("♯", "#").replace("♭", "b")
    if midi_note is not None and 0 <= int(midi_note) <= 127:
        return note_name(int(midi_note))
    if label in DRUM_LABELS:
        return None
    return short_key(key)


def sample_file_name(*, label: str | None, index: int, note: str | None,
                     midi_note: int | None, key: str | None, bpm: float | None,
                     ext: str = ".wav") -> str:
    """A sample-pack name: ``Kick_01_C1_90bpm.wav``, ``Vocal_03_Fmin_90bpm.wav``, ``FX_02.wav``."""
    parts = [label_display(label), f"{index:02d}"]
    pitch = sample_pitch_tag(label=label, note=note, midi_note=midi_note, key=key)
    if pitch:
        parts.append(pitch)
    tempo = bpm_text(bpm)
    if tempo:
        parts.append(tempo)
    return safe_name("_".join(parts), fallback="Sample") + ext


def track_folder_name(track: Mapping[str, Any]) -> str:
    """``Artist - Title`` (or the title, or the original file name, or the id), made safe."""
    title = (track.get("title") or "").strip()
    artist = (track.get("artist") or "").strip()
    if not title:
        original = str(track.get("original_name") or "")
        title = original.rsplit(".", 1)[0] if "." in original else original
    name = f"{artist} - {title}" if artist and title else (title or artist)
    return safe_name(name, fallback=f"track {str(track.get('track_id', ''))[:12]}")


# -- selection -------------------------------------------------------------------------------
def _as_list(value: object) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, (str, bytes)):
        return [value.decode() if isinstance(value, bytes) else value]
    if isinstance(value, Iterable):
        return [str(v) for v in value if v not in (None, "")]
    return [str(value)]


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def check_filters(filters: Mapping[str, Any] | None) -> dict[str, Any]:
    """The filters with empty values dropped; unknown keys raise ``ValueError``."""
    out: dict[str, Any] = {}
    for k, v in (filters or {}).items():
        if k not in FILTER_KEYS:
            raise ValueError(f"unknown export filter {k!r} (known: {', '.join(FILTER_KEYS)})")
        if v is None or v == "" or v == [] or v == ():
            continue
        out[k] = v
    return out


def track_conditions(filters: Mapping[str, Any], *, alias: str = "t"
                     ) -> tuple[list[str], list[Any]]:
    """SQL conditions (and their parameters) on the ``tracks`` view for track-level filters."""
    where: list[str] = []
    params: list[Any] = []
    search = str(filters.get("search") or "").strip()
    if search:
        where.append(f"(coalesce({alias}.title, '') ILIKE ? ESCAPE '\\' OR "
                     f"coalesce({alias}.artist, '') ILIKE ? ESCAPE '\\' OR "
                     f"coalesce({alias}.album, '') ILIKE ? ESCAPE '\\' OR "
                     f"coalesce({alias}.original_name, '') ILIKE ? ESCAPE '\\')")
        params += [_like(search)] * 4
    if filters.get("bpm_min") is not None:
        where.append(f"{alias}.bpm >= ?")
        params.append(float(filters["bpm_min"]))
    if filters.get("bpm_max") is not None:
        where.append(f"{alias}.bpm <= ?")
        params.append(float(filters["bpm_max"]))
    keys = _as_list(filters.get("key"))
    if keys:
        marks = ", ".join("?" for _ in keys)
        where.append(f"lower(replace({alias}.key, ' ', '')) IN ({marks})")
        params += [k.replace(" ", "").lower() for k in keys]
    return where, params


def select_tracks(catalogue: Catalogue, *, track_ids: Sequence[str] | None,
                  filters: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Rows of ``tracks`` matching ``track_ids`` (if given) and the track-level filters.

    Unknown ids raise ``LookupError`` naming them.
    """
    where, params = track_conditions(filters)
    ids = list(dict.fromkeys(track_ids or []))
    if ids:
        where.append(f"t.track_id IN ({', '.join('?' for _ in ids)})")
        params += ids
    sql = "SELECT * FROM tracks t"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY lower(coalesce(t.artist, '')), lower(coalesce(t.title, '')), t.track_id"
    rows = catalogue.query(sql, params)
    if ids and not filters:
        missing = set(ids) - {r["track_id"] for r in rows}
        if missing:
            raise LookupError(f"no such track(s) in the catalogue: {', '.join(sorted(missing))}")
    return rows


def select_samples(catalogue: Catalogue, *, sample_ids: Sequence[str] | None = None,
                   track_ids: Sequence[str] | None = None,
                   filters: Mapping[str, Any] | None = None,
                   latest_only: bool = True) -> list[dict[str, Any]]:
    """Rows of ``samples`` (plus the track's artist/title/bpm/key) for an export.

    ``sample_ids`` picks exactly those samples (unknown ids raise ``LookupError``). Otherwise
    samples of ``track_ids`` (if given) and of tracks passing the track-level filters, with the
    ``label``/``tag``/``stem`` filters; ``latest_only`` keeps, per track and stem, only the
    newest slicing run (a re-run with other parameters sits beside the first in the store).
    """
    filters = dict(filters or {})
    params: list[Any] = []
    sql = ("SELECT s.*, t.artist AS track_artist, t.sample_rate AS track_sample_rate "
           "FROM samples s JOIN tracks t USING (track_id)")
    where: list[str] = []
    ids = list(dict.fromkeys(sample_ids or []))
    if ids:
        where.append(f"s.sample_id IN ({', '.join('?' for _ in ids)})")
        params += ids
    else:
        tw, tp = track_conditions(filters)
        where += tw
        params += tp
        tids = list(dict.fromkeys(track_ids or []))
        if tids:
            where.append(f"s.track_id IN ({', '.join('?' for _ in tids)})")
            params += tids
        labels = _as_list(filters.get("label"))
        if labels:
            where.append(f"s.label IN ({', '.join('?' for _ in labels)})")
            params += labels
        stems = _as_list(filters.get("stem"))
        if stems:
            where.append(f"s.stem IN ({', '.join('?' for _ in stems)})")
            params += stems
        for tag in _as_list(filters.get("tag")):
            where.append("list_contains(s.tags, ?)")
            params.append(tag)
        if latest_only:
            where.append("s.run_key = (SELECT s2.run_key FROM samples s2 WHERE "
                         "s2.track_id = s.track_id AND s2.stem = s.stem "
                         "ORDER BY s2.created_at DESC, s2.run_key DESC LIMIT 1)")
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY s.track_id, s.label, s.start_s, s.sample_id"
    rows = catalogue.query(sql, params)
    if ids:
        missing = set(ids) - {r["sample_id"] for r in rows}
        if missing:
            raise LookupError(f"no such sample(s) in the catalogue: {', '.join(sorted(missing))}")
    return rows


def latest_stems(catalogue: Catalogue, track_id: str,
                 stems: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """The stems of the newest separation run of ``track_id`` (optionally only ``stems``)."""
    sql = ("SELECT * FROM stems WHERE track_id = ? AND run_key = (SELECT run_key FROM stems "
           "WHERE track_id = ? ORDER BY created_at DESC, run_key DESC LIMIT 1)")
    params: list[Any] = [track_id, track_id]
    if stems:
        sql += f" AND stem IN ({', '.join('?' for _ in stems)})"
        params += list(stems)
    return catalogue.query(sql + " ORDER BY stem", params)


def latest_midi(catalogue: Catalogue, track_id: str,
                stems: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """The MIDI files of the newest transcription run per stem of ``track_id``."""
    sql = ("SELECT * FROM midi m WHERE track_id = ? AND run_key = (SELECT m2.run_key FROM "
           "midi m2 WHERE m2.track_id = m.track_id AND m2.stem = m.stem "
           "ORDER BY m2.created_at DESC, m2.run_key DESC LIMIT 1)")
    params: list[Any] = [track_id]
    if stems:
        sql += f" AND stem IN ({', '.join('?' for _ in stems)})"
        params += list(stems)
    return catalogue.query(sql + " ORDER BY stem, kind", params)


def latest_lyrics(catalogue: Catalogue, track_id: str) -> dict[str, Any] | None:
    """The newest lyrics row of ``track_id`` (``None`` when there is none)."""
    rows = catalogue.query("SELECT * FROM lyrics WHERE track_id = ? "
                           "ORDER BY created_at DESC, run_key DESC LIMIT 1", [track_id])
    return rows[0] if rows else None

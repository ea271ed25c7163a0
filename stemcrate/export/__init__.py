"""Export a selection of the library to a DAW-ready folder (or ZIP).

Public API (the dashboard's export button and ``stemcrate export`` call these)::

    export_library(library, *, to, track_ids=None, sample_ids=None, filters=None,
                   zip=False, stem_format="wav", progress=None, name=None) -> Path
    run_export(...same arguments...) -> ExportReport   # path + counts + index rows

Layout of an export (the root is a new folder ``to/<name>``, or ``to/<name>.zip`` holding
that folder; an existing export is never overwritten: ``<name> (2)`` …)::

    <name>/
      index.csv                       one row per exported file (see INDEX_COLUMNS)
      <Artist - Title>/
        <Artist - Title>.dawproject   stems on audio tracks + MIDI on note tracks, at the BPM
        Stems/<stem>.wav              24-bit WAV (or FLAC), ≥ the original's bit depth,
                                      sample values copied exactly (never rescaled)
        MIDI/<stem>.mid               tempo = the track's BPM, notes at the same seconds
        Samples/<label>/Kick_01_C1_90bpm.wav   WAV with smpl (root note) + acid (tempo) chunks
        Lyrics/<Artist - Title>.lrc, .srt, " (words).lrc"
      Samples/<label>/…               samples picked on their own (a sample pack)

A selection of samples only (``sample_ids``, or a ``label``/``tag`` filter) is a sample pack:
``<name>/Samples/<label>/…`` plus ``index.csv``.

Every file name made from metadata goes through :func:`stemcrate.export.layout.safe_name`
and :func:`stemcrate.export.pack.inside`, so nothing is written outside the export folder
whatever a title or label contains. Everything is read through the object store
(``ObjectStore.open``/``get_bytes``), so local and S3 stores export the same way. The
catalogue is only read (parameterised queries on its views).
"""

from __future__ import annotations

import csv
import io
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from stemcrate.errors import InputError, StemcrateError
from stemcrate.export import layout
from stemcrate.export.pack import inside, reserve_dir, reserve_file, zip_folder

if TYPE_CHECKING:
    from stemcrate.export.dawproject import DawProjectSpec
    from stemcrate.storage import Library

INDEX_COLUMNS = ("track_id", "track", "kind", "stem", "label", "note", "key", "bpm", "path",
                 "source_uri", "sample_id", "format", "bit_depth")
ProgressFn = Callable[[int, int], None]


class ExportError(StemcrateError):
    """An export cannot be made (nothing selected, unknown ids, unwritable folder)."""


@dataclass(frozen=True)
class IndexRow:
    """One exported file, as listed in ``index.csv`` (``path`` relative to the export root)."""

    kind: str  # stem | midi | sample | lyrics | dawproject
    path: str
    track_id: str = ""
    track: str = ""
    stem: str = ""
    label: str = ""
    note: str = ""
    key: str = ""
    bpm: str = ""
    source_uri: str = ""
    sample_id: str = ""
    format: str = ""
    bit_depth: str = ""


@dataclass
class ExportReport:
    """What an export wrote: where, how many files, tracks and samples, and the index."""

    path: Path
    files: int = 0
    tracks: int = 0
    samples: int = 0
    rows: list[IndexRow] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {"path": str(self.path), "files": self.files, "tracks": self.tracks,
                "samples": self.samples}


def export_library(
    library: Library,
    *,
    to: Path,
    track_ids: Sequence[str] | None = None,
    sample_ids: Sequence[str] | None = None,
    filters: dict[str, Any] | None = None,
    zip: bool = False,
    stem_format: Literal["wav", "flac"] = "wav",
    progress: Callable[[int, int], None] | None = None,
    name: str | None = None,
) -> Path:
    """Export tracks and/or samples from ``library`` into a new folder (or ZIP) under ``to``.

    Parameters
    ----------
    library : the store and catalogue to read (``stemcrate.storage.open_library``)
    to : the folder to export into (created if missing); the export is a new folder
        ``to/<name>`` inside it, or ``to/<name>.zip`` with ``zip=True``
    track_ids : tracks to export in full (stems, MIDI, samples, lyrics, .dawproject)
    sample_ids : samples to export as a sample pack (``Samples/<label>/``); with no
        ``track_ids`` and no filters the export is just that pack
    filters : narrow the selection, keys (all optional):
        ``search`` text in title/artist/album/file name; ``bpm_min``/``bpm_max``; ``key``
        (str or list, e.g. ``"F minor"``) — these select tracks;
        ``label``/``tag`` (str or list) — turn the export into a sample pack of the matching
        samples (of the selected tracks); ``stem`` (str or list) — only these stems (and
        their MIDI and samples). No ids and no filters: the whole library.
    zip : write a ZIP instead of a folder (same layout, the folder as its top entry)
    stem_format : ``"wav"`` (24-bit by default) or ``"flac"``; stems that need float or
        32-bit integers stay WAV (FLAC cannot hold them)
    progress : called as ``progress(done, total)`` after each file written
    name : the export's folder/ZIP name (default ``stemcrate export <UTC time>`` or
        ``stemcrate sample pack <UTC time>``); sanitised

    Returns
    -------
    The new folder or ZIP file.

    Raises
    ------
    ExportError : nothing matches, unknown ids, or an unknown filter.
    StoreError : an artefact cannot be read from the store.
    """
    return run_export(library, to=to, track_ids=track_ids, sample_ids=sample_ids,
                      filters=filters, zip=zip, stem_format=stem_format, progress=progress,
                      name=name).path


def run_export(
    library: Library,
    *,
    to: Path,
    track_ids: Sequence[str] | None = None,
    sample_ids: Sequence[str] | None = None,
    filters: Mapping[str, Any] | None = None,
    zip: bool = False,
    stem_format: Literal["wav", "flac"] = "wav",
    progress: ProgressFn | None = None,
    name: str | None = None,
) -> ExportReport:
    """:func:`export_library`, returning an :class:`ExportReport` (path, counts, index)."""
    if stem_format not in ("wav", "flac"):
        raise ExportError(f"unknown stem format {stem_format!r} (wav or flac)")
    try:
        flt = layout.check_filters(filters)
    except ValueError as exc:
        raise ExportError(str(exc)) from exc
    plan = _plan(library, track_ids=track_ids, sample_ids=sample_ids, filters=flt)
    if not plan.tracks and not plan.pack_samples:
        raise ExportError("nothing to export: no track or sample matches the selection")
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H%M%S")
    default = f"stemcrate sample pack {stamp}" if not plan.tracks else f"stemcrate export {stamp}"
    export_name = layout.safe_name(name or default, fallback="stemcrate export")
    to = Path(to).expanduser()
    to.mkdir(parents=True, exist_ok=True)

    if not zip:
        root = reserve_dir(to, export_name)
        try:
            report = _write(library, plan, root, stem_format=stem_format, progress=progress)
        except BaseException:
            shutil.rmtree(root, ignore_errors=True)
            raise
        report.path = root
        return report

    zip_path, fh = reserve_file(to, export_name, ".zip")
    try:
        with fh, tempfile.TemporaryDirectory(prefix=".stemcrate-export-", dir=to) as tmp:
            root = Path(tmp) / "export"
            root.mkdir()
            report = _write(library, plan, root, stem_format=stem_format, progress=progress)
            zip_folder(root, fh, top=zip_path.stem)
    except BaseException:
        zip_path.unlink(missing_ok=True)
        raise
    report.path = zip_path
    return report


# -- planning --------------------------------------------------------------------------------
@dataclass
class _Plan:
    tracks: list[dict[str, Any]]
    pack_samples: list[dict[str, Any]]
    stems: list[str]
    track_samples: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


def _plan(library: Library, *, track_ids: Sequence[str] | None,
          sample_ids: Sequence[str] | None, filters: dict[str, Any]) -> _Plan:
    cat = library.catalogue
    stems = layout._as_list(filters.get("stem"))
    sample_level = bool(filters.get("label") or filters.get("tag"))
    try:
        pack: list[dict[str, Any]] = []
        tracks: list[dict[str, Any]] = []
        if sample_ids:
            pack = layout.select_samples(cat, sample_ids=sample_ids)
        if sample_level:
            pack += layout.select_samples(cat, track_ids=track_ids, filters=filters)
        elif track_ids or not sample_ids or set(filters) - {"stem"}:
            tracks = layout.select_tracks(cat, track_ids=track_ids, filters=filters)
    except LookupError as exc:
        raise ExportError(str(exc.args[0])) from exc
    seen: set[str] = set()
    in_tracks = {t["track_id"] for t in tracks}
    unique_pack = []
    for s in pack:
        if s["sample_id"] in seen or s["track_id"] in in_tracks:
            continue
        seen.add(s["sample_id"])
        unique_pack.append(s)
    plan = _Plan(tracks=tracks, pack_samples=unique_pack, stems=stems)
    if tracks:
        rows = layout.select_samples(cat, track_ids=[t["track_id"] for t in tracks],
                                     filters={"stem": stems} if stems else {})
        for s in rows:
            plan.track_samples.setdefault(s["track_id"], []).append(s)
    return plan


# -- writing ---------------------------------------------------------------------------------
class _Writer:
    """Writes files under ``root``, keeps the index and reports progress."""

    def __init__(self, library: Library, root: Path, total: int,
                 progress: ProgressFn | None) -> None:
        self.library = library
        self.store = library.store
        self.root = root
        self.total = total
        self.done = 0
        self.progress = progress
        self.rows: list[IndexRow] = []
        self._names: dict[Path, layout.UniqueNames] = {}
        if progress:
            progress(0, total)

    def folder(self, *parts: str) -> Path:
        path = inside(self.root, *parts)
        path.mkdir(parents=True, exist_ok=True)
        return path

    def claim(self, folder: Path, file_name: str) -> Path:
        names = self._names.setdefault(folder, layout.UniqueNames(
            p.name for p in folder.iterdir()))
        return inside(self.root, *folder.relative_to(self.root).parts, names.claim(file_name))

    def key(self, uri: str) -> str:
        return self.store.key_of(uri)

    @contextmanager
    def reading(self, uri: str) -> Iterator[None]:
        """Turn a decoder/parser failure on ``uri`` into an :class:`ExportError` naming it."""
        try:
            yield
        except InputError as exc:
            raise ExportError(f"{uri}: cannot export this file ({exc.cause})") from exc
        except StemcrateError:
            raise
        except (ValueError, RuntimeError, EOFError, KeyError, IndexError) as exc:
            raise ExportError(f"{uri}: cannot export this file ({exc})") from exc

    def finish(self, path: Path, row: IndexRow) -> None:
        self.rows.append(IndexRow(**{**asdict(row),
                                     "path": path.relative_to(self.root).as_posix()}))
        self.done += 1
        if self.progress:
            self.progress(self.done, max(self.total, self.done))


def _count_files(library: Library, plan: _Plan) -> int:
    n = len(plan.pack_samples)
    for t in plan.tracks:
        tid = t["track_id"]
        stems = layout.latest_stems(library.catalogue, tid, plan.stems)
        midi = layout.latest_midi(library.catalogue, tid, plan.stems)
        n += len(stems) + len(midi) + len(plan.track_samples.get(tid, []))
        n += 1 if (stems or midi) else 0
        ly = layout.latest_lyrics(library.catalogue, tid) if not plan.stems else None
        if ly and ly.get("has_lyrics") is not False:
            n += sum(1 for k in ("lrc_uri", "elrc_uri", "srt_uri") if ly.get(k))
    return n


def _write(library: Library, plan: _Plan, root: Path, *, stem_format: Literal["wav", "flac"],
           progress: ProgressFn | None) -> ExportReport:
    w = _Writer(library, root, _count_files(library, plan), progress)
    report = ExportReport(path=root)
    track_names = layout.UniqueNames(["index.csv", "Samples"])
    for track in plan.tracks:
        folder_name = track_names.claim(layout.track_folder_name(track))
        _write_track(w, track, folder_name, plan, stem_format=stem_format)
        report.tracks += 1
    if plan.pack_samples:
        _write_samples(w, plan.pack_samples, ("Samples",), track=None)
    report.samples = sum(1 for r in w.rows if r.kind == "sample")
    _write_index(root / "index.csv", w.rows)
    report.rows = w.rows
    report.files = len(w.rows) + 1
    return report


def _track_display(track: Mapping[str, Any]) -> str:
    title, artist = track.get("title") or "", track.get("artist") or ""
    return f"{artist} - {title}" if artist and title else (title or artist or track["track_id"])


def _bpm(value: Any) -> str:
    return "" if value is None else f"{float(value):.2f}".rstrip("0").rstrip(".")


def _write_track(w: _Writer, track: dict[str, Any], folder_name: str, plan: _Plan, *,
                 stem_format: Literal["wav", "flac"]) -> None:
    from stemcrate.export.audiofiles import convert_exact
    from stemcrate.export.dawproject import AudioTrack, DawProjectSpec
    from stemcrate.export.midifile import midi_at_tempo

    cat = w.library.catalogue
    tid = track["track_id"]
    bpm = track.get("bpm")
    base = IndexRow(kind="", path="", track_id=tid, track=_track_display(track),
                    key=track.get("key") or "", bpm=_bpm(bpm))
    spec = DawProjectSpec(title=_track_display(track) if not track.get("title") else
                          track["title"], artist=track.get("artist"), album=track.get("album"),
                          year=str(track["year"]) if track.get("year") else None,
                          genre=track.get("genre"), bpm=bpm)

    # Stems: sample values copied, container converted.
    for stem in layout.latest_stems(cat, tid, plan.stems):
        folder = w.folder(folder_name, "Stems")
        ext = "." + stem_format
        target = w.claim(folder, layout.safe_name(stem["stem"], fallback="stem") + ext)
        with w.reading(stem["uri"]), w.store.open(w.key(stem["uri"])) as src:
            written = convert_exact(src, str(target), format=stem_format,
                                    original_bit_depth=track.get("bit_depth"))
        if written.format.lower() != stem_format:  # FLAC could not hold it: WAV instead
            fixed = w.claim(folder, target.stem + ".wav")
            target.rename(fixed)
            target = fixed
        spec.audio.append(AudioTrack(name=stem["stem"], file=target,
                                     sample_rate=written.sample_rate,
                                     channels=written.channels, duration_s=written.duration_s))
        w.finish(target, IndexRow(**{**asdict(base), "kind": "stem", "stem": stem["stem"],
                                     "source_uri": stem["uri"], "format": written.format,
                                     "bit_depth": str(written.bit_depth)}))

    # MIDI at the track's tempo.
    midi_data: list[tuple[str, bytes]] = []
    for m in layout.latest_midi(cat, tid, plan.stems):
        folder = w.folder(folder_name, "MIDI")
        label = m["stem"] if (m.get("kind") or "notes") == "notes" else f"{m['stem']} {m['kind']}"
        target = w.claim(folder, layout.safe_name(label, fallback="midi") + ".mid")
        stored = w.store.get_bytes(w.key(m["uri"]))
        with w.reading(m["uri"]):
            target.write_bytes(midi_at_tempo(stored, bpm))
        midi_data.append((label, stored))
        w.finish(target, IndexRow(**{**asdict(base), "kind": "midi", "stem": m["stem"],
                                     "label": m.get("kind") or "", "source_uri": m["uri"],
                                     "format": "MID"}))

    # Samples of the track.
    samples = plan.track_samples.get(tid, [])
    if samples:
        _write_samples(w, samples, (folder_name, "Samples"), track=track)

    # Lyrics (not part of a stem-restricted export).
    lyrics = layout.latest_lyrics(cat, tid) if not plan.stems else None
    if lyrics and lyrics.get("has_lyrics") is not False:
        for col, suffix in (("lrc_uri", ".lrc"), ("elrc_uri", " (words).lrc"),
                            ("srt_uri", ".srt")):
            uri = lyrics.get(col)
            if not uri:
                continue
            folder = w.folder(folder_name, "Lyrics")
            target = w.claim(folder, layout.safe_name(folder_name + suffix))
            target.write_bytes(w.store.get_bytes(w.key(uri)))
            w.finish(target, IndexRow(**{**asdict(base), "kind": "lyrics",
                                         "label": suffix.strip(" ().").lower(),
                                         "source_uri": uri,
                                         "format": suffix.rsplit(".", 1)[-1].upper()}))

    # The .dawproject, from the files just written.
    if spec.audio or midi_data:
        _write_dawproject(w, spec, midi_data, folder_name, base)


def _write_dawproject(w: _Writer, spec: DawProjectSpec, midi_data: list[tuple[str, bytes]],
                      folder_name: str, base: IndexRow) -> None:
    from stemcrate.export.dawproject import NoteTrack, write_dawproject
    from stemcrate.export.midifile import read_parts

    for label, data in midi_data:
        with w.reading(f"MIDI {label}"):
            parts = [p for p in read_parts(data, spec.tempo) if p.notes]
        for p in parts:
            name = f"{label} MIDI" if len(parts) == 1 else f"{label} MIDI {p.name}"
            spec.notes.append(NoteTrack(name=name, part=p))
    folder = w.folder(folder_name)
    target = w.claim(folder, layout.safe_name(folder_name + ".dawproject"))
    write_dawproject(spec, target)
    w.finish(target, IndexRow(**{**asdict(base), "kind": "dawproject", "format": "DAWPROJECT"}))


def _write_samples(w: _Writer, samples: Sequence[dict[str, Any]], parts: tuple[str, ...], *,
                   track: Mapping[str, Any] | None) -> None:
    from stemcrate.export.audiofiles import wav_bytes_exact
    from stemcrate.export.wavchunks import add_sample_chunks

    counters: dict[str, int] = {}
    for s in sorted(samples, key=lambda s: (s.get("label") or "", s.get("track_id") or "",
                                            s.get("start_s") or 0.0, s["sample_id"])):
        label = s.get("label") or "unlabelled"
        label_folder = layout.safe_name(label, fallback="unlabelled", limit_bytes=60)
        counters[label_folder] = counters.get(label_folder, 0) + 1
        bpm = (track or {}).get("bpm") if track is not None else s.get("bpm")
        key = (track or {}).get("key") if track is not None else s.get("key")
        file_name = layout.sample_file_name(label=s.get("label"), index=counters[label_folder],
                                            note=s.get("note"), midi_note=s.get("midi_note"),
                                            key=key, bpm=bpm)
        folder = w.folder(*parts, label_folder)
        target = w.claim(folder, file_name)
        root_note = s.get("midi_note")
        if root_note is None:
            root_note = layout.parse_note(s.get("note"))
        with w.reading(s["uri"]), w.store.open(w.key(s["uri"])) as src:
            wav, written = wav_bytes_exact(src)
            wav = add_sample_chunks(wav, sample_rate=written.sample_rate,
                                    root_note=None if root_note is None else int(root_note),
                                    tempo_bpm=None if bpm is None else float(bpm),
                                    duration_s=written.duration_s)
        target.write_bytes(wav)
        note_text = s.get("note") or (layout.note_name(int(s["midi_note"]))
                                      if s.get("midi_note") is not None else "")
        w.finish(target, IndexRow(
            kind="sample", path="", track_id=s["track_id"],
            track=_track_display(track) if track is not None else
            (f"{s.get('track_artist')} - {s.get('track_title')}" if s.get("track_artist")
             else (s.get("track_title") or s["track_id"])),
            stem=s.get("stem") or "", label=label, note=note_text,
            key=key or "", bpm=_bpm(bpm), source_uri=s["uri"], sample_id=s["sample_id"],
            format="WAV", bit_depth=str(written.bit_depth)))


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: str, *, text: bool) -> str:
    """A CSV cell; text that a spreadsheet would run as a formula is prefixed with ``'``."""
    if text and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _write_index(path: Path, rows: Sequence[IndexRow]) -> None:
    numeric = {"bpm", "bit_depth"}
    buf = io.StringIO()
    out = csv.writer(buf, lineterminator="\n")
    out.writerow(INDEX_COLUMNS)
    for r in rows:
        d = asdict(r)
        out.writerow([_cell(str(d[c]), text=c not in numeric) for c in INDEX_COLUMNS])
    path.write_text(buf.getvalue(), encoding="utf-8")


__all__ = ["ExportError", "ExportReport", "INDEX_COLUMNS", "IndexRow", "export_library",
           "run_export"]

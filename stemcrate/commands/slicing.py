"""``stemcrate slice FILE --kind drums|bass|vocals|other --to DIR``: one-shots from a stem.

Each slice is written as ``DIR/<file stem>_<index>_<label>[_<note>].wav`` (24-bit WAV at the
source rate; ``<label>`` is the kind when classification is off) and described on stdout:
path, start_s, end_s, label, confidence, tags, note, loudness (+ unit), peak, count. With
``--midi`` a drums stem also gets ``DIR/<file stem>_drums.mid`` (GM drum notes, tempo from
``--bpm`` or estimated from the file). Progress goes to stderr.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from stemcrate.commands import fail, print_json

KINDS = ("drums", "bass", "vocals", "other", "piano", "guitar")


def _file_name(stem: str, index: int, label: str, note: str | None) -> str:
    parts = [stem, f"{index:03d}", label] + ([note] if note else [])
    return "_".join(p.replace("/", "-").replace(" ", "-") for p in parts) + ".wav"


def register(app: typer.Typer) -> None:
    """Add ``slice`` to ``app``."""

    @app.command("slice")
    def slice_cmd(
        file: Path = typer.Argument(..., help="Audio file (usually a separated stem)."),
        kind: str = typer.Option("other", "--kind",
                                 help="Stem kind: drums|bass|vocals|other (also piano|guitar)."),
        to: Path = typer.Option(..., "--to", help="Folder for the slices (created)."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
        classify: bool = typer.Option(True, "--classify/--no-classify",
                                      help="Label each slice with the sample classifier."),
        collapse: bool = typer.Option(True, "--collapse/--no-collapse",
                                      help="Keep one of each group of near-identical hits."),
        midi: bool = typer.Option(False, "--midi",
                                  help="Drums only: also write a GM drum MIDI file."),
        bpm: float | None = typer.Option(None, "--bpm",
                                         help="Tempo for --midi (default: estimated)."),
    ) -> None:
        """Cut a stem into one-shot samples (hits, notes, vocal phrases and chops)."""
        from rich.console import Console
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        from stemcrate.audio.decode import load_audio, write_audio
        from stemcrate.audio.slicing import slice_and_classify, slice_audio
        from stemcrate.errors import StemcrateError

        if kind not in KINDS:
            fail(f"unknown --kind {kind!r}; expected one of {', '.join(KINDS)}")
        if midi and kind != "drums":
            fail("--midi needs --kind drums")
        if midi and not classify:
            fail("--midi needs the classifier (drop --no-classify)")
        console = Console(stderr=True)
        columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
        with Progress(*columns, console=console, transient=True) as progress:
            task = progress.add_task(f"decoding {file.name}", total=None)
            try:
                y, sr = load_audio(file)
                progress.update(task, description=f"slicing {file.name} ({kind})")
                if classify:
                    slices = slice_and_classify(y, sr, kind=kind, collapse=collapse)
                else:
                    slices = slice_audio(y, sr, kind=kind, collapse=collapse)
            except StemcrateError as exc:
                fail(str(exc))
            to.mkdir(parents=True, exist_ok=True)
            rows: list[dict[str, Any]] = []
            progress.update(task, description=f"writing {len(slices)} slices",
                            total=len(slices), completed=0)
            for i, s in enumerate(slices):
                path = to / _file_name(file.stem, i, s.label or kind, s.note)
                try:
                    write_audio(path, s.audio, sr, format="wav", bit_depth=24)
                except (OSError, StemcrateError) as exc:
                    fail(f"{path}: cannot write slice ({exc})")
                d = s.to_dict()
                rows.append({
                    "path": str(path), "start_s": d["start_s"], "end_s": d["end_s"],
                    "label": s.label, "confidence": d["confidence"], "tags": list(s.tags),
                    "note": s.note, "midi_note": s.midi_note, "loudness": d["loudness_db"],
                    "loudness_unit": s.loudness_unit, "peak_db": d["peak_db"],
                    "count": s.count, "part": s.part, "kind": kind,
                })
                progress.advance(task)
            if midi:
                progress.update(task, description="writing drum MIDI")
                from stemcrate.audio.drum_midi import write_drum_midi

                tempo = bpm if bpm else _estimate_bpm(y, sr)
                target = write_drum_midi(slices, to / f"{file.stem}_drums.mid", bpm=tempo)
                console.print(f"drum MIDI: {target} (tempo {tempo or 120:.1f} BPM)")
        console.print(f"{len(rows)} slices from {file} written to {to}")
        if as_json:
            print_json(rows)
            return
        for r in rows:
            conf = "" if r["confidence"] is None else f"{r['confidence']:.2f}"
            typer.echo(f"{r['path']}\t{r['start_s']:.3f}\t{r['end_s']:.3f}\t{r['label'] or ''}"
                       f"\t{conf}\t{' '.join(r['tags'])}\t{r['note'] or ''}\t"
                       f"{r['loudness']} {r['loudness_unit']}")


def _estimate_bpm(y: Any, sr: int) -> float | None:
    """The track's tempo from :func:`stemcrate.audio.analysis.estimate_tempo` (None if
    unavailable)."""
    try:
        from stemcrate.audio.analysis import ANALYSIS_SR, estimate_tempo
    except ImportError:
        return None
    import librosa

    mono = y.mean(axis=0)
    low = librosa.resample(mono, orig_sr=sr, target_sr=ANALYSIS_SR, res_type="soxr_hq")
    return estimate_tempo(low, ANALYSIS_SR).bpm

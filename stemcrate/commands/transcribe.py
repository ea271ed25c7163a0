"""``stemcrate midi`` (Basic Pitch) and ``stemcrate lyrics`` (Whisper) on any audio file.

``stemcrate midi FILE --to DIR [--kind bass|other|vocals|piano|guitar] [--bpm N]
[--pitch-bends] [--json]`` writes ``DIR/<name>.mid``.

``stemcrate lyrics FILE --to DIR [--engine faster-whisper|openai-whisper] [--model NAME_OR_PATH]
[--language xx] [--json]`` writes ``DIR/<name>.lyrics.json``, ``<name>.lrc``,
``<name>.enhanced.lrc`` and ``<name>.srt``. The engine and model default to the settings
``STEMCRATE_LYRICS_ENGINE`` / ``STEMCRATE_LYRICS_MODEL``.

Progress goes to stderr; ``--json`` prints a summary on stdout.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import Any

import typer

from stemcrate.commands import fail, print_json


class MidiKind(str, Enum):
    bass = "bass"
    other = "other"
    vocals = "vocals"
    piano = "piano"
    guitar = "guitar"


class LyricsEngineName(str, Enum):
    faster_whisper = "faster-whisper"
    openai_whisper = "openai-whisper"


@contextmanager
def _progress(description: str) -> Iterator[Any]:
    """A spinner with a step description on stderr; yields ``step(text)``."""
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                  console=console, transient=True) as progress:
        task = progress.add_task(description, total=None)

        def step(text: str) -> None:
            progress.update(task, description=text)

        yield step


def _check_input(file: Path) -> None:
    if not file.exists():
        fail(f"{file}: file not found")
    if file.is_dir():
        fail(f"{file}: is a folder, not an audio file")


def midi_command(
    file: Path = typer.Argument(..., help="Audio file to transcribe (a stem or any track)."),
    to: Path = typer.Option(..., "--to", help="Folder to write <name>.mid into."),
    kind: MidiKind | None = typer.Option(
        None, "--kind", help="Stem kind: settings suited to it (default: Basic Pitch's own)."),
    bpm: float | None = typer.Option(None, "--bpm", min=1.0, help="Tempo written to the MIDI."),
    pitch_bends: bool = typer.Option(False, "--pitch-bends", help="Include pitch bends."),
    json_out: bool = typer.Option(False, "--json", help="Print a JSON summary."),
) -> None:
    """Convert a melodic audio file to MIDI with Basic Pitch."""
    from stemcrate.audio.decode import load_audio
    from stemcrate.audio.midi import MODEL_SAMPLE_RATE, transcribe_midi
    from stemcrate.errors import StemcrateError

    _check_input(file)
    target = to / f"{file.stem}.mid"
    try:
        with _progress(f"decoding {file.name}") as step:
            y, sr = load_audio(file, sr=MODEL_SAMPLE_RATE, mono=True)
            step(f"transcribing {file.name} with Basic Pitch")
            result = transcribe_midi(y, sr, kind=kind.value if kind else None, bpm=bpm,
                                     pitch_bends=pitch_bends)
            step(f"writing {target}")
            result.write(target)
    except StemcrateError as exc:
        fail(str(exc))
    summary = {"input": str(file), "output": str(target), **result.summary()}
    if json_out:
        print_json(summary)
    else:
        rng = result.pitch_range
        span = f", pitches {rng[0]}-{rng[1]}" if rng else ""
        typer.echo(f"{target}: {result.note_count} notes{span}")


def lyrics_command(
    file: Path = typer.Argument(..., help="Audio file (a vocal stem or any track)."),
    to: Path = typer.Option(..., "--to", help="Folder for .lyrics.json, .lrc, .srt files."),
    engine: LyricsEngineName | None = typer.Option(
        None, "--engine", help="Whisper engine (default: STEMCRATE_LYRICS_ENGINE)."),
    model: str | None = typer.Option(
        None, "--model", help="Model name or local path (default: STEMCRATE_LYRICS_MODEL)."),
    language: str | None = typer.Option(
        None, "--language", help="Language code (e.g. en); detected when omitted."),
    json_out: bool = typer.Option(False, "--json", help="Print a JSON summary."),
) -> None:
    """Transcribe lyrics with word timestamps (JSON, LRC, enhanced LRC, SRT)."""
    from stemcrate.audio.decode import load_audio
    from stemcrate.audio.lyrics import SAMPLE_RATE, get_engine, transcribe_lyrics
    from stemcrate.audio.lyrics_formats import write_lyrics
    from stemcrate.config import get_settings
    from stemcrate.errors import StemcrateError

    _check_input(file)
    settings = get_settings()
    engine_name = engine.value if engine else settings.lyrics_engine
    model_name = model or settings.lyrics_model
    device = settings.device
    try:
        with _progress(f"loading {engine_name} model {model_name}") as step:
            get_engine(engine_name, model_name, device)
            step(f"decoding {file.name}")
            y, sr = load_audio(file, sr=SAMPLE_RATE, mono=True)
            step(f"transcribing {file.name} with {engine_name} ({model_name})")
            result = transcribe_lyrics(y, sr, engine=engine_name, model=model_name,
                                       language=language, device=device)
            step(f"writing lyrics files to {to}")
            files = write_lyrics(result, to, file.stem)
    except StemcrateError as exc:
        fail(str(exc))
    summary = {
        "input": str(file),
        "engine": result.engine,
        "model": result.model,
        "language": result.language,
        "has_lyrics": result.has_lyrics,
        "text": result.text,
        "segments": len(result.segments),
        "words": sum(len(s.words) for s in result.segments),
        "duration_s": round(result.duration_s, 3),
        "files": {k: str(v) for k, v in files.items()},
    }
    if json_out:
        print_json(summary)
    elif result.has_lyrics:
        typer.echo(result.text)
        typer.echo(f"({result.language}; files in {to})", err=True)
    else:
        typer.echo(f"{file}: no lyrics (no voice found)")


def register(app: typer.Typer) -> None:
    """Add ``midi`` and ``lyrics`` to the CLI."""
    app.command("midi")(midi_command)
    app.command("lyrics")(lyrics_command)

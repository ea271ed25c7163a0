"""``stemcrate export``: tracks and samples to a DAW-ready folder or ZIP.

See :mod:`stemcrate.export` for the layout. Prints the export's path (with ``--json`` a
summary: path, files, tracks, samples); progress goes to stderr.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from stemcrate.commands import fail, print_json


def register(app: typer.Typer) -> None:
    @app.command("export")
    def export_cmd(
        to: Path = typer.Option(..., "--to", help="Folder to export into (a new folder or "
                                "ZIP is made inside it; nothing existing is overwritten)."),
        track: list[str] = typer.Option(None, "--track", help="Track id (repeatable)."),
        sample: list[str] = typer.Option(None, "--sample", help="Sample id (repeatable): "
                                         "exported as a sample pack."),
        label: list[str] = typer.Option(None, "--label", help="Only samples with this label "
                                        "(repeatable): makes a sample pack."),
        tag: list[str] = typer.Option(None, "--tag", help="Only samples with this tag "
                                      "(repeatable): makes a sample pack."),
        stem: list[str] = typer.Option(None, "--stem", help="Only this stem (repeatable)."),
        search: str = typer.Option(None, "--search", help="Text in title, artist or album."),
        bpm_min: float = typer.Option(None, "--bpm-min", help="Tracks at or above this BPM."),
        bpm_max: float = typer.Option(None, "--bpm-max", help="Tracks at or below this BPM."),
        key: list[str] = typer.Option(None, "--key", help="Tracks in this key (repeatable)."),
        zip_: bool = typer.Option(False, "--zip", help="Write a ZIP instead of a folder."),
        fmt: str = typer.Option("wav", "--format", help="Stem format: wav (24-bit) or flac."),
        name: str = typer.Option(None, "--name", help="Name of the export folder/ZIP."),
        as_json: bool = typer.Option(False, "--json", help="Print a JSON summary."),
    ) -> None:
        """Export stems, MIDI, samples, lyrics and a .dawproject per track."""
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        from stemcrate.config import get_settings
        from stemcrate.errors import StemcrateError
        from stemcrate.export import run_export
        from stemcrate.storage import open_library

        if fmt not in ("wav", "flac"):
            fail(f"--format must be wav or flac, not {fmt!r}")
        filters: dict[str, Any] = {"label": label or None, "tag": tag or None,
                                   "stem": stem or None, "search": search, "bpm_min": bpm_min,
                                   "bpm_max": bpm_max, "key": key or None}
        library = open_library(get_settings())
        console = Console(stderr=True)
        with Progress(TextColumn("exporting"), BarColumn(), MofNCompleteColumn(),
                      console=console, transient=True) as bar:
            task = bar.add_task("export", total=None)

            def progress(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            try:
                report = run_export(library, to=to, track_ids=track or None,
                                    sample_ids=sample or None, filters=filters, zip=zip_,
                                    stem_format="flac" if fmt == "flac" else "wav",
                                    progress=progress, name=name)
            except StemcrateError as exc:
                fail(str(exc))
            except OSError as exc:
                fail(f"cannot write the export under {to}: {exc}")
        if as_json:
            print_json(report.summary())
        else:
            typer.echo(str(report.path))

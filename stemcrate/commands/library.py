"""``stemcrate ls | catalogue rebuild | doctor``: looking at the library."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer

from stemcrate.commands import fail, print_json

if TYPE_CHECKING:
    from stemcrate.storage.catalogue import Catalogue

VIEWS = ("tracks", "stems", "samples", "midi", "lyrics", "runs")
LS_COLUMNS = {
    "tracks": ["track_id", "title", "artist", "duration_s", "bpm", "key", "loudness_lufs",
               "added_at"],
    "stems": ["track_id", "stem", "model", "duration_s", "uri"],
    "samples": ["sample_id", "track_id", "stem", "label", "confidence", "note", "start_s",
                "end_s", "uri"],
    "midi": ["track_id", "stem", "kind", "note_count", "pitch_min", "pitch_max", "uri"],
    "lyrics": ["track_id", "language", "has_lyrics", "text"],
    "runs": ["track_id", "stage", "state", "updated_at", "error"],
}
#: cosine similarity of a sample's embedding to the query vector (one ``?`` parameter)
SIMILARITY = "round(list_cosine_similarity(embedding, ?::FLOAT[])::DOUBLE, 4)"


def register(app: typer.Typer) -> None:
    app.command("ls")(ls)
    catalogue = typer.Typer(help="Maintain the DuckDB catalogue.", no_args_is_help=True)
    catalogue.command("rebuild")(rebuild)
    catalogue.command("sync")(sync)
    app.add_typer(catalogue, name="catalogue")
    app.command("doctor")(doctor)


def ls(
    view: str = typer.Argument("tracks", help="tracks | stems | samples | midi | lyrics | runs"),
    search: str | None = typer.Option(None, "--search", "-s", help="Text in title/artist/…"),
    track: str | None = typer.Option(None, help="Only this track (id or prefix)."),
    label: str | None = typer.Option(None, help="Samples: only this label."),
    stem: str | None = typer.Option(None, help="Stems/samples/midi: only this stem."),
    state: str | None = typer.Option(None, help="Runs: only this state (e.g. failed)."),
    like: str | None = typer.Option(
        None, "--like", metavar="FILE_OR_SAMPLE_ID",
        help="Samples: more like this: rank by sound, nearest first, against an audio file "
             "(any one-shot, in the library or not) or a sample id (or its prefix)."),
    limit: int = typer.Option(100, help="At most this many rows (0: all)."),
    json_out: bool = typer.Option(False, "--json", help="Print rows as JSON."),
) -> None:
    """List tracks, stems, samples, MIDI, lyrics or stage runs."""
    if view not in VIEWS:
        fail(f"unknown view {view!r}; choose from {', '.join(VIEWS)}")
    if like is not None and view != "samples":
        fail("--like ranks samples: use it with `stemcrate ls samples`")
    from stemcrate.commands.common import load_settings
    from stemcrate.storage import open_library

    lib = open_library(load_settings())
    where: list[str] = []
    params: list[Any] = []
    select: list[Any] = []
    if like is not None:
        vector, itself = like_vector(lib.catalogue, like)
        # cosine against every sample embedded by the same model (the same length)
        select.append(vector)
        where.append("embedding IS NOT NULL AND len(embedding) = ?")
        params.append(len(vector))
        if itself is not None:
            where.append("sample_id <> ?")
            params.append(itself)
    if track:
        where.append("starts_with(track_id, ?)")
        params.append(track)
    if search:
        cols = {"tracks": ["title", "artist", "album", "genre"],
                "samples": ["label", "name", "note", "array_to_string(tags, ' ')"],
                "lyrics": ["text"]}.get(view, ["track_id"])
        where.append("(" + " OR ".join(f"{c} ILIKE ?" for c in cols) + ")")
        params.extend([f"%{search}%"] * len(cols))
    if label and view == "samples":
        where.append("label = ?")
        params.append(label)
    if stem and view in ("stems", "samples", "midi"):
        where.append("stem = ?")
        params.append(stem)
    if state and view == "runs":
        where.append("state = ?")
        params.append(state)
    order = {"tracks": "added_at DESC", "runs": "updated_at DESC"}.get(view, "track_id")
    sql = f"SELECT * {'EXCLUDE (embedding)' if view == 'samples' else ''}"
    if select:
        sql += f", {SIMILARITY} AS similarity"
        order = "similarity DESC, sample_id"
    sql += f" FROM {view}"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += f" ORDER BY {order}"
    if limit > 0:
        sql += f" LIMIT {int(limit)}"
    rows = lib.catalogue.query(sql, [*select, *params])
    if json_out:
        print_json(rows)
        return
    if not rows:
        typer.echo(f"no {view}", err=True)
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(show_lines=False)
    columns = (["similarity"] if select else []) + LS_COLUMNS[view]
    for c in columns:
        table.add_column(c, overflow="fold")
    for row in rows:
        table.add_row(*[_fmt(row.get(c)) for c in columns])
    import sys

    Console(width=None if sys.stdout.isatty() else 200).print(table)


def like_vector(catalogue: Catalogue, like: str) -> tuple[list[float], str | None]:
    """The embedding to rank samples against, and the sample it belongs to (None for a
    file): an existing file is embedded as the pipeline embeds slices
    (:func:`stemcrate.audio.classify.embed`); anything else is a sample id or an
    unambiguous prefix of one. Exits with a clear error otherwise."""
    from pathlib import Path

    path = Path(like).expanduser()
    if path.is_file():
        from stemcrate.audio.classify import embed
        from stemcrate.audio.decode import load_audio
        from stemcrate.errors import StemcrateError

        try:
            y, sr = load_audio(path)
            return [float(v) for v in embed(y, sr)], None
        except StemcrateError as exc:
            fail(str(exc))
    rows = catalogue.query("SELECT sample_id, embedding FROM samples "
                           "WHERE starts_with(sample_id, ?) ORDER BY sample_id LIMIT 2", [like])
    if not rows:
        fail(f"--like {like!r}: neither a file nor a sample id in the catalogue")
    if len(rows) > 1:
        fail(f"--like {like!r}: more than one sample id starts so; give more of it")
    if not rows[0]["embedding"]:
        fail(f"--like {like!r}: that sample has no embedding (run `stemcrate process` on its "
             "track to slice it again)")
    return [float(v) for v in rows[0]["embedding"]], str(rows[0]["sample_id"])


def _fmt(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.2f}"
    text = str(value)
    return text[:12] if len(text) == 64 else text


def rebuild(json_out: bool = typer.Option(False, "--json")) -> None:
    """Recreate the catalogue from the manifests in the store alone."""
    from stemcrate.commands.common import load_settings
    from stemcrate.storage import open_library

    lib = open_library(load_settings())
    count = lib.catalogue.rebuild(lib.store)
    tracks = lib.catalogue.query("SELECT count(*) AS n FROM tracks")[0]["n"]
    if json_out:
        print_json({"manifests": count, "tracks": tracks, "catalogue": str(lib.catalogue.path)})
    else:
        typer.echo(f"rebuilt {lib.catalogue.path} from {count} manifests ({tracks} tracks)")


def sync(json_out: bool = typer.Option(False, "--json")) -> None:
    """Apply results written since the last run (normally done by up/dashboard/ingest)."""
    from stemcrate.commands.common import load_settings
    from stemcrate.storage import open_library

    lib = open_library(load_settings())
    count = lib.sync() + lib.catalogue.reconcile(lib.store)
    if json_out:
        print_json({"applied": count})
    else:
        typer.echo(f"applied {count} manifests")


def doctor(json_out: bool = typer.Option(False, "--json")) -> None:
    """What is installed, which models are usable, GPU or not."""
    from stemcrate.commands.common import load_settings
    from stemcrate.doctor import diagnose

    report = diagnose(load_settings())
    if json_out:
        print_json(report)
        return
    for section, items in report.items():
        typer.echo(f"{section}:")
        if isinstance(items, dict):
            for k, v in items.items():
                typer.echo(f"  {k:28s} {v}")
        else:
            typer.echo(f"  {items}")

"""``stemcrate separate`` (standalone stem separation) and ``stemcrate models list|pull``.

``separate`` writes ``<DIR>/<model>/<track>/<stem>.flac`` (24-bit; ``--format wav`` for WAV),
like the demucs CLI lays out its output. Heavy imports (torch, demucs) happen inside the
commands.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from stemcrate.commands import fail, print_json

models_app = typer.Typer(help="Separation models: which are usable here, and fetching them.",
                         no_args_is_help=True)

# Tracks separated together in one engine call (their segments share batches); bounded so
# memory stays modest with many long files.
_GROUP_SECONDS = 600.0


def _progress() -> Any:
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    return Progress(TextColumn("{task.description}"), BarColumn(),
                    TextColumn("{task.completed}/{task.total} segments"), TimeRemainingColumn(),
                    console=Console(stderr=True), transient=True)


def separate(
    files: list[Path] = typer.Argument(..., help="Audio files to separate."),
    to: Path = typer.Option(..., "--to", help="Output folder (<to>/<model>/<track>/<stem>)."),
    model: str | None = typer.Option(None, "--model", "-n",
                                     help="Demucs model (default: STEMCRATE_SEPARATION_MODEL)."),
    repo: Path | None = typer.Option(None, "--repo", help="Local model folder (default: "
                                     "STEMCRATE_SEPARATION_REPO; unset = the hub)."),
    two_stems: str | None = typer.Option(None, "--two-stems", help="Only STEM and no_STEM, "
                                         "e.g. vocals (karaoke / acapella)."),
    format: str | None = typer.Option(None, "--format", help="flac (24-bit, default) or wav "
                                      "(24-bit)."),
    device: str | None = typer.Option(None, "--device", help="auto | cpu | cuda[:N]."),
    batch_size: int | None = typer.Option(None, "--batch-size", min=1,
                                          help="Segments per model call (default: automatic)."),
    precision: str = typer.Option("auto", "--precision", help="auto | fp32 | bf16 | fp16."),
    overlap: float = typer.Option(0.25, "--overlap", min=0.0, max=0.99),
    shifts: int = typer.Option(0, "--shifts", min=0, help="Random-shift passes (demucs' "
                               "shift trick; slower, slightly better)."),
    as_json: bool = typer.Option(False, "--json", help="Print what was written as JSON."),
) -> None:
    """Separate FILES into stems with Demucs v4 (htdemucs by default)."""
    import numpy as np

    from stemcrate.audio.decode import load_audio, write_audio
    from stemcrate.config import get_settings
    from stemcrate.errors import InputError, StemcrateError

    settings = get_settings()
    model_name = model or settings.separation_model
    model_repo = repo if repo is not None else settings.separation_repo
    fmt = format or settings.stem_format
    if fmt not in ("flac", "wav"):
        fail(f"--format must be flac or wav, not {fmt!r}")
    if precision not in ("auto", "fp32", "bf16", "fp16"):
        fail(f"--precision must be auto, fp32, bf16 or fp16, not {precision!r}")
    dev = device or settings.device

    from stemcrate.audio import separation as sep

    try:
        dev = sep.resolve_device(dev)
        names = sep.stem_names(model_name, model_repo, two_stems)
    except (StemcrateError, ValueError, RuntimeError) as exc:
        fail(str(exc))

    loaded: list[tuple[Path, Any, int]] = []
    errors: list[str] = []
    for path in files:
        try:
            y, sr = load_audio(path)
        except InputError as exc:
            errors.append(str(exc))
            typer.echo(f"error: {exc}", err=True)
            continue
        loaded.append((path, y, sr))

    groups: list[list[tuple[Path, Any, int]]] = []
    seconds = 0.0
    for item in loaded:
        length = item[1].shape[1] / item[2]
        if not groups or seconds + length > _GROUP_SECONDS:
            groups.append([])
            seconds = 0.0
        groups[-1].append(item)
        seconds += length

    written: list[dict[str, Any]] = []
    out_root = to / model_name
    with _progress() as bar:
        for group in groups:
            label = group[0][0].name if len(group) == 1 else f"{len(group)} tracks"
            task = bar.add_task(f"separating {label} ({model_name}, {dev})", total=None)

            def on_progress(done: int, total: int, task: Any = task) -> None:
                bar.update(task, completed=done, total=total)

            try:
                results = sep.separate_tracks(
                    [(y, sr) for _, y, sr in group], model=model_name, repo=model_repo,
                    device=dev, two_stems=two_stems, batch_size=batch_size, overlap=overlap,
                    shifts=shifts, precision=precision,  # type: ignore[arg-type]
                    progress=on_progress)
            except (StemcrateError, ValueError) as exc:
                fail(str(exc))
            bar.remove_task(task)
            for (path, y, sr), stems in zip(group, results, strict=True):
                folder = out_root / path.stem
                folder.mkdir(parents=True, exist_ok=True)
                peak = max(float(np.abs(a).max()) for a in stems.values())
                gain = 1.0 / max(1.01 * peak, 1.0)  # one gain for all stems: sums still hold
                paths: dict[str, str] = {}
                for name in names:
                    target = folder / f"{name}.{fmt}"
                    write_audio(target, stems[name] * gain, sr, format=fmt,  # type: ignore[arg-type]
                                bit_depth=24)
                    paths[name] = str(target)
                written.append({"file": str(path), "model": model_name, "sample_rate": sr,
                                "samples": int(y.shape[1]), "gain": gain, "stems": paths})
                if not as_json:
                    note = f" (scaled by {gain:.3f} to avoid clipping)" if gain < 1 else ""
                    typer.echo(f"{path} -> {folder} ({', '.join(names)}){note}")
    if as_json:
        print_json({"written": written, "errors": errors})
    if errors:
        raise typer.Exit(1)


@models_app.command("list")
def models_list(
    repo: Path | None = typer.Option(None, "--repo", help="Local model folder (default: "
                                     "STEMCRATE_SEPARATION_REPO; unset = the hub caches)."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Which separation models are usable here, and where they come from (no network)."""
    from stemcrate.audio.demucs_models import list_models
    from stemcrate.config import get_settings

    settings = get_settings()
    folder = repo if repo is not None else settings.separation_repo
    rows = list_models(folder)
    if as_json:
        print_json([r.as_dict() for r in rows])
        return
    for r in rows:
        state = "usable" if r.usable else "missing"
        where = f"{r.where}: {r.location}" if r.where else r.location
        default = " (default)" if r.name == settings.separation_model else ""
        typer.echo(f"{r.name:<14} {state:<8} {where}{default}")
        if not r.usable and r.detail:
            typer.echo(f"{'':<14} {r.detail}")


@models_app.command("pull")
def models_pull(
    names: list[str] = typer.Argument(..., help="Model names, e.g. htdemucs htdemucs_ft."),
    to: Path | None = typer.Option(None, "--to", help="Also write the model into this folder "
                                   "(demucs' local-repo format, for STEMCRATE_SEPARATION_REPO)."),
    source: Path | None = typer.Option(None, "--from", help="Copy from this local model folder "
                                       "instead of downloading from the hub."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Download models from the hub (cached for offline use), optionally into a folder."""
    from stemcrate.audio.demucs_models import pull_model
    from stemcrate.errors import ModelUnavailableError

    out: list[dict[str, Any]] = []
    for name in names:
        try:
            pulled = pull_model(name, to=to, source_repo=source)
        except ModelUnavailableError as exc:
            fail(str(exc))
        out.append({"name": name, "weights_sha256": pulled.fingerprint,
                    "files": [str(f) for f in pulled.files]})
        if not as_json:
            dest = f" -> {to}" if to is not None else " (hub cache)"
            typer.echo(f"{name}{dest} sha256 {pulled.fingerprint[:16]}…")
    if as_json:
        print_json(out)


def register(app: typer.Typer) -> None:
    """Add ``separate`` and the ``models`` group to the stemcrate CLI."""
    app.command("separate")(separate)
    app.add_typer(models_app, name="models")

"""``stemcrate up | ingest | process | watch``: running the pipeline."""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path
from typing import Any

import typer

from stemcrate.commands import fail, print_json


def register(app: typer.Typer) -> None:
    app.command("ingest")(ingest)
    app.command("process")(process)
    app.command("watch")(watch)
    app.command("up")(up)


def _stage_list(stages: str | None) -> list[str] | None:
    from stemcrate.config import ALL_STAGES

    if stages is None:
        return None
    chosen = [s.strip() for s in stages.split(",") if s.strip()]
    unknown = [s for s in chosen if s not in ALL_STAGES]
    if unknown:
        fail(f"unknown stage(s) {', '.join(unknown)}; choose from {', '.join(ALL_STAGES)}")
    return chosen


def ingest(
    paths: list[Path] = typer.Argument(..., help="Audio files or folders (searched recursively)."),
    process: bool = typer.Option(True, "--process/--no-process",
                                 help="Run the stages after ingest."),
    stages: str | None = typer.Option(None, help="Comma-separated stages (default: settings)."),
    json_out: bool = typer.Option(False, "--json", help="Print the outcomes as JSON."),
) -> None:
    """Ingest files now (blocking) and print their track ids."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from stemcrate.commands.common import expand_paths, load_settings

    settings = load_settings()
    files, problems = expand_paths(paths)
    for problem in problems:
        typer.echo(f"error: {problem}", err=True)
    if not files:
        raise typer.Exit(1)
    chosen = _stage_list(stages)
    from stemcrate.flows import pipeline
    from stemcrate.storage import open_library

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  transient=True, console=_stderr_console()) as bar:
        job = bar.add_task("ingesting", total=len(files))

        def hook(event: str, info: dict[str, Any]) -> None:
            if event == "file":
                bar.update(job, description=f"ingesting {Path(info['path']).name}")
            elif event == "ingested":
                bar.advance(job)
            elif event == "stage":
                bar.update(job, description=f"{info['stage']} …")

        pipeline.progress_hook = hook
        try:
            outcomes = pipeline.ingest([str(f) for f in files], process=process, stages=chosen)
        finally:
            pipeline.progress_hook = None
    open_library(settings).sync()
    failed = [o for o in outcomes if o["status"] == "failed"]
    if json_out:
        print_json(outcomes)
    else:
        for o in outcomes:
            if o["status"] == "failed":
                typer.echo(f"error: {o['error']}", err=True)
                continue
            note = "  (already in the library)" if o["status"] == "existing" else ""
            stages_done = o.get("stages")
            extra = ""
            if stages_done:
                extra = "  " + " ".join(f"{k}={v}" for k, v in stages_done.items())
            typer.echo(f"{o['track_id']}  {o['path']}{note}{extra}")
    if failed or problems:
        raise typer.Exit(1)


def process(
    track_id: str = typer.Argument(..., help="Track id (or a unique prefix)."),
    stages: str | None = typer.Option(None, help="Comma-separated stages (default: settings)."),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """Run the processing stages for one track now (blocking)."""
    from stemcrate.commands.common import load_settings

    settings = load_settings()
    from stemcrate.flows import pipeline
    from stemcrate.flows.pipeline import process_track
    from stemcrate.storage import open_library

    lib = open_library(settings)
    lib.sync()
    full = _resolve_track(lib, track_id)
    with _stderr_console().status(f"processing {full[:12]} …") as status:
        def hook(event: str, info: dict[str, Any]) -> None:
            if event == "stage":
                status.update(f"{info['stage']} — track {full[:12]} …")

        pipeline.progress_hook = hook
        try:
            result = process_track(full, stages=_stage_list(stages))
        finally:
            pipeline.progress_hook = None
    lib.sync()
    if json_out:
        print_json({"track_id": full, "stages": result})
    else:
        for stage, state in result.items():
            typer.echo(f"{stage:10s} {state}")
    if any(state == "failed" for state in result.values()):
        raise typer.Exit(1)


def _resolve_track(lib: Any, prefix: str) -> str:
    rows = lib.catalogue.query("SELECT track_id FROM tracks WHERE starts_with(track_id, ?)",
                               [prefix])
    if not rows:
        fail(f"no track with id {prefix!r} in the catalogue")
    if len(rows) > 1:
        fail(f"track id prefix {prefix!r} is ambiguous ({len(rows)} tracks)")
    return str(rows[0]["track_id"])


def _stderr_console() -> Any:
    from rich.console import Console

    return Console(stderr=True)


def watch(
    poll: float | None = typer.Option(None, help="Rescan period in seconds (default: settings)."),
) -> None:
    """Watch the inbox and ingest files as they arrive (flows run in this process)."""
    from stemcrate.commands.common import load_settings

    settings = load_settings()
    from stemcrate.flows.runner import LocalRunner
    from stemcrate.inbox import InboxWatcher

    holder: dict[str, InboxWatcher] = {}
    runner = LocalRunner(settings, on_done=lambda p: holder["w"].release(p))
    def submit(path: Path) -> None:
        runner.submit(path)

    watcher = InboxWatcher(settings.inbox_path, submit, poll_s=poll or settings.poll_s)
    holder["w"] = watcher
    watcher.start()
    typer.echo(f"watching {settings.inbox_path} (Ctrl-C to stop)")
    try:
        _wait_for_signal()
    finally:
        watcher.stop()
        runner.shutdown(wait=False)


def _wait_for_signal() -> None:
    stop = threading.Event()

    def handler(signum: int, frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)
    while not stop.wait(0.5):
        pass


def up(
    host: str | None = typer.Option(None, help="Dashboard host (default: settings)."),
    port: int | None = typer.Option(None, help="Dashboard port (default: settings)."),
    prefect_port: int | None = typer.Option(None, help="Local Prefect server port."),
    dashboard: bool = typer.Option(True, "--dashboard/--no-dashboard"),
) -> None:
    """Start everything: Prefect server (or PREFECT_API_URL), flow runner, inbox watcher,
    dashboard. Prints the URLs and the inbox path; Ctrl-C stops every part cleanly."""
    from stemcrate.commands.common import load_settings

    settings = load_settings()
    from stemcrate.services import Services

    services = Services(settings, dashboard=dashboard, host=host or settings.host,
                        port=port or settings.port,
                        prefect_port=prefect_port or settings.prefect_port)
    try:
        services.start(echo=lambda msg: typer.echo(msg, err=True))
    except Exception as exc:  # noqa: BLE001 - clean up what started, then explain
        services.stop()
        fail(str(exc))
    typer.echo(f"Prefect UI:  {services.prefect_ui_url}")
    if services.dashboard_url:
        typer.echo(f"Dashboard:   {services.dashboard_url}")
    typer.echo(f"Inbox:       {settings.inbox_path}")
    typer.echo("Drop audio files into the inbox. Ctrl-C stops everything.")
    sys.stdout.flush()
    try:
        _wait_for_signal()
    finally:
        typer.echo("stopping …", err=True)
        services.stop()

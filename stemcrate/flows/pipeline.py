"""The two flows: ``ingest`` (files → tracks, then processing) and ``process_track``.

A stage that is not built or has no model here ends ``unavailable`` in ``runs`` with the
reason; it never produces fake output. One file's failure never stops the others: a bad
file ends in the inbox's ``failed/`` folder with an ``.error.txt`` naming the cause.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from prefect import flow

from stemcrate.config import ALL_STAGES, Settings, get_settings
from stemcrate.errors import StageUnavailableError
from stemcrate.storage import open_library
from stemcrate.tasks.common import describe, record_state
from stemcrate.tasks.ingest import ingest_file_task
from stemcrate.tasks.samples import slice_task
from stemcrate.tasks.separate import separate_task
from stemcrate.tasks.transcribe import lyrics_task, midi_task

log = logging.getLogger("stemcrate")

# Set by the CLI to show progress when flows run in-process: hook(event, info).
ProgressHook = Callable[[str, dict[str, Any]], None]
progress_hook: ProgressHook | None = None


def _notify(event: str, **info: Any) -> None:
    if progress_hook is not None:
        try:
            progress_hook(event, info)
        except Exception:  # noqa: BLE001 - progress display never breaks a run
            log.debug("progress hook failed", exc_info=True)


def _exception_of(state: Any) -> BaseException | None:
    try:
        exc = state.result(raise_on_failure=False)
    except Exception as err:  # noqa: BLE001
        return err
    return exc if isinstance(exc, BaseException) else None


def _cache_hit(state: Any) -> bool:
    return str(getattr(state, "name", "")) == "Cached"


def _settle_inbox_file(path: Path, inbox: Path, *, error: str | None, note: str | None) -> None:
    from stemcrate.inbox import move_to_failed, move_to_processed

    if not path.exists():  # another run already moved it
        return
    try:
        if path.resolve().is_relative_to(inbox.resolve()):
            if error is None:
                move_to_processed(path, inbox, note=note)
            else:
                move_to_failed(path, inbox, error)
    except OSError:
        log.exception("could not move %s out of the inbox", path)


def run_stages(track_ids: list[str], stages: list[str], settings: Settings) -> dict[str, dict]:
    """Run ``stages`` for ``track_ids`` (separation batched across them); states per track."""
    store = open_library(settings).store
    wanted = [s for s in ALL_STAGES if s in stages]
    report: dict[str, dict[str, str]] = {tid: {} for tid in track_ids}
    for tid in track_ids:
        for stage in wanted:
            record_state(store, tid, stage, "pending")
    stems_keys: dict[str, str | None] = {tid: None for tid in track_ids}
    if "separate" in wanted:
        _notify("stage", stage="separate", tracks=len(track_ids))
        state = separate_task(track_ids, settings, return_state=True)
        if state.is_completed():
            hit = _cache_hit(state)
            for res in state.result():
                stems_keys[res["track_id"]] = res["run_key"]
                report[res["track_id"]]["separate"] = "cached" if hit else res["state"]
                if hit:
                    record_state(store, res["track_id"], "separate", "cached",
                                 run_key=res["run_key"])
        else:
            exc = _exception_of(state)
            for tid in track_ids:
                if not isinstance(exc, StageUnavailableError):
                    record_state(store, tid, "separate", "failed",
                                 error=describe(exc) if exc else "failed")
                report[tid]["separate"] = ("unavailable" if isinstance(exc, StageUnavailableError)
                                           else "failed")
    tasks = {"slice": slice_task, "midi": midi_task, "lyrics": lyrics_task}
    for tid in track_ids:
        for stage in ("slice", "midi", "lyrics"):
            if stage not in wanted:
                continue
            _notify("stage", stage=stage, track_id=tid)
            st = tasks[stage](tid, settings, stems_keys[tid], return_state=True)
            if st.is_completed():
                res = st.result()
                if _cache_hit(st):  # Prefect served it: the task body did not run
                    record_state(store, tid, stage, "cached", run_key=res.get("run_key"))
                    report[tid][stage] = "cached"
                else:
                    report[tid][stage] = res["state"]
                continue
            exc = _exception_of(st)
            if isinstance(exc, StageUnavailableError):
                report[tid][stage] = "unavailable"
            else:
                record_state(store, tid, stage, "failed",
                             error=describe(exc) if exc else "failed")
                report[tid][stage] = "failed"
    return report


@flow(name="ingest", log_prints=True)
def ingest(paths: list[str], inbox: str | None = None, process: bool = True,
           stages: list[str] | None = None) -> list[dict[str, Any]]:
    """Ingest ``paths`` (files), then run ``stages`` (default: settings) on the new tracks.

    With ``inbox`` set, each file inside it moves to ``processed/`` when done, or to
    ``failed/`` with an ``.error.txt`` naming the cause.
    """
    settings = get_settings()
    inbox_path = Path(inbox) if inbox else None
    outcomes: list[dict[str, Any]] = []
    for i, raw in enumerate(paths):
        path = Path(raw)
        _notify("file", path=raw, index=i, total=len(paths))
        state = ingest_file_task(str(path), settings, return_state=True)
        if state.is_completed():
            outcome = dict(state.result())
            note = ("already in the library as track " + outcome["track_id"]
                    if outcome["status"] == "existing" else None)
            if inbox_path is not None:
                _settle_inbox_file(path, inbox_path, error=None, note=note)
        else:
            exc = _exception_of(state)
            error = describe(exc) if exc else "ingest failed"
            if str(path) not in error:
                error = f"{path}: {error}"
            outcome = {"path": raw, "track_id": None, "status": "failed", "error": error}
            if inbox_path is not None:
                _settle_inbox_file(path, inbox_path, error=error, note=None)
        outcomes.append(outcome)
        _notify("ingested", **outcome)
    new_ids = [o["track_id"] for o in outcomes if o["status"] == "added"]
    if process and new_ids:
        report = run_stages(new_ids, stages or settings.stage_list, settings)
        for o in outcomes:
            if o.get("track_id") in report:
                o["stages"] = report[o["track_id"]]
    return outcomes


@flow(name="process_track", log_prints=True)
def process_track(track_id: str, stages: list[str] | None = None) -> dict[str, str]:
    """Run ``stages`` (default: settings) for one track; returns stage → state."""
    settings = get_settings()
    return run_stages([track_id], stages or settings.stage_list, settings)[track_id]

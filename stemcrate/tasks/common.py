"""What every task shares: retry conditions, cache keys, run-state manifests."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from stemcrate import __version__
from stemcrate.errors import (
    CatalogueError,
    InputError,
    ModelUnavailableError,
    StageUnavailableError,
    StemcrateError,
    StoreError,
)
from stemcrate.storage import keys
from stemcrate.storage.manifest import Manifest, Provenance, event_identity, write_manifest
from stemcrate.storage.store import ObjectStore

log = logging.getLogger("stemcrate")

STATES = ("pending", "running", "completed", "cached", "failed", "unavailable", "skipped")

PERMANENT_ERRORS: tuple[type[BaseException], ...] = (
    InputError, ModelUnavailableError, StageUnavailableError, ValueError, TypeError,
    KeyError, NotImplementedError,
)
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    StoreError, CatalogueError, OSError, ConnectionError, TimeoutError, MemoryError,
)


def is_transient(exc: BaseException | None) -> bool:
    """True for errors worth retrying (I/O, network, store); False for bad input or models."""
    if exc is None or isinstance(exc, PERMANENT_ERRORS):
        return False
    if isinstance(exc, StemcrateError) and not isinstance(exc, (StoreError, CatalogueError)):
        return False
    if isinstance(exc, RuntimeError) and "out of memory" in str(exc).lower():
        return True
    return isinstance(exc, TRANSIENT_ERRORS)


def retry_transient_only(task: Any, task_run: Any, state: Any) -> bool:
    """Prefect ``retry_condition_fn``: retry only transient failures (see :func:`is_transient`)."""
    try:
        exc = state.result(raise_on_failure=False)
    except Exception as err:  # noqa: BLE001 - reading the state failed: treat as transient
        exc = err
    return is_transient(exc if isinstance(exc, BaseException) else None)


def cache_key(stage: str, content_ids: list[str] | str, params: dict[str, Any],
              model_id: str | None = None) -> str:
    """A task cache key from content ids, stage, parameters, model id and code version."""
    ids = [content_ids] if isinstance(content_ids, str) else sorted(content_ids)
    blob = {"stage": stage, "ids": ids, "params": params, "model": model_id,
            "code": __version__}
    return f"stemcrate-{stage}-{keys.params_hash(blob, length=32)}"


def current_flow_run_id() -> str | None:
    """The id of the Prefect flow run we are in, if any."""
    try:
        from prefect.runtime import flow_run

        run_id = flow_run.id
        return str(run_id) if run_id else None
    except Exception:  # noqa: BLE001 - outside Prefect
        return None


def record_state(store: ObjectStore, track_id: str, stage: str, state: str, *,
                 error: str | None = None, run_key: str | None = None) -> None:
    """Write a ``run`` manifest: ``stage`` of ``track_id`` is now ``state``."""
    if state not in STATES:
        raise ValueError(f"unknown run state {state!r}")
    manifest = Manifest(
        kind="run", track_id=track_id, identity=event_identity(stage),
        data={"stage": stage, "state": state, "error": error,
              "flow_run_id": current_flow_run_id(), "run_key": run_key},
        provenance=Provenance(stage=stage),
    )
    write_manifest(store, manifest)


@dataclass
class StageResult:
    """What a stage task returns: its state and the store URIs it produced."""

    track_id: str
    stage: str
    state: str
    run_key: str | None = None
    uris: list[str] = field(default_factory=list)
    error: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"track_id": self.track_id, "stage": self.stage, "state": self.state,
                "run_key": self.run_key, "uris": self.uris, "error": self.error,
                "detail": self.detail}


def describe(exc: BaseException) -> str:
    """One line naming the error's type and message (for runs.error / .error.txt)."""
    text = str(exc).strip() or exc.__class__.__name__
    if isinstance(exc, StemcrateError):
        return text
    return f"{exc.__class__.__name__}: {text}"


def track_manifest(store: ObjectStore, track_id: str) -> Manifest:
    """The ``track`` manifest of ``track_id`` (InputError if the track is unknown)."""
    from stemcrate.storage.manifest import existing_manifest

    found = existing_manifest(store, "track", track_id, "ingest")
    if found is None:
        raise InputError(track_id, "no such track in the store (ingest it first)")
    return found


def load_from_store(store: ObjectStore, uri: str) -> tuple[Any, int]:
    """Decode the audio file at ``uri`` in the store: ``(y (channels, samples), sr)``."""
    import io

    from stemcrate.audio.decode import load_audio

    key = store.key_of(uri)
    local = store.local_path(key)
    if local is not None:
        return load_audio(local)
    source = io.BytesIO(store.get_bytes(key))
    source.name = key  # type: ignore[attr-defined]
    return load_audio(source)


def latest_stems(store: ObjectStore, track_id: str,
                 model: str | None = None) -> Manifest | None:
    """The newest ``stems`` manifest of a track (of ``model`` when one exists for it)."""
    from stemcrate.storage.manifest import read_manifest

    found = [read_manifest(store, k) for k in store.list(f"manifests/{track_id}/stems")]
    if not found:
        return None
    preferred = [m for m in found if model is not None and m.data.get("model") == model]
    pool = preferred or found
    return max(pool, key=lambda m: m.created_at)

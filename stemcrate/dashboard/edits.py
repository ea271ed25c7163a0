"""User edits from the dashboard, each written as an ``edit`` manifest (design: the store is
the source of truth, so ``catalogue rebuild`` keeps every rename, retag and delete).

The manifest's data is ``{target: 'track'|'sample', target_id, action:
'rename'|'retag'|'delete'|'restore', value: {...}}`` (applied by the catalogue's
``_apply_edit``). Deletes are soft: the files stay in the store; ``restore`` undoes them.
Retagging a sample's label records a correction (the catalogue's ``corrected`` column) for
later classifier training.
"""

from __future__ import annotations

from typing import Any

from stemcrate.dashboard.queries import LABELS
from stemcrate.storage.manifest import Manifest, Provenance, event_identity, write_manifest
from stemcrate.storage.store import ObjectStore

TRACK_RENAME_FIELDS = ("title", "artist", "album", "genre")


def edit_manifest(*, target: str, target_id: str, track_id: str, action: str,
                  value: dict[str, Any] | None = None) -> Manifest:
    """The edit manifest for one user action (a fresh event identity each time)."""
    if target not in ("track", "sample"):
        raise ValueError(f"unknown edit target {target!r}")
    if action not in ("rename", "retag", "delete", "restore"):
        raise ValueError(f"unknown edit action {action!r}")
    return Manifest(
        kind="edit", track_id=track_id,
        identity=event_identity(f"edit/{target}/{target_id}/{action}"),
        data={"target": target, "target_id": target_id, "action": action,
              "value": dict(value or {})},
        provenance=Provenance(stage="edit", params={"source": "dashboard"}),
    )


def rename_track(store: ObjectStore, track_id: str, **fields: str) -> Manifest:
    """Rename a track (any of title, artist, album, genre)."""
    value = {k: v for k, v in fields.items() if k in TRACK_RENAME_FIELDS}
    if not value:
        raise ValueError(f"nothing to rename (fields: {', '.join(TRACK_RENAME_FIELDS)})")
    m = edit_manifest(target="track", target_id=track_id, track_id=track_id,
                      action="rename", value=value)
    write_manifest(store, m)
    return m


def rename_sample(store: ObjectStore, track_id: str, sample_id: str, name: str) -> Manifest:
    m = edit_manifest(target="sample", target_id=sample_id, track_id=track_id,
                      action="rename", value={"name": name})
    write_manifest(store, m)
    return m


def retag_sample(store: ObjectStore, track_id: str, sample_id: str, *,
                 label: str | None = None, tags: list[str] | None = None) -> Manifest:
    """Set a sample's label (from :data:`LABELS`; a correction) and/or its tags."""
    value: dict[str, Any] = {}
    if label is not None:
        if label not in LABELS:
            raise ValueError(f"unknown label {label!r} (labels: {', '.join(LABELS)})")
        value["label"] = label
    if tags is not None:
        value["tags"] = [t.strip() for t in tags if t.strip()]
    if not value:
        raise ValueError("nothing to retag")
    m = edit_manifest(target="sample", target_id=sample_id, track_id=track_id,
                      action="retag", value=value)
    write_manifest(store, m)
    return m


def delete(store: ObjectStore, target: str, target_id: str, track_id: str, *,
           restore: bool = False) -> Manifest:
    """Soft-delete (or restore) a track or sample; files stay in the store."""
    m = edit_manifest(target=target, target_id=target_id, track_id=track_id,
                      action="restore" if restore else "delete")
    write_manifest(store, m)
    return m

"""Manifests: small JSON documents that say what a stage produced, with its provenance.

Every stage output (and every user edit, and every change of a stage's run state) is one
manifest in the store. The catalogue is rebuilt from them alone. A manifest is immutable
once written; its id is derived from what it describes, so writing the same result twice
yields the same manifest (idempotent), while a different model or parameter set yields a new
one beside the first.

Kinds: ``track`` (ingest), ``stems``, ``samples``, ``midi``, ``lyrics``, ``run`` (a stage's
state for a track: pending | running | completed | cached | failed | unavailable) and
``edit`` (rename, retag, delete from the dashboard).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any

from stemcrate import __version__
from stemcrate.storage import keys
from stemcrate.storage.store import ObjectStore

KINDS = ("track", "stems", "samples", "midi", "lyrics", "run", "edit")


def utcnow() -> str:
    """Now as an ISO-8601 UTC timestamp with microseconds (sorts lexically)."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class Provenance:
    """Which code, model and parameters made an output."""

    stage: str
    params: dict[str, Any] = field(default_factory=dict)
    model: str | None = None
    weights_hash: str | None = None
    code_version: str = __version__


@dataclass(frozen=True)
class Manifest:
    """One stage output, edit or run-state change.

    ``identity`` names what the manifest describes (e.g. ``"separate/<run_key>"``); the
    manifest id is a hash of (kind, track_id, identity), so equal outputs share an id.
    Run-state and edit manifests pass a fresh identity each time (they are events).
    """

    kind: str
    track_id: str
    identity: str
    data: dict[str, Any]
    provenance: Provenance
    created_at: str = field(default_factory=utcnow)

    @property
    def manifest_id(self) -> str:
        blob = f"{self.kind}\0{self.track_id}\0{self.identity}".encode()
        return hashlib.sha256(blob).hexdigest()[:24]

    @property
    def key(self) -> str:
        return keys.manifest(self.track_id, self.kind, self.manifest_id)

    def to_json(self) -> str:
        doc = asdict(self)
        doc["manifest_id"] = self.manifest_id
        doc["schema"] = 1
        return json.dumps(doc, sort_keys=True, default=str)

    @classmethod
    def from_json(cls, text: str | bytes) -> Manifest:
        doc = json.loads(text)
        return cls(
            kind=doc["kind"],
            track_id=doc["track_id"],
            identity=doc["identity"],
            data=doc["data"],
            provenance=Provenance(**doc["provenance"]),
            created_at=doc["created_at"],
        )


def event_identity(prefix: str) -> str:
    """A fresh identity for event manifests (run states, edits)."""
    return f"{prefix}/{utcnow()}/{uuid.uuid4().hex[:8]}"


def write_manifest(store: ObjectStore, manifest: Manifest) -> str:
    """Write ``manifest`` and its pending marker; return the manifest's URI.

    The manifest is written first, then the marker, so a marker always points at a complete
    manifest; a crash between the two is healed by ``catalogue rebuild`` or the periodic
    reconciliation that lists manifests not yet applied.
    """
    uri = store.put_bytes(manifest.key, manifest.to_json().encode())
    store.put_bytes(keys.pending(manifest.manifest_id, manifest.created_at),
                    manifest.key.encode())
    return uri


def read_manifest(store: ObjectStore, key: str) -> Manifest:
    return Manifest.from_json(store.get_bytes(key))


def existing_manifest(store: ObjectStore, kind: str, track_id: str,
                      identity: str) -> Manifest | None:
    """The manifest for (kind, track_id, identity) if it was already written."""
    probe = Manifest(kind=kind, track_id=track_id, identity=identity, data={},
                     provenance=Provenance(stage=kind))
    if not store.exists(probe.key):
        return None
    return read_manifest(store, probe.key)

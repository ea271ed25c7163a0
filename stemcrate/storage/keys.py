"""Where each artefact lives in the store: the only module that spells out keys.

Every key is derived from content ids (the track id is the SHA-256 of the original's
bytes) and stage parameters, never from user file names, so a re-run with another model or
other parameters sits beside the first instead of overwriting it.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_part(text: str, *, limit: int = 60) -> str:
    """``text`` reduced to ``[A-Za-z0-9._-]`` (for readable key parts), never empty."""
    part = _SAFE.sub("_", text).strip("._")[:limit]
    return part or "x"


def params_hash(params: dict[str, Any], *, length: int = 12) -> str:
    """A short stable hash of a JSON-able parameter dict (keys sorted)."""
    blob = json.dumps(params, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:length]


def original(track_id: str, ext: str) -> str:
    return f"tracks/{track_id}/original{ext.lower()}"


def analysis(track_id: str, name: str) -> str:
    return f"tracks/{track_id}/analysis/{name}"


def stage_output(track_id: str, stage: str, run_key: str, name: str) -> str:
    """An output file of ``stage`` for one parameter set (``run_key``)."""
    return f"tracks/{track_id}/{stage}/{run_key}/{name}"


def manifest(track_id: str, kind: str, manifest_id: str) -> str:
    return f"manifests/{track_id}/{kind}/{manifest_id}.json"


def pending(manifest_id: str, created_at: str) -> str:
    stamp = re.sub(r"[^0-9]", "", created_at)
    return f"pending/{stamp}-{manifest_id}"


MANIFESTS_PREFIX = "manifests"
PENDING_PREFIX = "pending"

"""The exceptions stemcrate raises: one root, a few precise subclasses.

Every error names the thing it is about (a file, a model, a key) and the cause, so a user
reading ``failed/<name>.error.txt`` or a CLI message knows what to do next.
"""

from __future__ import annotations


class StemcrateError(Exception):
    """Root of every error stemcrate raises on purpose."""


class InputError(StemcrateError):
    """A file a user gave us cannot be used (corrupt, empty, too short, not audio).

    Never retried: the same bytes fail the same way.
    """

    def __init__(self, path: object, cause: str) -> None:
        self.path = str(path)
        self.cause = cause
        super().__init__(f"{self.path}: {cause}")


class ModelUnavailableError(StemcrateError):
    """A model cannot be loaded: says which model, where we looked and what to do."""


class StoreError(StemcrateError):
    """The object store failed (may be transient: network, permissions)."""


class CatalogueError(StemcrateError):
    """The DuckDB catalogue cannot be opened, migrated or queried."""


class StageUnavailableError(StemcrateError):
    """A pipeline stage cannot run here (its engine or model is not installed)."""

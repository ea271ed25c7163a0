"""The object store (source of truth) and the DuckDB catalogue (an index over manifests).

:func:`open_library` gives both for a :class:`~stemcrate.config.Settings`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from stemcrate.config import Settings
    from stemcrate.storage.catalogue import Catalogue
    from stemcrate.storage.store import ObjectStore


@dataclass(frozen=True)
class Library:
    """The store and the catalogue of one data home."""

    store: ObjectStore
    catalogue: Catalogue

    def sync(self) -> int:
        """Apply pending manifests to the catalogue (call as the catalogue's owner)."""
        return self.catalogue.apply_pending(self.store)


def open_library(settings: Settings) -> Library:
    from stemcrate.storage.catalogue import Catalogue
    from stemcrate.storage.store import ObjectStore

    return Library(ObjectStore(settings.store), Catalogue(settings.catalogue_path))

"""Set-up shared by the commands that run flows or open the library."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from stemcrate.config import Settings


def load_settings() -> Settings:
    """Build the settings, create the data home folders, and point Prefect at our home.

    Unless the user set ``PREFECT_API_URL`` or ``PREFECT_HOME``, Prefect keeps its state
    (the temporary server's database, cached task results) under ``<home>/prefect``.
    """
    from pydantic import ValidationError

    from stemcrate.commands import fail
    from stemcrate.config import get_settings

    try:
        settings = get_settings()
    except ValidationError as exc:
        fail(f"invalid settings: {exc}")
    settings.home.mkdir(parents=True, exist_ok=True)
    settings.inbox_path.mkdir(parents=True, exist_ok=True)
    if "PREFECT_HOME" not in os.environ:
        os.environ["PREFECT_HOME"] = str(settings.home / "prefect")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_UI_ENABLED", "true")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    return settings


def expand_paths(paths: list[Path]) -> tuple[list[Path], list[str]]:
    """Files to ingest from ``paths`` (folders searched recursively for audio files).

    Returns ``(files, problems)``; a missing path is a problem, not an exception.
    """
    from stemcrate.audio.decode import AUDIO_EXTENSIONS

    files: list[Path] = []
    problems: list[str] = []
    for p in paths:
        if p.is_dir():
            found = sorted(f for f in p.rglob("*") if f.is_file()
                           and f.suffix.lower() in AUDIO_EXTENSIONS
                           and not any(part.startswith(".") for part in f.relative_to(p).parts))
            if not found:
                problems.append(f"{p}: no audio files in this folder")
            files.extend(found)
        elif p.is_file():
            files.append(p)
        else:
            problems.append(f"{p}: no such file or folder")
    return files, problems

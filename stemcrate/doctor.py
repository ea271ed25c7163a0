"""``stemcrate doctor``: what is installed, which models are usable, GPU or not."""

from __future__ import annotations

import importlib.metadata as md
import os
import platform
import shutil
from typing import Any

from stemcrate import __version__
from stemcrate.config import Settings

PACKAGES = ("torch", "demucs", "basic-pitch", "aisfx", "onnxruntime", "faster-whisper",
            "openai-whisper", "prefect", "duckdb", "panel", "librosa", "soundfile")
PROGRAMS = ("ffmpeg", "fluidsynth", "espeak-ng", "sox", "chromium")


def _version(dist: str) -> str:
    try:
        return md.version(dist)
    except md.PackageNotFoundError:
        return "not installed"


def _try(fn: Any) -> Any:
    try:
        return fn()
    except Exception as exc:  # noqa: BLE001 - the doctor reports, never crashes
        return f"unavailable: {exc}"


def diagnose(settings: Settings) -> dict[str, dict[str, Any]]:
    """A report of the installation, as nested dicts (printed or dumped as JSON)."""
    report: dict[str, dict[str, Any]] = {}
    report["stemcrate"] = {"version": __version__, "python": platform.python_version(),
                           "home": str(settings.home), "store": settings.store,
                           "catalogue": str(settings.catalogue_path),
                           "inbox": str(settings.inbox_path),
                           "prefect_api": os.environ.get("PREFECT_API_URL", "local (up)")}
    report["packages"] = {p: _version(p) for p in PACKAGES}
    report["programs"] = {p: shutil.which(p) or "missing" for p in PROGRAMS}
    report["device"] = {"setting": settings.device, "resolved": _try(settings.resolved_device),
                        "gpu": _try(_gpu_name)}
    models: dict[str, Any] = {}
    separation = _try(lambda: _separation_models(settings))
    if isinstance(separation, dict):
        models.update(separation)
    else:
        models["demucs"] = separation
    models["basic-pitch"] = _try(_basic_pitch_model)
    models[f"lyrics ({settings.lyrics_engine})"] = _try(lambda: _lyrics_model(settings))
    models["sample classifier"] = _try(_classifier)
    report["models"] = models
    return report


def _gpu_name() -> str:
    import torch

    if torch.cuda.is_available():
        return str(torch.cuda.get_device_name(0))
    return "none"


def _separation_models(settings: Settings) -> dict[str, Any]:
    from stemcrate.audio import demucs_models

    out: dict[str, Any] = {}
    for row in demucs_models.list_models(repo=settings.separation_repo):
        if row.usable:
            out[f"demucs {row.name}"] = f"usable ({row.where}: {row.location})"
        else:
            out[f"demucs {row.name}"] = f"missing ({row.detail or 'not found'})"
    return out


def _basic_pitch_model() -> str:
    from stemcrate.audio import midi

    return f"usable: {midi.model_path()}"


def _lyrics_model(settings: Settings) -> str:
    from stemcrate.audio import lyrics

    return "usable: " + lyrics.resolve_model(settings.lyrics_engine, settings.lyrics_model)


def _classifier() -> str:
    from stemcrate.audio import classify, sfx_embedding

    if classify.load_model().sfx is not None:
        sfx_embedding.load_network()  # raises ModelUnavailableError naming the missing package
    return f"usable: {classify.WEIGHTS_PATH} ({classify.model_id()})"
